//! The realistic-network mode (`--network realistic`, the default run): the client and the
//! server in two network namespaces joined by a veth pair, a latency proxy charging the round
//! trip (see `proxy`), TLS, and a multi-threaded stand-in server (see `standin`) whose CPU is
//! printed per cell to show it is not the bottleneck. Writes `results-realistic.md`.

pub mod cpu;
mod netns;
mod proxy;
mod standin;

use crate::args::Args;
use crate::runner::{run_child, Scratch};
use crate::stats::Summary;
use crate::variants::Variant;
use crate::workload::{self, Workload, World};
use msstore_emulator::{Emulator, EmulatorConfig};
use netns::NetPair;
use standin::{Canned, Counters};
use std::fmt::Write as _;
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
    warmup_ms: u64,
    measure_ms: u64,
    out_dir: PathBuf,
    smoke: bool,
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
                    ],
                    1000,
                    3000,
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
            measure_ms: a.num("measure-ms", measure)?.max(1),
            out_dir: PathBuf::from(
                a.get("out")
                    .unwrap_or(concat!(env!("CARGO_MANIFEST_DIR"), "/results")),
            ),
            smoke,
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

    /// The stand-in's counters now.
    fn counters(&mut self) -> Result<Counters, String> {
        writeln!(self.stdin, "stats").map_err(|e| format!("server: {e}"))?;
        let mut line = String::new();
        self.stdout
            .read_line(&mut line)
            .map_err(|e| format!("server: {e}"))?;
        serde_json::from_str(&line).map_err(|e| format!("server counters: {e}"))
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

/// One measured cell.
struct Cell {
    rtt_ms: u64,
    variant: Variant,
    /// `Some(n)`: msstore with `max_connections_per_host = n` instead of the default.
    max_conns: Option<usize>,
    concurrency: usize,
    summary: Result<Summary, String>,
    server: Counters,
    wall_s: f64,
}

impl Cell {
    fn label(&self) -> String {
        match self.max_conns {
            Some(n) => format!("{} (cap {n})", self.variant.name()),
            None => self.variant.name().to_string(),
        }
    }

    fn line(&self) -> String {
        let head = format!(
            "rtt {:>2} ms {:<22} c={:<4}",
            self.rtt_ms,
            self.label(),
            self.concurrency
        );
        match &self.summary {
            Ok(s) => format!(
                "{head} {:>7.0} ops/s  p50 {:>7.1} ms  p99 {:>7.1} ms  conns {:>5}  full TLS {:>5}  resumed {:>5}  tokens {:>3}  client CPU {:>5.0} us/op  rss {:>5.1} MB  server CPU {:>3.0}% of a core  errors {}{}",
                s.throughput,
                s.p50_us / 1000.0,
                s.p99_us / 1000.0,
                self.server.connections,
                self.server.full_handshakes,
                self.server.resumed_handshakes,
                self.server.token_requests,
                s.cpu_us_per_op(),
                s.rss_kb as f64 / 1024.0,
                self.server_cpu_pct(),
                s.errors,
                s.first_error.as_deref().map(|e| format!(" [{e}]")).unwrap_or_default(),
            ),
            Err(e) => format!("{head} FAILED: {e}"),
        }
    }

    fn server_cpu_pct(&self) -> f64 {
        self.server.cpu_ms / 10.0 / self.wall_s.max(1e-9)
    }

    fn ok(&self) -> bool {
        matches!(&self.summary, Ok(s) if s.errors == 0 && s.ops > 0)
    }
}

struct Ctx<'a> {
    net: &'a NetPair,
    exe: PathBuf,
    server: Helper,
    plan: &'a Plan,
}

impl Ctx<'_> {
    fn cell(
        &mut self,
        rtt_ms: u64,
        world_file: &Path,
        v: Variant,
        c: usize,
        max_conns: Option<usize>,
    ) -> Cell {
        let mut cmd = NetPair::exec(&self.net.client_ns, &self.exe);
        cmd.arg("client")
            .args([
                "--variant",
                v.name(),
                "--workload",
                Workload::Query10.name(),
            ])
            .args(["--concurrency", &c.to_string()])
            .args(["--warmup-ms", &self.plan.warmup_ms.to_string()])
            .args(["--measure-ms", &self.plan.measure_ms.to_string()])
            .arg("--world")
            .arg(world_file);
        if let Some(n) = max_conns {
            cmd.env("MSSTORE_BENCH_MAX_CONNECTIONS", n.to_string());
        }
        let limit = Duration::from_millis(self.plan.warmup_ms + self.plan.measure_ms)
            + Duration::from_secs(120);
        let before = self.server.counters();
        let t0 = Instant::now();
        let summary = run_child(cmd, limit);
        let wall_s = t0.elapsed().as_secs_f64();
        let server = match (before, self.server.counters()) {
            (Ok(b), Ok(a)) => a.since(&b),
            _ => Counters::default(),
        };
        let cell = Cell {
            rtt_ms,
            variant: v,
            max_conns,
            concurrency: c,
            summary,
            server,
            wall_s,
        };
        eprintln!("  {}", cell.line());
        cell
    }
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
    let canned_file = scratch.0.join("canned.json");
    std::fs::write(
        &canned_file,
        serde_json::to_vec(&canned).map_err(|e| e.to_string())?,
    )
    .map_err(|e| format!("{}: {e}", canned_file.display()))?;
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
    world.tls_cert_pem = Some(msstore_emulator::TEST_CERT_PEM.to_string());
    for &rtt in &plan.rtts_ms {
        let mut p = NetPair::exec(&net.client_ns, &exe);
        p.arg("proxy")
            .args(["--listen", "127.0.0.1:0"])
            .args(["--upstream", &ctx.server.addr])
            .args(["--rtt-ms", &rtt.to_string()]);
        let proxy = Helper::start(p, "latency proxy")?;
        world.base_url = format!("https://{}", proxy.addr);
        let world_file = scratch.0.join(format!("world-{rtt}.json"));
        std::fs::write(
            &world_file,
            serde_json::to_vec(&world).map_err(|e| e.to_string())?,
        )
        .map_err(|e| format!("{}: {e}", world_file.display()))?;
        for &c in &plan.concurrency {
            for &v in &plan.variants {
                cells.push(ctx.cell(rtt, &world_file, v, c, None));
            }
            // Issue 14's ceiling: the same cell with the old per-host cap, beside the default.
            if c > OLD_MAX_CONNECTIONS && plan.variants.contains(&Variant::RustApi) {
                cells.push(ctx.cell(
                    rtt,
                    &world_file,
                    Variant::RustApi,
                    c,
                    Some(OLD_MAX_CONNECTIONS),
                ));
            }
        }
        drop(proxy);
    }
    drop(ctx);
    drop(net);
    let md = report(&plan, &cells, started.elapsed());
    println!("{md}");
    if !plan.smoke {
        std::fs::create_dir_all(&plan.out_dir).map_err(|e| e.to_string())?;
    }
    std::fs::create_dir_all(&plan.out_dir).map_err(|e| e.to_string())?;
    let path = plan.out_dir.join("results-realistic.md");
    std::fs::write(&path, &md).map_err(|e| format!("{}: {e}", path.display()))?;
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

fn report(plan: &Plan, cells: &[Cell], took: Duration) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "# msstore-bench, realistic network\n");
    let _ = writeln!(
        md,
        "query10 (v9 publisherQuery, 10 items, one page) over TLS 1.3. Client and server in two network namespaces joined by a veth pair; a latency proxy in the client namespace charges RTT/2 each way and one RTT per TCP connect (no netem in this kernel). Server: a 2-thread tokio + hyper + rustls stand-in answering with canned emulator replies. Each cell: {} ms warm-up + {} ms measured, one run (no repeats). {:.0} s in total.\n",
        plan.warmup_ms, plan.measure_ms, took.as_secs_f64()
    );
    let _ = writeln!(md, "Columns: conns / full TLS / resumed / tokens are counted by the server over the whole cell (warm-up included); client CPU is user+system time of the client process in the measured window per operation; server CPU is the stand-in's share of one core over the cell.\n");
    for &rtt in &plan.rtts_ms {
        let _ = writeln!(md, "## RTT {rtt} ms\n");
        let _ = writeln!(md, "| variant | c | ops/s | x floor | p50 ms | p99 ms | conns | full TLS | resumed | tokens | client CPU us/op | RSS MB | server CPU % | errors |");
        let _ = writeln!(
            md,
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
        );
        for c in cells.iter().filter(|c| c.rtt_ms == rtt) {
            let floor = cells
                .iter()
                .find(|f| {
                    f.rtt_ms == rtt && f.concurrency == c.concurrency && f.variant == Variant::Floor
                })
                .and_then(|f| f.summary.as_ref().ok())
                .map(|s| s.throughput);
            match &c.summary {
                Ok(s) => {
                    let x = floor
                        .filter(|f| *f > 0.0)
                        .map(|f| format!("{:.2}", s.throughput / f))
                        .unwrap_or_default();
                    let _ = writeln!(
                        md,
                        "| {} | {} | {:.0} | {x} | {:.1} | {:.1} | {} | {} | {} | {} | {:.0} | {:.1} | {:.0} | {} |",
                        c.label(), c.concurrency, s.throughput, s.p50_us / 1000.0, s.p99_us / 1000.0,
                        c.server.connections, c.server.full_handshakes, c.server.resumed_handshakes,
                        c.server.token_requests, s.cpu_us_per_op(), s.rss_kb as f64 / 1024.0,
                        c.server_cpu_pct(), s.errors
                    );
                }
                Err(e) => {
                    let _ = writeln!(md, "| {} | {} | FAILED: {e} |", c.label(), c.concurrency);
                }
            }
        }
        md.push('\n');
    }
    md
}
