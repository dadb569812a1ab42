//! A minimal log facade: the library reports what it does to one process-wide sink, which the C
//! ABI points at the engine's logger (UE_LOG, Debug.Log). Messages never contain secrets.

use once_cell::sync::Lazy;
use std::sync::{Arc, RwLock};

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

struct Logger {
    sink: Option<Sink>,
    max_level: Level,
}

static LOGGER: Lazy<RwLock<Logger>> = Lazy::new(|| {
    RwLock::new(Logger {
        sink: None,
        max_level: Level::Info,
    })
});

/// Installs (or with `None` removes) the log sink and the most verbose level it receives.
/// Returns once no other thread is still calling the sink it replaced, so that a host may unload
/// the code behind the old callback (Unity's domain reload) as soon as this returns. A call from
/// inside a sink does not wait (it would wait for itself); nor does a sink that runs longer than
/// `SINK_DRAIN_LIMIT`, so that a callback blocked on the caller cannot hang it.
pub fn set_sink(sink: Option<Sink>, max_level: Level) {
    let old = match LOGGER.write() {
        Ok(mut l) => {
            l.max_level = max_level;
            std::mem::replace(&mut l.sink, sink)
        }
        Err(_) => return,
    };
    if let Some(old) = old {
        if IN_SINK.with(|d| d.get()) == 0 {
            drain(&old);
        }
    }
}

const SINK_DRAIN_LIMIT: std::time::Duration = std::time::Duration::from_secs(5);

thread_local! {
    /// How many sink calls this thread is inside (a callback that logs or resets the sink).
    static IN_SINK: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// Waits until `old` is held by nobody else: every delivery holds a clone while it calls.
fn drain(old: &Sink) {
    let until = std::time::Instant::now() + SINK_DRAIN_LIMIT;
    while Arc::strong_count(old) > 1 && std::time::Instant::now() < until {
        std::thread::sleep(std::time::Duration::from_millis(1));
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
    let sink = match LOGGER.read() {
        Ok(l) if level <= l.max_level => l.sink.clone(),
        _ => None,
    };
    if let Some(sink) = sink {
        IN_SINK.with(|d| d.set(d.get() + 1));
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            sink(level, target, message)
        }));
        IN_SINK.with(|d| d.set(d.get() - 1));
    }
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
