//! HTTP plumbing: a dedicated thread with its own tokio runtime, a hyper 1 http1 accept loop,
//! fault injection around the (synchronous) handlers, response headers and the request log.

use super::collections::{self, QueryVersion};
use super::crypto::Signer;
use super::faults::FaultKind;
use super::json::{self, ApiError};
use super::keys::{self, KeyKind};
use super::log::{self, LoggedRequest};
use super::router::{self, Route};
use super::state::State;
use super::{admin, clawback, consume, entra, identity, purchase, queue, subscriptions};
use http_body_util::{BodyExt, Limited};
use hyper::body::{Body, Bytes, Frame, Incoming, SizeHint};
use hyper::{Method, Request, Response};
use serde_json::Value;
use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};

/// Largest request body we read (real bodies are a few KiB).
const MAX_BODY: usize = 1024 * 1024;
/// Log entries kept (oldest dropped first) so long benchmarks cannot exhaust memory.
const MAX_LOG: usize = 200_000;
/// Upper bound on an injected delay.
const MAX_DELAY_MS: u64 = 120_000;

pub struct Shared {
    pub state: Mutex<State>,
    pub signer: Signer,
    pub log: Mutex<VecDeque<LoggedRequest>>,
    pub log_seq: AtomicU64,
    pub connections: AtomicU64,
    /// `http(s)://127.0.0.1:PORT`, for replies that carry URLs (the demo seed).
    pub base_url: String,
}

/// Locks a mutex even if a previous holder panicked (the handlers never leave the state
/// half-updated in a way that matters more than staying available).
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Shared {
    pub fn push_log(&self, mut entry: LoggedRequest) {
        entry.seq = self.log_seq.fetch_add(1, Ordering::Relaxed) + 1;
        let mut log = lock(&self.log);
        if log.len() >= MAX_LOG {
            log.pop_front();
        }
        log.push_back(entry);
    }
}

/// A response body: complete, or deliberately cut off mid-stream (fault injection).
pub enum EmuBody {
    Full(Option<Bytes>),
    Truncated { chunk: Option<Bytes>, failed: bool },
}

impl Body for EmuBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        match self.get_mut() {
            EmuBody::Full(b) => Poll::Ready(b.take().map(|b| Ok(Frame::data(b)))),
            EmuBody::Truncated { chunk, failed } => {
                if let Some(c) = chunk.take() {
                    Poll::Ready(Some(Ok(Frame::data(c))))
                } else if !*failed {
                    *failed = true;
                    Poll::Ready(Some(Err(io::Error::other("injected truncated body"))))
                } else {
                    Poll::Ready(None)
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, EmuBody::Full(None))
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            EmuBody::Full(Some(b)) => SizeHint::with_exact(b.len() as u64),
            EmuBody::Full(None) => SizeHint::with_exact(0),
            EmuBody::Truncated { .. } => SizeHint::default(),
        }
    }
}

/// What a handler produced, before headers and faults.
pub struct Reply {
    pub status: u16,
    pub body: Option<Vec<u8>>,
    pub headers: Vec<(String, String)>,
    pub audience: Option<String>,
}

impl Reply {
    pub fn json(status: u16, v: &Value) -> Reply {
        Reply {
            status,
            body: Some(v.to_string().into_bytes()),
            headers: Vec::new(),
            audience: None,
        }
    }

    pub fn empty(status: u16) -> Reply {
        Reply {
            status,
            body: None,
            headers: Vec::new(),
            audience: None,
        }
    }

    pub fn error(e: &ApiError) -> Reply {
        let mut r = Reply::json(e.status, &e.body());
        r.headers = e.headers.clone();
        r
    }
}

fn throttled(max: u32, window: u64, aspect: &str, retry_after: u64) -> ApiError {
    let mut e = ApiError::new(
        429,
        "Throttled",
        None,
        format!("Rate limit of {max} operations in {window} seconds exceeded for aspect {aspect}"),
    );
    e.headers
        .push(("Retry-After".into(), retry_after.to_string()));
    e
}

/// Extends an incoming correlation vector, or starts a new one.
fn correlation_vector(incoming: Option<&str>) -> String {
    match incoming
        .map(str::trim)
        .filter(|s| !s.is_empty() && s.len() < 128)
    {
        Some(cv) => format!("{cv}.0"),
        None => {
            let id = uuid::Uuid::new_v4();
            let b = crate::jwt::encode_base64url(id.as_bytes());
            format!("{}.0", &b[..16.min(b.len())])
        }
    }
}

fn header<'a>(req_headers: &'a hyper::HeaderMap, name: &str) -> Option<&'a str> {
    req_headers.get(name).and_then(|v| v.to_str().ok())
}

/// Users a request is about, for fault rules with a `user` filter.
fn request_users(route: &Route, body: &[u8]) -> Vec<String> {
    match route {
        Route::EntraV1 { .. } | Route::EntraV2 { .. } => json::parse_form(body)
            .into_iter()
            .filter(|(k, _)| k == "client_id")
            .map(|(_, v)| v)
            .collect(),
        _ => json::parse_object(body)
            .ok()
            .and_then(|o| collections::peek_key(&o))
            .map(|k| keys::peek_users(&k))
            .unwrap_or_default(),
    }
}

pub async fn handle(
    shared: Arc<Shared>,
    req: Request<Incoming>,
) -> Result<Response<EmuBody>, io::Error> {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let query = req.uri().query().map(str::to_string);
    let headers = req.headers().clone();
    let body = match Limited::new(req.into_body(), MAX_BODY).collect().await {
        Ok(c) => c.to_bytes(),
        Err(_) => {
            let e = ApiError::new(
                413,
                "PayloadTooLarge",
                None,
                "The request body is too large or incomplete.",
            );
            return Ok(finish(&shared, Reply::error(&e), None, None));
        }
    };
    let route = router::route_with_query(&path, query.as_deref());
    if let Route::Admin { rest } = &route {
        let reply = admin::handle(&shared, &method, rest, query.as_deref(), &body);
        return Ok(finish(&shared, reply, None, None));
    }
    let ms_cv = correlation_vector(header(&headers, "ms-cv"));
    let is_form = matches!(route, Route::EntraV1 { .. } | Route::EntraV2 { .. });
    let mut entry = LoggedRequest {
        seq: 0,
        time: lock(&shared.state).now(),
        method: method.to_string(),
        path: path.clone(),
        route: route.name().to_string(),
        status: 0,
        ms_cv: ms_cv.clone(),
        audience: None,
        body: log::redact(&body, is_form),
        fault: None,
    };
    let users = request_users(&route, &body);
    let fault = {
        let mut st = lock(&shared.state);
        let st = &mut *st;
        st.faults.pick(route.name(), &users, &mut st.rng)
    };
    entry.fault = fault.as_ref().map(fault_name);
    if let Some(FaultKind::Delay { ms }) = &fault {
        tokio::time::sleep(std::time::Duration::from_millis((*ms).min(MAX_DELAY_MS))).await;
    }
    let pre = match &fault {
        Some(FaultKind::DropBeforeApply) => {
            shared.push_log(entry);
            return Err(io::Error::other(
                "injected fault: connection dropped before apply",
            ));
        }
        Some(FaultKind::Throttle { retry_after_secs }) => Some(Reply::error(&throttled(
            100,
            300,
            "{userId;publisherId}",
            *retry_after_secs,
        ))),
        Some(FaultKind::Status { status }) => Some(Reply::error(&ApiError::new(
            *status,
            if *status >= 500 {
                "InternalServerError"
            } else {
                "Error"
            },
            None,
            format!("Injected fault: HTTP {status}."),
        ))),
        _ => None,
    };
    let reply = match pre {
        Some(r) => r,
        None => {
            // Handlers are synchronous and never await while holding the state lock. A panic
            // (a bug) becomes a 500 instead of killing the connection task.
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                apply(&shared, &route, &method, &headers, &body, query.as_deref())
            }));
            r.unwrap_or_else(|_| {
                Reply::error(&ApiError::new(
                    500,
                    "InternalServerError",
                    None,
                    "Emulator internal error.",
                ))
            })
        }
    };
    entry.audience = reply.audience.clone();
    match &fault {
        Some(FaultKind::DropAfterApply) => {
            shared.push_log(entry);
            Err(io::Error::other(
                "injected fault: response dropped after apply",
            ))
        }
        Some(FaultKind::MalformedJson) => {
            let mut r = reply;
            r.body = Some(b"{\"items\":[{\"id\":\"d41e6a0b\",\"quantity\":".to_vec());
            entry.status = r.status;
            Ok(finish(&shared, r, Some(entry), Some(&ms_cv)))
        }
        Some(FaultKind::TruncatedBody) => {
            entry.status = reply.status;
            let full = reply.body.clone().unwrap_or_else(|| b"{}".to_vec());
            let half = Bytes::from(full[..full.len() / 2].to_vec());
            let mut resp = finish(&shared, reply, Some(entry), Some(&ms_cv));
            resp.headers_mut().remove(hyper::header::CONTENT_LENGTH);
            *resp.body_mut() = EmuBody::Truncated {
                chunk: Some(half),
                failed: false,
            };
            Ok(resp)
        }
        _ => {
            entry.status = reply.status;
            Ok(finish(&shared, reply, Some(entry), Some(&ms_cv)))
        }
    }
}

fn fault_name(f: &FaultKind) -> String {
    match f {
        FaultKind::Throttle { .. } => "throttle",
        FaultKind::Status { .. } => "status",
        FaultKind::Delay { .. } => "delay",
        FaultKind::DropBeforeApply => "drop_before_apply",
        FaultKind::DropAfterApply => "drop_after_apply",
        FaultKind::MalformedJson => "malformed_json",
        FaultKind::TruncatedBody => "truncated_body",
    }
    .to_string()
}

/// Adds the standard headers, logs, and builds the hyper response.
fn finish(
    shared: &Shared,
    reply: Reply,
    entry: Option<LoggedRequest>,
    ms_cv: Option<&str>,
) -> Response<EmuBody> {
    let now = lock(&shared.state).now();
    let mut b = Response::builder()
        .status(reply.status)
        .header("Date", now.to_rfc1123())
        .header("MS-CorrelationId", uuid::Uuid::new_v4().to_string())
        .header("MS-RequestId", uuid::Uuid::new_v4().to_string())
        .header("MS-ServerId", "msstore-emulator")
        .header("X-Content-Type-Options", "nosniff")
        .header(
            "MS-CV",
            ms_cv
                .map(str::to_string)
                .unwrap_or_else(|| correlation_vector(None)),
        );
    let typed = reply
        .headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("content-type"));
    if reply.body.is_some() && !typed {
        b = b.header("Content-Type", "application/json; charset=utf-8");
    }
    for (k, v) in &reply.headers {
        b = b.header(k.as_str(), v.as_str());
    }
    if let Some(e) = entry {
        shared.push_log(e);
    }
    let body = EmuBody::Full(reply.body.map(Bytes::from));
    b.body(body).unwrap_or_else(|_| {
        let mut r = Response::new(EmuBody::Full(None));
        *r.status_mut() = hyper::StatusCode::INTERNAL_SERVER_ERROR;
        r
    })
}

fn result_reply(r: Result<Value, ApiError>) -> Reply {
    match r {
        Ok(v) => Reply::json(200, &v),
        Err(e) => Reply::error(&e),
    }
}

/// Runs one Store/Entra request against the state.
fn apply(
    shared: &Shared,
    route: &Route,
    method: &Method,
    headers: &hyper::HeaderMap,
    body: &[u8],
    query: Option<&str>,
) -> Reply {
    if *route == Route::Unknown {
        return Reply::error(&ApiError::not_found("No such route."));
    }
    // Clawback v2: the SAS token is a GET with no body; the queue speaks Azure's XML protocol.
    if matches!(
        route,
        Route::QueueGet { .. } | Route::QueuePeek { .. } | Route::QueueDelete { .. }
    ) {
        let mut st = lock(&shared.state);
        st.tick();
        return queue::handle(&mut st, route, method, &json::query_pairs(query));
    }
    if matches!(route, Route::ImdsToken | Route::AppServiceToken) {
        if method != Method::GET {
            return Reply::error(&ApiError::new(
                405,
                "MethodNotAllowed",
                None,
                "Only GET is supported on this route.",
            ));
        }
        let protocol = if *route == Route::ImdsToken {
            identity::Protocol::Imds {
                metadata: header(headers, "metadata"),
                forwarded: headers.contains_key("x-forwarded-for"),
            }
        } else {
            identity::Protocol::AppService {
                identity_header: header(headers, "x-identity-header"),
            }
        };
        let mut st = lock(&shared.state);
        st.tick();
        return identity::token(&mut st, &shared.signer, protocol, &json::query_pairs(query));
    }
    if *route == Route::ClawbackSasToken {
        if method != Method::GET {
            return Reply::error(&ApiError::new(
                405,
                "MethodNotAllowed",
                None,
                "Only GET is supported on this route.",
            ));
        }
        let mut st = lock(&shared.state);
        st.tick();
        return match keys::authenticate_token(&st, &shared.signer, header(headers, "authorization"))
        {
            Ok(_) => Reply::json(200, &st.issue_sas(&shared.base_url)),
            Err(e) => Reply::error(&e),
        };
    }
    if method != Method::POST {
        return Reply::error(&ApiError::new(
            405,
            "MethodNotAllowed",
            None,
            "Only POST is supported on this route.",
        ));
    }
    let mut st = lock(&shared.state);
    let st = &mut *st;
    st.tick();
    let signer = &shared.signer;
    match route {
        Route::EntraV1 { tenant } | Route::EntraV2 { tenant } => {
            let v2 = matches!(route, Route::EntraV2 { .. });
            let r = entra::token(st, signer, &shared.base_url, tenant, v2, body);
            let mut reply = Reply::json(r.status, &r.body);
            reply.audience = r.audience;
            reply
        }
        Route::KeysRenewCollections | Route::KeysRenewPurchase => {
            let kind = if *route == Route::KeysRenewCollections {
                KeyKind::Collections
            } else {
                KeyKind::Purchase
            };
            result_reply(json::parse_object(body).and_then(|o| keys::renew(st, signer, kind, &o)))
        }
        _ => {
            let r = store_route(st, signer, route, headers, body);
            match r {
                Ok(Some(mut v)) => {
                    if st.knobs.extra_response_fields {
                        add_extra_fields(&mut v);
                    }
                    Reply::json(200, &v)
                }
                Ok(None) => Reply::empty(204),
                Err(e) => Reply::error(&e),
            }
        }
    }
}

/// Unknown fields real responses carry (https://learn.microsoft.com/en-us/windows/uwp/monetize/view-and-grant-products-from-a-service): clients must ignore them.
fn add_extra_fields(v: &mut Value) {
    let Some(o) = v.as_object_mut() else {
        return;
    };
    o.entry("testScenarios")
        .or_insert_with(|| Value::from("None"));
    for list in ["items", "orderLineItems", "orderTransactions"] {
        if let Some(Value::Array(a)) = o.get_mut(list) {
            for it in a.iter_mut().filter_map(Value::as_object_mut) {
                it.entry("$type")
                    .or_insert_with(|| Value::from("emulatorItemV1"));
                it.entry("payments")
                    .or_insert_with(|| Value::Array(Vec::new()));
            }
        }
    }
}

fn store_route(
    st: &mut State,
    signer: &Signer,
    route: &Route,
    headers: &hyper::HeaderMap,
    body: &[u8],
) -> Result<Option<Value>, ApiError> {
    let token = keys::authenticate_token(st, signer, header(headers, "authorization"))?;
    let obj = json::parse_object(body)?;
    let (kind, key) = match route {
        Route::CollectionsV6Query | Route::CollectionsV8Query | Route::CollectionsV9Query => (
            KeyKind::Collections,
            collections::beneficiary_key(&obj, "beneficiaries")?,
        ),
        Route::CollectionsV6Consume | Route::CollectionsV8Consume => (
            KeyKind::Collections,
            collections::beneficiary_key(&obj, "beneficiary")?,
        ),
        _ => (
            KeyKind::Purchase,
            json::req_str(&obj, "b2bKey")?.to_string(),
        ),
    };
    let caller = keys::authenticate_key(st, signer, &token, &key, kind)?;
    if route.rate_limited() {
        if let Some(rl) = st.knobs.rate_limit.clone() {
            let now = st.now();
            let aspect = format!("{{{};{}}}", caller.publisher_user_id, caller.client_id);
            let k = format!("{}|{}", caller.store_user, caller.client_id);
            if let Err(retry) = st.rate.check(&k, now, rl.max_requests, rl.window_secs) {
                return Err(throttled(rl.max_requests, rl.window_secs, &aspect, retry));
            }
        }
    }
    match route {
        Route::CollectionsV6Query => {
            collections::query(st, &caller, QueryVersion::V6, &obj).map(Some)
        }
        Route::CollectionsV8Query => {
            collections::query(st, &caller, QueryVersion::V8, &obj).map(Some)
        }
        Route::CollectionsV9Query => {
            collections::query(st, &caller, QueryVersion::V9, &obj).map(Some)
        }
        Route::CollectionsV8Consume => consume::consume_v8(st, &caller, &obj).map(Some),
        Route::CollectionsV6Consume => consume::consume_v6(st, &caller, &obj).map(|_| None),
        Route::PurchaseV6Grant => purchase::grant(st, &caller, &obj).map(Some),
        Route::RecurrencesQuery => subscriptions::query(st, &caller, &obj).map(Some),
        Route::RecurrenceChange { id } => subscriptions::change(st, &caller, id, &obj).map(Some),
        Route::ClawbackOrdersQuery => clawback::orders_query(st, &caller, &obj).map(Some),
        _ => Err(ApiError::not_found("No such route.")),
    }
}

/// Binds nothing itself: takes a bound std listener, runs the accept loop on a new thread
/// until `stop` fires, then drops the runtime (which cancels every connection task). With
/// `tls`, each accepted connection (counted like any other) does its handshake in its own task.
pub fn spawn(
    listener: std::net::TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    shared: Arc<Shared>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> io::Result<std::thread::JoinHandle<()>> {
    listener.set_nonblocking(true)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    std::thread::Builder::new()
        .name("msstore-emulator".into())
        .spawn(move || {
            rt.block_on(async move {
                let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                    return;
                };
                loop {
                    tokio::select! {
                        _ = stop.changed() => break,
                        acc = listener.accept() => match acc {
                            Ok((stream, _)) => {
                                shared.connections.fetch_add(1, Ordering::Relaxed);
                                let _ = stream.set_nodelay(true);
                                let shared = shared.clone();
                                let stop = stop.clone();
                                let tls = tls.clone();
                                tokio::spawn(async move {
                                    match tls {
                                        None => serve(stream, shared, stop).await,
                                        Some(acceptor) => {
                                            // A client that never finishes its handshake must
                                            // not hold the task forever.
                                            let hs = tokio::time::timeout(
                                                TLS_HANDSHAKE_TIMEOUT,
                                                acceptor.accept(stream),
                                            );
                                            if let Ok(Ok(tls_stream)) = hs.await {
                                                serve(tls_stream, shared, stop).await;
                                            }
                                        }
                                    }
                                });
                            }
                            // Out of file descriptors and the like: back off, keep serving.
                            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(20)).await,
                        }
                    }
                }
            });
            drop(rt);
        })
}

/// Longest a TLS client may take to complete its handshake.
const TLS_HANDSHAKE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Serves HTTP/1.1 with keep-alive on one connection (plain TCP or TLS) until the client
/// closes it or the emulator stops.
async fn serve<I>(io: I, shared: Arc<Shared>, mut stop: tokio::sync::watch::Receiver<bool>)
where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let svc = hyper::service::service_fn(move |req| handle(shared.clone(), req));
    let conn = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        .serve_connection(hyper_util::rt::TokioIo::new(io), svc);
    tokio::select! {
        _ = conn => {}
        _ = stop.changed() => {}
    }
}
