//! Always: generates the accessors, takes and frees of the C ABI's result handles from the
//! table in `src/ffi/exports_table.rs` (into `$OUT_DIR/ffi_exports.rs`, included by
//! `src/ffi/accessors.rs`). With the `header` feature: generates the C header with cbindgen and
//! checks it against the committed `include/msstore.h` (failing the build when they differ), or
//! rewrites it when `MSSTORE_REGEN_HEADER=1` (scripts/regen-header.sh).

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    exports::generate();
    #[cfg(feature = "header")]
    header::generate();
}

/// The generator of the table-driven exports. Real functions in a generated file, not a macro:
/// cbindgen does not expand macros, and it must see every export with its doc comment.
mod exports {
    use std::fmt::Write;
    use std::path::PathBuf;

    /// One result handle type and its exports.
    pub struct ResultHandle {
        /// The C handle type (`msstore_entitlements`).
        pub handle: &'static str,
        /// The name of the handle parameter in C (`h`, `e`, `key`).
        pub arg: &'static str,
        pub exports: &'static [Export],
    }

    pub enum Export {
        /// `ty NAME(const H *arg)`: `expr`, an expression of the object `o` (may use `?`).
        Value {
            name: &'static str,
            ty: &'static str,
            expr: &'static str,
            doc: &'static str,
        },
        /// `msstore_result NAME(const H *arg, params, V *out)`: copies `*expr` (a `&V` that may
        /// use `?` and the params) into the caller's versioned struct.
        Copy {
            name: &'static str,
            params: &'static str,
            view: &'static str,
            expr: &'static str,
            doc: &'static str,
        },
        /// `msstore_result NAME(msstore_op *op, H **out)`: takes the operation's result.
        Take {
            name: &'static str,
            doc: &'static str,
        },
        /// `msstore_result NAME(H *arg)`: frees the handle.
        Free {
            name: &'static str,
            doc: &'static str,
        },
    }

    use Export::*;

    include!("src/ffi/exports_table.rs");

    fn doc(out: &mut String, text: &str) {
        for line in text.trim().lines() {
            let line = line.trim();
            if line.is_empty() {
                out.push_str("///\n");
            } else {
                let _ = writeln!(out, "/// {line}");
            }
        }
    }

    fn free_of(h: &ResultHandle) -> &'static str {
        h.exports
            .iter()
            .find_map(|e| match e {
                Free { name, .. } => Some(*name),
                _ => None,
            })
            .expect("every result handle has a free")
    }

    fn write_export(out: &mut String, h: &ResultHandle, e: &Export) {
        let (handle, arg) = (h.handle, h.arg);
        match e {
            Value {
                name,
                ty,
                expr,
                doc: d,
            } => {
                doc(out, d);
                let _ = writeln!(
                    out,
                    "#[no_mangle]\npub extern \"C\" fn {name}({arg}: *const {handle}) -> {ty} {{\n    \
                     boundary!({{\n        let o = handles::get({arg})?;\n        Ok({expr})\n    }})\n}}\n"
                );
            }
            Copy {
                name,
                params,
                view,
                expr,
                doc: d,
            } => {
                doc(out, d);
                out.push_str("///\n");
                doc(out, "# Safety\n`out` is NULL or points to a writable struct of `out->struct_size` bytes.");
                let params = if params.is_empty() {
                    String::new()
                } else {
                    format!("{params}, ")
                };
                let _ = writeln!(
                    out,
                    "#[no_mangle]\npub unsafe extern \"C\" fn {name}(\n    {arg}: *const {handle},\n    {params}out: *mut {view},\n\
                     ) -> msstore_result {{\n    boundary!({{\n        let o = handles::get({arg})?;\n        \
                     let v: &{view} = {expr};\n        // SAFETY: forwarded contract.\n        unsafe {{ write_view(out, v) }}\n    }})\n}}\n"
                );
            }
            Take { name, doc: d } => {
                doc(out, d);
                out.push_str("///\n");
                doc(
                    out,
                    &format!(
                        "Ownership: on `MSSTORE_OK` the caller owns `*out` (free it with\n`{}`); the operation \
                         no longer holds it.\nResults not taken are freed with the operation. \
                         Errors: `MSSTORE_E_PENDING` (not complete),\n`MSSTORE_E_NO_RESULT` (the operation failed \
                         or the result was taken),\n`MSSTORE_E_INVALID_ARGUMENT` (the operation produces \
                         another type), `MSSTORE_E_NULL_POINTER`, `MSSTORE_E_INVALID_HANDLE`.\n\
                         Threading: any thread; `*out` is written only on success.",
                        free_of(h)
                    ),
                );
                out.push_str("///\n");
                doc(out, "# Safety\n`out` is NULL or writable.");
                let _ = writeln!(
                    out,
                    "#[no_mangle]\npub unsafe extern \"C\" fn {name}(op: *mut msstore_op, out: *mut *mut {handle}) -> msstore_result {{\n    \
                     // SAFETY: forwarded contract.\n    boundary!({{ unsafe {{ take_into(op, out) }} }})\n}}\n"
                );
            }
            Free { name, doc: d } => {
                doc(out, d);
                let _ = writeln!(
                    out,
                    "#[no_mangle]\npub extern \"C\" fn {name}({arg}: *mut {handle}) -> msstore_result {{\n    \
                     boundary!({{ handles::free({arg}) }})\n}}\n"
                );
            }
        }
    }

    pub fn generate() {
        println!("cargo:rerun-if-changed=src/ffi/exports_table.rs");
        let mut out = String::from(
            "// @generated by build.rs from src/ffi/exports_table.rs; do not edit.\n\n",
        );
        for h in RESULT_HANDLES {
            for e in h.exports {
                write_export(&mut out, h, e);
            }
        }
        let path = PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("ffi_exports.rs");
        std::fs::write(path, out).expect("cannot write ffi_exports.rs");
    }
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
            .with_src(PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("ffi_exports.rs"))
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
