//! Service tokens and Store ID keys against the emulator over loopback HTTP.

use crate::common;

use common::World;
use msstore::claims::{
    AUDIENCE_COLLECTIONS_KEY_CREATE, AUDIENCE_PURCHASE_KEY_CREATE, AUDIENCE_SERVICE,
};
use msstore::{Audience, Client, EntraVersion, ErrorKind, KeyKind, StoreIdKey};
use msstore_emulator::{FaultKind, KeyKind as EmuKeyKind};
use std::time::{Duration, Instant};

#[test]
fn cold_start_with_200_concurrent_callers_sends_one_token_request_per_audience() {
    let w = World::new();
    let client = w.client();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let tokens = rt.block_on(async {
        let mut tasks = Vec::new();
        for i in 0..200 {
            let c = client.clone();
            let audience = Audience::ALL[i % 3];
            tasks.push(tokio::spawn(async move { c.access_token(audience).await }));
        }
        let mut out = Vec::new();
        for t in tasks {
            out.push(t.await.unwrap().unwrap());
        }
        out
    });
    assert_eq!(tokens.len(), 200);
    for aud in [
        AUDIENCE_SERVICE,
        AUDIENCE_COLLECTIONS_KEY_CREATE,
        AUDIENCE_PURCHASE_KEY_CREATE,
    ] {
        assert_eq!(w.emu.token_requests_for(aud), 1, "token requests for {aud}");
    }
    // All callers of one audience got the same token.
    let service: Vec<_> = tokens
        .iter()
        .filter(|t| t.audience == Audience::Service)
        .map(|t| t.token.expose().to_string())
        .collect();
    assert!(service.windows(2).all(|p| p[0] == p[1]));
    assert_eq!(client.token_requests_sent(), 3);
}

#[test]
fn entra_v1_and_v2_both_work() {
    let w = World::new();
    for (version, route) in [
        (EntraVersion::V1, "entra_v1"),
        (EntraVersion::V2, "entra_v2"),
    ] {
        let c = w.client_with(|c| c.entra_version = version);
        let t = c
            .block_on(c.access_token(Audience::Service))
            .unwrap()
            .unwrap();
        assert!(t.expires_in() > Duration::from_secs(3000));
        assert_eq!(w.statuses(route), vec![200], "{route}");
    }
}

#[test]
fn entra_errors_carry_error_code_and_correlation_and_are_not_retried() {
    let w = World::new();
    let c = w.client_with(|c| c.client_secret = "wrong-secret".into());
    let e = c
        .block_on(c.access_token(Audience::Service))
        .unwrap()
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::EntraAuth);
    assert_eq!(e.http_status, Some(401));
    assert_eq!(e.inner_code.as_deref(), Some("AADSTS7000215"));
    let entra = e.entra.clone().unwrap();
    assert_eq!(entra.error, "invalid_client");
    assert!(entra.correlation_id.is_some());
    assert!(!format!("{e} {e:?}").contains("wrong-secret"));
    assert_eq!(
        w.emu.token_requests_for(AUDIENCE_SERVICE),
        1,
        "401 must not be retried"
    );

    let c = w.client_with(|c| c.tenant_id = "00000000-0000-0000-0000-00000000dead".into());
    let e = c
        .block_on(c.access_token(Audience::Service))
        .unwrap()
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::EntraAuth);
    assert_eq!(e.inner_code.as_deref(), Some("AADSTS90002"));
    assert_eq!(e.http_status, Some(400));
}

#[test]
fn entra_outage_is_retried_with_backoff() {
    let w = World::new();
    w.fault("entra_v2", FaultKind::Status { status: 503 }, 2);
    let c = w.client();
    c.block_on(c.access_token(Audience::Service))
        .unwrap()
        .unwrap();
    assert_eq!(w.statuses("entra_v2"), vec![503, 503, 200]);
}

#[test]
fn throttled_token_request_waits_out_retry_after() {
    let w = World::new();
    w.fault(
        "entra_v2",
        FaultKind::Throttle {
            retry_after_secs: 1,
        },
        1,
    );
    let c = w.client();
    let started = Instant::now();
    c.block_on(c.access_token(Audience::Service))
        .unwrap()
        .unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "waited {:?}",
        started.elapsed()
    );
    assert_eq!(w.statuses("entra_v2"), vec![429, 200]);
}

#[test]
fn expired_service_token_is_refreshed_once_on_401() {
    let w = World::new();
    let c = w.client();
    let q = || {
        msstore::QueryV9Request::new(
            &w.seed.collections_key,
            vec![msstore::ProductSkuId::product(&w.seed.durable_product_id)],
        )
    };
    c.block_on(c.query_v9(q())).unwrap().unwrap();
    // The emulator's clock moves 2 hours: our cached token is now expired there (its clock is
    // the authority), though still fresh by ours.
    w.emu.advance(Duration::from_secs(7200));
    let r = c.block_on(c.query_v9(q())).unwrap().unwrap();
    assert_eq!(r.items.len(), 1);
    assert_eq!(w.statuses("collections_v9_query"), vec![200, 401, 200]);
    assert_eq!(w.emu.token_requests_for(AUDIENCE_SERVICE), 2);
}

#[test]
fn key_decode_and_renew_at_the_configured_host() {
    let w = World::new();
    let c = w.client();
    let old = StoreIdKey::decode(&w.seed.collections_key).unwrap();
    assert_eq!(old.kind, KeyKind::Collections);
    assert_eq!(
        old.user_id.as_deref(),
        Some(w.seed.publisher_user_id.as_str())
    );
    assert!(msstore::claims::client_ids_match(
        &old.client_id,
        &w.seed.client_id
    ));
    // The key's own claim points at Microsoft's host, which is unreachable here: renewal must
    // go to the configured (emulator) host anyway.
    assert!(old
        .refresh_uri
        .as_deref()
        .unwrap()
        .starts_with("https://collections.mp.microsoft.com/"));
    w.emu.advance(Duration::from_secs(3600));
    let renewed = c
        .block_on(c.renew_key(&w.seed.collections_key))
        .unwrap()
        .unwrap();
    assert_eq!(renewed.decoded.kind, KeyKind::Collections);
    assert_eq!(renewed.decoded.user_id, old.user_id);
    assert!(renewed.decoded.issued_at > old.issued_at);
    assert_eq!(w.statuses("keys_renew_collections"), vec![200]);
    assert!(w
        .emu
        .requests()
        .iter()
        .all(|r| !r.body.contains(&w.seed.collections_key)));

    let renewed = c
        .block_on(c.renew_key(&w.seed.purchase_key))
        .unwrap()
        .unwrap();
    assert_eq!(renewed.decoded.kind, KeyKind::Purchase);
    assert_eq!(w.statuses("keys_renew_purchase"), vec![200]);
}

#[test]
fn revoked_expired_or_stale_keys_must_be_reminted() {
    let w = World::new();
    let c = w.client();
    // Revoked.
    w.emu.revoke_key(&w.seed.collections_key);
    let e = c
        .block_on(c.renew_key(&w.seed.collections_key))
        .unwrap()
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::KeyMustBeReminted, "{e}");
    assert_eq!(e.inner_code.as_deref(), Some("AuthenticationTokenInvalid"));
    assert_eq!(e.http_status, Some(401));
    // Older than the 14-day signing window (but not expired).
    w.emu.advance(Duration::from_secs(15 * 86_400));
    let e = c
        .block_on(c.renew_key(&w.seed.purchase_key))
        .unwrap()
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::KeyMustBeReminted);
    // Expired.
    let fresh = w
        .emu
        .mint_key_for_app(
            &w.seed.tenant_id,
            &w.seed.client_id,
            EmuKeyKind::Purchase,
            "p2",
            &w.seed.store_user_id,
        )
        .unwrap();
    w.emu.advance(Duration::from_secs(31 * 86_400));
    let e = c.block_on(c.renew_key(&fresh)).unwrap().unwrap_err();
    assert_eq!(e.kind, ErrorKind::KeyMustBeReminted);
}

#[test]
fn key_minted_for_another_app_is_a_client_id_mismatch() {
    let w = World::new();
    w.emu.add_app(
        &w.seed.tenant_id,
        "11111111-2222-3333-4444-555555555555",
        "other-secret",
    );
    let foreign = w
        .emu
        .mint_key_for_app(
            &w.seed.tenant_id,
            "11111111-2222-3333-4444-555555555555",
            EmuKeyKind::Collections,
            "p",
            &w.seed.store_user_id,
        )
        .unwrap();
    let c = w.client();
    let e = c.block_on(c.renew_key(&foreign)).unwrap().unwrap_err();
    assert_eq!(e.kind, ErrorKind::ClientIdMismatch);
    assert_eq!(e.inner_code.as_deref(), Some("InconsistentClientId"));
    let e = c
        .block_on(c.query_v9(msstore::QueryV9Request::new(
            &foreign,
            vec![msstore::ProductSkuId::product(&w.seed.durable_product_id)],
        )))
        .unwrap()
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::ClientIdMismatch);
}

#[test]
fn malformed_key_is_refused_before_the_network() {
    let w = World::new();
    let c = w.client();
    let e = c.block_on(c.renew_key("not.a-key")).unwrap().unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidKey);
    assert!(w.emu.requests().is_empty());
}

#[test]
fn secrets_never_reach_debug_or_errors_or_logs() {
    use std::sync::{Arc, Mutex};
    let w = World::new();
    let logs = Arc::new(Mutex::new(String::new()));
    let sink = logs.clone();
    msstore::log::set_sink(
        Some(Arc::new(move |_, target: &str, msg: &str| {
            sink.lock().unwrap().push_str(&format!("{target}: {msg}\n"));
        })),
        msstore::log::Level::Trace,
    );
    let c = w.client();
    w.fault("entra_v2", FaultKind::Status { status: 500 }, 1);
    let token = c
        .block_on(c.access_token(Audience::Service))
        .unwrap()
        .unwrap();
    let bad = Client::new(w.config()).unwrap();
    let _ = bad.block_on(bad.renew_key(&w.seed.collections_key));
    let debug = format!(
        "{c:?} {token:?} {:?}",
        StoreIdKey::decode(&w.seed.collections_key).unwrap()
    );
    msstore::log::set_sink(None, msstore::log::Level::Info);
    let logs = logs.lock().unwrap().clone();
    assert!(logs.contains("retrying"), "the retry was logged: {logs}");
    for secret in [
        w.seed.client_secret.as_str(),
        token.token.expose(),
        w.seed.collections_key.as_str(),
    ] {
        assert!(!debug.contains(secret));
        assert!(!logs.contains(secret));
    }
}

#[test]
fn tokens_are_refreshed_ahead_of_expiry() {
    let w = World::new();
    w.emu.update_knobs(|k| k.token_lifetime_secs = 60);
    let c = w.client_with(|c| c.token_refresh_margin = Duration::from_secs(59));
    let first = c
        .block_on(c.access_token(Audience::Service))
        .unwrap()
        .unwrap();
    let cached = c
        .block_on(c.access_token(Audience::Service))
        .unwrap()
        .unwrap();
    assert_eq!(first.token.expose(), cached.token.expose());
    assert_eq!(w.emu.token_requests_for(AUDIENCE_SERVICE), 1);
    // Past lifetime - margin (1 s), but long before expiry: a new token is fetched.
    std::thread::sleep(Duration::from_millis(1100));
    let refreshed = c
        .block_on(c.access_token(Audience::Service))
        .unwrap()
        .unwrap();
    assert_eq!(w.emu.token_requests_for(AUDIENCE_SERVICE), 2);
    assert!(refreshed.expires_at > first.expires_at);
}

#[test]
fn every_attempt_carries_its_own_correlation_vector() {
    let w = World::new();
    w.fault("entra_v2", FaultKind::Status { status: 500 }, 1);
    let c = w.client();
    c.block_on(c.access_token(Audience::Service))
        .unwrap()
        .unwrap();
    let cvs: Vec<String> = w
        .emu
        .requests()
        .into_iter()
        .filter(|r| r.route == "entra_v2")
        .map(|r| r.ms_cv)
        .collect();
    assert_eq!(cvs.len(), 2);
    // Same base vector, attempt 0 then attempt 1 (the emulator may extend it).
    let base = |cv: &str| cv.split('.').next().unwrap_or_default().to_string();
    assert_eq!(base(&cvs[0]), base(&cvs[1]));
    assert_ne!(cvs[0], cvs[1]);
    assert_eq!(base(&cvs[0]).len(), 16);
}
