//! The panic boundary. Since Rust 1.81 a panic unwinding out of an `extern "C"` function aborts
//! the process; a game server must never die because of us, so the body of every export is
//! written inside [`boundary!`], and a panic becomes `MSSTORE_E_PANIC` or the neutral value of
//! the export's return type ([`Defaulted`]).

use super::types::msstore_result;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll};

/// The one way to write the body of an export (the `pub extern "C" fn` line stays literal, for
/// cbindgen): the body is a block returning `Result<T, msstore_result>`, so `?` works on every
/// check, and runs inside `catch_unwind`. What the export returns on a panic or an `Err(code)`
/// (a NULL or stale handle, a bad argument) comes from its return type: a result code returns
/// the code (`MSSTORE_E_PANIC` on a panic), a pointer NULL, a count 0, a signed value -1.
///
/// ```ignore
/// #[no_mangle]
/// pub extern "C" fn msstore_error_json(e: *const msstore_error) -> *const c_char {
///     boundary!({ Ok(handles::get(e)?.json.as_ptr()) })
/// }
/// ```
macro_rules! boundary {
    ($body:block) => {
        $crate::ffi::panic::run(
            || -> ::std::result::Result<_, $crate::ffi::types::msstore_result> { $body },
        )
    };
}
pub(crate) use boundary;

/// What an export returns when its body panics or fails with a code before producing a value.
pub(crate) trait Defaulted: Sized {
    /// The value returned after a caught panic.
    fn on_panic() -> Self;
    /// The value returned when the body fails with `code`.
    fn on_error(code: msstore_result) -> Self {
        let _ = code;
        Self::on_panic()
    }
}

/// How a successful body's value becomes the export's return value.
pub(crate) trait Returned<T>: Defaulted {
    fn from_ok(v: T) -> Self;
}

impl Defaulted for msstore_result {
    fn on_panic() -> Self {
        msstore_result::MSSTORE_E_PANIC
    }
    fn on_error(code: msstore_result) -> Self {
        code
    }
}

/// A body that only succeeds or fails: `MSSTORE_OK`.
impl Returned<()> for msstore_result {
    fn from_ok(_: ()) -> Self {
        msstore_result::MSSTORE_OK
    }
}

/// A body whose value is a code (an operation's status, an error's code).
impl Returned<msstore_result> for msstore_result {
    fn from_ok(v: msstore_result) -> Self {
        v
    }
}

impl<P> Defaulted for *const P {
    fn on_panic() -> Self {
        std::ptr::null()
    }
}

impl<P> Returned<*const P> for *const P {
    fn from_ok(v: *const P) -> Self {
        v
    }
}

impl<P> Defaulted for *mut P {
    fn on_panic() -> Self {
        std::ptr::null_mut()
    }
}

impl<P> Returned<*mut P> for *mut P {
    fn from_ok(v: *mut P) -> Self {
        v
    }
}

macro_rules! plain_values {
    ($($t:ty => $v:expr),*) => {$(
        impl Defaulted for $t {
            fn on_panic() -> Self {
                $v
            }
        }
        impl Returned<$t> for $t {
            fn from_ok(v: $t) -> Self {
                v
            }
        }
    )*};
}
// Counts and flags: 0. Signed values: -1, which no valid answer of theirs uses.
plain_values!(usize => 0, u32 => 0, u16 => 0, i32 => -1, i64 => -1, isize => -1);

fn report() {
    crate::log::emit(
        crate::log::Level::Error,
        "msstore::ffi",
        "a panic was caught at the C boundary (a bug in msstore)",
    );
}

/// The body of [`boundary!`].
pub(crate) fn run<T, R: Returned<T>>(f: impl FnOnce() -> Result<T, msstore_result>) -> R {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(v)) => R::from_ok(v),
        Ok(Err(code)) => R::on_error(code),
        Err(_) => {
            report();
            R::on_panic()
        }
    }
}

/// A future that turns a panic while polling into `Err(())`, so an operation whose body panics
/// still completes (with `MSSTORE_E_PANIC`) and its callback still fires.
pub(crate) struct CatchUnwind<F: Future + Unpin>(pub F);

impl<F: Future + Unpin> Future for CatchUnwind<F> {
    type Output = Result<F::Output, ()>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = &mut self.0;
        match catch_unwind(AssertUnwindSafe(|| Pin::new(&mut *inner).poll(cx))) {
            Ok(Poll::Ready(v)) => Poll::Ready(Ok(v)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(_) => {
                report();
                Poll::Ready(Err(()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_come_from_the_return_type() {
        let r: msstore_result = boundary!({ Err::<(), _>(msstore_result::MSSTORE_E_NULL_POINTER) });
        assert_eq!(r, msstore_result::MSSTORE_E_NULL_POINTER);
        let r: msstore_result = boundary!({ Ok(()) });
        assert_eq!(r, msstore_result::MSSTORE_OK);
        let r: msstore_result = boundary!({
            if r == msstore_result::MSSTORE_OK {
                panic!("test panic");
            }
            Ok(())
        });
        assert_eq!(r, msstore_result::MSSTORE_E_PANIC);
        let p: *const u8 =
            boundary!({ Err::<*const u8, _>(msstore_result::MSSTORE_E_INVALID_HANDLE) });
        assert!(p.is_null());
        let n: usize = boundary!({ Ok(7usize) });
        assert_eq!(n, 7);
        let n: i64 = boundary!({ Err::<i64, _>(msstore_result::MSSTORE_E_INVALID_HANDLE) });
        assert_eq!(n, -1);
    }
}
