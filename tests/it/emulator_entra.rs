//! Entra v1/v2 token endpoint: shapes, errors, request log.
use crate::emulator_support;

use emulator_support::*;
use msstore::time::Timestamp;
use msstore_emulator::{Emulator, EmulatorConfig};
use serde_json::Value;

const TENANT: &str = "11111111-2222-3333-4444-555555555555";
const CLIENT: &str = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";
const SECRET: &str = "s3cr~et.with_%+chars";

fn setup() -> (Emulator, Http) {
    let emu = Emulator::start(EmulatorConfig::default()).unwrap();
    emu.add_app(TENANT, CLIENT, SECRET);
    (emu, Http::new())
}

fn v1(emu: &Emulator, http: &Http, form: &[(&str, &str)]) -> Resp {
    http.post_form(
        &format!("{}/{TENANT}/oauth2/token", emu.login_base_url()),
        form,
    )
}

fn v2(emu: &Emulator, http: &Http, form: &[(&str, &str)]) -> Resp {
    http.post_form(
        &format!("{}/{TENANT}/oauth2/v2.0/token", emu.login_base_url()),
        form,
    )
}

#[test]
fn v1_returns_string_values_and_a_verifiable_token() {
    let (emu, http) = setup();
    let r = v1(
        &emu,
        &http,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", CLIENT),
            ("client_secret", SECRET),
            ("resource", SERVICE_AUD),
        ],
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let j = r.json();
    for f in [
        "token_type",
        "expires_in",
        "ext_expires_in",
        "expires_on",
        "not_before",
        "resource",
        "access_token",
    ] {
        assert!(j[f].is_string(), "{f} must be a string: {j}");
    }
    assert_eq!(j["expires_in"], "3599");
    assert_eq!(j["resource"], SERVICE_AUD);
    let now = emu.now().unix_seconds();
    let on: i64 = j["expires_on"].as_str().unwrap().parse().unwrap();
    assert!((on - now - 3599).abs() <= 2);
    let d = msstore::jwt::decode(j["access_token"].as_str().unwrap()).unwrap();
    assert_eq!(d.header["alg"], "RS256");
    assert_eq!(d.claims["aud"], SERVICE_AUD);
    assert_eq!(d.claims["appid"], CLIENT);
    assert_eq!(d.claims["tid"], TENANT);
    assert_eq!(
        d.claims["iss"],
        format!("https://sts.windows.net/{TENANT}/")
    );
    assert_eq!(d.claims["ver"], "1.0");
    for c in ["iat", "nbf", "exp", "oid", "sub", "appidacr"] {
        assert!(d.claims.contains_key(c), "{c}");
    }
    assert!(
        r.header("ms-cv").is_some()
            && r.header("date").is_some()
            && r.header("ms-requestid").is_some()
    );
}

#[test]
fn v2_returns_numbers_and_no_resource() {
    let (emu, http) = setup();
    let scope = format!("{SERVICE_AUD}/.default");
    let r = v2(
        &emu,
        &http,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", CLIENT),
            ("client_secret", SECRET),
            ("scope", &scope),
        ],
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let j = r.json();
    assert_eq!(j["expires_in"], 3599);
    assert!(j["ext_expires_in"].is_number());
    assert!(j.get("resource").is_none() && j.get("expires_on").is_none());
    assert_eq!(emu.token_requests_for(SERVICE_AUD), 1);
    assert_eq!(emu.count_requests("entra_v2"), 1);
    let logged = &emu.requests()[0];
    assert!(
        !logged.body.contains(SECRET) && !logged.body.contains("s3cr"),
        "secret leaked: {}",
        logged.body
    );
    assert_eq!(logged.audience.as_deref(), Some(SERVICE_AUD));
}

fn assert_entra_error(r: &Resp, status: u16, error: &str, code: i64) {
    assert_eq!(r.status, status, "{}", r.text);
    let j = r.json();
    assert_eq!(j["error"], error, "{j}");
    assert_eq!(j["error_codes"][0], code);
    let desc = j["error_description"].as_str().unwrap();
    assert!(desc.starts_with(&format!("AADSTS{code}:")), "{desc}");
    assert!(
        desc.contains("\r\nTrace ID: ")
            && desc.contains("\r\nCorrelation ID: ")
            && desc.contains("\r\nTimestamp: ")
    );
    let ts = j["timestamp"].as_str().unwrap();
    assert_eq!(&ts[10..11], " ", "space-separated timestamp: {ts}");
    assert!(j["trace_id"].is_string() && j["correlation_id"].is_string());
    assert_eq!(
        j["error_uri"],
        format!("https://login.microsoftonline.com/error?code={code}")
    );
}

#[test]
fn entra_errors() {
    let (emu, http) = setup();
    let ok = [
        ("grant_type", "client_credentials"),
        ("client_id", CLIENT),
        ("client_secret", SECRET),
        ("resource", SERVICE_AUD),
    ];
    let with = |k: &str, v: &str| -> Vec<(String, String)> {
        ok.iter()
            .map(|(a, b)| {
                if *a == k {
                    (a.to_string(), v.to_string())
                } else {
                    (a.to_string(), b.to_string())
                }
            })
            .collect()
    };
    let send1 = |f: Vec<(String, String)>| {
        let f: Vec<(&str, &str)> = f.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        v1(&emu, &http, &f)
    };
    let r = http.post_form(
        &format!("{}/unknown-tenant/oauth2/token", emu.login_base_url()),
        &ok,
    );
    assert_entra_error(&r, 400, "invalid_request", 90002);
    assert_entra_error(
        &send1(with("client_id", "00000000-0000-0000-0000-000000000000")),
        400,
        "unauthorized_client",
        700016,
    );
    assert_entra_error(
        &send1(with("client_secret", "wrong")),
        401,
        "invalid_client",
        7000215,
    );
    assert_entra_error(
        &send1(with("resource", "https://example.com")),
        400,
        "invalid_resource",
        500011,
    );
    assert_entra_error(
        &send1(with("grant_type", "password")),
        400,
        "unsupported_grant_type",
        70003,
    );
    let missing: Vec<(&str, &str)> = ok
        .iter()
        .filter(|(k, _)| *k != "client_id")
        .cloned()
        .collect();
    assert_entra_error(&v1(&emu, &http, &missing), 400, "invalid_request", 900144);
    // v2: scope must end with /.default
    let r = v2(
        &emu,
        &http,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", CLIENT),
            ("client_secret", SECRET),
            ("scope", SERVICE_AUD),
        ],
    );
    assert_entra_error(&r, 400, "invalid_scope", 70011);
    let r = v2(
        &emu,
        &http,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", CLIENT),
            ("client_secret", SECRET),
            ("scope", "https://graph.microsoft.com/.default"),
        ],
    );
    assert_entra_error(&r, 400, "invalid_scope", 500011);
}

#[test]
fn expired_secret_is_7000222() {
    let (emu, http) = setup();
    let t2 = "22222222-2222-3333-4444-555555555555";
    emu.add_app_with_expiring_secret(t2, CLIENT, "old", emu.now().add_secs(60));
    let url = format!("{}/{t2}/oauth2/token", emu.login_base_url());
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", CLIENT),
        ("client_secret", "old"),
        ("resource", SERVICE_AUD),
    ];
    assert_eq!(http.post_form(&url, &form).status, 200);
    emu.advance(std::time::Duration::from_secs(120));
    assert_entra_error(&http.post_form(&url, &form), 401, "invalid_client", 7000222);
    let _ = Timestamp::now();
}

#[test]
fn token_requests_are_counted_per_audience() {
    let (emu, http) = setup();
    for aud in [
        SERVICE_AUD,
        "https://onestore.microsoft.com/b2b/keys/create/collections",
        "https://onestore.microsoft.com/b2b/keys/create/purchase",
    ] {
        let scope = format!("{aud}/.default");
        let r = v2(
            &emu,
            &http,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", CLIENT),
                ("client_secret", SECRET),
                ("scope", &scope),
            ],
        );
        assert_eq!(r.status, 200);
        let d = msstore::jwt::decode(r.json()["access_token"].as_str().unwrap()).unwrap();
        assert_eq!(d.claims["aud"], Value::from(aud));
        assert_eq!(emu.token_requests_for(aud), 1);
    }
    assert_eq!(emu.token_requests_for(SERVICE_AUD), 1);
}
