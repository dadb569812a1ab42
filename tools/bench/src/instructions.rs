//! Instructions per operation (issue 14 §3): each variant runs a fixed number of operations,
//! one at a time, under `valgrind --tool=callgrind`, against the emulator hosted by this
//! (uninstrumented) parent over plain loopback. The count is of user-space instructions, stable
//! on a noisy shared machine where wall-clock CPU time is not.
//!
//! Only the measured loop counts: callgrind zeroes its counters on entering
//! [`msstore_bench_measure_begin`] and dumps them on entering [`msstore_bench_measure_end`]
//! (`--zero-before` / `--dump-before`). Both act on every thread at once, so the work on the
//! runtime's worker threads counts too, which `--toggle-collect` (per thread) would miss.

use crate::args::Args;
use crate::runner::Scratch;
use crate::variants::c_abi::queued_config;
use crate::variants::{raw_http, rust_api};
use crate::workload::{Workload, World};
use msstore::driver::{msstore_op, msstore_result};
use msstore::driver::{CClient, CClientConfig, CConsume, CQuery};
use msstore::SecretString;
use msstore_emulator::Emulator;
use std::ffi::c_void;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// Operations run before the measured loop (connections, token, caches warm).
const WARMUP_OPS: u64 = 20;
/// Operations in the measured loop.
const MEASURED_OPS: u64 = 200;

const VARIANTS: [&str; 3] = ["floor", "rust-api", "c-abi"];
const WORKLOADS: [Workload; 2] = [Workload::Query10, Workload::Consume];

/// Callgrind zeroes its counters when this is entered (`--zero-before`).
#[no_mangle]
#[inline(never)]
pub extern "C" fn msstore_bench_measure_begin(ops: u64) -> u64 {
    std::hint::black_box(ops)
}

/// Callgrind dumps its counters when this is entered (`--dump-before`).
#[no_mangle]
#[inline(never)]
pub extern "C" fn msstore_bench_measure_end(ops: u64, errors: u64) -> u64 {
    std::hint::black_box(ops.wrapping_mul(31) ^ errors)
}

/// One blocking operation (number `n`) of the variant under measurement.
type Op = Box<dyn FnMut(u64) -> Result<(), String>>;

/// The child, run under callgrind: warm-up, then the measured loop between the two markers.
pub fn child(a: &Args) -> Result<(), String> {
    let variant = a.req("variant")?;
    let w = a.req("workload")?;
    let workload = Workload::parse(w)
        .filter(|w| WORKLOADS.contains(w))
        .ok_or_else(|| format!("--workload: '{w}' is not query10 or consume"))?;
    let text = std::fs::read_to_string(a.req("world")?).map_err(|e| format!("--world: {e}"))?;
    let world: World = serde_json::from_str(&text).map_err(|e| format!("--world: {e}"))?;
    let ops = a.num("ops", MEASURED_OPS)?.max(1);
    let mut op: Op = match variant {
        "floor" => Box::new(raw_http::blocking_floor(&world, workload)?),
        "rust-api" => rust_api_op(&world, workload)?,
        "c-abi" => c_abi_op(&world, workload)?,
        other => return Err(format!("--variant: '{other}' is not one of {VARIANTS:?}")),
    };
    for n in 0..a.num("warmup", WARMUP_OPS)? {
        op(n).map_err(|e| format!("warm-up: {e}"))?;
    }
    let mut errors = 0u64;
    let mut first_error = None;
    msstore_bench_measure_begin(ops);
    for n in 0..ops {
        if let Err(e) = op(WARMUP_OPS + n) {
            errors += 1;
            first_error.get_or_insert(e);
        }
    }
    msstore_bench_measure_end(ops, errors);
    match first_error {
        Some(e) => Err(format!("{errors} of {ops} operations failed, first: {e}")),
        None => Ok(()),
    }
}

fn rust_api_op(world: &World, w: Workload) -> Result<Op, String> {
    let client = rust_api::client(world)?;
    let rt = msstore::driver::runtime_handle(&client);
    let key = SecretString::new(world.query_key(w));
    let world = world.clone();
    Ok(Box::new(move |n| {
        rt.block_on(rust_api::one(&client, &world, &key, w, n))
    }))
}

/// Set by the C callback when an operation did not end in `MSSTORE_OK`.
static C_FAILED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_c_done(_user_data: *mut c_void, code: msstore_result, _op: *mut msstore_op) {
    if code != msstore_result::MSSTORE_OK {
        C_FAILED.store(true, Ordering::Relaxed);
    }
}

/// The C ABI in QUEUED mode, as a game's service thread drives it: start, wait, poll.
fn c_abi_op(world: &World, w: Workload) -> Result<Op, String> {
    let client = CClient::new(&CClientConfig {
        extra_root_cert_pem: None,
        ..queued_config(world)
    })
    .map_err(|c| format!("msstore_client_new: {c:?}"))?;
    let query = CQuery::new(world.query_key(w), &world.products10, 100)
        .map_err(|c| format!("query options: {c:?}"))?;
    let consume = CConsume::new(&world.consume_key, &world.consume_product, 1)
        .map_err(|c| format!("consume options: {c:?}"))?;
    Ok(Box::new(move |_| {
        let r = match w {
            Workload::Consume => client.consume(&consume, Some(on_c_done), 0),
            _ => client.query(&query, Some(on_c_done), 0),
        };
        if r != msstore_result::MSSTORE_OK {
            return Err(format!("start: {r:?}"));
        }
        while client.pending() > 0 {
            if client.wait(1000) > 0 {
                client.poll(0);
            }
        }
        match C_FAILED.swap(false, Ordering::Relaxed) {
            true => Err("callback: not MSSTORE_OK".into()),
            false => Ok(()),
        }
    }))
}

/// One measured cell.
struct Count {
    variant: &'static str,
    workload: Workload,
    per_op: Result<f64, String>,
}

/// The parent: hosts the emulator, runs every cell under callgrind, prints and writes the table.
/// Measures every cell, prints and writes `instructions-run.md` (in `--out`); returns its text.
pub fn run(a: &Args) -> Result<String, String> {
    let ops: u64 = a.num("ops", MEASURED_OPS)?.max(1);
    let valgrind = a.get("valgrind").unwrap_or("valgrind");
    let probe = Command::new(valgrind).arg("--version").output();
    if !probe.is_ok_and(|o| o.status.success()) {
        return Err(format!(
            "'{valgrind}' cannot be run: install valgrind (apt-get install valgrind)"
        ));
    }
    let emu = Emulator::start(Default::default()).map_err(|e| format!("emulator: {e}"))?;
    let world = World::seed(&emu)?;
    let scratch = Scratch::new("instructions")?;
    let world_file = scratch.write_json("world.json", &world)?;
    let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
    // `--profiles DIR` keeps callgrind's files for `callgrind_annotate`; else they go with the
    // scratch directory.
    let profiles = match a.get("profiles") {
        Some(d) => {
            std::fs::create_dir_all(d).map_err(|e| format!("--profiles {d}: {e}"))?;
            PathBuf::from(d)
        }
        None => scratch.0.clone(),
    };
    eprintln!(
        "msstore-bench instructions: {WARMUP_OPS} warm-up + {ops} measured operations per cell, \
         one at a time, under callgrind"
    );
    let mut counts = Vec::new();
    for w in WORKLOADS {
        for v in VARIANTS {
            let t0 = Instant::now();
            let out = profiles.join(format!("callgrind.{v}.{}", w.name()));
            let per_op = callgrind(valgrind, &exe, &out, v, w, &world_file, ops)
                .map(|ir| ir as f64 / ops as f64);
            match &per_op {
                Ok(x) => eprintln!(
                    "  {:<9} {:<8} {:>9} instr/op ({:.0} s)",
                    v,
                    w.name(),
                    k(*x),
                    t0.elapsed().as_secs_f64()
                ),
                Err(e) => eprintln!("  {v:<9} {:<8} failed: {e}", w.name()),
            }
            counts.push(Count {
                variant: v,
                workload: w,
                per_op,
            });
        }
    }
    let table = render(&counts, ops);
    println!("{table}");
    let out_dir = PathBuf::from(
        a.get("out")
            .unwrap_or(concat!(env!("CARGO_MANIFEST_DIR"), "/results")),
    );
    std::fs::create_dir_all(&out_dir).map_err(|e| format!("{}: {e}", out_dir.display()))?;
    let file = out_dir.join("instructions-run.md");
    std::fs::write(&file, &table).map_err(|e| format!("{}: {e}", file.display()))?;
    eprintln!("wrote {}", file.display());
    match counts.iter().find_map(|c| c.per_op.as_ref().err()) {
        Some(e) => Err(format!("a cell failed: {e}")),
        None => Ok(table),
    }
}

/// Runs one cell under callgrind; the instructions counted between the markers.
fn callgrind(
    valgrind: &str,
    exe: &Path,
    out: &Path,
    variant: &str,
    w: Workload,
    world_file: &Path,
    ops: u64,
) -> Result<u64, String> {
    let o = Command::new(valgrind)
        .arg("--tool=callgrind")
        .arg(format!("--callgrind-out-file={}", out.display()))
        .arg("--zero-before=msstore_bench_measure_begin")
        .arg("--dump-before=msstore_bench_measure_end")
        .arg(exe)
        .arg("instructions-client")
        .args(["--variant", variant, "--workload", w.name()])
        .arg("--world")
        .arg(world_file)
        .args(["--ops", &ops.to_string()])
        .output()
        .map_err(|e| format!("{valgrind}: {e}"))?;
    if !o.status.success() {
        let err = String::from_utf8_lossy(&o.stderr);
        let tail: Vec<&str> = err.lines().rev().take(3).collect();
        return Err(format!("exited with {}: {}", o.status, tail.join(" | ")));
    }
    measured_dump(out)
}

/// The `--dump-before` dump among callgrind's files for `out` (`out.1`, then `out` at exit).
fn measured_dump(out: &Path) -> Result<u64, String> {
    let dir = out.parent().ok_or("no scratch directory")?;
    let name = out
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or("bad file name")?;
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for e in entries.flatten() {
        let file_name = e.file_name();
        if !file_name.to_str().is_some_and(|f| f.starts_with(name)) {
            continue;
        }
        let text = std::fs::read_to_string(e.path()).map_err(|err| err.to_string())?;
        if text
            .lines()
            .any(|l| l.starts_with("desc: Trigger:") && l.contains("msstore_bench_measure_end"))
        {
            return total_ir(&text).ok_or_else(|| "no summary line in the dump".to_string());
        }
    }
    Err("callgrind wrote no dump at msstore_bench_measure_end".into())
}

/// `summary:` (or `totals:`) of a callgrind dump: instructions (the first event).
fn total_ir(text: &str) -> Option<u64> {
    text.lines()
        .find_map(|l| {
            l.strip_prefix("summary:")
                .or_else(|| l.strip_prefix("totals:"))
        })
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
}

/// Thousands, as the issue writes them ("462k").
fn k(x: f64) -> String {
    format!("{:.0}k", x / 1000.0)
}

/// The targets: (workload, numerator, denominator, bound).
const TARGETS: [(Workload, &str, &str, f64); 4] = [
    (Workload::Query10, "rust-api", "floor", 1.6),
    (Workload::Consume, "rust-api", "floor", 1.2),
    (Workload::Query10, "c-abi", "rust-api", 1.15),
    (Workload::Consume, "c-abi", "rust-api", 1.15),
];

fn render(counts: &[Count], ops: u64) -> String {
    let get = |v: &str, w: Workload| {
        counts
            .iter()
            .find(|c| c.variant == v && c.workload == w)
            .and_then(|c| c.per_op.as_ref().ok().copied())
    };
    let mut s = format!(
        "Instructions per operation (callgrind, user space, every thread of the client \
         process; {WARMUP_OPS} warm-up + {ops} measured operations, one at a time, plain HTTP on \
         loopback against the emulator):\n\n| variant | query10 | consume |\n|---|---:|---:|\n"
    );
    for v in VARIANTS {
        let cell = |w| get(v, w).map_or("failed".to_string(), k);
        s += &format!(
            "| {v} | {} | {} |\n",
            cell(Workload::Query10),
            cell(Workload::Consume)
        );
    }
    s += "\n| target | measured | verdict |\n|---|---:|---|\n";
    for (w, num, den, bound) in TARGETS {
        let (m, verdict) = match (get(num, w), get(den, w)) {
            (Some(a), Some(b)) if b > 0.0 => {
                let r = a / b;
                (format!("{r:.2}x"), if r <= bound { "PASS" } else { "MISS" })
            }
            _ => ("-".to_string(), "MISS (not measured)"),
        };
        s += &format!(
            "| {} {num} <= {bound}x {den} | {m} | {verdict} |\n",
            w.name()
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_dump_total_and_renders_verdicts() {
        let dump = "version: 1\ndesc: Trigger: --dump-before=msstore_bench_measure_end\nevents: Ir\nsummary: 4620000\n";
        assert_eq!(total_ir(dump), Some(4_620_000));
        assert_eq!(total_ir("events: Ir\n"), None);
        let c = |variant, workload, x: f64| Count {
            variant,
            workload,
            per_op: Ok(x),
        };
        let counts = [
            c("floor", Workload::Query10, 200_000.0),
            c("rust-api", Workload::Query10, 300_000.0),
            c("c-abi", Workload::Query10, 400_000.0),
            c("floor", Workload::Consume, 100_000.0),
            c("rust-api", Workload::Consume, 110_000.0),
        ];
        let t = render(&counts, 200);
        assert!(t.contains("| rust-api | 300k | 110k |"), "{t}");
        assert!(
            t.contains("| query10 rust-api <= 1.6x floor | 1.50x | PASS |"),
            "{t}"
        );
        assert!(
            t.contains("| query10 c-abi <= 1.15x rust-api | 1.33x | MISS |"),
            "{t}"
        );
        assert!(
            t.contains("| consume c-abi <= 1.15x rust-api | - | MISS (not measured) |"),
            "{t}"
        );
    }
}
