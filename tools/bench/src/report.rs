//! The report: a Markdown table per workload, the targets of issue 7 checked (PASS/MISS with
//! the figure), and an SVG chart of throughput against concurrency per variant.

use crate::stats::Summary;
use crate::variants::Variant;
use crate::workload::Workload;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// One variant x workload x concurrency measurement, with the emulator's counters.
pub struct Cell {
    pub variant: Variant,
    pub workload: Workload,
    pub concurrency: usize,
    pub summary: Option<Summary>,
    pub error: Option<String>,
    /// Entra requests for the service audience during the cell (the whole child process).
    pub token_requests: u64,
    /// TCP connections the emulator accepted during the cell.
    pub connections: u64,
}

impl Cell {
    /// Did not run, or completed operations with errors.
    pub fn failed(&self) -> bool {
        match &self.summary {
            None => true,
            Some(s) => s.errors > 0 || s.ops == 0,
        }
    }

    pub fn progress_line(&self, took: Duration) -> String {
        let head = format!(
            "{:<16} {:<9} c={:<5}",
            self.variant.name(),
            self.workload.name(),
            self.concurrency
        );
        match (&self.summary, &self.error) {
            (Some(s), _) => format!(
                "{head} {:>9.0} ops/s  p50 {:>8.3} ms  p99 {:>8.3} ms  tokens {:>4}  conns {:>6}  rss {:>6.1} MB  errors {}{}  ({:.1} s)",
                s.throughput,
                s.p50_us / 1000.0,
                s.p99_us / 1000.0,
                self.token_requests,
                self.connections,
                s.rss_kb as f64 / 1024.0,
                s.errors,
                s.first_error.as_deref().map(|e| format!(" [{e}]")).unwrap_or_default(),
                took.as_secs_f64()
            ),
            (None, e) => format!("{head} FAILED: {}", e.as_deref().unwrap_or("?")),
        }
    }
}

/// The RSS measurement with many operations in flight.
pub struct InFlight {
    pub variant: Variant,
    pub cell: Cell,
}

pub struct Micro {
    pub key_decode: Result<Duration, String>,
    pub ffi_round_trip: Result<Duration, String>,
}

pub struct Machine {
    pub cpu: String,
    pub cores: usize,
    pub memory_gib: f64,
    pub kernel: String,
    pub date: String,
}

impl Machine {
    pub fn detect() -> Machine {
        let read = |p: &str| std::fs::read_to_string(p).unwrap_or_default();
        let cpu = read("/proc/cpuinfo")
            .lines()
            .find_map(|l| l.strip_prefix("model name"))
            .map(|l| l.trim_start_matches([' ', '\t', ':']).trim().to_string())
            .unwrap_or_else(|| "unknown CPU".into());
        let mem_kb: f64 = read("/proc/meminfo")
            .lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0.0);
        let date = msstore::Timestamp::now().to_iso();
        Machine {
            cpu,
            cores: std::thread::available_parallelism().map_or(0, |n| n.get()),
            memory_gib: mem_kb / 1024.0 / 1024.0,
            kernel: read("/proc/sys/kernel/osrelease").trim().to_string(),
            date: date.get(..10).unwrap_or(&date).to_string(),
        }
    }
}

pub struct Report {
    pub mode: &'static str,
    /// `--tls`: every connection pays a TLS handshake (HTTPS emulator, test certificate).
    pub tls: bool,
    pub machine: Machine,
    pub plan_text: String,
    pub cells: Vec<Cell>,
    pub in_flight: Vec<InFlight>,
    pub micro: Micro,
    pub total: Duration,
}

/// Throughput ratios are taken against these two reference variants.
const FLOOR: Variant = Variant::Floor;
const PER_REQUEST: Variant = Variant::PerRequest;
const C_ABI: [Variant; 2] = [Variant::CQueued, Variant::CImmediate];
const MSSTORE: [Variant; 3] = [Variant::CQueued, Variant::CImmediate, Variant::RustApi];
const RSS_LIMIT_MB: f64 = 30.0;
/// The emulator serves Entra on the same port as the Store; in production the token endpoint is
/// another host, so its connection is not one of the Store connections the target limits.
const ENTRA_CONNECTIONS: u64 = 1;
const KEY_DECODE_LIMIT_US: f64 = 2.0;
const FFI_LIMIT_US: f64 = 5.0;

/// One target's verdict.
pub struct Verdict {
    pub pass: Option<bool>,
    pub target: String,
    pub figure: String,
}

impl Verdict {
    fn label(&self) -> &'static str {
        match self.pass {
            Some(true) => "PASS",
            Some(false) => "MISS",
            None => "n/a",
        }
    }
}

impl Report {
    fn find(&self, v: Variant, w: Workload, c: usize) -> Option<&Summary> {
        self.cells
            .iter()
            .find(|x| x.variant == v && x.workload == w && x.concurrency == c)
            .and_then(|x| x.summary.as_ref())
    }

    fn warm_cells(&self) -> impl Iterator<Item = &Cell> {
        self.cells
            .iter()
            .filter(|c| c.workload != Workload::ColdStart)
    }

    pub fn verdicts(&self) -> Vec<Verdict> {
        let mut out = Vec::new();
        // 1. C ABI >= 0.9 x floor throughput, p99 <= 1.2 x floor's, at every concurrency.
        for v in C_ABI {
            let mut worst_tp: Option<(f64, String)> = None;
            let mut worst_p99: Option<(f64, String)> = None;
            for c in self.warm_cells().filter(|c| c.variant == v) {
                let (Some(s), Some(f)) = (&c.summary, self.find(FLOOR, c.workload, c.concurrency))
                else {
                    continue;
                };
                let where_ = format!("{} c={}", c.workload.name(), c.concurrency);
                let tp = s.throughput / f.throughput.max(1e-9);
                let p99 = s.p99_us / f.p99_us.max(1e-9);
                if worst_tp.as_ref().is_none_or(|(x, _)| tp < *x) {
                    worst_tp = Some((tp, where_.clone()));
                }
                if worst_p99.as_ref().is_none_or(|(x, _)| p99 > *x) {
                    worst_p99 = Some((p99, where_));
                }
            }
            out.push(match worst_tp {
                Some((r, at)) => Verdict {
                    pass: Some(r >= 0.9),
                    target: format!(
                        "{} throughput >= 0.9 x floor at every concurrency",
                        v.name()
                    ),
                    figure: format!("lowest {r:.2} x ({at})"),
                },
                None => Verdict {
                    pass: None,
                    target: format!("{} throughput vs floor", v.name()),
                    figure: "not measured".into(),
                },
            });
            out.push(match worst_p99 {
                Some((r, at)) => Verdict {
                    pass: Some(r <= 1.2),
                    target: format!("{} p99 <= 1.2 x floor's", v.name()),
                    figure: format!("highest {r:.2} x ({at})"),
                },
                None => Verdict {
                    pass: None,
                    target: format!("{} p99 vs floor", v.name()),
                    figure: "not measured".into(),
                },
            });
        }
        // 2. >= 5 x the per-request pattern's throughput at concurrency 256.
        for v in MSSTORE {
            let ratios: Vec<(f64, Workload)> = self
                .warm_cells()
                .filter(|c| c.variant == v && c.concurrency == 256)
                .filter_map(|c| {
                    let s = c.summary.as_ref()?;
                    let p = self
                        .find(PER_REQUEST, c.workload, 256)
                        .filter(|p| p.ops > 0)?;
                    Some((s.throughput / p.throughput.max(1e-9), c.workload))
                })
                .collect();
            let min = ratios.iter().cloned().min_by(|a, b| a.0.total_cmp(&b.0));
            out.push(Verdict {
                pass: min.map(|(r, _)| r >= 5.0),
                target: format!(
                    "{} >= 5 x per-request throughput at concurrency 256",
                    v.name()
                ),
                figure: match min {
                    Some((r, w)) => format!(
                        "lowest {r:.2} x ({}); all: {}",
                        w.name(),
                        ratios
                            .iter()
                            .map(|(r, w)| format!("{} {r:.2}", w.name()))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    None => "not measured".into(),
                },
            });
        }
        // 3. Exactly one token request at a cold start; connections never above concurrency.
        for v in MSSTORE {
            if let Some(c) = self
                .cells
                .iter()
                .find(|c| c.variant == v && c.workload == Workload::ColdStart)
            {
                out.push(Verdict {
                    pass: Some(c.summary.is_some() && c.token_requests == 1),
                    target: format!(
                        "{}: exactly 1 token request at a cold start of {} callers",
                        v.name(),
                        c.concurrency
                    ),
                    figure: format!(
                        "{} token requests, {} connections",
                        c.token_requests, c.connections
                    ),
                });
            }
            let over: Vec<String> = self
                .cells
                .iter()
                .filter(|c| {
                    c.variant == v && c.connections > c.concurrency as u64 + ENTRA_CONNECTIONS
                })
                .map(|c| {
                    format!(
                        "{} c={}: {}",
                        c.workload.name(),
                        c.concurrency,
                        c.connections
                    )
                })
                .collect();
            let measured = self.cells.iter().any(|c| c.variant == v);
            out.push(Verdict {
                pass: measured.then_some(over.is_empty()),
                target: format!(
                    "{}: connections opened never exceed the concurrency (+{ENTRA_CONNECTIONS} for Entra, another host in production)",
                    v.name()
                ),
                figure: if over.is_empty() {
                    let max = self.cells.iter().filter(|c| c.variant == v).map(|c| format!("{}/{}", c.connections, c.concurrency)).collect::<Vec<_>>();
                    format!("conns/concurrency per cell: {}", max.join(" "))
                } else {
                    format!("over: {}", over.join("; "))
                },
            });
        }
        // 4. Micro figures and RSS.
        let micro = |name: &str, r: &Result<Duration, String>, limit: f64| match r {
            Ok(d) => {
                let us = d.as_secs_f64() * 1e6;
                Verdict {
                    pass: Some(us < limit),
                    target: format!("{name} < {limit} us"),
                    figure: format!("{us:.3} us"),
                }
            }
            Err(e) => Verdict {
                pass: None,
                target: format!("{name} < {limit} us"),
                figure: format!("not measured: {e}"),
            },
        };
        out.push(micro(
            "key decode",
            &self.micro.key_decode,
            KEY_DECODE_LIMIT_US,
        ));
        out.push(micro(
            "FFI round trip (call + queued callback via poll)",
            &self.micro.ffi_round_trip,
            FFI_LIMIT_US,
        ));
        for f in &self.in_flight {
            let c = &f.cell;
            out.push(match &c.summary {
                Some(s) => {
                    let mb = s.rss_kb as f64 / 1024.0;
                    Verdict {
                        pass: Some(
                            mb < RSS_LIMIT_MB
                                && s.peak_in_flight.max(s.ops) >= c.concurrency as u64
                                && s.errors == 0,
                        ),
                        target: format!(
                            "{}: client RSS < {RSS_LIMIT_MB} MB with {} operations in flight",
                            f.variant.name(),
                            c.concurrency
                        ),
                        figure: format!(
                            "{mb:.1} MB peak; {} completed, {} errors{}",
                            s.ops,
                            s.errors,
                            if s.peak_in_flight > 0 {
                                format!(", {} pending at once", s.peak_in_flight)
                            } else {
                                String::new()
                            }
                        ),
                    }
                }
                None => Verdict {
                    pass: Some(false),
                    target: format!(
                        "{}: client RSS with {} operations in flight",
                        f.variant.name(),
                        c.concurrency
                    ),
                    figure: format!("failed: {}", c.error.as_deref().unwrap_or("?")),
                },
            });
        }
        out
    }

    pub fn targets_text(&self) -> String {
        let mut s = String::from("targets (issue 7):\n");
        for v in self.verdicts() {
            let _ = writeln!(s, "  {:<4} {}: {}", v.label(), v.target, v.figure);
        }
        s
    }

    fn markdown(&self) -> String {
        let m = &self.machine;
        let mut s = String::new();
        let title = if self.tls {
            "# msstore benchmark results over TLS (`--tls`)\n"
        } else {
            "# msstore benchmark results\n"
        };
        let _ = writeln!(s, "{title}");
        let _ = writeln!(
            s,
            "Generated by `cargo run --release --bin msstore-bench{}` ({} mode) on {}: {}, {} cores, {:.0} GiB, Linux {}. \
             Total run time {:.0} s. {}.\n",
            if self.tls { " -- --tls" } else { "" }, self.mode, m.date, m.cpu, m.cores, m.memory_gib, m.kernel, self.total.as_secs_f64(), self.plan_text
        );
        let transport = if self.tls {
            "HTTPS on loopback: TLS 1.3 with rustls/ring and the emulator's test certificate, which every \
             client trusts as an extra root, so every new connection pays a handshake as against the real service"
        } else {
            "plain HTTP on loopback"
        };
        let _ = writeln!(
            s,
            "Every client runs in its own process against the bundled emulator (in the benchmark's process, \
             one thread, {transport}). Tokens and connections are counted by the emulator; RSS is \
             the client process's peak (VmHWM). Latencies are per operation (a query500 operation is 4 pages).\n"
        );
        let _ = writeln!(s, "## Targets\n\n| | target | figure |\n|---|---|---|");
        for v in self.verdicts() {
            let _ = writeln!(s, "| {} | {} | {} |", v.label(), v.target, v.figure);
        }
        let _ = writeln!(s, "\n## Variants\n");
        for v in Variant::ALL {
            let _ = writeln!(s, "- `{}`: {}", v.name(), v.describe());
        }
        let workloads: Vec<Workload> = Workload::ALL
            .into_iter()
            .filter(|w| self.cells.iter().any(|c| c.workload == *w))
            .collect();
        for w in workloads {
            let _ = writeln!(s, "\n## {}: {}\n", w.name(), w.describe());
            let _ = writeln!(
                s,
                "| variant | concurrency | ops/s | p50 ms | p99 ms | p99.9 ms | token requests | connections | RSS MB | x floor | p99 / floor | x per-request | errors |\n\
                 |---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
            );
            for c in self.cells.iter().filter(|c| c.workload == w) {
                let Some(x) = &c.summary else {
                    let _ = writeln!(
                        s,
                        "| {} | {} | failed: {} |||||||||||",
                        c.variant.name(),
                        c.concurrency,
                        c.error.as_deref().unwrap_or("?").replace('|', "/")
                    );
                    continue;
                };
                let ratio = |other: Variant, f: fn(&Summary) -> f64| {
                    self.find(other, w, c.concurrency)
                        .filter(|o| o.ops > 0 && f(o) > 0.0)
                        .map(|o| format!("{:.2}", f(x) / f(o)))
                        .unwrap_or_else(|| "-".into())
                };
                let _ = writeln!(
                    s,
                    "| {} | {} | {:.0} | {:.3} | {:.3} | {:.3} | {} | {} | {:.1} | {} | {} | {} | {} |",
                    c.variant.name(),
                    c.concurrency,
                    x.throughput,
                    x.p50_us / 1000.0,
                    x.p99_us / 1000.0,
                    x.p999_us / 1000.0,
                    c.token_requests,
                    c.connections,
                    x.rss_kb as f64 / 1024.0,
                    ratio(FLOOR, |s| s.throughput),
                    ratio(FLOOR, |s| s.p99_us),
                    ratio(PER_REQUEST, |s| s.throughput),
                    if x.errors > 0 {
                        format!("{} ({})", x.errors, x.first_error.as_deref().unwrap_or("").replace('|', "/"))
                    } else {
                        "0".into()
                    }
                );
            }
        }
        if !self.in_flight.is_empty() {
            let _ = writeln!(s, "\n## Operations in flight\n\nA burst of v9 queries started at once while the emulator holds each for {} ms.\n", crate::runner::IN_FLIGHT_HOLD_MS);
            let _ = writeln!(s, "| variant | operations | completed | errors | peak RSS MB | wall s |\n|---|---:|---:|---:|---:|---:|");
            for f in &self.in_flight {
                match &f.cell.summary {
                    Some(x) => {
                        let _ = writeln!(
                            s,
                            "| {} | {} | {} | {} | {:.1} | {:.2} |",
                            f.variant.name(),
                            f.cell.concurrency,
                            x.ops,
                            x.errors,
                            x.rss_kb as f64 / 1024.0,
                            x.seconds
                        );
                    }
                    None => {
                        let _ = writeln!(
                            s,
                            "| {} | {} | failed: {} ||||",
                            f.variant.name(),
                            f.cell.concurrency,
                            f.cell.error.as_deref().unwrap_or("?")
                        );
                    }
                }
            }
        }
        let _ = writeln!(s, "\n## Micro-benchmarks (the benchmark's own loops; criterion: `cargo bench --bench micro`)\n");
        for (name, r) in [
            ("key decode", &self.micro.key_decode),
            ("FFI round trip", &self.micro.ffi_round_trip),
        ] {
            let _ = match r {
                Ok(d) => writeln!(s, "- {name}: {:.3} us", d.as_secs_f64() * 1e6),
                Err(e) => writeln!(s, "- {name}: not measured ({e})"),
            };
        }
        let _ = writeln!(
            s,
            "\n![throughput against concurrency]({})",
            file_names(self.tls).1
        );
        s
    }

    fn svg(&self) -> String {
        svg_chart(self)
    }
}

/// Colours per variant (colour-blind-safe palette).
pub(crate) fn colour(v: Variant) -> &'static str {
    match v {
        Variant::CQueued => "#0072B2",
        Variant::CImmediate => "#56B4E9",
        Variant::CInline => "#E69F00",
        Variant::RustApi => "#009E73",
        Variant::Floor => "#000000",
        Variant::PerRequest => "#D55E00",
        Variant::Curl => "#CC79A7",
    }
}

/// An SVG document of `w` x `h` on white, `title` on top (close it with `</svg>`).
pub(crate) fn svg_open(w: f64, h: f64, title: &str) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="11">"#
    );
    let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="10" y="18" font-size="14" font-weight="bold">{title}</text>"#
    );
    s
}

/// A panel's frame at `(left, top, width, height)` and `ticks + 1` grid lines from 0 to `max`,
/// each labelled by `label`.
pub(crate) fn panel_grid(
    s: &mut String,
    (left, top, pwid, phei): (f64, f64, f64, f64),
    max: f64,
    ticks: usize,
    label: impl Fn(f64) -> String,
) {
    let _ = writeln!(
        s,
        r##"<rect x="{left}" y="{top}" width="{pwid}" height="{phei}" fill="none" stroke="#888"/>"##
    );
    for k in 0..=ticks {
        let v = max * k as f64 / ticks as f64;
        let y = top + phei - v / max * phei;
        let _ = writeln!(
            s,
            r##"<line x1="{left}" y1="{y:.1}" x2="{}" y2="{y:.1}" stroke="#eee"/><text x="{}" y="{:.1}" text-anchor="end">{}</text>"##,
            left + pwid,
            left - 4.0,
            y + 4.0,
            label(v)
        );
    }
}

/// Small multiples: one panel per warm workload, throughput (linear) against concurrency (log).
fn svg_chart(r: &Report) -> String {
    let panels: Vec<Workload> = Workload::ALL
        .into_iter()
        .filter(|w| *w != Workload::ColdStart && r.cells.iter().any(|c| c.workload == *w))
        .collect();
    let levels: Vec<usize> = {
        let mut l: Vec<usize> = r.warm_cells().map(|c| c.concurrency).collect();
        l.sort_unstable();
        l.dedup();
        l
    };
    let (pw, ph, cols) = (420.0, 260.0, 2usize);
    let rows = panels.len().div_ceil(cols).max(1);
    let (w, h) = (pw * cols as f64 + 20.0, ph * rows as f64 + 90.0);
    let mut s = svg_open(
        w,
        h,
        &format!(
            "Throughput (ops/s) against concurrency, {} ({} cores)",
            r.machine.date, r.machine.cores
        ),
    );
    for (i, wl) in panels.iter().enumerate() {
        let (ox, oy) = (10.0 + pw * (i % cols) as f64, 30.0 + ph * (i / cols) as f64);
        let (left, top, pwid, phei) = (ox + 55.0, oy + 22.0, pw - 80.0, ph - 60.0);
        let max = r
            .cells
            .iter()
            .filter(|c| c.workload == *wl)
            .filter_map(|c| c.summary.as_ref().map(|s| s.throughput))
            .fold(0.0f64, f64::max)
            .max(1.0)
            * 1.1;
        let x_of = |c: usize| {
            let (lo, hi) = (
                (*levels.first().unwrap_or(&1) as f64).ln(),
                (*levels.last().unwrap_or(&1) as f64).ln(),
            );
            let t = if hi > lo {
                ((c as f64).ln() - lo) / (hi - lo)
            } else {
                0.5
            };
            left + t * pwid
        };
        let y_of = |v: f64| top + phei - v / max * phei;
        let _ = writeln!(
            s,
            r#"<text x="{ox}" y="{}" font-weight="bold">{}</text>"#,
            oy + 14.0,
            wl.name()
        );
        panel_grid(&mut s, (left, top, pwid, phei), max, 4, |v| {
            format!("{v:.0}")
        });
        for &c in &levels {
            let _ = writeln!(
                s,
                r#"<text x="{:.1}" y="{}" text-anchor="middle">{c}</text>"#,
                x_of(c),
                top + phei + 14.0
            );
        }
        for v in Variant::ALL {
            let pts: Vec<(f64, f64)> = levels
                .iter()
                .filter_map(|&c| r.find(v, *wl, c).map(|s| (x_of(c), y_of(s.throughput))))
                .collect();
            if pts.is_empty() {
                continue;
            }
            let path: Vec<String> = pts.iter().map(|(x, y)| format!("{x:.1},{y:.1}")).collect();
            let _ = writeln!(
                s,
                r#"<polyline points="{}" fill="none" stroke="{}" stroke-width="2"/>"#,
                path.join(" "),
                colour(v)
            );
            for (x, y) in pts {
                let _ = writeln!(
                    s,
                    r#"<circle cx="{x:.1}" cy="{y:.1}" r="3" fill="{}"/>"#,
                    colour(v)
                );
            }
        }
    }
    let ly = h - 40.0;
    for (i, v) in Variant::ALL.iter().enumerate() {
        let x = 10.0 + 140.0 * (i % 6) as f64;
        let _ = writeln!(
            s,
            r#"<line x1="{x}" y1="{ly}" x2="{}" y2="{ly}" stroke="{}" stroke-width="3"/><text x="{}" y="{}">{}</text>"#,
            x + 18.0,
            colour(*v),
            x + 22.0,
            ly + 4.0,
            v.name()
        );
    }
    let _ = writeln!(
        s,
        r##"<text x="10" y="{}" fill="#555">x: concurrent callers (log scale); y: successful operations per second</text>"##,
        h - 14.0
    );
    s.push_str("</svg>\n");
    s
}

/// The report's file names: TLS runs never overwrite the plain-HTTP results.
fn file_names(tls: bool) -> (&'static str, &'static str) {
    if tls {
        ("results-tls.md", "throughput-tls.svg")
    } else {
        ("results.md", "throughput.svg")
    }
}

/// Writes `results.md` and `throughput.svg` (`results-tls.md`, `throughput-tls.svg` for a TLS
/// run) into `dir`.
pub fn write(dir: &Path, r: &Report) -> Result<(PathBuf, PathBuf), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let (md_name, svg_name) = file_names(r.tls);
    let md = dir.join(md_name);
    let svg = dir.join(svg_name);
    std::fs::write(&md, r.markdown()).map_err(|e| format!("{}: {e}", md.display()))?;
    std::fs::write(&svg, r.svg()).map_err(|e| format!("{}: {e}", svg.display()))?;
    Ok((md, svg))
}
