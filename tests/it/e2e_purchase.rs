//! Grants and subscriptions against the emulator over loopback HTTP.

use crate::common;

use common::World;
use msstore::{
    ChangeType, ErrorKind, GrantRequest, ProductSkuId, QueryV9Request, RecurrenceChangeRequest,
    RecurrenceQueryRequest, RecurrenceState,
};
use msstore_emulator::FaultKind;
use std::time::Duration;

#[test]
fn grant_free_product_then_it_is_owned() {
    let w = World::new();
    let c = w.client();
    let mut req = GrantRequest::new(
        &w.seed.purchase_key,
        &w.seed.free_product_id,
        &w.seed.free_sku_id,
        &w.seed.free_availability_id,
    );
    req.order_id = Some("2c4e6a8b-0d1f-4a3b-9c5d-7e9f1a3b5c7d".into());
    let order = c
        .block_on(c.grant_free_product(req.clone()))
        .unwrap()
        .unwrap();
    assert_eq!(order.order_id, "2c4e6a8b-0d1f-4a3b-9c5d-7e9f1a3b5c7d");
    assert_eq!(order.order_state, "Purchased");
    assert_eq!(order.order_line_items.len(), 1);
    assert_eq!(order.order_line_items[0].product_id, w.seed.free_product_id);
    assert!(order.raw_json.contains("orderLineItems"));
    // Same orderId again: the existing order, not a second one.
    let again = c.block_on(c.grant_free_product(req)).unwrap().unwrap();
    assert_eq!(
        again.order_line_items[0].line_item_id,
        order.order_line_items[0].line_item_id
    );

    let owned = c
        .block_on(c.query_v9(QueryV9Request::new(
            &w.seed.collections_key,
            vec![ProductSkuId::product(&w.seed.free_product_id)],
        )))
        .unwrap()
        .unwrap();
    assert_eq!(owned.items.len(), 1);
}

#[test]
fn grant_of_a_paid_product_is_refused() {
    let w = World::new();
    let c = w.client();
    let e = c
        .block_on(c.grant_free_product(GrantRequest::new(
            &w.seed.purchase_key,
            &w.seed.durable_product_id,
            &w.seed.sku_id,
            "anything",
        )))
        .unwrap()
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidArgument, "{e}");
    assert_eq!(e.http_status, Some(400));
    assert_eq!(e.inner_code.as_deref(), Some("InvalidParameter"));
}

#[test]
fn grant_retries_5xx_with_the_same_order_id() {
    let w = World::new();
    w.fault("purchase_v6_grant", FaultKind::DropAfterApply, 1);
    let c = w.client();
    let order = c
        .block_on(c.grant_free_product(GrantRequest::new(
            &w.seed.purchase_key,
            &w.seed.free_product_id,
            &w.seed.free_sku_id,
            &w.seed.free_availability_id,
        )))
        .unwrap()
        .unwrap();
    let bodies: Vec<serde_json::Value> = w
        .emu
        .requests()
        .into_iter()
        .filter(|r| r.route == "purchase_v6_grant")
        .map(|r| serde_json::from_str(&r.body).unwrap())
        .collect();
    assert_eq!(bodies.len(), 2);
    assert_eq!(bodies[0]["orderId"], bodies[1]["orderId"]);
    assert_eq!(bodies[1]["orderId"], order.order_id.as_str());
}

#[test]
fn subscriptions_query_and_every_change_type() {
    let w = World::new();
    let c = w.client();
    let key = &w.seed.purchase_key;
    let id = &w.seed.recurrence_id;
    let subs = c
        .block_on(c.query_subscriptions(RecurrenceQueryRequest::new(key)))
        .unwrap()
        .unwrap();
    let sub = subs
        .iter()
        .find(|s| &s.id == id)
        .expect("seeded subscription");
    assert_eq!(sub.state(), RecurrenceState::Active);
    assert!(sub.auto_renew);
    assert!(sub.beneficiary.starts_with("pub:"));
    let before = sub.expiration_time.unwrap();

    let ext = c
        .block_on(c.change_subscription(RecurrenceChangeRequest::extend(key, id, 3)))
        .unwrap()
        .unwrap();
    assert_eq!(ext.expiration_time.unwrap(), before.add_secs(3 * 86_400));

    let toggled = c
        .block_on(c.change_subscription(RecurrenceChangeRequest::new(
            key,
            id,
            ChangeType::ToggleAutoRenew,
        )))
        .unwrap()
        .unwrap();
    assert!(!toggled.auto_renew);

    // The bare response shape (the official library's) is accepted too.
    w.emu.update_knobs(|k| k.change_response_bare = true);
    let canceled = c
        .block_on(c.change_subscription(RecurrenceChangeRequest::new(key, id, ChangeType::Cancel)))
        .unwrap()
        .unwrap();
    assert_eq!(canceled.state(), RecurrenceState::Canceled);
}

#[test]
fn refund_ends_the_subscription() {
    let w = World::new();
    let c = w.client();
    let r = c
        .block_on(c.change_subscription(RecurrenceChangeRequest::new(
            &w.seed.purchase_key,
            &w.seed.recurrence_id,
            ChangeType::Refund,
        )))
        .unwrap()
        .unwrap();
    assert!(r.state().is_terminal(), "{:?}", r.recurrence_state);
    assert!(!r.grants_benefits(w.emu_now().add_secs(1)));
}

#[test]
fn extend_whose_response_was_lost_is_not_applied_twice() {
    let w = World::new();
    let c = w.client();
    let key = &w.seed.purchase_key;
    let id = &w.seed.recurrence_id;
    let before = c
        .block_on(c.query_subscriptions(RecurrenceQueryRequest::new(key)))
        .unwrap()
        .unwrap()
        .into_iter()
        .find(|s| &s.id == id)
        .unwrap()
        .expiration_time
        .unwrap();
    w.fault("recurrence_change", FaultKind::DropAfterApply, 1);
    let r = c
        .block_on(c.change_subscription(RecurrenceChangeRequest::extend(key, id, 5)))
        .unwrap()
        .unwrap();
    assert_eq!(r.expiration_time.unwrap(), before.add_secs(5 * 86_400));
    assert_eq!(
        w.statuses("recurrence_change"),
        vec![0],
        "looked before resending"
    );
}

#[test]
fn subscription_state_follows_the_clock() {
    let w = World::new();
    w.emu.update_knobs(|k| k.subscription_payment_fails = true);
    let c = w.client();
    let sub = |c: &msstore::Client| {
        // Keys live 30 days; mint a fresh one at the current virtual time, as a game client would.
        let key = w
            .emu
            .mint_key_for_app(
                &w.seed.tenant_id,
                &w.seed.client_id,
                msstore_emulator::KeyKind::Purchase,
                &w.seed.publisher_user_id,
                &w.seed.store_user_id,
            )
            .unwrap();
        c.block_on(c.query_subscriptions(RecurrenceQueryRequest::new(&key)))
            .unwrap()
            .unwrap()
            .into_iter()
            .find(|s| s.id == w.seed.recurrence_id)
            .unwrap()
    };
    let s = sub(&c);
    let expiry = s.expiration_time.unwrap();
    let now = w.emu_now();
    w.emu
        .advance(expiry.duration_since(now) + Duration::from_secs(86_400));
    let s = sub(&c);
    assert_eq!(s.state(), RecurrenceState::InDunning);
    assert!(s.grants_benefits(w.emu_now()), "inside the grace window");
}

#[test]
fn change_input_errors() {
    let w = World::new();
    let c = w.client();
    let e = c
        .block_on(c.change_subscription(RecurrenceChangeRequest::new(
            &w.seed.purchase_key,
            "mdr:0:nope",
            ChangeType::Extend,
        )))
        .unwrap()
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidArgument);
    let e = c
        .block_on(c.change_subscription(RecurrenceChangeRequest::new(
            &w.seed.purchase_key,
            "mdr:0:00000000000000000000000000000000:00000000-0000-0000-0000-000000000000",
            ChangeType::Cancel,
        )))
        .unwrap()
        .unwrap_err();
    assert!(
        matches!(e.kind, ErrorKind::NotFound | ErrorKind::InvalidArgument),
        "{e}"
    );
}
