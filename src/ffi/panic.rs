//! The panic boundary. Since Rust 1.81 a panic unwinding out of an `extern "C"` function aborts
//! the process; a game server must never die because of us, so every export runs its body
//! through one of these and a panic becomes `MSSTORE_E_PANIC` (or a neutral value).

use super::types::msstore_result;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll};

fn report() {
    crate::log::emit(
        crate::log::Level::Error,
        "msstore::ffi",
        "a panic was caught at the C boundary (a bug in msstore)",
    );
}

/// Runs `f`; on panic returns `on_panic`.
pub(crate) fn guard<R>(on_panic: R, f: impl FnOnce() -> R) -> R {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(_) => {
            report();
            on_panic
        }
    }
}

/// Runs a fallible body and turns it into a result code (`MSSTORE_OK` on success).
pub(crate) fn guard_result(f: impl FnOnce() -> Result<(), msstore_result>) -> msstore_result {
    guard(Err(msstore_result::MSSTORE_E_PANIC), f)
        .err()
        .unwrap_or(msstore_result::MSSTORE_OK)
}

/// A future that turns a panic while polling into `Err(())`, so an operation whose body panics
/// still completes (with `MSSTORE_E_PANIC`) and its callback still fires.
pub(crate) struct CatchUnwind<F: Future>(pub Pin<Box<F>>);

impl<F: Future> Future for CatchUnwind<F> {
    type Output = Result<F::Output, ()>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = &mut self.0;
        match catch_unwind(AssertUnwindSafe(|| inner.as_mut().poll(cx))) {
            Ok(Poll::Ready(v)) => Poll::Ready(Ok(v)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(_) => {
                report();
                Poll::Ready(Err(()))
            }
        }
    }
}
