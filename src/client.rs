//! The [`Client`]: owns a tokio runtime, one pooled HTTP client and the token cache, and runs
//! every operation on its own runtime whatever executor (or none) the caller uses.

use crate::collections::EntitlementItem;
use crate::config::ClientConfig;
use crate::error::{Error, ErrorKind, Result};
use crate::http::{Exchange, Http, RequestSpec, RetryOn, SendFailure};
use crate::key::{KeyKind, StoreIdKey};
use crate::paging::PageWire;
use crate::secret::SecretString;
use crate::service_error::{inner_error_code, is_one_of, store_error, KEY_ERROR_CODES};
use crate::token::{AccessToken, Audience, TokenCache};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::any::Any;
use std::future::Future;
use std::sync::Arc;

/// Which Store host a call goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Service {
    Collections,
    Purchase,
}

/// Shared state of a client; every operation is a method on it.
pub struct Core {
    pub(crate) config: ClientConfig,
    pub(crate) http: Http,
    pub(crate) tokens: TokenCache,
    /// Clawback v2 queue SAS, cached.
    pub(crate) clawback_sas: crate::clawback::SasCache,
    /// One permit per per-host connection: a call from outside the runtime beyond them waits
    /// for one before it is spawned, so it holds no task (see `run`).
    pub(crate) admission: Arc<tokio::sync::Semaphore>,
}

thread_local! {
    /// Set on the client's own worker threads, so calls made there run inline instead of
    /// being spawned a second time.
    static ON_CLIENT_RUNTIME: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Restores the thread's previous marker (see `Client::enter_inline`).
pub(crate) struct InlineGuard(usize);

impl Drop for InlineGuard {
    fn drop(&mut self) {
        ON_CLIENT_RUNTIME.with(|c| c.set(self.0));
    }
}

/// Holds the runtime; shuts it down without blocking, so dropping the last handle is safe even
/// from inside a runtime thread.
struct RuntimeOwner(Option<tokio::runtime::Runtime>);

impl Drop for RuntimeOwner {
    fn drop(&mut self) {
        if let Some(rt) = self.0.take() {
            rt.shutdown_background();
        }
    }
}

/// A Store Services client. Cheap to clone; all clones share one runtime, one connection pool
/// and one token cache. Safe to use from any number of threads.
#[derive(Clone)]
pub struct Client {
    core: Arc<Core>,
    handle: tokio::runtime::Handle,
    // Kept for its Drop: the runtime stops when the last clone goes.
    _runtime: Arc<RuntimeOwner>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("config", &self.core.config)
            .finish()
    }
}

impl Client {
    /// Validates the configuration and starts the client's runtime.
    pub fn new(config: ClientConfig) -> Result<Client> {
        config.validate()?;
        let http = Http::new(&config)?;
        let tokens = TokenCache::new(&config);
        let permits = config
            .max_connections_per_host
            .clamp(1, tokio::sync::Semaphore::MAX_PERMITS);
        let core = Arc::new(Core {
            config,
            http,
            tokens,
            clawback_sas: Default::default(),
            admission: Arc::new(tokio::sync::Semaphore::new(permits)),
        });
        let marker = Arc::as_ptr(&core) as usize;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(core.config.worker_threads)
            .thread_name("msstore-worker")
            .enable_all()
            .on_thread_start(move || ON_CLIENT_RUNTIME.with(|c| c.set(marker)))
            .build()
            .map_err(|e| {
                Error::configuration(format!("cannot start the runtime: {e}")).with_source(e)
            })?;
        Ok(Client {
            core,
            handle: runtime.handle().clone(),
            _runtime: Arc::new(RuntimeOwner(Some(runtime))),
        })
    }

    pub fn config(&self) -> &ClientConfig {
        &self.core.config
    }

    /// The runtime every operation runs on (the C ABI spawns its tasks here).
    pub(crate) fn runtime_handle(&self) -> &tokio::runtime::Handle {
        &self.handle
    }

    pub(crate) fn core(&self) -> &Arc<Core> {
        &self.core
    }

    /// Until the guard drops, calls on this thread run inline as on the client's own workers
    /// (the C ABI polls an operation's first step on the caller's thread, inside the runtime's
    /// context).
    pub(crate) fn enter_inline(&self) -> InlineGuard {
        let marker = Arc::as_ptr(&self.core) as usize;
        InlineGuard(ON_CLIENT_RUNTIME.with(|c| c.replace(marker)))
    }

    /// Runs `f(core)` on the client's runtime and awaits it from any executor.
    pub(crate) async fn run<T, F, Fut>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(Arc<Core>) -> Fut,
        Fut: Future<Output = Result<T>> + Send + 'static,
    {
        let core = self.core.clone();
        // Boxed: the caller's future then holds only `f`'s captures and a pointer, and the
        // operation's state machine gets an allocation of its own size. Without it, every
        // level of async fn above keeps its own copy of the arguments, and a caller that
        // matches over several operations reserves the largest one's state for each of them
        // (with 10,000 operations in flight that was ~1 KB apiece; see `future_sizes`).
        if ON_CLIENT_RUNTIME.with(|c| c.get()) == Arc::as_ptr(&self.core) as usize {
            return Box::pin(f(core)).await;
        }
        // Beyond the connections the client may open, a call waits here, unspawned: it holds
        // its own future (the request in `f`) but no task yet. The permit goes with the task,
        // so a caller that drops its future does not free a slot still in use.
        // The wait is boxed: a call that needs none keeps its future this much smaller.
        let sem = &self.core.admission;
        let permit = match sem.clone().try_acquire_owned() {
            Ok(p) => Ok(p),
            Err(_) => Box::pin(sem.clone().acquire_owned()).await,
        };
        let Ok(permit) = permit else {
            return Err(Error::new(
                ErrorKind::Internal,
                "the client's admission semaphore closed",
            ));
        };
        let fut = f(core);
        let task = async move {
            let r = fut.await;
            drop(permit);
            r
        };
        match self.handle.spawn(task).await {
            Ok(r) => r,
            Err(e) if e.is_cancelled() => Err(Error::new(
                ErrorKind::ShuttingDown,
                "the client shut down before the operation finished",
            )),
            Err(_) => Err(Error::new(ErrorKind::Internal, "an operation panicked")),
        }
    }

    /// Blocks the calling thread on `fut` using the client's runtime. Fails (rather than
    /// deadlocking) when called from inside an async context.
    pub fn block_on<F: Future>(&self, fut: F) -> Result<F::Output> {
        if tokio::runtime::Handle::try_current().is_ok() {
            return Err(Error::invalid_argument(
                "block_on cannot be called from inside an async runtime; await the future instead",
            ));
        }
        Ok(self.handle.block_on(fut))
    }

    /// When the configured credential itself expires (a certificate's notAfter); `None` when it
    /// has no known expiry (a secret's lives in Entra, a federated token is short-lived).
    pub fn credential_expires_at(&self) -> Option<crate::time::Timestamp> {
        self.core.tokens.credential_expires_at()
    }

    /// A service token (`Audience::Service`) or one of the two key-create tokens a game client
    /// needs to mint Store ID keys. Cached; refreshed ahead of expiry; single-flight.
    pub async fn access_token(&self, audience: Audience) -> Result<AccessToken> {
        self.run(move |c| async move { c.tokens.get(&c.http, audience).await })
            .await
    }

    /// Token requests sent to Entra so far by this client.
    pub fn token_requests_sent(&self) -> u64 {
        self.core.tokens.requests_sent()
    }

    /// Renews a Store ID key at the configured host for its kind (never at the key's own
    /// `refreshUri`). A 401 AuthenticationTokenInvalid gives `KeyMustBeReminted`.
    pub async fn renew_key(&self, key: &str) -> Result<RenewedKey> {
        let key = key.to_string();
        self.run(move |c| async move { c.renew_key(&key).await })
            .await
    }
}

/// The result of a key renewal.
#[derive(Debug, Clone, Serialize)]
pub struct RenewedKey {
    /// The new key; it replaces the old one (persist it).
    pub key: SecretString,
    /// The new key decoded.
    pub decoded: StoreIdKey,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RenewRequest<'a> {
    service_ticket: &'a str,
    key: &'a str,
}

#[derive(Deserialize)]
struct RenewResponse {
    #[serde(alias = "Key")]
    key: Option<String>,
}

/// One raw Store response body kept next to its parsed form (the C ABI hands out both).
pub(crate) struct Parsed<T> {
    pub value: T,
    pub raw: String,
}

impl Core {
    pub(crate) fn base_url(&self, service: Service) -> &str {
        match service {
            Service::Collections => self.config.collections_base_url.trim_end_matches('/'),
            Service::Purchase => self.config.purchase_base_url.trim_end_matches('/'),
        }
    }

    pub(crate) async fn service_token(&self) -> Result<AccessToken> {
        // A fresh cached token (nearly every call) without the fetch's state machine, which
        // inline would be reserved in every running call's future; only a fetch allocates it.
        if let Some(t) = self.tokens.fresh(Audience::Service) {
            return Ok(t);
        }
        Box::pin(self.tokens.get(&self.http, Audience::Service)).await
    }

    /// POSTs JSON to a Store route with the service token. A 401 that is not a key error
    /// triggers one forced token refresh and one more try.
    pub(crate) async fn store_call(
        &self,
        service: Service,
        path: &str,
        body: Vec<u8>,
        op: &'static str,
        retry_on: RetryOn,
    ) -> std::result::Result<Exchange, SendFailure> {
        self.store_request(
            reqwest::Method::POST,
            service,
            path,
            Some(body),
            op,
            retry_on,
        )
        .await
    }

    pub(crate) async fn store_request(
        &self,
        method: reqwest::Method,
        service: Service,
        path: &str,
        body: Option<Vec<u8>>,
        op: &'static str,
        retry_on: RetryOn,
    ) -> std::result::Result<Exchange, SendFailure> {
        let token = self.service_token().await.map_err(|error| SendFailure {
            error,
            maybe_applied: false,
        })?;
        let url = format!("{}{}", self.base_url(service), path);
        self.store_request_with(method, url, body, op, retry_on, token, None)
            .await
    }

    /// `store_request` with the token already in hand and, optionally, the first attempt's
    /// request slot.
    #[allow(clippy::too_many_arguments)]
    async fn store_request_with(
        &self,
        method: reqwest::Method,
        url: String,
        body: Option<Vec<u8>>,
        op: &'static str,
        retry_on: RetryOn,
        mut token: AccessToken,
        mut slot: Option<crate::http::Slot>,
    ) -> std::result::Result<Exchange, SendFailure> {
        let mut spec = RequestSpec::new(method, url, op);
        if let Some(body) = body {
            spec = spec.json(body);
        }
        spec.bearer = Some(bearer(&token, op, false)?);
        let mut refreshed = false;
        // Whether an attempt before the refresh may have reached the Store: what the caller
        // must know about the whole call, whatever the attempts after the refresh say.
        let mut reached = false;
        loop {
            let ex = match self.http.send_reserved(&spec, retry_on, slot.take()).await {
                Ok(mut ex) => {
                    ex.maybe_applied_earlier |= reached;
                    ex
                }
                Err(mut f) => {
                    f.maybe_applied |= reached;
                    return Err(f);
                }
            };
            if ex.status == 401 && !refreshed && token_refresh_may_help(&ex) {
                // The token may have been revoked or the clocks disagree: one fresh token.
                refreshed = true;
                reached = ex.maybe_applied_earlier;
                // Boxed: the refresh (an Entra round trip) is rare, and inline its state would
                // be reserved in every running call's future.
                token = Box::pin(self.tokens.refresh(&self.http, Audience::Service, &token))
                    .await
                    .map_err(|error| SendFailure {
                        error,
                        maybe_applied: reached,
                    })?;
                spec.bearer = Some(bearer(&token, op, reached)?);
                continue;
            }
            return Ok(ex);
        }
    }

    /// `store_call` + status mapping + JSON parsing.
    pub(crate) async fn store_json<T: DeserializeOwned + 'static>(
        &self,
        service: Service,
        path: &str,
        body: &impl RequestBody,
        op: &'static str,
        retry_on: RetryOn,
    ) -> Result<Parsed<T>> {
        // A request slot first: an operation queued behind the per-host cap holds nothing but
        // its own request (no token copy, serialised body or headers). The rest is boxed so
        // that the queued future does not reserve room for it either. (Token requests are
        // exempt from the cap, so waiting for the token while holding a slot cannot deadlock.)
        let url = format!("{}{}", self.base_url(service), path);
        let slot = self.http.reserve(&url).await;
        let ex = Box::pin(async move {
            let token = self.service_token().await?;
            let body = body.body_bytes()?;
            self.store_request_with(
                reqwest::Method::POST,
                url,
                Some(body),
                op,
                retry_on,
                token,
                Some(slot),
            )
            .await
            .map_err(|f| f.error)
        })
        .await?;
        parse_kept(op, ex)
    }

    pub(crate) async fn renew_key(&self, key: &str) -> Result<RenewedKey> {
        let decoded = StoreIdKey::decode(key)?;
        let service = match decoded.kind {
            KeyKind::Collections => Service::Collections,
            KeyKind::Purchase => Service::Purchase,
        };
        let url = format!("{}/v6.0/b2b/keys/renew", self.base_url(service));
        let mut token = self.service_token().await?;
        let mut refreshed = false;
        loop {
            let body = to_json(&RenewRequest {
                service_ticket: token.token.expose(),
                key: decoded.as_secret().expose(),
            })?;
            // No bearer: the service token goes in the body.
            let spec = RequestSpec::new(reqwest::Method::POST, url.clone(), "renew_key").json(body);
            let ex = self
                .http
                .send(&spec, RetryOn::NetworkAnd5xx)
                .await
                .map_err(|f| f.error)?;
            if ex.is_success() {
                let resp: RenewResponse = parse_body("renew_key", &ex)?;
                let new_key = resp.key.filter(|k| !k.is_empty()).ok_or_else(|| {
                    Error::new(
                        ErrorKind::MalformedResponse,
                        "key renewal succeeded but returned no key",
                    )
                    .with_ms_cv(ex.ms_cv.clone())
                })?;
                let decoded = StoreIdKey::decode(&new_key).map_err(|e| {
                    Error::new(
                        ErrorKind::MalformedResponse,
                        format!("the renewed key does not decode: {}", e.message),
                    )
                })?;
                return Ok(RenewedKey {
                    key: SecretString::new(new_key),
                    decoded,
                });
            }
            let mut err = store_error("renew_key", &ex);
            if ex.status == 401 && err.kind == ErrorKind::Unauthorized {
                if !refreshed {
                    // Rule out our own token first; then the key itself is dead.
                    refreshed = true;
                    token = self
                        .tokens
                        .refresh(&self.http, Audience::Service, &token)
                        .await?;
                    continue;
                }
                err.kind = ErrorKind::KeyMustBeReminted;
                err.message = format!(
                    "the Store refused to renew this {} key (expired, revoked or past its signing window); the game client must mint a new one",
                    decoded.kind.as_str()
                );
            }
            return Err(err);
        }
    }
}

/// `token`'s `Authorization` value (built once per token). A token a header cannot carry is
/// refused before anything is sent (`reached`: whether an earlier attempt may have been).
fn bearer(
    token: &AccessToken,
    op: &str,
    reached: bool,
) -> std::result::Result<reqwest::header::HeaderValue, SendFailure> {
    token.bearer.clone().ok_or_else(|| SendFailure {
        error: Error::invalid_argument(format!(
            "{op}: cannot build request: the access token is not a valid header value"
        )),
        maybe_applied: reached,
    })
}

/// Whether a Store 401 earns the one forced token refresh: any 401 but a Store ID key error
/// (see `KEY_ERROR_CODES`), bare ones included (the ServiceError body is optional).
fn token_refresh_may_help(ex: &Exchange) -> bool {
    !inner_error_code(&ex.body).is_some_and(|c| is_one_of(&c, &KEY_ERROR_CODES))
}

/// A request body as the bytes sent. Most requests are written by serde ([`to_json`], through
/// [`serde_request_body!`]); the v9 query writes itself (`collections::query_body`), since
/// serde_json escapes its ~1.3 KB Store ID key a byte at a time (14k of a query's 261k
/// instructions, issue 14 §3).
pub(crate) trait RequestBody {
    fn body_bytes(&self) -> Result<Vec<u8>>;
}

/// [`RequestBody`] by serde for each listed type.
macro_rules! serde_request_body {
    ($($t:ty),* $(,)?) => {$(
        impl $crate::client::RequestBody for $t {
            fn body_bytes(&self) -> $crate::error::Result<Vec<u8>> {
                $crate::client::to_json(self)
            }
        }
    )*};
}
pub(crate) use serde_request_body;

pub(crate) fn to_json(body: &impl Serialize) -> Result<Vec<u8>> {
    let mut v = serde_json::to_vec(body).map_err(|e| {
        Error::new(
            ErrorKind::Internal,
            format!("cannot serialise request: {e}"),
        )
        .with_source(e)
    })?;
    // The buffer grew by doubling (a 1.3 KB key left ~2.6 KB); the body is held until the call
    // ends (for retries), so it keeps only its length.
    v.shrink_to_fit();
    Ok(v)
}

pub(crate) fn parse_body<T: DeserializeOwned>(op: &str, ex: &Exchange) -> Result<T> {
    // One UTF-8 check of the whole body, then serde_json reads it as `&str` and skips its check
    // of every string it decodes; a body that is not UTF-8 is read as bytes, as before.
    match std::str::from_utf8(&ex.body) {
        Ok(text) => serde_json::from_str(text),
        Err(_) => serde_json::from_slice(&ex.body),
    }
    .map_err(|e| malformed(op, ex, e))
}

/// The body is not the JSON `op` expects.
fn malformed(op: &str, ex: &Exchange, e: serde_json::Error) -> Error {
    let mut err = Error::new(
        ErrorKind::MalformedResponse,
        format!("{op}: the response is not the expected JSON: {e}"),
    )
    .with_source(e)
    .with_status(ex.status)
    .with_ms_cv(ex.ms_cv.clone());
    err.correlation_id = ex.correlation_id.clone();
    err
}

/// A 2xx's body parsed as `T`; any other status as the Store's error.
pub(crate) fn parse_success<T: DeserializeOwned>(op: &str, ex: &Exchange) -> Result<T> {
    if !ex.is_success() {
        return Err(store_error(op, ex));
    }
    parse_body(op, ex)
}

/// [`parse_success`], keeping the body as received beside the value (moved, not copied).
pub(crate) fn parse_kept<T: DeserializeOwned + 'static>(
    op: &str,
    mut ex: Exchange,
) -> Result<Parsed<T>> {
    if !ex.is_success() {
        return Err(store_error(op, &ex));
    }
    // One UTF-8 check of the whole body (which the kept text needs anyway), then serde_json
    // reads it as `&str` and skips its check of every string it decodes.
    match String::from_utf8(std::mem::take(&mut ex.body)) {
        Ok(raw) => {
            let value = match fast_value::<T>(&raw) {
                Some(value) => value,
                None => serde_json::from_str(&raw).map_err(|e| malformed(op, &ex, e))?,
            };
            Ok(Parsed { value, raw })
        }
        // Not UTF-8: as bytes (bad bytes in a skipped string do not matter), kept lossily.
        Err(e) => {
            ex.body = e.into_bytes();
            let value = parse_body(op, &ex)?;
            Ok(Parsed {
                value,
                raw: ex.into_body_text(),
            })
        }
    }
}

/// `raw` read by a hand-written reader, for a type that has one (a query page, see
/// `collections::fast_page`); `None` leaves it to serde. Chosen by type at compile time (the
/// downcast is on a constant type id), so every other `T` pays nothing.
fn fast_value<T: 'static>(raw: &str) -> Option<T> {
    let mut out: Option<T> = None;
    let slot: &mut dyn Any = &mut out;
    if let Some(page) = slot.downcast_mut::<Option<PageWire<EntitlementItem>>>() {
        *page = crate::collections::fast_page::page(raw);
    }
    out
}

/// Sizes of the futures every operation is made of (issue 7: memory with 10,000 operations in
/// flight). Printed, and bounded so a regression that inlines a large state machine again shows.
#[cfg(test)]
mod future_sizes {
    use super::*;
    use crate::collections::{ProductSkuId, QueryV9Request};
    use crate::consume::ConsumeRequest;

    fn client() -> Client {
        // Never polled: no request is sent.
        Client::new(ClientConfig::new("t", "c", "s").with_emulator("http://127.0.0.1:9")).unwrap()
    }

    serde_request_body!(serde_json::Value);

    #[test]
    fn operation_futures_stay_small() {
        let c = client();
        let q = QueryV9Request::new("k", vec![ProductSkuId::product("9NZB0T3LQH5D")]);
        let query = std::mem::size_of_val(&c.query_v9(q));
        let consume = std::mem::size_of_val(&c.consume(ConsumeRequest::store_managed(
            "k",
            "9NZB0T3LQH5D",
            1,
        )));
        let renew = std::mem::size_of_val(&c.renew_key("k"));
        let core = c.core().clone();
        let body = serde_json::json!({});
        let store_json = std::mem::size_of_val(&core.store_json::<serde_json::Value>(
            Service::Collections,
            "/x",
            &body,
            "x",
            RetryOn::Never,
        ));
        let reserve = std::mem::size_of_val(&core.http.reserve("http://127.0.0.1:9/x"));
        // Inside every running call's boxed state: the token fetch is boxed off it.
        let token = std::mem::size_of_val(&core.service_token());
        assert!(token <= 64, "service_token future is {token} bytes");
        println!(
            "future bytes: query_v9 {query}, consume {consume}, renew_key {renew}, store_json {store_json}, reserve {reserve}, service_token {token}"
        );
        // Before `run` boxed the operation (debug build): query_v9 1288, consume 2400,
        // renew_key 1424. What a caller's task holds per operation must stay a few hundred
        // bytes, whatever the operation's own state machine costs once it runs.
        for (name, n) in [
            ("query_v9", query),
            ("consume", consume),
            ("renew_key", renew),
        ] {
            assert!(n <= 768, "{name} future is {n} bytes");
        }
        assert!(store_json <= 512, "store_json future is {store_json} bytes");
    }
}

/// Rust API admission (issue 14 §4): a call beyond the per-host connection cap waits for a
/// permit before it is spawned, so it holds no task on the client's runtime.
#[cfg(test)]
mod admission {
    use super::*;
    use crate::stall_server::StallServer;
    use crate::token::Audience;
    use std::time::Duration;

    #[test]
    fn calls_beyond_the_cap_wait_without_a_task() {
        let server = StallServer::start();
        let mut cfg = ClientConfig::new("t", "c", "s").with_emulator(server.url.as_str());
        cfg.max_connections_per_host = 1;
        let c = Client::new(cfg).unwrap();
        // The callers' own runtime: driven only while it sleeps below.
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let settle = || rt.block_on(async { tokio::time::sleep(Duration::from_millis(300)).await });
        let tasks = || c.runtime_handle().metrics().num_alive_tasks();
        let call = || {
            let c = c.clone();
            rt.spawn(async move { c.access_token(Audience::Service).await })
        };
        let mut calls = vec![call()];
        settle();
        assert_eq!(
            c.core.admission.available_permits(),
            0,
            "the first call runs"
        );
        let one_running = tasks();
        calls.push(call());
        calls.push(call());
        settle();
        assert_eq!(
            tasks(),
            one_running,
            "the two calls beyond the cap were spawned while they wait"
        );
        for h in &calls {
            assert!(!h.is_finished(), "every call is still in flight");
            h.abort();
        }
        settle();
        drop(calls);
        drop(rt);
    }
}

#[cfg(test)]
mod bearer_value {
    use super::*;
    use crate::time::Timestamp;
    use crate::token::Audience;

    /// A token with a newline cannot be a header: refused before sending, and whether an
    /// earlier attempt may have reached the Store is kept.
    #[test]
    fn a_token_no_header_can_carry_is_refused_before_sending() {
        let now = Timestamp::now();
        let bad = AccessToken::new(Audience::Service, "a\nb".into(), now, now.add_secs(60));
        for reached in [false, true] {
            let Err(f) = bearer(&bad, "consume", reached) else {
                panic!("a newline went into a header");
            };
            assert_eq!(f.error.kind, ErrorKind::InvalidArgument);
            assert!(!f.error.message.contains("a\nb"), "{}", f.error.message);
            assert_eq!(f.maybe_applied, reached);
        }
        let good = AccessToken::new(Audience::Service, "eyJ".into(), now, now.add_secs(60));
        assert_eq!(
            bearer(&good, "consume", false).ok().unwrap().as_bytes(),
            b"Bearer eyJ"
        );
    }
}

#[cfg(test)]
mod request_body {
    #[test]
    fn a_serialised_body_keeps_only_its_length() {
        let key = "k".repeat(1267);
        let v =
            super::to_json(&serde_json::json!({ "key": key, "ids": ["9NZB0T3LQH5D"] })).unwrap();
        assert_eq!(v.capacity(), v.len());
        assert!(v.len() > 1267);
    }
}

#[cfg(test)]
mod kept_body {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    struct Id {
        id: String,
    }

    fn exchange(status: u16, body: &[u8]) -> Exchange {
        Exchange {
            status,
            body: body.to_vec(),
            ms_cv: Some("cv.1".into()),
            correlation_id: None,
            retry_after: None,
            maybe_applied_earlier: false,
        }
    }

    #[test]
    fn a_text_body_is_parsed_and_kept_as_received() {
        let body = r#"{"id":"caf\u00e9 é","x":[1]}"#;
        let p: Parsed<Id> = parse_kept("q", exchange(200, body.as_bytes())).unwrap();
        assert_eq!((p.value.id.as_str(), p.raw.as_str()), ("café é", body));
    }

    #[test]
    fn a_body_that_is_not_utf8_parses_as_before() {
        // A bad byte in a member that is skipped: parsed, kept lossily.
        let p: Parsed<Id> =
            parse_kept("q", exchange(200, b"{\"x\":\"\xff\",\"id\":\"a\"}")).unwrap();
        assert_eq!(p.value.id, "a");
        assert_eq!(p.raw, "{\"x\":\"\u{fffd}\",\"id\":\"a\"}");
        // In a member that is read: the malformed-response error.
        let e = parse_kept::<Id>("q", exchange(200, b"{\"id\":\"\xff\"}"))
            .err()
            .unwrap();
        assert_eq!(e.kind, ErrorKind::MalformedResponse);
    }

    #[test]
    fn a_body_that_is_not_the_json_names_the_op_status_and_ms_cv() {
        let e = parse_kept::<Id>("query_v9", exchange(200, b"<html>proxy</html>"))
            .err()
            .unwrap();
        assert_eq!(e.kind, ErrorKind::MalformedResponse);
        assert!(e
            .message
            .starts_with("query_v9: the response is not the expected JSON"));
        assert_eq!(
            (e.http_status, e.ms_cv.as_deref()),
            (Some(200), Some("cv.1"))
        );
    }
}
