//! The realistic mode's server: a multi-threaded tokio + hyper + rustls stand-in for the Store
//! that answers every token request and every v9 query with a canned body captured from the
//! emulator (so it never holds a lock or signs anything and is not the bottleneck). It runs in
//! the server namespace (`msstore-bench serve`) and reports its counters and CPU time as one
//! JSON line whenever the parent writes a line to its stdin.

use super::cpu;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use serde::{Deserialize, Serialize};
use std::io::BufRead;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio_rustls::rustls;

/// The emulator's committed test certificate and its (public, test-only) key.
const CERT_PEM: &str = msstore_emulator::TEST_CERT_PEM;
const KEY_PEM: &str = include_str!("../../../emulator/src/tls/key.pem");
/// Largest request body read (real bodies are a few KiB).
const MAX_BODY: usize = 1024 * 1024;

/// The canned answers (written by the parent, read by `serve`).
#[derive(Serialize, Deserialize)]
pub struct Canned {
    pub token: String,
    pub query_page: String,
}

/// What the server counted since it started; the parent takes differences around a cell.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct Counters {
    pub connections: u64,
    /// Connections that ended (closed by either side).
    #[serde(default)]
    pub closed: u64,
    pub full_handshakes: u64,
    pub resumed_handshakes: u64,
    pub token_requests: u64,
    pub requests: u64,
    /// Time the handler spent on requests (body read to response built), us in total.
    #[serde(default)]
    pub handler_us: u64,
    /// User + system CPU time of the server process, ms.
    pub cpu_ms: f64,
}

impl Counters {
    pub fn since(&self, before: &Counters) -> Counters {
        Counters {
            connections: self.connections - before.connections,
            closed: self.closed - before.closed,
            full_handshakes: self.full_handshakes - before.full_handshakes,
            resumed_handshakes: self.resumed_handshakes - before.resumed_handshakes,
            token_requests: self.token_requests - before.token_requests,
            requests: self.requests - before.requests,
            handler_us: self.handler_us - before.handler_us,
            cpu_ms: self.cpu_ms - before.cpu_ms,
        }
    }

    /// New TLS handshakes (full or resumed).
    pub fn handshakes(&self) -> u64 {
        self.full_handshakes + self.resumed_handshakes
    }

    /// Mean server time per request, ms.
    pub fn server_ms_per_request(&self) -> f64 {
        self.handler_us as f64 / self.requests.max(1) as f64 / 1000.0
    }
}

#[derive(Default)]
struct Live {
    connections: AtomicU64,
    closed: AtomicU64,
    full: AtomicU64,
    resumed: AtomicU64,
    tokens: AtomicU64,
    requests: AtomicU64,
    handler_us: AtomicU64,
}

impl Live {
    fn snapshot(&self) -> Counters {
        Counters {
            connections: self.connections.load(Ordering::Relaxed),
            closed: self.closed.load(Ordering::Relaxed),
            full_handshakes: self.full.load(Ordering::Relaxed),
            resumed_handshakes: self.resumed.load(Ordering::Relaxed),
            token_requests: self.tokens.load(Ordering::Relaxed),
            requests: self.requests.load(Ordering::Relaxed),
            handler_us: self.handler_us.load(Ordering::Relaxed),
            cpu_ms: cpu::process_cpu_ms(),
        }
    }
}

fn acceptor() -> Result<tokio_rustls::TlsAcceptor, String> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs = CertificateDer::pem_slice_iter(CERT_PEM.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("test certificate: {e}"))?;
    let key =
        PrivateKeyDer::from_pem_slice(KEY_PEM.as_bytes()).map_err(|e| format!("test key: {e}"))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS versions: {e}"))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| format!("TLS configuration: {e}"))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}

async fn answer(
    req: Request<Incoming>,
    canned: Arc<Canned>,
    live: Arc<Live>,
) -> Result<Response<Full<Bytes>>, hyper::Error> {
    let t0 = std::time::Instant::now();
    live.requests.fetch_add(1, Ordering::Relaxed);
    let is_token = req.uri().path().ends_with("/oauth2/v2.0/token");
    // Read the whole body, as a real server does before answering.
    let _ = Limited::new(req.into_body(), MAX_BODY).collect().await;
    let body = if is_token {
        live.tokens.fetch_add(1, Ordering::Relaxed);
        canned.token.clone()
    } else {
        canned.query_page.clone()
    };
    let reply = Response::builder()
        .header("content-type", "application/json; charset=utf-8")
        .header("ms-cv", "standin.0")
        .body(Full::new(Bytes::from(body)))
        .unwrap_or_default();
    let spent = t0.elapsed().as_micros() as u64;
    live.handler_us.fetch_add(spent, Ordering::Relaxed);
    Ok(reply)
}

/// `msstore-bench serve --listen ADDR --canned FILE`: prints `listening ADDR`, then one
/// counters line per line read from stdin; exits when stdin closes (the parent is gone).
pub fn serve(listen: &str, canned_file: &str, threads: usize) -> Result<(), String> {
    let text = std::fs::read_to_string(canned_file).map_err(|e| format!("--canned: {e}"))?;
    let canned: Arc<Canned> =
        Arc::new(serde_json::from_str(&text).map_err(|e| format!("--canned: {e}"))?);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads.max(1))
        .enable_all()
        .build()
        .map_err(|e| format!("runtime: {e}"))?;
    let tls = acceptor()?;
    let live = Arc::new(Live::default());
    let listener = rt
        .block_on(tokio::net::TcpListener::bind(listen))
        .map_err(|e| format!("bind {listen}: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let l2 = live.clone();
    rt.spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                continue;
            };
            let _ = tcp.set_nodelay(true);
            l2.connections.fetch_add(1, Ordering::Relaxed);
            let (tls, canned, live) = (tls.clone(), canned.clone(), l2.clone());
            tokio::spawn(async move {
                let Ok(stream) = tls.accept(tcp).await else {
                    live.closed.fetch_add(1, Ordering::Relaxed);
                    return;
                };
                match stream.get_ref().1.handshake_kind() {
                    Some(rustls::HandshakeKind::Resumed) => &live.resumed,
                    _ => &live.full,
                }
                .fetch_add(1, Ordering::Relaxed);
                let l3 = live.clone();
                let svc =
                    hyper::service::service_fn(move |r| answer(r, canned.clone(), l3.clone()));
                // Keep-alive without a request limit or idle timeout: the server never closes
                // a connection the client keeps (a client's churn shows in `closed`).
                let _ = hyper::server::conn::http1::Builder::new()
                    .keep_alive(true)
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), svc)
                    .await;
                live.closed.fetch_add(1, Ordering::Relaxed);
            });
        }
    });
    println!("listening {addr}");
    // The control channel: one stats line per request line; EOF means the parent is gone.
    for line in std::io::stdin().lock().lines() {
        if line.is_err() {
            break;
        }
        println!(
            "{}",
            serde_json::to_string(&live.snapshot()).map_err(|e| e.to_string())?
        );
    }
    rt.shutdown_background();
    Ok(())
}
