//! Result codes and `msstore_error` objects.

use super::handles;
use super::panic::boundary;
use super::results::Views;
use super::strings::{copy_to_buffer, cstring, write_out, Arena};
use super::types::{msstore_error, msstore_error_info, msstore_result};
use crate::error::{Error, ErrorKind};
use std::ffi::{c_char, CStr, CString};

/// The one table of result codes. Each row: the code (a variant of the C enum
/// [`msstore_result`], which stays literal in `types.rs` because cbindgen reads it there), the
/// [`ErrorKind`] an error with this code carries, and the one-line description
/// `msstore_result_description` returns. A bare kind means "this is *the* code of that kind"
/// (each kind has exactly one); a kind in parentheses means the code carries that kind but the
/// kind's own code is another row. From this table come the names, the descriptions, both
/// mappings and [`msstore_result::ALL`]; the matches it generates are exhaustive, so a code
/// missing here, an unknown code, or a kind without a code does not compile. Adding a code: a
/// variant in the enum, a row here.
macro_rules! result_codes {
    ($($code:ident $kind:tt $desc:literal,)*) => {
        impl msstore_result {
            /// Every code, in table order.
            pub const ALL: &'static [msstore_result] = &[$(msstore_result::$code),*];

            pub fn from_i32(v: i32) -> Option<msstore_result> {
                Self::ALL.iter().copied().find(|c| *c as i32 == v)
            }

            /// `"MSSTORE_E_THROTTLED"`.
            pub(crate) fn name(self) -> &'static CStr {
                match self {
                    $(msstore_result::$code => const { c_str(concat!(stringify!($code), "\0")) },)*
                }
            }

            /// What the caller should do, in one line.
            pub(crate) fn description(self) -> &'static CStr {
                match self {
                    $(msstore_result::$code => const { c_str(concat!($desc, "\0")) },)*
                }
            }

            /// The kind of an error this layer makes for the code (see [`error_for_code`]).
            pub(crate) fn kind(self) -> ErrorKind {
                match self {
                    $(msstore_result::$code => result_codes!(@kind $kind),)*
                }
            }
        }

        /// The result code of an error kind.
        pub(crate) fn code_of(kind: ErrorKind) -> msstore_result {
            result_codes!(@code_of kind [] $($code $kind)*)
        }
    };
    (@kind ($kind:ident)) => { ErrorKind::$kind };
    (@kind $kind:ident) => { ErrorKind::$kind };
    // Collects one match arm per row with a bare kind, then emits the (exhaustive) match.
    (@code_of $k:ident [$($arms:tt)*]) => { match $k { $($arms)* } };
    (@code_of $k:ident [$($arms:tt)*] $code:ident ($kind:ident) $($rest:tt)*) => {
        result_codes!(@code_of $k [$($arms)*] $($rest)*)
    };
    (@code_of $k:ident [$($arms:tt)*] $code:ident $kind:ident $($rest:tt)*) => {
        result_codes!(@code_of $k [$($arms)* ErrorKind::$kind => msstore_result::$code,] $($rest)*)
    };
}

/// A `CStr` from a literal ending in NUL, checked at compile time (`const` blocks above).
const fn c_str(s: &'static str) -> &'static CStr {
    match CStr::from_bytes_with_nul(s.as_bytes()) {
        Ok(c) => c,
        Err(_) => panic!("a result code name or description holds a NUL"),
    }
}

result_codes! {
    MSSTORE_OK (Internal) "success",
    MSSTORE_E_INVALID_ARGUMENT InvalidArgument "an argument is invalid; fix the call",
    MSSTORE_E_NULL_POINTER (InvalidArgument) "a required pointer argument is NULL",
    MSSTORE_E_INVALID_UTF8 (InvalidArgument) "a string argument is not valid UTF-8",
    MSSTORE_E_TOO_LONG (InvalidArgument) "a string or array argument is too long",
    MSSTORE_E_INVALID_HANDLE (Internal) "the handle is freed, unknown or of another type",
    MSSTORE_E_BUFFER_TOO_SMALL (Internal) "the buffer is too small; the needed size was written",
    MSSTORE_E_PENDING (Internal) "the operation has not completed yet",
    MSSTORE_E_NO_RESULT (Internal)
        "no such result (already taken, or not produced by this operation)",
    MSSTORE_E_BORROWED_HANDLE (Internal)
        "the handle is borrowed from the object that owns it; it was not freed",
    MSSTORE_E_CONFIGURATION Configuration "the client configuration is unusable; fix it",
    MSSTORE_E_INVALID_KEY InvalidKey "not a Store ID key; ask the game client for a fresh key",
    MSSTORE_E_ENTRA_AUTH EntraAuth
        "Entra ID refused the credentials; check tenant, client id and secret",
    MSSTORE_E_UNAUTHORIZED Unauthorized "the Store rejected the token or key; renew the key",
    MSSTORE_E_KEY_MUST_BE_REMINTED KeyMustBeReminted
        "the key cannot be renewed; the game client must mint a new one",
    MSSTORE_E_CLIENT_ID_MISMATCH ClientIdMismatch
        "the key was minted for another Entra app; fix the configuration, never retry",
    MSSTORE_E_MISSING_SERVICE_TOKEN MissingServiceToken
        "no service token reached the Store (a bug)",
    MSSTORE_E_THROTTLED Throttled "rate limited; wait retry_after and retry",
    MSSTORE_E_NETWORK Network "network failure or 5xx after retries; retry later",
    MSSTORE_E_TIMEOUT Timeout "timed out; retry later",
    MSSTORE_E_NOT_FOUND NotFound "not found",
    MSSTORE_E_SERVICE Service "the service refused the request; see the error details",
    MSSTORE_E_CONSUME_OUTCOME_UNKNOWN ConsumeOutcomeUnknown
        "the consume may have been applied; resend with the same tracking id",
    MSSTORE_E_MALFORMED_RESPONSE MalformedResponse
        "the service answered something unexpected; retry later",
    MSSTORE_E_CANCELED Canceled "the operation was canceled",
    MSSTORE_E_SHUTTING_DOWN ShuttingDown "the client is shutting down",
    MSSTORE_E_FORKED (Internal)
        "the handle was made before fork(); in the child process, create a new client",
    MSSTORE_E_POP_RECEIPT_MISMATCH PopReceiptMismatch
        "the pop receipt was superseded; the message will be delivered again",
    MSSTORE_E_MESSAGE_NOT_FOUND MessageNotFound
        "the queue message no longer exists; nothing to do",
    MSSTORE_E_INVALID_CLAWBACK_EVENT InvalidClawbackEvent
        "the queue message is not a clawback event",
    MSSTORE_E_STORAGE Storage
        "the ledger database failed; nothing recorded was lost, retry later",
    MSSTORE_E_BACKEND_NOT_COMPILED BackendNotCompiled
        "the ledger backend named by the options was not compiled into this build (Cargo features sqlite/postgres)",
    MSSTORE_E_PANIC (Internal) "a panic inside msstore was caught (a bug; the process is fine)",
    MSSTORE_E_INTERNAL Internal "an internal error (a bug)",
}

/// An error for a code produced by this layer (cancel, shutdown, timeout, panic, bad argument).
pub(crate) fn error_for_code(code: msstore_result, message: &str) -> Error {
    Error::new(code.kind(), message)
}

/// What C sees of an error: the code plus every detail as ready-made C strings.
pub(crate) struct ErrorObj {
    _arena: Arena,
    pub(crate) info: Views<msstore_error_info>,
    /// For `msstore_error_copy_message`.
    pub(crate) message: String,
    pub(crate) json: CString,
}

impl ErrorObj {
    pub(crate) fn new(code: msstore_result, e: &Error) -> ErrorObj {
        let mut json = e.to_json();
        json["code"] = serde_json::json!(code as i32);
        json["code_name"] = serde_json::json!(code.name().to_str().unwrap_or_default());
        let entra = e.entra.as_ref();
        let mut a = Arena::default();
        let info = msstore_error_info {
            struct_size: std::mem::size_of::<msstore_error_info>() as u32,
            code: code as i32,
            kind: a.s(e.kind.as_str()),
            message: a.s(&e.message),
            http_status: e.http_status.unwrap_or(0).into(),
            retry_after_ms: e
                .retry_after
                .map(|d| d.as_millis().min(i64::MAX as u128) as i64)
                .unwrap_or(-1),
            service_code: a
                .o(e.service_code
                    .as_deref()
                    .or(entra.map(|en| en.error.as_str()))),
            inner_code: a.o(e.inner_code.as_deref()),
            ms_cv: a.o(e.ms_cv.as_deref()),
            correlation_id: a
                .o(e.correlation_id
                    .as_deref()
                    .or(entra.and_then(|en| en.correlation_id.as_deref()))),
            tracking_id: a.o(e.tracking_id.as_deref()),
        };
        ErrorObj {
            _arena: a,
            info: Views(vec![info]),
            message: e.message.clone(),
            json: cstring(&json.to_string()),
        }
    }
}

/// Registers an error object; returns its handle id.
pub(crate) fn register_error(code: msstore_result, e: &Error) -> usize {
    handles::id_of(handles::register::<msstore_error>(ErrorObj::new(code, e)))
}

/// Stores an error in an optional `msstore_error**` out-parameter and returns the code.
///
/// # Safety
/// `out` is NULL or valid for a write.
pub(crate) unsafe fn fail(
    out: *mut *mut msstore_error,
    code: msstore_result,
    e: &Error,
) -> msstore_result {
    if !out.is_null() {
        // SAFETY: forwarded contract; non-null checked.
        let _ = unsafe { write_out(out, handles::register(ErrorObj::new(code, e))) };
    }
    code
}

/// The name of a result code (`"MSSTORE_E_THROTTLED"`), or `"MSSTORE_UNKNOWN"` for a value that
/// is not a code. Ownership: static string, never free. Threading: any thread.
#[no_mangle]
pub extern "C" fn msstore_result_name(code: i32) -> *const c_char {
    boundary!({
        Ok(msstore_result::from_i32(code)
            .map_or(c"MSSTORE_UNKNOWN", msstore_result::name)
            .as_ptr())
    })
}

/// A one-line description of a result code saying what the caller should do. Ownership: static
/// string, never free. Threading: any thread.
#[no_mangle]
pub extern "C" fn msstore_result_description(code: i32) -> *const c_char {
    boundary!({
        Ok(msstore_result::from_i32(code)
            .map_or(c"unknown result code", msstore_result::description)
            .as_ptr())
    })
}

/// Copies the message into a caller buffer (for callers that cannot hold a library pointer):
/// writes the needed size including the NUL to `*needed` (if not NULL); returns
/// `MSSTORE_E_BUFFER_TOO_SMALL` when `capacity` is too small (pass `buf = NULL, capacity = 0`
/// to query the size).
///
/// # Safety
/// `buf` is NULL or writable for `capacity` bytes; `needed` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn msstore_error_copy_message(
    e: *const msstore_error,
    buf: *mut c_char,
    capacity: usize,
    needed: *mut usize,
) -> msstore_result {
    boundary!({
        let o = handles::get(e)?;
        let msg = o.message.as_str();
        // SAFETY: forwarded contract.
        unsafe { copy_to_buffer(msg, buf, capacity, needed) }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_code_table_is_consistent() {
        let mut seen = std::collections::HashSet::new();
        for &c in msstore_result::ALL {
            assert_eq!(
                c.name().to_str().unwrap(),
                format!("{c:?}"),
                "name of {c:?}"
            );
            assert!(seen.insert(c as i32), "{c:?} listed twice");
            assert_eq!(msstore_result::from_i32(c as i32), Some(c));
            assert!(c == msstore_result::MSSTORE_OK || (7100..7200).contains(&(c as i32)));
            assert!(!c.description().to_bytes().is_empty());
            // The kind's own code carries the same kind back.
            assert_eq!(code_of(c.kind()).kind(), c.kind(), "{c:?}");
        }
        assert_eq!(msstore_result::from_i32(7199), None);
        assert_eq!(
            code_of(ErrorKind::BackendNotCompiled),
            msstore_result::MSSTORE_E_BACKEND_NOT_COMPILED
        );
        assert_eq!(
            error_for_code(msstore_result::MSSTORE_E_NULL_POINTER, "x").kind,
            ErrorKind::InvalidArgument
        );
    }
}
