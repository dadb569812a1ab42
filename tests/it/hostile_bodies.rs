//! Response bodies are bounded however they are framed, and absurd token lifetimes are clamped:
//! a hostile server on 127.0.0.1 (tests/support_hostile) plays Entra and the Store.

use crate::support_hostile;

use msstore::{Audience, Client, ClientConfig, Error, ErrorKind, ProductSkuId, QueryV9Request};
use std::time::Duration;
use support_hostile::{token_reply, HostileServer, Reply, EMPTY_PAGE};

const DEFAULT_CAP: usize = msstore::config::DEFAULT_MAX_RESPONSE_BYTES;
const GIB: u64 = 1 << 30;

fn client(server: &HostileServer, cap: Option<usize>) -> Client {
    let mut c = ClientConfig::new("tenant", "client", "secret").with_emulator(&server.base_url);
    // Long enough that a body which only ended at the timeout would fail the kind check.
    c.request_timeout = Duration::from_secs(60);
    c.retry.base_delay = Duration::from_millis(5);
    if let Some(cap) = cap {
        c.max_response_bytes = cap;
    }
    Client::new(c).expect("client")
}

fn query(c: &Client) -> Result<usize, Error> {
    let req = QueryV9Request::new("eyJkey", vec![ProductSkuId::product("9NZB0T3LQH5D")]);
    c.block_on(c.query_v9(req)).unwrap().map(|r| r.items.len())
}

fn token(c: &Client) -> Result<Duration, Error> {
    c.block_on(c.access_token(Audience::Service))
        .unwrap()
        .map(|t| t.expires_in())
}

/// The body's route fails with MalformedResponse naming the cap, after one request (a body over
/// the cap is not retried), and the server could write little more than the cap before the
/// client hung up (socket buffers hold a few MB).
fn assert_cut_at_cap(server: &HostileServer, err: Error, cap: usize, route_requests: usize) {
    assert_eq!(err.kind, ErrorKind::MalformedResponse, "{err:?}");
    let named = format!("response body exceeds the {cap}-byte cap (max_response_bytes)");
    assert!(err.message.contains(&named), "{}", err.message);
    assert_eq!(route_requests, 1, "a body over the cap is not retried");
    let written = server.bytes_written_once_closed(Duration::from_secs(20));
    assert!(
        written < cap as u64 + (64 << 20),
        "the server wrote {written} bytes before the client hung up"
    );
}

/// Each hostile body, on the Store route (query_v9) and on the Entra token route.
fn against_both_routes(body: Reply) {
    let server = HostileServer::start(token_reply("3599"), body.clone());
    let err = query(&client(&server, None)).unwrap_err();
    assert_eq!(server.token_requests(), 1);
    assert_cut_at_cap(&server, err, DEFAULT_CAP, server.store_requests());

    let server = HostileServer::start(body, Reply::Json(EMPTY_PAGE.into()));
    let err = token(&client(&server, None)).unwrap_err();
    assert_cut_at_cap(&server, err, DEFAULT_CAP, server.token_requests());
    assert_eq!(server.store_requests(), 0);
}

#[test]
fn a_1_gib_chunked_body_is_cut_at_the_cap() {
    against_both_routes(Reply::Chunked(Some(GIB)));
}

#[test]
fn a_1_gib_or_endless_clawback_queue_batch_is_cut_at_the_cap() {
    let sas = r#"{"uri":"{BASE}/q/clawback?sv=2019-02-02&sig=hostile","expiresOn":"2999-01-01T00:00:00Z"}"#;
    for body in [Reply::Chunked(Some(GIB)), Reply::Chunked(None)] {
        let server =
            HostileServer::with_queue(token_reply("3599"), Reply::Json(sas.into()), body.clone());
        let c = client(&server, None);
        let err = c
            .block_on(c.clawback_receive(msstore::clawback::ReceiveOptions::default()))
            .unwrap()
            .unwrap_err();
        assert_eq!(server.store_requests(), 1, "one SAS request");
        assert_cut_at_cap(&server, err, DEFAULT_CAP, server.queue_requests());
    }
}

#[test]
fn a_close_delimited_body_over_the_cap_is_cut_at_the_cap() {
    against_both_routes(Reply::CloseDelimited(4 * DEFAULT_CAP as u64));
}

#[test]
fn an_endless_chunked_body_ends_at_the_cap_not_the_timeout() {
    // request_timeout is 60 s: a Timeout kind here would mean the cap did not stop the read.
    against_both_routes(Reply::Chunked(None));
}

/// A JSON document of exactly `len` bytes (the shape padded with spaces).
fn padded(json: &str, len: usize) -> String {
    format!("{json}{}", " ".repeat(len - json.len()))
}

#[test]
fn a_body_of_exactly_the_cap_is_accepted_in_every_framing_and_one_byte_more_is_not() {
    const CAP: usize = 256 * 1024;
    let token_json = r#"{"token_type":"Bearer","expires_in":3599,"access_token":"eyJx"}"#;
    let framings: [fn(String) -> Reply; 3] =
        [Reply::Json, Reply::ChunkedText, Reply::CloseDelimitedText];
    for frame in framings {
        let server = HostileServer::start(
            frame(padded(token_json, CAP)),
            frame(padded(EMPTY_PAGE, CAP)),
        );
        let c = client(&server, Some(CAP));
        assert_eq!(query(&c).unwrap(), 0, "{:?}", frame(String::new()));

        let server = HostileServer::start(
            frame(padded(token_json, CAP + 1)),
            frame(padded(EMPTY_PAGE, CAP + 1)),
        );
        let c = client(&server, Some(CAP));
        let err = token(&c).unwrap_err();
        assert_eq!(err.kind, ErrorKind::MalformedResponse, "{err:?}");
        assert!(err.message.contains("262144-byte cap"), "{}", err.message);
        let server = HostileServer::start(token_reply("3599"), frame(padded(EMPTY_PAGE, CAP + 1)));
        let err = query(&client(&server, Some(CAP))).unwrap_err();
        assert!(err.message.contains("262144-byte cap"), "{}", err.message);
    }
}

#[test]
fn an_overflowing_expires_in_is_clamped_to_a_day_and_cached() {
    for expires_in in [
        "18446744073709551615",
        "9223372036854775808",
        "1e300",
        r#""18446744073709551615""#,
        r#""9223372036854775808""#,
        r#""1e300""#,
    ] {
        let server = HostileServer::start(token_reply(expires_in), Reply::Json(EMPTY_PAGE.into()));
        let c = client(&server, None);
        for _ in 0..5 {
            assert_eq!(query(&c).unwrap(), 0, "expires_in {expires_in}");
        }
        let left = token(&c).unwrap();
        assert!(
            left > Duration::from_secs(23 * 3600) && left <= Duration::from_secs(24 * 3600),
            "expires_in {expires_in}: token lives {left:?}"
        );
        assert_eq!(server.token_requests(), 1, "expires_in {expires_in}");
        assert_eq!(server.store_requests(), 5, "expires_in {expires_in}");
    }
}

#[test]
fn a_negative_or_non_numeric_expires_in_is_a_clear_error() {
    for expires_in in ["-1", "-1e300", r#""-3599""#, r#""soon""#] {
        let server = HostileServer::start(token_reply(expires_in), Reply::Json(EMPTY_PAGE.into()));
        let err = token(&client(&server, None)).unwrap_err();
        assert_eq!(err.kind, ErrorKind::MalformedResponse, "{expires_in}");
        assert!(err.message.contains("expires_in"), "{}", err.message);
    }
}
