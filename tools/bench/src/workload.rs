//! The benchmark world (one Entra app, users owning 10 and 500 entitlements, a large consumable
//! balance, Store ID keys) and the HTTP exchanges every workload sends, serialised with the
//! library's own request types so that every client variant sends byte-identical bodies.

use msstore::{ConsumeRequest, ProductSkuId, QueryV9Request, SecretString};
use msstore_emulator::{Emulator, KeyKind, ProductKind, ProductSpec};
use serde::{Deserialize, Serialize};

/// What one benchmark cell does, repeatedly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workload {
    /// v9 publisherQuery for a user owning 10 products (one page).
    Query10,
    /// v9 publisherQuery for a user owning 500 products: 100 product ids per call (the
    /// service's limit, rotating over the five chunks), 25 per page, so 4 pages per call.
    Query500,
    /// v8 consume of one unit from a large store-managed balance (fresh trackingId each time).
    Consume,
    /// Store ID key renewal (collections key).
    Renew,
    /// A fresh client, [`COLD_CALLERS`] concurrent first calls (Query10) at once.
    ColdStart,
}

/// Concurrent first calls of the cold-start workload (the smoke test uses fewer).
pub const COLD_CALLERS: usize = 1000;
/// Page size of [`Workload::Query500`].
pub const QUERY500_PAGE_SIZE: u32 = 25;
/// Product ids per v9 call (the documented maximum).
pub const IDS_PER_CALL: usize = 100;

impl Workload {
    pub const ALL: [Workload; 5] = [
        Workload::Query10,
        Workload::Query500,
        Workload::Consume,
        Workload::Renew,
        Workload::ColdStart,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Workload::Query10 => "query10",
            Workload::Query500 => "query500",
            Workload::Consume => "consume",
            Workload::Renew => "renew",
            Workload::ColdStart => "cold1000",
        }
    }

    pub fn parse(s: &str) -> Option<Workload> {
        Workload::ALL.into_iter().find(|w| w.name() == s)
    }

    /// How many times longer than the plan's window this workload's cells measure: a
    /// query500 operation (4 pages) takes over a second at concurrency 256 against the
    /// one-thread emulator, so a short window would see only the start-up.
    pub fn window_factor(self) -> u64 {
        match self {
            Workload::Query500 => 3,
            _ => 1,
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Workload::Query10 => "v9 query, user owning 10 entitlements (1 page)",
            Workload::Query500 => {
                "v9 query, user owning 500 entitlements: 100 ids per call, 4 pages of 25"
            }
            Workload::Consume => "v8 consume of 1 unit (fresh trackingId)",
            Workload::Renew => "collections key renewal",
            Workload::ColdStart => "fresh client, 1,000 concurrent first v9 queries",
        }
    }
}

/// Everything a client process needs to know about the seeded emulator. Written by the parent
/// to a file the child reads (it holds the secret, so the file is removed after the run).
/// No `Debug`: it holds the (emulator's) client secret and keys.
#[derive(Clone, Serialize, Deserialize)]
pub struct World {
    pub base_url: String,
    pub tenant_id: String,
    pub client_id: String,
    pub client_secret: String,
    pub key10: String,
    pub key500: String,
    pub consume_key: String,
    pub consume_product: String,
    pub renew_key: String,
    pub products10: Vec<String>,
    pub products500: Vec<String>,
    /// Concurrent first calls of [`Workload::ColdStart`].
    pub cold_callers: usize,
    /// `--tls` runs: the emulator's test certificate (PEM), which every variant trusts as an
    /// extra root, and the same written to a file (for libcurl's `CURLOPT_CAINFO`).
    #[serde(default)]
    pub tls_cert_pem: Option<String>,
    #[serde(default)]
    pub tls_cert_file: Option<std::path::PathBuf>,
}

const TENANT: &str = "7b1e4c2a-0d3f-4a5b-8c6d-9e0f1a2b3c4d";
const CLIENT_ID: &str = "c0ffee00-1234-4abc-8def-0123456789ab";
const SECRET: &str = "bench~Secret_value-01";
const CONSUMABLE: &str = "9BCONSUMABLE";
/// Units seeded on the consumable: far more than any run consumes.
const CONSUMABLE_BALANCE: i64 = 100_000_000;

fn product_id(i: usize) -> String {
    format!("9B{i:010}")
}

impl World {
    /// Seeds `emu` (products, users, purchases, keys) and describes the result.
    pub fn seed(emu: &Emulator) -> Result<World, String> {
        emu.add_app(TENANT, CLIENT_ID, SECRET);
        let products500: Vec<String> = (0..500).map(product_id).collect();
        for p in &products500 {
            emu.add_product(ProductSpec::new(p, ProductKind::Durable));
        }
        emu.add_product(ProductSpec::new(CONSUMABLE, ProductKind::Consumable).price(0.99));
        let buy = |user: &str, product: &str, qty: i64| {
            emu.purchase(user, product, "", qty)
                .map(|_| ())
                .map_err(|e| format!("seeding {user}/{product}: {e}"))
        };
        for p in &products500[..10] {
            buy("bench-user-10", p, 1)?;
        }
        for p in &products500 {
            buy("bench-user-500", p, 1)?;
        }
        buy("bench-user-consume", CONSUMABLE, CONSUMABLE_BALANCE)?;
        let key = |user: &str| {
            emu.mint_key_for_app(TENANT, CLIENT_ID, KeyKind::Collections, "player-1", user)
                .map_err(|e| format!("minting a key for {user}: {e}"))
        };
        Ok(World {
            base_url: emu.base_url(),
            tenant_id: TENANT.into(),
            client_id: CLIENT_ID.into(),
            client_secret: SECRET.into(),
            key10: key("bench-user-10")?,
            key500: key("bench-user-500")?,
            consume_key: key("bench-user-consume")?,
            consume_product: CONSUMABLE.into(),
            renew_key: key("bench-user-10")?,
            products10: products500[..10].to_vec(),
            products500,
            cold_callers: COLD_CALLERS,
            tls_cert_pem: None,
            tls_cert_file: None,
        })
    }

    /// The v9 request of query operation `op` (Query10/ColdStart: always the same;
    /// Query500: chunk `op % 5`).
    pub fn query_request(&self, w: Workload, op: u64) -> QueryV9Request {
        self.query_request_with(w, op, self.query_key(w))
    }

    /// [`World::query_request`] with the key given: a [`SecretString`] the caller keeps is
    /// shared by every request instead of copied into each (the Rust API variant does this).
    pub fn query_request_with(
        &self,
        w: Workload,
        op: u64,
        key: impl Into<SecretString>,
    ) -> QueryV9Request {
        let (ids, page) = match w {
            Workload::Query500 => {
                let chunks = self.products500.len() / IDS_PER_CALL;
                let c = (op as usize) % chunks;
                (
                    &self.products500[c * IDS_PER_CALL..(c + 1) * IDS_PER_CALL],
                    QUERY500_PAGE_SIZE,
                )
            }
            _ => (&self.products10[..], 100),
        };
        let products = ids.iter().map(ProductSkuId::product).collect();
        let mut r = QueryV9Request::new(key, products);
        r.max_page_size = page;
        r
    }

    /// The UserCollectionsId a query workload uses.
    pub fn query_key(&self, w: Workload) -> &str {
        match w {
            Workload::Query500 => &self.key500,
            _ => &self.key10,
        }
    }

    /// Items one query operation returns.
    pub fn expected_items(&self, w: Workload) -> usize {
        match w {
            Workload::Query500 => IDS_PER_CALL,
            _ => self.products10.len(),
        }
    }

    pub fn consume_request(&self) -> ConsumeRequest {
        ConsumeRequest::store_managed(&self.consume_key, &self.consume_product, 1)
            .with_tracking_id(uuid::Uuid::new_v4().to_string())
    }

    pub fn token_url(&self) -> String {
        format!(
            "{}/login/{}/oauth2/v2.0/token",
            self.base_url, self.tenant_id
        )
    }

    pub fn collections_url(&self, path: &str) -> String {
        format!("{}/collections{path}", self.base_url)
    }
}

/// Route paths, spelled as the library spells them.
pub const PATH_QUERY_V9: &str = "/v9.0/collections/PublisherQuery";
pub const PATH_CONSUME_V8: &str = "/v8.0/collections/consume";
pub const PATH_RENEW: &str = "/v6.0/b2b/keys/renew";

/// One HTTP request body of a workload, and where it goes. Query bodies for later pages are
/// built with [`query_page_body`].
pub fn body_json<T: Serialize>(v: &T) -> Vec<u8> {
    serde_json::to_vec(v).unwrap_or_default()
}

/// The body of the next page: the same request with the continuation token set.
pub fn query_page_body(req: &QueryV9Request, token: Option<&str>) -> Vec<u8> {
    let mut r = req.clone();
    r.continuation_token = token.map(str::to_string);
    body_json(&r)
}

/// The key renewal body, as the library serialises it.
pub fn renew_body(service_token: &str, key: &str) -> Vec<u8> {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct RenewRequest<'a> {
        service_ticket: &'a str,
        key: &'a str,
    }
    body_json(&RenewRequest {
        service_ticket: service_token,
        key,
    })
}
