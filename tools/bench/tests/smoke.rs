//! Keeps the benchmark harness from rotting: runs `msstore-bench --smoke` (every variant, every
//! workload, a tiny time box, concurrency 1 and 4, a 20-caller cold start) against its own
//! emulator on loopback and checks that every cell completed operations without errors and
//! that the report files were written. The figures themselves are not asserted.

use std::path::Path;
use std::process::Command;

fn libcurl_headers() -> bool {
    [
        "/usr/include/x86_64-linux-gnu/curl/curl.h",
        "/usr/include/aarch64-linux-gnu/curl/curl.h",
        "/usr/include/curl/curl.h",
    ]
    .iter()
    .any(|p| Path::new(p).exists())
}

#[test]
fn every_variant_completes_requests_and_the_report_is_written() {
    let out = std::env::temp_dir().join(format!("msstore-bench-smoke-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_msstore-bench"));
    cmd.arg("--smoke").arg("--out").arg(&out);
    // The libcurl variant needs libcurl's headers; the test does not install packages.
    let curl = libcurl_headers();
    if !curl {
        cmd.arg("--no-curl");
    }
    let r = cmd.output().expect("runs msstore-bench");
    let stderr = String::from_utf8_lossy(&r.stderr);
    let stdout = String::from_utf8_lossy(&r.stdout);
    assert!(
        r.status.success(),
        "msstore-bench --smoke failed (a cell failed or had errors):\n{stderr}\n{stdout}"
    );
    assert!(!stderr.contains("FAILED"), "{stderr}");

    let md = std::fs::read_to_string(out.join("results.md")).expect("results.md written");
    let svg = std::fs::read_to_string(out.join("throughput.svg")).expect("throughput.svg written");
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    let mut variants = vec![
        "c-abi-queued",
        "c-abi-immediate",
        "rust-api",
        "floor",
        "per-request",
    ];
    if curl {
        variants.push("libcurl-c");
    }
    for w in ["query10", "query500", "consume", "renew", "cold1000"] {
        assert!(md.contains(&format!("## {w}:")), "no section for {w}");
    }
    for v in &variants {
        // 4 warm workloads at one concurrency level + the cold start, each a table row with
        // a zero in the errors column.
        let rows: Vec<&str> = md
            .lines()
            .filter(|l| l.starts_with(&format!("| {v} |")))
            .collect();
        assert_eq!(rows.len(), 5, "{v}: rows {rows:?}");
        for row in rows {
            assert!(row.trim_end().ends_with("| 0 |"), "{v}: errors in {row}");
            let ops: f64 = row.split('|').nth(3).unwrap().trim().parse().unwrap();
            assert!(ops > 0.0, "{v}: no throughput in {row}");
        }
        assert!(
            svg.contains(&format!(">{v}</text>")),
            "{v} missing from the chart legend"
        );
    }
    // The targets section is printed and written, with a verdict per target.
    assert!(stdout.contains("targets (issue 7):"));
    assert!(md.contains("key decode < 2 us"));
    let _ = std::fs::remove_dir_all(&out);
}

/// `--tls`: the same harness against the HTTPS emulator (one workload, the variants that run
/// in-process plus the floor and the per-request pattern): every cell completes operations with
/// no errors, and the results go to the TLS file names, leaving `results.md` alone.
#[test]
fn tls_mode_runs_every_variant_over_https_and_writes_its_own_files() {
    let out = std::env::temp_dir().join(format!("msstore-bench-tls-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let variants = "c-abi-queued,c-abi-immediate,rust-api,floor,per-request";
    let r = Command::new(env!("CARGO_BIN_EXE_msstore-bench"))
        .args([
            "--smoke",
            "--tls",
            "--workloads",
            "consume",
            "--variants",
            variants,
        ])
        .arg("--out")
        .arg(&out)
        .output()
        .expect("runs msstore-bench --tls");
    let stderr = String::from_utf8_lossy(&r.stderr);
    assert!(r.status.success(), "msstore-bench --tls failed:\n{stderr}");
    assert!(
        stderr.contains("emulator at https://127.0.0.1:"),
        "{stderr}"
    );
    let md = std::fs::read_to_string(out.join("results-tls.md")).expect("results-tls.md written");
    assert!(out.join("throughput-tls.svg").exists());
    assert!(!out.join("results.md").exists(), "plain results untouched");
    assert!(md.contains("over TLS"));
    for v in variants.split(',') {
        let row = md
            .lines()
            .find(|l| l.starts_with(&format!("| {v} |")))
            .unwrap_or_else(|| panic!("{v}: no row"));
        assert!(row.trim_end().ends_with("| 0 |"), "{v}: errors in {row}");
        let ops: f64 = row.split('|').nth(3).unwrap().trim().parse().unwrap();
        assert!(ops > 0.0, "{v}: no throughput in {row}");
    }
    let _ = std::fs::remove_dir_all(&out);
}

/// `--network realistic --smoke`: two namespaces, the latency proxy (10 ms) and the TLS
/// stand-in, two variants at concurrency 2, a fraction of a second each. Without root or
/// network namespaces the benchmark says why and skips the mode, and so does this test.
#[test]
fn realistic_network_mode_runs_between_namespaces_and_removes_them() {
    let out = std::env::temp_dir().join(format!("msstore-bench-net-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let r = Command::new(env!("CARGO_BIN_EXE_msstore-bench"))
        .args(["--network", "realistic", "--smoke", "--out"])
        .arg(&out)
        .output()
        .expect("runs msstore-bench --network realistic");
    let stderr = String::from_utf8_lossy(&r.stderr);
    let stdout = String::from_utf8_lossy(&r.stdout);
    assert!(
        r.status.success(),
        "realistic smoke failed:\n{stderr}\n{stdout}"
    );
    if stdout.contains("realistic network mode skipped") {
        eprintln!("skipped: {stdout}");
        return;
    }
    let md = std::fs::read_to_string(out.join("results-realistic.md")).expect("report written");
    for v in ["rust-api", "floor"] {
        let row = md
            .lines()
            .find(|l| l.starts_with(&format!("| {v} |")))
            .unwrap_or_else(|| panic!("{v}: no row in\n{md}"));
        assert!(row.trim_end().ends_with("| 0 |"), "{v}: errors in {row}");
        let cols: Vec<&str> = row.split('|').map(str::trim).collect();
        let ops: f64 = cols[3].parse().unwrap();
        assert!(ops > 0.0, "{v}: no throughput in {row}");
        // p50 can never beat the proxy's 10 ms round trip.
        let p50: f64 = cols[5].parse().unwrap();
        assert!(p50 >= 10.0, "{v}: p50 {p50} ms under the 10 ms RTT: {row}");
        // The warm-up (next to last column) lasted at least its 300 ms minimum.
        let warm: f64 = cols[cols.len() - 3]
            .split([' ', ','])
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!(warm >= 300.0, "{v}: warm-up {warm} ms: {row}");
    }
    // A verdict per target for the msstore variant, each PASS or MISS.
    let verdicts: Vec<&str> = md
        .lines()
        .filter(|l| l.starts_with("- PASS rust-api") || l.starts_with("- MISS rust-api"))
        .collect();
    assert_eq!(
        verdicts.len(),
        3,
        "throughput, p50 and handshake verdicts in\n{md}"
    );
    // The run's namespaces are gone.
    let pid_names = Command::new("ip").args(["netns", "list"]).output().unwrap();
    let listed = String::from_utf8_lossy(&pid_names.stdout);
    assert!(
        !stderr
            .split_whitespace()
            .filter(|w| w.starts_with("msbench"))
            .any(|ns| listed.contains(ns.trim_end_matches(','))),
        "namespaces left behind: {listed}"
    );
    let _ = std::fs::remove_dir_all(&out);
}
