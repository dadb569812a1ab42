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
pub fn set_sink(sink: Option<Sink>, max_level: Level) {
    if let Ok(mut l) = LOGGER.write() {
        l.sink = sink;
        l.max_level = max_level;
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
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            sink(level, target, message)
        }));
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
