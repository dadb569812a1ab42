//! The closed-loop load shape shared by every variant: `concurrency` callers, each starting its
//! next operation as soon as the previous one completes. A warm-up (connections and the token
//! get established) is run but not recorded: fixed, or (realistic mode) until the client is in
//! steady state, see [`WarmUp`]; operations that complete inside the measured window count
//! (whenever they started: at high concurrency one operation can take longer than the window).

use crate::stats::{Recorder, Summary};
use std::future::Future;
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Operations every caller completes before the measured window may open.
pub const WARM_OPS: u32 = 2;

/// When the warm-up ends: after `min`, once every caller completed [`WARM_OPS`] operations
/// and no TCP connection opened for `quiet` (`None`: connections not watched), and at the
/// latest after `max`. `min == max` is a fixed warm-up.
#[derive(Debug, Clone, Copy)]
pub struct WarmUp {
    pub min: Duration,
    pub max: Duration,
    pub quiet: Option<Duration>,
    /// The callers' first operations start spread evenly over this (zero: all at once). Started
    /// together, callers with the same round trip stay in step: every round trip the client
    /// gets all their replies at once and works through them one after another, so the p50
    /// measured how fast it drains a burst of `c`, not an operation's latency. Spread over one
    /// RTT they arrive as independent callers do.
    pub spread: Duration,
}

impl WarmUp {
    pub fn fixed(d: Duration) -> WarmUp {
        WarmUp {
            min: d,
            max: d,
            quiet: None,
            spread: Duration::ZERO,
        }
    }
}

/// A cell's measured window: opened by a watcher thread when the warm-up is over (see
/// [`WarmUp`]), then `measure` long. Cheap to clone (one shared state).
#[derive(Debug, Clone)]
pub struct Window(Arc<State>);

#[derive(Debug)]
struct State {
    base: Instant,
    measure: Duration,
    spread: Duration,
    /// When the window opened, ns since `base`; `u64::MAX` while warming up.
    from_ns: AtomicU64,
    /// Whether the warm-up ran into its `max` before the caller/connection conditions held.
    capped: AtomicU32,
    /// Completions per caller slot, counted up to `WARM_OPS`.
    per_caller: Vec<AtomicU32>,
    /// Callers that reached `WARM_OPS` completions.
    warm_callers: AtomicUsize,
}

impl Window {
    /// Starts the warm-up of `callers` callers now; a thread opens the window when it is over.
    pub fn start(callers: usize, warm: WarmUp, measure: Duration) -> Window {
        let w = Window(Arc::new(State {
            base: Instant::now(),
            measure,
            spread: warm.spread,
            from_ns: AtomicU64::new(u64::MAX),
            capped: AtomicU32::new(0),
            per_caller: (0..callers).map(|_| AtomicU32::new(0)).collect(),
            warm_callers: AtomicUsize::new(0),
        }));
        let watcher = w.clone();
        std::thread::spawn(move || watcher.watch(warm));
        w
    }

    /// The watcher: polls the conditions every millisecond until the window opens.
    fn watch(&self, warm: WarmUp) {
        let s = &*self.0;
        let mut opens = tcp_active_opens();
        let mut quiet_since = Instant::now();
        loop {
            let now = Instant::now();
            let elapsed = now - s.base;
            let o = tcp_active_opens();
            if o != opens {
                opens = o;
                quiet_since = now;
            }
            let callers_warm = s.warm_callers.load(Ordering::Relaxed) >= s.per_caller.len();
            let quiet = warm.quiet.is_none_or(|q| now - quiet_since >= q);
            let steady = elapsed >= warm.min && callers_warm && quiet;
            if steady || elapsed >= warm.max {
                if !steady && warm.max > warm.min {
                    s.capped.store(1, Ordering::Relaxed);
                }
                s.from_ns
                    .store(elapsed.as_nanos() as u64, Ordering::Release);
                return;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// The warm-up's length once the window is open.
    pub fn warmup(&self) -> Option<Duration> {
        match self.0.from_ns.load(Ordering::Acquire) {
            u64::MAX => None,
            ns => Some(Duration::from_nanos(ns)),
        }
    }

    /// Whether the warm-up ran into its bound (callers or connections never settled).
    pub fn capped(&self) -> bool {
        self.0.capped.load(Ordering::Relaxed) != 0
    }

    /// Blocks until the window opens.
    pub fn wait_open(&self) -> Duration {
        loop {
            if let Some(w) = self.warmup() {
                return w;
            }
            std::thread::sleep(Duration::from_micros(500));
        }
    }

    /// How long after the start caller `caller` starts its first operation (see
    /// [`WarmUp::spread`]).
    pub fn first_start(&self, caller: usize) -> Duration {
        self.0.spread * caller as u32 / self.0.per_caller.len().max(1) as u32
    }

    /// When caller `caller` starts its first operation: both drivers (the closed loop's tasks
    /// and the C ABI's starting thread) wait for the same instants.
    pub fn first_start_at(&self, caller: usize) -> Instant {
        self.0.base + self.first_start(caller)
    }

    /// Sleeps this thread until caller `caller`'s first start.
    pub fn wait_first_start(&self, caller: usize) {
        let wait = self
            .first_start_at(caller)
            .saturating_duration_since(Instant::now());
        if !wait.is_zero() {
            std::thread::sleep(wait);
        }
    }

    pub fn measured(&self) -> Duration {
        self.0.measure
    }

    /// Whether the window has closed (callers stop starting operations).
    pub fn over(&self) -> bool {
        self.warmup()
            .is_some_and(|w| self.0.base.elapsed() > w + self.0.measure)
    }

    /// Caller `caller` completed an operation now: counts it for the warm-up and says whether
    /// it falls in the measured window.
    pub fn record(&self, caller: usize) -> bool {
        let s = &*self.0;
        if let Some(c) = s.per_caller.get(caller) {
            if c.load(Ordering::Relaxed) < WARM_OPS
                && c.fetch_add(1, Ordering::Relaxed) + 1 == WARM_OPS
            {
                s.warm_callers.fetch_add(1, Ordering::Relaxed);
            }
        }
        match self.warmup() {
            None => false,
            Some(w) => s.base.elapsed() <= w + s.measure,
        }
    }
}

/// TCP connections this network namespace has opened (`ActiveOpens` of `/proc/net/snmp`, per
/// namespace: in the realistic mode's client namespace only the client and the proxy dial).
/// 0 where it cannot be read.
pub fn tcp_active_opens() -> u64 {
    std::fs::read_to_string("/proc/net/snmp")
        .ok()
        .and_then(|s| parse_active_opens(&s))
        .unwrap_or(0)
}

fn parse_active_opens(snmp: &str) -> Option<u64> {
    let mut tcp = snmp.lines().filter(|l| l.starts_with("Tcp:"));
    let (names, values) = (tcp.next()?, tcp.next()?);
    let i = names.split_whitespace().position(|n| n == "ActiveOpens")?;
    values.split_whitespace().nth(i)?.parse().ok()
}

/// Runs the closed loop on `rt` and blocks the calling thread until every caller stopped.
/// `op(n)` performs operation number `n` and says what went wrong, if anything.
pub fn closed_loop<F, Fut>(
    rt: &tokio::runtime::Handle,
    concurrency: usize,
    window: Window,
    op: F,
) -> Summary
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), String>> + Send + 'static,
{
    let rec = Arc::new(Recorder::new());
    let op = Arc::new(op);
    let counter = Arc::new(AtomicU64::new(0));
    let tasks: Vec<_> = (0..concurrency)
        .map(|caller| {
            let (rec, op, counter) = (rec.clone(), op.clone(), counter.clone());
            let window = window.clone();
            rt.spawn(async move {
                let first = window.first_start_at(caller);
                if first > Instant::now() {
                    tokio::time::sleep_until(first.into()).await;
                }
                while !window.over() {
                    let n = counter.fetch_add(1, Ordering::Relaxed);
                    let started = Instant::now();
                    let r = op(n).await;
                    match r {
                        Ok(()) if window.record(caller) => rec.ok(started),
                        Ok(()) => {}
                        Err(e) => rec.error(|| e),
                    }
                }
            })
        })
        .collect();
    rt.block_on(async {
        for t in tasks {
            let _ = t.await;
        }
    });
    rec.summary(window.measured())
}

/// Starts `callers` operations at once (a cold start) and waits for all of them. Every
/// operation is recorded; the elapsed time runs from the first start to the last completion.
pub fn burst<F, Fut>(rt: &tokio::runtime::Handle, callers: usize, op: F) -> Summary
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), String>> + Send + 'static,
{
    let rec = Arc::new(Recorder::new());
    let op = Arc::new(op);
    let t0 = Instant::now();
    let tasks: Vec<_> = (0..callers as u64)
        .map(|n| {
            let (rec, op) = (rec.clone(), op.clone());
            rt.spawn(async move {
                match op(n).await {
                    Ok(()) => rec.ok(t0),
                    Err(e) => rec.error(|| e),
                }
            })
        })
        .collect();
    rt.block_on(async {
        for t in tasks {
            let _ = t.await;
        }
    });
    rec.summary(t0.elapsed())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_active_opens_from_snmp() {
        let snmp = "Ip: Forwarding DefaultTTL\nIp: 1 64\nTcp: RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens PassiveOpens\nTcp: 1 200 120000 -1 42 7\n";
        assert_eq!(parse_active_opens(snmp), Some(42));
        assert_eq!(parse_active_opens("Ip: a\nIp: 1\n"), None);
    }

    /// The window opens only once every caller completed `WARM_OPS` operations (after `min`),
    /// and at `max` when they never do.
    #[test]
    fn steady_warm_up_waits_for_every_caller() {
        let warm = WarmUp {
            min: Duration::from_millis(5),
            max: Duration::from_secs(30),
            quiet: None,
            spread: Duration::ZERO,
        };
        let w = Window::start(2, warm, Duration::from_secs(1));
        for _ in 0..WARM_OPS {
            assert!(!w.record(0));
        }
        std::thread::sleep(Duration::from_millis(30));
        assert!(w.warmup().is_none(), "caller 1 has not completed anything");
        assert!(!w.record(1));
        assert!(!w.record(1));
        let took = w.wait_open();
        assert!(took >= Duration::from_millis(30) && took < Duration::from_secs(30));
        assert!(!w.capped());
        assert!(w.record(0), "a completion right after opening counts");

        let capped = Window::start(
            1,
            WarmUp {
                max: Duration::from_millis(20),
                ..warm
            },
            Duration::from_millis(1),
        );
        assert!(capped.wait_open() >= Duration::from_millis(20));
        assert!(capped.capped());
        std::thread::sleep(Duration::from_millis(5));
        assert!(capped.over());
    }

    /// Callers' first starts are spread evenly over `spread`, the first at once.
    #[test]
    fn first_starts_spread_evenly() {
        let warm = WarmUp {
            spread: Duration::from_millis(20),
            ..WarmUp::fixed(Duration::from_millis(1))
        };
        let w = Window::start(4, warm, Duration::from_millis(1));
        let got: Vec<u128> = (0..4).map(|c| w.first_start(c).as_millis()).collect();
        assert_eq!(got, vec![0, 5, 10, 15]);
        let together = Window::start(4, WarmUp::fixed(Duration::from_millis(1)), Duration::ZERO);
        assert!((0..4).all(|c| together.first_start(c).is_zero()));
    }
}
