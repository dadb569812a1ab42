//! Safe Rust calls into the C ABI, made exactly as a C caller makes them: option structs holding
//! pointers to NUL-terminated strings, a C callback, opaque user data. The benchmark harness
//! (`msstore-bench`) and the criterion micro-benchmarks drive the C ABI through this module, so
//! that every `unsafe` block stays in `src/ffi`.
//!
//! Not part of the C ABI (nothing here is `#[no_mangle]`); hidden from the docs.

use super::client::msstore_client_new_from_json;
use super::client::{msstore_client_free, msstore_client_new, msstore_client_options_init};
use super::client::{msstore_client_pending, msstore_client_poll, msstore_client_wait};
use super::ops::{
    msstore_client_consume, msstore_client_get_token, msstore_client_query_entitlements,
    msstore_client_renew_key,
};
use super::types::{
    msstore_audience, msstore_client, msstore_client_options, msstore_completion_cb,
    msstore_consume_options, msstore_query_options,
};
use std::ffi::{c_char, c_void, CString};

// The C types a driver caller names (the C ABI module itself is not part of the Rust API).
pub use super::types::{msstore_completion_mode, msstore_op, msstore_result};

/// The runtime a client's operations run on: the benchmark's Rust-API variant drives its load
/// there, as the C ABI does (not part of the library's API).
pub fn runtime_handle(client: &crate::Client) -> tokio::runtime::Handle {
    client.runtime_handle().clone()
}

/// Builds a C string, refusing interior NULs (what a C caller could not send either).
fn c_string(s: &str) -> Result<CString, msstore_result> {
    CString::new(s).map_err(|_| msstore_result::MSSTORE_E_INVALID_ARGUMENT)
}

/// What `msstore_client_new` needs for an emulator-backed client.
pub struct CClientConfig<'a> {
    pub emulator_base_url: &'a str,
    pub tenant_id: &'a str,
    pub client_id: &'a str,
    pub client_secret: &'a str,
    pub completion_mode: msstore_completion_mode,
    /// 0 = library default.
    pub worker_threads: u32,
    /// An extra trusted root (PEM), e.g. the emulator's TLS test certificate. A client with one
    /// is made through `msstore_client_new_from_json`, so that the benchmarks drive that
    /// constructor too.
    pub extra_root_cert_pem: Option<&'a str>,
    /// `initial_connections_per_host` (JSON only: a client with one is made from JSON too);
    /// `None` = the library default.
    pub initial_connections_per_host: Option<usize>,
}

/// An owned `msstore_client*`, freed on drop.
pub struct CClient {
    raw: *mut msstore_client,
}

// SAFETY: the C ABI documents a client handle as safe to share across threads; the pointer is
// an opaque id the library validates on every call, never dereferenced by Rust code.
unsafe impl Send for CClient {}
// SAFETY: as above; every function taking the handle may be called from any thread.
unsafe impl Sync for CClient {}

impl CClient {
    pub fn new(cfg: &CClientConfig<'_>) -> Result<CClient, msstore_result> {
        if cfg.extra_root_cert_pem.is_some() || cfg.initial_connections_per_host.is_some() {
            return CClient::new_from_json(cfg);
        }
        let url = c_string(cfg.emulator_base_url)?;
        let tenant = c_string(cfg.tenant_id)?;
        let client_id = c_string(cfg.client_id)?;
        let secret = c_string(cfg.client_secret)?;
        // SAFETY: an all-zero options struct is valid (NULL strings, zero numbers); it is
        // initialised by `msstore_client_options_init` right below anyway.
        let mut o: msstore_client_options = unsafe { std::mem::zeroed() };
        // SAFETY: `o` is a writable options struct.
        let r = unsafe { msstore_client_options_init(&mut o) };
        if r != msstore_result::MSSTORE_OK {
            return Err(r);
        }
        o.emulator_base_url = url.as_ptr();
        o.tenant_id = tenant.as_ptr();
        o.client_id = client_id.as_ptr();
        o.client_secret = secret.as_ptr();
        o.completion_mode = cfg.completion_mode as i32;
        o.worker_threads = cfg.worker_threads;
        let mut raw: *mut msstore_client = std::ptr::null_mut();
        // SAFETY: `o` is initialised and its strings outlive the call (they are copied);
        // `raw` is writable; `err` is NULL.
        let r = unsafe { msstore_client_new(&o, &mut raw, std::ptr::null_mut()) };
        if r != msstore_result::MSSTORE_OK {
            return Err(r);
        }
        Ok(CClient { raw })
    }

    /// `msstore_client_new_from_json` with the same settings as the options struct would carry.
    fn new_from_json(cfg: &CClientConfig<'_>) -> Result<CClient, msstore_result> {
        use msstore_completion_mode::*;
        let mode = match cfg.completion_mode {
            MSSTORE_COMPLETION_IMMEDIATE => "immediate",
            MSSTORE_COMPLETION_BLOCKING => "blocking",
            MSSTORE_COMPLETION_INLINE => "inline",
            MSSTORE_COMPLETION_DEFAULT | MSSTORE_COMPLETION_QUEUED => "queued",
        };
        let mut j = serde_json::json!({
            "emulator_base_url": cfg.emulator_base_url,
            "tenant_id": cfg.tenant_id,
            "client_id": cfg.client_id,
            "client_secret": cfg.client_secret,
            "completion_mode": mode,
            "extra_root_cert_pem": cfg.extra_root_cert_pem,
        });
        if cfg.worker_threads != 0 {
            j["worker_threads"] = cfg.worker_threads.into();
        }
        if let Some(n) = cfg.initial_connections_per_host {
            j["initial_connections_per_host"] = n.into();
        }
        let text = c_string(&j.to_string())?;
        let mut raw: *mut msstore_client = std::ptr::null_mut();
        // SAFETY: `text` is NUL-terminated and outlives the call; `raw` is writable; `err` is
        // NULL.
        let r =
            unsafe { msstore_client_new_from_json(text.as_ptr(), &mut raw, std::ptr::null_mut()) };
        if r != msstore_result::MSSTORE_OK {
            return Err(r);
        }
        Ok(CClient { raw })
    }

    /// Starts an entitlement query; `user_data` comes back to `cb` untouched.
    pub fn query(&self, q: &CQuery, cb: msstore_completion_cb, user_data: usize) -> msstore_result {
        self.query_to(q, cb, user_data, std::ptr::null_mut())
    }

    /// `query`, also writing the operation handle to `out_op` (as the C# and C++ wrappers do):
    /// the handle is the caller's until `msstore_op_free`.
    pub fn query_held(
        &self,
        q: &CQuery,
        cb: msstore_completion_cb,
        user_data: usize,
    ) -> (msstore_result, *mut msstore_op) {
        let mut op = std::ptr::null_mut();
        let code = self.query_to(q, cb, user_data, &mut op);
        (code, op)
    }

    fn query_to(
        &self,
        q: &CQuery,
        cb: msstore_completion_cb,
        user_data: usize,
        out_op: *mut *mut msstore_op,
    ) -> msstore_result {
        let opts = msstore_query_options {
            struct_size: std::mem::size_of::<msstore_query_options>() as u32,
            api_version: 9,
            collections_key: q.key.as_ptr(),
            product_ids: q.id_ptrs.as_ptr(),
            sku_ids: std::ptr::null(),
            product_count: q.id_ptrs.len(),
            single_page: 0,
            continuation_token: std::ptr::null(),
            max_page_size: q.max_page_size,
            include_duplicates: 0,
            validity_type: std::ptr::null(),
            sbx: std::ptr::null(),
        };
        // SAFETY: `opts` points into `q`, whose strings are NUL-terminated and live for the
        // call (the library copies them); `call` is NULL, `out_op` NULL or writable.
        unsafe {
            msstore_client_query_entitlements(
                self.raw,
                &opts,
                std::ptr::null(),
                cb,
                user_data as *mut c_void,
                out_op,
            )
        }
    }

    /// Starts a store-managed consume of `quantity` units (a fresh trackingId each call).
    pub fn consume(
        &self,
        c: &CConsume,
        cb: msstore_completion_cb,
        user_data: usize,
    ) -> msstore_result {
        let opts = msstore_consume_options {
            struct_size: std::mem::size_of::<msstore_consume_options>() as u32,
            collections_key: c.key.as_ptr(),
            product_id: c.product_id.as_ptr(),
            quantity: c.quantity,
            tracking_id: std::ptr::null(),
            sbx: std::ptr::null(),
        };
        // SAFETY: as in `query`: valid NUL-terminated strings owned by `c`, NULL call/out_op.
        unsafe {
            msstore_client_consume(
                self.raw,
                &opts,
                std::ptr::null(),
                cb,
                user_data as *mut c_void,
                std::ptr::null_mut(),
            )
        }
    }

    /// Starts a key renewal.
    pub fn renew_key(
        &self,
        key: &CString,
        cb: msstore_completion_cb,
        user_data: usize,
    ) -> msstore_result {
        // SAFETY: `key` is NUL-terminated and outlives the call; NULL call/out_op.
        unsafe {
            msstore_client_renew_key(
                self.raw,
                key.as_ptr(),
                std::ptr::null(),
                cb,
                user_data as *mut c_void,
                std::ptr::null_mut(),
            )
        }
    }

    /// Starts a service-token request (served from the cache once warm).
    pub fn service_token(&self, cb: msstore_completion_cb, user_data: usize) -> msstore_result {
        // SAFETY: NULL call options and out_op are allowed.
        unsafe {
            msstore_client_get_token(
                self.raw,
                msstore_audience::MSSTORE_AUDIENCE_SERVICE as i32,
                std::ptr::null(),
                cb,
                user_data as *mut c_void,
                std::ptr::null_mut(),
            )
        }
    }

    /// Runs queued callbacks on this thread (0 = all queued).
    pub fn poll(&self, max_callbacks: usize) -> usize {
        // -1 (an invalid client) cannot happen: `self` owns a live client.
        usize::try_from(msstore_client_poll(self.raw, max_callbacks)).unwrap_or(0)
    }

    /// Blocks until a queued completion is ready or `timeout_ms` passes; how many are ready.
    pub fn wait(&self, timeout_ms: u32) -> usize {
        usize::try_from(msstore_client_wait(self.raw, timeout_ms)).unwrap_or(0)
    }

    /// Operations whose callback has not returned yet.
    pub fn pending(&self) -> usize {
        msstore_client_pending(self.raw)
    }
}

impl Drop for CClient {
    fn drop(&mut self) {
        msstore_client_free(self.raw);
    }
}

/// A v9 query's arguments as C strings, built once and reused for every call.
pub struct CQuery {
    key: CString,
    _ids: Vec<CString>,
    id_ptrs: Vec<*const c_char>,
    max_page_size: u32,
}

// SAFETY: the raw pointers point into `_ids`, owned by the same struct and never mutated or
// moved (a CString's buffer is on the heap), so sharing them across threads is sound.
unsafe impl Send for CQuery {}
// SAFETY: as above; the struct is read-only after construction.
unsafe impl Sync for CQuery {}

impl CQuery {
    /// `max_page_size` 0 = the library default (100).
    pub fn new(
        key: &str,
        product_ids: &[String],
        max_page_size: u32,
    ) -> Result<CQuery, msstore_result> {
        let ids = product_ids
            .iter()
            .map(|s| c_string(s))
            .collect::<Result<Vec<_>, _>>()?;
        let id_ptrs = ids.iter().map(|s| s.as_ptr()).collect();
        Ok(CQuery {
            key: c_string(key)?,
            _ids: ids,
            id_ptrs,
            max_page_size,
        })
    }
}

/// A consume's arguments as C strings.
pub struct CConsume {
    key: CString,
    product_id: CString,
    quantity: u32,
}

impl CConsume {
    pub fn new(key: &str, product_id: &str, quantity: u32) -> Result<CConsume, msstore_result> {
        Ok(CConsume {
            key: c_string(key)?,
            product_id: c_string(product_id)?,
            quantity,
        })
    }
}

/// A key as a C string, for [`CClient::renew_key`].
pub fn key_c_string(key: &str) -> Result<CString, msstore_result> {
    c_string(key)
}
