//! `msstore_doctor_run`: the setup checks of `msstore doctor` (configuration, credential expiry,
//! a token per audience and its claims, a Store call, and for each key given a decode, a query
//! and a renew), as a report handle with one view per check and the CLI's text.

use super::client::{json_settings, options_settings, Settings};
use super::error::code_of;
use super::handles;
use super::panic::boundary;
use super::results::Views;
use super::strings::{cstring, in_string, non_null, write_out, Arena};
use super::types::{msstore_client_options, msstore_result};
use crate::doctor::{self, Check, Status};
use crate::error::Error;
use std::ffi::{c_char, CString};

/// Most Store ID keys one doctor run checks (each costs a query and a renew).
const MAX_KEYS: usize = 100;

/// The checks of one doctor run. Immutable; thread-safe.
pub struct msstore_doctor_report {
    _private: [u8; 0],
}

/// One check, filled by `msstore_doctor_report_get_check`. Strings owned by the report.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct msstore_doctor_check_info {
    pub struct_size: u32,
    /// `"configuration"`, `"credential expiry"`, `"token https://onestore.microsoft.com"`, …
    pub name: *const c_char,
    /// 0 pass, 1 warn (works, needs attention), 2 fail.
    pub status: i32,
    /// What was found. Never holds a secret.
    pub detail: *const c_char,
    /// What to do; NULL when the check passed.
    pub hint: *const c_char,
    /// The `msstore_result` of a failure (`MSSTORE_E_CONFIGURATION` for a setup mismatch the
    /// doctor found itself), 0 otherwise.
    pub result: i32,
}
super::types::zeroed_default!(msstore_doctor_check_info);

pub(crate) struct DoctorReportObj {
    _arena: Arena,
    pub(crate) checks: Views<msstore_doctor_check_info>,
    pub(crate) healthy: i32,
    pub(crate) text: CString,
}

impl DoctorReportObj {
    fn new(checks: &[Check]) -> DoctorReportObj {
        let mut a = Arena::default();
        let views = checks
            .iter()
            .map(|c| msstore_doctor_check_info {
                struct_size: std::mem::size_of::<msstore_doctor_check_info>() as u32,
                name: a.s(&c.name),
                status: match c.status {
                    Status::Pass => 0,
                    Status::Warn => 1,
                    Status::Fail => 2,
                },
                detail: a.s(&c.detail),
                hint: a.o(c.hint.as_deref()),
                result: match (&c.error, c.status) {
                    (Some(e), Status::Fail) => code_of(e.kind) as i32,
                    (None, Status::Fail) => msstore_result::MSSTORE_E_CONFIGURATION as i32,
                    _ => 0,
                },
            })
            .collect();
        let text: String = checks.iter().map(|c| c.line() + "\n").collect();
        DoctorReportObj {
            _arena: a,
            checks: Views(views),
            healthy: i32::from(doctor::healthy(checks)),
            text: cstring(&text),
        }
    }
}

/// The keys argument.
///
/// # Safety
/// `keys` is NULL (with `count` 0) or points to `count` NUL-terminated strings.
unsafe fn read_keys(
    keys: *const *const c_char,
    count: usize,
) -> Result<Vec<String>, msstore_result> {
    if count == 0 {
        return Ok(Vec::new());
    }
    if keys.is_null() {
        return Err(msstore_result::MSSTORE_E_NULL_POINTER);
    }
    if count > MAX_KEYS {
        return Err(msstore_result::MSSTORE_E_TOO_LONG);
    }
    (0..count)
        // SAFETY: `keys` has `count` readable entries, each NULL or NUL-terminated.
        .map(|i| unsafe { in_string(*keys.add(i)) })
        .collect()
}

/// The body of both doctor calls: runs the checks on what `settings` read. A configuration that
/// cannot be read is a report with one failed "configuration" check; a bad argument (NULL,
/// struct_size, UTF-8, a stale credential handle) is the call's error code.
///
/// # Safety
/// As the callers'.
unsafe fn run(
    settings: impl FnOnce() -> Result<Settings, (msstore_result, Error)>,
    keys: *const *const c_char,
    key_count: usize,
    out: *mut *mut msstore_doctor_report,
) -> Result<(), msstore_result> {
    non_null(out)?;
    // The checks block on a runtime of their own: a library thread (inside a completion or
    // provider callback) already runs inside one, and tokio refuses nested blocking there.
    if tokio::runtime::Handle::try_current().is_ok() {
        return Err(msstore_result::MSSTORE_E_INVALID_ARGUMENT);
    }
    // SAFETY: forwarded contract.
    let keys = unsafe { read_keys(keys, key_count) }?;
    let checks = match settings() {
        Ok((config, _, _)) => doctor::run(&config, &keys),
        Err((msstore_result::MSSTORE_E_CONFIGURATION, e)) => vec![doctor::configuration_failure(e)],
        Err((code, _)) => return Err(code),
    };
    let h = handles::register(DoctorReportObj::new(&checks));
    // SAFETY: forwarded contract (non-null checked).
    unsafe { write_out(out, h) }
}

/// Runs the checks of `msstore doctor` with the client configuration in `options` and, for each
/// of the `key_count` Store ID keys (UserCollectionsId or UserPurchaseId), a decode, a query and
/// a renew. In order, stopping at the first failure that blocks the rest: the configuration, the
/// credential's expiry, a token for each audience, each token's app and tenant against the
/// configuration, a Store call with the service token, then the keys.
///
/// Blocking: makes real requests and returns when they are done (seconds; each bounded by the
/// options' timeouts). Call it from an application thread: from a library thread (inside an
/// IMMEDIATE completion callback or a token provider callback), where it would block a runtime
/// it depends on, it returns `MSSTORE_E_INVALID_ARGUMENT` at once.
///
/// Ownership: on `MSSTORE_OK` the caller owns `*out` (free with `msstore_doctor_report_free`);
/// a configuration error is a report whose one check failed. Errors: `MSSTORE_E_NULL_POINTER`,
/// `MSSTORE_E_INVALID_ARGUMENT` (bad struct_size or enum, a library thread),
/// `MSSTORE_E_INVALID_HANDLE` (a stale credential handle), `MSSTORE_E_INVALID_UTF8`,
/// `MSSTORE_E_TOO_LONG` (more than 100 keys, or a key past 64 KiB).
///
/// # Safety
/// `options` is a valid options struct; `store_id_keys` is NULL (with `key_count` 0) or points
/// to `key_count` NUL-terminated strings; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn msstore_doctor_run(
    options: *const msstore_client_options,
    store_id_keys: *const *const c_char,
    key_count: usize,
    out: *mut *mut msstore_doctor_report,
) -> msstore_result {
    boundary!({
        // SAFETY: forwarded contract.
        unsafe { run(|| options_settings(options), store_id_keys, key_count, out) }
    })
}

/// `msstore_doctor_run` with the JSON configuration of `msstore_client_new_from_json` (a JSON
/// that does not parse is a report whose "configuration" check failed). Ownership, errors,
/// blocking and threading as `msstore_doctor_run`.
///
/// # Safety
/// `config_json` is NULL or NUL-terminated; `store_id_keys` is NULL (with `key_count` 0) or
/// points to `key_count` NUL-terminated strings; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn msstore_doctor_run_json(
    config_json: *const c_char,
    store_id_keys: *const *const c_char,
    key_count: usize,
    out: *mut *mut msstore_doctor_report,
) -> msstore_result {
    boundary!({
        // SAFETY: forwarded contract.
        unsafe { run(|| json_settings(config_json), store_id_keys, key_count, out) }
    })
}
