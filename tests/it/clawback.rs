//! Clawback v1 and v2 end to end against the in-process emulator (loopback only).

use crate::common;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use common::World;
use msstore::clawback::{ClawbackEventState, ClawbackOrdersRequest, QueueMessage, ReceiveOptions};
use msstore::{Client, ConsumeOutcome, ConsumeRequest, ErrorKind};
use msstore_emulator::{ClawbackAction, ClawbackRequest, FaultKind, ProductKind, ProductSpec};
use std::time::Duration;

fn receive(client: &Client, n: u32, vt: u32) -> Vec<QueueMessage> {
    client
        .block_on(client.clawback_receive(ReceiveOptions {
            max_messages: n,
            visibility_timeout_secs: vt,
        }))
        .unwrap()
        .unwrap()
}

fn delete(client: &Client, m: &QueueMessage) -> msstore::Result<()> {
    client
        .block_on(client.clawback_delete(&m.message_id, m.pop_receipt.as_deref().unwrap()))
        .unwrap()
}

/// A paid store-managed consumable of our own, so FIFO consumption hits known orders.
fn coins(w: &World) -> String {
    w.emu
        .add_product(ProductSpec::new("9COINS000001", ProductKind::Consumable).price(0.99))
}

fn consume(w: &World, client: &Client, product: &str, n: u32) {
    let r = client
        .block_on(client.consume(ConsumeRequest::store_managed(
            &w.seed.collections_key,
            product,
            n,
        )))
        .unwrap();
    assert!(matches!(r, ConsumeOutcome::Consumed(_)), "{r:?}");
}

#[test]
fn v1_filters_and_paging() {
    let w = World::new();
    let client = w.client();
    let user = &w.seed.store_user_id;
    let p = coins(&w);
    let a = w.emu.purchase(user, &p, "", 5).unwrap();
    let b = w.emu.purchase(user, &p, "", 5).unwrap();
    let c = w.emu.purchase(user, &p, "", 2).unwrap();
    let d = w.emu.purchase(user, &p, "", 1).unwrap();
    consume(&w, &client, &p, 3); // FIFO: 3 of order a

    let ra = w
        .emu
        .clawback_order(ClawbackAction::Return, user, &a.order_id)
        .unwrap();
    assert_eq!(
        (ra.event_state.as_str(), ra.line_item_state.as_str()),
        ("Revoked", "Revoked")
    );
    assert_eq!(ra.units_removed, 2);
    let rb = w
        .emu
        .clawback_order(ClawbackAction::Return, user, &b.order_id)
        .unwrap();
    assert_eq!(
        (rb.event_state.as_str(), rb.line_item_state.as_str()),
        ("Returned", "Refunded")
    );
    let rc = w
        .emu
        .clawback_order(ClawbackAction::Refund, user, &c.order_id)
        .unwrap();
    assert_eq!(rc.event_state, "Refunded");
    assert_eq!(w.emu.balance(user, &p), 3, "c (kept) and d remain");

    // Default filter: Revoked + Refunded.
    let all = client
        .block_on(client.clawback_orders(ClawbackOrdersRequest::new(&w.seed.purchase_key)))
        .unwrap()
        .unwrap();
    let mut got: Vec<(String, String, bool)> = all
        .iter()
        .map(|o| {
            let l = &o.order_line_items[0];
            (
                o.order_id.clone(),
                l.line_item_state.clone(),
                l.was_consumable_quantity_revoked,
            )
        })
        .collect();
    got.sort();
    let mut want = vec![
        (a.order_id.clone(), "Revoked".to_string(), true),
        (b.order_id.clone(), "Refunded".to_string(), true),
        (c.order_id.clone(), "Refunded".to_string(), false),
    ];
    want.sort();
    assert_eq!(got, want);
    assert!(all.iter().all(|o| o.order_refunded_date.is_some()));
    assert!(all.iter().all(|o| o.short_order_id.len() == 10));

    // Filters.
    let revoked =
        client
            .block_on(client.clawback_orders(
                ClawbackOrdersRequest::new(&w.seed.purchase_key).states(&["Revoked"]),
            ))
            .unwrap()
            .unwrap();
    assert_eq!(revoked.len(), 1);
    assert_eq!(revoked[0].order_id, a.order_id);
    let purchased = client
        .block_on(client.clawback_orders(
            ClawbackOrdersRequest::new(&w.seed.purchase_key).states(&["Purchased"]),
        ))
        .unwrap()
        .unwrap();
    // The demo's two consumable orders plus d; the developer-managed one too; no durables.
    assert!(purchased.iter().any(|o| o.order_id == d.order_id));
    assert!(purchased
        .iter()
        .all(|o| o.order_line_items[0].line_item_state == "Purchased"));
    assert_eq!(purchased.len(), 4, "{purchased:?}");

    // Paging: one order per page.
    w.emu.update_knobs(|k| k.clawback_orders_page_size = 1);
    let mut req = ClawbackOrdersRequest::new(&w.seed.purchase_key);
    let mut pages = 0;
    let mut ids = Vec::new();
    loop {
        let page = client
            .block_on(client.clawback_orders_page(req.clone()))
            .unwrap()
            .unwrap();
        pages += 1;
        assert_eq!(page.items.len(), 1);
        ids.extend(page.items.iter().map(|o| o.order_id.clone()));
        match page.continuation_token {
            Some(t) => req.continuation_token = Some(t),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    let all_paged = client
        .block_on(client.clawback_orders(ClawbackOrdersRequest::new(&w.seed.purchase_key)))
        .unwrap()
        .unwrap();
    assert_eq!(all_paged.len(), 3);
    assert_eq!(w.emu.count_requests("clawback_orders_query"), 3 + 3 + 3);

    // An unknown state is the service's 400 InvalidParameter.
    let e =
        client
            .block_on(client.clawback_orders(
                ClawbackOrdersRequest::new(&w.seed.purchase_key).states(&["Lost"]),
            ))
            .unwrap()
            .unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidArgument, "{e}");
    // Local validation: no request sent.
    let e = client
        .block_on(client.clawback_orders(ClawbackOrdersRequest::new(" ")))
        .unwrap()
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidArgument);
}

#[test]
fn v2_states_sources_and_effects() {
    let w = World::new();
    let client = w.client();
    let user = &w.seed.store_user_id;
    let p = coins(&w);
    let durable = &w.seed.durable_product_id;

    let c1 = w.emu.purchase(user, &p, "", 4).unwrap();
    let dur = w.emu.purchase(user, durable, "", 1).unwrap();
    let c2 = w.emu.purchase(user, &p, "", 3).unwrap();
    let dur_before = w.emu.balance(user, durable);

    // Refunded: the customer keeps everything.
    w.emu
        .clawback_order(ClawbackAction::Refund, user, &c1.order_id)
        .unwrap();
    assert_eq!(w.emu.balance(user, &p), 7);
    // Returned: the durable's entitlement is revoked.
    w.emu
        .clawback_order(ClawbackAction::Return, user, &dur.order_id)
        .unwrap();
    assert_eq!(w.emu.balance(user, durable), dur_before - 1);
    // Chargeback on an unconsumed consumable order: units removed, state Returned.
    let cb = w
        .emu
        .clawback_order(ClawbackAction::Chargeback, user, &c2.order_id)
        .unwrap();
    assert_eq!(cb.units_removed, 3);
    assert_eq!(w.emu.balance(user, &p), 4);
    // Reversal: the units come back.
    w.emu
        .clawback_order(ClawbackAction::ChargebackReversal, user, &c2.order_id)
        .unwrap();
    assert_eq!(w.emu.balance(user, &p), 7);
    // Reversal without a chargeback is refused.
    assert!(w
        .emu
        .clawback_order(ClawbackAction::ChargebackReversal, user, &c1.order_id)
        .is_err());

    let msgs = receive(&client, 32, 30);
    assert_eq!(msgs.len(), 4);
    let events: Vec<_> = msgs.iter().map(|m| m.decode_event().unwrap()).collect();
    let got: Vec<(ClawbackEventState, &str, &str, bool)> = events
        .iter()
        .map(|e| {
            (
                e.data.event_state.clone(),
                e.data.order_id.as_str(),
                e.data.product_id.as_str(),
                e.is_chargeback(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (
                ClawbackEventState::Refunded,
                c1.order_id.as_str(),
                p.as_str(),
                false
            ),
            (
                ClawbackEventState::Returned,
                dur.order_id.as_str(),
                durable.as_str(),
                false
            ),
            (
                ClawbackEventState::Returned,
                c2.order_id.as_str(),
                p.as_str(),
                true
            ),
            (
                ClawbackEventState::ChargebackReversal,
                c2.order_id.as_str(),
                p.as_str(),
                true
            ),
        ]
    );
    assert!(events.iter().all(|e| !e.state().requires_revocation()));
    let e = &events[0];
    assert_eq!(e.data.line_item_id, c1.line_item_id);
    assert_eq!(e.data.sandbox_id, "RETAIL");
    assert_eq!(e.data.product_type, "Consumable");
    assert_eq!(e.event_type, "ClawbackEventContractV2");
    assert!(e.subject.starts_with("/Purchase/Refund/"));
    assert!(e.data.purchased_date.is_some() && e.data.event_date.is_some());
    for m in &msgs {
        assert_eq!(m.dequeue_count, 1);
        delete(&client, m).unwrap();
    }
    assert!(w.emu.queue_messages().is_empty());

    // Revoked: units already consumed could not be taken back.
    let c3 = w.emu.purchase(user, &p, "", 2).unwrap();
    consume(&w, &client, &p, 8); // everything up to and including one unit of c3
    let r = w
        .emu
        .clawback_order(ClawbackAction::Return, user, &c3.order_id)
        .unwrap();
    assert_eq!((r.event_state.as_str(), r.units_removed), ("Revoked", 1));
    let m = receive(&client, 1, 30);
    let ev = m[0].decode_event().unwrap();
    assert_eq!(ev.data.event_state, ClawbackEventState::Revoked);
    assert!(ev.state().requires_revocation());
    assert_eq!(w.emu.balance(user, &p), 0);
}

#[test]
fn bundle_return_yields_one_event_per_child() {
    let w = World::new();
    let client = w.client();
    let user = &w.seed.store_user_id;
    let child = &w.seed.bundle_child_product_id;
    let before = w.emu.balance(user, child);
    let o = w
        .emu
        .purchase(user, &w.seed.bundle_product_id, "", 1)
        .unwrap();
    assert_eq!(w.emu.balance(user, child), before + 1);
    let out = w
        .emu
        .clawback_order(ClawbackAction::Return, user, &o.order_id)
        .unwrap();
    assert_eq!(out.events.len(), 2);
    assert_eq!(
        w.emu.balance(user, child),
        before,
        "the child entitlement is revoked"
    );
    let msgs = receive(&client, 32, 30);
    let mut products: Vec<_> = msgs
        .iter()
        .map(|m| {
            let e = m.decode_event().unwrap();
            assert_eq!(e.data.order_id, o.order_id);
            assert_eq!(e.data.line_item_id, o.line_item_id);
            assert_eq!(e.data.event_state, ClawbackEventState::Returned);
            e.data.product_id
        })
        .collect();
    products.sort();
    let mut want = vec![w.seed.bundle_product_id.clone(), child.clone()];
    want.sort();
    assert_eq!(products, want);

    // Kinds outside `clawback_event_kinds` produce no event; free products never do.
    w.emu
        .update_knobs(|k| k.clawback_event_kinds = vec!["Consumable".into()]);
    let o2 = w
        .emu
        .purchase(user, &w.seed.bundle_product_id, "", 1)
        .unwrap();
    let out = w
        .emu
        .clawback_order(ClawbackAction::Return, user, &o2.order_id)
        .unwrap();
    assert!(out.events.is_empty());
}

#[test]
fn partial_subscription_refund_carries_recurrence_data() {
    let w = World::new();
    let client = w.client();
    w.emu.add_user("sub-user");
    let o = w
        .emu
        .purchase("sub-user", &w.seed.subscription_product_id, "", 1)
        .unwrap();
    let rid = o.recurrence_id.clone().unwrap();
    w.emu.advance(Duration::from_secs(10 * 86_400 + 60));
    let mut req = ClawbackRequest::new(
        ClawbackAction::PartialSubscriptionRefund,
        "sub-user",
        &o.order_id,
    );
    req.line_item_id = Some(o.line_item_id.clone());
    w.emu.clawback(req).unwrap();
    assert_eq!(
        w.emu.recurrence_state("sub-user", &rid).as_deref(),
        Some("Canceled")
    );
    assert_eq!(
        w.emu.balance("sub-user", &w.seed.subscription_product_id),
        0
    );
    let m = receive(&client, 1, 30);
    let ev = m[0].decode_event().unwrap();
    let r = ev.data.recurrence_data.expect("recurrenceData");
    assert_eq!(r.recurrence_id, rid);
    assert_eq!(r.refund_type, "Partial");
    assert_eq!(r.consumed_duration_in_days, 10);
    assert!(r.duration_in_days >= 28);
    // A second refund of the same line is refused.
    assert!(w
        .emu
        .clawback_order(ClawbackAction::Return, "sub-user", &o.order_id)
        .is_err());
}

#[test]
fn expired_sas_is_renewed_mid_loop() {
    let w = World::new();
    let client = w.client();
    let user = &w.seed.store_user_id;
    w.emu.update_knobs(|k| k.sas_lifetime_secs = 3600);
    let sas = client
        .block_on(client.clawback_sas_token())
        .unwrap()
        .unwrap();
    assert!(sas.uri.expose().contains("sp=rp"));
    assert!(
        !format!("{sas:?}").contains("sig="),
        "Debug hides the signature"
    );
    assert_eq!(client.clawback_sas_fetches(), 1);

    let mut seen = 0;
    for round in 0..3 {
        let o = w
            .emu
            .purchase(user, &w.seed.durable_product_id, "", 1)
            .unwrap();
        w.emu
            .clawback_order(ClawbackAction::Refund, user, &o.order_id)
            .unwrap();
        for m in receive(&client, 32, 30) {
            m.decode_event().unwrap();
            delete(&client, &m).unwrap();
            seen += 1;
        }
        if round == 0 {
            // The SAS expires on the Store's (virtual) clock; our clock still trusts it.
            w.emu.advance(Duration::from_secs(2 * 3600));
        }
    }
    assert_eq!(seen, 3);
    assert_eq!(
        client.clawback_sas_fetches(),
        2,
        "renewed once, after the 403"
    );
    let gets = w.statuses("queue_get");
    assert_eq!(gets.iter().filter(|s| **s == 403).count(), 1, "{gets:?}");
    // The service token expired on the virtual clock too: one 401, refreshed, then 200.
    assert_eq!(w.statuses("clawback_sastoken"), vec![200, 401, 200]);
}

#[test]
fn stale_pop_receipt_is_a_distinct_error() {
    let w = World::new();
    let client = w.client();
    let user = &w.seed.store_user_id;
    let o = w
        .emu
        .purchase(user, &w.seed.durable_product_id, "", 1)
        .unwrap();
    w.emu
        .clawback_order(ClawbackAction::Refund, user, &o.order_id)
        .unwrap();

    let first = receive(&client, 1, 30);
    assert_eq!(first.len(), 1);
    // Hidden while the visibility timeout runs.
    assert!(receive(&client, 1, 30).is_empty());
    w.emu.advance(Duration::from_secs(31));
    let second = receive(&client, 1, 30);
    assert_eq!(second[0].message_id, first[0].message_id);
    assert_eq!(second[0].dequeue_count, 2);
    assert_ne!(second[0].pop_receipt, first[0].pop_receipt);

    let e = delete(&client, &first[0]).unwrap_err();
    assert_eq!(e.kind, ErrorKind::PopReceiptMismatch, "{e}");
    assert_eq!(e.http_status, Some(400));
    delete(&client, &second[0]).unwrap();
    let e = delete(&client, &second[0]).unwrap_err();
    assert_eq!(e.kind, ErrorKind::MessageNotFound, "{e}");
    assert_eq!(e.http_status, Some(404));
}

#[test]
fn messages_expire_after_their_ttl() {
    let w = World::new();
    let client = w.client();
    let user = &w.seed.store_user_id;
    w.emu.update_knobs(|k| k.queue_message_ttl_secs = 60);
    let o = w
        .emu
        .purchase(user, &w.seed.durable_product_id, "", 1)
        .unwrap();
    w.emu
        .clawback_order(ClawbackAction::Refund, user, &o.order_id)
        .unwrap();
    let peeked = client.block_on(client.clawback_peek(32)).unwrap().unwrap();
    assert_eq!(peeked.len(), 1);
    let m = &peeked[0];
    assert_eq!(m.pop_receipt, None, "peek gives no receipt");
    assert_eq!(m.dequeue_count, 0, "peek does not dequeue");
    let (ins, exp) = (m.insertion_time.unwrap(), m.expiration_time.unwrap());
    assert_eq!(exp.unix_seconds() - ins.unix_seconds(), 60);
    w.emu.advance(Duration::from_secs(61));
    assert!(client
        .block_on(client.clawback_peek(32))
        .unwrap()
        .unwrap()
        .is_empty());
    assert!(receive(&client, 32, 30).is_empty());
    assert!(w.emu.queue_messages().is_empty());
}

#[test]
fn both_base64_forms_decode() {
    let w = World::new();
    let client = w.client();
    let user = &w.seed.store_user_id;
    for url_safe in [false, true] {
        w.emu.update_knobs(|k| k.queue_base64url = url_safe);
        let o = w
            .emu
            .purchase(user, &w.seed.durable_product_id, "", 1)
            .unwrap();
        w.emu
            .clawback_order(ClawbackAction::Refund, user, &o.order_id)
            .unwrap();
        let m = receive(&client, 1, 30).remove(0);
        let raw = if url_safe {
            assert!(!m.text.contains(['+', '/', '=']), "{}", m.text);
            URL_SAFE_NO_PAD.decode(&m.text).unwrap()
        } else {
            STANDARD.decode(&m.text).unwrap()
        };
        let ev = m.decode_event().unwrap();
        assert_eq!(ev.data.order_id, o.order_id);
        assert_eq!(ev.raw_json.as_bytes(), raw.as_slice());
        delete(&client, &m).unwrap();
    }
}

#[test]
fn bad_input_and_faults() {
    let w = World::new();
    let client = w.client();
    let id = w.emu.enqueue_raw_queue_message("this is !! not base64");
    let m = receive(&client, 1, 30).remove(0);
    assert_eq!(m.message_id, id);
    let e = m.decode_event().unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidClawbackEvent);
    assert!(e.message.contains(&id));
    delete(&client, &m).unwrap();

    for (n, vt) in [(0, 30), (33, 30), (1, 0)] {
        let e = client
            .block_on(client.clawback_receive(ReceiveOptions {
                max_messages: n,
                visibility_timeout_secs: vt,
            }))
            .unwrap()
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidArgument);
    }
    for (id, receipt) in [("", "r"), ("a/b", "r"), ("m", "")] {
        let e = client
            .block_on(client.clawback_delete(id, receipt))
            .unwrap()
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidArgument);
    }
    // A 503 on Get is retried; a dropped delete answer is resolved as deleted.
    let user = &w.seed.store_user_id;
    let o = w
        .emu
        .purchase(user, &w.seed.durable_product_id, "", 1)
        .unwrap();
    w.emu
        .clawback_order(ClawbackAction::Refund, user, &o.order_id)
        .unwrap();
    w.fault("queue_get", FaultKind::Status { status: 503 }, 1);
    let m = receive(&client, 1, 30).remove(0);
    assert_eq!(
        w.statuses("queue_get")
            .iter()
            .filter(|s| **s == 503)
            .count(),
        1
    );
    w.fault("queue_delete", FaultKind::DropAfterApply, 1);
    delete(&client, &m).unwrap();
    assert!(w.emu.queue_messages().is_empty());
    // SAS endpoint failures surface as errors with a status.
    w.fault("clawback_sastoken", FaultKind::Status { status: 400 }, 1);
    let fresh = w.client();
    let e = fresh.block_on(fresh.clawback_peek(1)).unwrap().unwrap_err();
    assert_eq!(e.http_status, Some(400));
}
