//! A cap on concurrent requests per origin (scheme, host, port).
//!
//! reqwest/hyper's pool has no per-host connection limit: a request that finds no idle
//! connection opens a new one. With thousands of operations in flight that is thousands of
//! sockets, each with hyper's buffers and a connection task (about 40 KB apiece). Gating each
//! attempt on a per-origin semaphore keeps at most `max` requests (so about `max` connections)
//! per host; the operations beyond it wait in the semaphore's FIFO queue, costing only their
//! own future.
//!
//! Timeouts: the wait is not counted against `request_timeout`, which limits one attempt at the
//! service once it is sent (otherwise a burst would fail with timeouts the service never
//! caused). The caller's own deadline (the C ABI's `timeout_ms`, or dropping the future) does
//! cover the wait: the acquire is cancel-safe, a dropped waiter simply leaves the queue.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Most distinct origins given their own window; any beyond share one (a client talks to
/// four or five hosts, so this only bounds memory against unexpected URLs).
const MAX_ORIGINS: usize = 64;

/// One origin's window: how many requests may be in flight to it now (`size`, between
/// `initial` and `max`), as permits of `sem`.
///
/// Slow start, as TCP does for packets: the window opens at `initial` and grows by one each
/// time a request gets an answer showing the host copes (`observe`) while other requests are
/// waiting for a slot, so under demand it doubles every round trip up to `max`. Without
/// demand it does not grow, so a client opens about as many connections as its callers keep
/// busy, and a host that stops answering (every request held) gets no more than the window
/// it had: with 10,000 operations waiting on a stalled host, `initial` connections instead of
/// `max` (each ~40 KB of hyper's buffers and a socket; issue 14's memory benchmark).
/// Throttling (429) or overload (503) halves the window, not below `initial`; the permits are
/// taken back as requests finish (`debt`), since a running request cannot be recalled.
struct Window {
    sem: Arc<Semaphore>,
    initial: usize,
    max: usize,
    /// Permits that exist (held or free), i.e. the window before `debt` is paid.
    size: AtomicUsize,
    /// Permits to retire as they are released (a shrink not yet carried out).
    debt: AtomicUsize,
    /// Requests waiting for a permit right now.
    waiting: AtomicUsize,
}

impl Window {
    fn new(initial: usize, max: usize) -> Arc<Window> {
        let initial = initial.clamp(1, max.max(1));
        Arc::new(Window {
            sem: Arc::new(Semaphore::new(initial)),
            initial,
            max: max.max(initial),
            size: AtomicUsize::new(initial),
            debt: AtomicUsize::new(0),
            waiting: AtomicUsize::new(0),
        })
    }

    /// The window in effect: permits that exist minus those about to be retired.
    fn effective(&self) -> usize {
        self.size
            .load(Ordering::Acquire)
            .saturating_sub(self.debt.load(Ordering::Acquire))
    }

    fn grow(&self) {
        // A pending shrink is cancelled first: one fewer permit to retire.
        let cancelled = self
            .debt
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |d| d.checked_sub(1));
        if cancelled.is_ok() {
            return;
        }
        let grown = self
            .size
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |s| {
                (s < self.max).then_some(s + 1)
            });
        if grown.is_ok() {
            self.sem.add_permits(1);
        }
    }

    /// Once per shrink: throttling answers that arrive before the last halving is carried out
    /// (requests already in flight when the host began to refuse) do not halve it again, as
    /// TCP reduces once per window of losses.
    fn halve(&self) {
        if self.debt.load(Ordering::Acquire) > 0 {
            return;
        }
        let effective = self.effective();
        let target = (effective / 2).max(self.initial);
        if target < effective {
            self.debt.fetch_add(effective - target, Ordering::AcqRel);
        }
    }

    /// Whether a released permit is retired (paying one unit of `debt`) instead of returned.
    fn retire_one(&self) -> bool {
        let paid = self
            .debt
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |d| d.checked_sub(1))
            .is_ok();
        if paid {
            self.size.fetch_sub(1, Ordering::AcqRel);
        }
        paid
    }
}

/// A request slot to one origin, held until dropped.
pub(crate) struct Permit {
    permit: Option<OwnedSemaphorePermit>,
    window: Arc<Window>,
}

impl Permit {
    /// What the request that held this slot got back: an HTTP status, or `None` when no
    /// response came (a transport error or timeout says nothing about the host's capacity, so
    /// it neither grows nor shrinks the window).
    pub fn observe(&self, status: Option<u16>) {
        let w = &self.window;
        match status {
            Some(429 | 503) => w.halve(),
            // The host copes; grow only if someone waits (no demand, no new connection).
            Some(s) if s < 500 && w.waiting.load(Ordering::Acquire) > 0 => w.grow(),
            _ => {}
        }
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        if let Some(p) = self.permit.take() {
            if self.window.retire_one() {
                p.forget();
            }
        }
    }
}

/// Counts a waiter for as long as it waits (also when its future is dropped mid-wait).
struct Waiting<'a>(&'a AtomicUsize);

impl<'a> Waiting<'a> {
    fn new(n: &'a AtomicUsize) -> Self {
        n.fetch_add(1, Ordering::AcqRel);
        Waiting(n)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

pub(crate) struct HostLimits {
    initial: usize,
    max: usize,
    /// Known origins (the configured base URLs), looked up without a lock.
    fixed: Vec<(String, Arc<Window>)>,
    /// Origins met at run time (e.g. a clawback queue's SAS URL).
    others: Mutex<HashMap<String, Arc<Window>>>,
    overflow: Arc<Window>,
}

impl HostLimits {
    /// Windows opening at `initial` and growing to at most `max` concurrent requests per
    /// origin; `known` are URLs whose origins are set up ahead.
    pub fn new<'a>(
        initial: usize,
        max: usize,
        known: impl IntoIterator<Item = &'a str>,
    ) -> HostLimits {
        let mut fixed: Vec<(String, Arc<Window>)> = Vec::new();
        for url in known {
            if let Some(o) = origin(url) {
                if !fixed.iter().any(|(k, _)| *k == o) {
                    fixed.push((o, Window::new(initial, max)));
                }
            }
        }
        HostLimits {
            initial,
            max,
            fixed,
            others: Mutex::new(HashMap::new()),
            overflow: Window::new(initial, max),
        }
    }

    /// Waits for a request slot to `url`'s origin. The slot is held until the permit drops.
    /// (`None` only if the semaphore were closed, which never happens: then the request is
    /// sent without a slot rather than failed.)
    pub async fn acquire(&self, url: &str) -> Option<Permit> {
        let window = self.window(url);
        let permit = match window.sem.clone().try_acquire_owned() {
            Ok(p) => p,
            Err(_) => {
                let _waiting = Waiting::new(&window.waiting);
                window.sem.clone().acquire_owned().await.ok()?
            }
        };
        Some(Permit {
            permit: Some(permit),
            window,
        })
    }

    fn window(&self, url: &str) -> Arc<Window> {
        let Some(o) = origin(url) else {
            return self.overflow.clone();
        };
        if let Some((_, w)) = self.fixed.iter().find(|(k, _)| *k == o) {
            return w.clone();
        }
        let mut others = self.others.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(w) = others.get(&o) {
            return w.clone();
        }
        if others.len() >= MAX_ORIGINS {
            return self.overflow.clone();
        }
        let w = Window::new(self.initial, self.max);
        others.insert(o, w.clone());
        w
    }

    /// Requests to `url`'s origin sent right now (for tests and diagnostics).
    #[cfg(test)]
    pub fn in_use(&self, url: &str) -> usize {
        let w = self.window(url);
        w.size.load(Ordering::Acquire) - w.sem.available_permits()
    }

    /// The window of `url`'s origin in effect now (for tests and diagnostics).
    #[cfg(test)]
    pub fn window_size(&self, url: &str) -> usize {
        self.window(url).effective()
    }
}

/// `scheme://host[:port]`, lower-cased; `None` when `url` has no `://`.
fn origin(url: &str) -> Option<String> {
    let scheme_end = url.find("://")?;
    let rest = &url[scheme_end + 3..];
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let mut o = url[..scheme_end + 3 + end].to_ascii_lowercase();
    // Default ports name the same origin as no port.
    for default in ["http://", "https://"] {
        let port = if default == "http://" { ":80" } else { ":443" };
        if o.starts_with(default) && o.ends_with(port) {
            o.truncate(o.len() - port.len());
        }
    }
    Some(o)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn origins() {
        assert_eq!(
            origin("https://Collections.mp.microsoft.com/v9.0/x?y").as_deref(),
            Some("https://collections.mp.microsoft.com")
        );
        assert_eq!(
            origin("https://purchase.mp.microsoft.com:443").as_deref(),
            Some("https://purchase.mp.microsoft.com")
        );
        assert_eq!(
            origin("http://127.0.0.1:8080/login/t").as_deref(),
            Some("http://127.0.0.1:8080")
        );
        assert_eq!(origin("no-scheme"), None);
    }

    #[tokio::test]
    async fn caps_per_origin_and_queues_the_rest() {
        let limits = HostLimits::new(2, 2, ["http://127.0.0.1:1/login", "http://127.0.0.1:1/x"]);
        assert_eq!(limits.fixed.len(), 1, "same origin, one semaphore");
        let a = limits.acquire("http://127.0.0.1:1/a").await;
        let _b = limits.acquire("http://127.0.0.1:1/b").await;
        assert_eq!(limits.in_use("http://127.0.0.1:1/"), 2);
        // A third request to the same origin waits...
        let third = tokio::time::timeout(
            Duration::from_millis(50),
            limits.acquire("http://127.0.0.1:1/c"),
        )
        .await;
        assert!(third.is_err(), "the third request must queue");
        // ...but another origin does not.
        let _other = limits.acquire("https://example.test/q").await;
        assert_eq!(limits.in_use("https://example.test/"), 1);
        // Releasing one slot lets the next waiter through; the cancelled waiter left no trace.
        drop(a);
        let _c = tokio::time::timeout(
            Duration::from_secs(5),
            limits.acquire("http://127.0.0.1:1/c"),
        )
        .await
        .expect("a freed slot is handed on");
        assert_eq!(limits.in_use("http://127.0.0.1:1/"), 2);
    }

    const URL: &str = "http://127.0.0.1:1/q";

    /// A task waiting for a slot of `URL`, and a way to see whether it got one.
    fn waiter(limits: &Arc<HostLimits>) -> tokio::task::JoinHandle<Permit> {
        let l = limits.clone();
        tokio::spawn(async move { l.acquire(URL).await.expect("not closed") })
    }

    /// Lets spawned waiters run until `n` requests wait (bounded: fails instead of hanging).
    async fn until_waiting(limits: &HostLimits, n: usize) {
        for _ in 0..1000 {
            if limits.window(URL).waiting.load(Ordering::Acquire) == n {
                return;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        panic!("{n} waiters never queued");
    }

    #[tokio::test]
    async fn the_window_opens_small_and_grows_only_while_callers_wait() {
        let limits = Arc::new(HostLimits::new(2, 8, [URL]));
        let a = limits.acquire(URL).await.unwrap();
        let _b = limits.acquire(URL).await.unwrap();
        assert_eq!(limits.window_size(URL), 2);
        // Answers with nobody waiting: no growth (connections follow demand).
        a.observe(Some(200));
        a.observe(Some(404));
        assert_eq!(limits.window_size(URL), 2);
        // A waiter, then an answer: the window grows by one and the waiter gets the slot.
        let w = waiter(&limits);
        until_waiting(&limits, 1).await;
        a.observe(Some(200));
        assert_eq!(limits.window_size(URL), 3);
        let _c = tokio::time::timeout(Duration::from_secs(5), w)
            .await
            .expect("the grown window admits the waiter")
            .unwrap();
        assert_eq!(limits.in_use(URL), 3);
    }

    #[tokio::test]
    async fn no_growth_without_an_answer_or_on_5xx_and_never_past_the_cap() {
        let limits = Arc::new(HostLimits::new(1, 4, [URL]));
        let a = limits.acquire(URL).await.unwrap();
        let waiters: Vec<_> = (0..6).map(|_| waiter(&limits)).collect();
        until_waiting(&limits, 6).await;
        for status in [None, Some(500), Some(502), Some(504)] {
            a.observe(status);
        }
        assert_eq!(limits.window_size(URL), 1, "no answer or a 5xx: no growth");
        for _ in 0..20 {
            a.observe(Some(200));
        }
        assert_eq!(
            limits.window_size(URL),
            4,
            "grows to the cap and stops there"
        );
        // Three waiters got the three new slots; three still wait.
        until_waiting(&limits, 3).await;
        assert_eq!(limits.in_use(URL), 4);
        drop(a);
        for w in waiters {
            w.abort();
        }
    }

    #[tokio::test]
    async fn throttling_halves_the_window_as_requests_finish_not_below_the_start() {
        let limits = Arc::new(HostLimits::new(2, 8, [URL]));
        let mut held = vec![limits.acquire(URL).await.unwrap()];
        held.push(limits.acquire(URL).await.unwrap());
        // Grow to 8 under demand.
        for _ in 0..6 {
            let w = waiter(&limits);
            until_waiting(&limits, 1).await;
            held[0].observe(Some(200));
            held.push(w.await.unwrap());
        }
        assert_eq!(limits.window_size(URL), 8);
        assert_eq!(limits.in_use(URL), 8);
        // A 429: the window is 4 at once; the running requests keep their slots, and the
        // permits they release are retired until only 4 exist.
        held[0].observe(Some(429));
        assert_eq!(limits.window_size(URL), 4);
        held[1].observe(Some(429));
        assert_eq!(
            limits.window_size(URL),
            4,
            "one halving per shrink, not per answer"
        );
        held.truncate(2);
        assert_eq!(limits.in_use(URL), 2);
        let _c = limits.acquire(URL).await.unwrap();
        let d = limits.acquire(URL).await.unwrap();
        let fifth = tokio::time::timeout(Duration::from_millis(50), limits.acquire(URL)).await;
        assert!(fifth.is_err(), "the halved window holds 4");
        // Once that shrink is carried out, a 503 halves again, not below the starting window.
        held[0].observe(Some(503));
        assert_eq!(limits.window_size(URL), 2);
        drop(d);
        held[0].observe(Some(503));
        assert_eq!(limits.window_size(URL), 2, "never below the start");
        // An answer while someone waits first cancels a pending shrink.
        let w = waiter(&limits);
        until_waiting(&limits, 1).await;
        held[0].observe(Some(200));
        assert_eq!(limits.window_size(URL), 3);
        w.abort();
    }

    #[tokio::test]
    async fn a_start_above_the_cap_is_the_cap() {
        let limits = HostLimits::new(100, 3, [URL]);
        assert_eq!(limits.window_size(URL), 3);
        let waited = HostLimits::new(0, 3, [URL]);
        assert_eq!(waited.window_size(URL), 1, "at least one");
    }
}
