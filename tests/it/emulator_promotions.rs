//! Promotional (`Conditional`) entitlements and the excludeDuplicates priority
//! direct > bundle > subscription > promo
//! (https://learn.microsoft.com/en-us/gaming/gdk/_content/gc/commerce/service-to-service/xstore-query-user-entitlements).
use crate::emulator_support;

use emulator_support::*;
use msstore_emulator::{ProductKind, ProductSpec};
use serde_json::{json, Value};

fn items_for(v: &Value, product_id: &str) -> Vec<Value> {
    v["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items: {v}"))
        .iter()
        .filter(|i| i["productId"] == product_id)
        .cloned()
        .collect()
}

#[test]
fn direct_beats_promo_only_when_excluding_duplicates() {
    let w = World::new();
    let durable = w.seed.durable_product_id.clone();
    let promo = w
        .emu
        .grant_promotional(&w.seed.store_user_id, &durable)
        .unwrap();

    let dedup = w.v8(json!({"excludeDuplicates": true})).json();
    let items = items_for(&dedup, &durable);
    assert_eq!(items.len(), 1, "{dedup}");
    assert_eq!(items[0]["acquisitionType"], "Single");
    assert_ne!(items[0]["id"], promo.entitlement_id.as_str());

    let all = w.v8(json!({"excludeDuplicates": false})).json();
    let items = items_for(&all, &durable);
    assert_eq!(items.len(), 2, "{all}");
    let kinds: Vec<_> = items.iter().map(|i| i["acquisitionType"].clone()).collect();
    assert!(kinds.contains(&json!("Single")) && kinds.contains(&json!("Conditional")));
    let p = items
        .iter()
        .find(|i| i["acquisitionType"] == "Conditional")
        .unwrap();
    assert_eq!(p["id"], promo.entitlement_id.as_str());
    assert_eq!(p["transactionId"], promo.order_id.as_str());

    // v9 applies the same rules.
    let body = |d: bool| json!({"excludeDuplicates": d, "productSkuIds": [{"productId": durable}]});
    assert_eq!(
        w.v9(body(true)).json()["items"].as_array().unwrap().len(),
        1
    );
    assert_eq!(
        w.v9(body(false)).json()["items"].as_array().unwrap().len(),
        2
    );
}

#[test]
fn bundle_beats_promo_and_promo_alone_is_conditional() {
    let w = World::new();
    let user = w.seed.store_user_id.clone();
    let child = w.seed.bundle_child_product_id.clone();
    w.emu.grant_promotional(&user, &child).unwrap();
    let dedup = w.v8(json!({})).json();
    let items = items_for(&dedup, &child);
    assert_eq!(items.len(), 1);
    assert_eq!(
        items[0]["satisfiedByProductIds"],
        json!([w.seed.bundle_product_id])
    );

    let only = w
        .emu
        .add_product(ProductSpec::new("9PROMOONLY01", ProductKind::Game));
    w.emu.grant_promotional(&user, &only).unwrap();
    let it = item_for(&w.v8(json!({})).json(), &only);
    assert_eq!(it["acquisitionType"], "Conditional");
    assert_eq!(it["status"], "Active");
    assert_eq!(it["satisfiedByProductIds"], json!([]));
    // Not bought: the promo holder has no order/balance of its own beyond the entitlement.
    assert_eq!(w.emu.balance(&user, &only), 1);
}

#[test]
fn promotion_errors_and_admin_route() {
    let w = World::new();
    let user = w.seed.store_user_id.clone();
    assert!(w.emu.grant_promotional(&user, "9NOSUCHPROD1").is_err());
    assert!(w
        .emu
        .grant_promotional(&user, &w.seed.consumable_product_id)
        .is_err());

    let url = format!("{}/admin/promotions", w.emu.base_url());
    let free = w.seed.free_product_id.clone();
    let r = w.http.post_json(
        &url,
        None,
        &json!({"store_user_id": user, "product_id": free}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let it = item_for(&w.v8(json!({})).json(), &free);
    assert_eq!(it["acquisitionType"], "Conditional");
    assert_eq!(it["id"], r.json()["entitlement_id"]);

    let r = w
        .http
        .post_json(&url, None, &json!({"store_user_id": user}));
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(w.http.get(&url).status, 405);
}
