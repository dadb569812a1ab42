//! `fork()` in a process with live clients. The child gets a copy of every object but only the
//! forking thread: an inherited client's runtime has no workers there, and its epoll instance is
//! the parent's own (one kernel object, shared), so a socket the child registered or
//! deregistered would change what the parent's IO driver dispatches (the parent crashed on the
//! child's events). So in the child every handle made before the fork answers
//! `MSSTORE_E_FORKED` and is never touched again: a free leaks it on purpose, since dropping a
//! runtime deregisters its sockets from that shared epoll. Handles made in the child work.
//!
//! Detected with `pthread_atfork` handlers, installed with the first handle or log callback
//! (https://man7.org/linux/man-pages/man3/pthread_atfork.3.html). Across the fork the forking
//! thread holds the library's process-wide locks (handle registry, log sink), so that the child
//! does not inherit one held by a thread that does not exist there
//! (https://man7.org/linux/man-pages/man2/fork.2.html, "only the calling thread is replicated").

use super::{handles, op_table};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// General handle ids below this were made before the last `fork()` into this process (0: none).
static INHERITED_BELOW: AtomicUsize = AtomicUsize::new(0);
/// The same for `op_table`'s handles, by their `seq`.
static OPS_INHERITED_BELOW: AtomicU64 = AtomicU64::new(0);

/// Whether the handle id was inherited from a parent process.
pub(crate) fn inherited(id: usize) -> bool {
    match op_table::seq_of(id) {
        Some(seq) => seq < OPS_INHERITED_BELOW.load(Ordering::Relaxed),
        None => id < INHERITED_BELOW.load(Ordering::Relaxed),
    }
}

/// Installs the fork handlers (once per process; cheap after the first call).
pub(crate) fn watch() {
    #[cfg(unix)]
    {
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| {
            // SAFETY: the handlers are `extern "C"` functions without arguments that neither
            // unwind nor return anything; pthread_atfork only stores their addresses.
            let _ = unsafe { libc::pthread_atfork(Some(prepare), Some(parent), Some(child)) };
        });
    }
}

#[cfg(unix)]
extern "C" fn prepare() {
    crate::log::before_fork();
    handles::before_fork();
}

#[cfg(unix)]
extern "C" fn parent() {
    handles::after_fork();
    crate::log::after_fork(false);
}

#[cfg(unix)]
extern "C" fn child() {
    INHERITED_BELOW.store(handles::next_id(), Ordering::Relaxed);
    OPS_INHERITED_BELOW.store(op_table::next_seq(), Ordering::Relaxed);
    handles::after_fork();
    crate::log::after_fork(true);
}
