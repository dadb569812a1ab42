//! A small hostile HTTP/1.1 server on 127.0.0.1 for tests: it answers Entra token requests,
//! clawback queue requests and Store requests with whatever a test chooses, including bodies of any size and framing, written
//! on the fly (a 1 GiB body costs 64 KiB here). It runs on its own runtime, which is shut down
//! when the server is dropped; a body writer also stops when the client closes the connection.
#![allow(dead_code)]

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What one request is answered with.
#[derive(Clone, Debug)]
pub enum Reply {
    /// 200 with this JSON and a `Content-Length`; `{BASE}` stands for the server's own URL.
    Json(String),
    /// 200, `Transfer-Encoding: chunked`, this many bytes (`None`: never ends).
    Chunked(Option<u64>),
    /// 200 with neither `Content-Length` nor chunking: the body ends when the server closes.
    CloseDelimited(u64),
    /// 200, chunked, exactly this text (in 64 KiB chunks).
    ChunkedText(String),
    /// 200, close-delimited, exactly this text.
    CloseDelimitedText(String),
}

/// A token Entra answer with this `expires_in` (raw JSON: a number or a string).
pub fn token_reply(expires_in: &str) -> Reply {
    Reply::Json(format!(
        r#"{{"token_type":"Bearer","expires_in":{expires_in},"access_token":"eyJhostile"}}"#
    ))
}

/// An empty v9/v8 query page.
pub const EMPTY_PAGE: &str = r#"{"items":[]}"#;

/// No hostile body ever needs more: a writer stops here even if the client kept reading.
const WRITE_LIMIT: u64 = 4 << 30;
const CHUNK: usize = 64 * 1024;

struct Counters {
    token_requests: AtomicUsize,
    queue_requests: AtomicUsize,
    store_requests: AtomicUsize,
    /// Large bodies being written right now.
    writers: AtomicUsize,
    /// Body bytes written by the last (or current) hostile body.
    body_bytes_written: AtomicU64,
}

pub struct HostileServer {
    pub base_url: String,
    counters: Arc<Counters>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl HostileServer {
    /// `token` answers `POST …/oauth2/…/token`; `store` answers everything else.
    pub fn start(token: Reply, store: Reply) -> HostileServer {
        Self::with_queue(token, store, Reply::Json(String::new()))
    }

    /// As `start`; `queue` answers `…/messages…` (an Azure queue whose SAS `{BASE}` names).
    pub fn with_queue(token: Reply, store: Reply, queue: Reply) -> HostileServer {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("server runtime");
        let listener = runtime
            .block_on(TcpListener::bind("127.0.0.1:0"))
            .expect("bind 127.0.0.1:0");
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        let counters = Arc::new(Counters {
            token_requests: AtomicUsize::new(0),
            queue_requests: AtomicUsize::new(0),
            store_requests: AtomicUsize::new(0),
            writers: AtomicUsize::new(0),
            body_bytes_written: AtomicU64::new(0),
        });
        let c = counters.clone();
        let routes = Arc::new(Routes {
            base: base_url.clone(),
            token,
            queue,
            store,
        });
        runtime.spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                let (c, routes) = (c.clone(), routes.clone());
                tokio::spawn(async move {
                    let _ = serve(sock, &c, &routes).await;
                });
            }
        });
        HostileServer {
            base_url,
            counters,
            runtime: Some(runtime),
        }
    }

    pub fn token_requests(&self) -> usize {
        self.counters.token_requests.load(Ordering::SeqCst)
    }

    pub fn queue_requests(&self) -> usize {
        self.counters.queue_requests.load(Ordering::SeqCst)
    }

    pub fn store_requests(&self) -> usize {
        self.counters.store_requests.load(Ordering::SeqCst)
    }

    /// Waits (at most `limit`) until no large body is being written, i.e. the client hung up,
    /// then returns the bytes the last one got written.
    pub fn bytes_written_once_closed(&self, limit: Duration) -> u64 {
        let end = Instant::now() + limit;
        while self.counters.writers.load(Ordering::SeqCst) > 0 && Instant::now() < end {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(
            self.counters.writers.load(Ordering::SeqCst),
            0,
            "the client kept reading (or holding) a hostile body"
        );
        self.counters.body_bytes_written.load(Ordering::SeqCst)
    }
}

impl Drop for HostileServer {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

struct Routes {
    base: String,
    token: Reply,
    queue: Reply,
    store: Reply,
}

/// Answers requests on one connection until the client closes it or a reply ends it.
async fn serve(mut sock: TcpStream, c: &Counters, routes: &Routes) -> std::io::Result<()> {
    let mut buf = Vec::new();
    loop {
        let Some(head) = read_request(&mut sock, &mut buf).await? else {
            return Ok(());
        };
        let target = head.split(' ').nth(1).unwrap_or("");
        let reply = if target.contains("/oauth2/") {
            c.token_requests.fetch_add(1, Ordering::SeqCst);
            &routes.token
        } else if target.contains("/messages") {
            c.queue_requests.fetch_add(1, Ordering::SeqCst);
            &routes.queue
        } else {
            c.store_requests.fetch_add(1, Ordering::SeqCst);
            &routes.store
        };
        let large = matches!(reply, Reply::Chunked(_) | Reply::CloseDelimited(_));
        if large {
            c.writers.fetch_add(1, Ordering::SeqCst);
        }
        let more = write_reply(&mut sock, reply, &routes.base, c).await;
        if large {
            c.writers.fetch_sub(1, Ordering::SeqCst);
        }
        if !more? {
            return Ok(());
        }
    }
}

/// Reads one request (head and `Content-Length` body) and returns its head; `None` at EOF.
async fn read_request(sock: &mut TcpStream, buf: &mut Vec<u8>) -> std::io::Result<Option<String>> {
    let mut tmp = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).into_owned();
            let len: usize = head
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse().ok())?
                })
                .unwrap_or(0);
            while buf.len() < end + 4 + len {
                let n = sock.read(&mut tmp).await?;
                if n == 0 {
                    return Ok(None);
                }
                buf.extend_from_slice(&tmp[..n]);
            }
            buf.drain(..end + 4 + len);
            return Ok(Some(head));
        }
        if buf.len() > 1 << 20 {
            return Ok(None);
        }
        let n = sock.read(&mut tmp).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&tmp[..n]);
    }
}

/// Writes `reply`; true when the connection may carry another request.
async fn write_reply(
    sock: &mut TcpStream,
    reply: &Reply,
    base: &str,
    c: &Counters,
) -> std::io::Result<bool> {
    const OK: &str = "HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\n";
    c.body_bytes_written.store(0, Ordering::SeqCst);
    match reply {
        Reply::Json(body) => {
            let body = body.replace("{BASE}", base);
            let head = format!("{OK}Content-Length: {}\r\n\r\n", body.len());
            sock.write_all(head.as_bytes()).await?;
            sock.write_all(body.as_bytes()).await?;
            Ok(true)
        }
        Reply::Chunked(total) => {
            sock.write_all(format!("{OK}Transfer-Encoding: chunked\r\n\r\n").as_bytes())
                .await?;
            let filler = vec![b' '; CHUNK];
            let total = total.unwrap_or(WRITE_LIMIT).min(WRITE_LIMIT);
            let mut sent = 0u64;
            while sent < total {
                let n = (total - sent).min(CHUNK as u64) as usize;
                write_chunk(sock, &filler[..n]).await?;
                sent += n as u64;
                c.body_bytes_written.store(sent, Ordering::SeqCst);
            }
            sock.write_all(b"0\r\n\r\n").await?;
            Ok(false)
        }
        Reply::CloseDelimited(total) => {
            sock.write_all(format!("{OK}Connection: close\r\n\r\n").as_bytes())
                .await?;
            let filler = vec![b' '; CHUNK];
            let total = (*total).min(WRITE_LIMIT);
            let mut sent = 0u64;
            while sent < total {
                let n = (total - sent).min(CHUNK as u64) as usize;
                sock.write_all(&filler[..n]).await?;
                sent += n as u64;
                c.body_bytes_written.store(sent, Ordering::SeqCst);
            }
            sock.shutdown().await?;
            Ok(false)
        }
        Reply::ChunkedText(text) => {
            sock.write_all(format!("{OK}Transfer-Encoding: chunked\r\n\r\n").as_bytes())
                .await?;
            for part in text.as_bytes().chunks(CHUNK) {
                write_chunk(sock, part).await?;
            }
            sock.write_all(b"0\r\n\r\n").await?;
            Ok(true)
        }
        Reply::CloseDelimitedText(text) => {
            sock.write_all(format!("{OK}Connection: close\r\n\r\n").as_bytes())
                .await?;
            sock.write_all(text.as_bytes()).await?;
            sock.shutdown().await?;
            Ok(false)
        }
    }
}

async fn write_chunk(sock: &mut TcpStream, data: &[u8]) -> std::io::Result<()> {
    sock.write_all(format!("{:x}\r\n", data.len()).as_bytes())
        .await?;
    sock.write_all(data).await?;
    sock.write_all(b"\r\n").await
}
