//! Issue 11 §1, §2 and the bare 401: a consume, grant or subscription change that may have been
//! applied is never reported as failed, through the Rust API, the ledger and the CLI, against
//! the in-process emulator (and, for the bare 401, a small loopback server of our own).

use crate::ledger_support::*;
use crate::money_support::*;
use msstore::{
    ChangeType, ConsumeOutcome, ConsumeRequest, EntryState, ErrorKind, GrantRequest, Ledger,
    RecurrenceChangeRequest,
};
use msstore_emulator::FaultKind;
use std::io::{Read, Write};
use std::time::{Duration, Instant};

/// The Rust API says Unknown with the trackingId; the balance went down exactly once; a
/// resend with that trackingId is Consumed and changes nothing.
fn rust_api_unknown(w: &World, arm: Arm, what: &str) {
    let client = two_attempts(w);
    let start = balance(w);
    let t = uuid::Uuid::new_v4().to_string();
    let req =
        ConsumeRequest::store_managed(&w.seed.collections_key, &w.seed.consumable_product_id, 2)
            .with_tracking_id(&t);
    arm(w);
    match client.block_on(client.consume(req.clone())).unwrap() {
        ConsumeOutcome::Unknown { tracking_id, error } => {
            assert_eq!(tracking_id, t, "{what}");
            assert_eq!(error.tracking_id.as_deref(), Some(t.as_str()), "{what}");
        }
        other => panic!("{what}: expected Unknown, got {other:?}"),
    }
    assert_eq!(balance(w), start - 2, "{what}: applied once");
    w.emu.clear_faults();
    let again = client.block_on(client.consume(req)).unwrap();
    let r = again
        .into_result()
        .unwrap_or_else(|e| panic!("{what}: resend: {e}"));
    assert_eq!(r.tracking_id, t);
    assert_eq!(r.new_quantity, start - 2, "{what}");
    assert_eq!(balance(w), start - 2, "{what}: the resend changed nothing");
}

/// Through the ledger: the entry stays pending (not failed), and a later reconcile resends it
/// and ends Applied with the balance down exactly once.
fn ledger_keeps_it_pending(w: &World, arm: Arm, what: &str) {
    let db = SqliteDb::new();
    let client = two_attempts(w);
    let mut cfg = db.config("server-1");
    cfg.send_rounds = 1;
    let ledger = Ledger::open(&cfg).unwrap();
    let start = balance(w);
    arm(w);
    let e = client
        .block_on(ledger.consume(&client, consume_req(w, "player-9", 1)))
        .unwrap()
        .unwrap();
    assert_eq!(e.state, EntryState::Pending, "{what}: {e:?}");
    assert_eq!(balance(w), start - 1, "{what}: applied once");
    w.emu.clear_faults();
    let r = client.block_on(ledger.reconcile(&client)).unwrap().unwrap();
    assert_eq!(r.to_grant.len(), 1, "{what}: {r:?}");
    assert_eq!(
        (r.to_grant[0].id.as_str(), r.to_grant[0].state),
        (e.id.as_str(), EntryState::Applied),
        "{what}"
    );
    assert_eq!(balance(w), start - 1, "{what}: still down exactly once");
    ledger.acknowledge(&e.id).unwrap();
    assert!(ledger.pending().unwrap().is_empty());
}

#[test]
fn drop_then_a_non_verdict_answer_is_unknown_through_the_rust_api() {
    let w = World::new();
    w.emu
        .purchase(
            &w.seed.store_user_id,
            &w.seed.consumable_product_id,
            "",
            100,
        )
        .unwrap();
    for (what, arm) in sequences() {
        rust_api_unknown(&w, arm, &what);
    }
}

#[test]
fn drop_then_a_non_verdict_answer_stays_pending_in_the_ledger() {
    let w = World::new();
    for (what, arm) in sequences() {
        ledger_keeps_it_pending(&w, arm, &what);
    }
}

#[test]
fn a_single_401_after_a_drop_is_cured_by_the_token_refresh() {
    let w = World::new();
    let client = two_attempts(&w);
    let start = balance(&w);
    w.fault(CONSUME_ROUTE, FaultKind::DropAfterApply, 1);
    w.fault(CONSUME_ROUTE, status(401), 1);
    client
        .block_on(client.access_token(msstore::Audience::Service))
        .unwrap()
        .unwrap();
    let fetched = client.token_requests_sent();
    let r = client
        .block_on(client.consume(ConsumeRequest::store_managed(
            &w.seed.collections_key,
            &w.seed.consumable_product_id,
            1,
        )))
        .unwrap()
        .into_result()
        .unwrap();
    assert_eq!(r.new_quantity, start - 1);
    assert_eq!(balance(&w), start - 1);
    assert_eq!(
        client.token_requests_sent(),
        fetched + 1,
        "one forced refresh"
    );
    assert_eq!(w.statuses(CONSUME_ROUTE), vec![0, 401, 200]);
}

#[test]
fn nothing_sent_or_a_clean_refusal_is_still_failed() {
    let w = World::new();
    let start = balance(&w);
    // A clean 4xx answer to the very first attempt: nothing was applied.
    let client = two_attempts(&w);
    for x in [400u16, 403, 404] {
        w.fault(CONSUME_ROUTE, status(x), 1);
        let o = client.block_on(client.consume(ConsumeRequest::store_managed(
            &w.seed.collections_key,
            &w.seed.consumable_product_id,
            1,
        )));
        assert!(matches!(o, Ok(ConsumeOutcome::Failed(_))), "{x}: {o:?}");
    }
    // The token fetch fails before anything is sent.
    w.fault("entra_v2", status(400), 1);
    let fresh = two_attempts(&w);
    let o = fresh
        .block_on(fresh.consume(ConsumeRequest::store_managed(
            &w.seed.collections_key,
            &w.seed.consumable_product_id,
            1,
        )))
        .unwrap();
    match o {
        ConsumeOutcome::Failed(e) => assert_eq!(e.kind, ErrorKind::EntraAuth),
        other => panic!("expected Failed, got {other:?}"),
    }
    assert_eq!(balance(&w), start, "nothing applied");
}

#[test]
fn insufficient_quantity_after_a_drop_is_a_verdict() {
    let w = World::new();
    let start = balance(&w);
    // Through the Rust API.
    let client = two_attempts(&w);
    w.fault(CONSUME_ROUTE, FaultKind::DropAfterApply, 1);
    let o = client
        .block_on(client.consume(ConsumeRequest::store_managed(
            &w.seed.collections_key,
            &w.seed.consumable_product_id,
            99,
        )))
        .unwrap();
    match o {
        ConsumeOutcome::Failed(e) => {
            assert_eq!(e.kind, ErrorKind::Service);
            assert_eq!(e.inner_code.as_deref(), Some("InsufficientQuantity"));
        }
        other => panic!("expected Failed, got {other:?}"),
    }
    assert_eq!(w.statuses(CONSUME_ROUTE), vec![0, 400]);
    // Through the ledger, on a resend (an earlier send may have reached the Store).
    let db = SqliteDb::new();
    let mut cfg = db.config("server-1");
    cfg.send_rounds = 2;
    let ledger = Ledger::open(&cfg).unwrap();
    w.fault(CONSUME_ROUTE, FaultKind::DropAfterApply, 2);
    let e = client
        .block_on(ledger.consume(&client, consume_req(&w, "player-2", 99)))
        .unwrap()
        .unwrap();
    assert_eq!(e.state, EntryState::Failed, "{e:?}");
    assert_eq!(e.attempts, 2);
    assert!(e.last_error.unwrap().contains("InsufficientQuantity"));
    // The CLI side: tools/cli/tests/money_path_cli.rs.
    assert_eq!(balance(&w), start, "nothing applied");
}

fn grant_req(w: &World, order_id: &str) -> GrantRequest {
    let mut g = GrantRequest::new(
        &w.seed.purchase_key,
        &w.seed.free_product_id,
        &w.seed.free_sku_id,
        &w.seed.free_availability_id,
    );
    g.order_id = Some(order_id.to_string());
    g
}

#[test]
fn a_grant_that_may_have_been_applied_is_unknown_with_its_order_id() {
    let w = World::new();
    let client = two_attempts(&w);
    let owned = || {
        w.emu
            .balance(&w.seed.store_user_id, &w.seed.free_product_id)
    };
    for x in [401u16, 409, 403, 408] {
        let before = owned();
        let order_id = uuid::Uuid::new_v4().to_string();
        drop_then(&w, "purchase_v6_grant", x);
        let e = client
            .block_on(client.grant_free_product(grant_req(&w, &order_id)))
            .unwrap()
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::ConsumeOutcomeUnknown, "drop, {x}: {e}");
        assert_eq!(e.tracking_id.as_deref(), Some(order_id.as_str()));
        assert!(
            e.message
                .contains(&format!("resend with orderId {order_id}")),
            "{e}"
        );
        assert_eq!(owned(), before + 1, "drop, {x}: granted");
        w.emu.clear_faults();
        let order = client
            .block_on(client.grant_free_product(grant_req(&w, &order_id)))
            .unwrap()
            .unwrap();
        assert_eq!(
            order.order_id, order_id,
            "the resend returns the same order"
        );
        assert_eq!(owned(), before + 1, "drop, {x}: granted once");
    }
}

#[test]
fn a_subscription_change_that_may_have_been_applied_is_unknown_with_its_recurrence_id() {
    let w = World::new();
    let client = two_attempts(&w);
    drop_then(&w, "recurrence_change", 409);
    let req = RecurrenceChangeRequest::new(
        &w.seed.purchase_key,
        &w.seed.recurrence_id,
        ChangeType::Cancel,
    );
    let e = client
        .block_on(client.change_subscription(req.clone()))
        .unwrap()
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::ConsumeOutcomeUnknown, "{e}");
    assert_eq!(
        e.tracking_id.as_deref(),
        Some(w.seed.recurrence_id.as_str())
    );
    assert_eq!(
        w.emu
            .recurrence_state(&w.seed.store_user_id, &w.seed.recurrence_id)
            .as_deref(),
        Some("Canceled"),
        "applied"
    );
    w.emu.clear_faults();
    let item = client
        .block_on(client.change_subscription(req))
        .unwrap()
        .unwrap();
    assert_eq!(item.recurrence_state, "Canceled");
}

#[test]
fn a_repeated_ledger_consume_is_handed_out_once_per_process() {
    let w = World::new();
    let db = SqliteDb::new();
    let client = w.client();
    let ledger = Ledger::open(&db.config("server-1")).unwrap();
    let req = consume_req(&w, "player-4", 1).with_tracking_id(uuid::Uuid::new_v4().to_string());
    let first = client
        .block_on(ledger.consume(&client, req.clone()))
        .unwrap()
        .unwrap();
    assert_eq!(first.state, EntryState::Applied);
    assert!(!first.already_handed_out, "grant this one");
    let second = client
        .block_on(ledger.consume(&client, req.clone()))
        .unwrap()
        .unwrap();
    assert_eq!(
        (second.id.as_str(), second.state),
        (first.id.as_str(), EntryState::Applied)
    );
    assert!(second.already_handed_out, "do not grant it again");
    // Nor does a reconcile hand it out.
    let r = client.block_on(ledger.reconcile(&client)).unwrap().unwrap();
    assert!(r.to_grant.is_empty(), "{r:?}");
    assert_eq!(balance(&w), 9, "consumed once");
    // A restart hands it out again (the game may have crashed before granting).
    drop(ledger);
    let ledger = Ledger::open(&db.config("server-1")).unwrap();
    let third = client
        .block_on(ledger.consume(&client, req.clone()))
        .unwrap()
        .unwrap();
    assert_eq!(third.state, EntryState::Applied);
    assert!(!third.already_handed_out);
    ledger.acknowledge(&third.id).unwrap();
    let done = client
        .block_on(ledger.consume(&client, req))
        .unwrap()
        .unwrap();
    assert_eq!(done.state, EntryState::Completed);
}

/// A loopback server that answers the consume route: a bare 401 (no body, only
/// `WWW-Authenticate`), then 200. Stops after `answers` requests or 10 s.
fn bare_401_server(answers: usize) -> (String, std::thread::JoinHandle<Vec<String>>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    listener.set_nonblocking(true).unwrap();
    let handle = std::thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut auth = Vec::new();
        while auth.len() < answers && Instant::now() < deadline {
            let Ok((mut s, _)) = listener.accept() else {
                std::thread::sleep(Duration::from_millis(5));
                continue;
            };
            s.set_nonblocking(false).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let mut req = Vec::new();
            let mut buf = [0u8; 4096];
            // Headers, then Content-Length bytes of body.
            let body_len = loop {
                let Ok(n) = s.read(&mut buf) else { break None };
                if n == 0 {
                    break None;
                }
                req.extend_from_slice(&buf[..n]);
                if let Some(end) = req.windows(4).position(|w| w == b"\r\n\r\n") {
                    let head = String::from_utf8_lossy(&req[..end]).to_ascii_lowercase();
                    let len = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse::<usize>().ok())
                        .unwrap_or(0);
                    break Some((end + 4, len));
                }
            };
            let Some((start, len)) = body_len else {
                continue;
            };
            while req.len() < start + len {
                match s.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => req.extend_from_slice(&buf[..n]),
                }
            }
            let head = String::from_utf8_lossy(&req[..start]).to_string();
            auth.push(
                head.lines()
                    .find(|l| l.to_ascii_lowercase().starts_with("authorization:"))
                    .unwrap_or("")
                    .to_string(),
            );
            let reply = if auth.len() == 1 {
                "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer error=\"invalid_token\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_string()
            } else {
                let body = r#"{"itemId":"i","productId":"P","trackingId":"t","newQuantity":3}"#;
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                )
            };
            let _ = s.write_all(reply.as_bytes());
        }
        auth
    });
    (url, handle)
}

#[test]
fn a_bare_401_forces_one_token_refresh() {
    let w = World::new();
    let (url, server) = bare_401_server(2);
    let client = w.client_with(|c| c.collections_base_url = url);
    let r = client
        .block_on(client.consume(ConsumeRequest::store_managed(
            &w.seed.collections_key,
            &w.seed.consumable_product_id,
            1,
        )))
        .unwrap()
        .into_result()
        .unwrap();
    assert_eq!(r.new_quantity, 3);
    assert_eq!(
        client.token_requests_sent(),
        2,
        "the first token, then one refresh"
    );
    let auth = server.join().unwrap();
    assert_eq!(auth.len(), 2);
    assert!(
        auth[0].starts_with("authorization: Bearer ")
            || auth[0].starts_with("Authorization: Bearer ")
    );
    assert_ne!(auth[0], auth[1], "the retry carries the refreshed token");
}

#[test]
fn a_key_from_another_app_earns_no_token_refresh() {
    let w = World::new();
    let other = "11111111-2222-3333-4444-555555555555";
    w.emu.add_app(&w.seed.tenant_id, other, "other-secret");
    let foreign = w
        .emu
        .mint_key_for_app(
            &w.seed.tenant_id,
            other,
            msstore_emulator::KeyKind::Collections,
            "p",
            &w.seed.store_user_id,
        )
        .unwrap();
    let client = w.client();
    let o = client
        .block_on(client.consume(ConsumeRequest::store_managed(
            &foreign,
            &w.seed.consumable_product_id,
            1,
        )))
        .unwrap();
    match o {
        ConsumeOutcome::Failed(e) => {
            assert_eq!(e.kind, ErrorKind::ClientIdMismatch, "{e}");
        }
        other => panic!("expected Failed, got {other:?}"),
    }
    assert_eq!(
        client.token_requests_sent(),
        1,
        "InconsistentClientId: no refresh"
    );
    assert_eq!(w.statuses(CONSUME_ROUTE), vec![401]);
}
