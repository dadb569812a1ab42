//! Credential forms end to end against the emulator: certificate assertions (v1 and v2),
//! wrong certificate, expired and replayed assertions, and nothing secret in Debug or errors.
use crate::emulator_support;

use emulator_support::Http as RawHttp;
use msstore::credential::CertificateKey;
use msstore::{
    Audience, CertificateCredential, Client, ClientConfig, Credential, EntraVersion, ErrorKind,
};
use msstore_emulator::{Emulator, EmulatorConfig};
use std::time::Duration;

const FIX: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/it/fixtures/credentials/"
);

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{FIX}{name}")).unwrap()
}

fn path(name: &str) -> String {
    format!("{FIX}{name}")
}

struct World {
    emu: Emulator,
    seed: msstore_emulator::DemoSeed,
}

/// The demo world, with the app certificate registered on the demo app.
fn world() -> World {
    let emu = Emulator::start(EmulatorConfig::default()).unwrap();
    let seed = emu.seed_demo();
    emu.add_app_certificate(&seed.tenant_id, &seed.client_id, &fixture("app_cert.pem"))
        .unwrap();
    World { emu, seed }
}

fn cert_config(w: &World, version: EntraVersion, cert: CertificateCredential) -> ClientConfig {
    let mut c = ClientConfig::new(&w.seed.tenant_id, &w.seed.client_id, "")
        .with_emulator(&w.emu.base_url());
    c.entra_version = version;
    c.retry = msstore::RetryPolicy::none();
    c.credential = Some(Credential::Certificate(cert));
    c
}

fn app_cert_from_files(key: &str) -> CertificateCredential {
    CertificateCredential {
        certificate_path: Some(path("app_chain.pem")),
        private_key_path: Some(path(key)),
        ..Default::default()
    }
}

#[test]
fn certificate_assertion_gets_tokens_on_v1_and_v2_and_calls_the_store() {
    let w = world();
    for (version, key) in [
        (EntraVersion::V2, "app_key_pkcs8.pem"),
        (EntraVersion::V1, "app_key_pkcs1.pem"),
    ] {
        let c = Client::new(cert_config(&w, version, app_cert_from_files(key))).unwrap();
        crate::common::tokens_and_a_query(&w.seed, &c);
        assert_eq!(
            c.credential_expires_at().unwrap().to_civil(),
            (2126, 11, 7, 9, 29, 5)
        );
    }
    // What went on the wire: assertion fields, never a client_secret.
    let log = w.emu.requests();
    let token_reqs: Vec<_> = log
        .iter()
        .filter(|r| r.route.starts_with("entra_"))
        .collect();
    assert_eq!(token_reqs.len(), 6);
    for r in token_reqs {
        assert_eq!(r.status, 200);
    }
}

#[test]
fn inline_pem_with_key_and_chain_in_one_text_works() {
    let w = world();
    let both = format!(
        "{}{}",
        fixture("app_chain.pem"),
        fixture("app_key_pkcs1.pem")
    );
    let cert = CertificateCredential {
        certificate_pem: Some(both),
        send_x5c: true,
        ..Default::default()
    };
    let c = Client::new(cert_config(&w, EntraVersion::V2, cert)).unwrap();
    c.block_on(c.access_token(Audience::Service))
        .unwrap()
        .unwrap();
}

#[test]
fn wrong_certificate_is_refused_with_700027_and_an_actionable_message() {
    let w = world();
    let other = CertificateCredential {
        certificate_path: Some(path("other_cert.pem")),
        private_key_path: Some(path("other_key_pkcs8.pem")),
        ..Default::default()
    };
    let c = Client::new(cert_config(&w, EntraVersion::V2, other)).unwrap();
    let e = c
        .block_on(c.access_token(Audience::Service))
        .unwrap()
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::EntraAuth);
    assert_eq!(e.inner_code.as_deref(), Some("AADSTS700027"));
    assert!(
        e.message.to_lowercase().contains("certificate"),
        "{}",
        e.message
    );
    // The key of another certificate is refused before any request.
    let mismatched = CertificateCredential {
        certificate_path: Some(path("app_cert.pem")),
        private_key_path: Some(path("other_key_pkcs8.pem")),
        ..Default::default()
    };
    let e = Client::new(cert_config(&w, EntraVersion::V2, mismatched)).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Configuration);
    assert!(e.message.contains("does not belong"), "{}", e.message);
}

#[test]
fn an_assertion_past_its_exp_is_refused() {
    let w = world();
    let c = Client::new(cert_config(
        &w,
        EntraVersion::V2,
        app_cert_from_files("app_key_pkcs8.pem"),
    ))
    .unwrap();
    // The emulator's clock (the authority) moves an hour ahead: our fresh assertion's 10-minute
    // exp is long past there.
    w.emu.advance(Duration::from_secs(3600));
    let e = c
        .block_on(c.access_token(Audience::Service))
        .unwrap()
        .unwrap_err();
    assert_eq!(e.inner_code.as_deref(), Some("AADSTS700024"), "{e}");
}

fn v2_form<'a>(w: &'a World, assertion: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("grant_type", "client_credentials"),
        ("client_id", &w.seed.client_id),
        ("scope", "https://onestore.microsoft.com/.default"),
        ("client_assertion_type", msstore::credential::JWT_BEARER),
        ("client_assertion", assertion),
    ]
}

#[test]
fn a_replayed_jti_is_refused_and_aud_must_be_the_token_endpoint() {
    let w = world();
    let key = CertificateKey::from_pem(
        fixture("app_cert.pem").as_bytes(),
        fixture("app_key_pkcs8.pem").as_bytes(),
    )
    .unwrap();
    let url = format!(
        "{}/{}/oauth2/v2.0/token",
        w.emu.login_base_url(),
        w.seed.tenant_id
    );
    let http = RawHttp::new();
    let a = key.assertion(&w.seed.client_id, &url, false).unwrap();
    assert_eq!(http.post_form(&url, &v2_form(&w, a.expose())).status, 200);
    let again = http.post_form(&url, &v2_form(&w, a.expose()));
    assert_eq!(again.status, 401);
    assert_eq!(again.json()["error_codes"][0], 700027, "{}", again.text);
    assert!(again.text.contains("jti"), "{}", again.text);
    let wrong_aud = key
        .assertion(&w.seed.client_id, "https://example.com/token", false)
        .unwrap();
    let r = http.post_form(&url, &v2_form(&w, wrong_aud.expose()));
    assert_eq!(r.json()["error_codes"][0], 700027, "{}", r.text);
    // A tampered signature.
    let mut t = a.expose().to_string();
    t.truncate(t.len() - 4);
    t.push_str("AAAA");
    let r = http.post_form(&url, &v2_form(&w, &t));
    assert_eq!(r.json()["error_codes"][0], 700027, "{}", r.text);
    assert!(r.text.contains("signature"), "{}", r.text);
}

#[test]
fn no_key_or_assertion_in_debug_errors_or_logs() {
    let w = world();
    let key_pem = fixture("app_key_pkcs8.pem");
    let cert = CertificateCredential {
        certificate_path: Some(path("app_chain.pem")),
        private_key_pem: Some(key_pem.clone().into()),
        ..Default::default()
    };
    let cfg = cert_config(&w, EntraVersion::V2, cert);
    let debug = format!("{cfg:?}");
    let key_body = key_pem.lines().nth(1).unwrap();
    assert!(!debug.contains(key_body), "{debug}");
    assert!(debug.contains("<redacted>"), "{debug}");
    // A refused assertion: the error names the code, not the assertion.
    w.emu.remove_app_certificates(&w.seed.client_id);
    let c = Client::new(cfg).unwrap();
    let e = c
        .block_on(c.access_token(Audience::Service))
        .unwrap()
        .unwrap_err();
    let text = format!("{e} {e:?}");
    assert!(!text.contains("eyJ"), "{text}");
    assert!(!text.contains(key_body), "{text}");
    // A garbage key: the message does not echo it.
    let bad = CertificateCredential {
        certificate_path: Some(path("app_cert.pem")),
        private_key_pem: Some(
            "-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWtleS1ieXRlcw==\n-----END PRIVATE KEY-----\n"
                .into(),
        ),
        ..Default::default()
    };
    let e = Client::new(cert_config(&w, EntraVersion::V2, bad)).unwrap_err();
    assert!(!format!("{e} {e:?}").contains("c2VjcmV0"), "{e}");
    // The rotation and managed-identity pieces: a previous secret, an App Service identity
    // header, and a secret file that is not UTF-8 (its bytes are not echoed).
    let mut cfg = cert_config(
        &w,
        EntraVersion::V2,
        app_cert_from_files("app_key_pkcs8.pem"),
    );
    cfg.previous_credential = Some(Credential::Secret {
        secret: "previous-secret-xyz".into(),
    });
    let mi = msstore::ManagedIdentityCredential {
        identity_header: Some("identity-header-xyz".into()),
        endpoint: Some("http://127.0.0.1:9/msi/token".into()),
        ..Default::default()
    };
    let debug = format!("{cfg:?} {:?}", Credential::ManagedIdentity(mi));
    assert!(!debug.contains("previous-secret-xyz"), "{debug}");
    assert!(!debug.contains("identity-header-xyz"), "{debug}");
    let dir = std::env::temp_dir().join(format!("msstore-sf-{}", w.emu.addr().port()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("secret");
    std::fs::write(&file, b"secret-bytes-\xff").unwrap();
    let mut cfg = ClientConfig::new(&w.seed.tenant_id, &w.seed.client_id, "")
        .with_emulator(&w.emu.base_url());
    cfg.credential = Some(Credential::SecretFile {
        path: file.display().to_string(),
    });
    let c = Client::new(cfg).unwrap();
    let e = c
        .block_on(c.access_token(Audience::Service))
        .unwrap()
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Configuration);
    assert!(!format!("{e} {e:?}").contains("secret-bytes"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn json_config_selects_a_certificate() {
    let w = world();
    let json = serde_json::json!({
        "tenant_id": w.seed.tenant_id,
        "client_id": w.seed.client_id,
        "login_base_url": w.emu.login_base_url(),
        "collections_base_url": w.emu.collections_base_url(),
        "purchase_base_url": w.emu.purchase_base_url(),
        "credential": {
            "type": "certificate",
            "certificate_path": path("app_chain.pem"),
            "private_key_path": path("app_key_pkcs8.pem"),
        }
    });
    let cfg = ClientConfig::from_json(&json.to_string()).unwrap();
    let c = Client::new(cfg).unwrap();
    c.block_on(c.access_token(Audience::Service))
        .unwrap()
        .unwrap();
    let e =
        ClientConfig::from_json(r#"{"credential":{"type":"certificate","certificate_paht":"x"}}"#)
            .unwrap_err();
    assert!(e.message.contains("certificate_paht"), "{}", e.message);
}

const ISSUER: &str = "https://oidc.aks.example/tenant/cluster/";
const SUBJECT: &str = "system:serviceaccount:games:dedicated-server";

fn federated_world() -> (World, std::path::PathBuf) {
    let w = world();
    w.emu.add_federated_credential(
        &w.seed.tenant_id,
        &w.seed.client_id,
        msstore_emulator::FederatedCredential {
            issuer: ISSUER.into(),
            subject: SUBJECT.into(),
            audience: "api://AzureADTokenExchange".into(),
        },
    );
    let dir = std::env::temp_dir().join(format!(
        "msstore-fed-{}-{}",
        std::process::id(),
        w.emu.addr().port()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    (w, dir.join("token"))
}

fn write_token(w: &World, file: &std::path::Path, subject: &str) {
    let t = w
        .emu
        .mint_federated_token(ISSUER, subject, "api://AzureADTokenExchange", 3600);
    // Written whole then renamed, as the kubelet does.
    let tmp = file.with_extension("tmp");
    std::fs::write(&tmp, t).unwrap();
    std::fs::rename(&tmp, file).unwrap();
}

#[test]
fn federated_token_file_is_re_read_at_each_fetch() {
    let (w, file) = federated_world();
    write_token(&w, &file, SUBJECT);
    let mut cfg = ClientConfig::new(&w.seed.tenant_id, &w.seed.client_id, "")
        .with_emulator(&w.emu.base_url());
    cfg.retry = msstore::RetryPolicy::none();
    cfg.credential = Some(Credential::FederatedTokenFile {
        path: file.display().to_string(),
    });
    let c = Client::new(cfg.clone()).unwrap();
    c.block_on(c.access_token(Audience::Service))
        .unwrap()
        .unwrap();
    // The file changes between fetches: the next fetch presents the new content.
    write_token(&w, &file, "system:serviceaccount:games:someone-else");
    let e = c
        .block_on(c.access_token(Audience::CollectionsKeyCreate))
        .unwrap()
        .unwrap_err();
    assert_eq!(e.inner_code.as_deref(), Some("AADSTS700213"), "{e}");
    write_token(&w, &file, SUBJECT);
    c.block_on(c.access_token(Audience::CollectionsKeyCreate))
        .unwrap()
        .unwrap();
    // A token past its exp (virtual clock) is refused.
    w.emu.advance(Duration::from_secs(2 * 3600));
    let e = c
        .block_on(c.access_token(Audience::PurchaseKeyCreate))
        .unwrap()
        .unwrap_err();
    assert_eq!(e.inner_code.as_deref(), Some("AADSTS700024"), "{e}");
    // A missing file names the path, never a token.
    std::fs::remove_file(&file).unwrap();
    let fresh = Client::new(cfg).unwrap();
    let e = fresh
        .block_on(fresh.access_token(Audience::Service))
        .unwrap()
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Configuration);
    assert!(e.message.contains("federated token file"), "{}", e.message);
    let _ = std::fs::remove_dir_all(file.parent().unwrap());
}

/// Counts its calls and takes a while, so concurrent callers overlap; its tokens live `.1`
/// seconds.
struct SlowProvider(std::sync::atomic::AtomicU32, i64);

impl msstore::TokenProvider for SlowProvider {
    fn token(&self, _audience: Audience) -> msstore::Result<msstore::ProvidedToken> {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(200));
        Ok(msstore::ProvidedToken {
            token: "vault-token".into(),
            expires_at: msstore::Timestamp::now().add_secs(self.1),
        })
    }
}

#[test]
fn a_provider_is_asked_once_for_many_concurrent_callers() {
    // 3600 s: a fresh token; 60 s: one already inside the 300 s refresh margin, which the
    // waiters take rather than each asking again.
    for lifetime in [3600, 60] {
        concurrent_callers_share_one_provider_call(lifetime);
    }
}

fn concurrent_callers_share_one_provider_call(lifetime: i64) {
    let provider = std::sync::Arc::new(SlowProvider(Default::default(), lifetime));
    let mut cfg = ClientConfig::new("t", "c", "");
    cfg.credential = Some(Credential::Provider(provider.clone()));
    let c = Client::new(cfg).unwrap();
    let tokens = c
        .block_on(async {
            let calls = (0..50).map(|_| {
                let c = c.clone();
                async move { c.access_token(Audience::Service).await }
            });
            futures_join_all(calls).await
        })
        .unwrap();
    assert_eq!(tokens.len(), 50);
    assert!(tokens
        .iter()
        .all(|t| t.as_ref().unwrap().token.expose() == "vault-token"));
    assert_eq!(provider.0.load(std::sync::atomic::Ordering::SeqCst), 1);
    assert!(!format!("{:?}", tokens[0]).contains("vault-token"));
}

/// Awaits every future concurrently (no futures crate in dev-dependencies).
async fn futures_join_all<F>(fs: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = fs.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}
