//! `msstore_credential`: the credential forms of issue 15 as handles (client secret, secret file,
//! certificate, federated token file, managed identity, caller-supplied token provider), given to
//! `msstore_client_options.credential` / `previous_credential`. A handle holds one
//! [`Credential`]; each client holding it keeps its own clone, so the handle may be freed as soon
//! as the clients are created. A provider's `release` runs when the last clone is dropped.

use super::completion::lock;
use super::handles;
use super::log::redact;
use super::panic::boundary;
use super::strings::{in_opt_str, in_opt_string, non_null, read_versioned, write_out};
use super::types::{msstore_audience, msstore_client, msstore_result, Versioned};
use crate::credential::{
    CertificateCredential, Credential, ManagedIdentityCredential, ProvidedToken, TokenProvider,
};
use crate::error::{Error, ErrorKind, Result};
use crate::secret::SecretString;
use crate::time::Timestamp;
use crate::token::Audience;
use std::ffi::{c_char, c_void};
use std::sync::Mutex;

/// A credential for `msstore_client_options.credential` / `previous_credential`. Immutable and
/// thread-safe; reference-counted inside: every client created with it keeps its own reference,
/// so `msstore_credential_free` may be called right after `msstore_client_new`.
pub struct msstore_credential {
    _private: [u8; 0],
}

/// Where a token provider callback puts its answer (`msstore_token_sink_set`, or
/// `msstore_token_sink_fail`). Valid only during the callback it was passed to.
pub struct msstore_token_sink {
    _private: [u8; 0],
}

pub(crate) struct CredentialObj {
    pub(crate) credential: Credential,
}

/// Options of a certificate credential (`msstore_credential_new_certificate`). Set
/// `struct_size = sizeof(msstore_certificate_options)` (`msstore_certificate_options_init` does
/// it). Set exactly one of `certificate_pem` and `certificate_path`, and at most one of
/// `private_key_pem` and `private_key_path`. Strings are copied.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct msstore_certificate_options {
    pub struct_size: u32,
    /// PEM text: the app certificate first, then its chain (and the key, when no key source is
    /// set). NULL = use `certificate_path`.
    pub certificate_pem: *const c_char,
    /// A PEM file, re-read at each token fetch and parsed again when it changes (a Kubernetes
    /// secret mount, the Key Vault CSI driver folder).
    pub certificate_path: *const c_char,
    /// PEM private key, PKCS#8 (`BEGIN PRIVATE KEY`) or PKCS#1 (`BEGIN RSA PRIVATE KEY`). A
    /// secret: copied, never logged. NULL (with `private_key_path` NULL) = the key is in the
    /// certificate source.
    pub private_key_pem: *const c_char,
    /// The key in a file, re-read like `certificate_path`.
    pub private_key_path: *const c_char,
    /// Non-zero: also send the chain as `x5c` (subject name + issuer authentication).
    pub send_x5c: u32,
}
// SAFETY: repr(C), u32 first, only integers and raw pointers.
unsafe impl Versioned for msstore_certificate_options {}

/// Options of a managed-identity credential (`msstore_credential_new_managed_identity`): its
/// token for `api://AzureADTokenExchange` is the client assertion of the Store app. Set
/// `struct_size` (`msstore_managed_identity_options_init`). Strings are copied; NULL = default.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct msstore_managed_identity_options {
    pub struct_size: u32,
    /// Client id of a user-assigned identity; NULL = the system-assigned one.
    pub client_id: *const c_char,
    /// The identity endpoint. NULL = the Azure Instance Metadata Service
    /// (`http://169.254.169.254/metadata/identity/oauth2/token`); required with
    /// `identity_header` (App Service / Container Apps `IDENTITY_ENDPOINT`).
    pub endpoint: *const c_char,
    /// App Service / Container Apps `IDENTITY_HEADER`, sent as `X-IDENTITY-HEADER`. A secret.
    pub identity_header: *const c_char,
}
// SAFETY: repr(C), u32 first, only raw pointers.
unsafe impl Versioned for msstore_managed_identity_options {}

super::types::zeroed_default!(
    msstore_certificate_options,
    msstore_managed_identity_options
);

/// A caller-supplied token source (an engine's own vault). Called on a library thread, at most
/// once per audience at a time: the token cache keeps single-flight and refresh-ahead around it.
/// `audience` is a `msstore_audience` value. Returns a `msstore_result` (declared `int32_t`, the
/// type `msstore_result` is, so that any value C returns is defined behaviour). Fill `sink` with
/// `msstore_token_sink_set` and return `MSSTORE_OK`; to fail the fetch return any other code, or call `msstore_token_sink_fail`, or
/// leave the sink empty: the operation fails with `MSSTORE_E_ENTRA_AUTH`, or `MSSTORE_E_NETWORK`
/// when `msstore_token_sink_fail` said `retryable`. The callback may block (it runs on a
/// blocking-capable thread) but should answer within the operation's timeout. It must not call
/// blocking msstore functions that wait for this client's token.
pub type msstore_token_provider_cb = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        audience: i32,
        sink: *mut msstore_token_sink,
    ) -> i32,
>;

/// Called once with the `user_data` of a provider when nothing uses the provider any more (its
/// credential handle is freed and every client holding it is freed). It may run on any thread,
/// including a library thread or inside `msstore_credential_free` / `msstore_client_free`.
pub type msstore_release_cb = Option<unsafe extern "C" fn(user_data: *mut c_void)>;

/// What the callback put in its sink.
#[derive(Default)]
pub(crate) struct SinkObj {
    answer: Mutex<Option<SinkAnswer>>,
}

enum SinkAnswer {
    Token(ProvidedToken),
    Failed { retryable: bool, message: String },
}

/// The C callback as a [`TokenProvider`]. `user_data` is kept as an address: the library never
/// dereferences it, only hands it back to the caller's functions, which the caller documented as
/// callable from library threads.
struct CProvider {
    cb: unsafe extern "C" fn(*mut c_void, i32, *mut msstore_token_sink) -> i32,
    user_data: usize,
    release: msstore_release_cb,
}

fn c_audience(a: Audience) -> i32 {
    (match a {
        Audience::Service => msstore_audience::MSSTORE_AUDIENCE_SERVICE,
        Audience::CollectionsKeyCreate => msstore_audience::MSSTORE_AUDIENCE_COLLECTIONS_KEY_CREATE,
        Audience::PurchaseKeyCreate => msstore_audience::MSSTORE_AUDIENCE_PURCHASE_KEY_CREATE,
    }) as i32
}

impl TokenProvider for CProvider {
    fn token(&self, audience: Audience) -> Result<ProvidedToken> {
        let sink: *mut msstore_token_sink = handles::register(SinkObj::default());
        // SAFETY: `cb` is the caller's provider, documented as callable from library threads
        // with its own `user_data`; the sink is a live handle until we remove it below.
        let code = unsafe { (self.cb)(self.user_data as *mut c_void, c_audience(audience), sink) };
        // Removed before anything else: a sink kept by the callback is a stale handle from now.
        let answer = handles::remove(sink)
            .ok()
            .and_then(|s| s.answer.lock().unwrap_or_else(|p| p.into_inner()).take());
        let uri = audience.uri();
        let ok = code == msstore_result::MSSTORE_OK as i32;
        match (ok, answer) {
            (true, Some(SinkAnswer::Token(t))) => Ok(t),
            (_, Some(SinkAnswer::Failed { retryable, message })) => Err(Error::new(
                if retryable {
                    ErrorKind::Network
                } else {
                    ErrorKind::EntraAuth
                },
                format!("the token provider failed for {uri}: {}", redact(&message)),
            )),
            (true, _) => Err(Error::new(
                ErrorKind::EntraAuth,
                format!(
                    "the token provider returned MSSTORE_OK without a token for {uri} (call \
                     msstore_token_sink_set before returning)"
                ),
            )),
            (false, _) => Err(Error::new(
                ErrorKind::EntraAuth,
                format!(
                    "the token provider failed for {uri} with code {code}{}",
                    msstore_result::from_i32(code)
                        .map(|c| format!(" ({})", c.name().to_string_lossy()))
                        .unwrap_or_default()
                ),
            )),
        }
    }
}

impl Drop for CProvider {
    fn drop(&mut self) {
        if let Some(release) = self.release {
            // SAFETY: the caller's release function, called once (the provider's last
            // reference is going) with the caller's own `user_data`.
            unsafe { release(self.user_data as *mut c_void) };
        }
    }
}

/// Registers a credential and writes its handle to `out`.
///
/// # Safety
/// `out` is NULL or writable.
unsafe fn publish(
    credential: Credential,
    out: *mut *mut msstore_credential,
) -> std::result::Result<(), msstore_result> {
    non_null(out)?;
    let h = handles::register(CredentialObj { credential });
    // SAFETY: forwarded contract (non-null checked).
    unsafe { write_out(out, h) }
}

/// An optional string option that, when given, must not be blank.
///
/// # Safety
/// `p` is NULL or NUL-terminated.
unsafe fn opt_field(p: *const c_char) -> std::result::Result<Option<String>, msstore_result> {
    // SAFETY: forwarded contract.
    match unsafe { in_opt_string(p) }? {
        Some(s) if s.trim().is_empty() => Err(msstore_result::MSSTORE_E_INVALID_ARGUMENT),
        s => Ok(s),
    }
}

/// A required, non-blank string argument.
///
/// # Safety
/// `p` is NULL or NUL-terminated.
unsafe fn req_field(p: *const c_char) -> std::result::Result<String, msstore_result> {
    // SAFETY: forwarded contract.
    unsafe { opt_field(p) }?.ok_or(msstore_result::MSSTORE_E_NULL_POINTER)
}

/// A client-secret credential (the same as `msstore_client_options.client_secret`). The secret
/// is copied and never logged.
///
/// Ownership: on `MSSTORE_OK` the caller owns `*out` (free with `msstore_credential_free`).
/// Errors: `MSSTORE_E_NULL_POINTER`, `MSSTORE_E_INVALID_UTF8`, `MSSTORE_E_TOO_LONG`,
/// `MSSTORE_E_INVALID_ARGUMENT` (empty). Threading: any thread.
///
/// # Safety
/// `secret` is NULL or NUL-terminated; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn msstore_credential_new_secret(
    secret: *const c_char,
    out: *mut *mut msstore_credential,
) -> msstore_result {
    boundary!({
        // SAFETY: forwarded contract.
        let secret = unsafe { req_field(secret) }?;
        let credential = Credential::Secret {
            secret: SecretString::new(secret),
        };
        // SAFETY: forwarded contract.
        unsafe { publish(credential, out) }
    })
}

/// A client secret read from the file at `path` (a Kubernetes secret mount, the Key Vault CSI
/// driver folder), re-read at each token fetch so a rotated secret needs no restart; a trailing
/// newline is not part of it. The file is read at token fetches, not here.
///
/// Ownership, errors and threading as `msstore_credential_new_secret`.
///
/// # Safety
/// `path` is NULL or NUL-terminated; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn msstore_credential_new_secret_file(
    path: *const c_char,
    out: *mut *mut msstore_credential,
) -> msstore_result {
    boundary!({
        // SAFETY: forwarded contract.
        let path = unsafe { req_field(path) }?;
        // SAFETY: forwarded contract.
        unsafe { publish(Credential::SecretFile { path }, out) }
    })
}

/// Workload identity federation: the client assertion is the content of the file at `path`
/// (AKS writes it at `AZURE_FEDERATED_TOKEN_FILE` and refreshes it), re-read at each token fetch.
///
/// Ownership, errors and threading as `msstore_credential_new_secret`.
///
/// # Safety
/// `path` is NULL or NUL-terminated; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn msstore_credential_new_federated_token_file(
    path: *const c_char,
    out: *mut *mut msstore_credential,
) -> msstore_result {
    boundary!({
        // SAFETY: forwarded contract.
        let path = unsafe { req_field(path) }?;
        // SAFETY: forwarded contract.
        unsafe { publish(Credential::FederatedTokenFile { path }, out) }
    })
}

/// Fills `o` with defaults (every source NULL, no `x5c`) and `struct_size`.
/// Returns `MSSTORE_E_NULL_POINTER` for NULL.
///
/// # Safety
/// `o` is NULL or points to a writable `msstore_certificate_options`.
#[no_mangle]
pub unsafe extern "C" fn msstore_certificate_options_init(
    o: *mut msstore_certificate_options,
) -> msstore_result {
    boundary!({
        let v = msstore_certificate_options {
            struct_size: std::mem::size_of::<msstore_certificate_options>() as u32,
            ..Default::default()
        };
        // SAFETY: forwarded contract.
        unsafe { write_out(o, v) }
    })
}

/// A certificate credential: each token request carries a fresh client assertion (RS256, with
/// `x5t#S256` and `x5t`) signed with the certificate's key
/// (https://learn.microsoft.com/en-us/entra/identity-platform/certificate-credentials).
/// Only the arguments are checked here; the certificate and key are read and matched by
/// `msstore_client_new`, whose error says what is wrong (a file missing, a key of another
/// certificate).
///
/// Ownership and threading as `msstore_credential_new_secret`. Errors: `MSSTORE_E_NULL_POINTER`,
/// `MSSTORE_E_INVALID_ARGUMENT` (bad struct_size, not exactly one certificate source, two key
/// sources, an empty string), `MSSTORE_E_INVALID_UTF8`, `MSSTORE_E_TOO_LONG`.
///
/// # Safety
/// `o` is NULL or a valid options struct (see `msstore_certificate_options_init`) whose strings
/// are NULL or NUL-terminated; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn msstore_credential_new_certificate(
    o: *const msstore_certificate_options,
    out: *mut *mut msstore_credential,
) -> msstore_result {
    boundary!({
        // SAFETY: forwarded contract.
        let o = unsafe { read_versioned(o) }?;
        // SAFETY: (each field) the struct's strings are NULL or NUL-terminated.
        let c = unsafe {
            CertificateCredential {
                certificate_pem: opt_field(o.certificate_pem)?,
                certificate_path: opt_field(o.certificate_path)?,
                private_key_pem: opt_field(o.private_key_pem)?.map(SecretString::new),
                private_key_path: opt_field(o.private_key_path)?,
                send_x5c: o.send_x5c != 0,
            }
        };
        let one_cert = c.certificate_pem.is_some() != c.certificate_path.is_some();
        let keys = c.private_key_pem.is_some() && c.private_key_path.is_some();
        if !one_cert || keys {
            return Err(msstore_result::MSSTORE_E_INVALID_ARGUMENT);
        }
        // SAFETY: forwarded contract.
        unsafe { publish(Credential::Certificate(c), out) }
    })
}

/// Fills `o` with defaults (system-assigned identity through IMDS) and `struct_size`.
/// Returns `MSSTORE_E_NULL_POINTER` for NULL.
///
/// # Safety
/// `o` is NULL or points to a writable `msstore_managed_identity_options`.
#[no_mangle]
pub unsafe extern "C" fn msstore_managed_identity_options_init(
    o: *mut msstore_managed_identity_options,
) -> msstore_result {
    boundary!({
        let v = msstore_managed_identity_options {
            struct_size: std::mem::size_of::<msstore_managed_identity_options>() as u32,
            ..Default::default()
        };
        // SAFETY: forwarded contract.
        unsafe { write_out(o, v) }
    })
}

/// A managed identity used as a federated credential (what Microsoft.StoreServices does): its
/// token for `api://AzureADTokenExchange`, from IMDS
/// (https://learn.microsoft.com/en-us/entra/identity/managed-identities-azure-resources/how-to-use-vm-token)
/// or the App Service endpoint
/// (https://learn.microsoft.com/en-us/azure/app-service/overview-managed-identity#rest-endpoint-reference),
/// is the client assertion. The endpoint's scheme (https, loopback http, or the link-local IMDS
/// address) is checked by `msstore_client_new`.
///
/// Ownership and threading as `msstore_credential_new_secret`. Errors: `MSSTORE_E_NULL_POINTER`,
/// `MSSTORE_E_INVALID_ARGUMENT` (bad struct_size, an empty string, `identity_header` without
/// `endpoint`), `MSSTORE_E_INVALID_UTF8`, `MSSTORE_E_TOO_LONG`.
///
/// # Safety
/// `o` is NULL or a valid options struct (see `msstore_managed_identity_options_init`) whose
/// strings are NULL or NUL-terminated; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn msstore_credential_new_managed_identity(
    o: *const msstore_managed_identity_options,
    out: *mut *mut msstore_credential,
) -> msstore_result {
    boundary!({
        // SAFETY: forwarded contract.
        let o = unsafe { read_versioned(o) }?;
        // SAFETY: (each field) the struct's strings are NULL or NUL-terminated.
        let mi = unsafe {
            ManagedIdentityCredential {
                client_id: opt_field(o.client_id)?,
                endpoint: opt_field(o.endpoint)?,
                identity_header: opt_field(o.identity_header)?.map(SecretString::new),
            }
        };
        if mi.identity_header.is_some() && mi.endpoint.is_none() {
            return Err(msstore_result::MSSTORE_E_INVALID_ARGUMENT);
        }
        // SAFETY: forwarded contract.
        unsafe { publish(Credential::ManagedIdentity(mi), out) }
    })
}

/// A credential whose tokens come from `cb` (see `msstore_token_provider_cb`); no Entra request
/// is made. `release` (NULL: none) is called once with `user_data` when nothing uses the
/// provider any more: the handle is freed and so is every client created with it. When this
/// call fails, `release` is not called. A provider cannot be a `previous_credential`.
///
/// Ownership and threading as `msstore_credential_new_secret`. Errors: `MSSTORE_E_NULL_POINTER`
/// (`cb` or `out` NULL; `release` is then not called).
///
/// # Safety
/// `cb` and `release` are callable from any thread with `user_data` until `release` runs; `out`
/// is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn msstore_credential_new_provider(
    cb: msstore_token_provider_cb,
    user_data: *mut c_void,
    release: msstore_release_cb,
    out: *mut *mut msstore_credential,
) -> msstore_result {
    boundary!({
        let cb = cb.ok_or(msstore_result::MSSTORE_E_NULL_POINTER)?;
        non_null(out)?;
        let provider = CProvider {
            cb,
            user_data: user_data as usize,
            release,
        };
        // SAFETY: forwarded contract (`out` checked non-null above, so this cannot fail and
        // drop the provider, which would call `release`).
        unsafe { publish(Credential::Provider(std::sync::Arc::new(provider)), out) }
    })
}

/// Answers a token provider callback: `access_token` (copied; a secret, never logged) expires at
/// `expires_at_unix_secs` (Unix seconds, must be in the future; a lifetime past 24 h is cut to
/// 24 h). Call it from inside the callback, before returning `MSSTORE_OK`; a later call replaces
/// the answer. Errors: `MSSTORE_E_NULL_POINTER`, `MSSTORE_E_INVALID_HANDLE` (not the sink of a
/// running callback), `MSSTORE_E_INVALID_ARGUMENT` (empty token), `MSSTORE_E_INVALID_UTF8`,
/// `MSSTORE_E_TOO_LONG` (64 KiB). Threading: any thread, while the callback runs.
///
/// # Safety
/// `access_token` is NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn msstore_token_sink_set(
    sink: *mut msstore_token_sink,
    access_token: *const c_char,
    expires_at_unix_secs: i64,
) -> msstore_result {
    boundary!({
        let s = handles::get(sink)?;
        // SAFETY: forwarded contract.
        let token = unsafe { req_field(access_token) }?;
        let answer = SinkAnswer::Token(ProvidedToken {
            token: SecretString::new(token),
            // Clamped to the representable range; the cache cuts it to 24 h anyway.
            expires_at: Timestamp::UNIX_EPOCH.add_secs(expires_at_unix_secs),
        });
        *s.answer.lock().unwrap_or_else(|p| p.into_inner()) = Some(answer);
        Ok(())
    })
}

/// Fails a token provider callback's fetch with `message` (copied, shown in the operation's
/// error; never put a secret in it; NULL = none). `retryable` non-zero: a transient failure
/// (`MSSTORE_E_NETWORK`: the vault is unreachable), else `MSSTORE_E_ENTRA_AUTH` (refused). A
/// later call replaces the answer. Errors: `MSSTORE_E_NULL_POINTER`, `MSSTORE_E_INVALID_HANDLE`,
/// `MSSTORE_E_INVALID_UTF8`, `MSSTORE_E_TOO_LONG`. Threading: any thread, while the callback
/// runs.
///
/// # Safety
/// `message` is NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn msstore_token_sink_fail(
    sink: *mut msstore_token_sink,
    retryable: i32,
    message: *const c_char,
) -> msstore_result {
    boundary!({
        let s = handles::get(sink)?;
        // SAFETY: forwarded contract.
        let message = unsafe { in_opt_str(message) }?
            .unwrap_or("no reason given")
            .to_string();
        let answer = SinkAnswer::Failed {
            retryable: retryable != 0,
            message,
        };
        *s.answer.lock().unwrap_or_else(|p| p.into_inner()) = Some(answer);
        Ok(())
    })
}

/// The credential behind a handle of the client options (`credential`, `previous_credential`).
pub(crate) fn credential_of(
    p: *const msstore_credential,
) -> std::result::Result<Option<Credential>, msstore_result> {
    if p.is_null() {
        return Ok(None);
    }
    Ok(Some(handles::get(p)?.credential.clone()))
}

/// When the client's credential itself expires, in Unix seconds: a certificate's notAfter (read
/// again when its file changes). 0 when unknown or none (a secret's expiry lives in Entra, a
/// federated token is short-lived); -1 for a NULL or stale client. The client logs a warning
/// `msstore_client_options.credential_expiry_warning_days` before it. Threading: any thread.
#[no_mangle]
pub extern "C" fn msstore_client_credential_expires_at(client: *const msstore_client) -> i64 {
    boundary!({
        let c = handles::get(client)?;
        let st = lock(&c.state);
        let at = st.client.as_ref().and_then(|cl| cl.credential_expires_at());
        Ok(at.map_or(0, |t| t.unix_seconds()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ffi::types::msstore_client_options;
    use std::sync::atomic::{AtomicI32, Ordering};

    #[test]
    fn credential_fields_start_exactly_at_the_older_struct_end() {
        let old = std::mem::offset_of!(msstore_client_options, max_idle_connections_per_host) + 4;
        assert_eq!(old % std::mem::align_of::<*const c_char>(), 0);
        assert_eq!(
            std::mem::offset_of!(msstore_client_options, credential),
            old
        );
    }

    /// The provider's behaviour (what `answer` does) and how often `release` ran.
    struct State {
        behaviour: AtomicI32,
        releases: AtomicI32,
    }

    unsafe extern "C" fn answer(
        ud: *mut c_void,
        audience: i32,
        sink: *mut msstore_token_sink,
    ) -> i32 {
        // SAFETY: `ud` is the test's `State`, alive for the whole test.
        let s = unsafe { &*(ud as *const State) };
        assert_eq!(audience, 1);
        // SAFETY: literals are NUL-terminated.
        unsafe {
            match s.behaviour.load(Ordering::SeqCst) {
                0 => msstore_token_sink_set(sink, c"tok".as_ptr(), i64::MAX / 2) as i32,
                1 => msstore_token_sink_fail(sink, 1, c"vault down".as_ptr()) as i32,
                2 => msstore_token_sink_fail(
                    sink,
                    0,
                    c"no eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJ4In0.sig".as_ptr(),
                ) as i32,
                3 => 0,
                _ => 7141,
            }
        }
    }

    unsafe extern "C" fn release(ud: *mut c_void) {
        // SAFETY: as in `answer`.
        unsafe { &*(ud as *const State) }
            .releases
            .fetch_add(1, Ordering::SeqCst);
    }

    #[test]
    fn provider_answers_and_a_single_release() {
        let state = State {
            behaviour: AtomicI32::new(0),
            releases: AtomicI32::new(0),
        };
        let mut h: *mut msstore_credential = std::ptr::null_mut();
        let ud = &state as *const State as *mut c_void;
        // SAFETY: the callbacks accept `ud` from any thread while the test runs.
        let r = unsafe { msstore_credential_new_provider(Some(answer), ud, Some(release), &mut h) };
        assert_eq!(r, msstore_result::MSSTORE_OK);
        let Some(Credential::Provider(p)) = credential_of(h).unwrap() else {
            panic!("not a provider")
        };
        let ask = |b| {
            state.behaviour.store(b, Ordering::SeqCst);
            p.token(Audience::CollectionsKeyCreate)
        };
        assert_eq!(ask(0).unwrap().token.expose(), "tok");
        let e = ask(1).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Network);
        assert!(e.message.contains("vault down"), "{}", e.message);
        let e = ask(2).unwrap_err();
        assert_eq!(e.kind, ErrorKind::EntraAuth);
        assert!(!e.message.contains("eyJhdWQ"), "{}", e.message);
        assert!(ask(3).unwrap_err().message.contains("without a token"));
        assert!(ask(4).unwrap_err().message.contains("7141"));
        assert_eq!(
            crate::ffi::accessors::msstore_credential_free(h),
            msstore_result::MSSTORE_OK
        );
        assert_eq!(
            state.releases.load(Ordering::SeqCst),
            0,
            "`p` still holds it"
        );
        drop(p);
        assert_eq!(state.releases.load(Ordering::SeqCst), 1);
    }
}
