//! JSON admin API under `{base}/admin/`, mirroring the Rust API for non-Rust test suites.
//! Bodies are JSON objects (snake_case fields); replies are JSON; errors are
//! `{"error": "..."}` with 400/404/405. Admin calls are not written to the request log.
//!
//! | Method | Path | Body / query | Reply |
//! |---|---|---|---|
//! | POST | `/admin/seed/demo` | — | `DemoSeed` |
//! | POST | `/admin/tenants` | `{"tenant_id"}` | `{}` |
//! | POST | `/admin/apps` | `{"tenant_id","client_id","client_secret","secret_expires"?: ISO date}` | `{}` |
//! | DELETE | `/admin/apps/secrets` | `{"tenant_id","client_id","client_secret"}` | `{"removed"}` |
//! | POST | `/admin/apps/certificates` | `{"tenant_id","client_id","certificate_pem"}` | `{"x5t_s256"}` |
//! | DELETE | `/admin/apps/certificates` | `?client_id=` | `{}` |
//! | POST | `/admin/apps/federated` | `{"tenant_id","client_id","issuer","subject","audience"?="api://AzureADTokenExchange"}` | `{}` |
//! | POST | `/admin/federated/tokens` | `{"issuer","subject","audience"?="api://AzureADTokenExchange","lifetime_secs"?=3600}` | `{"token"}` |
//! | POST | `/admin/managed_identities` | `{"tenant_id","client_id","system_assigned"?=false}` | `{"issuer","subject","audience","imds_endpoint","identity_endpoint","identity_header"}` (add the first three to an app with `/admin/apps/federated`) |
//! | POST | `/admin/products` | `ProductSpec` (`product_id`, `skus`, `kind`, `price`, `title`, `availability_id`, `linked_client_ids`, `subscription` `{months,grace_days,dunning_days}`, `bundle_children`, ...) | `{"product_id"}` |
//! | POST | `/admin/users` | `{"store_user_id","sandbox"?}` | `{}` |
//! | POST | `/admin/purchases` | `{"store_user_id","product_id","sku_id"?,"quantity"?=1,"sandbox"?,"trial"?=false}` | `OrderRef` |
//! | POST | `/admin/promotions` | `{"store_user_id","product_id","sandbox"?}` | `OrderRef` |
//! | POST | `/admin/tokens` | `{"tenant_id","client_id","audience"}` | `{"access_token"}` |
//! | POST | `/admin/keys/mint` | `{"kind":"collections"\|"purchase","publisher_user_id","store_user_id", "key_create_token" \| ("tenant_id","client_id")}` | `{"key"}` |
//! | POST | `/admin/keys/revoke` | `{"key"}` or `{"store_user_id"}` | `{}` |
//! | GET | `/admin/clock` | — | `{"now"}` |
//! | POST | `/admin/clock/advance` | `{"seconds"}` (may be fractional) | `{"now"}` |
//! | POST | `/admin/clock/set` | `{"now": ISO date}` | `{"now"}` |
//! | POST | `/admin/faults` | `FaultRule`: `{"route"?,"user"?,"kind":"throttle"\|"status"\|"delay"\|"drop_before_apply"\|"drop_after_apply"\|"malformed_json"\|"truncated_body", "retry_after_secs"/"status"/"ms" as the kind needs, "times"?, "probability"?}` | `{"id"}` |
//! | GET | `/admin/faults` | — | `[{"id", ...rule}]` |
//! | DELETE | `/admin/faults` | — (or `?id=N` for one) | `{}` |
//! | GET | `/admin/knobs` | — | `Knobs` |
//! | POST | `/admin/knobs` | partial `Knobs` object (merged) | `Knobs` |
//! | GET | `/admin/requests` | `?route=NAME` optional | `[LoggedRequest]` |
//! | DELETE | `/admin/requests` | — | `{}` |
//! | GET | `/admin/balance` | `?user=&product=&sandbox=` | `{"balance"}` |
//! | GET | `/admin/recurrences` | `?user=&sandbox=` | `[{"id","recurrenceState",...}]` |
//! | POST | `/admin/clawback` | `{"action":"refund"\|"return"\|"chargeback"\|"chargeback_reversal"\|"partial_subscription_refund","store_user_id","order_id","line_item_id"?,"sandbox"?,"consumed_days"?}` | `ClawbackOutcome` (`event_state`, `line_item_state`, `units_removed`, `was_consumable_quantity_revoked`, `events`: `[{"event_id","message_id","product_id","event_state"}]`) |
//! | GET | `/admin/queue` | — | `{"count", "messages": [{"message_id","text","inserted","expires","visible_at","dequeue_count"}]}` (clawback queue) |
//! | POST | `/admin/queue` | `{"text"}` raw MessageText (e.g. an undecodable one) | `{"message_id"}` |
//! | DELETE | `/admin/queue` | — | `{}` |
//! | GET | `/admin/stats` | — | `{"connections_opened","requests_logged"}` |
//! | GET | `/admin/jwks` | — | JWKS |
//! | GET | `/admin/health` | — | `{"ok":true}` |

use super::catalog::ProductSpec;
use super::faults::FaultRule;
use super::json::query_pairs;
use super::keys::{self, KeyKind};
use super::server::{lock, Reply, Shared};
use super::state::State;
use super::{seed, tokens, Knobs};
use crate::time::Timestamp;
use hyper::Method;
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::atomic::Ordering;

type AdminResult = Result<Value, (u16, String)>;

fn bad(msg: impl Into<String>) -> (u16, String) {
    (400, msg.into())
}

fn parse<T: for<'de> Deserialize<'de>>(body: &[u8]) -> Result<T, (u16, String)> {
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        &b"{}"[..]
    } else {
        body
    };
    serde_json::from_slice(body).map_err(|e| bad(format!("invalid body: {e}")))
}

fn ts(s: &str) -> Result<Timestamp, (u16, String)> {
    Timestamp::parse(s).map_err(|e| bad(e.to_string()))
}

#[derive(Deserialize)]
struct TenantReq {
    tenant_id: String,
}

#[derive(Deserialize)]
struct AppReq {
    tenant_id: String,
    client_id: String,
    client_secret: String,
    #[serde(default)]
    secret_expires: Option<String>,
}

#[derive(Deserialize)]
struct CertReq {
    tenant_id: String,
    client_id: String,
    certificate_pem: String,
}

#[derive(Deserialize)]
struct FederatedReq {
    tenant_id: String,
    client_id: String,
    #[serde(flatten)]
    credential: super::FederatedCredential,
}

#[derive(Deserialize)]
struct SubjectTokenReq {
    issuer: String,
    subject: String,
    #[serde(default)]
    audience: Option<String>,
    #[serde(default)]
    lifetime_secs: Option<i64>,
}

#[derive(Deserialize)]
struct ManagedIdentityReq {
    tenant_id: String,
    client_id: String,
    #[serde(default)]
    system_assigned: bool,
}

#[derive(Deserialize)]
struct UserReq {
    store_user_id: String,
    #[serde(default)]
    sandbox: Option<String>,
}

#[derive(Deserialize)]
struct PurchaseReq {
    store_user_id: String,
    product_id: String,
    #[serde(default)]
    sku_id: Option<String>,
    #[serde(default)]
    quantity: Option<i64>,
    #[serde(default)]
    sandbox: Option<String>,
    #[serde(default)]
    trial: bool,
}

#[derive(Deserialize)]
struct PromoReq {
    store_user_id: String,
    product_id: String,
    #[serde(default)]
    sandbox: Option<String>,
}

#[derive(Deserialize)]
struct TokenReq {
    tenant_id: String,
    client_id: String,
    audience: String,
}

#[derive(Deserialize)]
struct MintReq {
    kind: String,
    publisher_user_id: String,
    store_user_id: String,
    #[serde(default)]
    key_create_token: Option<String>,
    #[serde(default)]
    tenant_id: Option<String>,
    #[serde(default)]
    client_id: Option<String>,
}

#[derive(Deserialize)]
struct RevokeReq {
    #[serde(default)]
    key: Option<String>,
    #[serde(default)]
    store_user_id: Option<String>,
}

#[derive(Deserialize)]
struct RawMessageReq {
    text: String,
}

#[derive(Deserialize)]
struct AdvanceReq {
    seconds: f64,
}

#[derive(Deserialize)]
struct SetReq {
    now: String,
}

pub fn handle(
    shared: &Shared,
    method: &Method,
    rest: &str,
    query: Option<&str>,
    body: &[u8],
) -> Reply {
    let q = query_pairs(query);
    let param = |name: &str| {
        q.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        route(shared, method, rest, &param, body)
    }))
    .unwrap_or_else(|_| Err((500, "internal error".into())));
    match r {
        Ok(v) => Reply::json(200, &v),
        Err((status, msg)) => Reply::json(status, &json!({ "error": msg })),
    }
}

fn route(
    shared: &Shared,
    method: &Method,
    rest: &str,
    param: &dyn Fn(&str) -> String,
    body: &[u8],
) -> AdminResult {
    let signer = &shared.signer;
    let is_get = *method == Method::GET;
    let is_post = *method == Method::POST || *method == Method::PUT;
    let is_delete = *method == Method::DELETE;
    let rest = rest.trim_end_matches('/');
    // Log routes do not need the state lock.
    match (rest, is_get, is_delete) {
        ("requests", true, _) => {
            let route = param("route");
            let log = lock(&shared.log);
            let items: Vec<_> = log
                .iter()
                .filter(|r| route.is_empty() || r.route == route)
                .collect();
            return serde_json::to_value(items).map_err(|e| (500, e.to_string()));
        }
        ("requests", _, true) => {
            lock(&shared.log).clear();
            return Ok(json!({}));
        }
        ("stats", true, _) => {
            return Ok(json!({
                "connections_opened": shared.connections.load(Ordering::Relaxed),
                "requests_logged": lock(&shared.log).len(),
            }))
        }
        ("jwks", true, _) => return Ok(signer.jwks()),
        ("health", true, _) => return Ok(json!({"ok": true})),
        _ => {}
    }
    let mut guard = lock(&shared.state);
    let st: &mut State = &mut guard;
    st.tick();
    match rest {
        "seed/demo" if is_post => {
            let base = shared.base_url.clone();
            let s = seed::demo(st, signer, seed::SeedUrls { base }).map_err(|e| (500, e))?;
            serde_json::to_value(s).map_err(|e| (500, e.to_string()))
        }
        "tenants" if is_post => {
            let r: TenantReq = parse(body)?;
            st.add_tenant(&r.tenant_id);
            Ok(json!({}))
        }
        "apps" if is_post => {
            let r: AppReq = parse(body)?;
            let exp = r.secret_expires.as_deref().map(ts).transpose()?;
            st.add_app(&r.tenant_id, &r.client_id, &r.client_secret, exp);
            Ok(json!({}))
        }
        "apps/secrets" if is_delete => {
            let r: AppReq = parse(body)?;
            let removed = st.remove_app_secret(&r.tenant_id, &r.client_id, &r.client_secret);
            Ok(json!({ "removed": removed }))
        }
        "apps/certificates" if is_post => {
            let r: CertReq = parse(body)?;
            st.ensure_app(&r.tenant_id, &r.client_id);
            let c = st
                .assertions
                .add_certificate(&r.client_id, &r.certificate_pem)
                .map_err(bad)?;
            Ok(json!({ "x5t_s256": c.x5t_s256 }))
        }
        "apps/certificates" if is_delete => {
            st.assertions.remove_certificates(&param("client_id"));
            Ok(json!({}))
        }
        "apps/federated" if is_post => {
            let r: FederatedReq = parse(body)?;
            st.ensure_app(&r.tenant_id, &r.client_id);
            st.assertions.add_federated(&r.client_id, r.credential);
            Ok(json!({}))
        }
        "federated/tokens" if is_post => {
            let r: SubjectTokenReq = parse(body)?;
            let now = st.now().unix_seconds();
            let token = super::assertion::mint_subject_token(
                signer,
                now,
                &r.issuer,
                &r.subject,
                r.audience
                    .as_deref()
                    .unwrap_or("api://AzureADTokenExchange"),
                r.lifetime_secs.unwrap_or(3600),
            );
            Ok(json!({ "token": token }))
        }
        "managed_identities" if is_post => {
            let r: ManagedIdentityReq = parse(body)?;
            let fc = st.add_managed_identity(&r.tenant_id, &r.client_id, r.system_assigned);
            Ok(json!({
                "issuer": fc.issuer,
                "subject": fc.subject,
                "audience": fc.audience,
                "imds_endpoint": format!("{}/metadata/identity/oauth2/token", shared.base_url),
                "identity_endpoint": format!("{}/msi/token", shared.base_url),
                "identity_header": st.identity_header(),
            }))
        }
        "products" if is_post => {
            let spec: ProductSpec = parse(body)?;
            Ok(json!({ "product_id": st.add_product(spec) }))
        }
        "users" if is_post => {
            let r: UserReq = parse(body)?;
            st.user_mut(r.sandbox.as_deref().unwrap_or(""), &r.store_user_id);
            Ok(json!({}))
        }
        "purchases" if is_post => {
            let r: PurchaseReq = parse(body)?;
            let o = st
                .create_order_full(
                    r.sandbox.as_deref().unwrap_or(""),
                    &r.store_user_id,
                    &r.store_user_id,
                    &r.product_id,
                    r.sku_id.as_deref().filter(|s| !s.is_empty()),
                    r.quantity.unwrap_or(1),
                    None,
                    "",
                    "en-us",
                    "us",
                    r.trial,
                )
                .map_err(bad)?;
            serde_json::to_value(o).map_err(|e| (500, e.to_string()))
        }
        "promotions" if is_post => {
            let r: PromoReq = parse(body)?;
            let o = st
                .grant_promo(
                    r.sandbox.as_deref().unwrap_or(""),
                    &r.store_user_id,
                    &r.product_id,
                )
                .map_err(bad)?;
            serde_json::to_value(o).map_err(|e| (500, e.to_string()))
        }
        "tokens" if is_post => {
            let r: TokenReq = parse(body)?;
            let t = tokens::issue(st, signer, &r.tenant_id, &r.client_id, &r.audience);
            Ok(json!({ "access_token": t.token, "expires_in": t.lifetime }))
        }
        "keys/mint" if is_post => {
            let r: MintReq = parse(body)?;
            let kind = KeyKind::parse(&r.kind)
                .ok_or_else(|| bad("kind must be 'collections' or 'purchase'"))?;
            let token = match (r.key_create_token, r.tenant_id, r.client_id) {
                (Some(t), _, _) => t,
                (None, Some(tenant), Some(client)) => {
                    if st.tenant(&tenant).is_none() {
                        return Err((404, format!("unknown tenant '{tenant}'")));
                    }
                    tokens::issue(st, signer, &tenant, &client, kind.create_audience()).token
                }
                _ => return Err(bad("key_create_token or tenant_id+client_id is required")),
            };
            let key = keys::mint(
                st,
                signer,
                kind,
                &token,
                &r.publisher_user_id,
                &r.store_user_id,
            )
            .map_err(|e| bad(e.to_string()))?;
            Ok(json!({ "key": key }))
        }
        "keys/revoke" if is_post => {
            let r: RevokeReq = parse(body)?;
            match (r.key, r.store_user_id) {
                (Some(k), _) => {
                    if !keys::revoke(st, &k) {
                        return Err(bad("key is not a JWT"));
                    }
                }
                (None, Some(u)) => keys::revoke_user(st, &u),
                _ => return Err(bad("key or store_user_id is required")),
            }
            Ok(json!({}))
        }
        "clock" if is_get => Ok(json!({ "now": st.now().to_iso() })),
        "clock/advance" if is_post => {
            let r: AdvanceReq = parse(body)?;
            if !r.seconds.is_finite() || r.seconds < 0.0 || r.seconds > 1e10 {
                return Err(bad("seconds must be between 0 and 1e10"));
            }
            st.clock
                .advance(std::time::Duration::from_secs_f64(r.seconds));
            st.tick();
            Ok(json!({ "now": st.now().to_iso() }))
        }
        "clock/set" if is_post => {
            let r: SetReq = parse(body)?;
            st.clock.set(ts(&r.now)?);
            st.tick();
            Ok(json!({ "now": st.now().to_iso() }))
        }
        "faults" if is_post => {
            let rule: FaultRule = parse(body)?;
            Ok(json!({ "id": st.faults.add(rule) }))
        }
        "faults" if is_get => Ok(Value::Array(
            st.faults
                .list()
                .into_iter()
                .map(|(id, r)| {
                    let mut v = serde_json::to_value(r).unwrap_or(Value::Null);
                    if let Some(o) = v.as_object_mut() {
                        o.insert("id".into(), json!(id));
                    }
                    v
                })
                .collect(),
        )),
        "faults" if is_delete => {
            let id = param("id");
            if id.is_empty() {
                st.faults.clear();
                st.rate.clear();
            } else {
                let id: u64 = id.parse().map_err(|_| bad("id must be a number"))?;
                if !st.faults.remove(id) {
                    return Err((404, format!("no fault {id}")));
                }
            }
            Ok(json!({}))
        }
        "knobs" if is_get => serde_json::to_value(&st.knobs).map_err(|e| (500, e.to_string())),
        "knobs" if is_post => {
            let patch: Value = parse(body)?;
            let Value::Object(patch) = patch else {
                return Err(bad("knobs must be a JSON object"));
            };
            let mut cur = serde_json::to_value(&st.knobs).map_err(|e| (500, e.to_string()))?;
            if let Some(o) = cur.as_object_mut() {
                for (k, v) in patch {
                    if !o.contains_key(&k) {
                        return Err(bad(format!("unknown knob '{k}'")));
                    }
                    o.insert(k, v);
                }
            }
            let knobs: Knobs =
                serde_json::from_value(cur).map_err(|e| bad(format!("invalid knobs: {e}")))?;
            st.knobs = knobs;
            serde_json::to_value(&st.knobs).map_err(|e| (500, e.to_string()))
        }
        "balance" if is_get => {
            let user = param("user");
            let product = param("product");
            if user.is_empty() || product.is_empty() {
                return Err(bad("user and product are required"));
            }
            Ok(json!({ "balance": st.balance(&param("sandbox"), &user, &product) }))
        }
        "recurrences" if is_get => {
            let user = param("user");
            let items: Vec<Value> = st
                .user(&param("sandbox"), &user)
                .map(|u| u.recurrences.iter().map(|r| r.to_json(&user)).collect())
                .unwrap_or_default();
            Ok(Value::Array(items))
        }
        "clawback" if is_post => {
            let r: super::ClawbackRequest = parse(body)?;
            let out = st.clawback(&r).map_err(bad)?;
            serde_json::to_value(out).map_err(|e| (500, e.to_string()))
        }
        "queue" if is_get => {
            let now = st.now();
            let msgs = st.queue.messages(now).to_vec();
            Ok(json!({ "count": msgs.len(), "messages": msgs }))
        }
        "queue" if is_post => {
            let r: RawMessageReq = parse(body)?;
            Ok(json!({ "message_id": st.enqueue_raw(r.text) }))
        }
        "queue" if is_delete => {
            st.queue.clear();
            Ok(json!({}))
        }
        "clawback" | "queue" => Err((405, "method not allowed".into())),
        "seed/demo" | "tenants" | "apps" | "products" | "users" | "purchases" | "promotions"
        | "tokens" | "keys/mint" | "keys/revoke" | "clock" | "clock/advance" | "clock/set"
        | "faults" | "knobs" | "balance" | "recurrences" => Err((405, "method not allowed".into())),
        _ => Err((404, format!("no admin route '{rest}'"))),
    }
}
