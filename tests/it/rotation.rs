//! Credential rotation without a restart: a client secret read from a file and re-read when it
//! changes, a previous credential kept while Entra refuses the new one, and the warning before a
//! certificate's notAfter. Nothing secret reaches a log line or Debug output.
use msstore::{
    Audience, CertificateCredential, Client, ClientConfig, Credential, ErrorKind, SecretString,
};
use msstore_emulator::{Emulator, EmulatorConfig, Knobs};
use std::sync::{Arc, Mutex};

const FIX: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/it/fixtures/credentials/"
);

fn path(name: &str) -> String {
    format!("{FIX}{name}")
}

struct World {
    emu: Emulator,
    seed: msstore_emulator::DemoSeed,
}

fn world() -> World {
    let emu = Emulator::start(EmulatorConfig::default()).unwrap();
    let seed = emu.seed_demo();
    World { emu, seed }
}

fn config(w: &World, credential: Credential, previous: Option<Credential>) -> ClientConfig {
    let mut c = ClientConfig::new(&w.seed.tenant_id, &w.seed.client_id, "")
        .with_emulator(&w.emu.base_url());
    c.retry = msstore::RetryPolicy::none();
    c.credential = Some(credential);
    c.previous_credential = previous;
    c
}

fn secret(s: &str) -> Credential {
    Credential::Secret { secret: s.into() }
}

fn token(c: &Client, aud: Audience) -> msstore::Result<msstore::AccessToken> {
    c.block_on(c.access_token(aud)).unwrap()
}

/// Entra requests the emulator saw since the last call, with their statuses.
fn entra_statuses(w: &World) -> Vec<u16> {
    let s = w
        .emu
        .requests()
        .iter()
        .filter(|r| r.route.starts_with("entra_"))
        .map(|r| r.status)
        .collect();
    w.emu.clear_requests();
    s
}

/// Runs `f` with a log sink that keeps every line, and returns them. The sink is process-wide
/// and other tests install theirs: `want` is retried (a few times) until a run captured it.
fn capture_logs(want: &str, mut f: impl FnMut()) -> String {
    // The tests of this file that count lines take turns.
    static TURN: Mutex<()> = Mutex::new(());
    let _turn = TURN.lock().unwrap_or_else(|p| p.into_inner());
    let mut all = String::new();
    for _ in 0..5 {
        let lines = Arc::new(Mutex::new(String::new()));
        let sink = lines.clone();
        msstore::log::set_sink(
            Some(Arc::new(move |_, target: &str, msg: &str| {
                sink.lock().unwrap().push_str(&format!("{target}: {msg}\n"));
            })),
            msstore::log::Level::Trace,
        );
        f();
        msstore::log::set_sink(None, msstore::log::Level::Info);
        let got = lines.lock().unwrap().clone();
        all.push_str(&got);
        if got.contains(want) {
            break;
        }
    }
    all
}

fn write_file(file: &std::path::Path, text: &str) {
    // Written whole then renamed, as the kubelet updates a secret mount.
    let tmp = file.with_extension("tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, file).unwrap();
}

#[test]
fn a_secret_file_is_re_read_when_it_changes() {
    let w = world();
    let dir = std::env::temp_dir().join(format!(
        "msstore-secret-{}-{}",
        std::process::id(),
        w.emu.addr().port()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("client-secret");
    write_file(&file, &format!("{}\n", w.seed.client_secret));
    let c = Client::new(config(
        &w,
        Credential::SecretFile {
            path: file.display().to_string(),
        },
        None,
    ))
    .unwrap();
    token(&c, Audience::Service).unwrap();
    // The app's secret is rotated; until the mount follows, Entra refuses the old one.
    let new = "rotated-secret-value-2";
    w.emu.add_app(&w.seed.tenant_id, &w.seed.client_id, new);
    assert!(w
        .emu
        .remove_app_secret(&w.seed.tenant_id, &w.seed.client_id, &w.seed.client_secret));
    let e = token(&c, Audience::CollectionsKeyCreate).unwrap_err();
    assert_eq!(e.inner_code.as_deref(), Some("AADSTS7000215"), "{e}");
    assert!(e.message.contains("To fix"), "{}", e.message);
    // The mount is updated: the same client picks the new secret up, no restart.
    write_file(&file, new);
    token(&c, Audience::CollectionsKeyCreate).unwrap();
    // An empty file names the path and the problem, not a secret.
    write_file(&file, "\n");
    let e = token(&c, Audience::PurchaseKeyCreate).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Configuration);
    assert!(e.message.contains("is empty"), "{}", e.message);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_previous_secret_is_kept_while_the_new_one_is_refused() {
    let w = world();
    let old = w.seed.client_secret.clone();
    let new = "new-secret-not-yet-registered";
    let c = Client::new(config(&w, secret(new), Some(secret(&old)))).unwrap();
    w.emu.clear_requests();
    // The new secret is not on the app yet: refused (7000215), then the old one works.
    let logs = capture_logs("using the previous one", || {
        token(&c, Audience::Service).unwrap();
    });
    assert_eq!(entra_statuses(&w)[..], [401, 200]);
    assert!(logs.contains("using the previous one"), "{logs}");
    for s in [old.as_str(), new] {
        assert!(!logs.contains(s), "a secret reached the log: {logs}");
    }
    // Remembered: the next fetch asks with the old one alone.
    token(&c, Audience::CollectionsKeyCreate).unwrap();
    assert_eq!(entra_statuses(&w)[..], [200]);
    // The new secret is added to the app and the old one revoked: one refusal of the old one,
    // then the new one, alone from then on.
    w.emu.add_app(&w.seed.tenant_id, &w.seed.client_id, new);
    assert!(w
        .emu
        .remove_app_secret(&w.seed.tenant_id, &w.seed.client_id, &old));
    token(&c, Audience::PurchaseKeyCreate).unwrap();
    assert_eq!(entra_statuses(&w)[..], [401, 200]);
    // A stale client with only the old one is refused.
    let stale = Client::new(config(&w, secret(&old), None)).unwrap();
    let e = token(&stale, Audience::Service).unwrap_err();
    assert_eq!(e.inner_code.as_deref(), Some("AADSTS7000215"), "{e}");
    // Debug shows neither secret.
    let debug = format!("{:?} {c:?}", config(&w, secret(new), Some(secret(&old))));
    assert!(!debug.contains(new) && !debug.contains(&old), "{debug}");
}

/// A client whose every token fetch goes to Entra: tokens live 60 s, inside the 300 s margin.
fn world_with_short_tokens() -> World {
    let emu = Emulator::start(EmulatorConfig {
        knobs: Knobs {
            token_lifetime_secs: 60,
            ..Default::default()
        },
        ..Default::default()
    })
    .unwrap();
    let seed = emu.seed_demo();
    World { emu, seed }
}

#[test]
fn a_rotation_in_progress_costs_one_request_per_fetch_until_the_files_change() {
    let w = world_with_short_tokens();
    let dir = std::env::temp_dir().join(format!(
        "msstore-rotation-{}-{}",
        std::process::id(),
        w.emu.addr().port()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("client-secret");
    let new = "the-new-secret-of-the-rotation";
    write_file(&file, new);
    let old = w.seed.client_secret.clone();
    let c = Client::new(config(
        &w,
        Credential::SecretFile {
            path: file.display().to_string(),
        },
        Some(secret(&old)),
    ))
    .unwrap();
    w.emu.clear_requests();
    token(&c, Audience::Service).unwrap();
    assert_eq!(entra_statuses(&w)[..], [401, 200]);
    for _ in 0..3 {
        token(&c, Audience::Service).unwrap();
        assert_eq!(
            entra_statuses(&w)[..],
            [200],
            "steady state: the old one alone"
        );
    }
    // The app gets the new secret and loses the old one; the mount is rewritten (same text):
    // the new one is tried first again, and works.
    w.emu.add_app(&w.seed.tenant_id, &w.seed.client_id, new);
    assert!(w
        .emu
        .remove_app_secret(&w.seed.tenant_id, &w.seed.client_id, &old));
    std::thread::sleep(std::time::Duration::from_millis(20));
    write_file(&file, &format!("{new}\n"));
    token(&c, Audience::Service).unwrap();
    assert_eq!(entra_statuses(&w)[..], [200]);
    token(&c, Audience::Service).unwrap();
    assert_eq!(entra_statuses(&w)[..], [200]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_expiry_warning_is_logged_once_not_at_every_fetch() {
    let w = world_with_short_tokens();
    let app_cert = std::fs::read_to_string(path("app_cert.pem")).unwrap();
    w.emu
        .add_app_certificate(&w.seed.tenant_id, &w.seed.client_id, &app_cert)
        .unwrap();
    let mut cfg = config(
        &w,
        Credential::Certificate(CertificateCredential {
            certificate_path: Some(path("app_chain.pem")),
            private_key_path: Some(path("app_key_pkcs8.pem")),
            ..Default::default()
        }),
        None,
    );
    cfg.credential_expiry_warning_days = 40_000;
    let logs = capture_logs("expires 2126-11-07", || {
        let c = Client::new(cfg.clone()).unwrap();
        w.emu.clear_requests();
        for aud in Audience::ALL.into_iter().chain(Audience::ALL) {
            token(&c, aud).unwrap();
        }
        assert_eq!(entra_statuses(&w).len(), 6, "every fetch went to Entra");
    });
    assert_eq!(
        logs.matches("the client certificate expires 2126-11-07")
            .count(),
        1,
        "{logs}"
    );
}

#[test]
fn a_refusal_that_is_not_a_wrong_credential_does_not_fall_back() {
    let w = world();
    let c = Client::new(config(
        &w,
        secret("new"),
        Some(secret(&w.seed.client_secret)),
    ))
    .unwrap();
    w.emu.set_knobs(Knobs {
        entra_error_code: Some(500011),
        ..Default::default()
    });
    w.emu.clear_requests();
    let e = token(&c, Audience::Service).unwrap_err();
    assert_eq!(e.inner_code.as_deref(), Some("AADSTS500011"), "{e}");
    assert_eq!(entra_statuses(&w).len(), 1);
}

#[test]
fn the_previous_certificate_is_kept_while_the_new_one_is_refused() {
    let w = world();
    let app_cert = std::fs::read_to_string(path("app_cert.pem")).unwrap();
    w.emu
        .add_app_certificate(&w.seed.tenant_id, &w.seed.client_id, &app_cert)
        .unwrap();
    let cert = |c: &str, k: &str| {
        Credential::Certificate(CertificateCredential {
            certificate_path: Some(path(c)),
            private_key_path: Some(path(k)),
            ..Default::default()
        })
    };
    let new = cert("other_cert.pem", "other_key_pkcs8.pem");
    let old = cert("app_chain.pem", "app_key_pkcs8.pem");
    let c = Client::new(config(&w, new, Some(old))).unwrap();
    w.emu.clear_requests();
    token(&c, Audience::Service).unwrap();
    assert_eq!(entra_statuses(&w)[..], [401, 200]);
    // The credential's expiry is the new certificate's.
    assert!(c.credential_expires_at().is_some());
}

#[test]
fn a_warning_is_logged_before_the_certificate_expires() {
    let w = world();
    let app_cert = std::fs::read_to_string(path("app_cert.pem")).unwrap();
    w.emu
        .add_app_certificate(&w.seed.tenant_id, &w.seed.client_id, &app_cert)
        .unwrap();
    let key_pem = std::fs::read_to_string(path("app_key_pkcs8.pem")).unwrap();
    let cfg = |days: u32| {
        let mut c = config(
            &w,
            Credential::Certificate(CertificateCredential {
                certificate_path: Some(path("app_chain.pem")),
                private_key_pem: Some(SecretString::new(key_pem.clone())),
                ..Default::default()
            }),
            None,
        );
        c.credential_expiry_warning_days = days;
        c
    };
    // The fixture certificate expires in 2126: inside a 40,000-day window, far outside 14 days.
    let near = capture_logs("expires 2126-11-07", || {
        let c = Client::new(cfg(40_000)).unwrap();
        token(&c, Audience::Service).unwrap();
    });
    assert!(
        near.contains("msstore::credential: the client certificate expires 2126-11-07"),
        "{near}"
    );
    let key_line = key_pem.lines().nth(1).unwrap();
    assert!(!near.contains(key_line) && !near.contains("eyJ"), "{near}");
    let default_window = capture_logs("", || {
        let c = Client::new(cfg(msstore::config::DEFAULT_CREDENTIAL_EXPIRY_WARNING_DAYS)).unwrap();
        token(&c, Audience::Service).unwrap();
    });
    assert!(!default_window.contains("expires 2126"), "{default_window}");
}

#[test]
fn previous_credential_rules() {
    let w = world();
    let mut c = config(&w, secret("a"), Some(secret("")));
    let e = c.validate().unwrap_err();
    assert!(e.message.contains("previous_credential"), "{}", e.message);
    c.previous_credential = Some(Credential::SecretFile { path: " ".into() });
    assert!(c.validate().is_err());
    let json = serde_json::json!({
        "tenant_id": "t", "client_id": "c",
        "credential": {"type": "secret_file", "path": "/var/run/secrets/store/client-secret"},
        "previous_credential": {"type": "secret", "secret": "old"},
        "credential_expiry_warning_days": 30,
    });
    let c = ClientConfig::from_json(&json.to_string()).unwrap();
    assert_eq!(c.credential_expiry_warning_days, 30);
    assert!(!format!("{c:?}").contains("\"old\""));
}
