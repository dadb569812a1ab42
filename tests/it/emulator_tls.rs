//! The emulator's HTTPS mode: a client trusting the committed test certificate queries and
//! consumes over TLS (faults and the connection counter still work); one that does not trust
//! it fails fast with a clear network error.

use msstore::{
    Client, ClientConfig, ConsumeRequest, ErrorKind, ProductSkuId, QueryV9Request, RetryPolicy,
};
use msstore_emulator::{DemoSeed, Emulator, EmulatorConfig, FaultKind, FaultRule};
use std::time::{Duration, Instant};

fn start() -> (Emulator, DemoSeed) {
    let emu = Emulator::start(EmulatorConfig {
        tls: true,
        ..Default::default()
    })
    .expect("TLS emulator starts");
    let seed = emu.seed_demo();
    (emu, seed)
}

fn config(emu: &Emulator, seed: &DemoSeed) -> ClientConfig {
    let mut c = ClientConfig::new(
        &seed.tenant_id,
        &seed.client_id,
        seed.client_secret.as_str(),
    )
    .with_emulator(&emu.base_url());
    c.retry = RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
        max_retry_after: Duration::from_secs(1),
    };
    c.request_timeout = Duration::from_secs(5);
    c.connect_timeout = Duration::from_secs(2);
    c
}

#[test]
fn trusted_client_queries_and_consumes_over_tls() {
    let (emu, seed) = start();
    assert!(emu.base_url().starts_with("https://127.0.0.1:"));
    let mut cfg = config(&emu, &seed);
    cfg.extra_root_cert_pem = Some(msstore_emulator::TEST_CERT_PEM.to_string());
    let c = Client::new(cfg).unwrap();

    let q = QueryV9Request::new(
        &seed.collections_key,
        vec![ProductSkuId::product(&seed.durable_product_id)],
    );
    let r = c.block_on(c.query_v9(q.clone())).unwrap().unwrap();
    assert_eq!(r.items.len(), 1);
    assert_eq!(r.items[0].product_id, seed.durable_product_id);

    let consumed = c
        .block_on(c.consume(ConsumeRequest::store_managed(
            &seed.collections_key,
            &seed.consumable_product_id,
            3,
        )))
        .unwrap()
        .into_result()
        .unwrap();
    assert_eq!(consumed.new_quantity, 7);
    assert_eq!(
        emu.balance(&seed.store_user_id, &seed.consumable_product_id),
        7
    );
    let opened = emu.connections_opened();
    assert!(opened >= 1, "TLS connections are counted");

    // Fault injection still works over TLS: a dropped connection is retried on a new one.
    emu.add_fault(FaultRule {
        route: Some("collections_v9_query".into()),
        user: None,
        kind: FaultKind::DropBeforeApply,
        times: Some(1),
        probability: None,
    });
    c.block_on(c.query_v9(q)).unwrap().unwrap();
    let statuses: Vec<u16> = emu
        .requests()
        .iter()
        .filter(|r| r.route == "collections_v9_query")
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, vec![200, 0, 200]);
    assert!(emu.connections_opened() > opened, "the retry dialled again");
}

#[test]
fn untrusted_client_fails_with_a_clear_network_error() {
    let (emu, seed) = start();
    let c = Client::new(config(&emu, &seed)).unwrap();
    let t = Instant::now();
    let e = c
        .block_on(c.query_v9(QueryV9Request::new(
            &seed.collections_key,
            vec![ProductSkuId::product(&seed.durable_product_id)],
        )))
        .unwrap()
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Network, "{e}");
    let text = e.to_string().to_ascii_lowercase();
    assert!(
        text.contains("certificate") || text.contains("tls"),
        "error names the TLS failure: {e}"
    );
    assert!(t.elapsed() < Duration::from_secs(5), "no hang");
    // The handshake was refused before any request reached the emulator.
    assert!(emu.requests().is_empty());
    assert!(emu.connections_opened() >= 1);
}

#[test]
fn bad_extra_root_cert_is_a_configuration_error() {
    let (emu, seed) = start();
    let mut cfg = config(&emu, &seed);
    cfg.extra_root_cert_pem = Some("-----BEGIN CERTIFICATE-----\nnope\n".into());
    let Err(e) = Client::new(cfg) else {
        panic!("a bad PEM must be rejected");
    };
    assert_eq!(e.kind, ErrorKind::Configuration);
    assert!(e.message.contains("extra_root_cert_pem"), "{}", e.message);
}
