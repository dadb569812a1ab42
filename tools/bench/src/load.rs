//! The closed-loop load shape shared by every variant: `concurrency` callers, each starting its
//! next operation as soon as the previous one completes. A warm-up period (connections and the
//! token get established) is run but not recorded; operations that complete inside the
//! measured window count (whenever they started: at high concurrency one operation can take
//! longer than the window).

use crate::stats::{Recorder, Summary};
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// When a cell's warm-up ends and its measured window ends.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub measure_from: Instant,
    pub end: Instant,
}

impl Window {
    pub fn starting_now(warmup: Duration, measure: Duration) -> Window {
        let now = Instant::now();
        Window {
            measure_from: now + warmup,
            end: now + warmup + measure,
        }
    }

    pub fn measured(&self) -> Duration {
        self.end - self.measure_from
    }

    /// Whether an operation completing now is counted.
    pub fn counts_now(&self) -> bool {
        let now = Instant::now();
        now >= self.measure_from && now <= self.end
    }
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
        .map(|_| {
            let (rec, op, counter) = (rec.clone(), op.clone(), counter.clone());
            rt.spawn(async move {
                while Instant::now() < window.end {
                    let n = counter.fetch_add(1, Ordering::Relaxed);
                    let started = Instant::now();
                    let r = op(n).await;
                    match r {
                        Ok(()) if window.counts_now() => rec.ok(started),
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
