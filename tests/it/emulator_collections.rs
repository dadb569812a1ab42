//! Collections queries v6/v8/v9: paging, filters, duplicates, limits, leniency, bad bodies.
use crate::emulator_support;

use emulator_support::*;
use msstore_emulator::{ProductKind, ProductSpec};
use serde_json::{json, Value};
use std::collections::HashSet;

fn all_pages(w: &World, v9: bool, mut body: Value) -> (Vec<Value>, usize) {
    let mut items = Vec::new();
    let mut pages = 0;
    loop {
        let r = if v9 {
            w.v9(body.clone())
        } else {
            w.v8(body.clone())
        };
        assert_eq!(r.status, 200, "{}", r.text);
        let j = r.json();
        pages += 1;
        items.extend(j["items"].as_array().unwrap().iter().cloned());
        match j.get("continuationToken").and_then(Value::as_str) {
            Some(t) if !t.is_empty() => {
                let inner: Value =
                    serde_json::from_str(t).expect("token is a JSON string inside a string");
                assert!(inner["checkSatisfactionIndex"].is_u64());
                body["continuationToken"] = t.into();
            }
            _ => break,
        }
        assert!(pages < 20);
    }
    (items, pages)
}

#[test]
fn v8_paging_and_item_shape() {
    let w = World::new();
    let (items, pages) = all_pages(&w, false, json!({"maxPageSize": 2}));
    assert_eq!(pages, 3);
    assert_eq!(items.len(), 6);
    let ids: HashSet<_> = items
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), 6);
    let cons = items
        .iter()
        .find(|i| i["productId"] == w.seed.consumable_product_id.as_str())
        .unwrap();
    assert_eq!(cons["quantity"], 10);
    assert_eq!(cons["productKind"], "Consumable");
    assert_eq!(
        cons["beneficiary"]["identityValue"],
        w.seed.publisher_user_id.as_str()
    );
    for f in [
        "acquiredDate",
        "acquisitionType",
        "endDate",
        "modifiedDate",
        "startDate",
        "productFamily",
        "purchasedCountry",
        "recurrenceData",
        "satisfiedByProductIds",
        "sharingSource",
        "skuId",
        "status",
        "tags",
        "transactionId",
        "trialData",
        "localTicketReference",
    ] {
        assert!(cons.get(f).is_some(), "missing {f}");
    }
    assert_eq!(cons["endDate"], "9999-12-31T23:59:59.9999999+00:00");
    let sub = items
        .iter()
        .find(|i| i["productId"] == w.seed.subscription_product_id.as_str())
        .unwrap();
    assert_eq!(
        sub["recurrenceData"]["recurrenceId"],
        w.seed.recurrence_id.as_str()
    );
    assert_eq!(sub["acquisitionType"], "Recurring");
    let child = items
        .iter()
        .find(|i| i["productId"] == w.seed.bundle_child_product_id.as_str())
        .unwrap();
    assert_eq!(
        child["satisfiedByProductIds"],
        json!([w.seed.bundle_product_id])
    );
    assert_eq!(w.emu.count_requests("collections_v8_query"), 3);
}

#[test]
fn v8_filters() {
    let w = World::new();
    let r = w.v8(json!({"entitlementFilters": ["*:Consumable", "*:UnmanagedConsumable"]}));
    let mut ids = product_ids(&r.json());
    ids.sort();
    let mut want = vec![
        w.seed.consumable_product_id.clone(),
        w.seed.unmanaged_consumable_product_id.clone(),
    ];
    want.sort();
    assert_eq!(ids, want);
    let r =
        w.v8(json!({"productSkuIds": [{"productId": w.seed.durable_product_id, "skuId": "0010"}]}));
    assert_eq!(
        product_ids(&r.json()),
        vec![w.seed.durable_product_id.clone()]
    );
    let r =
        w.v8(json!({"productSkuIds": [{"productId": w.seed.durable_product_id, "skuId": "9999"}]}));
    assert!(product_ids(&r.json()).is_empty());
    let r = w.v8(json!({"expandSatisfyingItems": false}));
    assert!(!product_ids(&r.json()).contains(&w.seed.bundle_child_product_id));
    let r = w.v8(json!({"entitlementFilters": ["*:Bogus"]}));
    assert_eq!((r.status, r.inner()), (400, "InvalidParameter".into()));
}

#[test]
fn duplicates_are_collapsed_by_source_priority() {
    let w = World::new();
    // Buy the bundle child directly as well: now owned via bundle and directly.
    w.emu
        .purchase(
            &w.seed.store_user_id,
            &w.seed.bundle_child_product_id,
            "",
            1,
        )
        .unwrap();
    let filter = json!({"productSkuIds": [{"productId": w.seed.bundle_child_product_id}]});
    let mut body = filter.clone();
    merge(&mut body, json!({"excludeDuplicates": true}));
    let j = w.v8(body).json();
    assert_eq!(j["items"].as_array().unwrap().len(), 1);
    assert_eq!(
        j["items"][0]["satisfiedByProductIds"],
        json!([]),
        "direct purchase wins"
    );
    let mut body = filter;
    merge(&mut body, json!({"excludeDuplicates": false}));
    assert_eq!(w.v8(body).json()["items"].as_array().unwrap().len(), 2);
}

#[test]
fn v9_limits_and_recurrence_id() {
    let w = World::new();
    let skus: Vec<Value> = (0..101)
        .map(|i| json!({"productId": format!("9N{i:010}")}))
        .collect();
    let r = w.v9(json!({"productSkuIds": skus}));
    assert_eq!(
        (
            r.status,
            r.json()["code"].as_str().unwrap().to_string(),
            r.inner()
        ),
        (400, "BadRequest".into(), "InvalidParameter".into())
    );
    let r = w.v9(json!({}));
    assert_eq!(r.status, 400);
    assert!(r.json()["message"]
        .as_str()
        .unwrap()
        .contains("productSkuIds"));
    let sub = json!([{"productId": w.seed.subscription_product_id}]);
    assert_eq!(
        w.v9(json!({"productSkuIds": sub, "maxPageSize": 200}))
            .status,
        200
    );
    assert_eq!(
        w.v9(json!({"productSkuIds": sub, "maxPageSize": 201}))
            .status,
        400
    );
    assert_eq!(w.v8(json!({"maxPageSize": 101})).status, 400);
    assert_eq!(w.v8(json!({"maxPageSize": 0})).status, 400);
    let j = w.v9(json!({"productSkuIds": sub})).json();
    let item = &j["items"][0];
    assert_eq!(item["recurrenceId"], w.seed.recurrence_id.as_str());
    assert!(item.get("recurrenceData").is_none());
    assert!(item.get("legacyProductId").is_none() && item.get("beneficiary").is_none());
    w.emu.update_knobs(|k| k.v9_emit_recurrence_data = true);
    let j = w.v9(json!({"productSkuIds": sub})).json();
    assert_eq!(
        j["items"][0]["recurrenceData"],
        w.seed.recurrence_id.as_str()
    );
    // v9 paging over all demo products, one per page.
    let all: Vec<Value> = [
        &w.seed.durable_product_id,
        &w.seed.consumable_product_id,
        &w.seed.subscription_product_id,
    ]
    .iter()
    .map(|p| json!({"productId": p}))
    .collect();
    let (items, pages) = all_pages(&w, true, json!({"productSkuIds": all, "maxPageSize": 1}));
    assert_eq!((items.len(), pages), (3, 3));
}

#[test]
fn cross_page_duplicates_knob() {
    let w = World::new();
    w.emu
        .update_knobs(|k| k.inject_cross_page_duplicates = true);
    let (items, _) = all_pages(&w, false, json!({"maxPageSize": 2}));
    assert_eq!(items.len(), 8, "two injected repeats");
    let ids: HashSet<_> = items
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), 6);
    assert!(items.iter().any(|i| i["status"] == "Expired"));
}

#[test]
fn unlinked_products_yield_zero_items() {
    let w = World::new();
    let pid = w.emu.add_product(
        ProductSpec::new("9NOTLINKED01", ProductKind::Durable)
            .linked_to("ffffffff-0000-0000-0000-000000000000"),
    );
    w.emu.purchase(&w.seed.store_user_id, &pid, "", 1).unwrap();
    let r = w.v9(json!({"productSkuIds": [{"productId": pid}]}));
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["items"], json!([]));
}

#[test]
fn any_property_casing_and_path_casing() {
    let w = World::new();
    let body = json!({"Beneficiaries": [{"IdentityType": "b2b", "identityvalue": w.seed.collections_key, "LocalTicketReference": ""}],
                      "PRODUCTSKUIDS": [{"ProductID": w.seed.durable_product_id}], "MaxPageSize": 5});
    let r = w.http.post_json(
        &w.coll("V9.0/Collections/PublisherQuery"),
        Some(&w.token),
        &body,
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        product_ids(&r.json()),
        vec![w.seed.durable_product_id.clone()]
    );
    let r = w.http.post_json(
        &w.coll("v8.0/collections/b2blicensepreview"),
        Some(&w.token),
        &body,
    );
    assert_eq!(r.status, 200);
    assert_eq!(w.emu.count_requests("collections_v8_query"), 1);
}

#[test]
fn malformed_bodies_are_400_naming_the_field() {
    let w = World::new();
    let url = w.coll("v8.0/collections/b2bLicensePreview");
    for (body, field) in [
        ("{not json".to_string(), "JSON"),
        ("[]".to_string(), "object"),
        ("{}".to_string(), "beneficiaries"),
        (
            json!({"beneficiaries": w.beneficiaries(), "maxPageSize": "lots"}).to_string(),
            "maxPageSize",
        ),
        (
            json!({"beneficiaries": w.beneficiaries(), "productSkuIds": [{"skuId": "0010"}]})
                .to_string(),
            "productId",
        ),
        (
            json!({"beneficiaries": [{"identityType": "b2b"}]}).to_string(),
            "identityValue",
        ),
        (
            json!({"beneficiaries": w.beneficiaries(), "excludeDuplicates": 3}).to_string(),
            "excludeDuplicates",
        ),
        (
            json!({"beneficiaries": w.beneficiaries(), "continuationToken": "garbage"}).to_string(),
            "continuationToken",
        ),
    ] {
        let r = w.http.post_raw(&url, Some(&w.token), &body, &[]);
        assert_eq!(
            (r.status, r.inner()),
            (400, "InvalidParameter".into()),
            "{body}: {}",
            r.text
        );
        assert!(
            r.json()["message"].as_str().unwrap().contains(field),
            "{field}: {}",
            r.text
        );
    }
    // Binary garbage and empty bodies never crash the server.
    let r = w
        .http
        .post_raw(&url, Some(&w.token), "\u{0}\u{1}\u{7f}", &[]);
    assert_eq!(r.status, 400);
    assert_eq!(w.v8(json!({})).status, 200);
}

#[test]
fn v6_query() {
    let w = World::new();
    let url = w.coll("v6.0/collections/query");
    let r = w.http.post_json(&url, Some(&w.token), &json!({"beneficiaries": w.beneficiaries(), "productTypes": ["Durable", "UnmanagedConsumable"], "validityType": "Valid"}));
    assert_eq!(r.status, 200, "{}", r.text);
    let j = r.json();
    let items = j["items"].as_array().unwrap();
    assert!(items
        .iter()
        .all(|i| i["productType"] == "Durable" || i["productType"] == "UnmanagedConsumable"));
    assert!(items
        .iter()
        .any(|i| i["productId"] == w.seed.unmanaged_consumable_product_id.as_str()));
    let it = &items[0];
    for f in [
        "itemId",
        "ownershipType",
        "skuType",
        "transactionId",
        "quantity",
        "purchaser",
        "acquiredDate",
    ] {
        assert!(it.get(f).is_some(), "{f}");
    }
    let r = w.http.post_json(
        &url,
        Some(&w.token),
        &json!({"beneficiaries": w.beneficiaries()}),
    );
    assert_eq!(r.status, 400);
}
