//! Shared helpers for the emulator integration tests: a small async reqwest client driven by
//! its own tokio runtime, so tests stay synchronous.
#![allow(dead_code)]

use msstore_emulator::{DemoSeed, Emulator, EmulatorConfig};
use serde_json::Value;
use std::time::Duration;

pub const SERVICE_AUD: &str = "https://onestore.microsoft.com";

pub struct Resp {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }
    /// `innererror.code` of a ServiceError body.
    pub fn inner(&self) -> String {
        self.json()["innererror"]["code"]
            .as_str()
            .unwrap_or("")
            .to_string()
    }
}

pub struct Http {
    rt: tokio::runtime::Runtime,
    client: reqwest::Client,
}

impl Default for Http {
    fn default() -> Self {
        Self::new()
    }
}

impl Http {
    pub fn new() -> Http {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap();
        Http { rt, client }
    }

    fn send(&self, rb: reqwest::RequestBuilder) -> Result<Resp, reqwest::Error> {
        self.rt.block_on(async {
            let r = rb.send().await?;
            let status = r.status().as_u16();
            let headers = r.headers().clone();
            let text = r.text().await?;
            Ok(Resp {
                status,
                headers,
                text,
            })
        })
    }

    pub fn try_post_json(
        &self,
        url: &str,
        bearer: Option<&str>,
        body: &Value,
    ) -> Result<Resp, reqwest::Error> {
        let mut rb = self.client.post(url).json(body);
        if let Some(t) = bearer {
            rb = rb.bearer_auth(t);
        }
        self.send(rb)
    }

    pub fn post_json(&self, url: &str, bearer: Option<&str>, body: &Value) -> Resp {
        self.try_post_json(url, bearer, body)
            .expect("request failed")
    }

    pub fn post_raw(
        &self,
        url: &str,
        bearer: Option<&str>,
        body: &str,
        headers: &[(&str, &str)],
    ) -> Resp {
        let mut rb = self
            .client
            .post(url)
            .body(body.to_string())
            .header("Content-Type", "application/json");
        if let Some(t) = bearer {
            rb = rb.bearer_auth(t);
        }
        for (k, v) in headers {
            rb = rb.header(*k, *v);
        }
        self.send(rb).expect("request failed")
    }

    pub fn post_form(&self, url: &str, form: &[(&str, &str)]) -> Resp {
        self.send(self.client.post(url).form(form))
            .expect("request failed")
    }

    pub fn get(&self, url: &str) -> Resp {
        self.send(self.client.get(url)).expect("request failed")
    }

    pub fn get_with(&self, url: &str, headers: &[(&str, &str)]) -> Resp {
        let mut rb = self.client.get(url);
        for (k, v) in headers {
            rb = rb.header(*k, *v);
        }
        self.send(rb).expect("request failed")
    }

    pub fn delete(&self, url: &str) -> Resp {
        self.send(self.client.delete(url)).expect("request failed")
    }
}

/// An emulator with the demo world and a service token.
pub struct World {
    pub emu: Emulator,
    pub seed: DemoSeed,
    pub http: Http,
    pub token: String,
}

impl World {
    pub fn new() -> World {
        let emu = Emulator::start(EmulatorConfig::default()).unwrap();
        let seed = emu.seed_demo();
        let token = emu.issue_token(&seed.tenant_id, &seed.client_id, SERVICE_AUD);
        World {
            emu,
            seed,
            http: Http::new(),
            token,
        }
    }

    pub fn coll(&self, path: &str) -> String {
        format!("{}/{}", self.emu.collections_base_url(), path)
    }

    pub fn purch(&self, path: &str) -> String {
        format!("{}/{}", self.emu.purchase_base_url(), path)
    }

    pub fn beneficiaries(&self) -> Value {
        serde_json::json!([{"identityType":"b2b","identityValue":self.seed.collections_key,"localTicketReference":""}])
    }

    pub fn beneficiary(&self) -> Value {
        serde_json::json!({"identityType":"b2b","identityValue":self.seed.collections_key,"localTicketReference":""})
    }

    /// v8 query with extra fields merged into the default body.
    pub fn v8(&self, extra: Value) -> Resp {
        let mut body = serde_json::json!({"beneficiaries": self.beneficiaries()});
        merge(&mut body, extra);
        self.http.post_json(
            &self.coll("v8.0/collections/b2bLicensePreview"),
            Some(&self.token),
            &body,
        )
    }

    pub fn v9(&self, extra: Value) -> Resp {
        let mut body = serde_json::json!({"beneficiaries": self.beneficiaries()});
        merge(&mut body, extra);
        self.http.post_json(
            &self.coll("v9.0/collections/publisherQuery"),
            Some(&self.token),
            &body,
        )
    }

    pub fn consume(&self, product: &str, tracking: &str, qty: Option<i64>) -> Resp {
        let mut body = serde_json::json!({"beneficiary": self.beneficiary(), "productId": product, "trackingId": tracking, "includeOrderIds": true});
        if let Some(q) = qty {
            body["removeQuantity"] = q.into();
        }
        self.http.post_json(
            &self.coll("v8.0/collections/consume"),
            Some(&self.token),
            &body,
        )
    }
}

impl Default for World {
    fn default() -> Self {
        Self::new()
    }
}

pub fn merge(base: &mut Value, extra: Value) {
    if let (Some(b), Value::Object(e)) = (base.as_object_mut(), extra) {
        b.extend(e);
    }
}

/// Product ids of a query response's items.
pub fn product_ids(v: &Value) -> Vec<String> {
    v["items"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|i| i["productId"].as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// The item of a query response for `product_id` (panics when absent, with the response).
pub fn item_for(v: &Value, product_id: &str) -> Value {
    v["items"]
        .as_array()
        .and_then(|a| a.iter().find(|i| i["productId"] == product_id))
        .cloned()
        .unwrap_or_else(|| panic!("no item for {product_id} in {v}"))
}

impl World {
    /// Advances the virtual clock and re-issues the service token (it lives one hour).
    pub fn advance(&mut self, d: Duration) {
        self.emu.advance(d);
        self.token = self
            .emu
            .issue_token(&self.seed.tenant_id, &self.seed.client_id, SERVICE_AUD);
    }

    /// Recurrences query with extra fields merged into `{"b2bKey": purchase_key}`.
    pub fn recurrences(&self, extra: Value) -> Resp {
        let mut body = serde_json::json!({"b2bKey": self.seed.purchase_key});
        merge(&mut body, extra);
        self.http.post_json(
            &self.purch("v8.0/b2b/recurrences/query"),
            Some(&self.token),
            &body,
        )
    }

    /// Recurrence change of `id` with extra fields merged into `{"b2bKey": purchase_key}`.
    pub fn change(&self, id: &str, extra: Value) -> Resp {
        let mut body = serde_json::json!({"b2bKey": self.seed.purchase_key});
        merge(&mut body, extra);
        let id = id.replace(':', "%3A");
        self.http.post_json(
            &self.purch(&format!("v8.0/b2b/recurrences/{id}/change")),
            Some(&self.token),
            &body,
        )
    }

    pub fn v6(&self, extra: Value) -> Resp {
        let mut body = serde_json::json!({"beneficiaries": self.beneficiaries(),
            "productTypes": ["Application", "Durable", "Game", "UnmanagedConsumable"]});
        merge(&mut body, extra);
        self.http.post_json(
            &self.coll("v6.0/collections/query"),
            Some(&self.token),
            &body,
        )
    }
}
