//! Store ID keys: synchronous decoding (no network) and the `msstore_key` accessors. Renewal
//! (network) is in [`super::ops`] and produces the same handle.

use super::error::{code_of, error_for_code, fail};
use super::handles;
use super::panic::boundary;
use super::results::Views;
use super::strings::{cstring, in_str, write_out, Arena, MAX_STR};
use super::types::{
    msstore_error, msstore_key, msstore_key_info, msstore_key_kind, msstore_result,
};
use crate::key::{KeyKind, StoreIdKey};
use crate::time::Timestamp;
use std::ffi::{c_char, CString};
use std::time::Duration;

/// Default renewal margin when no client configuration applies (the core's default: 24 h).
const DEFAULT_MARGIN: Duration = Duration::from_secs(24 * 3600);

pub(crate) struct KeyObj {
    _arena: Arena,
    pub(crate) info: Views<msstore_key_info>,
    pub(crate) json: CString,
}

impl KeyObj {
    pub(crate) fn new(k: &StoreIdKey, raw: &str, margin: Duration) -> KeyObj {
        let now = Timestamp::now();
        let mut a = Arena::default();
        let info = msstore_key_info {
            struct_size: std::mem::size_of::<msstore_key_info>() as u32,
            kind: match k.kind {
                KeyKind::Collections => msstore_key_kind::MSSTORE_KEY_COLLECTIONS as i32,
                KeyKind::Purchase => msstore_key_kind::MSSTORE_KEY_PURCHASE as i32,
            },
            audience: a.s(&k.audience),
            client_id: a.s(&k.client_id),
            user_id: a.o(k.user_id.as_deref()),
            refresh_uri: a.o(k.refresh_uri.as_deref()),
            issued_at_unix_ms: k.issued_at.unix_millis(),
            not_before_unix_ms: k.not_before.map_or(0, |t| t.unix_millis()),
            expires_at_unix_ms: k.expires_at.unix_millis(),
            renew_after_unix_ms: k.renew_after(margin).unix_millis(),
            is_expired: u32::from(k.is_expired(now)),
            needs_renewal: u32::from(k.needs_renewal(now, margin)),
            value: a.s(raw),
        };
        KeyObj {
            _arena: a,
            info: Views(vec![info]),
            json: cstring(&k.describe(now, margin).to_string()),
        }
    }
}

/// Decodes (does not verify) a Store ID key, synchronously and without the network.
///
/// `key`: NUL-terminated UTF-8, at most 64 KiB. Ownership: on `MSSTORE_OK` the caller owns `*out`
/// (free with `msstore_key_free`); on failure `*out` is untouched and `*err` (if `err` is not
/// NULL) is a new error the caller frees. Errors: `MSSTORE_E_NULL_POINTER`,
/// `MSSTORE_E_INVALID_UTF8`, `MSSTORE_E_TOO_LONG`, `MSSTORE_E_INVALID_KEY`. Threading: any thread.
///
/// # Safety
/// `key` is NULL or NUL-terminated; `out` is writable; `err` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn msstore_key_decode(
    key: *const c_char,
    out: *mut *mut msstore_key,
    err: *mut *mut msstore_error,
) -> msstore_result {
    boundary!({
        // SAFETY: `key` is NULL or NUL-terminated; `err` NULL or writable (the contract).
        let decoded = unsafe { in_str(key, MAX_STR) }
            .map_err(|c| (c, error_for_code(c, "the key string is unusable")))
            .and_then(|s| StoreIdKey::decode(s).map_err(|e| (code_of(e.kind), e)));
        if out.is_null() {
            let code = msstore_result::MSSTORE_E_NULL_POINTER;
            // SAFETY: `err` is NULL or writable per the contract.
            return Ok(unsafe { fail(err, code, &error_for_code(code, "out is NULL")) });
        }
        Ok(match decoded {
            Ok(k) => {
                let h = handles::register(KeyObj::new(&k, k.as_secret().expose(), DEFAULT_MARGIN));
                // SAFETY: checked non-null above; writable per the contract.
                let _ = unsafe { write_out(out, h) };
                msstore_result::MSSTORE_OK
            }
            // SAFETY: `err` is NULL or writable per the contract.
            Err((code, e)) => unsafe { fail(err, code, &e) },
        })
    })
}
