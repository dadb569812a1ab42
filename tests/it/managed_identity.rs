//! Managed identity as a federated credential, end to end: the emulator's IMDS and App Service
//! identity stand-ins mint a token for api://AzureADTokenExchange, which the emulator's Entra
//! accepts as the Store app's client assertion. The identity endpoint is configured to the
//! loopback emulator; the link-local IMDS default is for production only.
use crate::common::tokens_and_a_query;
use msstore::{Audience, Client, ClientConfig, Credential, ErrorKind, ManagedIdentityCredential};
use msstore_emulator::{Emulator, EmulatorConfig};

struct World {
    emu: Emulator,
    seed: msstore_emulator::DemoSeed,
}

/// The demo world; `identity` is assigned to the host and trusted by the Store app.
fn world(identity_client_id: &str, system_assigned: bool) -> World {
    let emu = Emulator::start(EmulatorConfig::default()).unwrap();
    let seed = emu.seed_demo();
    let fc = emu.add_managed_identity(&seed.tenant_id, identity_client_id, system_assigned);
    emu.add_federated_credential(&seed.tenant_id, &seed.client_id, fc);
    World { emu, seed }
}

fn config(w: &World, mi: ManagedIdentityCredential) -> ClientConfig {
    let mut c = ClientConfig::new(&w.seed.tenant_id, &w.seed.client_id, "")
        .with_emulator(&w.emu.base_url());
    c.retry = msstore::RetryPolicy::none();
    c.credential = Some(Credential::ManagedIdentity(mi));
    c
}

fn identity_requests(w: &World, route: &str) -> usize {
    w.emu.requests().iter().filter(|r| r.route == route).count()
}

#[test]
fn system_assigned_identity_through_imds() {
    let w = world("11111111-2222-3333-4444-555555555555", true);
    let c = Client::new(config(
        &w,
        ManagedIdentityCredential {
            endpoint: Some(w.emu.imds_endpoint()),
            ..Default::default()
        },
    ))
    .unwrap();
    tokens_and_a_query(&w.seed, &c);
    // One identity token per Entra token request (each assertion is fetched fresh).
    assert_eq!(identity_requests(&w, "imds_token"), 3);
    let ok = w.emu.requests();
    assert!(ok
        .iter()
        .filter(|r| r.route.starts_with("entra_"))
        .all(|r| r.status == 200 && !r.body.contains("eyJ")));
}

#[test]
fn user_assigned_identity_by_client_id() {
    let uami = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";
    let w = world(uami, false);
    let mi = |client_id: Option<&str>| ManagedIdentityCredential {
        client_id: client_id.map(str::to_string),
        endpoint: Some(w.emu.imds_endpoint()),
        ..Default::default()
    };
    let c = Client::new(config(&w, mi(Some(uami)))).unwrap();
    tokens_and_a_query(&w.seed, &c);
    // Without the client id IMDS looks for a system-assigned identity, which this host lacks:
    // the error says what to check.
    let c = Client::new(config(&w, mi(None))).unwrap();
    let e = c
        .block_on(c.access_token(Audience::Service))
        .unwrap()
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::EntraAuth);
    assert_eq!(e.http_status, Some(400));
    assert!(e.message.contains("identity is assigned"), "{}", e.message);
    // An identity the Store app does not trust: Entra refuses the assertion (AADSTS700213).
    let stranger = "99999999-0000-0000-0000-000000000000";
    w.emu
        .add_managed_identity(&w.seed.tenant_id, stranger, false);
    let c = Client::new(config(&w, mi(Some(stranger)))).unwrap();
    let e = c
        .block_on(c.access_token(Audience::Service))
        .unwrap()
        .unwrap_err();
    assert_eq!(e.inner_code.as_deref(), Some("AADSTS700213"), "{e}");
}

#[test]
fn app_service_identity_endpoint_with_its_header() {
    let uami = "aaaaaaaa-bbbb-cccc-dddd-000000000001";
    let w = world(uami, false);
    let header = w.emu.app_service_identity_header();
    let mi = |h: &str| ManagedIdentityCredential {
        client_id: Some(uami.into()),
        endpoint: Some(w.emu.app_service_identity_endpoint()),
        identity_header: Some(h.into()),
    };
    let c = Client::new(config(&w, mi(&header))).unwrap();
    tokens_and_a_query(&w.seed, &c);
    assert_eq!(identity_requests(&w, "app_service_token"), 3);
    assert_eq!(identity_requests(&w, "imds_token"), 0);
    // A wrong header is refused, and the error does not echo the header.
    let c = Client::new(config(&w, mi("not-the-header"))).unwrap();
    let e = c
        .block_on(c.access_token(Audience::Service))
        .unwrap()
        .unwrap_err();
    assert_eq!(e.http_status, Some(401), "{e}");
    assert!(!format!("{e} {e:?}").contains("not-the-header"));
    assert!(!format!("{:?}", mi(&header)).contains(&header));
    // The App Service header without its endpoint is a configuration error.
    let mut bad = mi(&header);
    bad.endpoint = None;
    let e = Client::new(config(&w, bad)).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Configuration);
    assert!(e.message.contains("IDENTITY_ENDPOINT"), "{}", e.message);
}

#[test]
fn imds_refuses_a_request_without_the_metadata_header() {
    let w = world("11111111-2222-3333-4444-000000000002", true);
    let http = crate::emulator_support::Http::new();
    let url = format!(
        "{}?api-version=2018-02-01&resource=api://AzureADTokenExchange",
        w.emu.imds_endpoint()
    );
    let r = http.get(&url);
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(r.text.contains("metadata header"), "{}", r.text);
    let r = http.get_with(&url, &[("Metadata", "true")]);
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.json()["access_token"]
        .as_str()
        .unwrap()
        .starts_with("eyJ"));
    // The App Service endpoint wants its own header, not Metadata.
    let url = format!(
        "{}?api-version=2019-08-01&resource=api://AzureADTokenExchange",
        w.emu.app_service_identity_endpoint()
    );
    assert_eq!(http.get_with(&url, &[("Metadata", "true")]).status, 401);
}

#[test]
fn the_imds_exception_is_refused_for_every_other_request() {
    let w = world("11111111-2222-3333-4444-000000000003", true);
    // Entra, Collections (query, consume, renew) and Purchase at the IMDS address: refused when
    // the client is built, before any request.
    for field in ["login", "collections", "purchase"] {
        let mut c = ClientConfig::new(&w.seed.tenant_id, &w.seed.client_id, "s")
            .with_emulator(&w.emu.base_url());
        let imds = format!("http://169.254.169.254/{field}");
        match field {
            "login" => c.login_base_url = imds,
            "collections" => c.collections_base_url = imds,
            _ => c.purchase_base_url = imds,
        }
        let e = Client::new(c).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Configuration, "{field}");
    }
    // The managed-identity endpoint itself: only loopback or the IMDS address over plain http.
    for endpoint in [
        "http://169.254.169.253/metadata/identity/oauth2/token",
        "http://10.0.0.1/msi/token",
    ] {
        let e = Client::new(config(
            &w,
            ManagedIdentityCredential {
                endpoint: Some(endpoint.into()),
                ..Default::default()
            },
        ))
        .unwrap_err();
        assert_eq!(e.kind, ErrorKind::Configuration, "{endpoint}");
    }
    // The production default is accepted by validation (it is never contacted here).
    let c = config(&w, ManagedIdentityCredential::default());
    assert!(c.validate().is_ok());
    assert_eq!(
        msstore::credential::DEFAULT_IMDS_ENDPOINT,
        "http://169.254.169.254/metadata/identity/oauth2/token"
    );
}
