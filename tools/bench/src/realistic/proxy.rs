//! The latency proxy (`msstore-bench proxy`): this kernel has no netem, so the round trip is
//! charged here. It listens on loopback in the client namespace (where the test certificate's
//! 127.0.0.1 is valid), charges one RTT per TCP connect (the SYN/SYN-ACK a real connect costs)
//! before it dials the server across the veth pair, then delays every chunk RTT/2 in each
//! direction. Chunks are queued with their due time, so delay never limits throughput.
//!
//! Timing: tokio's timer has a 1 ms tick and rounds every sleep up, which made chunks 1.2-5 ms
//! late. Deadlines are kept instead by one OS thread (`Clock`) that sleeps on a condvar to the
//! earliest due time and writes each chunk to its socket itself then (see `Outlet`; handing it
//! to the connection's writer task cost a worker's wake-up, 0.11-0.24 ms a chunk). The futex wait
//! wakes up to the timer slack (50 us) plus a context switch late, which added 0.2-0.5 ms per
//! round trip at c=1-16, i.e. a slower network than the RTT asked for. So the clock sleeps to
//! 150 us before the deadline and spins the rest, but only while at most 40 deadlines are
//! queued (c=16 keeps up to ~32: a chunk or two per caller): with more (c=256) the two cores
//! are busy with client and server, and it waits to the deadline itself. Deadlines due
//! together are fired in one hold of the lock. A chunk is never written before its due time.
//! While few deadlines are queued, the clock thread also runs at real-time priority
//! (SCHED_FIFO 1, when the process may raise it; the benchmark runs as root): at normal
//! priority a client's or the server's thread woken on the same core ran first, and chunks
//! came 0.12-0.31 ms late on average at c=16 (0.03-0.04 ms at SCHED_FIFO); a network's delay
//! does not wait for the hosts' CPUs. With many queued (c=256) it goes back to normal
//! priority: there, at SCHED_FIFO, it woke for every chunk alone and preempted the client
//! each time, which took the proxy from 42-46% to 48-58% of a core, for lateness of 0.08-0.26
//! ms a chunk instead of 0.49-0.99 and no better p50 (the floor 23.3-26.3 ms against
//! 23.5-25.6).
//! The proxy reports how late it wrote chunks, so the report can tell the round trip the
//! network really had.

use serde::{Deserialize, Serialize};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
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
/// Whether the clock thread got real-time priority at its start.
static CLOCK_REALTIME: AtomicBool = AtomicBool::new(false);

/// The proxy's counters (one JSON line per line read from stdin).
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct Lateness {
    pub chunks: u64,
    pub late_us: u64,
    /// Worst chunk since the previous line, us.
    #[serde(default)]
    pub worst_us: u64,
    /// The proxy process's CPU time so far (user + system, every thread), ms.
    #[serde(default)]
    pub cpu_ms: f64,
    /// The clock thread may run at real-time priority (SCHED_FIFO; see [`Priority`]).
    #[serde(default)]
    pub clock_realtime: bool,
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

/// What is due: a chunk (or, with `None`, the half-close) for one direction of a connection,
/// or a connect's end.
enum Due {
    Chunk(Arc<Outlet>, Option<Vec<u8>>),
    Connect(oneshot::Sender<()>),
}

impl Due {
    fn fire(self, due: Instant) {
        match self {
            Due::Chunk(out, chunk) => out.deliver(due, chunk),
            Due::Connect(done) => {
                let _ = done.send(());
            }
        }
    }
}

/// Counts a chunk written `late` past its due time.
fn count_lateness(due: Instant) {
    let late = Instant::now().saturating_duration_since(due).as_micros() as u64;
    CHUNKS.fetch_add(1, Ordering::Relaxed);
    LATE_US.fetch_add(late, Ordering::Relaxed);
    WORST_US.fetch_max(late, Ordering::Relaxed);
}

/// One direction's way out. The clock thread writes a due chunk straight to the socket (a
/// clone of its descriptor, non-blocking): handing it to the writer task cost a tokio worker's
/// wake-up, 0.11-0.24 ms per chunk at c=1-16, so the network's round trip was that much longer
/// than the RTT asked for. What the socket does not take at once (its send buffer full) goes
/// to the writer task, and so does every later chunk until the task has written them all, so
/// the bytes keep their order.
struct Outlet {
    direct: Mutex<Direct>,
    writer: mpsc::UnboundedSender<Handed>,
    /// `--proxy-timer tokio`: every chunk goes to the writer task, which sleeps to its due time.
    via_writer_only: bool,
}

/// A chunk (or the half-close) handed to the writer task, with its due time.
type Handed = (Instant, Option<Vec<u8>>, Counted);

/// Whether a chunk handed to the writer task still has its lateness to be counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Counted {
    Already,
    ByWriter,
}

struct Direct {
    socket: std::net::TcpStream,
    /// Chunks (or the half-close) handed to the writer task and not yet written by it.
    queued: usize,
}

impl Outlet {
    /// Called by the clock at `due` (or at once, with the tokio timer).
    fn deliver(&self, due: Instant, chunk: Option<Vec<u8>>) {
        let mut d = self.direct.lock().unwrap_or_else(|p| p.into_inner());
        if self.via_writer_only || d.queued > 0 {
            return self.hand_over(&mut d, due, chunk, Counted::ByWriter);
        }
        let Some(chunk) = chunk else {
            let _ = d.socket.shutdown(std::net::Shutdown::Write);
            // The writer task ends on it (its own half-close repeats this one).
            return self.hand_over(&mut d, due, None, Counted::Already);
        };
        count_lateness(due);
        let mut at = 0;
        while at < chunk.len() {
            match std::io::Write::write(&mut d.socket, &chunk[at..]) {
                Ok(0) => return,
                Ok(n) => at += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    // The rest waits for the socket in the writer task (already counted).
                    let rest = Some(chunk[at..].to_vec());
                    return self.hand_over(&mut d, due, rest, Counted::Already);
                }
                Err(_) => return, // the peer is gone; the reader sees it too
            }
        }
    }

    fn hand_over(&self, d: &mut Direct, due: Instant, chunk: Option<Vec<u8>>, c: Counted) {
        if self.writer.send((due, chunk, c)).is_ok() {
            d.queued += 1;
        }
    }

    /// The writer task wrote one chunk handed to it.
    fn written(&self) {
        let mut d = self.direct.lock().unwrap_or_else(|p| p.into_inner());
        d.queued = d.queued.saturating_sub(1);
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
    /// `realtime`: try to run the clock thread at SCHED_FIFO (see the module comment).
    fn start(tokio: bool, realtime: bool) -> Clock {
        let clock = Clock {
            tokio,
            ..Clock::default()
        };
        let c = clock.clone();
        if !tokio {
            let (raised, got) = std::sync::mpsc::channel();
            std::thread::Builder::new()
                .name("proxy-clock".into())
                .spawn(move || {
                    let rt = realtime && set_realtime(true);
                    let _ = raised.send(rt);
                    c.run(Priority {
                        allowed: rt,
                        realtime: rt,
                    })
                })
                .expect("spawn the proxy's clock thread");
            // Known before the proxy says it listens, so its first counters line tells.
            CLOCK_REALTIME.store(got.recv().unwrap_or(false), Ordering::Relaxed);
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

    fn run(&self, mut priority: Priority) {
        let (lock, cv) = &*self.queue;
        let mut q = lock.lock().unwrap_or_else(|p| p.into_inner());
        let mut due_now = Vec::new();
        loop {
            priority.follow(q.heap.len());
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
                // Close, with few pending: spin to it outside the lock, without yielding (a
                // yield let other threads run first: chunks came 0.14-0.17 ms late on average
                // at c=16, 0.04-0.06 ms without). Few pending means the cores are mostly idle; many
                // (c=256) that they are busy: wait there instead of burning CPU.
                Some(Reverse(e)) if e.due > now && q.heap.len() <= SPIN_MAX_PENDING => {
                    let due = e.due;
                    drop(q);
                    while Instant::now() < due {
                        std::hint::spin_loop();
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
                    // Written outside the lock: `at` is not held up by the system calls.
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

/// The clock thread's scheduling (see the module comment): real-time while at most
/// `SPIN_MAX_PENDING` deadlines are queued, normal once more than twice that are (the gap
/// keeps a queue hovering at the line from switching at every chunk).
struct Priority {
    /// The process may raise it (and did, at the start).
    allowed: bool,
    realtime: bool,
}

impl Priority {
    fn follow(&mut self, pending: usize) {
        let want = if self.realtime {
            pending <= 2 * SPIN_MAX_PENDING
        } else {
            pending <= SPIN_MAX_PENDING
        };
        // A syscall only when it changes: rare (a cell's start or end).
        if self.allowed && want != self.realtime {
            // A refusal leaves the thread where it is, and stops further tries.
            if set_realtime(want) {
                self.realtime = want;
            } else {
                self.allowed = false;
            }
        }
    }
}

/// Scheduling of the calling thread: SCHED_FIFO 1 (the lowest real-time priority), or back
/// to SCHED_OTHER at nice 0. False when refused (not root, no CAP_SYS_NICE, no RT budget).
fn set_realtime(on: bool) -> bool {
    use thread_priority::{set_thread_priority_and_policy, thread_native_id};
    let (priority, policy) = if on { realtime() } else { normal() };
    set_thread_priority_and_policy(thread_native_id(), priority, policy).is_ok()
}

fn realtime() -> (
    thread_priority::ThreadPriority,
    thread_priority::ThreadSchedulePolicy,
) {
    use thread_priority::{RealtimeThreadSchedulePolicy, ThreadPriority, ThreadSchedulePolicy};
    (
        ThreadPriority::Min,
        ThreadSchedulePolicy::Realtime(RealtimeThreadSchedulePolicy::Fifo),
    )
}

/// SCHED_OTHER at nice 0: the crate maps its 0..=99 scale onto nice 19..=-20, and 48 is 0
/// (pinned by a test).
fn normal() -> (
    thread_priority::ThreadPriority,
    thread_priority::ThreadSchedulePolicy,
) {
    use thread_priority::{
        NormalThreadSchedulePolicy, ThreadPriority, ThreadPriorityValue, ThreadSchedulePolicy,
    };
    let nice_0 = ThreadPriorityValue::try_from(48u8).unwrap_or_default();
    (
        ThreadPriority::Crossplatform(nice_0),
        ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Other),
    )
}

/// Relays one direction: reads chunks, and has each one written `half_rtt` after it was read
/// (by the clock, see `Outlet`). `to_direct` is a clone of `to`'s socket.
async fn relay(
    mut from: OwnedReadHalf,
    mut to: OwnedWriteHalf,
    to_direct: std::net::TcpStream,
    half_rtt: Duration,
    clock: Clock,
) {
    let (tx, mut rx) = mpsc::unbounded_channel::<Handed>();
    let outlet = Arc::new(Outlet {
        direct: Mutex::new(Direct {
            socket: to_direct,
            queued: 0,
        }),
        writer: tx,
        via_writer_only: clock.tokio,
    });
    let out = outlet.clone();
    let writer = tokio::spawn(async move {
        while let Some((due, chunk, counted)) = rx.recv().await {
            // Only `--timer tokio` waits here; the clock hands over what is due already.
            if Instant::now() < due {
                tokio::time::sleep_until(due.into()).await;
            }
            let Some(chunk) = chunk else {
                // The reader saw EOF: pass the half-close on, after the same delay.
                let _ = to.shutdown().await;
                return;
            };
            if counted == Counted::ByWriter {
                count_lateness(due);
            }
            if to.write_all(&chunk).await.is_err() {
                return;
            }
            out.written();
        }
    });
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let chunk = match from.read(&mut buf).await {
            Ok(0) | Err(_) => None,
            Ok(n) => Some(buf[..n].to_vec()),
        };
        let end = chunk.is_none();
        clock.at(Instant::now() + half_rtt, Due::Chunk(outlet.clone(), chunk));
        if end {
            break;
        }
    }
    drop(outlet);
    let _ = writer.await;
}

/// `s` and a clone of its descriptor for the clock thread's writes (both non-blocking).
fn with_clone(s: TcpStream) -> std::io::Result<(TcpStream, std::net::TcpStream)> {
    let s = s.into_std()?;
    let clone = s.try_clone()?;
    Ok((TcpStream::from_std(s)?, clone))
}

async fn connection(client: TcpStream, upstream: String, rtt: Duration, clock: Clock) {
    // The connect's round trip: nothing the client sent is read before it is over.
    clock.sleep(rtt).await;
    let Ok(server) = TcpStream::connect(&upstream).await else {
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (Ok((client, client_direct)), Ok((server, server_direct))) =
        (with_clone(client), with_clone(server))
    else {
        return;
    };
    let (cr, cw) = client.into_split();
    let (sr, sw) = server.into_split();
    let half = rtt / 2;
    tokio::join!(
        relay(cr, sw, server_direct, half, clock.clone()),
        relay(sr, cw, client_direct, half, clock)
    );
}

/// `msstore-bench proxy --listen ADDR --upstream ADDR --rtt-ms N [--timer tokio]
/// [--priority normal]`: prints `listening ADDR`, then one [`Lateness`] line per line read
/// from stdin; relays until stdin closes (the parent is gone).
pub fn serve(
    listen: &str,
    upstream: &str,
    rtt: Duration,
    tokio_timer: bool,
    realtime: bool,
) -> Result<(), String> {
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
    let clock = Clock::start(tokio_timer, realtime);
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
            cpu_ms: super::cpu::process_cpu_ms(),
            clock_realtime: CLOCK_REALTIME.load(Ordering::Relaxed),
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

    /// An outlet whose chunks all go to the returned channel (as with `--timer tokio`), on a
    /// socket of a loopback pair nothing is written to.
    fn channel_outlet() -> (
        Arc<Outlet>,
        mpsc::UnboundedReceiver<Handed>,
        std::net::TcpStream,
    ) {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let a = std::net::TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let (b, _) = l.accept().unwrap();
        let (tx, rx) = mpsc::unbounded_channel();
        let out = Outlet {
            direct: Mutex::new(Direct {
                socket: a,
                queued: 0,
            }),
            writer: tx,
            via_writer_only: true,
        };
        (Arc::new(out), rx, b)
    }

    /// Back to normal priority is nice 0, not the crate's lowest (nice 19).
    #[test]
    fn normal_priority_is_nice_0() {
        let (priority, policy) = normal();
        assert_eq!(priority.to_posix(policy).unwrap(), 0);
        let (priority, policy) = realtime();
        assert_eq!(priority.to_posix(policy).unwrap(), 1);
    }

    /// Real-time while few deadlines are queued, normal past twice the line, real-time again
    /// at the line (read back from the kernel); where raising is refused (not root), it
    /// stays normal and is not tried again.
    #[test]
    fn priority_follows_the_queue_with_a_gap() {
        use thread_priority::{thread_schedule_policy, ThreadSchedulePolicy};
        std::thread::spawn(|| {
            let is_fifo = || {
                matches!(
                    thread_schedule_policy().unwrap(),
                    ThreadSchedulePolicy::Realtime(_)
                )
            };
            let rt = set_realtime(true);
            let mut p = Priority {
                allowed: rt,
                realtime: rt,
            };
            if !rt {
                p.follow(0);
                assert!(!p.realtime && !is_fifo());
                return;
            }
            assert!(is_fifo());
            for (pending, want) in [
                (2 * SPIN_MAX_PENDING, true),
                (2 * SPIN_MAX_PENDING + 1, false),
                (SPIN_MAX_PENDING + 1, false),
                (SPIN_MAX_PENDING, true),
                (0, true),
            ] {
                p.follow(pending);
                assert_eq!((p.realtime, is_fifo()), (want, want), "{pending} pending");
            }
        })
        .join()
        .unwrap();
    }

    /// The clock fires deadlines in due order, never early.
    #[test]
    fn clock_fires_in_order_and_not_early() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let clock = Clock::start(false, false);
        let (tx, mut rx, _peer) = channel_outlet();
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
                let (due, chunk, _) = rx.recv().await.unwrap();
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
        let clock = Clock::start(false, false);
        let (tx, mut rx, _peer) = channel_outlet();
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
                let (due, chunk, _) = rx.recv().await.unwrap();
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

    /// Through the proxy, 8 MiB each way (many times a send buffer's worth; whether a direct
    /// write falls back to the writer task here depends on the reader's pace, so the fallback
    /// itself is the next test's) arrive whole and in order, no earlier than the delay; the
    /// half-close passes on and both relays end.
    #[test]
    fn relays_8_mib_whole_and_in_order_and_passes_the_half_close_on() {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let upstream = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let up_addr = upstream.local_addr().unwrap().to_string();
            let front = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let front_addr = front.local_addr().unwrap();
            let clock = Clock::start(false, false);
            let rtt = Duration::from_millis(10);
            let proxy = tokio::spawn(async move {
                let (c, _) = front.accept().await.unwrap();
                connection(c, up_addr, rtt, clock).await;
            });
            // The server echoes everything back, then closes its side after the client's EOF.
            let server = tokio::spawn(async move {
                let (mut s, _) = upstream.accept().await.unwrap();
                let mut got = Vec::new();
                s.read_to_end(&mut got).await.unwrap();
                s.write_all(&got).await.unwrap();
                s.shutdown().await.unwrap();
                got.len()
            });
            let t0 = Instant::now();
            let mut c = TcpStream::connect(front_addr).await.unwrap();
            let sent: Vec<u8> = (0..8 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
            let (mut r, mut w) = c.split();
            let send = async {
                w.write_all(&sent).await.unwrap();
                w.shutdown().await.unwrap();
            };
            let mut back = Vec::new();
            let recv = r.read_to_end(&mut back);
            let ((), n) = tokio::join!(send, recv);
            n.unwrap();
            assert_eq!(server.await.unwrap(), sent.len());
            assert!(back == sent, "bytes changed or reordered by the proxy");
            // A connect's RTT, then half an RTT each way at the least.
            assert!(t0.elapsed() >= rtt * 2);
            tokio::time::timeout(Duration::from_secs(10), proxy)
                .await
                .expect("the relays end after both half-closes")
                .unwrap();
        });
    }

    /// A chunk the socket cannot take whole goes to the writer task from where the socket
    /// stopped, and so does every later chunk, in order; what was written and what was handed
    /// over add up to the bytes delivered.
    #[test]
    fn a_full_send_buffer_hands_the_rest_and_what_follows_to_the_writer_in_order() {
        let (out, mut rx, mut peer) = channel_outlet();
        let mut out = Arc::into_inner(out).unwrap();
        out.via_writer_only = false;
        out.direct
            .get_mut()
            .unwrap()
            .socket
            .set_nonblocking(true)
            .unwrap();
        let chunks: Vec<Vec<u8>> = (0..64u32)
            .map(|c| {
                (0..64 * 1024u32)
                    .map(|i| ((c * 7 + i) % 253) as u8)
                    .collect()
            })
            .collect();
        let due = Instant::now();
        for c in &chunks {
            out.deliver(due, Some(c.clone()));
        }
        out.deliver(due, None);
        let queued = out.direct.lock().unwrap().queued;
        assert!(
            queued >= 2,
            "the peer never read, so the send buffer filled"
        );
        // What the socket took, then what the writer task would write, in order.
        drop(out);
        let mut got = Vec::new();
        std::io::Read::read_to_end(&mut peer, &mut got).unwrap_or(0);
        let direct = got.len();
        let mut ended = false;
        let mut first = true;
        while let Ok((_, chunk, counted)) = rx.try_recv() {
            // The rest of the chunk the clock began counted then; the later ones by the writer.
            let want = if first {
                Counted::Already
            } else {
                Counted::ByWriter
            };
            assert_eq!(counted, want);
            first = false;
            match chunk {
                Some(c) => got.extend_from_slice(&c),
                None => ended = true,
            }
        }
        assert!(ended, "the half-close follows the data");
        assert!(direct > 0 && direct < 64 * 64 * 1024);
        assert!(got == chunks.concat(), "bytes lost or reordered");
    }
}
