//! The realistic mode's report: every cell as median (min-max) over its runs, and a PASS or
//! MISS line per issue 14 target; a MISS names what bounds it.

use super::{Cell, Run};
use crate::variants::Variant;
use std::fmt::Write as _;
use std::time::Duration;

/// The msstore variants the targets are about.
const OURS: [Variant; 4] = [
    Variant::RustApi,
    Variant::CQueued,
    Variant::CImmediate,
    Variant::CInline,
];
/// Throughput target: at least this share of the floor.
const FLOOR_SHARE: f64 = 0.95;
/// Latency target: p50 at most this multiple of RTT + server time.
const P50_SLACK: f64 = 1.05;

pub struct Setup<'a> {
    pub rtts_ms: &'a [u64],
    pub warmup_ms: u64,
    pub max_warmup_ms: u64,
    pub measure_ms: u64,
    pub repeats: usize,
    /// Callers' first operations spread over one RTT (`--no-spread`: all at once).
    pub spread: bool,
    /// Every proxy's clock thread ran at real-time priority.
    pub clock_realtime: bool,
}

/// Median and range of one figure over a cell's runs.
#[derive(Clone, Copy)]
pub(crate) struct Spread {
    pub(crate) med: f64,
    pub(crate) min: f64,
    pub(crate) max: f64,
}

impl Spread {
    pub(crate) fn of(mut v: Vec<f64>) -> Option<Spread> {
        if v.is_empty() {
            return None;
        }
        v.sort_by(f64::total_cmp);
        let n = v.len();
        let med = if n % 2 == 1 {
            v[n / 2]
        } else {
            (v[n / 2 - 1] + v[n / 2]) / 2.0
        };
        Some(Spread {
            med,
            min: v[0],
            max: v[n - 1],
        })
    }

    /// `med (min-max)` with `prec` decimals; just `med` when every run agrees.
    pub(crate) fn show(&self, prec: usize) -> String {
        if format!("{:.prec$}", self.min) == format!("{:.prec$}", self.max) {
            format!("{:.prec$}", self.med)
        } else {
            format!(
                "{:.prec$} ({:.prec$}-{:.prec$})",
                self.med, self.min, self.max
            )
        }
    }
}

impl Cell {
    /// The figure `f` of every run that produced a summary.
    fn spread(&self, f: impl Fn(&Run) -> Option<f64>) -> Option<Spread> {
        Spread::of(self.runs.iter().filter_map(f).collect())
    }

    fn summary_spread(&self, f: impl Fn(&crate::stats::Summary) -> f64) -> Option<Spread> {
        self.spread(|r| r.summary.as_ref().ok().map(&f))
    }

    pub(crate) fn ops(&self) -> Option<Spread> {
        self.summary_spread(|s| s.throughput)
    }

    /// Throughput as a share of `floor`'s, paired by round: run `i` of both cells ran in the
    /// same round, minutes apart at most, so a drift of the machine's speed between rounds
    /// cancels out of each ratio. Median and range over the rounds where both ran.
    pub(crate) fn x_floor(&self, floor: &Cell) -> Option<Spread> {
        let ops = |r: &Run| r.summary.as_ref().ok().map(|s| s.throughput);
        let ratios = self
            .runs
            .iter()
            .zip(&floor.runs)
            .filter_map(|(a, b)| Some((ops(a)?, ops(b)?)))
            .filter(|&(_, f)| f > 0.0)
            .map(|(o, f)| o / f)
            .collect();
        Spread::of(ratios)
    }

    fn p50_ms(&self) -> Option<Spread> {
        self.summary_spread(|s| s.p50_us / 1000.0)
    }

    fn cpu_us(&self) -> Option<Spread> {
        self.summary_spread(|s| s.cpu_us_per_op())
    }

    fn server_ms(&self) -> f64 {
        self.spread(|r| Some(r.server.server_ms_per_request()))
            .map_or(0.0, |s| s.med)
    }

    /// Where the machine's cores went in this cell (medians over the runs): the client's,
    /// the proxy's and the stand-in's share of one core, and the busy share of all of them.
    fn cores_used(&self) -> String {
        let med = |f: fn(&Run) -> Option<f64>| self.spread(f).map_or(0.0, |s| s.med);
        let client = med(|r| {
            let s = r.summary.as_ref().ok()?;
            Some(s.throughput * s.cpu_us_per_op() / 1e4)
        });
        format!(
            "the machine's cores {:.0}% busy and {:.0}% taken by the hypervisor: the client {client:.0}%, the proxy {:.0}%, the stand-in {:.0}% of one core",
            med(|r| Some(r.machine_busy_pct)),
            med(|r| Some(r.machine_steal_pct)),
            med(|r| Some(r.proxy_cpu_pct())),
            med(|r| Some(r.server_cpu_pct())),
        )
    }

    fn proxy_late_ms(&self) -> f64 {
        self.spread(|r| Some(r.proxy_late_ms))
            .map_or(0.0, |s| s.med)
    }

    /// The warm-up's length, with how many runs reached its bound before the client was
    /// steady; "-" for a cold start (no warm-up).
    fn warmup(&self) -> String {
        if self.cold {
            return "-".into();
        }
        let capped = self
            .runs
            .iter()
            .filter(|r| r.summary.as_ref().is_ok_and(|s| s.warmup_capped))
            .count();
        let ms = show(self.summary_spread(|s| s.warmup_ms), 0);
        match capped {
            0 => ms,
            n => format!("{ms}, {n}x max"),
        }
    }

    fn errors(&self) -> u64 {
        self.runs
            .iter()
            .map(|r| match &r.summary {
                Ok(s) => s.errors,
                Err(_) => 1,
            })
            .sum()
    }

    fn is_plain(&self, v: Variant) -> bool {
        self.variant == v && self.max_conns.is_none()
    }
}

/// The cell of variant `v` at its default cap, at (`rtt`, `c`, `cold`), if it ran.
pub(crate) fn find(cells: &[Cell], rtt: u64, v: Variant, c: usize, cold: bool) -> Option<&Cell> {
    cells
        .iter()
        .find(|x| x.rtt_ms == rtt && x.concurrency == c && x.cold == cold && x.is_plain(v))
}

fn show(s: Option<Spread>, prec: usize) -> String {
    s.map_or_else(|| "-".to_string(), |s| s.show(prec))
}

pub fn report(setup: &Setup<'_>, cells: &[Cell], took: Duration) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "# msstore-bench, realistic network\n");
    let _ = writeln!(
        md,
        "query10 (v9 publisherQuery, 10 items, one page) over TLS 1.3. Client and server in two network namespaces joined by a veth pair; a latency proxy in the client namespace charges RTT/2 each way and one RTT per TCP connect (no netem in this kernel), its deadlines kept by one OS thread that sleeps to each due time (kernel hrtimer) and writes the chunk itself, {}. Server: a 2-thread tokio + hyper + rustls stand-in answering with canned emulator replies, keep-alive without limits. Each cell: {}; a warm-up of at least {} ms that lasts until the client is steady (every caller has completed 2 operations and no TCP connection opened in the client namespace for 10 round trips, at least 400 ms; the per-request pattern: its callers only), at most {} ms, then {} ms measured; {} rounds, each running every variant of a concurrency once in turn; every figure is the median over the rounds with the range (min-max) in brackets when they differ; x floor: the median of the per-round ratios to the floor's run of the same round (a drift of the shared machine between rounds cancels out). {:.0} s in total.\n",
        if setup.clock_realtime {
            "at real-time priority (SCHED_FIFO 1: a thread of the client or the server does not delay it) while at most 40 deadlines are queued (c=1 and 16), at normal priority with more than 80 (c=256: there it would wake for every chunk alone and preempt the client each time)"
        } else {
            "at normal priority (--proxy-priority normal, or no permission to raise it)"
        },
        if setup.spread {
            "the callers' first operations start spread evenly over one RTT"
        } else {
            "every caller starts at once (--no-spread)"
        },
        setup.warmup_ms,
        setup.max_warmup_ms,
        setup.measure_ms,
        setup.repeats,
        took.as_secs_f64()
    );
    let _ = writeln!(md, "Columns: conns / closed / full TLS / resumed / tokens are counted by the server from the start to the close of the measured window (warm-up included; a cold start: the whole run); closed: connections that ended, closed by either side (the stand-in and the proxy never close one); new TLS / closed in window: handshakes (full or resumed) and connections ended inside the measured window (the server's counters read when the client opens and closes it; a cold start: the whole run); client CPU: user+system time of the client process in the measured window per operation; server CPU: the stand-in's share of one core; server ms/req: the stand-in's time per request from its first byte read to its answer built; proxy +ms (worst): how late the proxy wrote each chunk past RTT/2 on average (the worst chunk of the runs in brackets), paid twice per round trip; proxy CPU: the proxy's share of one core; machine busy: the busy share of the machine's 2 cores (/proc/stat: user, system, irq and softirq; the client, the proxy, the stand-in and the kernel's network work all run on them); stolen: the share the hypervisor gave to other guests while this one wanted to run (steal: the host's load, which none of our processes shows); server CPU, proxy CPU, machine busy and stolen are over the run to the window's close; warm-up ms: how long the warm-up lasted (\"Nx max\": N runs reached the bound before the client was steady).\n");
    for &rtt in setup.rtts_ms {
        let _ = writeln!(md, "## RTT {rtt} ms\n");
        let _ = writeln!(md, "{}", table_head("c"));
        for c in cells.iter().filter(|c| c.rtt_ms == rtt && !c.cold) {
            let x = find(cells, rtt, Variant::Floor, c.concurrency, false)
                .and_then(|f| c.x_floor(f))
                .map_or(String::new(), |x| x.show(2));
            row(&mut md, c, &x);
        }
        md.push('\n');
    }
    if cells.iter().any(|c| c.cold) {
        let _ = writeln!(
            md,
            "## Cold start: a fresh client, 1,000 first calls at once\n"
        );
        let _ = writeln!(md, "ops/s is calls over the time from the common start to the last result; p50/p99 are from the common start.\n");
        let _ = writeln!(md, "{}", table_head("RTT ms"));
        for c in cells.iter().filter(|c| c.cold) {
            let mut c2 = String::new();
            row(&mut c2, c, "");
            // The same row with the RTT in place of the concurrency.
            let _ = write!(
                md,
                "{}",
                c2.replacen(
                    &format!("| {} |", c.concurrency),
                    &format!("| {} |", c.rtt_ms),
                    1
                )
            );
        }
        md.push('\n');
    }
    let _ = writeln!(md, "## Targets (issue 14)\n");
    for line in targets(setup, cells) {
        let _ = writeln!(md, "- {line}");
    }
    md.push('\n');
    md
}

/// The columns of a cell table (`second`: the concurrency, or the RTT for a cold start) and
/// the line under them.
fn table_head(second: &str) -> String {
    const COLUMNS: [&str; 23] = [
        "variant",
        "",
        "ops/s",
        "x floor",
        "p50 ms",
        "p99 ms",
        "conns",
        "closed",
        "full TLS",
        "resumed",
        "new TLS in window",
        "closed in window",
        "tokens",
        "client CPU us/op",
        "RSS MB",
        "server CPU %",
        "server ms/req",
        "proxy +ms (worst)",
        "proxy CPU %",
        "machine busy %",
        "stolen %",
        "warm-up ms",
        "errors",
    ];
    let names: Vec<&str> = COLUMNS
        .iter()
        .map(|&c| if c.is_empty() { second } else { c })
        .collect();
    let under: Vec<&str> = (0..COLUMNS.len())
        .map(|i| if i == 0 { "---" } else { "---:" })
        .collect();
    format!("| {} |\n|{}|", names.join(" | "), under.join("|"))
}

fn row(md: &mut String, c: &Cell, x_floor: &str) {
    let cnt = |f: fn(&Run) -> u64| show(c.spread(|r| Some(f(r) as f64)), 0);
    let _ = writeln!(
        md,
        "| {} | {} | {} | {x_floor} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {:.3} | {:.2} ({:.1}) | {} | {} | {} | {} | {} |",
        c.label(),
        c.concurrency,
        show(c.ops(), 0),
        show(c.p50_ms(), 1),
        show(c.summary_spread(|s| s.p99_us / 1000.0), 1),
        cnt(|r| r.server.connections),
        cnt(|r| r.server.closed),
        cnt(|r| r.server.full_handshakes),
        cnt(|r| r.server.resumed_handshakes),
        cnt(|r| r.window.handshakes()),
        cnt(|r| r.window.closed),
        cnt(|r| r.server.token_requests),
        show(c.cpu_us(), 0),
        show(c.summary_spread(|s| s.rss_kb as f64 / 1024.0), 1),
        show(c.spread(|r| Some(r.server_cpu_pct())), 0),
        c.server_ms(),
        c.proxy_late_ms(),
        c.spread(|r| Some(r.proxy_worst_ms)).map_or(0.0, |s| s.max),
        show(c.spread(|r| Some(r.proxy_cpu_pct())), 0),
        show(c.spread(|r| Some(r.machine_busy_pct)), 0),
        show(c.spread(|r| Some(r.machine_steal_pct)), 0),
        c.warmup(),
        c.errors(),
    );
}

/// One PASS or MISS line per target and variant, then the per-request pattern's figures.
fn targets(setup: &Setup<'_>, cells: &[Cell]) -> Vec<String> {
    let mut out = Vec::new();
    let steady = |v: Variant| cells.iter().filter(move |c| c.is_plain(v) && !c.cold);
    for v in OURS.into_iter().filter(|v| steady(*v).next().is_some()) {
        let name = v.name();
        // 1. Throughput against the floor at every concurrency and RTT.
        let mut misses = Vec::new();
        for c in steady(v) {
            let floor = find(cells, c.rtt_ms, Variant::Floor, c.concurrency, false);
            let Some((x, fc)) = floor.and_then(|f| Some((c.x_floor(f)?.med, f))) else {
                misses.push(format!("RTT {} c={}: no figure", c.rtt_ms, c.concurrency));
                continue;
            };
            if x < FLOOR_SHARE {
                let (x, _) = distinct(x, FLOOR_SHARE, 2);
                misses.push(format!(
                    "RTT {} c={}: {x}x ({}; {})",
                    c.rtt_ms,
                    c.concurrency,
                    throughput_bound(c, fc),
                    cap_note(c, cells)
                ));
            }
        }
        out.push(verdict(
            misses.is_empty(),
            &format!("{name}: throughput >= {FLOOR_SHARE}x the floor at every c and RTT"),
            &misses,
        ));
        // 2. p50 against the round trip plus the server's time.
        let mut misses = Vec::new();
        for c in steady(v) {
            let Some(p50) = c.p50_ms() else { continue };
            let bound = P50_SLACK * (c.rtt_ms as f64 + c.server_ms());
            if p50.med > bound {
                let floor = find(cells, c.rtt_ms, Variant::Floor, c.concurrency, false)
                    .and_then(Cell::p50_ms)
                    .map_or(f64::NAN, |s| s.med);
                let why = if floor > bound {
                    format!(
                        "the test bed: the floor's p50 is {floor:.1} ms too; the proxy adds {:.1} ms per round trip; {}",
                        2.0 * c.proxy_late_ms(),
                        c.cores_used()
                    )
                } else if matches!(v, Variant::CQueued | Variant::CImmediate) {
                    format!(
                        "the floor's p50 is {floor:.1} ms: msstore's own time, two thread \
                         hand-offs per call (the completion to the caller's or a pool thread, \
                         the next request back to a worker; INLINE completion makes neither)"
                    )
                } else {
                    format!("the floor's p50 is {floor:.1} ms: msstore's own time")
                };
                // The round trip the test bed really gave: the proxy's lateness, both ways.
                let given = c.rtt_ms as f64 + 2.0 * c.proxy_late_ms() + c.server_ms();
                let (shown, limit) = distinct_ms(p50.med, bound);
                misses.push(format!(
                    "RTT {} c={}: {shown} ms > {limit} ms ({why}; {:.2}x the {given:.1} ms round trip the proxy gave)",
                    c.rtt_ms, c.concurrency, p50.med / given
                ));
            }
        }
        out.push(verdict(
            misses.is_empty(),
            &format!("{name}: p50 <= {P50_SLACK} x (RTT + server time)"),
            &misses,
        ));
        // 3. One handshake per connection the pool keeps: none once the pool is warm.
        let mut misses = Vec::new();
        for c in steady(v) {
            let worst = c.runs.iter().max_by_key(|r| r.window.handshakes());
            let Some(worst) = worst.filter(|r| r.window.handshakes() > 0) else {
                continue;
            };
            let conns = c
                .spread(|r| Some(r.server.connections as f64))
                .map_or(0.0, |s| s.med);
            // Closed and dialled again (churn), or still growing (warm-up not long enough).
            let why = if worst.window.closed > 0 {
                format!(
                    "{} connections closed in the window and were dialled again",
                    worst.window.closed
                )
            } else {
                "none closed: the pool was still growing".to_string()
            };
            misses.push(format!(
                "RTT {} c={}: up to {} new handshakes in the measured window ({why}; {conns:.0} connections in the run)",
                c.rtt_ms,
                c.concurrency,
                worst.window.handshakes()
            ));
        }
        out.push(verdict(
            misses.is_empty(),
            &format!("{name}: exactly one full TLS handshake per connection the pool keeps (no handshake once warm)"),
            &misses,
        ));
        // 4. One token request at a cold start of 1,000 callers.
        let cold: Vec<&Cell> = cells.iter().filter(|c| c.cold && c.is_plain(v)).collect();
        if !cold.is_empty() {
            let mut misses = Vec::new();
            for c in &cold {
                let worst = c
                    .runs
                    .iter()
                    .map(|r| r.server.token_requests)
                    .max()
                    .unwrap_or(0);
                let least = c
                    .runs
                    .iter()
                    .map(|r| r.server.token_requests)
                    .min()
                    .unwrap_or(0);
                if worst != 1 || least != 1 {
                    misses.push(format!("RTT {}: {least}-{worst} token requests", c.rtt_ms));
                }
            }
            out.push(verdict(
                misses.is_empty(),
                &format!("{name}: exactly 1 token request at a cold start of 1,000 callers"),
                &misses,
            ));
        }
    }
    // 5. The per-request pattern's handshakes and token requests beside ours.
    for &rtt in setup.rtts_ms {
        let mut parts = Vec::new();
        for c in cells
            .iter()
            .filter(|c| c.rtt_ms == rtt && c.is_plain(Variant::PerRequest))
        {
            let ours = find(cells, rtt, Variant::RustApi, c.concurrency, c.cold);
            let fig = |x: &Cell| {
                format!(
                    "{} handshakes, {} tokens",
                    show(x.spread(|r| Some(r.server.handshakes() as f64)), 0),
                    show(x.spread(|r| Some(r.server.token_requests as f64)), 0)
                )
            };
            parts.push(format!(
                "{}{}: per-request {} / rust-api {}",
                if c.cold { "cold " } else { "c=" },
                c.concurrency,
                fig(c),
                ours.map_or_else(|| "-".to_string(), fig)
            ));
        }
        if !parts.is_empty() {
            out.push(format!("REPORTED, RTT {rtt} ms: {}", parts.join("; ")));
        }
    }
    out
}

fn verdict(pass: bool, what: &str, misses: &[String]) -> String {
    if pass {
        format!("PASS {what}")
    } else {
        format!("MISS {what}: {}", misses.join("; "))
    }
}

/// What bounds a throughput miss: the client's CPU on the shared cores, or latency.
fn throughput_bound(c: &Cell, floor: &Cell) -> String {
    let (Some(cpu), Some(fcpu)) = (c.cpu_us(), floor.cpu_us()) else {
        return "no CPU figure".into();
    };
    format!(
        "client CPU {:.0} us/op against the floor's {:.0}; {}",
        cpu.med,
        fcpu.med,
        c.cores_used()
    )
}

/// At 256 callers: whether the old cap, run beside, did better or worse (cap or CPU).
fn cap_note(c: &Cell, cells: &[Cell]) -> String {
    let old = cells.iter().find(|x| {
        x.rtt_ms == c.rtt_ms
            && x.concurrency == c.concurrency
            && x.variant == c.variant
            && x.max_conns.is_some()
    });
    match (old.and_then(Cell::ops), c.ops()) {
        (Some(o), Some(n)) => format!(
            "with cap {} it made {:.0} ops/s, so the cap is {}",
            old.and_then(|x| x.max_conns).unwrap_or(0),
            o.med,
            if n.med > 1.1 * o.med {
                "no longer the bound"
            } else {
                "not what bounds it"
            }
        ),
        _ => "the connection cap (512) is above the callers".into(),
    }
}

/// Two figures with `places` decimals, or one more when `places` would print them equal (a
/// MISS reading "21.0 ms > 21.0 ms" or "0.95x < 0.95x" says nothing).
fn distinct(a: f64, b: f64, places: usize) -> (String, String) {
    let (x, y) = (format!("{a:.places$}"), format!("{b:.places$}"));
    if x == y {
        let p = places + 1;
        (format!("{a:.p$}"), format!("{b:.p$}"))
    } else {
        (x, y)
    }
}

/// Two figures in ms: one decimal, two when one would print them equal.
fn distinct_ms(a: f64, b: f64) -> (String, String) {
    distinct(a, b, 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::Summary;

    fn cell(variant: Variant, ops: &[Option<f64>]) -> Cell {
        let runs = ops
            .iter()
            .map(|o| Run {
                summary: o
                    .map(|throughput| Summary {
                        throughput,
                        ..Summary::default()
                    })
                    .ok_or_else(|| "failed".to_string()),
                server: Default::default(),
                window: Default::default(),
                proxy_late_ms: 0.0,
                proxy_worst_ms: 0.0,
                proxy_cpu_ms: 0.0,
                machine_busy_pct: 0.0,
                machine_steal_pct: 0.0,
                wall_s: 1.0,
            })
            .collect();
        Cell {
            rtt_ms: 20,
            variant,
            max_conns: None,
            concurrency: 256,
            cold: false,
            runs,
        }
    }

    /// Every row has as many columns as the head and the line under it.
    #[test]
    fn rows_match_the_table_head() {
        let head = table_head("c");
        let lines: Vec<&str> = head.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(lines[0].starts_with("| variant | c | ops/s |"));
        let mut md = String::new();
        row(&mut md, &cell(Variant::RustApi, &[Some(100.0)]), "1.00");
        let cols = |l: &str| l.matches('|').count();
        assert_eq!(cols(lines[0]), cols(lines[1]));
        assert_eq!(cols(md.trim_end()), cols(lines[0]));
        assert!(table_head("RTT ms").starts_with("| variant | RTT ms | ops/s |"));
    }

    /// A MISS never prints its figure and its bound as the same number.
    #[test]
    fn distinct_ms_adds_a_decimal_only_when_one_hides_the_gap() {
        assert_eq!(distinct_ms(21.04, 21.0), ("21.04".into(), "21.00".into()));
        assert_eq!(distinct_ms(39.4, 21.0), ("39.4".into(), "21.0".into()));
        assert_eq!(distinct(0.9488, 0.95, 2), ("0.949".into(), "0.950".into()));
        assert_eq!(distinct(0.91, 0.95, 2), ("0.91".into(), "0.95".into()));
    }

    /// The ratio pairs run i with the floor's run i: a machine twice as fast in round 2
    /// moves both, not the ratio; a round where either failed is left out.
    #[test]
    fn x_floor_pairs_the_runs_of_a_round() {
        let floor = cell(
            Variant::Floor,
            &[Some(100.0), Some(200.0), Some(100.0), None],
        );
        let ours = cell(
            Variant::RustApi,
            &[Some(90.0), Some(190.0), None, Some(50.0)],
        );
        let x = ours.x_floor(&floor).unwrap();
        assert_eq!((x.min, x.max), (0.9, 0.95));
        assert!((x.med - 0.925).abs() < 1e-9);
        // Unpaired medians mix rounds: 90 / 100.
        assert_eq!(ours.ops().unwrap().med / floor.ops().unwrap().med, 0.9);
        assert!(cell(Variant::RustApi, &[None]).x_floor(&floor).is_none());
    }
}
