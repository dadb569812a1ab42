//! Consume v8/v6 (idempotency, FIFO, developer-managed rules), grant, subscriptions.
use crate::emulator_support;

use emulator_support::*;
use serde_json::json;
use std::time::Duration;

const T1: &str = "5d3e2f1a-8b7c-4d6e-9f0a-1b2c3d4e5f60";
const T2: &str = "6d3e2f1a-8b7c-4d6e-9f0a-1b2c3d4e5f60";

#[test]
fn store_managed_consume_is_idempotent_and_fifo() {
    let w = World::new();
    let p = w.seed.consumable_product_id.clone();
    let r = w.consume(&p, T1, Some(5));
    assert_eq!(r.status, 200, "{}", r.text);
    let j = r.json();
    assert_eq!(j["newQuantity"], 5);
    assert_eq!(j["trackingId"], T1);
    let txs = j["orderTransactions"].as_array().unwrap().clone();
    assert_eq!(txs.len(), 2, "4 from the first order, 1 from the second");
    assert_eq!(txs[0]["quantityConsumed"], 4);
    assert_eq!(txs[1]["quantityConsumed"], 1);
    assert_eq!(w.emu.balance(&w.seed.store_user_id, &p), 5);
    // Same trackingId, same fingerprint: no deduction, same transactions.
    let again = w.consume(&p, T1, Some(5)).json();
    assert_eq!(again["newQuantity"], 5);
    assert_eq!(again["orderTransactions"], json!(txs));
    assert_eq!(w.emu.balance(&w.seed.store_user_id, &p), 5);
    // Same trackingId, different quantity: a new consume (documented).
    assert_eq!(w.consume(&p, T1, Some(2)).json()["newQuantity"], 3);
    // Knob: reject reuse instead.
    w.emu.update_knobs(|k| k.reject_tracking_id_reuse = true);
    assert_eq!(w.consume(&p, T1, Some(1)).status, 400);
    // Insufficient balance.
    let r = w.consume(&p, T2, Some(4));
    assert_eq!((r.status, r.inner()), (400, "InsufficientQuantity".into()));
    assert_eq!(w.emu.balance(&w.seed.store_user_id, &p), 3);
    // removeQuantity is required for store-managed.
    assert_eq!(
        w.consume(&p, "7d3e2f1a-8b7c-4d6e-9f0a-1b2c3d4e5f60", None)
            .status,
        400
    );
    // A bad trackingId is rejected.
    assert_eq!(w.consume(&p, "not-a-guid", Some(1)).status, 400);
    // Query shows the new balance.
    let j = w.v8(json!({"productSkuIds": [{"productId": p}]})).json();
    assert_eq!(j["items"][0]["quantity"], 3);
}

#[test]
fn developer_managed_rules() {
    let w = World::new();
    let p = w.seed.unmanaged_consumable_product_id.clone();
    let r = w.consume(&p, T1, Some(1));
    assert_eq!((r.status, r.inner()), (400, "InvalidParameter".into()));
    assert!(r.json()["message"]
        .as_str()
        .unwrap()
        .contains("removeQuantity"));
    w.emu.purchase(&w.seed.store_user_id, &p, "", 1).unwrap();
    assert_eq!(w.emu.balance(&w.seed.store_user_id, &p), 2);
    let j = w.v8(json!({"productSkuIds": [{"productId": p}]})).json();
    assert_eq!(j["items"][0]["quantity"], 1, "min(1, outstanding)");
    let j = w.consume(&p, T1, None).json();
    assert_eq!(j["newQuantity"], 0);
    assert_eq!(j["orderTransactions"].as_array().unwrap().len(), 1);
    let again = w.consume(&p, T1, None).json();
    assert_eq!(
        again["orderTransactions"],
        json!([]),
        "no transactions on replay"
    );
    assert_eq!(w.emu.balance(&w.seed.store_user_id, &p), 1);
    assert_eq!(w.consume(&p, T2, None).status, 200);
    assert_eq!(
        w.consume(&p, "8d3e2f1a-8b7c-4d6e-9f0a-1b2c3d4e5f60", None)
            .inner(),
        "InsufficientQuantity"
    );
}

#[test]
fn v6_consume_both_forms() {
    let w = World::new();
    let url = w.coll("v6.0/collections/consume");
    let items = w
        .v8(json!({"productSkuIds": [{"productId": w.seed.unmanaged_consumable_product_id}]}))
        .json();
    let item_id = items["items"][0]["id"].as_str().unwrap().to_string();
    let body = json!({"beneficiary": w.beneficiary(), "itemId": item_id, "trackingId": T1});
    let r = w.http.post_json(&url, Some(&w.token), &body);
    assert_eq!(r.status, 204, "{}", r.text);
    assert!(r.text.is_empty());
    assert_eq!(
        w.http.post_json(&url, Some(&w.token), &body).status,
        204,
        "same trackingId: same result"
    );
    assert_eq!(
        w.emu.balance(
            &w.seed.store_user_id,
            &w.seed.unmanaged_consumable_product_id
        ),
        0
    );
    let order = w
        .emu
        .purchase(
            &w.seed.store_user_id,
            &w.seed.unmanaged_consumable_product_id,
            "",
            1,
        )
        .unwrap();
    let body = json!({"beneficiary": w.beneficiary(), "productId": w.seed.unmanaged_consumable_product_id, "transactionId": order.order_id});
    assert_eq!(w.http.post_json(&url, Some(&w.token), &body).status, 204);
    assert_eq!(
        w.emu.balance(
            &w.seed.store_user_id,
            &w.seed.unmanaged_consumable_product_id
        ),
        0
    );
    let both = json!({"beneficiary": w.beneficiary(), "itemId": item_id, "trackingId": T1, "productId": "x", "transactionId": T2});
    assert_eq!(w.http.post_json(&url, Some(&w.token), &both).status, 400);
}

fn grant_body(w: &World, product: &str, avail: &str, order_id: &str) -> serde_json::Value {
    json!({"b2bKey": w.seed.purchase_key, "availabilityId": avail, "productId": product, "skuId": "0010",
           "language": "en-us", "market": "us", "orderId": order_id, "quantity": 1})
}

#[test]
fn grant_free_paid_and_duplicate_order() {
    let w = World::new();
    let url = w.purch("v6.0/purchases/grant");
    let oid = "2c4e6a8b-0d1f-4a3b-9c5d-7e9f1a3b5c7d";
    let r = w.http.post_json(
        &url,
        Some(&w.token),
        &grant_body(
            &w,
            &w.seed.free_product_id,
            &w.seed.free_availability_id,
            oid,
        ),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let j = r.json();
    assert_eq!(j["orderId"], oid);
    assert_eq!(j["orderState"], "Purchased");
    assert_eq!(j["clientContext"]["client"], w.seed.client_id.as_str());
    assert_eq!(
        j["purchaser"]["identityValue"],
        w.seed.publisher_user_id.as_str()
    );
    let line = &j["orderLineItems"][0];
    for f in [
        "lineItemId",
        "availabilityId",
        "billingState",
        "fulfillmentState",
        "listPrice",
        "productType",
        "taxType",
        "title",
        "totalAmount",
    ] {
        assert!(line.get(f).is_some(), "{f}");
    }
    // Same orderId again: existing order, no second entitlement.
    let again = w
        .http
        .post_json(
            &url,
            Some(&w.token),
            &grant_body(
                &w,
                &w.seed.free_product_id,
                &w.seed.free_availability_id,
                oid,
            ),
        )
        .json();
    assert_eq!(again["orderLineItems"][0]["lineItemId"], line["lineItemId"]);
    let q = w.v8(json!({"productSkuIds": [{"productId": w.seed.free_product_id}], "excludeDuplicates": false})).json();
    assert_eq!(q["items"].as_array().unwrap().len(), 1);
    // Paid product → 400.
    let r = w.http.post_json(
        &url,
        Some(&w.token),
        &grant_body(
            &w,
            &w.seed.durable_product_id,
            "x",
            "3c4e6a8b-0d1f-4a3b-9c5d-7e9f1a3b5c7d",
        ),
    );
    assert_eq!((r.status, r.inner()), (400, "InvalidParameter".into()));
    // Missing field.
    let mut b = grant_body(
        &w,
        &w.seed.free_product_id,
        &w.seed.free_availability_id,
        "4c4e6a8b-0d1f-4a3b-9c5d-7e9f1a3b5c7d",
    );
    b.as_object_mut().unwrap().remove("market");
    let r = w.http.post_json(&url, Some(&w.token), &b);
    assert!(r.status == 400 && r.text.contains("market"));
    // Collections key on a purchase route.
    let mut b = grant_body(
        &w,
        &w.seed.free_product_id,
        &w.seed.free_availability_id,
        oid,
    );
    b["b2bKey"] = w.seed.collections_key.clone().into();
    assert_eq!(
        w.http.post_json(&url, Some(&w.token), &b).inner(),
        "AuthenticationTokenInvalid"
    );
}

fn recurrences(w: &World) -> serde_json::Value {
    let r = w.http.post_json(
        &w.purch("v8.0/b2b/recurrences/query"),
        Some(&w.token),
        &json!({"b2bKey": w.seed.purchase_key, "sbx": null}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    r.json()
}

fn change(w: &World, body: serde_json::Value) -> Resp {
    let id = w.seed.recurrence_id.replace(':', "%3A");
    let mut b = json!({"b2bKey": w.seed.purchase_key});
    merge(&mut b, body);
    w.http.post_json(
        &w.purch(&format!("v8.0/b2b/recurrences/{id}/change")),
        Some(&w.token),
        &b,
    )
}

#[test]
fn subscription_query_and_changes() {
    let w = World::new();
    let j = recurrences(&w);
    let item = &j["items"][0];
    assert_eq!(item["id"], w.seed.recurrence_id.as_str());
    assert!(w.seed.recurrence_id.starts_with("mdr:0:"));
    assert_eq!(item["recurrenceState"], "Active");
    assert_eq!(item["autoRenew"], true);
    assert_eq!(
        item["beneficiary"],
        format!("pub:{}", w.seed.publisher_user_id)
    );
    assert!(item["startTime"].as_str().unwrap().contains("T00:00:00"));
    assert!(item["expirationTime"]
        .as_str()
        .unwrap()
        .contains("T23:59:59"));
    let exp = msstore::time::Timestamp::parse(item["expirationTime"].as_str().unwrap()).unwrap();
    // Extend with a string day count (UWP doc), then a negative int.
    let r = change(
        &w,
        json!({"changeType": "Extend", "extensionTimeInDays": "5"}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let e2 =
        msstore::time::Timestamp::parse(r.json()["items"][0]["expirationTime"].as_str().unwrap())
            .unwrap();
    assert_eq!(e2.unix_seconds() - exp.unix_seconds(), 5 * 86_400);
    w.emu.update_knobs(|k| k.change_response_bare = true);
    let r = change(
        &w,
        json!({"changeType": "Extend", "extensionTimeInDays": -2}),
    );
    assert_eq!(
        r.json()["id"],
        w.seed.recurrence_id.as_str(),
        "bare item shape"
    );
    let r = change(&w, json!({"changeType": "ToggleAutoRenew"}));
    assert_eq!(r.json()["autoRenew"], false);
    assert_eq!(
        change(&w, json!({"changeType": "ToggleAutoRenew"})).json()["autoRenew"],
        false,
        "cannot turn back on"
    );
    let r = change(&w, json!({"changeType": "Refund"}));
    assert_eq!(r.json()["recurrenceState"], "Canceled");
    let q = w
        .v8(json!({"productSkuIds": [{"productId": w.seed.subscription_product_id}]}))
        .json();
    assert_eq!(q["items"][0]["status"], "Revoked");
    assert_eq!(
        change(
            &w,
            json!({"changeType": "Extend", "extensionTimeInDays": 1})
        )
        .status,
        400
    );
    assert_eq!(change(&w, json!({"changeType": "Bogus"})).status, 400);
    let r = w.http.post_json(
        &w.purch("v8.0/b2b/recurrences/mdr:0:00:00/change"),
        Some(&w.token),
        &json!({"b2bKey": w.seed.purchase_key, "changeType": "Cancel"}),
    );
    assert_eq!(r.status, 404);
    assert_eq!(w.emu.count_requests("recurrence_change"), 8);
}

#[test]
fn subscription_clock_driven_transitions() {
    let w = World::new();
    let user = w.seed.store_user_id.clone();
    let id = w.seed.recurrence_id.clone();
    // Auto-renew with successful payments: still Active after 3 months.
    w.emu.advance(Duration::from_secs(95 * 86_400));
    assert_eq!(
        w.emu.recurrence_state(&user, &id).as_deref(),
        Some("Active")
    );
    // Failing payments: InDunning (grace keeps benefits), then Failed.
    w.emu.update_knobs(|k| k.subscription_payment_fails = true);
    w.emu.advance(Duration::from_secs(32 * 86_400));
    assert_eq!(
        w.emu.recurrence_state(&user, &id).as_deref(),
        Some("InDunning")
    );
    w.emu.advance(Duration::from_secs(50 * 86_400));
    assert_eq!(
        w.emu.recurrence_state(&user, &id).as_deref(),
        Some("Failed")
    );
    // Auto-renew off → Inactive at expiration.
    let w2 = World::new();
    let r = change(&w2, json!({"changeType": "ToggleAutoRenew"}));
    assert_eq!(r.status, 200);
    w2.emu.advance(Duration::from_secs(33 * 86_400));
    assert_eq!(
        w2.emu
            .recurrence_state(&w2.seed.store_user_id, &w2.seed.recurrence_id)
            .as_deref(),
        Some("Inactive")
    );
}
