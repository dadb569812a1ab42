//! Result codes and `msstore_error` objects.

use super::handles;
use super::panic::guard;
use super::strings::{copy_to_buffer, cstring, write_out};
use super::types::{msstore_error, msstore_result};
use crate::error::{Error, ErrorKind};
use std::ffi::{c_char, CString};

/// The result code of an error kind.
pub(crate) fn code_of(kind: ErrorKind) -> msstore_result {
    use msstore_result::*;
    match kind {
        ErrorKind::InvalidArgument => MSSTORE_E_INVALID_ARGUMENT,
        ErrorKind::InvalidKey => MSSTORE_E_INVALID_KEY,
        ErrorKind::Configuration => MSSTORE_E_CONFIGURATION,
        ErrorKind::EntraAuth => MSSTORE_E_ENTRA_AUTH,
        ErrorKind::Unauthorized => MSSTORE_E_UNAUTHORIZED,
        ErrorKind::KeyMustBeReminted => MSSTORE_E_KEY_MUST_BE_REMINTED,
        ErrorKind::ClientIdMismatch => MSSTORE_E_CLIENT_ID_MISMATCH,
        ErrorKind::MissingServiceToken => MSSTORE_E_MISSING_SERVICE_TOKEN,
        ErrorKind::Throttled => MSSTORE_E_THROTTLED,
        ErrorKind::Network => MSSTORE_E_NETWORK,
        ErrorKind::Timeout => MSSTORE_E_TIMEOUT,
        ErrorKind::NotFound => MSSTORE_E_NOT_FOUND,
        ErrorKind::Service => MSSTORE_E_SERVICE,
        ErrorKind::ConsumeOutcomeUnknown => MSSTORE_E_CONSUME_OUTCOME_UNKNOWN,
        ErrorKind::MalformedResponse => MSSTORE_E_MALFORMED_RESPONSE,
        ErrorKind::Canceled => MSSTORE_E_CANCELED,
        ErrorKind::ShuttingDown => MSSTORE_E_SHUTTING_DOWN,
        ErrorKind::PopReceiptMismatch => MSSTORE_E_POP_RECEIPT_MISMATCH,
        ErrorKind::MessageNotFound => MSSTORE_E_MESSAGE_NOT_FOUND,
        ErrorKind::InvalidClawbackEvent => MSSTORE_E_INVALID_CLAWBACK_EVENT,
        ErrorKind::Storage => MSSTORE_E_STORAGE,
        ErrorKind::BackendNotCompiled => MSSTORE_E_BACKEND_NOT_COMPILED,
        ErrorKind::Internal => MSSTORE_E_INTERNAL,
    }
}

/// An error for a code produced by this layer (cancel, shutdown, timeout, panic, bad argument).
pub(crate) fn error_for_code(code: msstore_result, message: &str) -> Error {
    use msstore_result::*;
    let kind = match code {
        MSSTORE_E_CANCELED => ErrorKind::Canceled,
        MSSTORE_E_SHUTTING_DOWN => ErrorKind::ShuttingDown,
        MSSTORE_E_STORAGE => ErrorKind::Storage,
        MSSTORE_E_BACKEND_NOT_COMPILED => ErrorKind::BackendNotCompiled,
        MSSTORE_E_TIMEOUT => ErrorKind::Timeout,
        MSSTORE_E_CONFIGURATION => ErrorKind::Configuration,
        MSSTORE_E_INVALID_KEY => ErrorKind::InvalidKey,
        MSSTORE_E_INVALID_ARGUMENT
        | MSSTORE_E_NULL_POINTER
        | MSSTORE_E_INVALID_UTF8
        | MSSTORE_E_TOO_LONG => ErrorKind::InvalidArgument,
        _ => ErrorKind::Internal,
    };
    Error::new(kind, message)
}

/// What C sees of an error: the code plus every detail as ready-made C strings.
pub(crate) struct ErrorObj {
    pub code: msstore_result,
    pub http_status: u16,
    pub retry_after_ms: i64,
    kind: CString,
    message: CString,
    service_code: Option<CString>,
    inner_code: Option<CString>,
    ms_cv: Option<CString>,
    correlation_id: Option<CString>,
    tracking_id: Option<CString>,
    json: CString,
}

impl ErrorObj {
    pub(crate) fn new(code: msstore_result, e: &Error) -> ErrorObj {
        let o = |v: &Option<String>| v.as_deref().map(cstring);
        let mut json = e.to_json();
        json["code"] = serde_json::json!(code as i32);
        json["code_name"] = serde_json::json!(name(code));
        ErrorObj {
            code,
            http_status: e.http_status.unwrap_or(0),
            retry_after_ms: e
                .retry_after
                .map(|d| d.as_millis().min(i64::MAX as u128) as i64)
                .unwrap_or(-1),
            kind: cstring(e.kind.as_str()),
            message: cstring(&e.message),
            service_code: o(&e.service_code)
                .or_else(|| e.entra.as_ref().map(|en| cstring(&en.error))),
            inner_code: o(&e.inner_code),
            ms_cv: o(&e.ms_cv),
            correlation_id: o(&e.correlation_id).or_else(|| {
                e.entra
                    .as_ref()
                    .and_then(|en| en.correlation_id.as_deref().map(cstring))
            }),
            tracking_id: o(&e.tracking_id),
            json: cstring(&json.to_string()),
        }
    }
}

/// Registers an error object; returns its handle id.
pub(crate) fn register_error(code: msstore_result, e: &Error) -> usize {
    handles::register(ErrorObj::new(code, e))
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
        let id = register_error(code, e);
        // SAFETY: forwarded contract; non-null checked.
        let _ = unsafe { write_out(out, handles::ptr_of(id)) };
    }
    code
}

pub(crate) fn name(code: msstore_result) -> &'static str {
    use msstore_result::*;
    match code {
        MSSTORE_OK => "MSSTORE_OK",
        MSSTORE_E_INVALID_ARGUMENT => "MSSTORE_E_INVALID_ARGUMENT",
        MSSTORE_E_NULL_POINTER => "MSSTORE_E_NULL_POINTER",
        MSSTORE_E_INVALID_UTF8 => "MSSTORE_E_INVALID_UTF8",
        MSSTORE_E_TOO_LONG => "MSSTORE_E_TOO_LONG",
        MSSTORE_E_INVALID_HANDLE => "MSSTORE_E_INVALID_HANDLE",
        MSSTORE_E_BUFFER_TOO_SMALL => "MSSTORE_E_BUFFER_TOO_SMALL",
        MSSTORE_E_PENDING => "MSSTORE_E_PENDING",
        MSSTORE_E_NO_RESULT => "MSSTORE_E_NO_RESULT",
        MSSTORE_E_CONFIGURATION => "MSSTORE_E_CONFIGURATION",
        MSSTORE_E_INVALID_KEY => "MSSTORE_E_INVALID_KEY",
        MSSTORE_E_ENTRA_AUTH => "MSSTORE_E_ENTRA_AUTH",
        MSSTORE_E_UNAUTHORIZED => "MSSTORE_E_UNAUTHORIZED",
        MSSTORE_E_KEY_MUST_BE_REMINTED => "MSSTORE_E_KEY_MUST_BE_REMINTED",
        MSSTORE_E_CLIENT_ID_MISMATCH => "MSSTORE_E_CLIENT_ID_MISMATCH",
        MSSTORE_E_MISSING_SERVICE_TOKEN => "MSSTORE_E_MISSING_SERVICE_TOKEN",
        MSSTORE_E_THROTTLED => "MSSTORE_E_THROTTLED",
        MSSTORE_E_NETWORK => "MSSTORE_E_NETWORK",
        MSSTORE_E_TIMEOUT => "MSSTORE_E_TIMEOUT",
        MSSTORE_E_NOT_FOUND => "MSSTORE_E_NOT_FOUND",
        MSSTORE_E_SERVICE => "MSSTORE_E_SERVICE",
        MSSTORE_E_CONSUME_OUTCOME_UNKNOWN => "MSSTORE_E_CONSUME_OUTCOME_UNKNOWN",
        MSSTORE_E_MALFORMED_RESPONSE => "MSSTORE_E_MALFORMED_RESPONSE",
        MSSTORE_E_CANCELED => "MSSTORE_E_CANCELED",
        MSSTORE_E_SHUTTING_DOWN => "MSSTORE_E_SHUTTING_DOWN",
        MSSTORE_E_POP_RECEIPT_MISMATCH => "MSSTORE_E_POP_RECEIPT_MISMATCH",
        MSSTORE_E_MESSAGE_NOT_FOUND => "MSSTORE_E_MESSAGE_NOT_FOUND",
        MSSTORE_E_INVALID_CLAWBACK_EVENT => "MSSTORE_E_INVALID_CLAWBACK_EVENT",
        MSSTORE_E_STORAGE => "MSSTORE_E_STORAGE",
        MSSTORE_E_BACKEND_NOT_COMPILED => "MSSTORE_E_BACKEND_NOT_COMPILED",
        MSSTORE_E_PANIC => "MSSTORE_E_PANIC",
        MSSTORE_E_INTERNAL => "MSSTORE_E_INTERNAL",
    }
}

fn description(code: msstore_result) -> &'static str {
    use msstore_result::*;
    match code {
        MSSTORE_OK => "success",
        MSSTORE_E_INVALID_ARGUMENT => "an argument is invalid; fix the call",
        MSSTORE_E_NULL_POINTER => "a required pointer argument is NULL",
        MSSTORE_E_INVALID_UTF8 => "a string argument is not valid UTF-8",
        MSSTORE_E_TOO_LONG => "a string or array argument is too long",
        MSSTORE_E_INVALID_HANDLE => "the handle is freed, unknown or of another type",
        MSSTORE_E_BUFFER_TOO_SMALL => "the buffer is too small; the needed size was written",
        MSSTORE_E_PENDING => "the operation has not completed yet",
        MSSTORE_E_NO_RESULT => "no such result (already taken, or not produced by this operation)",
        MSSTORE_E_CONFIGURATION => "the client configuration is unusable; fix it",
        MSSTORE_E_INVALID_KEY => "not a Store ID key; ask the game client for a fresh key",
        MSSTORE_E_ENTRA_AUTH => {
            "Entra ID refused the credentials; check tenant, client id and secret"
        }
        MSSTORE_E_UNAUTHORIZED => "the Store rejected the token or key; renew the key",
        MSSTORE_E_KEY_MUST_BE_REMINTED => {
            "the key cannot be renewed; the game client must mint a new one"
        }
        MSSTORE_E_CLIENT_ID_MISMATCH => {
            "the key was minted for another Entra app; fix the configuration, never retry"
        }
        MSSTORE_E_MISSING_SERVICE_TOKEN => "no service token reached the Store (a bug)",
        MSSTORE_E_THROTTLED => "rate limited; wait retry_after and retry",
        MSSTORE_E_NETWORK => "network failure or 5xx after retries; retry later",
        MSSTORE_E_TIMEOUT => "timed out; retry later",
        MSSTORE_E_NOT_FOUND => "not found",
        MSSTORE_E_SERVICE => "the service refused the request; see the error details",
        MSSTORE_E_CONSUME_OUTCOME_UNKNOWN => {
            "the consume may have been applied; resend with the same tracking id"
        }
        MSSTORE_E_MALFORMED_RESPONSE => "the service answered something unexpected; retry later",
        MSSTORE_E_CANCELED => "the operation was canceled",
        MSSTORE_E_SHUTTING_DOWN => "the client is shutting down",
        MSSTORE_E_POP_RECEIPT_MISMATCH => {
            "the pop receipt was superseded; the message will be delivered again"
        }
        MSSTORE_E_MESSAGE_NOT_FOUND => "the queue message no longer exists; nothing to do",
        MSSTORE_E_INVALID_CLAWBACK_EVENT => "the queue message is not a clawback event",
        MSSTORE_E_STORAGE => "the ledger database failed; nothing recorded was lost, retry later",
        MSSTORE_E_BACKEND_NOT_COMPILED => {
            "this ledger store (sqlite or postgres) is not compiled into this build of the library"
        }
        MSSTORE_E_PANIC => "a panic inside msstore was caught (a bug; the process is fine)",
        MSSTORE_E_INTERNAL => "an internal error (a bug)",
    }
}

/// The name of a result code (`"MSSTORE_E_THROTTLED"`), or `"MSSTORE_UNKNOWN"` for a value that
/// is not a code. Ownership: static string, never free. Threading: any thread.
#[no_mangle]
pub extern "C" fn msstore_result_name(code: i32) -> *const c_char {
    guard(
        c"MSSTORE_UNKNOWN".as_ptr(),
        || match msstore_result::from_i32(code) {
            Some(c) => static_cstr(name(c)),
            None => c"MSSTORE_UNKNOWN".as_ptr(),
        },
    )
}

/// A one-line description of a result code saying what the caller should do. Ownership: static
/// string, never free. Threading: any thread.
#[no_mangle]
pub extern "C" fn msstore_result_description(code: i32) -> *const c_char {
    guard(
        c"unknown result code".as_ptr(),
        || match msstore_result::from_i32(code) {
            Some(c) => static_cstr(description(c)),
            None => c"unknown result code".as_ptr(),
        },
    )
}

/// Static NUL-terminated copies of the static names and descriptions, made once.
fn static_cstr(s: &'static str) -> *const c_char {
    use once_cell::sync::Lazy;
    use std::collections::HashMap;
    use std::sync::Mutex;
    static CACHE: Lazy<Mutex<HashMap<&'static str, &'static std::ffi::CStr>>> =
        Lazy::new(|| Mutex::new(HashMap::new()));
    let mut c = CACHE.lock().unwrap_or_else(|p| p.into_inner());
    c.entry(s)
        .or_insert_with(|| Box::leak(cstring(s).into_boxed_c_str()))
        .as_ptr()
}

fn with_error<R>(e: *const msstore_error, default: R, f: impl FnOnce(&ErrorObj) -> R) -> R {
    handles::with::<ErrorObj, _, _>(e, default, f)
}

fn opt_ptr(c: &Option<CString>) -> *const c_char {
    c.as_ref().map_or(std::ptr::null(), |c| c.as_ptr())
}

/// The error's result code (`MSSTORE_E_…`); `MSSTORE_E_INVALID_HANDLE` for a bad handle.
/// Threading: any thread.
#[no_mangle]
pub extern "C" fn msstore_error_code(e: *const msstore_error) -> msstore_result {
    with_error(e, msstore_result::MSSTORE_E_INVALID_HANDLE, |o| o.code)
}

/// The error kind as a stable snake_case name (`"throttled"`). Owned by the error; valid until
/// `msstore_error_free`. NULL for a bad handle.
#[no_mangle]
pub extern "C" fn msstore_error_kind(e: *const msstore_error) -> *const c_char {
    with_error(e, std::ptr::null(), |o| o.kind.as_ptr())
}

/// A sentence for logs (never contains secrets). Owned by the error; valid until it is freed.
/// NULL for a bad handle.
#[no_mangle]
pub extern "C" fn msstore_error_message(e: *const msstore_error) -> *const c_char {
    with_error(e, std::ptr::null(), |o| o.message.as_ptr())
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
    super::panic::guard_result(|| {
        let o = handles::get::<ErrorObj>(handles::id_of(e))?;
        let msg = o.message.to_str().unwrap_or("");
        // SAFETY: forwarded contract.
        unsafe { copy_to_buffer(msg, buf, capacity, needed) }
    })
}

/// HTTP status of the failing response, or 0 when no response arrived.
#[no_mangle]
pub extern "C" fn msstore_error_http_status(e: *const msstore_error) -> u16 {
    with_error(e, 0, |o| o.http_status)
}

/// The service's error code (ServiceError `code`, or Entra's `error`), or NULL. Owned by the error.
#[no_mangle]
pub extern "C" fn msstore_error_service_code(e: *const msstore_error) -> *const c_char {
    with_error(e, std::ptr::null(), |o| opt_ptr(&o.service_code))
}

/// The service's inner error code (e.g. `"InconsistentClientId"`), or NULL. Owned by the error.
#[no_mangle]
pub extern "C" fn msstore_error_inner_code(e: *const msstore_error) -> *const c_char {
    with_error(e, std::ptr::null(), |o| opt_ptr(&o.inner_code))
}

/// The MS-CV correlation vector of the failing exchange, or NULL. Owned by the error.
#[no_mangle]
pub extern "C" fn msstore_error_ms_cv(e: *const msstore_error) -> *const c_char {
    with_error(e, std::ptr::null(), |o| opt_ptr(&o.ms_cv))
}

/// MS-CorrelationId / MS-RequestId (or Entra's correlation id), or NULL. Owned by the error.
#[no_mangle]
pub extern "C" fn msstore_error_correlation_id(e: *const msstore_error) -> *const c_char {
    with_error(e, std::ptr::null(), |o| opt_ptr(&o.correlation_id))
}

/// How long the service asked us to wait, in milliseconds; -1 when it did not say.
#[no_mangle]
pub extern "C" fn msstore_error_retry_after_ms(e: *const msstore_error) -> i64 {
    with_error(e, -1, |o| o.retry_after_ms)
}

/// For consume: the tracking id to resend with, or NULL. Owned by the error.
#[no_mangle]
pub extern "C" fn msstore_error_tracking_id(e: *const msstore_error) -> *const c_char {
    with_error(e, std::ptr::null(), |o| opt_ptr(&o.tracking_id))
}

/// The whole error as one JSON object (kind, message, codes, ids, Entra details). Owned by the
/// error. NULL for a bad handle.
#[no_mangle]
pub extern "C" fn msstore_error_json(e: *const msstore_error) -> *const c_char {
    with_error(e, std::ptr::null(), |o| o.json.as_ptr())
}

/// Frees an error. NULL is a no-op; a freed or foreign handle is ignored (returns
/// `MSSTORE_E_INVALID_HANDLE`). Threading: any thread, but not while another thread still reads
/// strings from this error.
#[no_mangle]
pub extern "C" fn msstore_error_free(e: *mut msstore_error) -> msstore_result {
    guard(msstore_result::MSSTORE_E_PANIC, || {
        if e.is_null() {
            return msstore_result::MSSTORE_OK;
        }
        match handles::remove::<ErrorObj>(handles::id_of(e)) {
            Ok(_) => msstore_result::MSSTORE_OK,
            Err(c) => c,
        }
    })
}
