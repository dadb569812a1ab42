//! `msstore_client`: creation from options or JSON, the completion queue, shutdown and free.

use super::admission::Admission;
use super::completion::{callback_depth, deliver, fail_for_shutdown, lock, Mode, Op};
use super::credential::credential_of;
use super::error::{code_of, error_for_code, fail};
use super::handles;
use super::lane::Lane;
use super::panic::boundary;
use super::strings::{in_opt_str, in_str, read_versioned_explained, write_out, MAX_JSON};
use super::types::{
    msstore_call_options, msstore_client, msstore_client_options, msstore_error, msstore_result,
};
use crate::config::{ClientConfig, EntraVersion};
use crate::error::Error;
use crate::Client;
use std::borrow::Borrow;
use std::collections::{HashSet, VecDeque};
use std::ffi::c_char;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

pub(crate) struct ClientState {
    /// `None` once shut down (dropping it stops the runtime).
    pub client: Option<Client>,
    pub shutting_down: bool,
    /// Operations whose callback has not returned yet.
    pub ops: HashSet<OpById>,
}

/// An operation in a client's table, found by its handle id (which it holds: no key beside it,
/// 8 bytes a slot instead of 16).
pub(crate) struct OpById(pub Arc<Op>);

impl PartialEq for OpById {
    fn eq(&self, other: &Self) -> bool {
        self.0.id() == other.0.id()
    }
}

impl Eq for OpById {}

impl Hash for OpById {
    fn hash<H: Hasher>(&self, h: &mut H) {
        self.0.id_ref().hash(h)
    }
}

impl Borrow<usize> for OpById {
    fn borrow(&self) -> &usize {
        self.0.id_ref()
    }
}

pub(crate) struct ClientObj {
    pub state: Mutex<ClientState>,
    /// Completed QUEUED operations waiting for `msstore_client_poll`.
    pub queue: Mutex<VecDeque<Arc<Op>>>,
    /// Signalled when an op is queued or delivered (shutdown waits on it).
    pub cv: Condvar,
    /// Paired with `queue`: wakes `msstore_client_wait` callers.
    pub queue_cv: Condvar,
    /// Threads blocked in `msstore_client_wait` (changed under the `queue` lock), so that
    /// queueing a completion makes no wake-up system call when nobody waits.
    pub queue_waiters: AtomicUsize,
    /// Set by shutdown: waiters return at once.
    pub closing: AtomicBool,
    pub default_mode: Mode,
    pub default_timeout_ms: u32,
    /// How long shutdown waits for callbacks running on other threads; 0 = as long as they run.
    pub shutdown_timeout_ms: AtomicU32,
    /// Operations beyond the running limit wait here, unstarted.
    pub admission: Admission,
    /// Completed IMMEDIATE operations waiting for a blocking-pool runner.
    pub lane: Arc<Lane<Arc<Op>>>,
}

impl ClientObj {
    fn new(client: Client, mode: Mode, timeout_ms: u32) -> ClientObj {
        ClientObj {
            admission: Admission::new(&client),
            lane: Lane::new(client.runtime_handle().clone(), |op| deliver(&op)),
            state: Mutex::new(ClientState {
                client: Some(client),
                shutting_down: false,
                ops: HashSet::new(),
            }),
            queue: Mutex::new(VecDeque::new()),
            cv: Condvar::new(),
            queue_cv: Condvar::new(),
            queue_waiters: AtomicUsize::new(0),
            closing: AtomicBool::new(false),
            default_mode: mode,
            default_timeout_ms: timeout_ms,
            shutdown_timeout_ms: AtomicU32::new(0),
        }
    }

    /// Queues a completed QUEUED operation for `msstore_client_poll`, waking `wait_ready`.
    pub(crate) fn push_completion(&self, op: Arc<Op>) {
        let mut q = lock(&self.queue);
        // A waiter sleeps only on an empty queue, and `notify_all` wakes every one: when the
        // queue already held a completion, its push woke them and they have not polled yet, so
        // the completions that arrive meanwhile share that one wake-up (no system call each).
        let wake = q.is_empty() && self.queue_waiters.load(Ordering::Relaxed) > 0;
        q.push_back(op);
        // Notified after the unlock (decided under it, so no waiter is missed): a waiter woken
        // while this thread still held the lock went back to sleep on the mutex, a second
        // wake-up per completion.
        drop(q);
        if wake {
            self.queue_cv.notify_all();
        }
        // A shutdown in progress delivers what is queued (it waits on `cv`, 20 ms at most).
        if self.closing.load(Ordering::Acquire) {
            self.cv.notify_all();
        }
    }

    /// `msstore_client_wait`: completions ready, after waiting up to `timeout` for one.
    fn wait_ready(&self, timeout: Duration) -> usize {
        let deadline = Instant::now().checked_add(timeout);
        let mut q = lock(&self.queue);
        loop {
            if !q.is_empty() || self.closing.load(Ordering::Acquire) {
                return q.len();
            }
            let now = Instant::now();
            let left = match deadline {
                Some(d) if d <= now => return 0,
                Some(d) => d - now,
                None => timeout,
            };
            // Counted under the lock `push_completion` holds while it checks the count, so a
            // completion queued after our emptiness check always wakes us.
            self.queue_waiters.fetch_add(1, Ordering::Relaxed);
            q = self
                .queue_cv
                .wait_timeout(q, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
            self.queue_waiters.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// Fails every operation in flight, delivers every callback not yet delivered (on this
    /// thread, for QUEUED and IMMEDIATE ops this call completed or found queued), waits for
    /// callbacks running on other threads (up to the bound set with
    /// `msstore_client_set_shutdown_timeout`: `MSSTORE_E_TIMEOUT` when it passed with callbacks
    /// still running), then stops the runtime. Idempotent.
    pub(crate) fn shutdown(self: &Arc<Self>) -> Result<(), msstore_result> {
        let pending: Vec<Arc<Op>> = {
            let mut st = lock(&self.state);
            st.shutting_down = true;
            st.ops.iter().map(|o| o.0.clone()).collect()
        };
        {
            let _q = lock(&self.queue);
            self.closing.store(true, Ordering::Release);
            self.queue_cv.notify_all();
        }
        for op in fail_for_shutdown(pending) {
            deliver(&op);
        }
        self.admission.close();
        let me = Arc::as_ptr(self) as usize;
        // No bound unless the caller set one: the promise is that no callback runs after this
        // returns, and a callback on another thread may legitimately take long.
        let bound = self.shutdown_timeout_ms.load(Ordering::Relaxed);
        let deadline = (bound != 0).then(|| Instant::now() + Duration::from_millis(bound.into()));
        let mut outcome = Ok(());
        loop {
            while let Some(op) = lock(&self.queue).pop_front() {
                deliver(&op);
            }
            // IMMEDIATE completions no runner took yet: delivered here, as the queued ones.
            while let Some(op) = self.lane.pop() {
                deliver(&op);
            }
            let st = lock(&self.state);
            // This thread's own callbacks (a shutdown from inside one) cannot be waited for.
            if st.ops.len() <= callback_depth(me) {
                break;
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                outcome = Err(msstore_result::MSSTORE_E_TIMEOUT);
                break;
            }
            let _ = self.cv.wait_timeout(st, Duration::from_millis(20));
        }
        let client = lock(&self.state).client.take();
        drop(client);
        outcome
    }
}

/// Fills `opts` with defaults and `struct_size = sizeof(msstore_client_options)`. Call it, then
/// set the credentials. Returns `MSSTORE_E_NULL_POINTER` for NULL.
///
/// # Safety
/// `opts` is NULL or points to a writable `msstore_client_options`.
#[no_mangle]
pub unsafe extern "C" fn msstore_client_options_init(
    opts: *mut msstore_client_options,
) -> msstore_result {
    boundary!({
        let v = msstore_client_options {
            struct_size: std::mem::size_of::<msstore_client_options>() as u32,
            entra_version: 2,
            ..Default::default()
        };
        // SAFETY: forwarded contract.
        unsafe { write_out(opts, v) }
    })
}

/// Fills `opts` with defaults (client's mode and timeout) and its `struct_size`.
///
/// # Safety
/// `opts` is NULL or points to a writable `msstore_call_options`.
#[no_mangle]
pub unsafe extern "C" fn msstore_call_options_init(
    opts: *mut msstore_call_options,
) -> msstore_result {
    boundary!({
        let v = msstore_call_options {
            struct_size: std::mem::size_of::<msstore_call_options>() as u32,
            ..Default::default()
        };
        // SAFETY: forwarded contract.
        unsafe { write_out(opts, v) }
    })
}

fn bad_arg(code: msstore_result, what: &str) -> (msstore_result, Error) {
    (code, error_for_code(code, what))
}

/// Reads one string field of the options; the error names the field.
///
/// # Safety
/// `p` is NULL or a NUL-terminated string.
unsafe fn field(p: *const c_char, name: &str) -> Result<Option<String>, (msstore_result, Error)> {
    // SAFETY: forwarded contract.
    unsafe { in_opt_str(p) }
        .map(|s| s.map(str::to_string))
        .map_err(|c| {
            bad_arg(
                c,
                &format!("client option {name}: {}", c.name().to_string_lossy()),
            )
        })
}

/// Creates a client from an options struct. Validates the configuration (no network).
///
/// Ownership: on `MSSTORE_OK`, `*out` is a new client the caller owns: free it with
/// `msstore_client_free`. On failure `*out` is untouched and, if `err` is not NULL, `*err` is a new
/// error the caller owns (free with `msstore_error_free`).
/// Errors: `MSSTORE_E_NULL_POINTER`, `MSSTORE_E_INVALID_ARGUMENT` (bad struct_size or enum),
/// `MSSTORE_E_INVALID_UTF8`, `MSSTORE_E_TOO_LONG`, `MSSTORE_E_CONFIGURATION`.
/// Threading: any thread. Strings are copied.
///
/// fork: a client belongs to the process that created it. In a child made by `fork()`, every
/// call with a client, operation, ledger or result handle the parent made returns
/// `MSSTORE_E_FORKED` without touching it (see `msstore_client_free`); create a new client in
/// the child. The parent's clients carry on unaffected.
///
/// # Safety
/// `opts` is a valid options struct (see `msstore_client_options_init`); `out` is writable; `err`
/// is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn msstore_client_new(
    opts: *const msstore_client_options,
    out: *mut *mut msstore_client,
    err: *mut *mut msstore_error,
) -> msstore_result {
    boundary!({
        // SAFETY: forwarded contract.
        Ok(unsafe { new_client(out, err, || options_settings(opts)) })
    })
}

/// What a client (or `doctor`) is built from: the configuration, the default completion mode
/// and the default operation timeout.
pub(crate) type Settings = (ClientConfig, Mode, u32);

/// The settings of an options struct.
///
/// # Safety
/// `opts` is NULL or a valid options struct (see `msstore_client_options_init`).
pub(crate) unsafe fn options_settings(
    opts: *const msstore_client_options,
) -> Result<Settings, (msstore_result, Error)> {
    // SAFETY: forwarded contract.
    let o =
        unsafe { read_versioned_explained(opts) }.map_err(|(c, message)| bad_arg(c, &message))?;
    // SAFETY: (all `field` calls) the struct's string fields are NULL or NUL-terminated.
    let req = |p, n| unsafe { field(p, n) };
    let mut cfg = ClientConfig::new(
        req(o.tenant_id, "tenant_id")?.unwrap_or_default(),
        req(o.client_id, "client_id")?.unwrap_or_default(),
        req(o.client_secret, "client_secret")?.unwrap_or_default(),
    );
    if let Some(u) = req(o.emulator_base_url, "emulator_base_url")? {
        cfg = cfg.with_emulator(&u);
    }
    if let Some(u) = req(o.login_base_url, "login_base_url")? {
        cfg.login_base_url = u;
    }
    if let Some(u) = req(o.collections_base_url, "collections_base_url")? {
        cfg.collections_base_url = u;
    }
    if let Some(u) = req(o.purchase_base_url, "purchase_base_url")? {
        cfg.purchase_base_url = u;
    }
    if let Some(s) = req(o.service_identity, "service_identity")? {
        cfg.service_identity = s;
    }
    cfg.extra_root_cert_pem = req(o.extra_root_cert_pem, "extra_root_cert_pem")?;
    cfg.extra_root_cert_path = req(o.extra_root_cert_path, "extra_root_cert_path")?;
    cfg.entra_version = match o.entra_version {
        0 | 2 => EntraVersion::V2,
        1 => EntraVersion::V1,
        _ => {
            return Err(bad_arg(
                msstore_result::MSSTORE_E_INVALID_ARGUMENT,
                "entra_version must be 1 or 2",
            ))
        }
    };
    let ms = |v: u32, d: Duration| {
        if v == 0 {
            d
        } else {
            Duration::from_millis(v.into())
        }
    };
    cfg.connect_timeout = ms(o.connect_timeout_ms, cfg.connect_timeout);
    cfg.request_timeout = ms(o.request_timeout_ms, cfg.request_timeout);
    cfg.token_refresh_margin = ms(o.token_refresh_margin_ms, cfg.token_refresh_margin);
    cfg.key_renew_margin = ms(o.key_renew_margin_ms, cfg.key_renew_margin);
    let r = &mut cfg.retry;
    r.base_delay = ms(o.retry_base_delay_ms, r.base_delay);
    r.max_delay = ms(o.retry_max_delay_ms, r.max_delay);
    r.max_retry_after = ms(o.max_retry_after_ms, r.max_retry_after);
    if o.max_idle_connections_per_host != 0 {
        cfg.max_idle_connections_per_host = o.max_idle_connections_per_host as usize;
    }
    if o.max_attempts != 0 {
        cfg.retry.max_attempts = o.max_attempts;
    }
    if o.worker_threads != 0 {
        cfg.worker_threads = o.worker_threads as usize;
    }
    if o.max_pages != 0 {
        cfg.max_pages = o.max_pages;
    }
    if o.max_connections_per_host != 0 {
        cfg.max_connections_per_host = o.max_connections_per_host as usize;
    }
    if o.max_response_bytes != 0 {
        // Past usize (32-bit targets): beyond the range `validate` accepts anyway.
        cfg.max_response_bytes = usize::try_from(o.max_response_bytes).unwrap_or(usize::MAX);
    }
    let mode = Mode::from_c(o.completion_mode)
        .map_err(|c| bad_arg(c, "completion_mode is not a msstore_completion_mode"))?
        .unwrap_or(Mode::Queued);
    credentials(&mut cfg, &o)?;
    Ok((cfg, mode, o.operation_timeout_ms))
}

/// The credential fields (added after `max_idle_connections_per_host`): a credential handle
/// wins over `client_secret`.
fn credentials(
    cfg: &mut ClientConfig,
    o: &msstore_client_options,
) -> Result<(), (msstore_result, Error)> {
    let handle = |p, name: &str| {
        credential_of(p).map_err(|c| {
            bad_arg(
                c,
                &format!("client option {name} is not a live msstore_credential"),
            )
        })
    };
    cfg.credential = handle(o.credential, "credential")?;
    cfg.previous_credential = handle(o.previous_credential, "previous_credential")?;
    if o.credential_expiry_warning_days != 0 {
        cfg.credential_expiry_warning_days = o.credential_expiry_warning_days;
    }
    Ok(())
}

/// Creates a client from a JSON configuration (NUL-terminated UTF-8, at most 1 MiB): the field
/// names of the Rust `ClientConfig` (`tenant_id`, `client_id`, `client_secret`,
/// `login_base_url`, …, durations in milliseconds) plus `emulator_base_url`,
/// `completion_mode` (`"queued"`, `"immediate"`, `"blocking"`, `"inline"`) and `operation_timeout_ms`.
/// Ownership, errors and threading as `msstore_client_new`.
///
/// # Safety
/// `json` is NULL or NUL-terminated; `out` is writable; `err` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn msstore_client_new_from_json(
    json: *const c_char,
    out: *mut *mut msstore_client,
    err: *mut *mut msstore_error,
) -> msstore_result {
    boundary!({
        // SAFETY: forwarded contract.
        Ok(unsafe { new_client(out, err, || json_settings(json)) })
    })
}

/// The settings of a JSON configuration.
///
/// # Safety
/// `json` is NULL or NUL-terminated.
pub(crate) unsafe fn json_settings(
    json: *const c_char,
) -> Result<Settings, (msstore_result, Error)> {
    // SAFETY: forwarded contract.
    let text = unsafe { in_str(json, MAX_JSON) }
        .map_err(|c| bad_arg(c, "the JSON configuration string is unusable"))?;
    let conf_err = |m: String| {
        (
            msstore_result::MSSTORE_E_CONFIGURATION,
            Error::configuration(m),
        )
    };
    let mut v: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| conf_err(format!("invalid JSON configuration: {e}")))?;
    let obj = v
        .as_object_mut()
        .ok_or_else(|| conf_err("the JSON configuration must be an object".into()))?;
    let emulator = obj.remove("emulator_base_url");
    let mode =
        match obj.remove("completion_mode") {
            None => Mode::Queued,
            Some(m) => match m.as_str().unwrap_or("") {
                "queued" => Mode::Queued,
                "immediate" => Mode::Immediate,
                "blocking" => Mode::Blocking,
                "inline" => Mode::Inline,
                _ => return Err(conf_err(
                    "completion_mode must be \"queued\", \"immediate\", \"blocking\" or \"inline\""
                        .into(),
                )),
            },
        };
    let timeout = match obj.remove("operation_timeout_ms") {
        None => 0,
        Some(t) => t
            .as_u64()
            .and_then(|t| u32::try_from(t).ok())
            .ok_or_else(|| conf_err("operation_timeout_ms must be a u32".into()))?,
    };
    let mut cfg = ClientConfig::from_json(&v.to_string()).map_err(|e| (code_of(e.kind), e))?;
    if let Some(u) = emulator {
        let u = u
            .as_str()
            .ok_or_else(|| conf_err("emulator_base_url must be a string".into()))?;
        let (l, c, p) = (
            cfg.login_base_url.clone(),
            cfg.collections_base_url.clone(),
            cfg.purchase_base_url.clone(),
        );
        let d = ClientConfig::default();
        cfg = cfg.with_emulator(u);
        // Explicit per-service URLs win over the emulator base.
        if l != d.login_base_url {
            cfg.login_base_url = l;
        }
        if c != d.collections_base_url {
            cfg.collections_base_url = c;
        }
        if p != d.purchase_base_url {
            cfg.purchase_base_url = p;
        }
    }
    Ok((cfg, mode, timeout))
}

/// The body of both constructors: checks `out`, builds the client from what `settings` read
/// (configuration, default completion mode, default operation timeout), and writes the handle
/// to `out` or the error to `err`.
///
/// # Safety
/// `out` is NULL or writable; `err` is NULL or writable.
unsafe fn new_client(
    out: *mut *mut msstore_client,
    err: *mut *mut msstore_error,
    settings: impl FnOnce() -> Result<Settings, (msstore_result, Error)>,
) -> msstore_result {
    let made = if out.is_null() {
        Err(bad_arg(
            msstore_result::MSSTORE_E_NULL_POINTER,
            "out is NULL",
        ))
    } else {
        settings().and_then(|(config, mode, timeout_ms)| {
            let client = Client::new(config).map_err(|e| (code_of(e.kind), e))?;
            Ok(handles::register(ClientObj::new(client, mode, timeout_ms)))
        })
    };
    match made {
        Ok(h) => {
            // SAFETY: non-null (checked) and writable per the contract.
            let _ = unsafe { write_out(out, h) };
            msstore_result::MSSTORE_OK
        }
        // SAFETY: `err` is NULL or writable per the contract.
        Err((code, e)) => unsafe { fail(err, code, &e) },
    }
}

/// Runs the callbacks of completed QUEUED operations on the calling thread: at most
/// `max_callbacks` (0: every one queued when the call starts). Returns how many ran, or -1 when
/// `client` is NULL or not a live client (freed, never created): a caller bug, not "nothing
/// ran". Callbacks may call any msstore function, including this one and
/// `msstore_client_free`. Threading: any thread; typically the game thread, once per frame.
#[no_mangle]
pub extern "C" fn msstore_client_poll(client: *mut msstore_client, max_callbacks: usize) -> isize {
    boundary!({
        let c = handles::get(client)?;
        let limit = if max_callbacks == 0 {
            lock(&c.queue).len()
        } else {
            max_callbacks
        };
        let mut ran = 0;
        while ran < limit {
            let Some(op) = lock(&c.queue).pop_front() else {
                break;
            };
            deliver(&op);
            ran += 1;
        }
        Ok(isize::try_from(ran).unwrap_or(isize::MAX))
    })
}

/// Blocks until at least one QUEUED completion is ready for `msstore_client_poll`, or
/// `timeout_ms` passes (0: do not block), or the client shuts down. Returns how many completions
/// are ready (0 on timeout), or -1 when `client` is NULL or not a live client, or when called
/// with a timeout from inside an INLINE callback (it would hold a library worker); it runs no
/// callback. For a
/// service thread that owns completions: `while (running) { msstore_client_wait(c, 100);
/// msstore_client_poll(c, 0); }` sleeps while nothing completes instead of spinning. A game loop
/// just calls `msstore_client_poll` once per frame. Threading: any thread (not from inside a
/// callback of the same client with a long timeout: its own completion cannot be polled
/// meanwhile).
#[no_mangle]
pub extern "C" fn msstore_client_wait(client: *mut msstore_client, timeout_ms: u32) -> isize {
    boundary!({
        let c = handles::get(client)?;
        if timeout_ms != 0 && super::completion::in_inline_callback() {
            return Ok(-1); // would wait on a library worker (see MSSTORE_COMPLETION_INLINE)
        }
        let ready = c.wait_ready(Duration::from_millis(timeout_ms.into()));
        Ok(isize::try_from(ready).unwrap_or(isize::MAX))
    })
}

/// Operations started on this client whose callback has not returned yet (in flight, queued, or
/// running). Threading: any thread.
#[no_mangle]
pub extern "C" fn msstore_client_pending(client: *const msstore_client) -> usize {
    boundary!({
        let c = handles::get(client)?;
        let n = lock(&c.state).ops.len();
        Ok(n)
    })
}

/// Shuts the client down without freeing the handle: new operations fail with
/// `MSSTORE_E_SHUTTING_DOWN`; every operation in flight completes with `MSSTORE_E_SHUTTING_DOWN`
/// and its callback runs **on the calling thread before this returns** (whatever its mode;
/// BLOCKING callers are woken and run theirs); QUEUED callbacks already queued run here too;
/// callbacks running on other threads are waited for, as long as they run (unless a bound was
/// set with `msstore_client_set_shutdown_timeout`). No callback is lost; none runs after this
/// returns. Safe to call from inside a callback (that callback is not waited for, so it is the
/// one callback that may still run: it is the caller's own). Idempotent.
/// Returns `MSSTORE_OK`, `MSSTORE_E_TIMEOUT` (the bound passed while callbacks still ran on
/// other threads: they may run after this returns), `MSSTORE_E_NULL_POINTER`,
/// `MSSTORE_E_INVALID_HANDLE` or `MSSTORE_E_FORKED` (a client of the parent process, used in a
/// child after `fork()`: nothing is done).
#[no_mangle]
pub extern "C" fn msstore_client_shutdown(client: *mut msstore_client) -> msstore_result {
    boundary!({ handles::get(client)?.shutdown() })
}

/// Bounds how long `msstore_client_shutdown` and `msstore_client_free` wait for callbacks
/// running on other threads: `timeout_ms` 0 (the default) waits as long as they run, which keeps
/// the promise that no callback runs after those calls return; a bound trades that promise for a
/// shutdown that cannot hang on a callback that never returns (they then return
/// `MSSTORE_E_TIMEOUT`, and the callbacks still running finish later: keep their user_data
/// alive). Returns `MSSTORE_OK`, `MSSTORE_E_NULL_POINTER`, `MSSTORE_E_INVALID_HANDLE` or
/// `MSSTORE_E_FORKED`. Threading: any thread.
#[no_mangle]
pub extern "C" fn msstore_client_set_shutdown_timeout(
    client: *mut msstore_client,
    timeout_ms: u32,
) -> msstore_result {
    boundary!({
        let c = handles::get(client)?;
        c.shutdown_timeout_ms.store(timeout_ms, Ordering::Relaxed);
        Ok(())
    })
}

/// Shuts the client down (as `msstore_client_shutdown`, waiting as long as callbacks run on
/// other threads unless `msstore_client_set_shutdown_timeout` set a bound) and frees the handle.
/// Returns `MSSTORE_OK`, or `MSSTORE_E_TIMEOUT` when the bound passed (the handle is freed all
/// the same). NULL is a no-op; a freed or foreign handle is ignored and gives
/// `MSSTORE_E_INVALID_HANDLE`. Result and error handles obtained from this client stay valid and
/// must still be freed. Threading: any thread; other threads' calls on this client fail with
/// `MSSTORE_E_INVALID_HANDLE` from then on.
///
/// After `fork()`, in the child: a client made by the parent answers every call with
/// `MSSTORE_E_FORKED`, and freeing it returns that code and leaks it on purpose (its runtime
/// shares the parent's epoll instance; dropping it would deregister the parent's sockets). The
/// parent is unaffected; a client created in the child works normally.
#[no_mangle]
pub extern "C" fn msstore_client_free(client: *mut msstore_client) -> msstore_result {
    boundary!({
        if client.is_null() {
            return Ok(());
        }
        handles::remove(client)?.shutdown()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(struct_size: usize, cap: u32) -> msstore_client_options {
        let mut o = msstore_client_options {
            struct_size: struct_size as u32,
            tenant_id: c"tenant".as_ptr(),
            client_id: c"client".as_ptr(),
            client_secret: c"secret".as_ptr(),
            emulator_base_url: c"http://127.0.0.1:9".as_ptr(),
            ..Default::default()
        };
        o.max_connections_per_host = cap;
        o
    }

    fn config_of(o: &msstore_client_options) -> ClientConfig {
        let mut out: *mut msstore_client = std::ptr::null_mut();
        // SAFETY: `o` is a valid options struct; `out` is a writable local; `err` is NULL.
        let r = unsafe { msstore_client_new(o, &mut out, std::ptr::null_mut()) };
        assert_eq!(r, msstore_result::MSSTORE_OK);
        let c = handles::get(out).unwrap();
        let config = lock(&c.state).client.as_ref().unwrap().config().clone();
        assert_eq!(msstore_client_free(out), msstore_result::MSSTORE_OK);
        config
    }

    #[test]
    fn response_cap_option_starts_at_the_older_struct_end_and_is_checked() {
        // The struct before this field ended at max_connections_per_host, rounded up to pointer
        // alignment; the field must start there, not in that struct's tail padding.
        let end = std::mem::offset_of!(msstore_client_options, max_connections_per_host) + 4;
        let old = end.next_multiple_of(std::mem::align_of::<*const c_char>());
        assert_eq!(
            std::mem::offset_of!(msstore_client_options, max_response_bytes),
            old
        );
        let full = std::mem::size_of::<msstore_client_options>();
        let mut o = opts(full, 0);
        o.max_response_bytes = 100_000;
        assert_eq!(config_of(&o).max_response_bytes, 100_000);
        o.max_response_bytes = 0;
        assert_eq!(
            config_of(&o).max_response_bytes,
            crate::config::DEFAULT_MAX_RESPONSE_BYTES
        );
        // An older caller whose struct ends before the field: garbage after it is ignored.
        let mut o = opts(old, 0);
        o.max_response_bytes = 100_000;
        assert_eq!(
            config_of(&o).max_response_bytes,
            crate::config::DEFAULT_MAX_RESPONSE_BYTES
        );
        let mut o = opts(full, 0);
        o.max_response_bytes = 1;
        let mut out: *mut msstore_client = std::ptr::null_mut();
        let mut err: *mut msstore_error = std::ptr::null_mut();
        // SAFETY: `o` is a valid options struct; `out` and `err` are writable locals.
        let r = unsafe { msstore_client_new(&o, &mut out, &mut err) };
        assert_eq!(r, msstore_result::MSSTORE_E_CONFIGURATION);
        assert!(out.is_null());
        assert!(!err.is_null());
        assert_eq!(
            super::super::accessors::msstore_error_free(err),
            msstore_result::MSSTORE_OK
        );
    }

    #[test]
    fn every_json_setting_has_an_option_field() {
        let mut o = opts(std::mem::size_of::<msstore_client_options>(), 0);
        o.token_refresh_margin_ms = 1_000;
        o.key_renew_margin_ms = 2_000;
        o.retry_base_delay_ms = 3;
        o.retry_max_delay_ms = 4_000;
        o.max_retry_after_ms = 5_000;
        o.max_idle_connections_per_host = 6;
        let c = config_of(&o);
        assert_eq!(c.extra_root_cert_pem, None);
        assert_eq!(c.token_refresh_margin, Duration::from_secs(1));
        assert_eq!(c.key_renew_margin, Duration::from_secs(2));
        assert_eq!(c.retry.base_delay, Duration::from_millis(3));
        assert_eq!(c.retry.max_delay, Duration::from_secs(4));
        assert_eq!(c.retry.max_retry_after, Duration::from_secs(5));
        assert_eq!(c.max_idle_connections_per_host, 6);
        // Zero (and an older caller's shorter struct) keeps the defaults.
        let d = ClientConfig::default();
        let old = std::mem::offset_of!(msstore_client_options, extra_root_cert_pem);
        let c = config_of(&opts(old, 0));
        assert_eq!(c.extra_root_cert_pem, None);
        assert_eq!(c.key_renew_margin, d.key_renew_margin);
        assert_eq!(c.retry.base_delay, d.retry.base_delay);
        assert_eq!(
            c.max_idle_connections_per_host,
            d.max_idle_connections_per_host
        );
        // The extra root is read: a PEM without a certificate is refused.
        o.extra_root_cert_pem = c"not a certificate".as_ptr();
        let mut out: *mut msstore_client = std::ptr::null_mut();
        let mut err: *mut msstore_error = std::ptr::null_mut();
        // SAFETY: `o` is a valid options struct; `out` and `err` are writable locals.
        let r = unsafe { msstore_client_new(&o, &mut out, &mut err) };
        assert_eq!(r, msstore_result::MSSTORE_E_CONFIGURATION);
        assert!(out.is_null());
        assert_eq!(
            super::super::accessors::msstore_error_free(err),
            msstore_result::MSSTORE_OK
        );
    }

    fn cap_of(o: &msstore_client_options) -> usize {
        config_of(o).max_connections_per_host
    }

    #[test]
    fn connection_cap_option_and_older_callers() {
        let full = std::mem::size_of::<msstore_client_options>();
        assert_eq!(cap_of(&opts(full, 7)), 7);
        assert_eq!(
            cap_of(&opts(full, 0)),
            crate::config::DEFAULT_MAX_CONNECTIONS_PER_HOST
        );
        // A caller built before the field existed: whatever follows its struct is ignored.
        let old = std::mem::offset_of!(msstore_client_options, max_connections_per_host);
        assert_eq!(
            cap_of(&opts(old, 7)),
            crate::config::DEFAULT_MAX_CONNECTIONS_PER_HOST
        );
    }
}
