//! IMMEDIATE delivery: the callbacks of completed operations run on the runtime's blocking
//! pool (a C callback may block without starving the async workers), drained in batches.
//!
//! A `spawn_blocking` per completion woke an idle pool thread for every operation: a futex
//! wake and a context switch on each side, ~50 us of client CPU per operation at 256 callers
//! on 2 cores (`msstore-bench wakeups`). Here a completion joins the client's ready queue; a
//! runner is started only when none runs, and it delivers what it finds until the queue is
//! empty, so under load one wake-up serves a whole batch.
//!
//! A callback that blocks must not hold back the others for long: a watchdog, armed while
//! completions wait, starts one more runner whenever no callback returned for `STALL`. So a
//! completion waits behind a blocked callback at most about twice `STALL`, and as many runners
//! run as there are callbacks blocked at once (as many pool threads as before, at worst).

use super::completion::lock;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;
use tokio::runtime::Handle;

/// How long the queue may wait with no callback returning before another runner starts.
const STALL: Duration = Duration::from_millis(5);

struct State<T> {
    ready: VecDeque<T>,
    /// Runners started on the blocking pool and not yet finished.
    runners: usize,
    /// Callbacks returned so far: the watchdog compares it between two looks.
    delivered: u64,
    /// A watchdog task is armed.
    watched: bool,
}

/// A client's IMMEDIATE completions waiting for a runner, delivered by `deliver`.
pub(crate) struct Lane<T> {
    st: Mutex<State<T>>,
    runtime: Handle,
    deliver: fn(T),
}

impl<T: Send + 'static> Lane<T> {
    pub(crate) fn new(runtime: Handle, deliver: fn(T)) -> Arc<Lane<T>> {
        Arc::new(Lane {
            st: Mutex::new(State {
                ready: VecDeque::new(),
                runners: 0,
                delivered: 0,
                watched: false,
            }),
            runtime,
            deliver,
        })
    }

    /// Queues a completion; starts a runner when none runs, else makes sure the watchdog is
    /// armed (the running ones may be inside a callback that blocks).
    pub(crate) fn push(self: &Arc<Self>, item: T) {
        let mut st = lock(&self.st);
        st.ready.push_back(item);
        if st.runners == 0 {
            st.runners = 1;
            drop(st);
            self.start_runner();
        } else if !st.watched {
            st.watched = true;
            let seen = st.delivered;
            drop(st);
            drop(self.runtime.spawn(watch(Arc::downgrade(self), seen)));
        }
    }

    /// Takes the oldest waiting completion (shutdown delivers them on its own thread).
    pub(crate) fn pop(&self) -> Option<T> {
        lock(&self.st).ready.pop_front()
    }

    fn start_runner(self: &Arc<Self>) {
        let lane = self.clone();
        drop(self.runtime.spawn_blocking(move || lane.run()));
    }

    /// A runner: delivers until the queue is empty, one lock per completion.
    fn run(&self) {
        let mut returned = false;
        loop {
            let item = {
                let mut st = lock(&self.st);
                if returned {
                    st.delivered += 1;
                }
                match st.ready.pop_front() {
                    Some(item) => item,
                    None => {
                        st.runners -= 1;
                        return;
                    }
                }
            };
            (self.deliver)(item);
            returned = true;
        }
    }
}

/// The watchdog: while completions wait, one more runner each time no callback returned for
/// `STALL` (`seen`: the count of returned callbacks at the last look).
async fn watch<T: Send + 'static>(lane: Weak<Lane<T>>, mut seen: u64) {
    loop {
        tokio::time::sleep(STALL).await;
        let Some(lane) = lane.upgrade() else { return };
        let mut st = lock(&lane.st);
        if st.ready.is_empty() {
            st.watched = false;
            return;
        }
        let stalled = st.delivered == seen;
        seen = st.delivered;
        if stalled {
            st.runners += 1;
            drop(st);
            lane.start_runner();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::mpsc;
    use std::sync::OnceLock;
    use std::time::Instant;

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime")
    }

    static COUNTS: OnceLock<Vec<AtomicUsize>> = OnceLock::new();

    fn count(i: usize) {
        COUNTS.get().expect("counts")[i].fetch_add(1, Ordering::SeqCst);
    }

    #[test]
    fn every_completion_is_delivered_exactly_once_from_many_threads() {
        const N: usize = 4000;
        let counts = COUNTS.get_or_init(|| (0..N).map(|_| AtomicUsize::new(0)).collect());
        let rt = runtime();
        let lane = Lane::new(rt.handle().clone(), count);
        let pushers: Vec<_> = (0..4)
            .map(|t| {
                let lane = lane.clone();
                std::thread::spawn(move || {
                    for i in (t..N).step_by(4) {
                        lane.push(i);
                    }
                })
            })
            .collect();
        for p in pushers {
            p.join().expect("pusher");
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        while counts.iter().any(|c| c.load(Ordering::SeqCst) == 0) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        let wrong: Vec<usize> = (0..N)
            .filter(|i| counts[*i].load(Ordering::SeqCst) != 1)
            .collect();
        assert!(wrong.is_empty(), "not delivered exactly once: {wrong:?}");
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(
            lock(&lane.st).runners,
            0,
            "the runners stop on an empty queue"
        );
    }

    /// A callback that blocks until a later callback ran: with one runner only this would
    /// never end; the watchdog starts another.
    #[test]
    fn a_blocked_callback_does_not_hold_back_the_next() {
        static GATE: OnceLock<Mutex<Option<mpsc::Receiver<()>>>> = OnceLock::new();
        static OPEN: OnceLock<mpsc::Sender<()>> = OnceLock::new();
        static DONE: OnceLock<mpsc::SyncSender<&'static str>> = OnceLock::new();
        let (open, gate) = mpsc::channel();
        let (done_tx, done) = mpsc::sync_channel(4);
        GATE.get_or_init(|| Mutex::new(Some(gate)));
        OPEN.get_or_init(|| open);
        DONE.get_or_init(|| done_tx);
        fn deliver(which: &'static str) {
            if which == "blocks" {
                let gate = lock(GATE.get().expect("gate")).take().expect("once");
                let opened = gate.recv_timeout(Duration::from_secs(10)).is_ok();
                let _ = DONE
                    .get()
                    .expect("done")
                    .send(if opened { "blocks" } else { "timed out" });
            } else {
                // Reported before the gate opens, so the order of the two reports is fixed.
                let _ = DONE.get().expect("done").send(which);
                let _ = OPEN.get().expect("open").send(());
            }
        }
        let rt = runtime();
        let lane = Lane::new(rt.handle().clone(), deliver);
        lane.push("blocks");
        std::thread::sleep(Duration::from_millis(20)); // the first runner is inside it
        lane.push("opens");
        let first = done.recv_timeout(Duration::from_secs(10));
        let second = done.recv_timeout(Duration::from_secs(10));
        assert_eq!((first, second), (Ok("opens"), Ok("blocks")));
    }
}
