//! Store-route authentication (401 variants) and Store ID key mint/renew/revoke/expiry.
use crate::emulator_support;

use emulator_support::*;
use msstore_emulator::{EmuError, KeyKind};
use serde_json::json;
use std::time::Duration;

const DAY: u64 = 86_400;

fn v9_body(w: &World, key: &str) -> serde_json::Value {
    json!({"beneficiaries":[{"identityType":"b2b","identityValue":key,"localTicketReference":""}],
           "productSkuIds":[{"productId": w.seed.durable_product_id}]})
}

#[test]
fn store_route_401_variants() {
    let w = World::new();
    let url = w.coll("v9.0/collections/publisherQuery");
    let body = v9_body(&w, &w.seed.collections_key);
    let ok = w.http.post_json(&url, Some(&w.token), &body);
    assert_eq!(ok.status, 200, "{}", ok.text);

    let r = w.http.post_json(&url, None, &body);
    assert_eq!(
        (
            r.status,
            r.json()["code"].as_str().unwrap().to_string(),
            r.inner()
        ),
        (
            401,
            "Unauthorized".into(),
            "PartnerAadTicketRequired".into()
        )
    );
    let r = w.http.post_raw(
        &url,
        None,
        &body.to_string(),
        &[("Authorization", &format!("Basic {}", w.token))],
    );
    assert_eq!(r.inner(), "PartnerAadTicketRequired");

    // Tampered signature.
    let mut bad = w.token.clone();
    bad.pop();
    bad.push(if w.token.ends_with('A') { 'B' } else { 'A' });
    let r = w.http.post_json(&url, Some(&bad), &body);
    assert_eq!(
        (r.status, r.inner()),
        (401, "AuthenticationTokenInvalid".into())
    );
    // Wrong audience (key-create token used as bearer).
    let kc = w.emu.issue_token(
        &w.seed.tenant_id,
        &w.seed.client_id,
        "https://onestore.microsoft.com/b2b/keys/create/collections",
    );
    assert_eq!(
        w.http.post_json(&url, Some(&kc), &body).inner(),
        "AuthenticationTokenInvalid"
    );
    // Unknown tenant.
    let t = w.emu.issue_token(
        "99999999-0000-0000-0000-000000000000",
        &w.seed.client_id,
        SERVICE_AUD,
    );
    assert_eq!(
        w.http.post_json(&url, Some(&t), &body).inner(),
        "AuthenticationTokenInvalid"
    );
    // Key minted for another app → InconsistentClientId.
    w.emu.add_app(
        &w.seed.tenant_id,
        "cccccccc-0000-0000-0000-000000000000",
        "x",
    );
    let other = w
        .emu
        .mint_key_for_app(
            &w.seed.tenant_id,
            "cccccccc-0000-0000-0000-000000000000",
            KeyKind::Collections,
            "p",
            &w.seed.store_user_id,
        )
        .unwrap();
    let r = w.http.post_json(&url, Some(&w.token), &v9_body(&w, &other));
    assert_eq!((r.status, r.inner()), (401, "InconsistentClientId".into()));
    // Dashless upper-case client id in the key still matches.
    let dashless = w.seed.client_id.replace('-', "").to_uppercase();
    let k = w
        .emu
        .mint_key(
            KeyKind::Collections,
            &w.emu.issue_token(
                &w.seed.tenant_id,
                &dashless,
                "https://onestore.microsoft.com/b2b/keys/create/collections",
            ),
            "p",
            &w.seed.store_user_id,
        )
        .unwrap();
    assert_eq!(
        w.http
            .post_json(&url, Some(&w.token), &v9_body(&w, &k))
            .status,
        200
    );
    // Purchase key on a collections route.
    assert_eq!(
        w.http
            .post_json(&url, Some(&w.token), &v9_body(&w, &w.seed.purchase_key))
            .inner(),
        "AuthenticationTokenInvalid"
    );
    // Token expiry on the virtual clock.
    w.emu.advance(Duration::from_secs(3600));
    let r = w.http.post_json(&url, Some(&w.token), &body);
    assert_eq!(
        (r.status, r.inner()),
        (401, "AuthenticationTokenInvalid".into())
    );
    // ServiceError body shape.
    let j = r.json();
    assert!(j["message"].is_string() && j["innererror"]["message"].is_string());
}

#[test]
fn mint_checks_the_key_create_audience_and_key_claims() {
    let w = World::new();
    let svc = w.token.clone();
    assert!(matches!(
        w.emu.mint_key(KeyKind::Collections, &svc, "p", "u"),
        Err(EmuError::WrongAudience(_))
    ));
    assert!(matches!(
        w.emu.mint_key(KeyKind::Collections, "garbage", "p", "u"),
        Err(EmuError::InvalidToken(_))
    ));
    let pc = w.emu.issue_token(
        &w.seed.tenant_id,
        &w.seed.client_id,
        "https://onestore.microsoft.com/b2b/keys/create/purchase",
    );
    assert!(w.emu.mint_key(KeyKind::Collections, &pc, "p", "u").is_err());
    let key = w
        .emu
        .mint_key(KeyKind::Purchase, &pc, "player-1", "u")
        .unwrap();
    let d = msstore::jwt::decode(&key).unwrap();
    let c = |n: &str| {
        d.claims[&format!("http://schemas.microsoft.com/marketplace/2015/08/claims/key/{n}")]
            .clone()
    };
    assert_eq!(c("clientId"), w.seed.client_id.as_str());
    assert_eq!(c("userId"), "player-1");
    assert_eq!(
        c("refreshUri"),
        "https://purchase.mp.microsoft.com/v6.0/b2b/keys/renew"
    );
    assert!(c("payload").as_str().is_some_and(|p| !p.is_empty()));
    let iat = d.claims["iat"].as_i64().unwrap();
    assert_eq!(d.claims["nbf"].as_i64().unwrap(), iat - 3600);
    assert_eq!(d.claims["exp"].as_i64().unwrap(), iat + 30 * 86_400);
    assert_eq!(
        d.claims["aud"],
        "https://purchase.mp.microsoft.com/v6.0/keys"
    );
    assert_eq!(d.claims["iss"], d.claims["aud"]);
    assert!(d.header.contains_key("x5t"));
    w.emu.update_knobs(|k| k.key_lifetime_days = 90);
    let k90 = w
        .emu
        .mint_key(KeyKind::Purchase, &pc, "player-1", "u")
        .unwrap();
    let d = msstore::jwt::decode(&k90).unwrap();
    assert_eq!(
        d.claims["exp"].as_i64().unwrap() - d.claims["iat"].as_i64().unwrap(),
        90 * 86_400
    );
}

fn renew(w: &World, host: &str, key: &str, key_field: &str) -> Resp {
    let url = format!("{}/{host}/v6.0/b2b/keys/renew", w.emu.base_url());
    w.http.post_json(
        &url,
        None,
        &json!({"serviceTicket": w.token, key_field: key}),
    )
}

#[test]
fn renewal_rules() {
    let w = World::new();
    let r = renew(&w, "collections", &w.seed.collections_key, "key");
    assert_eq!(r.status, 200, "{}", r.text);
    let new_key = r.json()["key"].as_str().unwrap().to_string();
    assert_eq!(r.json().as_object().unwrap().len(), 1);
    let (a, b) = (
        msstore::jwt::decode(&w.seed.collections_key).unwrap(),
        msstore::jwt::decode(&new_key).unwrap(),
    );
    for c in ["clientId", "userId", "payload"] {
        let n = format!("http://schemas.microsoft.com/marketplace/2015/08/claims/key/{c}");
        assert_eq!(a.claims[&n], b.claims[&n]);
    }
    // `Key` casing accepted; purchase key at purchase host.
    assert_eq!(
        renew(&w, "purchase", &w.seed.purchase_key, "Key").status,
        200
    );
    // Wrong host for the key kind.
    let r = renew(&w, "purchase", &w.seed.collections_key, "key");
    assert_eq!(
        (r.status, r.inner()),
        (401, "AuthenticationTokenInvalid".into())
    );
    // Missing field → 400.
    let url = format!("{}/collections/v6.0/b2b/keys/renew", w.emu.base_url());
    let r = w
        .http
        .post_json(&url, None, &json!({"serviceTicket": w.token}));
    assert_eq!((r.status, r.inner()), (400, "InvalidParameter".into()));
    assert!(r.json()["message"].as_str().unwrap().contains("key"));
    // Bad ticket.
    let r = w.http.post_json(
        &url,
        None,
        &json!({"serviceTicket": "x.y.z", "key": w.seed.collections_key}),
    );
    assert_eq!(r.inner(), "AuthenticationTokenInvalid");
    // Other app's ticket → InconsistentClientId.
    w.emu.add_app(
        &w.seed.tenant_id,
        "dddddddd-0000-0000-0000-000000000000",
        "x",
    );
    let t2 = w.emu.issue_token(
        &w.seed.tenant_id,
        "dddddddd-0000-0000-0000-000000000000",
        SERVICE_AUD,
    );
    let r = w.http.post_json(
        &url,
        None,
        &json!({"serviceTicket": t2, "key": w.seed.collections_key}),
    );
    assert_eq!(r.inner(), "InconsistentClientId");
    assert_eq!(w.emu.count_requests("keys_renew_collections"), 4);
    assert_eq!(w.emu.count_requests("keys_renew_purchase"), 2);
    assert!(w
        .emu
        .requests()
        .iter()
        .all(|r| !r.body.contains(&w.seed.collections_key) && !r.body.contains(&w.token)));
}

#[test]
fn fourteen_day_rule_expiry_and_2016_knob() {
    let w = World::new();
    w.emu.advance(Duration::from_secs(13 * DAY));
    let w_token = w
        .emu
        .issue_token(&w.seed.tenant_id, &w.seed.client_id, SERVICE_AUD);
    let url = format!("{}/collections/v6.0/b2b/keys/renew", w.emu.base_url());
    let body = json!({"serviceTicket": w_token, "key": w.seed.collections_key});
    assert_eq!(w.http.post_json(&url, None, &body).status, 200);
    w.emu.advance(Duration::from_secs(2 * DAY));
    let w_token = w
        .emu
        .issue_token(&w.seed.tenant_id, &w.seed.client_id, SERVICE_AUD);
    let body = json!({"serviceTicket": w_token, "key": w.seed.collections_key});
    assert_eq!(
        w.http.post_json(&url, None, &body).inner(),
        "AuthenticationTokenInvalid"
    );
    w.emu.update_knobs(|k| k.enforce_signing_generation = false);
    assert_eq!(w.http.post_json(&url, None, &body).status, 200);
    // Past exp (30 d): refused, and refused on store routes; allowed with the 2016 knob.
    w.emu.advance(Duration::from_secs(16 * DAY));
    let w_token = w
        .emu
        .issue_token(&w.seed.tenant_id, &w.seed.client_id, SERVICE_AUD);
    let body = json!({"serviceTicket": w_token, "key": w.seed.collections_key});
    assert_eq!(
        w.http.post_json(&url, None, &body).inner(),
        "AuthenticationTokenInvalid"
    );
    let q = w.http.post_json(
        &w.coll("v9.0/collections/publisherQuery"),
        Some(&w_token),
        &v9_body(&w, &w.seed.collections_key),
    );
    assert_eq!(q.inner(), "AuthenticationTokenInvalid");
    w.emu.update_knobs(|k| k.allow_expired_key_renewal = true);
    let r = w.http.post_json(&url, None, &body);
    assert_eq!(r.status, 200);
    let fresh = r.json()["key"].as_str().unwrap().to_string();
    assert_eq!(
        w.http
            .post_json(
                &w.coll("v9.0/collections/publisherQuery"),
                Some(&w_token),
                &v9_body(&w, &fresh)
            )
            .status,
        200
    );
}

#[test]
fn revocation() {
    let w = World::new();
    let url = w.coll("v9.0/collections/publisherQuery");
    let spare = w
        .emu
        .mint_key_for_app(
            &w.seed.tenant_id,
            &w.seed.client_id,
            KeyKind::Collections,
            "p",
            &w.seed.store_user_id,
        )
        .unwrap();
    assert!(w.emu.revoke_key(&w.seed.collections_key));
    assert_eq!(
        w.http
            .post_json(&url, Some(&w.token), &v9_body(&w, &w.seed.collections_key))
            .inner(),
        "AuthenticationTokenInvalid"
    );
    assert_eq!(
        renew(&w, "collections", &w.seed.collections_key, "key").inner(),
        "AuthenticationTokenInvalid"
    );
    assert_eq!(
        w.http
            .post_json(&url, Some(&w.token), &v9_body(&w, &spare))
            .status,
        200
    );
    w.emu.revoke_user_keys(&w.seed.store_user_id);
    assert_eq!(
        w.http
            .post_json(&url, Some(&w.token), &v9_body(&w, &spare))
            .inner(),
        "AuthenticationTokenInvalid"
    );
    let fresh = w
        .emu
        .mint_key_for_app(
            &w.seed.tenant_id,
            &w.seed.client_id,
            KeyKind::Collections,
            "p",
            &w.seed.store_user_id,
        )
        .unwrap();
    assert_eq!(
        w.http
            .post_json(&url, Some(&w.token), &v9_body(&w, &fresh))
            .status,
        200
    );
}
