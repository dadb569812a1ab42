//! The parent process (hosts the emulator, runs every cell in a child process, reads the
//! emulator's counters, writes the report) and the child process (runs one cell).

use crate::args::Args;
use crate::load::{WarmUp, Window};
use crate::realistic::cpu;
use crate::report::{Cell, InFlight, Machine, Micro, Report};
use crate::stats::Summary;
use crate::variants::{curl, Variant};
use crate::workload::{Workload, World, COLD_CALLERS};
use crate::{micro, report, rss};
use msstore::Audience;
use msstore_emulator::{Emulator, EmulatorConfig, FaultKind, FaultRule};
use std::io::{BufRead, Read};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What a run measures and for how long.
pub struct Plan {
    pub variants: Vec<Variant>,
    pub workloads: Vec<Workload>,
    pub concurrency: Vec<usize>,
    pub warmup_ms: u64,
    pub measure_ms: u64,
    pub cold_callers: usize,
    /// Operations started at once for the RSS target (0 = skip).
    pub in_flight_ops: usize,
    pub micro_budget: Duration,
    pub out_dir: PathBuf,
    pub mode: &'static str,
    /// HTTPS emulator; results go to `results-tls.md` / `throughput-tls.svg`.
    pub tls: bool,
}

impl Plan {
    fn from_args(a: &Args) -> Result<Plan, String> {
        let (mode, warmup, measure, conc, cold, in_flight, micro_ms): (
            _,
            u64,
            u64,
            &[&str],
            _,
            _,
            u64,
        ) = if a.has("--smoke") {
            ("smoke", 0, 250, &["2"], 10, 0, 20)
        } else if a.has("--quick") {
            (
                "quick",
                100,
                400,
                &["1", "16", "256"],
                COLD_CALLERS,
                10_000,
                300,
            )
        } else {
            (
                "full",
                300,
                1500,
                &["1", "16", "256"],
                COLD_CALLERS,
                10_000,
                2000,
            )
        };
        let all_variants: Vec<&str> = Variant::ALL
            .iter()
            .map(|v| v.name())
            .filter(|n| !(a.has("--no-curl") && *n == Variant::Curl.name()))
            .collect();
        let variants = a
            .list("variants", &all_variants)
            .iter()
            .map(|s| Variant::parse(s).ok_or_else(|| format!("unknown variant '{s}'")))
            .collect::<Result<Vec<_>, _>>()?;
        let all_workloads: Vec<&str> = Workload::ALL.iter().map(|w| w.name()).collect();
        let workloads = a
            .list("workloads", &all_workloads)
            .iter()
            .map(|s| Workload::parse(s).ok_or_else(|| format!("unknown workload '{s}'")))
            .collect::<Result<Vec<_>, _>>()?;
        let concurrency = a
            .list("concurrency", conc)
            .iter()
            .map(|s| match s.parse::<usize>() {
                Ok(n) if (1..=4096).contains(&n) => Ok(n),
                _ => Err(format!("--concurrency: '{s}' is not in 1..=4096")),
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Plan {
            variants,
            workloads,
            concurrency,
            warmup_ms: a.num("warmup-ms", warmup)?,
            measure_ms: a.num("measure-ms", measure)?.max(1),
            cold_callers: a.num("cold-callers", cold)?.max(1),
            in_flight_ops: a.num("in-flight-ops", in_flight)?,
            micro_budget: Duration::from_millis(micro_ms),
            out_dir: PathBuf::from(
                a.get("out")
                    .unwrap_or(concat!(env!("CARGO_MANIFEST_DIR"), "/results")),
            ),
            mode,
            tls: a.has("--tls"),
        })
    }
}

/// The child: runs one cell and prints its summary as one JSON line.
pub fn child(a: &Args) -> Result<(), String> {
    let v = a.req("variant")?;
    let variant = Variant::parse(v).ok_or_else(|| format!("unknown variant '{v}'"))?;
    let w = a.req("workload")?;
    let workload = Workload::parse(w).ok_or_else(|| format!("unknown workload '{w}'"))?;
    let text = std::fs::read_to_string(a.req("world")?).map_err(|e| format!("--world: {e}"))?;
    let mut world: World = serde_json::from_str(&text).map_err(|e| format!("--world: {e}"))?;
    if let Ok(n) = std::env::var("MSSTORE_BENCH_CALLERS") {
        world.cold_callers = n
            .parse()
            .map_err(|_| format!("MSSTORE_BENCH_CALLERS: '{n}' is not a number"))?;
    }
    let warmup = Duration::from_millis(a.num("warmup-ms", 300)?);
    // `--max-warmup-ms` (realistic mode): warm up until steady, see `load::WarmUp`.
    let warm = match a.get("max-warmup-ms") {
        None => WarmUp::fixed(warmup),
        Some(_) => WarmUp {
            min: warmup,
            max: Duration::from_millis(a.num("max-warmup-ms", 0)?).max(warmup),
            quiet: match a.num("quiet-ms", 0)? {
                0 => None,
                ms => Some(Duration::from_millis(ms)),
            },
            spread: Duration::from_millis(a.num("spread-ms", 0)?),
        },
    };
    let concurrency = a.num("concurrency", 1)?;
    let window = Window::start(
        concurrency,
        warm,
        Duration::from_millis(a.num("measure-ms", 1500)?),
    );
    // CPU time from the start of the measured window (read by a thread that waits for it);
    // the `measuring` line lets the parent read the server's counters at the same moment, and
    // `measured` when it closes (the realistic mode counts handshakes in between).
    let w = window.clone();
    let cpu_at_start = std::thread::spawn(move || {
        w.wait_open();
        let cpu = cpu::process_cpu_ms();
        println!("measuring");
        std::thread::sleep(w.measured());
        println!("measured");
        cpu
    });
    let mut s = variant.run(&world, workload, concurrency, window.clone())?;
    s.cpu_ms = cpu::process_cpu_ms() - cpu_at_start.join().unwrap_or(0.0);
    s.warmup_ms = window.warmup().unwrap_or_default().as_secs_f64() * 1000.0;
    s.warmup_capped = window.capped();
    s.rss_kb = rss::peak_rss_kb();
    println!("{}", serde_json::to_string(&s).map_err(|e| e.to_string())?);
    Ok(())
}

/// Temporary files of a run (the world holds the emulator's secret); removed on drop.
pub(crate) struct Scratch(pub PathBuf);

impl Scratch {
    /// A fresh directory under the system's temp dir, named after this process.
    pub fn new(what: &str) -> Result<Scratch, String> {
        let dir = std::env::temp_dir().join(format!("msstore-bench-{what}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        Ok(Scratch(dir))
    }

    /// Writes `value` as JSON to `name` in the directory (a world file for a child); its path.
    pub fn write_json(&self, name: &str, value: &impl serde::Serialize) -> Result<PathBuf, String> {
        let path = self.0.join(name);
        let bytes = serde_json::to_vec(value).map_err(|e| e.to_string())?;
        std::fs::write(&path, bytes).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(path)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `cmd`, waits at most `limit`, and parses the last stdout line as a [`Summary`].
pub(crate) fn run_child(cmd: Command, limit: Duration) -> Result<Summary, String> {
    run_child_json(cmd, limit)
}

/// Runs `cmd`, waits at most `limit`, and parses the last stdout line starting with `{`.
pub(crate) fn run_child_json<T: serde::de::DeserializeOwned>(
    cmd: Command,
    limit: Duration,
) -> Result<T, String> {
    run_child_notifying(cmd, limit, None)
}

/// `run_child_json`, sending on `measuring` when the child says its measured window opened
/// and again when it closed.
pub(crate) fn run_child_notifying<T: serde::de::DeserializeOwned>(
    mut cmd: Command,
    limit: Duration,
    measuring: Option<std::sync::mpsc::Sender<()>>,
) -> Result<T, String> {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("spawn: {e}"))?;
    // Drain both pipes on threads so a chatty child cannot block on a full pipe.
    let mut out = child.stdout.take().ok_or("no stdout")?;
    let mut err = child.stderr.take().ok_or("no stderr")?;
    let out_t = std::thread::spawn(move || {
        let mut s = String::new();
        for line in std::io::BufReader::new(&mut out).lines() {
            let Ok(line) = line else { break };
            if line == "measuring" || line == "measured" {
                if let Some(tx) = &measuring {
                    let _ = tx.send(());
                }
            }
            s.push_str(&line);
            s.push('\n');
        }
        s
    });
    let err_t = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let t0 = Instant::now();
    let status = loop {
        match child.try_wait().map_err(|e| e.to_string())? {
            Some(st) => break st,
            None if t0.elapsed() > limit => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("timed out after {} s", limit.as_secs()));
            }
            None => std::thread::sleep(Duration::from_millis(10)),
        }
    };
    let stdout = out_t.join().unwrap_or_default();
    let stderr = err_t.join().unwrap_or_default();
    if !status.success() {
        let tail: String = stderr.lines().rev().take(3).collect::<Vec<_>>().join(" | ");
        return Err(format!("exited with {status}: {tail}"));
    }
    let line = stdout
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .ok_or("no summary line")?;
    serde_json::from_str(line).map_err(|e| format!("bad summary line: {e}"))
}

struct Env<'a> {
    emu: &'a Emulator,
    world: &'a World,
    world_file: PathBuf,
    bodies: PathBuf,
    curl: Result<PathBuf, String>,
    plan: &'a Plan,
    /// Window multiplier of a smoke cell being rerun (1 otherwise).
    smoke_stretch: std::cell::Cell<u64>,
}

impl Env<'_> {
    /// The workload's window factor (1 in smoke mode, which only checks that cells run).
    fn factor(&self, w: Workload) -> u64 {
        if self.plan.mode == "smoke" {
            self.smoke_stretch.get()
        } else {
            w.window_factor()
        }
    }

    fn command(
        &self,
        v: Variant,
        w: Workload,
        concurrency: usize,
        callers: usize,
    ) -> Result<Command, String> {
        if v == Variant::Curl {
            let exe = self.curl.as_ref().map_err(Clone::clone)?;
            let mut world = self.world.clone();
            world.cold_callers = callers;
            return Ok(curl::command(
                exe,
                &self.bodies,
                &world,
                w,
                concurrency,
                self.plan.warmup_ms * self.factor(w),
                self.plan.measure_ms * self.factor(w),
            ));
        }
        let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
        let mut c = Command::new(exe);
        c.arg("client")
            .args(["--variant", v.name(), "--workload", w.name()])
            .arg("--concurrency")
            .arg(concurrency.to_string())
            .arg("--warmup-ms")
            .arg((self.plan.warmup_ms * self.factor(w)).to_string())
            .arg("--measure-ms")
            .arg((self.plan.measure_ms * self.factor(w)).to_string())
            .arg("--world")
            .arg(&self.world_file);
        if callers != self.world.cold_callers {
            c.env("MSSTORE_BENCH_CALLERS", callers.to_string());
        }
        Ok(c)
    }

    /// One cell, with the emulator's counters taken around it.
    fn cell(&self, v: Variant, w: Workload, concurrency: usize, callers: usize) -> Cell {
        // Smoke mode only checks that every cell runs: on a loaded machine one operation can
        // outlast the tiny window and count nothing, so such a cell is rerun with a longer window.
        let mut cell = self.cell_once(v, w, concurrency, callers);
        while self.plan.mode == "smoke" && self.smoke_stretch.get() < 16 {
            match &cell.summary {
                Some(s) if s.ops == 0 && s.errors == 0 => {
                    self.smoke_stretch.set(self.smoke_stretch.get() * 2);
                    cell = self.cell_once(v, w, concurrency, callers);
                }
                _ => break,
            }
        }
        self.smoke_stretch.set(1);
        cell
    }

    fn cell_once(&self, v: Variant, w: Workload, concurrency: usize, callers: usize) -> Cell {
        self.emu.clear_requests();
        let conns0 = self.emu.connections_opened();
        let limit =
            Duration::from_millis((self.plan.warmup_ms + self.plan.measure_ms) * self.factor(w))
                + Duration::from_secs(120);
        let t0 = Instant::now();
        let r = self
            .command(v, w, concurrency, callers)
            .and_then(|c| run_child(c, limit));
        let cell = Cell {
            variant: v,
            workload: w,
            concurrency,
            token_requests: self.emu.token_requests_for(Audience::Service.uri()) as u64,
            connections: self.emu.connections_opened() - conns0,
            summary: r.as_ref().ok().cloned(),
            error: r.err(),
        };
        eprintln!("  {}", cell.progress_line(t0.elapsed()));
        cell
    }
}

/// The parent: the whole benchmark.
pub fn run(a: &Args) -> Result<(), String> {
    let plan = Plan::from_args(a)?;
    let started = Instant::now();
    let emu = Emulator::start(EmulatorConfig {
        tls: plan.tls,
        ..Default::default()
    })
    .map_err(|e| format!("emulator: {e}"))?;
    let mut world = World::seed(&emu)?;
    world.cold_callers = plan.cold_callers;
    let scratch = Scratch::new("loopback")?;
    if plan.tls {
        let cert = scratch.0.join("emulator-test-cert.pem");
        std::fs::write(&cert, msstore_emulator::TEST_CERT_PEM)
            .map_err(|e| format!("{}: {e}", cert.display()))?;
        world.tls_cert_pem = Some(msstore_emulator::TEST_CERT_PEM.to_string());
        world.tls_cert_file = Some(cert);
    }
    let world_file = scratch.write_json("world.json", &world)?;
    let bodies = scratch.0.join("bodies");
    let curl = if plan.variants.contains(&Variant::Curl) {
        curl::write_bodies(&world, &bodies).and_then(|_| curl::build(&scratch.0))
    } else {
        Err("not selected".into())
    };
    if let Err(e) = &curl {
        if plan.variants.contains(&Variant::Curl) {
            eprintln!("msstore-bench: the libcurl variant is skipped: {e}");
        }
    }
    let env = Env {
        emu: &emu,
        world: &world,
        world_file,
        bodies,
        curl,
        plan: &plan,
        smoke_stretch: std::cell::Cell::new(1),
    };
    eprintln!(
        "msstore-bench ({} mode): emulator at {}, {} variants x {} workloads",
        plan.mode,
        emu.base_url(),
        plan.variants.len(),
        plan.workloads.len()
    );

    let mut cells = Vec::new();
    for &w in &plan.workloads {
        eprintln!("{}: {}", w.name(), w.describe());
        let levels = if w == Workload::ColdStart {
            vec![plan.cold_callers]
        } else {
            plan.concurrency.clone()
        };
        for &c in &levels {
            for &v in &plan.variants {
                cells.push(env.cell(v, w, c, plan.cold_callers));
            }
        }
    }

    let in_flight = measure_in_flight(&env);
    eprintln!("micro-benchmarks ...");
    let micro = Micro {
        key_decode: micro::key_decode(&world.key10, plan.micro_budget),
        ffi_round_trip: micro::ffi_round_trip(&world, plan.micro_budget),
    };
    let report = Report {
        mode: plan.mode,
        tls: plan.tls,
        machine: Machine::detect(),
        plan_text: format!(
            "warm-up {} ms + measured {} ms per cell (x3 for query500); concurrency {:?}; cold start {} callers",
            plan.warmup_ms, plan.measure_ms, plan.concurrency, plan.cold_callers
        ),
        cells,
        in_flight,
        micro,
        total: started.elapsed(),
    };
    let (md, svg) = report::write(&plan.out_dir, &report)?;
    println!("{}", report.targets_text());
    println!(
        "wrote {} and {} in {:.0} s",
        md.display(),
        svg.display(),
        started.elapsed().as_secs_f64()
    );
    drop(emu);
    drop(scratch);
    if report.cells.iter().any(|c| c.failed()) {
        return Err("some cells failed (see the report)".into());
    }
    Ok(())
}

/// How long the emulator holds each query of the in-flight burst.
pub const IN_FLIGHT_HOLD_MS: u64 = 100;

/// RSS with many operations in flight at once: a burst of `in_flight_ops` queries while the
/// emulator holds every query for a moment, so they overlap.
fn measure_in_flight(env: &Env<'_>) -> Vec<InFlight> {
    let n = env.plan.in_flight_ops;
    if n == 0 {
        return Vec::new();
    }
    eprintln!("{n} operations in flight ...");
    // Each query is held 100 ms: with every operation started at once they all overlap at the
    // client; a client that caps its connections (msstore: 128 per host) then drains the
    // queue at 128 per 100 ms, about 8 s for 10,000.
    let fault = env.emu.add_fault(FaultRule::new(
        "collections_v9_query",
        FaultKind::Delay {
            ms: IN_FLIGHT_HOLD_MS,
        },
    ));
    let out = [Variant::CQueued, Variant::RustApi]
        .into_iter()
        .filter(|v| env.plan.variants.contains(v))
        .map(|v| InFlight {
            variant: v,
            cell: env.cell(v, Workload::ColdStart, n, n),
        })
        .collect();
    env.emu.remove_fault(fault);
    out
}
