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
use std::sync::{Arc, Mutex};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Most distinct origins given their own semaphore; any beyond share one (a client talks to
/// four or five hosts, so this only bounds memory against unexpected URLs).
const MAX_ORIGINS: usize = 64;

pub(crate) struct HostLimits {
    max: usize,
    /// Known origins (the configured base URLs), looked up without a lock.
    fixed: Vec<(String, Arc<Semaphore>)>,
    /// Origins met at run time (e.g. a clawback queue's SAS URL).
    others: Mutex<HashMap<String, Arc<Semaphore>>>,
    overflow: Arc<Semaphore>,
}

impl HostLimits {
    /// `max` concurrent requests per origin; `known` are URLs whose origins are set up ahead.
    pub fn new<'a>(max: usize, known: impl IntoIterator<Item = &'a str>) -> HostLimits {
        let mut fixed: Vec<(String, Arc<Semaphore>)> = Vec::new();
        for url in known {
            if let Some(o) = origin(url) {
                if !fixed.iter().any(|(k, _)| *k == o) {
                    fixed.push((o, Arc::new(Semaphore::new(max))));
                }
            }
        }
        HostLimits {
            max,
            fixed,
            others: Mutex::new(HashMap::new()),
            overflow: Arc::new(Semaphore::new(max)),
        }
    }

    /// Waits for a request slot to `url`'s origin. The slot is held until the permit drops.
    /// (`None` only if the semaphore were closed, which never happens: then the request is
    /// sent without a slot rather than failed.)
    pub async fn acquire(&self, url: &str) -> Option<OwnedSemaphorePermit> {
        self.semaphore(url).acquire_owned().await.ok()
    }

    fn semaphore(&self, url: &str) -> Arc<Semaphore> {
        let Some(o) = origin(url) else {
            return self.overflow.clone();
        };
        if let Some((_, s)) = self.fixed.iter().find(|(k, _)| *k == o) {
            return s.clone();
        }
        let mut others = self.others.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(s) = others.get(&o) {
            return s.clone();
        }
        if others.len() >= MAX_ORIGINS {
            return self.overflow.clone();
        }
        let s = Arc::new(Semaphore::new(self.max));
        others.insert(o, s.clone());
        s
    }

    /// Requests to `url`'s origin sent right now (for tests and diagnostics).
    #[cfg(test)]
    pub fn in_use(&self, url: &str) -> usize {
        self.max - self.semaphore(url).available_permits()
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
        let limits = HostLimits::new(2, ["http://127.0.0.1:1/login", "http://127.0.0.1:1/x"]);
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
}
