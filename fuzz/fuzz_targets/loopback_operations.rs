#![no_main]
//! Operations through the Rust API against a loopback server that answers every request with
//! the fuzzed bytes. (The C ABI's names are being changed in another branch; its calls run the
//! same `Client` methods.) Byte 0 picks the operation; when its high bit is set, the rest is
//! sent as the body of a well-formed response whose status byte 1 picks, else as the raw
//! HTTP response. The server closes each connection after answering, so no call can wait for
//! more bytes, and every call is bounded by the client's 1 s request timeout.

use msstore::{
    ChangeType, Client, ClientConfig, ConsumeRequest, ConsumeV6Request, Credential, GrantRequest,
    ProductSkuId, ProvidedToken, QueryV6Request, QueryV8Request, QueryV9Request,
    RecurrenceChangeRequest, RecurrenceQueryRequest, RetryPolicy, Timestamp, TokenProvider,
};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

const STATUSES: [u16; 10] = [200, 201, 204, 400, 401, 404, 409, 429, 500, 503];

struct World {
    answer: Arc<Mutex<Vec<u8>>>,
    base: String,
    /// Store operations; its token comes from a provider, so no Entra request is made.
    client: Client,
}

struct FixedToken;

impl TokenProvider for FixedToken {
    fn token(&self, _: msstore::Audience) -> msstore::Result<ProvidedToken> {
        Ok(ProvidedToken {
            token: "fuzz-token".into(),
            expires_at: Timestamp::now().add_secs(3600),
        })
    }
}

fn config(base: &str) -> ClientConfig {
    let mut c = ClientConfig::new("tenant", "client", "secret").with_emulator(base);
    c.retry = RetryPolicy::none();
    c.request_timeout = Duration::from_secs(1);
    c.connect_timeout = Duration::from_secs(1);
    c.worker_threads = 1;
    c.max_pages = 3;
    c.max_response_bytes = 64 * 1024;
    c
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let answer = Arc::new(Mutex::new(Vec::new()));
        let served = answer.clone();
        // Lives as long as the fuzzing process (bounded by -max_total_time).
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let bytes = served.lock().unwrap().clone();
                answer_once(conn, &bytes);
            }
        });
        let mut c = config(&base);
        c.credential = Some(Credential::Provider(Arc::new(FixedToken)));
        World {
            answer,
            client: Client::new(c).unwrap(),
            base,
        }
    })
}

/// Reads one request (headers and a Content-Length body, bounded), writes `bytes`, closes.
fn answer_once(mut conn: TcpStream, bytes: &[u8]) {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(1)));
    let mut req = Vec::new();
    let mut buf = [0u8; 4096];
    while req.len() < 1 << 20 {
        match conn.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => req.extend_from_slice(&buf[..n]),
        }
        if let Some(end) = req.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&req[..end]).to_ascii_lowercase();
            let len = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            if req.len() >= end + 4 + len {
                break;
            }
        }
    }
    let _ = conn.write_all(bytes);
    let _ = conn.shutdown(std::net::Shutdown::Both);
}

fn framed(status: u16, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nMS-CV: fuzz.1\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

const KEY: &str = "collections-key";
const PRODUCT: &str = "9NZB0T3LQH5D";

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let [op, rest @ ..] = data else { return };
    let w = world();
    *w.answer.lock().unwrap() = match rest {
        [status, body @ ..] if op & 0x80 != 0 => {
            framed(STATUSES[*status as usize % STATUSES.len()], body)
        }
        _ => rest.to_vec(),
    };
    let c = &w.client;
    let _ = match (op & 0x7f) % 11 {
        0 => c
            .block_on(c.query_v9(QueryV9Request::new(
                KEY,
                vec![ProductSkuId::product(PRODUCT)],
            )))
            .map(drop),
        1 => c.block_on(c.query_v8(QueryV8Request::new(KEY))).map(drop),
        2 => c.block_on(c.query_v6(QueryV6Request::new(KEY))).map(drop),
        3 => c
            .block_on(c.consume(ConsumeRequest::store_managed(KEY, PRODUCT, 1)))
            .map(drop),
        4 => c
            .block_on(c.consume_v6(ConsumeV6Request::by_item(KEY, "item-1", Some("t-1".into()))))
            .map(drop),
        5 => c
            .block_on(c.grant_free_product(GrantRequest::new(KEY, PRODUCT, "0010", "AVAIL")))
            .map(drop),
        6 => c
            .block_on(c.query_subscriptions(RecurrenceQueryRequest::new(KEY)))
            .map(drop),
        7 => c
            .block_on(c.change_subscription(RecurrenceChangeRequest::new(
                KEY,
                "mdr:0:abc",
                ChangeType::Cancel,
            )))
            .map(drop),
        8 => c
            .block_on(c.clawback_orders(msstore::clawback::ClawbackOrdersRequest::new(KEY)))
            .map(drop),
        9 => c.block_on(c.clawback_sas_token()).map(drop),
        // Entra: a client of its own each time, so that no cached token skips the request.
        _ => {
            let entra = Client::new(config(&w.base)).unwrap();
            entra
                .block_on(entra.access_token(msstore::Audience::Service))
                .map(drop)
        }
    };
});
