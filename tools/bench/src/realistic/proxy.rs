//! The latency proxy (`msstore-bench proxy`): this kernel has no netem, so the round trip is
//! charged here. It listens on loopback in the client namespace (where the test certificate's
//! 127.0.0.1 is valid), charges one RTT per TCP connect (the SYN/SYN-ACK a real connect costs)
//! before it dials the server across the veth pair, then delays every chunk RTT/2 in each
//! direction. Chunks are queued with their due time, so delay never limits throughput.
//!
//! Timing: tokio's timer has a 1 ms tick and rounds every sleep up, which made chunks 1.2-5 ms
//! late. Deadlines are kept instead by one OS thread (`Clock`) that sleeps on a condvar to the
//! earliest due time and hands each chunk to its connection's writer task then. The futex wait
//! wakes up to the timer slack (50 us) plus a context switch late, which added 0.2-0.5 ms per
//! round trip at c=1-16, i.e. a slower network than the RTT asked for. So the clock sleeps to
//! 150 us before the deadline and yields-spins the rest, but only while at most 40 deadlines are
//! queued (c=16 keeps up to ~32: a chunk or two per caller): with more (c=256) the two cores
//! are busy with client and server, and it waits to the deadline itself. Deadlines due together are fired in one hold of the lock. A chunk is
//! never handed over before its due time. The proxy reports how late it wrote chunks, so the
//! report can tell the round trip the network really had.

use serde::{Deserialize, Serialize};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};

/// Chunks delivered and their total lateness past the due time, since the proxy started.
static CHUNKS: AtomicU64 = AtomicU64::new(0);
static LATE_US: AtomicU64 = AtomicU64::new(0);
/// The worst lateness of a chunk since the last counters line (reset when read).
static WORST_US: AtomicU64 = AtomicU64::new(0);

/// The proxy's counters (one JSON line per line read from stdin).
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct Lateness {
    pub chunks: u64,
    pub late_us: u64,
    /// Worst chunk since the previous line, us.
    #[serde(default)]
    pub worst_us: u64,
}

impl Lateness {
    /// Mean delay added past RTT/2 per chunk, ms (0 without chunks).
    pub fn mean_ms_since(&self, before: &Lateness) -> f64 {
        let n = self.chunks.saturating_sub(before.chunks);
        let us = self.late_us.saturating_sub(before.late_us);
        if n == 0 {
            0.0
        } else {
            us as f64 / n as f64 / 1000.0
        }
    }
}

/// What is due: a chunk (or, with `None`, the half-close) for a writer, or a connect's end.
enum Due {
    Chunk(
        mpsc::UnboundedSender<(Instant, Option<Vec<u8>>)>,
        Option<Vec<u8>>,
    ),
    Connect(oneshot::Sender<()>),
}

impl Due {
    fn fire(self, due: Instant) {
        match self {
            Due::Chunk(to, chunk) => {
                let _ = to.send((due, chunk));
            }
            Due::Connect(done) => {
                let _ = done.send(());
            }
        }
    }
}

/// One deadline in the queue; ordered by due time, then by arrival (FIFO among equals, so a
/// connection's chunks keep their order).
struct Entry {
    due: Instant,
    seq: u64,
    what: Due,
}

impl PartialEq for Entry {
    fn eq(&self, o: &Self) -> bool {
        (self.due, self.seq) == (o.due, o.seq)
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Entry {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        (self.due, self.seq).cmp(&(o.due, o.seq))
    }
}

/// How far before a deadline the clock stops sleeping and spins: above the futex wait's
/// timer slack (Linux default 50 us) plus a wake-up's context switch.
const SPIN_WINDOW: Duration = Duration::from_micros(150);
/// Spin only with at most this many deadlines queued (c=1 to c=16: up to ~32, a chunk or two
/// per caller; at 8 the c=16 cells got no spinning and each round trip came 0.4 ms late); more
/// means many connections share the 2 cores, where spinning would take CPU from the client and
/// the server.
const SPIN_MAX_PENDING: usize = 40;

#[derive(Default)]
struct Queue {
    heap: BinaryHeap<Reverse<Entry>>,
    seq: u64,
}

/// The deadline queue and the OS thread that fires it (see the module comment). `tokio`:
/// no queue, every wait is a tokio sleep (the proxy before issue 14's fix, `--timer tokio`,
/// kept to measure the difference in the same harness).
#[derive(Clone, Default)]
struct Clock {
    queue: Arc<(Mutex<Queue>, Condvar)>,
    tokio: bool,
}

impl Clock {
    fn start(tokio: bool) -> Clock {
        let clock = Clock {
            tokio,
            ..Clock::default()
        };
        let c = clock.clone();
        if !tokio {
            std::thread::Builder::new()
                .name("proxy-clock".into())
                .spawn(move || c.run())
                .expect("spawn the proxy's clock thread");
        }
        clock
    }

    fn at(&self, due: Instant, what: Due) {
        if self.tokio {
            // The writer sleeps to `due` itself.
            what.fire(due);
            return;
        }
        let (lock, cv) = &*self.queue;
        let mut q = lock.lock().unwrap_or_else(|p| p.into_inner());
        q.seq += 1;
        let seq = q.seq;
        let earliest = q.heap.peek().is_none_or(|Reverse(e)| due < e.due);
        q.heap.push(Reverse(Entry { due, seq, what }));
        drop(q);
        if earliest {
            cv.notify_one();
        }
    }

    fn run(&self) {
        let (lock, cv) = &*self.queue;
        let mut q = lock.lock().unwrap_or_else(|p| p.into_inner());
        let mut due_now = Vec::new();
        loop {
            let now = Instant::now();
            match q.heap.peek() {
                None => q = cv.wait(q).unwrap_or_else(|p| p.into_inner()),
                // Far off: sleep to a little before it (the futex wait wakes up to the timer
                // slack late), so the last stretch can be spun.
                Some(Reverse(e)) if e.due > now + SPIN_WINDOW => {
                    let wait = e.due - now - SPIN_WINDOW;
                    q = cv
                        .wait_timeout(q, wait)
                        .unwrap_or_else(|p| p.into_inner())
                        .0;
                }
                // Close, with few pending: spin to it outside the lock (yielding, so a
                // shared core still runs the others). Many pending (c=256) means the cores
                // are busy anyway: wait there instead of burning CPU.
                Some(Reverse(e)) if e.due > now && q.heap.len() <= SPIN_MAX_PENDING => {
                    let due = e.due;
                    drop(q);
                    while Instant::now() < due {
                        std::thread::yield_now();
                    }
                    q = lock.lock().unwrap_or_else(|p| p.into_inner());
                }
                Some(Reverse(e)) if e.due > now => {
                    let wait = e.due - now;
                    q = cv
                        .wait_timeout(q, wait)
                        .unwrap_or_else(|p| p.into_inner())
                        .0;
                }
                Some(_) => {
                    // Everything due by now goes in one hold of the lock (chunks due
                    // together are not fired one lock round trip apart).
                    while let Some(Reverse(e)) = q.heap.peek() {
                        if e.due > now {
                            break;
                        }
                        let Some(Reverse(e)) = q.heap.pop() else {
                            break;
                        };
                        due_now.push(e);
                    }
                    // Hand over outside the lock: a send wakes a tokio worker.
                    drop(q);
                    for e in due_now.drain(..) {
                        e.what.fire(e.due);
                    }
                    q = lock.lock().unwrap_or_else(|p| p.into_inner());
                }
            }
        }
    }

    /// Waits until `d` from now, to the clock's precision.
    async fn sleep(&self, d: Duration) {
        if self.tokio {
            return tokio::time::sleep(d).await;
        }
        let (tx, rx) = oneshot::channel();
        self.at(Instant::now() + d, Due::Connect(tx));
        let _ = rx.await;
    }
}

/// Relays one direction: reads chunks, and writes each one `half_rtt` after it was read.
async fn relay(mut from: OwnedReadHalf, mut to: OwnedWriteHalf, half_rtt: Duration, clock: Clock) {
    let (tx, mut rx) = mpsc::unbounded_channel::<(Instant, Option<Vec<u8>>)>();
    let writer = tokio::spawn(async move {
        while let Some((due, chunk)) = rx.recv().await {
            // Already due with the OS-thread clock; `--timer tokio` waits here.
            if Instant::now() < due {
                tokio::time::sleep_until(due.into()).await;
            }
            let Some(chunk) = chunk else {
                // The reader saw EOF: pass the half-close on, after the same delay.
                let _ = to.shutdown().await;
                return;
            };
            let late = Instant::now().saturating_duration_since(due).as_micros() as u64;
            CHUNKS.fetch_add(1, Ordering::Relaxed);
            LATE_US.fetch_add(late, Ordering::Relaxed);
            WORST_US.fetch_max(late, Ordering::Relaxed);
            if to.write_all(&chunk).await.is_err() {
                return;
            }
        }
    });
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let chunk = match from.read(&mut buf).await {
            Ok(0) | Err(_) => None,
            Ok(n) => Some(buf[..n].to_vec()),
        };
        let end = chunk.is_none();
        clock.at(Instant::now() + half_rtt, Due::Chunk(tx.clone(), chunk));
        if end {
            break;
        }
    }
    drop(tx);
    let _ = writer.await;
}

async fn connection(client: TcpStream, upstream: String, rtt: Duration, clock: Clock) {
    // The connect's round trip: nothing the client sent is read before it is over.
    clock.sleep(rtt).await;
    let Ok(server) = TcpStream::connect(&upstream).await else {
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (cr, cw) = client.into_split();
    let (sr, sw) = server.into_split();
    let half = rtt / 2;
    tokio::join!(
        relay(cr, sw, half, clock.clone()),
        relay(sr, cw, half, clock)
    );
}

/// `msstore-bench proxy --listen ADDR --upstream ADDR --rtt-ms N [--timer tokio]`: prints
/// `listening ADDR`, then one [`Lateness`] line per line read from stdin; relays until stdin
/// closes (the parent is gone).
pub fn serve(listen: &str, upstream: &str, rtt: Duration, tokio_timer: bool) -> Result<(), String> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("runtime: {e}"))?;
    let listener = rt
        .block_on(TcpListener::bind(listen))
        .map_err(|e| format!("bind {listen}: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let upstream = upstream.to_string();
    let clock = Clock::start(tokio_timer);
    rt.spawn(async move {
        loop {
            if let Ok((c, _)) = listener.accept().await {
                tokio::spawn(connection(c, upstream.clone(), rtt, clock.clone()));
            }
        }
    });
    println!("listening {addr}");
    let mut sink = String::new();
    while std::io::stdin()
        .read_line(&mut sink)
        .map(|n| n > 0)
        .unwrap_or(false)
    {
        sink.clear();
        let now = Lateness {
            chunks: CHUNKS.load(Ordering::Relaxed),
            late_us: LATE_US.load(Ordering::Relaxed),
            worst_us: WORST_US.swap(0, Ordering::Relaxed),
        };
        println!(
            "{}",
            serde_json::to_string(&now).map_err(|e| e.to_string())?
        );
    }
    rt.shutdown_background();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The clock fires deadlines in due order, never early.
    #[test]
    fn clock_fires_in_order_and_not_early() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let clock = Clock::start(false);
        let (tx, mut rx) = mpsc::unbounded_channel();
        let t0 = Instant::now();
        // Pushed out of order: 30 ms, 10 ms, 20 ms.
        for (ms, tag) in [(30u64, 3u8), (10, 1), (20, 2)] {
            clock.at(
                t0 + Duration::from_millis(ms),
                Due::Chunk(tx.clone(), Some(vec![tag])),
            );
        }
        let got: Vec<(Instant, u8)> = rt.block_on(async {
            let mut v = Vec::new();
            for _ in 0..3 {
                let (due, chunk) = rx.recv().await.unwrap();
                assert!(Instant::now() >= due, "fired before its due time");
                v.push((due, chunk.unwrap()[0]));
            }
            v
        });
        assert_eq!(got.iter().map(|g| g.1).collect::<Vec<_>>(), vec![1, 2, 3]);
        rt.block_on(clock.sleep(Duration::from_millis(5)));
        assert!(t0.elapsed() >= Duration::from_millis(30));
    }

    /// Deadlines inside the spin window (and a burst past the spin threshold) still fire in
    /// due order, FIFO among equal due times, and never early.
    #[test]
    fn close_and_crowded_deadlines_fire_in_order_and_not_early() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let clock = Clock::start(false);
        let (tx, mut rx) = mpsc::unbounded_channel();
        let t0 = Instant::now() + Duration::from_millis(2);
        let n = SPIN_MAX_PENDING as u64 * 3;
        // Reverse order of due time, two per due time (the pair must keep its order).
        for i in (0..n).rev() {
            let due = t0 + Duration::from_micros(20 * (i / 2));
            clock.at(due, Due::Chunk(tx.clone(), Some(vec![i as u8])));
        }
        let got: Vec<(Instant, u8)> = rt.block_on(async {
            let mut v = Vec::new();
            for _ in 0..n {
                let (due, chunk) = rx.recv().await.unwrap();
                assert!(Instant::now() >= due, "fired before its due time");
                v.push((due, chunk.unwrap()[0]));
            }
            v
        });
        assert!(got.windows(2).all(|w| w[0].0 <= w[1].0), "out of due order");
        // Within a due time the one pushed first (the higher tag) comes first.
        for pair in got.chunks(2) {
            assert_eq!(pair[0].0, pair[1].0);
            assert_eq!(
                pair[0].1,
                pair[1].1 + 1,
                "equal due times out of FIFO order"
            );
        }
    }
}
