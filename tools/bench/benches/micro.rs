//! Criterion micro-benchmarks for issue 7's per-call targets:
//! - decoding a Store ID key (target < 2 us);
//! - parsing a 100-item v9 query page (the library's item type, as the client parses it);
//! - one C ABI round trip: start a call and run its QUEUED callback via `msstore_client_poll`
//!   (a warm-cache `msstore_client_get_token`, so no network; target < 5 us).
//!
//! `cargo bench --bench micro`. The emulator runs in-process on loopback and stops on drop.

use criterion::{criterion_group, criterion_main, Criterion};
use msstore::driver::{msstore_completion_mode, msstore_op, msstore_result};
use msstore::driver::{CClient, CClientConfig};
use msstore::{Client, ClientConfig, EntitlementItem, ProductSkuId, QueryV9Request, StoreIdKey};
use msstore_emulator::{Emulator, EmulatorConfig, KeyKind, ProductKind, ProductSpec};
use serde::Deserialize;
use std::ffi::c_void;
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};

const TENANT: &str = "7b1e4c2a-0d3f-4a5b-8c6d-9e0f1a2b3c4d";
const CLIENT_ID: &str = "c0ffee00-1234-4abc-8def-0123456789ab";
const SECRET: &str = "bench~Secret_value-01";

struct Setup {
    emu: Emulator,
    key: String,
    products: Vec<String>,
}

fn setup() -> Setup {
    let emu = Emulator::start(EmulatorConfig::default()).expect("emulator");
    emu.add_app(TENANT, CLIENT_ID, SECRET);
    let products: Vec<String> = (0..100).map(|i| format!("9B{i:010}")).collect();
    for p in &products {
        emu.add_product(ProductSpec::new(p, ProductKind::Durable));
        emu.purchase("micro-user", p, "", 1).expect("purchase");
    }
    let key = emu
        .mint_key_for_app(
            TENANT,
            CLIENT_ID,
            KeyKind::Collections,
            "player-1",
            "micro-user",
        )
        .expect("key");
    Setup { emu, key, products }
}

/// The shape the library parses a page into.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
struct PageWire {
    #[serde(default)]
    items: Vec<EntitlementItem>,
    #[serde(default)]
    continuation_token: Option<String>,
}

static CALLBACKS: AtomicU64 = AtomicU64::new(0);

extern "C" fn on_token(_ud: *mut c_void, code: msstore_result, _op: *mut msstore_op) {
    assert_eq!(code, msstore_result::MSSTORE_OK, "token callback failed");
    CALLBACKS.fetch_add(1, Ordering::Relaxed);
}

fn benches(c: &mut Criterion) {
    let s = setup();

    c.bench_function("key_decode", |b| {
        b.iter(|| StoreIdKey::decode(black_box(&s.key)).expect("decodes"))
    });

    let client =
        Client::new(ClientConfig::new(TENANT, CLIENT_ID, SECRET).with_emulator(&s.emu.base_url()))
            .expect("client");
    let ids = s.products.iter().map(ProductSkuId::product).collect();
    let page = client
        .block_on(client.query_v9_page(QueryV9Request::new(&s.key, ids)))
        .expect("block_on")
        .expect("query");
    assert_eq!(page.items.len(), 100, "a 100-item page");
    let raw = page.raw_json.into_bytes();
    c.bench_function("parse_v9_page_100_items", |b| {
        b.iter(|| {
            let p: PageWire = serde_json::from_slice(black_box(&raw)).expect("parses");
            assert_eq!(p.items.len(), 100);
            p
        })
    });

    let cc = CClient::new(&CClientConfig {
        emulator_base_url: &s.emu.base_url(),
        tenant_id: TENANT,
        client_id: CLIENT_ID,
        client_secret: SECRET,
        completion_mode: msstore_completion_mode::MSSTORE_COMPLETION_QUEUED,
        worker_threads: 0,
        extra_root_cert_pem: None,
        initial_connections_per_host: None,
    })
    .expect("C client");
    let round_trip = || {
        let want = CALLBACKS.load(Ordering::Relaxed) + 1;
        assert_eq!(
            cc.service_token(Some(on_token), 0),
            msstore_result::MSSTORE_OK
        );
        while CALLBACKS.load(Ordering::Relaxed) < want {
            if cc.poll(0) == 0 {
                std::hint::spin_loop();
            }
        }
    };
    round_trip(); // fetches the token; every later call is served from the cache
    c.bench_function("ffi_round_trip_queued_poll", |b| b.iter(round_trip));
}

criterion_group!(micro, benches);
criterion_main!(micro);
