//! Latency recording and percentiles. Every operation's latency is kept (a cell lasts a couple
//! of seconds), so percentiles are exact rather than bucketed.

use serde::{Deserialize, Serialize};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Collects per-operation latencies and errors from any number of threads.
#[derive(Default)]
pub struct Recorder {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    latencies_ns: Vec<u64>,
    errors: u64,
    first_error: Option<String>,
}

impl Recorder {
    pub fn new() -> Recorder {
        Recorder::default()
    }

    pub fn ok(&self, started: Instant) {
        let ns = started.elapsed().as_nanos().min(u64::MAX as u128) as u64;
        self.lock().latencies_ns.push(ns);
    }

    pub fn error(&self, message: impl FnOnce() -> String) {
        let mut g = self.lock();
        g.errors += 1;
        if g.first_error.is_none() {
            g.first_error = Some(message());
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The summary of everything recorded, over `elapsed` of wall time.
    pub fn summary(&self, elapsed: Duration) -> Summary {
        let mut g = self.lock();
        let mut l = std::mem::take(&mut g.latencies_ns);
        l.sort_unstable();
        let pct = |p: f64| -> f64 {
            if l.is_empty() {
                return 0.0;
            }
            // Nearest-rank percentile (the epsilon keeps 0.999 * 1000 from rounding up to 1000).
            let rank = ((p / 100.0) * l.len() as f64 - 1e-9).ceil() as usize;
            l[rank.clamp(1, l.len()) - 1] as f64 / 1000.0
        };
        let secs = elapsed.as_secs_f64().max(1e-9);
        Summary {
            ops: l.len() as u64,
            errors: g.errors,
            first_error: g.first_error.clone(),
            seconds: secs,
            throughput: l.len() as f64 / secs,
            p50_us: pct(50.0),
            p99_us: pct(99.0),
            p999_us: pct(99.9),
            rss_kb: 0,
            peak_in_flight: 0,
            cpu_ms: 0.0,
            warmup_ms: 0.0,
            warmup_capped: false,
        }
    }
}

/// What a client process reports for one cell (one JSON line on stdout).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Summary {
    /// Successful operations in the timed window.
    pub ops: u64,
    pub errors: u64,
    pub first_error: Option<String>,
    pub seconds: f64,
    /// Successful operations per second.
    pub throughput: f64,
    pub p50_us: f64,
    pub p99_us: f64,
    pub p999_us: f64,
    /// Peak resident set of the client process (VmHWM), KiB.
    pub rss_kb: u64,
    /// Operations in flight at once, where the variant can tell (burst runs).
    #[serde(default)]
    pub peak_in_flight: u64,
    /// CPU time (user + system) of the client process during the measured window, ms.
    #[serde(default)]
    pub cpu_ms: f64,
    /// How long the warm-up lasted, ms, and whether it ran into its bound before the client
    /// was steady (see `load::WarmUp`).
    #[serde(default)]
    pub warmup_ms: f64,
    #[serde(default)]
    pub warmup_capped: bool,
}

impl Summary {
    /// Client CPU per successful operation, us.
    pub fn cpu_us_per_op(&self) -> f64 {
        self.cpu_ms * 1000.0 / (self.ops.max(1) as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let r = Recorder::new();
        {
            let mut g = r.lock();
            g.latencies_ns = (1..=1000).rev().map(|i| i * 1000).collect();
        }
        r.error(|| "boom".into());
        let s = r.summary(Duration::from_secs(2));
        assert_eq!(s.ops, 1000);
        assert_eq!(s.errors, 1);
        assert_eq!(s.p50_us, 500.0);
        assert_eq!(s.p99_us, 990.0);
        assert_eq!(s.p999_us, 999.0);
        assert_eq!(s.throughput, 500.0);
        assert_eq!(s.first_error.as_deref(), Some("boom"));
    }
}
