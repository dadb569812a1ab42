//! Recurrence query paging (`pageSize` string or number, opaque continuationToken) and
//! repurchase rules (live recurrence is extended; terminal + repurchase ⇒ new id,
//! https://learn.microsoft.com/en-us/gaming/gdk/_content/gc/commerce/service-to-service/microsoft-store-apis/xstore-v8-recurrence-query).
use crate::emulator_support;

use emulator_support::*;
use msstore::Timestamp;
use msstore_emulator::{ProductKind, ProductSpec};
use serde_json::{json, Value};
use std::collections::HashSet;

fn with_subs(n: usize) -> World {
    let w = World::new();
    for i in 0..n {
        let id = w.emu.add_product(
            ProductSpec::new(&format!("9SUBPAGE{i:04}"), ProductKind::Durable)
                .subscription(1, 7, 36),
        );
        w.emu.purchase(&w.seed.store_user_id, &id, "", 1).unwrap();
    }
    w
}

/// Every page for `page_size`; returns (ids, page count).
fn pages(w: &World, page_size: Value) -> (Vec<String>, usize) {
    let mut ids = Vec::new();
    let mut body = json!({"pageSize": page_size});
    for n in 1..20 {
        let r = w.recurrences(body.clone());
        assert_eq!(r.status, 200, "{}", r.text);
        let j = r.json();
        ids.extend(
            j["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["id"].as_str().unwrap().to_string()),
        );
        match j.get("continuationToken").and_then(Value::as_str) {
            Some(t) if !t.is_empty() => {
                assert!(t.parse::<u64>().is_err(), "token should be opaque: {t}");
                body["continuationToken"] = t.into();
            }
            _ => return (ids, n),
        }
    }
    panic!("paging did not end");
}

#[test]
fn page_size_string_or_number_and_opaque_tokens() {
    let w = with_subs(4); // + the demo subscription = 5
    let (ids, n) = pages(&w, json!("2"));
    assert_eq!((ids.len(), n), (5, 3));
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), 5);
    let (ids3, n) = pages(&w, json!(3));
    assert_eq!((ids3.len(), n), (5, 2));
    assert_eq!(ids, ids3, "stable order across page sizes");
    // Default 25: a single page without a token.
    let j = w.recurrences(json!({})).json();
    assert_eq!(j["items"].as_array().unwrap().len(), 5);
    assert!(j.get("continuationToken").is_none());

    for bad in [
        json!({"pageSize": 0}),
        json!({"pageSize": "x"}),
        json!({"continuationToken": "%%%"}),
        json!({"continuationToken": "2"}),
    ] {
        let r = w.recurrences(bad.clone());
        assert_eq!(r.status, 400, "{bad}: {}", r.text);
    }
}

fn items_for(w: &World, product: &str) -> Vec<Value> {
    w.recurrences(json!({})).json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["productId"] == product)
        .cloned()
        .collect()
}

fn exp(v: &Value) -> Timestamp {
    Timestamp::parse(v["expirationTime"].as_str().unwrap()).unwrap()
}

#[test]
fn repurchase_extends_live_recurrence_and_terminal_repurchase_gets_new_id() {
    let w = World::new();
    let user = w.seed.store_user_id.clone();
    let sub = w.seed.subscription_product_id.clone();
    let before = items_for(&w, &sub);
    assert_eq!(before.len(), 1);

    let o = w.emu.purchase(&user, &sub, "", 1).unwrap();
    assert_eq!(
        o.recurrence_id.as_deref(),
        Some(w.seed.recurrence_id.as_str())
    );
    assert!(!o.entitlement_id.is_empty());
    let after = items_for(&w, &sub);
    assert_eq!(after.len(), 1, "no second live recurrence");
    assert!(exp(&after[0]) > exp(&before[0]).add_secs(27 * 86_400));
    assert_eq!(after[0]["recurrenceState"], "Active");
    // A trial cannot be started on a live subscription.
    assert!(w.emu.purchase_trial(&user, &sub, "").is_err());

    let r = w.change(&w.seed.recurrence_id, json!({"changeType": "Cancel"}));
    assert_eq!(r.status, 200, "{}", r.text);
    let o2 = w.emu.purchase(&user, &sub, "", 1).unwrap();
    let new_id = o2.recurrence_id.unwrap();
    assert_ne!(new_id, w.seed.recurrence_id);
    let all = items_for(&w, &sub);
    assert_eq!(all.len(), 2);
    let states: HashSet<_> = all
        .iter()
        .map(|i| {
            (
                i["id"].as_str().unwrap().to_string(),
                i["recurrenceState"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(states.contains(&(w.seed.recurrence_id.clone(), "Canceled".into())));
    assert!(states.contains(&(new_id, "Active".into())));
    // Exactly one live recurrence remains after another repurchase.
    w.emu.purchase(&user, &sub, "", 1).unwrap();
    let live = items_for(&w, &sub)
        .iter()
        .filter(|i| i["recurrenceState"] == "Active")
        .count();
    assert_eq!(live, 1);
}
