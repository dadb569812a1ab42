//! `msstore-bench memory`: memory per waiting call (issue 14 §4). Starts `--ops` queries (10,000
//! by default) at once through the C ABI against the emulator holding every query, so that all
//! but the running few wait for a connection slot, then reads the client's RSS. The heap per
//! waiting operation comes from heaptrack: the peak heap of a run with `ops` and of one with
//! `ops / 2` (both far beyond the running limit), divided by the difference in operations, so
//! the process's fixed cost cancels out. What the caller itself hands over per call (the Store
//! ID key and the product ids, copied once from its C strings) is reported beside it.
//!
//! The child (`msstore-bench memory-child`) exits without freeing the client once it has
//! measured: the peak is then the queued state, not the shutdown's error objects.
//!
//! The server answers nothing, so the client's per-host window stays at its starting size
//! (slow start grows it only on answers): that many connections are open. The RSS is also
//! measured with the window fixed at the cap (`--fixed-window 1`, as before slow start), which
//! is what a host that answers, and so lets the window open fully, can cost at most.
//!
//! The child runs in its own process, apart from the emulator (in the parent): the server's
//! side of the held connections is not in the figures. The caller's key and ids are one
//! set of C strings for every call, so they are in the fixed part, and what is counted per op
//! is the library's own copy. Measured twice: without `out_op` (a fire-and-forget C caller)
//! and with it (as the C# and C++ wrappers call), whose handles the child keeps in a vector
//! sized up front (8 bytes a call, counted as the caller's).

use crate::args::Args;
use crate::runner::Scratch;
use crate::variants::c_abi::queued_config;
use crate::workload::{Workload, World};
use msstore::driver::{msstore_op, msstore_result};
use msstore::driver::{CClient, CClientConfig, CQuery};
use msstore::{DEFAULT_INITIAL_CONNECTIONS_PER_HOST, DEFAULT_MAX_CONNECTIONS_PER_HOST};
use msstore_emulator::{Emulator, EmulatorConfig, FaultKind, FaultRule};
use serde::{Deserialize, Serialize};
use std::ffi::c_void;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// How long the emulator holds each query: longer than any measurement here.
const HOLD_MS: u64 = 120_000;
/// Time for the started operations to settle (connections opened, tokens fetched).
const SETTLE: Duration = Duration::from_millis(1500);
/// Targets of issue 14 §4.
const TARGET_OVERHEAD_BYTES: f64 = 300.0;
const TARGET_RSS_MB: f64 = 30.0;

#[derive(Debug, Default, Serialize, Deserialize)]
struct ChildReport {
    ops: usize,
    pending: usize,
    rss_kb: u64,
    hwm_kb: u64,
    /// Bytes the caller passes per operation (key + product ids), plus the handle it keeps
    /// (with `out_op`).
    request_bytes: usize,
}

extern "C" fn ignore(_: *mut c_void, _: msstore_result, _: *mut msstore_op) {}

/// `memory-child --ops N --world FILE`: starts N queries, settles, prints a [`ChildReport`].
pub fn child(a: &Args) -> Result<(), String> {
    let ops: usize = a.num("ops", 10_000)?;
    let out_op = a.num("out-op", 0u8)? != 0;
    // `--fixed-window 1`: the window opens at the cap (the behaviour before slow start).
    let fixed = a.num("fixed-window", 0u8)? != 0;
    let text = std::fs::read_to_string(a.req("world")?).map_err(|e| format!("--world: {e}"))?;
    let world: World = serde_json::from_str(&text).map_err(|e| format!("--world: {e}"))?;
    let config = CClientConfig {
        initial_connections_per_host: fixed.then_some(DEFAULT_MAX_CONNECTIONS_PER_HOST),
        ..queued_config(&world)
    };
    let client = CClient::new(&config).map_err(|c| format!("msstore_client_new: {c:?}"))?;
    let r = world.query_request(Workload::Query10, 0);
    let ids: Vec<String> = r
        .product_sku_ids
        .iter()
        .map(|p| p.product_id.clone())
        .collect();
    let key = world.query_key(Workload::Query10);
    let handle_bytes = if out_op {
        std::mem::size_of::<*mut msstore_op>()
    } else {
        0
    };
    let request_bytes = key.len() + ids.iter().map(String::len).sum::<usize>() + handle_bytes;
    let q = CQuery::new(key, &ids, r.max_page_size).map_err(|c| format!("query: {c:?}"))?;
    let mut held: Vec<*mut msstore_op> = Vec::with_capacity(if out_op { ops } else { 0 });
    for n in 0..ops {
        let code = if out_op {
            let (code, op) = client.query_held(&q, Some(ignore), n);
            held.push(op);
            code
        } else {
            client.query(&q, Some(ignore), n)
        };
        if code != msstore_result::MSSTORE_OK {
            return Err(format!("start {n}: {code:?}"));
        }
    }
    let t0 = Instant::now();
    while t0.elapsed() < SETTLE {
        client.poll(0);
        std::thread::sleep(Duration::from_millis(20));
    }
    let report = ChildReport {
        ops,
        pending: client.pending(),
        rss_kb: status_kb("VmRSS:"),
        hwm_kb: status_kb("VmHWM:"),
        request_bytes,
    };
    println!(
        "{}",
        serde_json::to_string(&report).map_err(|e| e.to_string())?
    );
    // Measured: leave without the shutdown (see the module comment).
    std::process::exit(0);
}

fn status_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// Runs the child (optionally under heaptrack writing to `trace`); its report.
fn run_child(
    exe: &Path,
    world: &Path,
    ops: usize,
    out_op: bool,
    fixed: bool,
    trace: Option<&Path>,
) -> Result<ChildReport, String> {
    let mut cmd = match trace {
        Some(t) => {
            let mut c = Command::new("heaptrack");
            c.arg("-o").arg(t).arg(exe);
            c
        }
        None => Command::new(exe),
    };
    cmd.arg("memory-child")
        .args(["--ops", &ops.to_string()])
        .args(["--out-op", if out_op { "1" } else { "0" }])
        .args(["--fixed-window", if fixed { "1" } else { "0" }])
        .arg("--world")
        .arg(world);
    let out = cmd.output().map_err(|e| format!("memory child: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .ok_or_else(|| {
            format!(
                "memory child printed no report: {}",
                String::from_utf8_lossy(&out.stderr)
                    .lines()
                    .last()
                    .unwrap_or("")
            )
        })?;
    serde_json::from_str(line).map_err(|e| format!("memory child report: {e}"))
}

/// The peak heap (bytes) heaptrack recorded in `trace` (heaptrack adds `.zst` or `.gz`).
fn peak_heap(trace: &Path) -> Result<f64, String> {
    let dir = trace.parent().ok_or("trace dir")?;
    let stem = trace
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or("trace name")?;
    let file = std::fs::read_dir(dir)
        .map_err(|e| e.to_string())?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(stem))
        })
        .ok_or("heaptrack wrote no trace")?;
    let out = Command::new("heaptrack_print")
        .arg("-f")
        .arg(&file)
        .args(["-p", "0", "-a", "0", "-T", "0", "-l", "0"])
        .output()
        .map_err(|e| format!("heaptrack_print: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let v = text
        .lines()
        .find_map(|l| l.strip_prefix("peak heap memory consumption:"))
        .ok_or("heaptrack_print: no peak heap line")?;
    parse_size(v.trim()).ok_or_else(|| format!("heaptrack_print: '{v}'"))
}

/// heaptrack's sizes: `206.27K`, `12.5M`, `1.2G`, `900B` (powers of 1000, as KDE formats them).
fn parse_size(s: &str) -> Option<f64> {
    let s = s.split_whitespace().next()?;
    let (num, mult) = match s.chars().last()? {
        'B' => (&s[..s.len() - 1], 1.0),
        'K' => (&s[..s.len() - 1], 1e3),
        'M' => (&s[..s.len() - 1], 1e6),
        'G' => (&s[..s.len() - 1], 1e9),
        _ => (s, 1.0),
    };
    num.parse::<f64>().ok().map(|n| n * mult)
}

/// `msstore-bench memory [--ops N] [--out DIR]`.
/// Measures, prints and writes `results-memory.md` (in `--out`); returns its text.
pub fn run(a: &Args) -> Result<String, String> {
    let ops: usize = a.num("ops", 10_000)?.max(4);
    let out_dir = PathBuf::from(
        a.get("out")
            .unwrap_or(concat!(env!("CARGO_MANIFEST_DIR"), "/results")),
    );
    let emu = Emulator::start(EmulatorConfig::default()).map_err(|e| format!("emulator: {e}"))?;
    let world = World::seed(&emu)?;
    let _hold = emu.add_fault(FaultRule::new(
        "collections_v9_query",
        FaultKind::Delay { ms: HOLD_MS },
    ));
    let scratch = Scratch::new("memory")?;
    let world_file = scratch.write_json("world.json", &world)?;
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    eprintln!(
        "msstore-bench memory: {ops} C ABI queries against an emulator holding every query ..."
    );
    let plain = run_child(&exe, &world_file, ops, false, false, None)?;
    // The same with the window fixed at the cap, as before slow start: what a host that
    // answers (and so lets the window open) costs at most.
    let fixed = run_child(&exe, &world_file, ops, false, true, None)?;
    let heaptrack = Command::new("heaptrack").arg("--version").output().is_ok();
    // `--trace-dir` keeps the traces for `heaptrack_print -p` (where the bytes are).
    let dir = a
        .get("trace-dir")
        .map_or_else(|| scratch.0.clone(), PathBuf::from);
    let heap_per_op = |out_op: bool| -> Result<Option<(f64, f64, f64, usize)>, String> {
        if !heaptrack {
            return Ok(None);
        }
        let half = ops / 2;
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let tag = if out_op { "-out-op" } else { "" };
        let t_full = dir.join(format!("full{tag}"));
        let t_half = dir.join(format!("half{tag}"));
        let r = run_child(&exe, &world_file, ops, out_op, false, Some(&t_full))?;
        run_child(&exe, &world_file, half, out_op, false, Some(&t_half))?;
        let (full, halfp) = (peak_heap(&t_full)?, peak_heap(&t_half)?);
        Ok(Some((
            full,
            halfp,
            (full - halfp) / (ops - half) as f64,
            r.request_bytes,
        )))
    };
    let heap = heap_per_op(false)?;
    let heap_out_op = heap_per_op(true)?;
    let mut md = String::new();
    md.push_str("# msstore-bench memory: operations waiting for a connection slot\n\n");
    md.push_str(&format!(
        "{ops} v9 queries started at once through the C ABI (QUEUED completion, default client: a window of {DEFAULT_INITIAL_CONNECTIONS_PER_HOST} requests per host at the start, growing by slow start up to the cap of {DEFAULT_MAX_CONNECTIONS_PER_HOST} only as answers come back, so against this server, which answers none, {DEFAULT_INITIAL_CONNECTIONS_PER_HOST} are sent and the rest wait) against the emulator holding every query; measured 1.5 s after the last start. Key: {} bytes; the caller's own request bytes per call (key + product ids): {} bytes.\n\n",
        world.query_key(Workload::Query10).len(),
        plain.request_bytes
    ));
    md.push_str(&format!(
        "- RSS with {ops} in flight: {:.1} MB (peak {:.1} MB), {} operations pending\n",
        plain.rss_kb as f64 / 1024.0,
        plain.hwm_kb as f64 / 1024.0,
        plain.pending
    ));
    md.push_str(&format!(
        "- the same with the window fixed at the cap ({DEFAULT_MAX_CONNECTIONS_PER_HOST} sent at once, as before slow start; what a host that answers, and so opens the window, can cost at most): RSS {:.1} MB (peak {:.1} MB)\n",
        fixed.rss_kb as f64 / 1024.0,
        fixed.hwm_kb as f64 / 1024.0,
    ));
    let rss_ok = plain.hwm_kb as f64 / 1024.0 <= TARGET_RSS_MB;
    let mut lines = vec![format!(
        "{} RSS <= {TARGET_RSS_MB} MB with {ops} operations in flight through the C ABI: {:.1} MB peak{}",
        if rss_ok { "PASS" } else { "MISS" },
        plain.hwm_kb as f64 / 1024.0,
        if rss_ok {
            String::new()
        } else {
            format!(" (bound: the {DEFAULT_INITIAL_CONNECTIONS_PER_HOST} sent operations' connections, ~45 KB each, 37 KB of it hyper's and reqwest's per connection (dispatch channel 9.5 KB, read and write buffers 8 KB each, request futures), which reqwest 0.12 has no knob for, plus the callers' own keys; split by allocation site in memory.md)")
        }
    )];
    for (how, h) in [("without `out_op`", heap), ("with `out_op`", heap_out_op)] {
        match h {
            Some((full, half, per_op, caller)) => {
                let overhead = per_op - caller as f64;
                md.push_str(&format!(
                    "- heaptrack peak heap {how}: {:.2} MB with {ops} ops, {:.2} MB with {}: {:.0} bytes per waiting operation, {caller} of them the caller's, so the library's own share is {overhead:.0} bytes\n",
                    full / 1e6,
                    half / 1e6,
                    ops / 2,
                    per_op,
                ));
                lines.push(format!(
                    "{} library overhead <= {TARGET_OVERHEAD_BYTES:.0} bytes per waiting operation beyond the caller's request bytes ({how}): {overhead:.0} bytes",
                    if overhead <= TARGET_OVERHEAD_BYTES { "PASS" } else { "MISS" }
                ));
            }
            None => md.push_str(
                "- heap per operation: skipped (heaptrack not found; `apt-get install heaptrack`)\n",
            ),
        }
    }
    md.push_str("\n## Targets\n\n");
    for l in &lines {
        md.push_str(&format!("- {l}\n"));
    }
    println!("{md}");
    std::fs::create_dir_all(&out_dir).map_err(|e| e.to_string())?;
    let path = out_dir.join("results-memory.md");
    std::fs::write(&path, &md).map_err(|e| format!("{}: {e}", path.display()))?;
    println!("wrote {}", path.display());
    Ok(md)
}

#[cfg(test)]
mod tests {
    #[test]
    fn heaptrack_sizes() {
        assert_eq!(super::parse_size("206.27K"), Some(206_270.0));
        assert_eq!(super::parse_size("12.5M after 3s"), Some(12_500_000.0));
        assert_eq!(super::parse_size("900B"), Some(900.0));
        assert_eq!(super::parse_size("x"), None);
    }
}
