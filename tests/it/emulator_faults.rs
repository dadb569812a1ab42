//! Fault injection, rate limiting, request log, admin HTTP API, shutdown, and the binary.
use crate::emulator_support;

use emulator_support::*;
use msstore_emulator::{Emulator, EmulatorConfig, FaultKind, FaultRule, RateLimit};
use serde_json::json;
use std::time::{Duration, Instant};

const T1: &str = "5d3e2f1a-8b7c-4d6e-9f0a-1b2c3d4e5f60";

#[test]
fn throttle_status_and_delay() {
    let w = World::new();
    w.emu.add_fault(
        FaultRule::new(
            "collections_v8_query",
            FaultKind::Throttle {
                retry_after_secs: 7,
            },
        )
        .times(1),
    );
    let r = w.v8(json!({}));
    assert_eq!(r.status, 429);
    assert_eq!(r.header("retry-after").as_deref(), Some("7"));
    assert_eq!(r.json()["code"], "Throttled");
    assert!(r.json()["message"]
        .as_str()
        .unwrap()
        .starts_with("Rate limit of "));
    assert_eq!(w.v8(json!({})).status, 200, "times(1) is spent");
    for s in [500u16, 502, 503] {
        w.emu.add_fault(
            FaultRule::new("collections_v8_consume", FaultKind::Status { status: s }).times(1),
        );
        assert_eq!(
            w.consume(&w.seed.consumable_product_id, T1, Some(1)).status,
            s
        );
    }
    assert_eq!(
        w.emu
            .balance(&w.seed.store_user_id, &w.seed.consumable_product_id),
        10,
        "not applied"
    );
    w.emu
        .add_fault(FaultRule::new("*", FaultKind::Delay { ms: 150 }).times(1));
    let t = Instant::now();
    assert_eq!(w.v8(json!({})).status, 200);
    assert!(t.elapsed() >= Duration::from_millis(150));
    // User filter: a rule for someone else never fires.
    w.emu.add_fault(
        FaultRule::new("collections_v8_query", FaultKind::Status { status: 500 })
            .for_user("someone-else"),
    );
    assert_eq!(w.v8(json!({})).status, 200);
    w.emu.add_fault(
        FaultRule::new("collections_v8_query", FaultKind::Status { status: 503 })
            .for_user(&w.seed.store_user_id)
            .times(1),
    );
    assert_eq!(w.v8(json!({})).status, 503);
    w.emu.clear_faults();
    // Probability 0 never fires, 1 always.
    w.emu.add_fault(
        FaultRule::new("collections_v8_query", FaultKind::Status { status: 500 }).probability(0.0),
    );
    assert_eq!(w.v8(json!({})).status, 200);
    let logged = w.emu.requests();
    assert!(logged
        .iter()
        .any(|r| r.fault.as_deref() == Some("throttle") && r.status == 429));
}

#[test]
fn drop_before_and_applied_but_dropped() {
    let w = World::new();
    let p = w.seed.consumable_product_id.clone();
    let body = json!({"beneficiary": w.beneficiary(), "productId": p, "trackingId": T1, "removeQuantity": 3});
    let url = w.coll("v8.0/collections/consume");
    w.emu
        .add_fault(FaultRule::new("collections_v8_consume", FaultKind::DropBeforeApply).times(1));
    assert!(w.http.try_post_json(&url, Some(&w.token), &body).is_err());
    assert_eq!(
        w.emu.balance(&w.seed.store_user_id, &p),
        10,
        "drop before apply: no change"
    );
    w.emu
        .add_fault(FaultRule::new("collections_v8_consume", FaultKind::DropAfterApply).times(1));
    assert!(
        w.http.try_post_json(&url, Some(&w.token), &body).is_err(),
        "client sees a connection error"
    );
    assert_eq!(
        w.emu.balance(&w.seed.store_user_id, &p),
        7,
        "but the consume was applied"
    );
    // The idempotent retry does not deduct again.
    let r = w.http.post_json(&url, Some(&w.token), &body);
    assert_eq!(r.json()["newQuantity"], 7);
    let log: Vec<_> = w
        .emu
        .requests()
        .into_iter()
        .filter(|r| r.route == "collections_v8_consume")
        .collect();
    assert_eq!(log.len(), 3);
    assert_eq!((log[0].status, log[1].status, log[2].status), (0, 0, 200));
    assert!(log
        .iter()
        .all(|r| !r.body.contains(&w.seed.collections_key)));
}

#[test]
fn malformed_and_truncated_bodies() {
    let w = World::new();
    w.emu
        .add_fault(FaultRule::new("collections_v8_consume", FaultKind::MalformedJson).times(1));
    let r = w.consume(&w.seed.consumable_product_id, T1, Some(1));
    assert_eq!(r.status, 200);
    assert!(serde_json::from_str::<serde_json::Value>(&r.text).is_err());
    assert_eq!(
        w.emu
            .balance(&w.seed.store_user_id, &w.seed.consumable_product_id),
        9,
        "applied"
    );
    w.emu
        .add_fault(FaultRule::new("collections_v9_query", FaultKind::TruncatedBody).times(1));
    let body = json!({"beneficiaries": w.beneficiaries(), "productSkuIds": [{"productId": w.seed.durable_product_id}]});
    assert!(w
        .http
        .try_post_json(
            &w.coll("v9.0/collections/publisherQuery"),
            Some(&w.token),
            &body
        )
        .is_err());
    assert_eq!(
        w.v9(json!({"productSkuIds": [{"productId": w.seed.durable_product_id}]}))
            .status,
        200
    );
}

#[test]
fn built_in_rate_limit() {
    let w = World::new();
    w.emu.update_knobs(|k| {
        k.rate_limit = Some(RateLimit {
            max_requests: 3,
            window_secs: 300,
        })
    });
    for _ in 0..3 {
        assert_eq!(w.v8(json!({})).status, 200);
    }
    let r = w.v8(json!({}));
    assert_eq!(r.status, 429);
    let retry: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=300).contains(&retry));
    w.emu.advance(Duration::from_secs(301));
    let token = w
        .emu
        .issue_token(&w.seed.tenant_id, &w.seed.client_id, SERVICE_AUD);
    let body = json!({"beneficiaries": w.beneficiaries()});
    assert_eq!(
        w.http
            .post_json(
                &w.coll("v8.0/collections/b2bLicensePreview"),
                Some(&token),
                &body
            )
            .status,
        200
    );
}

#[test]
fn ms_cv_and_standard_headers() {
    let w = World::new();
    let body = json!({"beneficiaries": w.beneficiaries()}).to_string();
    let r = w.http.post_raw(
        &w.coll("v8.0/collections/b2bLicensePreview"),
        Some(&w.token),
        &body,
        &[("MS-CV", "abcDEF123.1")],
    );
    assert!(r.header("ms-cv").unwrap().starts_with("abcDEF123.1."));
    for h in ["ms-correlationid", "ms-requestid", "date"] {
        assert!(r.header(h).is_some(), "{h}");
    }
    assert_eq!(
        w.emu.requests().last().unwrap().ms_cv,
        r.header("ms-cv").unwrap()
    );
    let r = w.http.post_raw(
        &w.coll("v8.0/collections/b2bLicensePreview"),
        Some(&w.token),
        &body,
        &[],
    );
    assert!(r.header("ms-cv").is_some());
    let r = w.http.get(&w.coll("v8.0/collections/b2bLicensePreview"));
    assert_eq!(r.status, 405);
    assert_eq!(
        w.http.post_raw(&w.coll("nope"), None, "{}", &[]).status,
        404
    );
}

#[test]
fn admin_http_api() {
    let emu = Emulator::start(EmulatorConfig::default()).unwrap();
    let http = Http::new();
    let a = |p: &str| format!("{}/admin/{p}", emu.base_url());
    let seed = http.post_json(&a("seed/demo"), None, &json!({})).json();
    assert!(
        seed["collections_key"].is_string()
            && seed["recurrence_id"]
                .as_str()
                .unwrap()
                .starts_with("mdr:0:")
    );
    let user = seed["store_user_id"].as_str().unwrap();
    let cons = seed["consumable_product_id"].as_str().unwrap();
    let bal = http
        .get(&format!("{}?user={user}&product={cons}", a("balance")))
        .json();
    assert_eq!(bal["balance"], 10);
    let pid = http
        .post_json(
            &a("products"),
            None,
            &json!({"product_id": "9NADMINPROD1", "kind": "Consumable", "price": 0.5}),
        )
        .json();
    assert_eq!(pid["product_id"], "9NADMINPROD1");
    let o = http
        .post_json(
            &a("purchases"),
            None,
            &json!({"store_user_id": user, "product_id": "9NADMINPROD1", "quantity": 4}),
        )
        .json();
    assert!(o["order_id"].is_string());
    assert_eq!(emu.balance(user, "9NADMINPROD1"), 4);
    assert_eq!(
        http.post_json(
            &a("purchases"),
            None,
            &json!({"store_user_id": user, "product_id": "nope"})
        )
        .status,
        400
    );
    let before = http.get(&a("clock")).json()["now"]
        .as_str()
        .unwrap()
        .to_string();
    let after = http
        .post_json(&a("clock/advance"), None, &json!({"seconds": 86400}))
        .json();
    let d = msstore::time::Timestamp::parse(after["now"].as_str().unwrap())
        .unwrap()
        .unix_seconds()
        - msstore::time::Timestamp::parse(&before)
            .unwrap()
            .unix_seconds();
    assert!((86_400..86_410).contains(&d));
    let set = http
        .post_json(
            &a("clock/set"),
            None,
            &json!({"now": "2030-01-01T00:00:00Z"}),
        )
        .json();
    assert!(set["now"]
        .as_str()
        .unwrap()
        .starts_with("2030-01-01T00:00:0"));
    http.post_json(
        &a("apps"),
        None,
        &json!({"tenant_id": "t-admin", "client_id": "c-admin", "client_secret": "s"}),
    );
    let tok = http.post_json(&a("tokens"), None, &json!({"tenant_id": "t-admin", "client_id": "c-admin", "audience": "https://onestore.microsoft.com/b2b/keys/create/collections"})).json();
    let key = http.post_json(&a("keys/mint"), None, &json!({"kind": "collections", "key_create_token": tok["access_token"], "publisher_user_id": "p", "store_user_id": "u-admin"})).json();
    assert!(key["key"].is_string());
    let key2 = http.post_json(&a("keys/mint"), None, &json!({"kind": "purchase", "tenant_id": "t-admin", "client_id": "c-admin", "publisher_user_id": "p", "store_user_id": "u-admin"}));
    assert_eq!(key2.status, 200);
    assert_eq!(
        http.post_json(
            &a("keys/revoke"),
            None,
            &json!({"store_user_id": "u-admin"})
        )
        .status,
        200
    );
    let f = http
        .post_json(
            &a("faults"),
            None,
            &json!({"route": "entra_v2", "kind": "status", "status": 503, "times": 2}),
        )
        .json();
    assert!(f["id"].is_u64());
    assert_eq!(http.get(&a("faults")).json().as_array().unwrap().len(), 1);
    assert_eq!(http.delete(&a("faults")).status, 200);
    let k = http
        .post_json(
            &a("knobs"),
            None,
            &json!({"key_lifetime_days": 90, "rate_limit": {"max_requests": 5, "window_secs": 60}}),
        )
        .json();
    assert_eq!(k["key_lifetime_days"], 90);
    assert_eq!(emu.knobs().rate_limit.unwrap().max_requests, 5);
    assert_eq!(
        http.post_json(&a("knobs"), None, &json!({"no_such_knob": 1}))
            .status,
        400
    );
    assert_eq!(
        http.post_json(&a("knobs"), None, &json!({"key_lifetime_days": "x"}))
            .status,
        400
    );
    let s = http.get(&a("stats")).json();
    assert!(s["connections_opened"].as_u64().unwrap() >= 1);
    assert!(http.get(&a("jwks")).json()["keys"][0]["n"].is_string());
    assert!(http.get(&a("requests")).json().is_array());
    assert_eq!(http.delete(&a("requests")).status, 200);
    assert_eq!(http.get(&a("nope")).status, 404);
    assert_eq!(http.post_raw(&a("apps"), None, "{bad", &[]).status, 400);
    let recs = http
        .get(&format!("{}?user={user}", a("recurrences")))
        .json();
    assert_eq!(recs.as_array().unwrap().len(), 1);
}

#[test]
fn keep_alive_and_shutdown_do_not_hang() {
    let w = World::new();
    for _ in 0..5 {
        assert_eq!(w.v8(json!({})).status, 200);
    }
    assert_eq!(
        w.emu.connections_opened(),
        1,
        "keep-alive reuses one connection"
    );
    let mut emu = Emulator::start(EmulatorConfig::default()).unwrap();
    // An idle open connection must not block shutdown.
    let _idle = std::net::TcpStream::connect(emu.addr()).unwrap();
    let t = Instant::now();
    emu.shutdown();
    emu.shutdown();
    assert!(t.elapsed() < Duration::from_secs(2));
    assert!(Emulator::start(EmulatorConfig {
        host: "10.1.2.3".into(),
        ..Default::default()
    })
    .is_err());
}
