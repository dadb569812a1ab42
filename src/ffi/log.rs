//! The log callback: routes the library's log records to the engine (UE_LOG, Debug.Log).

use super::panic::boundary;
use super::strings::cstring;
use super::types::{msstore_log_cb, msstore_result};
use crate::log::{set_sink, Level};
use std::ffi::c_void;
use std::sync::Arc;

/// Replaces anything that looks like a JWT (`eyJ…` base64url segments joined by dots) with
/// `<redacted>`: a last line of defence, since the core never logs secrets.
pub(crate) fn redact(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find("eyJ") {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.'))
            .unwrap_or(tail.len());
        if end >= 16 {
            out.push_str("<redacted>");
        } else {
            out.push_str(&tail[..end]);
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

/// Installs a process-wide log callback receiving records at `max_level` (a `msstore_log_level`,
/// 1 = errors only … 5 = trace) and below; `cb = NULL` removes it. `user_data` is passed through
/// untouched. The callback runs on any library or caller thread, possibly concurrently; its
/// strings are valid during the call only. Secrets (client secret, tokens, keys) never appear.
/// When this returns, the callback it replaced or removed is no longer running on any other
/// thread, and never runs again: it waits for calls in progress, however long they take, so the
/// caller may free the old `user_data` or unload the code behind it (Unity's domain reload) right
/// after. Called from inside the callback, it cannot wait for the call it is made from (nor for
/// others further up the same thread's stack): that one returns after it, so free its
/// `user_data` only once it has. A callback must therefore not block waiting for a thread that
/// is in this function. After `fork()`, the child keeps the callback (its own calls only).
/// Errors: `MSSTORE_E_INVALID_ARGUMENT` for a level outside 1..5 (with a non-NULL callback).
#[no_mangle]
pub extern "C" fn msstore_log_set_callback(
    cb: msstore_log_cb,
    user_data: *mut c_void,
    max_level: i32,
) -> msstore_result {
    boundary!({
        super::fork::watch();
        let Some(cb) = cb else {
            set_sink(None, Level::Error);
            return Ok(());
        };
        let level = match max_level {
            1 => Level::Error,
            2 => Level::Warn,
            3 => Level::Info,
            4 => Level::Debug,
            5 => Level::Trace,
            _ => return Err(msstore_result::MSSTORE_E_INVALID_ARGUMENT),
        };
        let ud = user_data as usize;
        set_sink(
            Some(Arc::new(
                move |level: Level, target: &str, message: &str| {
                    let t = cstring(target);
                    let m = cstring(&redact(message));
                    // SAFETY: `cb` is the caller's log callback; the strings live until it returns.
                    unsafe { cb(ud as *mut c_void, level as i32, t.as_ptr(), m.as_ptr()) }
                },
            )),
            level,
        );
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn redacts_jwts() {
        let s = super::redact("key eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJ4In0.sig done; eyJ short");
        assert_eq!(s, "key <redacted> done; eyJ short");
    }
}
