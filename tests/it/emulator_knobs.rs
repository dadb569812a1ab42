//! Knobs: alg_none_tokens, state_lag_secs, dev_sandbox_catalog_missing,
//! entra_numbers_as_strings_v2, extra_response_fields.
use crate::emulator_support;

use emulator_support::*;
use serde_json::{json, Value};
use std::time::Duration;

fn v2_token(w: &World) -> Resp {
    let url = format!(
        "{}/{}/oauth2/v2.0/token",
        w.emu.login_base_url(),
        w.seed.tenant_id
    );
    w.http.post_form(
        &url,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &w.seed.client_id),
            ("client_secret", &w.seed.client_secret),
            ("scope", "https://onestore.microsoft.com/.default"),
        ],
    )
}

fn v9_with(w: &World, token: &str) -> Resp {
    let body = json!({"beneficiaries": w.beneficiaries(),
        "productSkuIds": [{"productId": w.seed.durable_product_id}]});
    w.http.post_json(
        &w.coll("v9.0/collections/publisherQuery"),
        Some(token),
        &body,
    )
}

#[test]
fn alg_none_tokens_are_issued_and_accepted_only_under_the_knob() {
    let w = World::new();
    w.emu.update_knobs(|k| k.alg_none_tokens = true);
    let r = v2_token(&w);
    assert_eq!(r.status, 200, "{}", r.text);
    let tok = r.json()["access_token"].as_str().unwrap().to_string();
    assert!(
        tok.ends_with('.'),
        "unsigned JWT has an empty signature: {tok}"
    );
    let d = msstore::jwt::decode(&tok).unwrap();
    assert_eq!(d.header["alg"], "none");
    assert_eq!(d.claims["appid"], w.seed.client_id.as_str());
    assert_eq!(v9_with(&w, &tok).status, 200);
    // Signed tokens keep working while the knob is on.
    assert_eq!(v9_with(&w, &w.token).status, 200);

    w.emu.update_knobs(|k| k.alg_none_tokens = false);
    let r = v9_with(&w, &tok);
    assert_eq!(r.status, 401);
    assert_eq!(r.inner(), "AuthenticationTokenInvalid");
    let signed = v2_token(&w).json()["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(!signed.ends_with('.'));
    assert_eq!(v9_with(&w, &signed).status, 200);
}

#[test]
fn entra_v2_numbers_as_strings() {
    let w = World::new();
    assert!(v2_token(&w).json()["expires_in"].is_number());
    w.emu.update_knobs(|k| k.entra_numbers_as_strings_v2 = true);
    let j = v2_token(&w).json();
    assert_eq!(j["expires_in"], "3599");
    assert_eq!(j["ext_expires_in"], "3599");
    assert!(j.get("resource").is_none());
}

#[test]
fn extra_response_fields_default_on_and_switchable() {
    let w = World::new();
    assert!(w.emu.knobs().extra_response_fields);
    let j = w.v8(json!({})).json();
    assert_eq!(j["testScenarios"], "None");
    let it = &j["items"][0];
    assert!(it["$type"].is_string(), "{it}");
    assert_eq!(it["payments"], json!([]));
    let r = w.recurrences(json!({})).json();
    assert!(r["items"][0]["$type"].is_string());

    w.emu.update_knobs(|k| k.extra_response_fields = false);
    let j = w.v8(json!({})).json();
    assert!(j.get("testScenarios").is_none());
    assert!(j["items"][0].get("$type").is_none());
    assert!(j["items"][0].get("payments").is_none());
}

fn state_of(w: &World, id: &str) -> Value {
    let j = w.recurrences(json!({})).json();
    j["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id)
        .cloned()
        .unwrap_or_else(|| panic!("no {id} in {j}"))
}

#[test]
fn state_lag_delays_the_query_but_not_the_change_response() {
    let mut w = World::new();
    let id = w.seed.recurrence_id.clone();
    w.emu.update_knobs(|k| k.state_lag_secs = 600);
    let r = w.change(&id, json!({"changeType": "Cancel"}));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["items"][0]["recurrenceState"], "Canceled");
    let seen = state_of(&w, &id);
    assert_eq!(seen["recurrenceState"], "Active");
    assert_eq!(seen["autoRenew"], true);
    // The true state is already Canceled.
    assert_eq!(
        w.emu
            .recurrence_state(&w.seed.store_user_id, &id)
            .as_deref(),
        Some("Canceled")
    );
    w.advance(Duration::from_secs(300));
    assert_eq!(state_of(&w, &id)["recurrenceState"], "Active");
    w.advance(Duration::from_secs(301));
    let seen = state_of(&w, &id);
    assert_eq!(seen["recurrenceState"], "Canceled");
    assert_eq!(seen["autoRenew"], false);

    // Without lag, changes are visible at once.
    let mut w2 = World::new();
    let id2 = w2.seed.recurrence_id.clone();
    w2.change(&id2, json!({"changeType": "ToggleAutoRenew"}));
    assert_eq!(state_of(&w2, &id2)["autoRenew"], false);
    // Pull the expiry to within 1-4 days (the Store ID keys only live 30 days).
    let r = w2.change(
        &id2,
        json!({"changeType": "Extend", "extensionTimeInDays": -27}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(state_of(&w2, &id2)["recurrenceState"], "Active");
    // Clock-driven transitions lag too: expiry with auto-renew off → Inactive, seen later.
    w2.emu.update_knobs(|k| k.state_lag_secs = 3_000);
    w2.advance(Duration::from_secs(5 * 86_400));
    assert_eq!(state_of(&w2, &id2)["recurrenceState"], "Active");
    w2.advance(Duration::from_secs(3_001));
    assert_eq!(state_of(&w2, &id2)["recurrenceState"], "Inactive");
}

#[test]
fn dev_sandbox_catalog_missing() {
    let w = World::new();
    let id = w.seed.recurrence_id.clone();
    w.emu.update_knobs(|k| k.dev_sandbox_catalog_missing = true);
    let r = w.change(
        &id,
        json!({"changeType": "ToggleAutoRenew", "sbx": "XDKS.1"}),
    );
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(
        r.json()["message"],
        "Requested catalog product data was not found"
    );
    // RETAIL (explicit or absent) is unaffected.
    let r = w.change(
        &id,
        json!({"changeType": "ToggleAutoRenew", "sbx": "RETAIL"}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    w.emu
        .update_knobs(|k| k.dev_sandbox_catalog_missing = false);
    let r = w.change(
        &id,
        json!({"changeType": "ToggleAutoRenew", "sbx": "XDKS.1"}),
    );
    assert_eq!(r.status, 404, "{}", r.text);
}

#[test]
fn new_knobs_over_the_admin_api() {
    let w = World::new();
    let url = format!("{}/admin/knobs", w.emu.base_url());
    let r = w.http.post_json(
        &url,
        None,
        &json!({"alg_none_tokens": true, "state_lag_secs": 5, "dev_sandbox_catalog_missing": true,
                "entra_numbers_as_strings_v2": true, "extra_response_fields": false}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let k = w.emu.knobs();
    assert!(k.alg_none_tokens && k.dev_sandbox_catalog_missing && k.entra_numbers_as_strings_v2);
    assert_eq!(k.state_lag_secs, 5);
    assert!(!k.extra_response_fields);
    let r = w.http.post_json(&url, None, &json!({"state_lag_secs": -1}));
    assert_eq!(r.status, 400);
}
