//! The `msstore-emulator` binary, as the C, C++ and C# suites start it: one JSON line on
//! stdout, exit on stdin EOF, refusal of a non-loopback host.

#[path = "../../../tests/it/emulator_support/mod.rs"]
mod emulator_support;

use emulator_support::*;
use std::time::{Duration, Instant};

#[test]
fn binary_prints_one_json_line_and_exits_on_stdin_eof() {
    use std::io::BufRead;
    use std::process::{Command, Stdio};
    let exe = env!("CARGO_BIN_EXE_msstore-emulator");
    let mut child = Command::new(exe)
        .args([
            "--seed",
            "demo",
            "--exit-on-stdin-eof",
            "--max-seconds",
            "20",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(&line).unwrap();
    let base = v["base_url"].as_str().unwrap();
    assert!(base.starts_with("http://127.0.0.1:"));
    assert!(v["collections_key"].is_string());
    let http = Http::new();
    assert_eq!(http.get(&format!("{base}/admin/health")).status, 200);
    drop(child.stdin.take());
    let t = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success());
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(5),
            "did not exit on stdin EOF"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = Command::new(exe)
        .args(["--host", "8.8.8.8"])
        .output()
        .unwrap();
    assert!(!out.status.success());
}
