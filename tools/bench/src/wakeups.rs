//! `msstore-bench wakeups`: where a client's CPU per operation goes when every operation waits
//! for a round trip: context switches (wake-ups) and CPU time per operation, per thread, for
//! the Rust API and the two C ABI completion modes.
//!
//! The emulator (in this process) holds every query for `--delay-ms` (20 by default, a round
//! trip to the Store), so each client sleeps between operations as it does over a real
//! network; each cell runs in a child process that reads `/proc/self/task/*` at the start and
//! the end of its measured window. A periodic wake-up (a timer, a short-timeout poll) shows as
//! wake-ups per operation that grow with the delay; a hand-off between threads as one more
//! wake-up per operation on another thread.

use crate::args::Args;
use crate::load::{WarmUp, Window};
use crate::realistic::verdict::Spread;
use crate::runner::{run_child_json, Scratch};
use crate::variants::Variant;
use crate::workload::{Workload, World};
use msstore_emulator::{Emulator, EmulatorConfig, FaultKind, FaultRule};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::process::Command;
use std::time::Duration;

const VARIANTS: &[&str] = &[
    "rust-api",
    "c-abi-queued",
    "c-abi-immediate",
    "c-abi-inline",
];

/// One thread's counters from `/proc/self/task/<tid>/`.
#[derive(Debug, Clone, Default)]
struct ThreadCounters {
    name: String,
    /// Time on a CPU (schedstat), ns: exact, unlike the 10 ms ticks of `stat`.
    cpu_ns: u64,
    voluntary: u64,
    involuntary: u64,
    /// utime / stime in clock ticks (only to split `cpu_ns` into user and system).
    user_ticks: u64,
    sys_ticks: u64,
}

/// Every live thread of this process by tid. (A thread that exits inside the window is lost;
/// tokio keeps its idle blocking threads for 10 s, longer than a cell.)
fn snapshot() -> BTreeMap<u64, ThreadCounters> {
    let mut all = BTreeMap::new();
    let Ok(dir) = std::fs::read_dir("/proc/self/task") else {
        return all;
    };
    for e in dir.flatten() {
        let Some(tid) = e.file_name().to_str().and_then(|s| s.parse().ok()) else {
            continue;
        };
        let read = |f: &str| std::fs::read_to_string(e.path().join(f)).unwrap_or_default();
        let mut t = ThreadCounters {
            name: read("comm").trim().to_string(),
            cpu_ns: first_number(&read("schedstat")),
            ..ThreadCounters::default()
        };
        for line in read("status").lines() {
            if let Some(v) = line.strip_prefix("voluntary_ctxt_switches:") {
                t.voluntary = first_number(v);
            } else if let Some(v) = line.strip_prefix("nonvoluntary_ctxt_switches:") {
                t.involuntary = first_number(v);
            }
        }
        let stat = read("stat");
        if let Some(rest) = stat.rfind(')').map(|i| &stat[i + 1..]) {
            let f: Vec<&str> = rest.split_whitespace().collect();
            // utime and stime: fields 14 and 15 of the line, 12 and 13 after the name.
            t.user_ticks = f.get(11).and_then(|v| v.parse().ok()).unwrap_or(0);
            t.sys_ticks = f.get(12).and_then(|v| v.parse().ok()).unwrap_or(0);
        }
        all.insert(tid, t);
    }
    all
}

fn first_number(s: &str) -> u64 {
    s.split_whitespace()
        .next()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// What one thread group (threads of one name) did in the window.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Group {
    name: String,
    threads: u64,
    cpu_ns: u64,
    voluntary: u64,
    involuntary: u64,
    user_ticks: u64,
    sys_ticks: u64,
}

/// The child's report: operations in the window and each thread group's share.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct CellReport {
    ops: u64,
    seconds: f64,
    errors: u64,
    groups: Vec<Group>,
}

impl CellReport {
    fn total(&self) -> Group {
        let mut t = Group::default();
        for g in &self.groups {
            t.cpu_ns += g.cpu_ns;
            t.voluntary += g.voluntary;
            t.involuntary += g.involuntary;
            t.user_ticks += g.user_ticks;
            t.sys_ticks += g.sys_ticks;
        }
        t
    }

    fn per_op(&self, n: u64) -> f64 {
        n as f64 / self.ops.max(1) as f64
    }

    fn wakeups_per_op(&self) -> f64 {
        self.per_op(self.total().voluntary)
    }

    fn cpu_us_per_op(&self) -> f64 {
        self.per_op(self.total().cpu_ns) / 1000.0
    }
}

/// The window's difference `end - start`, grouped by thread name, without the sampler itself.
fn window_groups(
    start: &BTreeMap<u64, ThreadCounters>,
    end: &BTreeMap<u64, ThreadCounters>,
    sampler: Option<u64>,
) -> Vec<Group> {
    let mut groups: BTreeMap<String, Group> = BTreeMap::new();
    for (tid, e) in end {
        if Some(*tid) == sampler {
            continue;
        }
        let s = start.get(tid).cloned().unwrap_or_default();
        let g = groups.entry(e.name.clone()).or_insert_with(|| Group {
            name: e.name.clone(),
            ..Group::default()
        });
        g.threads += 1;
        g.cpu_ns += e.cpu_ns.saturating_sub(s.cpu_ns);
        g.voluntary += e.voluntary.saturating_sub(s.voluntary);
        g.involuntary += e.involuntary.saturating_sub(s.involuntary);
        g.user_ticks += e.user_ticks.saturating_sub(s.user_ticks);
        g.sys_ticks += e.sys_ticks.saturating_sub(s.sys_ticks);
    }
    groups.into_values().collect()
}

fn this_thread_tid() -> Option<u64> {
    let link = std::fs::read_link("/proc/thread-self").ok()?;
    link.file_name()?.to_str()?.parse().ok()
}

/// `msstore-bench wakeups-client`: one cell, its report as one JSON line.
pub fn child(a: &Args) -> Result<(), String> {
    let v = a.req("variant")?;
    let variant = Variant::parse(v).ok_or_else(|| format!("unknown variant '{v}'"))?;
    let text = std::fs::read_to_string(a.req("world")?).map_err(|e| format!("--world: {e}"))?;
    let world: World = serde_json::from_str(&text).map_err(|e| format!("--world: {e}"))?;
    let concurrency = a.num("concurrency", 1)?;
    let window = Window::start(
        concurrency,
        WarmUp::fixed(Duration::from_millis(a.num("warmup-ms", 500)?)),
        Duration::from_millis(a.num("measure-ms", 2000)?),
    );
    let sampled = window.clone();
    // The sampler's own thread is left out of the counts (its waits are the harness's).
    let sampler = std::thread::spawn(move || {
        sampled.wait_open();
        let start = snapshot();
        std::thread::sleep(sampled.measured());
        let end = snapshot();
        window_groups(&start, &end, this_thread_tid())
    });
    let s = variant.run(&world, Workload::Query10, concurrency, window)?;
    let groups = sampler.join().map_err(|_| "the sampler panicked")?;
    let report = CellReport {
        ops: s.ops,
        seconds: s.seconds,
        errors: s.errors,
        groups,
    };
    println!(
        "{}",
        serde_json::to_string(&report).map_err(|e| e.to_string())?
    );
    Ok(())
}

/// `msstore-bench wakeups [--delay-ms 20] [--concurrency 1,16] [--variants ..] [--repeats 3]
/// [--warmup-ms 500] [--measure-ms 2000]`: prints a Markdown table.
pub fn run(a: &Args) -> Result<(), String> {
    let delay_ms: u64 = a.num("delay-ms", 20)?;
    let repeats: usize = a.num("repeats", 3)?.clamp(1, 20);
    let warmup_ms: u64 = a.num("warmup-ms", 500)?;
    let measure_ms: u64 = a.num("measure-ms", 2000)?.max(1);
    let concurrency = a.list("concurrency", &["1", "16"]);
    let variants = a.list("variants", VARIANTS);
    for v in &variants {
        Variant::parse(v)
            .filter(|v| {
                matches!(
                    v,
                    Variant::RustApi | Variant::CQueued | Variant::CImmediate | Variant::CInline
                )
            })
            .ok_or_else(|| format!("--variants: '{v}' is not one of {VARIANTS:?}"))?;
    }
    let emu = Emulator::start(EmulatorConfig::default()).map_err(|e| format!("emulator: {e}"))?;
    let world = World::seed(&emu)?;
    let _delay = emu.add_fault(FaultRule::new(
        "collections_v9_query",
        FaultKind::Delay { ms: delay_ms },
    ));
    let scratch = Scratch::new("wakeups")?;
    let world_file = scratch.write_json("world.json", &world)?;
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    println!(
        "query10 against the emulator holding each query {delay_ms} ms (plain HTTP, loopback); {warmup_ms} ms warm-up + {measure_ms} ms measured, {repeats} runs, medians (min-max). Wake-ups: voluntary context switches of every thread of the client process in the measured window per operation; CPU: time on a CPU (schedstat) per operation, split into user and system by the ticks of `stat`; per thread: the median run's wake-ups per operation of each thread name (tokio names its blocking-pool threads after its workers).\n"
    );
    println!("| variant | c | ops/s | wake-ups/op | involuntary/op | CPU us/op | user us/op | sys us/op | wake-ups/op per thread |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---|");
    for c in &concurrency {
        for v in &variants {
            let mut runs = Vec::new();
            for _ in 0..repeats {
                let mut cmd = Command::new(&exe);
                cmd.arg("wakeups-client")
                    .args(["--variant", v, "--concurrency", c])
                    .args(["--warmup-ms", &warmup_ms.to_string()])
                    .args(["--measure-ms", &measure_ms.to_string()])
                    .arg("--world")
                    .arg(&world_file);
                let limit = Duration::from_millis(warmup_ms + measure_ms) + Duration::from_secs(60);
                let r: CellReport = run_child_json(cmd, limit)?;
                if r.errors > 0 {
                    return Err(format!("{v} c={c}: {} errors", r.errors));
                }
                runs.push(r);
            }
            println!("{}", row(v, c, &runs));
        }
    }
    Ok(())
}

/// A figure's median over the runs, with the range when they differ.
fn spread(runs: &[CellReport], f: impl Fn(&CellReport) -> f64, digits: usize) -> String {
    Spread::of(runs.iter().map(f).collect()).map_or_else(String::new, |s| s.show(digits))
}

fn row(variant: &str, c: &str, runs: &[CellReport]) -> String {
    let split = |r: &CellReport, user: bool| {
        let t = r.total();
        let ticks = (t.user_ticks + t.sys_ticks).max(1) as f64;
        let share = if user { t.user_ticks } else { t.sys_ticks } as f64 / ticks;
        r.cpu_us_per_op() * share
    };
    let mut by_wakeups: Vec<&CellReport> = runs.iter().collect();
    by_wakeups.sort_by(|a, b| a.wakeups_per_op().total_cmp(&b.wakeups_per_op()));
    let mid = by_wakeups[by_wakeups.len() / 2];
    let threads: Vec<String> = mid
        .groups
        .iter()
        .filter(|g| g.voluntary > 0)
        .map(|g| format!("{} x{}: {:.2}", g.name, g.threads, mid.per_op(g.voluntary)))
        .collect();
    format!(
        "| {variant} | {c} | {} | {} | {} | {} | {} | {} | {} |",
        spread(runs, |r| r.ops as f64 / r.seconds.max(1e-9), 0),
        spread(runs, CellReport::wakeups_per_op, 2),
        spread(runs, |r| r.per_op(r.total().involuntary), 2),
        spread(runs, CellReport::cpu_us_per_op, 0),
        spread(runs, |r| split(r, true), 0),
        spread(runs, |r| split(r, false), 0),
        threads.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_counts_only_what_happened_in_it() {
        let t = |name: &str, cpu_ns, voluntary| ThreadCounters {
            name: name.into(),
            cpu_ns,
            voluntary,
            ..ThreadCounters::default()
        };
        let start = BTreeMap::from([(1, t("w", 100, 5)), (2, t("w", 10, 1)), (9, t("s", 0, 0))]);
        let end = BTreeMap::from([
            (1, t("w", 300, 9)),
            (2, t("w", 20, 2)),
            (3, t("main", 50, 4)),
            (9, t("s", 99, 99)),
        ]);
        let g = window_groups(&start, &end, Some(9));
        let names: Vec<(&str, u64, u64, u64)> = g
            .iter()
            .map(|g| (g.name.as_str(), g.threads, g.cpu_ns, g.voluntary))
            .collect();
        assert_eq!(names, vec![("main", 1, 50, 4), ("w", 2, 210, 5)]);
    }

    #[test]
    fn reads_this_process_threads() {
        // A sleep is a voluntary switch, which also brings the thread's CPU time up to date
        // (a thread that never left the CPU may still read 0 ns).
        std::thread::sleep(Duration::from_millis(1));
        let s = snapshot();
        let me = this_thread_tid().expect("tid");
        let t = s.get(&me).expect("this thread is listed");
        assert!(t.voluntary >= 1, "the sleep is counted: {t:?}");
        assert!(t.cpu_ns > 0, "a thread that ran has used some CPU: {t:?}");
    }
}
