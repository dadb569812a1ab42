//! With the `header` feature: generates the C header with cbindgen and checks it against the
//! committed `include/msstore.h` (failing the build when they differ), or rewrites it when
//! `MSSTORE_REGEN_HEADER=1` (scripts/regen-header.sh). Without the feature: nothing.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    #[cfg(feature = "header")]
    header::generate();
}

#[cfg(feature = "header")]
mod header {
    use std::path::PathBuf;

    // MSSTORE_EXPORT, not MSSTORE_API: Unreal's build tool defines MSSTORE_API for a module
    // named MsStore (<MODULE>_API), and a redefinition breaks -Werror builds. A build may set
    // MSSTORE_EXPORT itself (it is only defined here when it is not).
    const PRELUDE: &str = r#"
#if !defined(MSSTORE_EXPORT)
#  if defined(_WIN32) || defined(__CYGWIN__)
#    if defined(MSSTORE_STATIC)
#      define MSSTORE_EXPORT
#    elif defined(MSSTORE_BUILDING_DLL)
#      define MSSTORE_EXPORT __declspec(dllexport)
#    else
#      define MSSTORE_EXPORT __declspec(dllimport)
#    endif
#  elif defined(__GNUC__) || defined(__clang__)
#    define MSSTORE_EXPORT __attribute__((visibility("default")))
#  else
#    define MSSTORE_EXPORT
#  endif
#endif
"#;

    pub fn generate() {
        let dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
        println!("cargo:rerun-if-changed=src/ffi");
        println!("cargo:rerun-if-changed=cbindgen.toml");
        println!("cargo:rerun-if-changed=include/msstore.h");
        println!("cargo:rerun-if-env-changed=MSSTORE_REGEN_HEADER");
        let mut config = cbindgen::Config::from_file(dir.join("cbindgen.toml"))
            .expect("cannot read cbindgen.toml");
        let version = std::env::var("CARGO_PKG_VERSION").unwrap();
        let part = |name: &str| std::env::var(name).unwrap();
        config.after_includes = Some(format!(
            "{PRELUDE}\n/* Version of this header; compare with msstore_version() at run time. */\n\
             #define MSSTORE_VERSION_MAJOR {}\n#define MSSTORE_VERSION_MINOR {}\n\
             #define MSSTORE_VERSION_PATCH {}\n#define MSSTORE_VERSION_STRING \"{version}\"\n",
            part("CARGO_PKG_VERSION_MAJOR"),
            part("CARGO_PKG_VERSION_MINOR"),
            part("CARGO_PKG_VERSION_PATCH"),
        ));
        let mut text = Vec::new();
        cbindgen::Builder::new()
            .with_config(config)
            .with_src(dir.join("src/ffi/mod.rs"))
            .generate()
            .expect("cbindgen failed to generate the header")
            .write(&mut text);
        let out = PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("msstore.h");
        std::fs::write(&out, &text).expect("cannot write the generated header");
        let committed = dir.join("include/msstore.h");
        if std::env::var("MSSTORE_REGEN_HEADER").as_deref() == Ok("1") {
            std::fs::write(&committed, &text).expect("cannot write include/msstore.h");
            return;
        }
        let current = std::fs::read(&committed).unwrap_or_default();
        if current != text {
            panic!(
                "include/msstore.h is stale: it differs from what cbindgen generates from src/ffi \
                 (fresh copy: {}). Run scripts/regen-header.sh and commit the result.",
                out.display()
            );
        }
    }
}
