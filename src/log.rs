//! A minimal log facade: the library reports what it does to one process-wide sink, which the C
//! ABI points at the engine's logger (UE_LOG, Debug.Log). Messages never contain secrets.

use once_cell::sync::Lazy;
use std::cell::RefCell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock, RwLockWriteGuard};
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub enum Level {
    Error = 1,
    Warn = 2,
    Info = 3,
    Debug = 4,
    Trace = 5,
}

type Sink = Arc<dyn Fn(Level, &str, &str) + Send + Sync>;

/// An installed sink and how many calls of it are in progress, so that replacing it can wait
/// for them (a count rather than the `Arc`'s: a forked child resets it, see [`after_fork`]).
struct Installed {
    sink: Sink,
    running: AtomicUsize,
}

struct Logger {
    sink: Option<Arc<Installed>>,
    max_level: Level,
}

static LOGGER: Lazy<RwLock<Logger>> = Lazy::new(|| {
    RwLock::new(Logger {
        sink: None,
        max_level: Level::Info,
    })
});

thread_local! {
    /// The sinks this thread is calling, innermost last (a callback that logs or resets the
    /// sink): a reset from inside a sink cannot wait for its own thread's calls.
    static CALLING: RefCell<Vec<usize>> = const { RefCell::new(Vec::new()) };
}

fn key(i: &Arc<Installed>) -> usize {
    Arc::as_ptr(i) as usize
}

/// How many calls of `i` are on this thread's stack.
fn own_calls(i: &Arc<Installed>) -> usize {
    let k = key(i);
    CALLING.with(|c| c.borrow().iter().filter(|x| **x == k).count())
}

/// Installs (or with `None` removes) the log sink and the most verbose level it receives.
/// Returns once no other thread is still calling the sink it replaced, however long that takes,
/// so that the host may free what the old callback uses (its user_data) or unload the code
/// behind it (Unity's domain reload) as soon as this returns. Called from inside a sink, it does
/// not wait for this thread's own calls (it cannot): those return after it.
pub fn set_sink(sink: Option<Sink>, max_level: Level) {
    let new = sink.map(|sink| {
        Arc::new(Installed {
            sink,
            running: AtomicUsize::new(0),
        })
    });
    let old = match LOGGER.write() {
        Ok(mut l) => {
            l.max_level = max_level;
            std::mem::replace(&mut l.sink, new)
        }
        Err(_) => return,
    };
    if let Some(old) = old {
        drain(&old);
    }
}

/// Waits until every call of `old` on other threads has returned. Calls start only under the
/// read lock and `old` is no longer installed, so the count only falls from here.
fn drain(old: &Arc<Installed>) {
    let mine = own_calls(old);
    let mut spins = 0u32;
    while old.running.load(Ordering::SeqCst) > mine {
        // Calls normally last microseconds: yield first, then sleep so as not to burn a core.
        if spins < 100 {
            std::thread::yield_now();
            spins += 1;
        } else {
            std::thread::sleep(Duration::from_micros(200));
        }
    }
}

pub fn enabled(level: Level) -> bool {
    LOGGER
        .read()
        .map(|l| l.sink.is_some() && level <= l.max_level)
        .unwrap_or(false)
}

/// Sends one record to the sink. A panicking sink is contained here so that it cannot unwind
/// through a network task.
pub fn emit(level: Level, target: &str, message: &str) {
    let installed = match LOGGER.read() {
        // Counted under the lock, so that a `set_sink` that swaps it out next sees this call.
        Ok(l) if level <= l.max_level => l.sink.as_ref().map(|i| {
            i.running.fetch_add(1, Ordering::SeqCst);
            i.clone()
        }),
        _ => None,
    };
    if let Some(i) = installed {
        CALLING.with(|c| c.borrow_mut().push(key(&i)));
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            (i.sink)(level, target, message)
        }));
        CALLING.with(|c| {
            c.borrow_mut().pop();
        });
        i.running.fetch_sub(1, Ordering::SeqCst);
    }
}

thread_local! {
    /// The logger's write lock, held by the forking thread across `fork()`.
    static FORK_HOLD: RefCell<Option<RwLockWriteGuard<'static, Logger>>> =
        const { RefCell::new(None) };
}

/// Before `fork()`: takes the logger's lock, so that the child does not inherit it held by a
/// thread that does not exist there.
pub(crate) fn before_fork() {
    let g = LOGGER.write().unwrap_or_else(|p| p.into_inner());
    FORK_HOLD.with(|h| *h.borrow_mut() = Some(g));
}

/// After `fork()`, in the parent and (`child`) in the child. The child has only the forking
/// thread: calls of the sink that other threads were making never return there, so its count
/// keeps only this thread's own, and removing the sink in the child does not wait for ghosts.
pub(crate) fn after_fork(child: bool) {
    FORK_HOLD.with(|h| {
        let mut g = h.borrow_mut().take();
        if let (true, Some(l)) = (child, g.as_mut()) {
            if let Some(i) = &l.sink {
                i.running.store(own_calls(i), Ordering::SeqCst);
            }
        }
        drop(g);
    });
}

macro_rules! log_at {
    ($level:expr, $target:expr, $($arg:tt)*) => {
        if $crate::log::enabled($level) {
            $crate::log::emit($level, $target, &format!($($arg)*));
        }
    };
}
pub(crate) use log_at;

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    // The sink is process-wide: records of other tests may arrive too, hence a count of calls in
    // progress rather than a flag.
    #[test]
    fn removing_the_sink_waits_for_calls_in_progress_on_other_threads() {
        static INSIDE: AtomicUsize = AtomicUsize::new(0);
        static ENTERED: AtomicUsize = AtomicUsize::new(0);
        set_sink(
            Some(Arc::new(|_, _: &str, _: &str| {
                INSIDE.fetch_add(1, Ordering::SeqCst);
                ENTERED.fetch_add(1, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(200));
                INSIDE.fetch_sub(1, Ordering::SeqCst);
            })),
            Level::Trace,
        );
        let t = std::thread::spawn(|| emit(Level::Error, "msstore::test", "slow record"));
        while ENTERED.load(Ordering::SeqCst) == 0 {
            std::thread::sleep(Duration::from_millis(1));
        }
        set_sink(None, Level::Error);
        assert_eq!(INSIDE.load(Ordering::SeqCst), 0, "the old sink still runs");
        t.join().unwrap();
    }
}
