//! The libcurl variant: `tools/bench/c/curl_client.c`, compiled on first use (libcurl's Debian
//! development package is installed when missing), fed the exact request bodies msstore sends.

use crate::workload::{self, Workload, World};
use std::path::{Path, PathBuf};
use std::process::Command;

const SOURCE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/c/curl_client.c");
/// Where Debian puts `curl/curl.h` (multiarch first).
const HEADERS: &[&str] = &[
    "/usr/include/x86_64-linux-gnu/curl/curl.h",
    "/usr/include/aarch64-linux-gnu/curl/curl.h",
    "/usr/include/curl/curl.h",
];

fn have_headers() -> bool {
    HEADERS.iter().any(|h| Path::new(h).exists())
}
const DEB_PACKAGE: &str = "libcurl4-openssl-dev";

fn sh_ok(cmd: &mut Command) -> bool {
    cmd.stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Installs libcurl's headers with apt-get when they are missing (`apt-get update` only when
/// the first attempt fails). Returns whether they are there now.
fn ensure_libcurl() -> bool {
    if have_headers() {
        return true;
    }
    eprintln!("msstore-bench: installing {DEB_PACKAGE} for the libcurl variant ...");
    let install = || {
        sh_ok(
            Command::new("apt-get")
                .args(["install", "-y", "-q", DEB_PACKAGE])
                .env("DEBIAN_FRONTEND", "noninteractive"),
        )
    };
    if !install() {
        sh_ok(
            Command::new("apt-get")
                .args(["update", "-q"])
                .env("DEBIAN_FRONTEND", "noninteractive"),
        );
        install();
    }
    have_headers()
}

/// Builds the C client into `dir` (once per run). `Err` says why the variant cannot run.
pub fn build(dir: &Path) -> Result<PathBuf, String> {
    if !ensure_libcurl() {
        return Err(format!(
            "{DEB_PACKAGE} is not installed and could not be installed"
        ));
    }
    let exe = dir.join("curl_client");
    let out = Command::new("cc")
        .args(["-O2", "-Wall", "-Wextra", "-Werror", "-o"])
        .arg(&exe)
        .arg(SOURCE)
        .args(["-lcurl", "-lpthread"])
        .output()
        .map_err(|e| format!("cannot run cc: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "compiling {SOURCE} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(exe)
}

/// Writes the request bodies (first pages, next-page templates, consume and renew templates)
/// the C client sends, serialised by the same code as every other variant.
pub fn write_bodies(world: &World, dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let write = |name: &str, body: &[u8]| {
        std::fs::write(dir.join(name), body).map_err(|e| format!("{name}: {e}"))
    };
    for (w, chunks) in [(Workload::Query10, 1u64), (Workload::Query500, 5)] {
        for c in 0..chunks {
            let req = world.query_request(w, c);
            write(
                &format!("{}.{c}.first", w.name()),
                &workload::query_page_body(&req, None),
            )?;
            write(
                &format!("{}.{c}.next", w.name()),
                &workload::query_page_body(&req, Some("@CONT@")),
            )?;
        }
    }
    let consume = world.consume_request().with_tracking_id("@TRACKING@");
    write("consume.tmpl", &workload::body_json(&consume))?;
    write(
        "renew.tmpl",
        &workload::renew_body("@TOKEN@", &world.renew_key),
    )
}

/// The command line of one cell.
pub fn command(
    exe: &Path,
    bodies: &Path,
    world: &World,
    w: Workload,
    concurrency: usize,
    warmup_ms: u64,
    measure_ms: u64,
) -> Command {
    let mut c = Command::new(exe);
    c.arg("--base")
        .arg(&world.base_url)
        .arg("--tenant")
        .arg(&world.tenant_id)
        .arg("--client-id")
        .arg(&world.client_id)
        .arg("--user-agent")
        .arg(concat!("msstore/", env!("CARGO_PKG_VERSION")))
        .arg("--workload")
        .arg(w.name())
        .arg("--concurrency")
        .arg(concurrency.to_string())
        .arg("--cold-callers")
        .arg(world.cold_callers.to_string())
        .arg("--warmup-ms")
        .arg(warmup_ms.to_string())
        .arg("--measure-ms")
        .arg(measure_ms.to_string())
        .arg("--bodies")
        .arg(bodies)
        // The secret goes through the environment, not the command line (visible in ps).
        .env("MSSTORE_BENCH_SECRET", &world.client_secret);
    if let Some(ca) = &world.tls_cert_file {
        c.env("MSSTORE_BENCH_CAINFO", ca);
    }
    c
}
