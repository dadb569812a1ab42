//! Shared set-up for integration tests: an in-process emulator with the demo world, and clients
//! pointed at it. Everything stays on 127.0.0.1 and stops when dropped.
#![allow(dead_code)]

use msstore::{Client, ClientConfig, RetryPolicy};
use msstore_emulator::{DemoSeed, Emulator, EmulatorConfig, FaultKind, FaultRule};
use std::time::Duration;

pub struct World {
    pub emu: Emulator,
    pub seed: DemoSeed,
}

impl World {
    pub fn new() -> World {
        let emu = Emulator::start(EmulatorConfig::default()).expect("emulator starts");
        let seed = emu.seed_demo();
        World { emu, seed }
    }

    /// The emulator's clock as the client's timestamp type (the emulator has its own time code,
    /// kept apart from the client's; they meet on the wire format).
    pub fn emu_now(&self) -> msstore::Timestamp {
        msstore::Timestamp::parse(&self.emu.now().to_iso()).expect("the emulator writes ISO-8601")
    }

    /// A config with fast retries, so fault tests take milliseconds.
    pub fn config(&self) -> ClientConfig {
        let mut c = ClientConfig::new(
            &self.seed.tenant_id,
            &self.seed.client_id,
            self.seed.client_secret.as_str(),
        )
        .with_emulator(&self.emu.base_url());
        c.retry = RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(50),
            max_retry_after: Duration::from_secs(5),
        };
        c.request_timeout = Duration::from_secs(5);
        c
    }

    pub fn client(&self) -> Client {
        Client::new(self.config()).expect("client")
    }

    pub fn client_with(&self, f: impl FnOnce(&mut ClientConfig)) -> Client {
        let mut c = self.config();
        f(&mut c);
        Client::new(c).expect("client")
    }

    pub fn fault(&self, route: &str, kind: FaultKind, times: u32) -> u64 {
        self.emu.add_fault(FaultRule {
            route: Some(route.to_string()),
            user: None,
            kind,
            times: Some(times),
            probability: None,
        })
    }

    /// Requests that reached `route`, with their status (0 = connection dropped).
    pub fn statuses(&self, route: &str) -> Vec<u16> {
        self.emu
            .requests()
            .into_iter()
            .filter(|r| r.route == route)
            .map(|r| r.status)
            .collect()
    }
}

/// Every audience's token, then a Store query with the service token (one item back).
pub fn tokens_and_a_query(seed: &DemoSeed, c: &Client) {
    for aud in msstore::Audience::ALL {
        c.block_on(c.access_token(aud)).unwrap().unwrap();
    }
    let r = c
        .block_on(c.query_v9(msstore::QueryV9Request::new(
            &seed.collections_key,
            vec![msstore::ProductSkuId::product(&seed.durable_product_id)],
        )))
        .unwrap()
        .unwrap();
    assert_eq!(r.items.len(), 1);
}
