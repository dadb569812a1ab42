//! Hand-written HTTP clients that send the same exchanges as msstore (same paths, headers and
//! bodies) and do nothing else: the floor (warm token, keep-alive pool) and the pattern of
//! Microsoft's C# library (a new connection for every request, a token cache without
//! single-flight).

use crate::load::{burst, closed_loop, Window};
use crate::stats::Summary;
use crate::workload::{self, Workload, World};
use serde::Deserialize;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::RwLock;

const JSON: &str = "application/json; charset=utf-8";
const FORM: &str = "application/x-www-form-urlencoded; charset=utf-8";
/// The audience of the service token (what msstore's `Audience::Service` asks for).
const SERVICE_SCOPE: &str = "https://onestore.microsoft.com/.default";

/// How the HTTP client treats connections.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Pattern {
    /// Keep-alive pool, one token fetched up front.
    Floor,
    /// No pooling (a new TCP connection per request), token cache without single-flight.
    PerRequest,
}

struct Raw {
    http: reqwest::Client,
    world: World,
    pattern: Pattern,
    /// The cached service token. The per-request pattern checks it and, when empty, every
    /// caller that saw it empty fetches its own (no single-flight), as the C# library does.
    token: RwLock<Option<String>>,
}

/// With `tls_cert_pem` (a `--tls` run) the emulator's test certificate is trusted as an extra
/// root, as msstore's `extra_root_cert_pem` does. The per-request pattern shares one reqwest
/// client without an idle pool: a new TCP connection and TLS handshake per request, though
/// rustls may resume the session (cheaper than the full handshake a new .NET HttpClient pays).
fn build_http(pattern: Pattern, tls_cert_pem: Option<&str>) -> Result<reqwest::Client, String> {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::USER_AGENT,
        reqwest::header::HeaderValue::from_static(concat!("msstore/", env!("CARGO_PKG_VERSION"))),
    );
    let idle = match pattern {
        Pattern::Floor => 256,
        Pattern::PerRequest => 0,
    };
    let mut builder = reqwest::Client::builder();
    if let Some(pem) = tls_cert_pem {
        let cert = reqwest::Certificate::from_pem(pem.as_bytes())
            .map_err(|e| format!("test certificate: {e}"))?;
        builder = builder.add_root_certificate(cert);
    }
    builder
        .default_headers(headers)
        .pool_max_idle_per_host(idle)
        .tcp_nodelay(true)
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(30))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| format!("http client: {e}"))
}

/// A correlation vector shaped like the library's (`16 base64 chars` + `.0`).
fn cv() -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s: String = (0..16)
        .map(|_| A[fastrand::usize(..A.len())] as char)
        .collect();
    s.push_str(".0");
    s
}

#[derive(Deserialize)]
struct TokenReply {
    access_token: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PageReply {
    #[serde(default)]
    continuation_token: Option<String>,
}

impl Raw {
    async fn fetch_token(&self) -> Result<String, String> {
        let form = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "client_credentials")
            .append_pair("client_id", &self.world.client_id)
            .append_pair("client_secret", &self.world.client_secret)
            .append_pair("scope", SERVICE_SCOPE)
            .finish();
        let resp = self
            .http
            .post(self.world.token_url())
            .header("MS-CV", cv())
            .header(reqwest::header::CONTENT_TYPE, FORM)
            .body(form)
            .send()
            .await
            .map_err(|e| format!("token: {e}"))?;
        if !resp.status().is_success() {
            return Err(format!("token: HTTP {}", resp.status()));
        }
        let body = resp.bytes().await.map_err(|e| format!("token body: {e}"))?;
        serde_json::from_slice::<TokenReply>(&body)
            .map(|t| t.access_token)
            .map_err(|e| format!("token json: {e}"))
    }

    async fn token(&self) -> Result<String, String> {
        if let Some(t) = self.token.read().await.clone() {
            return Ok(t);
        }
        let t = self.fetch_token().await?;
        *self.token.write().await = Some(t.clone());
        Ok(t)
    }

    /// POSTs `body` to a collections route; returns the response body of a 2xx.
    async fn post(
        &self,
        path: &str,
        body: Vec<u8>,
        bearer: Option<&str>,
    ) -> Result<impl AsRef<[u8]>, String> {
        let mut req = self
            .http
            .post(self.world.collections_url(path))
            .header("MS-CV", cv())
            .header(reqwest::header::CONTENT_TYPE, JSON)
            .body(body);
        if let Some(t) = bearer {
            req = req.header(reqwest::header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let resp = req.send().await.map_err(|e| format!("{path}: {e}"))?;
        let status = resp.status();
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| format!("{path} body: {e}"))?;
        if !status.is_success() {
            return Err(format!(
                "{path}: HTTP {status}: {}",
                String::from_utf8_lossy(&bytes)
            ));
        }
        Ok(bytes)
    }

    async fn one(&self, w: Workload, n: u64) -> Result<(), String> {
        let token = self.token().await?;
        match w {
            Workload::Query10 | Workload::Query500 | Workload::ColdStart => {
                let req = self.world.query_request(w, n);
                let mut cont: Option<String> = None;
                loop {
                    let body = workload::query_page_body(&req, cont.as_deref());
                    let reply = self
                        .post(workload::PATH_QUERY_V9, body, Some(&token))
                        .await?;
                    // The one thing paging needs from the body; the items are not looked at.
                    let page: PageReply = serde_json::from_slice(reply.as_ref())
                        .map_err(|e| format!("page json: {e}"))?;
                    match page.continuation_token.filter(|t| !t.is_empty()) {
                        Some(t) => cont = Some(t),
                        None => return Ok(()),
                    }
                }
            }
            Workload::Consume => {
                let body = workload::body_json(&self.world.consume_request());
                self.post(workload::PATH_CONSUME_V8, body, Some(&token))
                    .await
                    .map(|_| ())
            }
            Workload::Renew => {
                let body = workload::renew_body(&token, &self.world.renew_key);
                self.post(workload::PATH_RENEW, body, None)
                    .await
                    .map(|_| ())
            }
        }
    }
}

/// The floor as a blocking call: one operation of `w` (number `n`) at a time on the calling
/// thread, with a warm token (the instruction counts, `instructions.rs`).
pub(crate) fn blocking_floor(
    world: &World,
    w: Workload,
) -> Result<impl FnMut(u64) -> Result<(), String>, String> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("runtime: {e}"))?;
    let raw = Raw {
        http: build_http(Pattern::Floor, world.tls_cert_pem.as_deref())?,
        world: world.clone(),
        pattern: Pattern::Floor,
        token: RwLock::new(None),
    };
    let t = rt.block_on(raw.fetch_token())?;
    *rt.block_on(raw.token.write()) = Some(t);
    Ok(move |n| rt.block_on(raw.one(w, n)))
}

pub fn run(
    world: &World,
    pattern: Pattern,
    w: Workload,
    concurrency: usize,
    window: Window,
) -> Result<Summary, String> {
    // Two workers, like msstore's default runtime.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("runtime: {e}"))?;
    let raw = Arc::new(Raw {
        http: build_http(pattern, world.tls_cert_pem.as_deref())?,
        world: world.clone(),
        pattern,
        token: RwLock::new(None),
    });
    if raw.pattern == Pattern::Floor {
        // The floor starts with a warm token.
        let t = rt.block_on(raw.fetch_token())?;
        *rt.block_on(raw.token.write()) = Some(t);
    }
    let op = move |n: u64| {
        let raw = raw.clone();
        async move { raw.one(w, n).await }
    };
    let h = rt.handle().clone();
    let s = match w {
        Workload::ColdStart => burst(&h, world.cold_callers, op),
        _ => closed_loop(&h, concurrency, window, op),
    };
    rt.shutdown_background();
    Ok(s)
}
