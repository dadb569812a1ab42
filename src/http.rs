//! One pooled HTTP client per library client, and the retry loop every call goes through:
//! exponential backoff with jitter, `Retry-After` honoured, an `MS-CV` per attempt, and a record
//! of whether a failed attempt may have reached the service (what consume needs to know).

use crate::config::{ClientConfig, RetryPolicy};
use crate::error::{Error, ErrorKind, Result};
use crate::log::{log_at, Level};
use crate::time::Timestamp;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER, USER_AGENT};
use std::time::Duration;

mod body;
mod identity;
mod limit;
pub(crate) mod scheme;
mod url_cache;

/// Microsoft's correlation headers, lowercase as `HeaderName` stores them (matched without
/// regard to case on the wire).
const MS_CV: HeaderName = HeaderName::from_static("ms-cv");
const MS_CORRELATION_ID: HeaderName = HeaderName::from_static("ms-correlationid");
const MS_REQUEST_ID: HeaderName = HeaderName::from_static("ms-requestid");

pub(crate) const JSON_CONTENT_TYPE: &str = "application/json; charset=utf-8";
pub(crate) const FORM_CONTENT_TYPE: &str = "application/x-www-form-urlencoded; charset=utf-8";

/// One HTTP request, ready to be sent as many times as the retry policy allows.
pub(crate) struct RequestSpec {
    pub method: reqwest::Method,
    pub url: String,
    pub content_type: Option<&'static str>,
    /// Shared with each attempt's reqwest body (a refcount, not a copy of the key inside it).
    pub body: bytes::Bytes,
    /// `Authorization` header value (see [`bearer`]), if any: built once per token, shared by
    /// every attempt. Never logged (marked sensitive).
    pub bearer: Option<HeaderValue>,
    /// Base correlation vector; attempt n sends `{cv}.{n}`.
    pub cv: String,
    /// Short operation name for logs ("query_v9", "entra_token").
    pub op: &'static str,
    /// Whether the request waits for a slot under the per-host cap.
    pub limit: HostLimit,
}

impl RequestSpec {
    /// A request with no body and no bearer, under the per-host cap, with a fresh MS-CV.
    pub fn new(method: reqwest::Method, url: String, op: &'static str) -> RequestSpec {
        RequestSpec {
            method,
            url,
            content_type: None,
            body: bytes::Bytes::new(),
            bearer: None,
            cv: new_cv(),
            op,
            limit: HostLimit::PerHost,
        }
    }

    /// With `body` as its JSON body.
    pub fn json(mut self, body: Vec<u8>) -> RequestSpec {
        self.content_type = Some(JSON_CONTENT_TYPE);
        self.body = body.into();
        self
    }
}

/// Whether a request counts against `max_connections_per_host` (see `limit`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum HostLimit {
    /// Waits for a slot to its host, like every Store and queue request.
    PerHost,
    /// Sent without a slot. Only Entra token requests: they are single-flight per audience (a
    /// handful at most), and must not wait for one, since an operation holds its Store slot
    /// while its token is fetched, possibly from the same host (the emulator).
    Exempt,
}

/// A response that arrived (any status).
pub(crate) struct Exchange {
    pub status: u16,
    pub body: Vec<u8>,
    pub ms_cv: Option<String>,
    pub correlation_id: Option<String>,
    pub retry_after: Option<Duration>,
    /// True when an earlier attempt of the same logical call may have been processed (it timed
    /// out, lost its connection after sending, or got a 5xx, 408 or 409), also across a forced
    /// token refresh.
    pub maybe_applied_earlier: bool,
}

impl Exchange {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The body as text, without a copy when it is UTF-8 (a body that parsed as JSON is, but
    /// for strings serde skipped without checking).
    pub fn into_body_text(self) -> String {
        String::from_utf8(self.body)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
    }
}

/// The retry loop gave up without a final response.
pub(crate) struct SendFailure {
    pub error: Error,
    /// True when at least one attempt may have been processed by the service (a timeout or a
    /// dropped connection after the request was written, or a 5xx, 408 or 409).
    pub maybe_applied: bool,
}

/// Which failures a request may be retried on. 429 and its `Retry-After` come from
/// <https://learn.microsoft.com/en-us/gaming/gdk/_content/gc/commerce/service-to-service/xstore-fgrl>; the rest is our policy: a
/// query may be resent as is, a mutation only with its own id.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum RetryOn {
    /// Connection errors, timeouts, 429 and 5xx (queries, consume with the same trackingId).
    TransientAndThrottle,
    /// Connection errors and 5xx only (grant, key renew, recurrence change).
    NetworkAnd5xx,
    /// One attempt; the caller decides (Extend, which must look before resending).
    Never,
}

/// Idle connections the pool keeps per host: at least `max_connections_per_host`. hyper's pool
/// dials a new connection whenever a request finds none idle (also when one is about to come
/// back), so under load it holds more connections than `max_idle_connections_per_host`; each
/// one beyond that was closed when it came back, and the next request dialled again: at 256
/// callers, a TLS handshake every few operations forever (issue 14's realistic benchmark).
/// Keeping as many as the cap lets the pool settle; the 90 s idle timeout still frees them.
fn idle_kept(config: &ClientConfig) -> usize {
    config
        .max_idle_connections_per_host
        .max(config.max_connections_per_host)
}

/// A request slot to one host (see `limit`); released on drop.
pub(crate) struct Slot {
    permit: Option<limit::Permit>,
}

impl Slot {
    /// Tells the host's window what this slot's attempt got back (see `limit`).
    fn observe<T>(&self, outcome: &std::result::Result<Exchange, T>) {
        if let Some(p) = &self.permit {
            p.observe(outcome.as_ref().ok().map(|e| e.status));
        }
    }
}

pub(crate) struct Http {
    client: reqwest::Client,
    retry: RetryPolicy,
    /// At most `max_connections_per_host` requests in flight per origin (see `limit`).
    limits: limit::HostLimits,
    /// `ClientConfig::max_response_bytes`, enforced by `body::read_capped` on every response.
    max_response_bytes: usize,
    urls: url_cache::UrlCache,
}

impl Http {
    pub fn new(config: &ClientConfig) -> Result<Http> {
        let mut headers = HeaderMap::new();
        let ua = HeaderValue::from_str(&config.service_identity)
            .map_err(|_| Error::configuration("service_identity is not a valid header value"))?;
        headers.insert(USER_AGENT, ua);
        let mut builder = reqwest::Client::builder();
        for der in config.extra_root_certs()? {
            let cert = reqwest::Certificate::from_der(&der).map_err(|e| {
                Error::configuration(format!("extra root certificate: {e}")).with_source(e)
            })?;
            builder = builder.add_root_certificate(cert);
        }
        let client = builder
            .default_headers(headers)
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            .pool_max_idle_per_host(idle_kept(config))
            .pool_idle_timeout(Duration::from_secs(90))
            .tcp_nodelay(true)
            .redirect(reqwest::redirect::Policy::none())
            // Our retry loop owns every resend (and what it means for a consume). reqwest's own
            // policy (HTTP/2 and HTTP/3 refusals only, so never taken over HTTP/1.1) kept a copy
            // of every request's headers while it ran, in case it retried: ~0.5 KB per call.
            .retry(reqwest::retry::never().max_retries_per_request(0))
            .https_only(false)
            .build()
            .map_err(|e| {
                Error::configuration(format!("cannot build HTTP client: {e}")).with_source(e)
            })?;
        let known = [
            config.login_base_url.as_str(),
            config.collections_base_url.as_str(),
            config.purchase_base_url.as_str(),
        ];
        Ok(Http {
            client,
            retry: config.retry.clone(),
            limits: limit::HostLimits::new(
                config.initial_connections_per_host,
                config.max_connections_per_host,
                known,
            ),
            max_response_bytes: config.max_response_bytes,
            urls: url_cache::UrlCache::default(),
        })
    }

    /// Waits for a request slot to `url`'s host, for a caller that wants to build its request
    /// only once it may send it (a queued operation then holds no body or headers).
    pub async fn reserve(&self, url: &str) -> Slot {
        Slot {
            permit: self.limits.acquire(url).await,
        }
    }

    /// Sends `spec`, retrying per `retry_on`. Returns the first response that is not retried
    /// (which may be a 4xx/5xx the caller maps to an error).
    pub async fn send(
        &self,
        spec: &RequestSpec,
        retry_on: RetryOn,
    ) -> std::result::Result<Exchange, SendFailure> {
        self.send_reserved(spec, retry_on, None).await
    }

    /// `send`, whose first attempt uses `first` (from `reserve` for the same host) if given.
    pub async fn send_reserved(
        &self,
        spec: &RequestSpec,
        retry_on: RetryOn,
        mut first: Option<Slot>,
    ) -> std::result::Result<Exchange, SendFailure> {
        let mut maybe_applied = false;
        let mut attempt: u32 = 0;
        loop {
            let cv = attempt_cv(&spec.cv, attempt);
            // The slot is held for one attempt, body included (the connection goes back to
            // the pool only once the body is read), and released during the backoff sleep.
            let slot = match (first.take(), spec.limit) {
                (Some(s), _) => s,
                (None, HostLimit::Exempt) => Slot { permit: None },
                (None, HostLimit::PerHost) => self.reserve(&spec.url).await,
            };
            // Boxed: a queued operation's future then stays small (the attempt's state, with
            // reqwest's, is allocated only when it runs).
            let outcome = Box::pin(self.send_once(spec, &cv)).await;
            slot.observe(&outcome);
            drop(slot);
            attempt += 1;
            let last = attempt >= self.retry.max_attempts || retry_on == RetryOn::Never;
            let wait_hint = match outcome {
                Ok(mut ex) => {
                    ex.maybe_applied_earlier = maybe_applied;
                    let retryable = ex.status >= 500
                        || (ex.status == 429 && retry_on == RetryOn::TransientAndThrottle);
                    maybe_applied |= crate::outcome::answer_may_have_applied(ex.status);
                    if !retryable || last {
                        return Ok(ex);
                    }
                    if ex.status == 429 {
                        if let Some(ra) = ex.retry_after {
                            if ra > self.retry.max_retry_after {
                                // Waiting that long inside one call would stall the caller.
                                return Ok(ex);
                            }
                        }
                    }
                    log_at!(
                        Level::Warn,
                        "msstore::http",
                        "{} got HTTP {} (MS-CV {}), retrying",
                        spec.op,
                        ex.status,
                        ex.ms_cv.as_deref().unwrap_or(&cv)
                    );
                    ex.retry_after
                }
                Err((err, sent)) => {
                    maybe_applied |= sent;
                    // An attempt's only MalformedResponse is a body over the cap: the same
                    // server would send it again, so a retry would only multiply the bytes read.
                    if last || err.kind == ErrorKind::MalformedResponse {
                        return Err(SendFailure {
                            error: err.with_ms_cv(Some(cv)),
                            maybe_applied,
                        });
                    }
                    log_at!(
                        Level::Warn,
                        "msstore::http",
                        "{} attempt {attempt} failed: {}, retrying",
                        spec.op,
                        err.message
                    );
                    None
                }
            };
            // Boxed: only a retry pays for the timer; a running attempt's future holds none.
            Box::pin(tokio::time::sleep(backoff(&self.retry, attempt, wait_hint))).await;
        }
    }

    /// One attempt. On failure also says whether the request may have reached the service.
    async fn send_once(
        &self,
        spec: &RequestSpec,
        cv: &str,
    ) -> std::result::Result<Exchange, (Error, bool)> {
        let url = self
            .urls
            .checked(&spec.url, spec.op)
            .map_err(|e| (e, false))?;
        // The request is built directly (not through `RequestBuilder`, which moves itself on
        // every call) with its headers map sized once; names and fixed values are constants.
        let mut headers = HeaderMap::with_capacity(4);
        headers.insert(
            MS_CV,
            HeaderValue::from_str(cv).map_err(|_| bad_cv(spec.op))?,
        );
        let mut req = reqwest::Request::new(spec.method.clone(), url);
        if let Some(ct) = spec.content_type {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static(ct));
            *req.body_mut() = Some(spec.body.clone().into());
        }
        if let Some(b) = &spec.bearer {
            headers.insert(AUTHORIZATION, b.clone());
        }
        *req.headers_mut() = headers;
        let resp = self
            .client
            .execute(req)
            .await
            .map_err(|e| classify(e, spec.op))?;
        let status = resp.status().as_u16();
        let headers = resp.headers();
        let header = |name: &HeaderName| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let ms_cv = header(&MS_CV);
        let correlation_id = header(&MS_CORRELATION_ID).or_else(|| header(&MS_REQUEST_ID));
        let retry_after = headers
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        let body = body::read_capped(resp, self.max_response_bytes, spec.op).await?;
        Ok(Exchange {
            status,
            body,
            ms_cv,
            correlation_id,
            retry_after,
            maybe_applied_earlier: false,
        })
    }
}

/// Our own MS-CV is base64 characters and digits; this is only the type's other case.
fn bad_cv(op: &str) -> (Error, bool) {
    let message = format!("{op}: cannot build request: the MS-CV is not a header value");
    (Error::invalid_argument(message), false)
}

/// Maps a reqwest failure to our error and whether the request may have been processed. The
/// reqwest error is kept as the `source()`, without its URL (a SAS queue URL holds a signature).
fn classify(e: reqwest::Error, op: &str) -> (Error, bool) {
    let (error, sent) = if e.is_connect() {
        // Nothing was sent: the connection never opened.
        let message = format!("{op}: cannot connect: {}", source_chain(&e));
        (Error::new(ErrorKind::Network, message), false)
    } else if e.is_timeout() {
        let message = format!("{op}: request timed out");
        (Error::new(ErrorKind::Timeout, message), true)
    } else if e.is_builder() {
        let message = format!("{op}: cannot build request: {e}");
        (Error::invalid_argument(message), false)
    } else {
        let message = format!("{op}: connection failed: {}", source_chain(&e));
        (Error::new(ErrorKind::Network, message), true)
    };
    (error.with_source(e.without_url()), sent)
}

/// The innermost cause, without the URL (reqwest's Display includes it; ours may carry nothing
/// secret, but a short message reads better).
fn source_chain(e: &reqwest::Error) -> String {
    let mut msg = String::new();
    let mut cur: Option<&dyn std::error::Error> = std::error::Error::source(e);
    while let Some(c) = cur {
        msg = c.to_string();
        cur = c.source();
    }
    if msg.is_empty() {
        "error".to_string()
    } else {
        msg
    }
}

/// Delay before attempt `attempt + 1`: at least the service's `Retry-After`, else exponential
/// backoff with "equal jitter" (half fixed, half random) so a fleet does not retry in lockstep.
pub(crate) fn backoff(
    policy: &RetryPolicy,
    attempt: u32,
    retry_after: Option<Duration>,
) -> Duration {
    if let Some(ra) = retry_after {
        return ra.min(policy.max_retry_after);
    }
    let exp = policy
        .base_delay
        .saturating_mul(1u32 << attempt.saturating_sub(1).min(16))
        .min(policy.max_delay);
    let half = exp / 2;
    half + half.mul_f64(fastrand::f64())
}

/// `Retry-After` is either delta-seconds or an HTTP date.
pub(crate) fn parse_retry_after(v: &str) -> Option<Duration> {
    let v = v.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    if let Ok(secs) = v.parse::<f64>() {
        if secs.is_finite() && secs >= 0.0 {
            return Some(Duration::from_secs_f64(secs.min(86_400.0)));
        }
    }
    Timestamp::parse_rfc1123(v).map(|t| t.duration_since(Timestamp::now()))
}

/// A fresh correlation vector base: 16 base64 characters, as Microsoft's services use.
pub(crate) fn new_cv() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    (0..16)
        .map(|_| ALPHABET[fastrand::usize(..ALPHABET.len())] as char)
        .collect()
}

/// `{base}.{attempt}`, the MS-CV of one attempt (without `fmt`: it runs on every request).
fn attempt_cv(base: &str, attempt: u32) -> String {
    let mut buf = [0u8; 10];
    let digits = decimal(attempt, &mut buf);
    let mut cv = String::with_capacity(base.len() + 1 + digits.len());
    cv.push_str(base);
    cv.push('.');
    cv.extend(digits.iter().map(|&d| char::from(d)));
    cv
}

/// The ASCII decimal digits of `n`, written into `buf` without `fmt` (request building runs on
/// every call).
pub(crate) fn decimal(mut n: u32, buf: &mut [u8; 10]) -> &[u8] {
    let mut at = buf.len();
    loop {
        at -= 1;
        buf[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return &buf[at..];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The IMDS exception is for managed-identity GETs only: every other request (Entra, Store,
    /// renew, queue) to the IMDS address is refused as it leaves, before any connection.
    #[test]
    fn no_store_entra_or_renew_request_may_use_the_imds_address() {
        let http = Http::new(&ClientConfig::new("t", "c", "s")).unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        for (url, op) in [
            ("http://169.254.169.254/t/oauth2/v2.0/token", "entra_token"),
            (
                "http://169.254.169.254/v9.0/collections/publisherQuery",
                "query_v9",
            ),
            ("http://169.254.169.254/v6.0/b2b/keys/renew", "renew_key"),
        ] {
            let spec = RequestSpec::new(reqwest::Method::POST, url.into(), op).json(b"{}".to_vec());
            let Err(f) = rt.block_on(http.send(&spec, RetryOn::NetworkAnd5xx)) else {
                panic!("{url} was sent");
            };
            assert_eq!(f.error.kind, crate::ErrorKind::Configuration, "{url}");
            assert!(!f.maybe_applied, "{url}");
            assert!(f.error.message.contains("refusing"), "{}", f.error.message);
        }
    }

    #[test]
    fn a_json_body_is_shared_not_copied() {
        let spec = RequestSpec::new(reqwest::Method::POST, "http://x/".into(), "q")
            .json(b"{\"a\":1}".to_vec());
        let attempt = spec.body.clone();
        assert_eq!(attempt.as_ptr(), spec.body.as_ptr());
        assert_eq!(&attempt[..], b"{\"a\":1}");
    }

    #[test]
    fn retry_after_forms() {
        assert_eq!(parse_retry_after("7"), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after("0.5"), Some(Duration::from_millis(500)));
        assert_eq!(parse_retry_after("soon"), None);
        let later = Timestamp::now().add_secs(100).to_rfc1123();
        let d = parse_retry_after(&later).unwrap();
        assert!(d > Duration::from_secs(90) && d <= Duration::from_secs(100));
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let p = RetryPolicy {
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(1000),
            ..RetryPolicy::default()
        };
        for _ in 0..100 {
            let d1 = backoff(&p, 1, None);
            assert!(d1 >= Duration::from_millis(50) && d1 <= Duration::from_millis(100));
            let d5 = backoff(&p, 5, None);
            assert!(d5 >= Duration::from_millis(500) && d5 <= Duration::from_millis(1000));
        }
        assert_eq!(
            backoff(&p, 1, Some(Duration::from_secs(3))),
            Duration::from_secs(3)
        );
        assert_eq!(
            backoff(&p, 1, Some(Duration::from_secs(300))),
            p.max_retry_after
        );
    }

    #[tokio::test]
    async fn a_connect_failure_keeps_the_reqwest_error_as_source() {
        // A port nobody listens on: bound, then released.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut config = ClientConfig::new("t", "c", "s");
        config.retry = RetryPolicy::none();
        let http = Http::new(&config).unwrap();
        let url = format!("http://127.0.0.1:{port}/queue?sig=SECRETSIG");
        let spec = RequestSpec::new(reqwest::Method::GET, url, "probe");
        let err = match http.send(&spec, RetryOn::Never).await {
            Err(f) => f.error,
            Ok(ex) => panic!("nothing listens, yet HTTP {}", ex.status),
        };
        assert_eq!(err.kind, ErrorKind::Network);
        let source = std::error::Error::source(&err).expect("a source");
        let reqwest = source
            .downcast_ref::<reqwest::Error>()
            .expect("the source is the reqwest error");
        assert!(reqwest.is_connect());
        // The URL (a SAS URL's signature) is dropped from the kept error.
        assert!(reqwest.url().is_none());
        assert!(!format!("{err:?}").contains("SECRETSIG"), "{err:?}");
    }

    /// What a `delayed_server` saw: connections accepted, requests being answered now, and the
    /// most at once.
    #[derive(Default)]
    struct ServerCounts {
        accepted: std::sync::atomic::AtomicUsize,
        now: std::sync::atomic::AtomicUsize,
        peak: std::sync::atomic::AtomicUsize,
    }

    /// A loopback HTTP/1.1 server answering every request `200 {}` after `delay`; it stops
    /// accepting after `max_connections` (more than a test can need) and when aborted.
    async fn delayed_server(
        delay: Duration,
        max_connections: usize,
    ) -> (
        u16,
        std::sync::Arc<ServerCounts>,
        tokio::task::JoinHandle<()>,
    ) {
        use std::sync::atomic::Ordering;
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let counts = std::sync::Arc::new(ServerCounts::default());
        let c = counts.clone();
        let server = tokio::spawn(async move {
            for _ in 0..max_connections {
                let Ok((mut tcp, _)) = listener.accept().await else {
                    return;
                };
                c.accepted.fetch_add(1, Ordering::SeqCst);
                let c = c.clone();
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 1024];
                    loop {
                        let Ok(read) = tcp.read(&mut chunk).await else {
                            return;
                        };
                        if read == 0 {
                            return;
                        }
                        buf.extend_from_slice(&chunk[..read]);
                        while let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                            buf.drain(..end + 4);
                            let in_flight = c.now.fetch_add(1, Ordering::SeqCst) + 1;
                            c.peak.fetch_max(in_flight, Ordering::SeqCst);
                            tokio::time::sleep(delay).await;
                            c.now.fetch_sub(1, Ordering::SeqCst);
                            let reply = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}";
                            if tcp.write_all(reply).await.is_err() {
                                return;
                            }
                        }
                    }
                });
            }
        });
        (port, counts, server)
    }

    /// Sends `callers` GETs to `url` at once; every one must answer 200.
    async fn burst_of(http: &std::sync::Arc<Http>, url: &str, callers: usize) {
        let mut burst = tokio::task::JoinSet::new();
        for _ in 0..callers {
            let spec = RequestSpec::new(reqwest::Method::GET, url.to_string(), "probe");
            let http = http.clone();
            burst.spawn(async move { http.send(&spec, RetryOn::Never).await.map(|e| e.status) });
        }
        while let Some(r) = burst.join_next().await {
            assert_eq!(r.unwrap().ok(), Some(200));
        }
    }

    /// A burst beyond the starting window: every call completes, the window opens by slow
    /// start (answers while callers wait), and the server never sees more requests at once
    /// than the window allowed, far fewer than the callers.
    #[tokio::test]
    async fn a_burst_opens_the_window_by_slow_start() {
        use std::sync::atomic::Ordering;
        const CALLERS: usize = 64;
        let (port, counts, server) = delayed_server(Duration::from_millis(20), 4 * CALLERS).await;
        let mut config = ClientConfig::new("t", "c", "s");
        config.retry = RetryPolicy::none();
        config.initial_connections_per_host = 2;
        config.max_connections_per_host = 512;
        let http = std::sync::Arc::new(Http::new(&config).unwrap());
        let url = format!("http://127.0.0.1:{port}/probe");
        burst_of(&http, &url, CALLERS).await;
        let window = http.limits.window_size(&url);
        let peak = counts.peak.load(Ordering::SeqCst);
        // 2 + 4 + 8 + 16 + 32 answers cover 62 callers: the window ends near 34, not 64.
        assert!(window > 2 && window < CALLERS, "window {window}");
        assert!(
            peak <= window,
            "the server saw {peak} at once, window {window}"
        );
        server.abort();
    }

    /// Connections dialled at a burst are kept for the next one, even beyond
    /// `max_idle_connections_per_host` (up to the cap): no reconnect once warm.
    #[tokio::test]
    async fn a_warm_pool_keeps_every_connection_up_to_the_cap() {
        use std::sync::atomic::Ordering;
        const CALLERS: usize = 4;
        // Answers after 100 ms, so a burst's requests overlap.
        let (port, counts, server) = delayed_server(Duration::from_millis(100), 4 * CALLERS).await;
        let mut config = ClientConfig::new("t", "c", "s");
        config.retry = RetryPolicy::none();
        config.max_idle_connections_per_host = 1;
        config.max_connections_per_host = 8;
        let http = std::sync::Arc::new(Http::new(&config).unwrap());
        let url = format!("http://127.0.0.1:{port}/probe");
        for _round in 0..3 {
            burst_of(&http, &url, CALLERS).await;
            // Every connection is back in the pool before the next burst.
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(
            counts.accepted.load(Ordering::SeqCst),
            CALLERS,
            "reconnected once warm"
        );
        server.abort();
    }

    #[test]
    fn cv_shape() {
        let cv = new_cv();
        assert_eq!(cv.len(), 16);
        assert_ne!(cv, new_cv());
        for n in [0, 1, 9, 10, 99, 100, 12345, u32::MAX] {
            assert_eq!(attempt_cv(&cv, n), format!("{cv}.{n}"));
        }
    }
}
