//! The realistic-network mode (`--network realistic`, the default run): the client and the
//! server in two network namespaces joined by a veth pair, a latency proxy charging the round
//! trip (see `proxy`), TLS, and a multi-threaded stand-in server (see `standin`) whose CPU is
//! printed per cell to show it is not the bottleneck. Writes `results-realistic.md`.

mod chart;
pub mod cpu;
mod netns;
mod proxy;
mod standin;
pub(crate) mod verdict;

use crate::args::Args;
use crate::runner::{run_child_notifying, Scratch};
use crate::stats::Summary;
use crate::variants::Variant;
use crate::workload::{self, Workload, World};
use cpu::MachineTicks;
use msstore_emulator::{Emulator, EmulatorConfig};
use netns::NetPair;
use proxy::Lateness;
use standin::{Canned, Counters};
use std::io::{BufRead, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

pub use proxy::serve as proxy_main;
pub use standin::serve as serve_main;

/// The stand-in server's port on the server end of the veth pair.
const SERVER_PORT: u16 = 8443;
/// The per-host connection cap of msstore before issue 14, measured beside the new default.
const OLD_MAX_CONNECTIONS: usize = 128;

struct Plan {
    rtts_ms: Vec<u64>,
    concurrency: Vec<usize>,
    variants: Vec<Variant>,
    /// Shortest warm-up; it lasts until the client is steady (see `load::WarmUp`), at most
    /// `max_warmup_ms`.
    warmup_ms: u64,
    max_warmup_ms: u64,
    measure_ms: u64,
    /// Runs of every cell (reported as median and min-max).
    repeats: usize,
    /// Run the cold start of `COLD_CALLERS` callers per RTT.
    cold: bool,
    /// Also measure instructions per call (callgrind) and memory per waiting call (heaptrack)
    /// and report their targets (`--no-cpu-memory` leaves them out; the smoke run does).
    cpu_memory: bool,
    /// `--proxy-timer tokio`: the proxy's old timing (tokio sleeps), for before/after.
    tokio_timer: bool,
    /// `--proxy-priority normal`: the proxy's clock thread at normal priority (before it ran
    /// at SCHED_FIFO), for before/after.
    proxy_realtime: bool,
    /// `--no-spread`: every caller starts at once (the bench before the spread), for
    /// before/after.
    spread: bool,
    out_dir: PathBuf,
}

impl Plan {
    fn from_args(a: &Args) -> Result<Plan, String> {
        let smoke = a.has("--smoke");
        let (rtts, conc, variants, warmup, measure): (&[&str], &[&str], &[&str], u64, u64) =
            if smoke {
                (&["10"], &["2"], &["rust-api", "floor"], 300, 300)
            } else {
                (
                    &["20", "50"],
                    &["1", "16", "256"],
                    &[
                        "rust-api",
                        "floor",
                        "per-request",
                        "c-abi-queued",
                        "c-abi-immediate",
                        "c-abi-inline",
                    ],
                    500,
                    1000,
                )
            };
        let num = |s: &String, what: &str| {
            s.parse::<u64>()
                .map_err(|_| format!("--{what}: '{s}' is not a number"))
        };
        Ok(Plan {
            rtts_ms: a
                .list("rtt-ms", rtts)
                .iter()
                .map(|s| num(s, "rtt-ms"))
                .collect::<Result<_, _>>()?,
            concurrency: a
                .list("concurrency", conc)
                .iter()
                .map(|s| num(s, "concurrency").map(|n| n.clamp(1, 4096) as usize))
                .collect::<Result<_, _>>()?,
            variants: a
                .list("variants", variants)
                .iter()
                .map(|s| {
                    Variant::parse(s)
                        .filter(|v| *v != Variant::Curl)
                        .ok_or_else(|| format!("variant '{s}' is not available in this mode"))
                })
                .collect::<Result<_, _>>()?,
            warmup_ms: a.num("warmup-ms", warmup)?,
            max_warmup_ms: a.num("max-warmup-ms", if smoke { 2000 } else { MAX_WARMUP_MS })?,
            measure_ms: a.num("measure-ms", measure)?.max(1),
            repeats: a.num("repeats", if smoke { 1 } else { 5 })?.clamp(1, 50),
            cold: !smoke && !a.has("--no-cold"),
            cpu_memory: !smoke && !a.has("--no-cpu-memory"),
            spread: !a.has("--no-spread"),
            proxy_realtime: match a.get("proxy-priority") {
                None | Some("realtime") => true,
                Some("normal") => false,
                Some(p) => {
                    return Err(format!("--proxy-priority: '{p}' is not realtime or normal"))
                }
            },
            tokio_timer: match a.get("proxy-timer") {
                None | Some("thread") => false,
                Some("tokio") => true,
                Some(t) => return Err(format!("--proxy-timer: '{t}' is not thread or tokio")),
            },
            out_dir: PathBuf::from(
                a.get("out")
                    .unwrap_or(concat!(env!("CARGO_MANIFEST_DIR"), "/results")),
            ),
        })
    }
}

/// A helper process (server or proxy) inside a namespace, killed when dropped. Its stdin is
/// its lifeline: it exits by itself when the benchmark is gone.
struct Helper {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    addr: String,
}

impl Helper {
    fn start(mut cmd: Command, what: &str) -> Result<Helper, String> {
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("{what}: {e}"))?;
        let stdin = child.stdin.take().ok_or("no stdin")?;
        let mut stdout = BufReader::new(child.stdout.take().ok_or("no stdout")?);
        let mut line = String::new();
        let _ = stdout.read_line(&mut line);
        let addr = match line.trim().strip_prefix("listening ") {
            Some(a) => a.to_string(),
            None => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("{what} did not start"));
            }
        };
        Ok(Helper {
            child,
            stdin,
            stdout,
            addr,
        })
    }

    /// The helper's counters now (the stand-in's [`Counters`], the proxy's [`Lateness`]).
    fn counters<T: serde::de::DeserializeOwned>(&mut self) -> Result<T, String> {
        writeln!(self.stdin, "stats").map_err(|e| format!("helper: {e}"))?;
        let mut line = String::new();
        self.stdout
            .read_line(&mut line)
            .map_err(|e| format!("helper: {e}"))?;
        serde_json::from_str(&line).map_err(|e| format!("helper counters: {e}"))
    }
}

impl Drop for Helper {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Captures a token reply and a query10 page from the seeded emulator: the stand-in serves
/// exactly what the emulator would have.
fn capture(world: &World) -> Result<Canned, String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(async {
        let http = reqwest::Client::new();
        let form = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "client_credentials")
            .append_pair("client_id", &world.client_id)
            .append_pair("client_secret", &world.client_secret)
            .append_pair("scope", "https://onestore.microsoft.com/.default")
            .finish();
        let token = http
            .post(world.token_url())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form)
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .map_err(|e| format!("token: {e}"))?
            .text()
            .await
            .map_err(|e| format!("token: {e}"))?;
        let access: serde_json::Value =
            serde_json::from_str(&token).map_err(|e| format!("token: {e}"))?;
        let bearer = access["access_token"].as_str().unwrap_or_default();
        let body = workload::query_page_body(&world.query_request(Workload::Query10, 0), None);
        let query_page = http
            .post(world.collections_url(workload::PATH_QUERY_V9))
            .header("content-type", "application/json")
            .bearer_auth(bearer)
            .body(body)
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .map_err(|e| format!("query: {e}"))?
            .text()
            .await
            .map_err(|e| format!("query: {e}"))?;
        Ok(Canned { token, query_page })
    })
}

/// One run of a cell.
pub(crate) struct Run {
    pub summary: Result<Summary, String>,
    /// Counted by the server from the start to the measured window's close (warm-up
    /// included; a cold start: to the end of the run).
    pub server: Counters,
    /// Counted by the server in the measured window (a cold start: the whole run).
    pub window: Counters,
    /// Mean lateness of the proxy per chunk, ms (each round trip pays it twice).
    pub proxy_late_ms: f64,
    /// The latest chunk of the run, ms.
    pub proxy_worst_ms: f64,
    /// The proxy's CPU time over the run (to the window's close), ms.
    pub proxy_cpu_ms: f64,
    /// The busy share of the machine's cores over the run (to the window's close), %.
    pub machine_busy_pct: f64,
    /// The share the hypervisor took away (steal) over the same time, %.
    pub machine_steal_pct: f64,
    pub wall_s: f64,
}

impl Run {
    pub fn server_cpu_pct(&self) -> f64 {
        self.server.cpu_ms / 10.0 / self.wall_s.max(1e-9)
    }

    /// The proxy's share of one core over the run, %.
    pub fn proxy_cpu_pct(&self) -> f64 {
        self.proxy_cpu_ms / 10.0 / self.wall_s.max(1e-9)
    }

    pub fn ok(&self) -> bool {
        matches!(&self.summary, Ok(s) if s.errors == 0 && s.ops > 0)
    }
}

/// One measured cell: a variant at an RTT and a concurrency (or a cold start), run
/// `Plan::repeats` times.
pub(crate) struct Cell {
    pub rtt_ms: u64,
    pub variant: Variant,
    /// `Some(n)`: msstore with `max_connections_per_host = n` instead of the default.
    pub max_conns: Option<usize>,
    pub concurrency: usize,
    /// The cold start: a fresh client, `concurrency` first calls at once.
    pub cold: bool,
    pub runs: Vec<Run>,
}

impl Cell {
    pub fn label(&self) -> String {
        match self.max_conns {
            Some(n) => format!("{} (cap {n})", self.variant.name()),
            None => self.variant.name().to_string(),
        }
    }

    fn line(&self, r: &Run) -> String {
        let head = format!(
            "rtt {:>2} ms {:<22} {}={:<4}",
            self.rtt_ms,
            self.label(),
            if self.cold { "cold" } else { "c" },
            self.concurrency
        );
        match &r.summary {
            Ok(s) => format!(
                "{head} warm-up {:>4.0} ms{} {:>7.0} ops/s  p50 {:>7.1} ms  p99 {:>7.1} ms  conns {:>5}  closed {:>5}  full TLS {:>5}  resumed {:>5}  new in window {:>4}  closed in window {:>4}  tokens {:>3}  client CPU {:>5.0} us/op  rss {:>5.1} MB  server CPU {:>3.0}%  server {:.3} ms/req  proxy +{:.3} ms/chunk (worst {:.1})  proxy CPU {:>3.0}%  machine busy {:>3.0}% stolen {:>2.0}%  errors {}{}",
                s.warmup_ms,
                if s.warmup_capped { " (max)" } else { "" },
                s.throughput,
                s.p50_us / 1000.0,
                s.p99_us / 1000.0,
                r.server.connections,
                r.server.closed,
                r.server.full_handshakes,
                r.server.resumed_handshakes,
                r.window.handshakes(),
                r.window.closed,
                r.server.token_requests,
                s.cpu_us_per_op(),
                s.rss_kb as f64 / 1024.0,
                r.server_cpu_pct(),
                r.server.server_ms_per_request(),
                r.proxy_late_ms,
                r.proxy_worst_ms,
                r.proxy_cpu_pct(),
                r.machine_busy_pct,
                r.machine_steal_pct,
                s.errors,
                s.first_error.as_deref().map(|e| format!(" [{e}]")).unwrap_or_default(),
            ),
            Err(e) => format!("{head} FAILED: {e}"),
        }
    }

    /// Every run measured. The per-request pattern's own errors (its cold start exhausts
    /// what it can connect) are figures of the pattern, reported in the table, not failures.
    fn ok(&self) -> bool {
        if self.variant == Variant::PerRequest {
            return self.runs.iter().all(|r| r.summary.is_ok());
        }
        self.runs.iter().all(Run::ok)
    }
}

struct Ctx<'a> {
    net: &'a NetPair,
    exe: PathBuf,
    server: Helper,
    plan: &'a Plan,
}

/// What one cell is: variant, concurrency (callers of a cold start), cap override.
#[derive(Clone, Copy)]
struct CellSpec {
    variant: Variant,
    concurrency: usize,
    cold: bool,
    max_conns: Option<usize>,
}

impl Ctx<'_> {
    /// Runs `specs` as one group: `Plan::repeats` rounds, each running every spec once in
    /// order. Interleaved so that a slow drift of this shared machine (a neighbour's load, the
    /// clock) falls on every variant of a round alike, and round `i` of one cell can be
    /// compared with round `i` of the floor (`verdict`'s paired ratios).
    fn cells(
        &mut self,
        rtt_ms: u64,
        world_file: &Path,
        proxy: &mut Helper,
        specs: &[CellSpec],
    ) -> Vec<Cell> {
        let mut cells: Vec<Cell> = specs
            .iter()
            .map(|spec| Cell {
                rtt_ms,
                variant: spec.variant,
                max_conns: spec.max_conns,
                concurrency: spec.concurrency,
                cold: spec.cold,
                runs: Vec::new(),
            })
            .collect();
        for _ in 0..self.plan.repeats {
            for (cell, &spec) in cells.iter_mut().zip(specs) {
                let r = self.run_once(rtt_ms, world_file, proxy, spec);
                eprintln!("  {}", cell.line(&r));
                cell.runs.push(r);
            }
        }
        cells
    }

    /// Waits until the server holds no connection (the previous cell's are closed), so a
    /// cell's counters count only its own.
    fn settle(&mut self) {
        let t0 = Instant::now();
        while t0.elapsed() < SETTLE {
            match self.server.counters::<Counters>() {
                Ok(c) if c.connections > c.closed => std::thread::sleep(Duration::from_millis(20)),
                _ => return,
            }
        }
    }

    fn run_once(
        &mut self,
        rtt_ms: u64,
        world_file: &Path,
        proxy: &mut Helper,
        spec: CellSpec,
    ) -> Run {
        let workload = if spec.cold {
            Workload::ColdStart
        } else {
            Workload::Query10
        };
        let mut cmd = NetPair::exec(&self.net.client_ns, &self.exe);
        cmd.arg("client")
            .args([
                "--variant",
                spec.variant.name(),
                "--workload",
                workload.name(),
            ])
            .args(["--concurrency", &spec.concurrency.to_string()])
            .args(["--warmup-ms", &self.plan.warmup_ms.to_string()])
            .args(["--measure-ms", &self.plan.measure_ms.to_string()])
            .arg("--world")
            .arg(world_file);
        if spec.cold {
            cmd.env("MSSTORE_BENCH_CALLERS", spec.concurrency.to_string());
        } else {
            // Steady state: every caller done twice and no new connection for 10 round trips
            // (a handshake takes two: the connect and TLS 1.3; at 256 callers a pool that is
            // still growing dials one every few RTTs). The per-request pattern
            // opens one per request by design, so only its callers are waited for.
            let quiet = if spec.variant == Variant::PerRequest {
                0
            } else {
                (QUIET_RTTS * rtt_ms).max(MIN_QUIET_MS)
            };
            // Callers start spread over one RTT, as independent callers arrive (see
            // `load::WarmUp::spread`).
            cmd.args(["--max-warmup-ms", &self.plan.max_warmup_ms.to_string()])
                .args(["--quiet-ms", &quiet.to_string()])
                .args([
                    "--spread-ms",
                    &if self.plan.spread { rtt_ms } else { 0 }.to_string(),
                ]);
        }
        if let Some(n) = spec.max_conns {
            cmd.env("MSSTORE_BENCH_MAX_CONNECTIONS", n.to_string());
        }
        let limit = Duration::from_millis(self.plan.max_warmup_ms + self.plan.measure_ms)
            + Duration::from_secs(120);
        self.settle();
        let before = self.server.counters::<Counters>();
        let late_before = proxy.counters::<Lateness>();
        let machine_before = MachineTicks::now();
        let t0 = Instant::now();
        let (tx, measuring) = std::sync::mpsc::channel();
        let child = std::thread::spawn(move || run_child_notifying(cmd, limit, Some(tx)));
        // The server's counters are read when the child says its measured window opened and
        // when it closed; a cold start has no warm-up, so its window is the whole run.
        let (window, at_close) = if spec.cold {
            (None, None)
        } else {
            // An error here means the child ended without its window (it failed).
            let open = measuring
                .recv_timeout(limit)
                .ok()
                .map(|()| self.server.counters::<Counters>());
            let closed = open.as_ref().and_then(|_| {
                measuring
                    .recv_timeout(limit)
                    .ok()
                    .map(|()| (self.server.counters::<Counters>(), MachineTicks::now()))
            });
            match (open, closed) {
                (Some(Ok(a)), Some((Ok(b), m))) => (Some(b.since(&a)), Some((b, t0.elapsed(), m))),
                _ => (Some(Counters::default()), None),
            }
        };
        let summary = child
            .join()
            .unwrap_or_else(|_| Err("the cell's thread panicked".into()));
        // Over the run means up to the window's close: the client's exit closes every
        // connection, which says nothing about its pool.
        let wall_s = at_close.map_or_else(|| t0.elapsed(), |c| c.1).as_secs_f64();
        let after = at_close.map_or_else(|| self.server.counters::<Counters>(), |c| Ok(c.0));
        let machine_after = at_close.map_or_else(MachineTicks::now, |c| c.2);
        let (machine_busy_pct, machine_steal_pct) = match (machine_before, machine_after) {
            (Some(b), Some(a)) => a.pct_since(&b),
            _ => (0.0, 0.0),
        };
        let server = match (&before, &after) {
            (Ok(b), Ok(a)) => a.since(b),
            _ => Counters::default(),
        };
        let (proxy_late_ms, proxy_worst_ms, proxy_cpu_ms) =
            match (late_before, proxy.counters::<Lateness>()) {
                (Ok(b), Ok(a)) => (
                    a.mean_ms_since(&b),
                    a.worst_us as f64 / 1000.0,
                    a.cpu_ms - b.cpu_ms,
                ),
                _ => (0.0, 0.0, 0.0),
            };
        Run {
            summary,
            window: window.unwrap_or(server),
            server,
            proxy_late_ms,
            proxy_worst_ms,
            proxy_cpu_ms,
            machine_busy_pct,
            machine_steal_pct,
            wall_s,
        }
    }
}

/// Longest wait for the previous cell's connections to close (its client has exited; the
/// proxy passes the close on after RTT/2).
const SETTLE: Duration = Duration::from_secs(3);

/// Longest warm-up of a cell (`--max-warmup-ms`); a cell that reaches it is reported.
const MAX_WARMUP_MS: u64 = 3000;
/// No new connection for this many round trips (at least `MIN_QUIET_MS`) ends a warm-up.
const QUIET_RTTS: u64 = 10;
const MIN_QUIET_MS: u64 = 400;

/// `instructions` and `memory` (their reports, headings demoted under one of ours), or why one
/// was not measured (no valgrind or heaptrack, a failed cell): never a PASS it did not earn.
fn cpu_and_memory(a: &Args) -> String {
    let mut md = String::from("\n## CPU per call and memory per waiting call (issue 14 §3-4)\n\n");
    for (what, r) in [
        ("Instructions per call", crate::instructions::run(a)),
        ("Memory", crate::memory::run(a)),
    ] {
        md.push_str(&format!("### {what}\n\n"));
        match r {
            Ok(text) => {
                let demoted = format!("\n{text}")
                    .replace("\n## ", "\n#### ")
                    .replace("\n# ", "\n#### ");
                md.push_str(demoted.trim_start());
            }
            Err(e) => md.push_str(&format!("- NOT MEASURED: {e}\n")),
        }
        md.push('\n');
    }
    md
}

/// `--network realistic`: returns Ok (and says why) when namespaces cannot be created.
pub fn run(a: &Args) -> Result<(), String> {
    let plan = Plan::from_args(a)?;
    let started = Instant::now();
    netns::remove_on_signal();
    let net = match NetPair::create() {
        Ok(n) => n,
        Err(e) => {
            println!("realistic network mode skipped: cannot create network namespaces ({e}); it needs root and `ip` (iproute2)");
            return Ok(());
        }
    };
    let emu = Emulator::start(EmulatorConfig::default()).map_err(|e| format!("emulator: {e}"))?;
    let mut world = World::seed(&emu)?;
    let canned = capture(&world)?;
    drop(emu);
    let scratch = Scratch::new("realistic")?;
    let canned_file = scratch.write_json("canned.json", &canned)?;
    let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
    let mut serve = NetPair::exec(&net.server_ns, &exe);
    serve
        .arg("serve")
        .args(["--listen", &format!("{}:{SERVER_PORT}", net.server_ip)])
        .arg("--canned")
        .arg(&canned_file)
        .args(["--threads", "2"]);
    let server = Helper::start(serve, "stand-in server")?;
    eprintln!(
        "msstore-bench (realistic network): server {} in netns {}, client in netns {}, TLS, {} variants, RTT {:?} ms, concurrency {:?}, {} ms + {} ms per cell",
        server.addr, net.server_ns, net.client_ns, plan.variants.len(), plan.rtts_ms, plan.concurrency, plan.warmup_ms, plan.measure_ms
    );
    let mut ctx = Ctx {
        net: &net,
        exe: exe.clone(),
        server,
        plan: &plan,
    };
    let mut cells = Vec::new();
    // Per proxy (one per RTT): whether its clock thread got real-time priority.
    let mut clock_realtime = Vec::new();
    world.tls_cert_pem = Some(msstore_emulator::TEST_CERT_PEM.to_string());
    for &rtt in &plan.rtts_ms {
        let mut p = NetPair::exec(&net.client_ns, &exe);
        p.arg("proxy")
            .args(["--listen", "127.0.0.1:0"])
            .args(["--upstream", &ctx.server.addr])
            .args(["--rtt-ms", &rtt.to_string()]);
        if plan.tokio_timer {
            p.args(["--timer", "tokio"]);
        }
        if !plan.proxy_realtime {
            p.args(["--priority", "normal"]);
        }
        let mut proxy = Helper::start(p, "latency proxy")?;
        clock_realtime.push(proxy.counters::<Lateness>()?.clock_realtime);
        world.base_url = format!("https://{}", proxy.addr);
        let world_file = scratch.write_json(&format!("world-{rtt}.json"), &world)?;
        let spec = |variant, concurrency, cold, max_conns| CellSpec {
            variant,
            concurrency,
            cold,
            max_conns,
        };
        for &c in &plan.concurrency {
            let mut specs: Vec<CellSpec> = plan
                .variants
                .iter()
                .map(|&v| spec(v, c, false, None))
                .collect();
            // Issue 14's ceiling: the same cell with the old per-host cap, beside the default.
            if c > OLD_MAX_CONNECTIONS && plan.variants.contains(&Variant::RustApi) {
                specs.push(spec(Variant::RustApi, c, false, Some(OLD_MAX_CONNECTIONS)));
            }
            cells.extend(ctx.cells(rtt, &world_file, &mut proxy, &specs));
        }
        if plan.cold {
            let specs: Vec<CellSpec> = plan
                .variants
                .iter()
                .map(|&v| spec(v, workload::COLD_CALLERS, true, None))
                .collect();
            cells.extend(ctx.cells(rtt, &world_file, &mut proxy, &specs));
        }
        drop(proxy);
    }
    drop(ctx);
    drop(net);
    let md = verdict::report(
        &verdict::Setup {
            rtts_ms: &plan.rtts_ms,
            warmup_ms: plan.warmup_ms,
            max_warmup_ms: plan.max_warmup_ms,
            measure_ms: plan.measure_ms,
            repeats: plan.repeats,
            spread: plan.spread,
            clock_realtime: !clock_realtime.is_empty() && clock_realtime.iter().all(|&r| r),
        },
        &cells,
        started.elapsed(),
    );
    println!("{md}");
    // Issue 14 §3-4 in the same run: callgrind's instructions per call and the memory per
    // waiting call, each also in its own file (`instructions-run.md`, `results-memory.md`).
    let cpu_memory = if plan.cpu_memory {
        cpu_and_memory(a)
    } else {
        String::new()
    };
    std::fs::create_dir_all(&plan.out_dir).map_err(|e| e.to_string())?;
    let path = plan.out_dir.join("results-realistic.md");
    let md = format!(
        "{md}{cpu_memory}\n![throughput as a share of the floor](throughput-realistic.svg)\n"
    );
    std::fs::write(&path, &md).map_err(|e| format!("{}: {e}", path.display()))?;
    let title = format!(
        "Realistic network: query10 over TLS, throughput against the floor ({} runs per cell)",
        plan.repeats
    );
    let chart = plan.out_dir.join("throughput-realistic.svg");
    std::fs::write(&chart, chart::svg(&cells, &plan.rtts_ms, &title))
        .map_err(|e| format!("{}: {e}", chart.display()))?;
    println!(
        "wrote {} in {:.0} s",
        path.display(),
        started.elapsed().as_secs_f64()
    );
    if cells.iter().any(|c| !c.ok()) {
        return Err("some cells failed (see the report)".into());
    }
    Ok(())
}
