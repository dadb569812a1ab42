//! The emulated world: Entra registry, catalog, per-(sandbox, user) entitlements and orders.
//! Everything lives behind one mutex and is only touched by synchronous code.

use super::catalog::{ProductKind, ProductSpec};
use super::clock::Clock;
use super::config::Knobs;
use super::faults::{Faults, RateLimiter};
use super::subscriptions::Recurrence;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};

pub const RETAIL: &str = "RETAIL";

#[derive(Debug, Clone)]
pub struct AppSecret {
    pub value: String,
    pub expires: Option<Timestamp>,
}

#[derive(Debug, Clone)]
pub struct App {
    pub client_id: String,
    pub secrets: Vec<AppSecret>,
}

#[derive(Debug, Clone, Default)]
pub struct Tenant {
    pub tenant_id: String,
    pub apps: Vec<App>,
}

/// How an entitlement was acquired; drives the excludeDuplicates priority (https://learn.microsoft.com/en-us/gaming/gdk/_content/gc/commerce/service-to-service/microsoft-store-apis/xstore-v8-query-for-products).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Source {
    Direct,
    Bundle,
    Subscription,
    Promo,
}

impl Source {
    pub fn priority(&self) -> u8 {
        match self {
            Source::Direct => 0,
            Source::Bundle => 1,
            Source::Subscription => 2,
            Source::Promo => 3,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Entitlement {
    pub id: String,
    pub product_id: String,
    pub sku_id: String,
    pub kind: ProductKind,
    pub source: Source,
    pub satisfied_by: Vec<String>,
    /// `Single`, `Recurring` or `Conditional`.
    pub acquisition_type: String,
    /// `Active`, `Expired`, `Revoked`, `Banned`, `Suspended`.
    pub status: String,
    pub acquired: Timestamp,
    pub start: Timestamp,
    pub end: Timestamp,
    pub modified: Timestamp,
    pub transaction_id: String,
    pub order_id: String,
    pub line_item_id: String,
    pub is_trial: bool,
    pub trial_end: Option<Timestamp>,
    pub recurrence_id: Option<String>,
    pub purchased_country: String,
    pub publisher_user_id: String,
}

#[derive(Debug, Clone)]
pub struct Order {
    pub order_id: String,
    pub line_item_id: String,
    pub short_order_id: String,
    pub product_id: String,
    pub sku_id: String,
    pub kind: ProductKind,
    pub quantity: i64,
    /// Store-managed: unconsumed units. Developer-managed: outstanding (unfulfilled) units.
    pub remaining: i64,
    /// `Purchased`, `Refunded`, ...
    pub state: String,
    pub created: Timestamp,
    pub price: f64,
    pub currency: String,
    pub client_id: String,
    pub language: String,
    pub market: String,
    pub availability_id: String,
    pub title: String,
    pub purchaser: String,
    pub dev_offer_id: Option<String>,
    /// Clawback v1 `lineItemState`: `Purchased`, `Refunded`, `Revoked`.
    pub line_state: String,
    /// When the line was refunded (v1 `orderRefundedDate`).
    pub refunded_at: Option<Timestamp>,
    /// v1 `wasConsumableQuantityRevoked`.
    pub quantity_revoked: bool,
    /// Units a return/chargeback took back (a chargeback reversal restores them).
    pub revoked_units: i64,
    /// A return or chargeback removed the item.
    pub item_removed: bool,
    pub charged_back: bool,
}

/// One consume as remembered for idempotency (the idempotency the consume docs describe).
#[derive(Debug, Clone)]
pub struct ConsumeRecord {
    pub product_id: String,
    pub quantity: Option<i64>,
    pub item_id: String,
    pub order_transactions: Vec<(String, String, i64)>,
}

#[derive(Debug, Clone, Default)]
pub struct UserState {
    pub entitlements: Vec<Entitlement>,
    pub orders: Vec<Order>,
    pub recurrences: Vec<Recurrence>,
    /// trackingId (lower-case) → record.
    pub consumes: HashMap<String, ConsumeRecord>,
}

/// Trials need a trial length and make no sense for consumables (no "trial coins").
fn check_trial(product: &ProductSpec, quantity: i64) -> Result<(), String> {
    if product.trial_days == 0 {
        return Err(format!(
            "product '{}' has no trial (trial_days is 0)",
            product.product_id
        ));
    }
    if product.kind.is_consumable() || quantity != 1 {
        return Err(format!(
            "product '{}' cannot be bought as a trial with quantity {quantity}",
            product.product_id
        ));
    }
    Ok(())
}

/// Result of a purchase, returned to tests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderRef {
    pub order_id: String,
    pub line_item_id: String,
    pub short_order_id: String,
    pub entitlement_id: String,
    pub recurrence_id: Option<String>,
}

pub struct State {
    pub clock: Clock,
    pub knobs: Knobs,
    pub tenants: HashMap<String, Tenant>,
    pub products: BTreeMap<String, ProductSpec>,
    /// (SANDBOX, store user id) → state.
    pub users: HashMap<(String, String), UserState>,
    /// Signature segments of individually revoked keys.
    pub revoked_keys: HashSet<String>,
    /// Per store user key generation; "revoke all keys of a user" bumps it.
    pub key_generation: HashMap<String, u32>,
    pub faults: Faults,
    pub rate: RateLimiter,
    pub rng: fastrand::Rng,
    /// The clawback v2 queue and the SAS tokens issued for it.
    pub queue: super::queue::EmuQueue,
    /// App certificates, federated credentials and used assertion ids.
    pub assertions: super::assertion::Assertions,
    /// Managed identities assigned to the emulated host (IMDS / App Service stand-ins).
    pub identities: super::identity::ManagedIdentities,
}

impl State {
    pub fn new(clock: Clock, knobs: Knobs, seed: u64) -> State {
        State {
            clock,
            knobs,
            tenants: HashMap::new(),
            products: BTreeMap::new(),
            users: HashMap::new(),
            revoked_keys: HashSet::new(),
            key_generation: HashMap::new(),
            faults: Faults::default(),
            rate: RateLimiter::default(),
            rng: fastrand::Rng::with_seed(seed),
            queue: Default::default(),
            assertions: Default::default(),
            identities: Default::default(),
        }
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    pub fn guid(&mut self) -> String {
        let mut b = [0u8; 16];
        self.rng.fill(&mut b);
        uuid::Builder::from_random_bytes(b).into_uuid().to_string()
    }

    pub fn hex32(&mut self) -> String {
        let mut b = [0u8; 16];
        self.rng.fill(&mut b);
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    pub fn digits(&mut self, n: usize) -> String {
        (0..n)
            .map(|i| {
                let lo = if i == 0 { 1 } else { 0 };
                char::from(b'0' + self.rng.u8(lo..10))
            })
            .collect()
    }

    pub fn add_tenant(&mut self, tenant_id: &str) {
        self.tenants
            .entry(tenant_id.to_ascii_lowercase())
            .or_insert_with(|| Tenant {
                tenant_id: tenant_id.to_string(),
                apps: Vec::new(),
            });
    }

    /// Registers an app with no secret (certificate or federated credentials only), unless it
    /// exists.
    pub fn ensure_app(&mut self, tenant_id: &str, client_id: &str) {
        self.add_tenant(tenant_id);
        if let Some(t) = self.tenants.get_mut(&tenant_id.to_ascii_lowercase()) {
            if !t
                .apps
                .iter()
                .any(|a| crate::claims::client_ids_match(&a.client_id, client_id))
            {
                t.apps.push(App {
                    client_id: client_id.to_string(),
                    secrets: Vec::new(),
                });
            }
        }
    }

    pub fn tenant(&self, tenant_id: &str) -> Option<&Tenant> {
        self.tenants.get(&tenant_id.to_ascii_lowercase())
    }

    /// Adds an app (creating the tenant), or another secret to an existing app.
    pub fn add_app(
        &mut self,
        tenant_id: &str,
        client_id: &str,
        secret: &str,
        expires: Option<Timestamp>,
    ) {
        self.add_tenant(tenant_id);
        if let Some(t) = self.tenants.get_mut(&tenant_id.to_ascii_lowercase()) {
            let secret = AppSecret {
                value: secret.to_string(),
                expires,
            };
            match t
                .apps
                .iter_mut()
                .find(|a| crate::claims::client_ids_match(&a.client_id, client_id))
            {
                Some(app) => app.secrets.push(secret),
                None => t.apps.push(App {
                    client_id: client_id.to_string(),
                    secrets: vec![secret],
                }),
            }
        }
    }

    /// Removes one secret of an app (secret rotation: the old one is revoked). Returns whether
    /// it was there.
    pub fn remove_app_secret(&mut self, tenant_id: &str, client_id: &str, secret: &str) -> bool {
        let Some(t) = self.tenants.get_mut(&tenant_id.to_ascii_lowercase()) else {
            return false;
        };
        let Some(app) = t
            .apps
            .iter_mut()
            .find(|a| crate::claims::client_ids_match(&a.client_id, client_id))
        else {
            return false;
        };
        let before = app.secrets.len();
        app.secrets.retain(|s| s.value != secret);
        app.secrets.len() != before
    }

    pub fn add_product(&mut self, mut spec: ProductSpec) -> String {
        if spec.product_id.trim().is_empty() {
            spec.product_id = format!("9N{}", self.hex32()[..10].to_ascii_uppercase());
        }
        if spec.skus.is_empty() {
            spec.skus.push("0010".into());
        }
        if spec.availability_id.is_empty() {
            spec.availability_id = format!("9R{}", self.hex32()[..10].to_ascii_uppercase());
        }
        if spec.title.is_empty() {
            spec.title = format!("Product {}", spec.product_id);
        }
        let id = spec.product_id.clone();
        self.products.insert(id.to_ascii_uppercase(), spec);
        id
    }

    pub fn product(&self, product_id: &str) -> Option<&ProductSpec> {
        self.products.get(&product_id.to_ascii_uppercase())
    }

    pub fn user_key(sandbox: &str, store_user: &str) -> (String, String) {
        let sbx = if sandbox.trim().is_empty() {
            RETAIL.to_string()
        } else {
            sandbox.trim().to_ascii_uppercase()
        };
        (sbx, store_user.to_string())
    }

    pub fn user_mut(&mut self, sandbox: &str, store_user: &str) -> &mut UserState {
        self.users
            .entry(State::user_key(sandbox, store_user))
            .or_default()
    }

    pub fn user(&self, sandbox: &str, store_user: &str) -> Option<&UserState> {
        self.users.get(&State::user_key(sandbox, store_user))
    }

    /// Store-managed: unconsumed units; developer-managed: outstanding fulfilments; else the
    /// number of active entitlements for the product.
    pub fn balance(&self, sandbox: &str, store_user: &str, product_id: &str) -> i64 {
        let Some(u) = self.user(sandbox, store_user) else {
            return 0;
        };
        let kind = self.product(product_id).map(|p| p.kind);
        match kind {
            Some(k) if k.is_consumable() => u
                .orders
                .iter()
                .filter(|o| o.product_id.eq_ignore_ascii_case(product_id) && o.state == "Purchased")
                .map(|o| o.remaining)
                .sum(),
            _ => u
                .entitlements
                .iter()
                .filter(|e| e.product_id.eq_ignore_ascii_case(product_id) && e.status == "Active")
                .count() as i64,
        }
    }

    /// Creates an order and its entitlement(s). Shared by paid purchases (admin) and grants.
    #[allow(clippy::too_many_arguments)]
    pub fn create_order(
        &mut self,
        sandbox: &str,
        store_user: &str,
        publisher_user_id: &str,
        product_id: &str,
        sku_id: Option<&str>,
        quantity: i64,
        order_id: Option<String>,
        client_id: &str,
        language: &str,
        market: &str,
    ) -> Result<OrderRef, String> {
        self.create_order_full(
            sandbox,
            store_user,
            publisher_user_id,
            product_id,
            sku_id,
            quantity,
            order_id,
            client_id,
            language,
            market,
            false,
        )
    }

    /// [`State::create_order`] with the trial switch: a trial uses `ProductSpec.trial_days`.
    #[allow(clippy::too_many_arguments)]
    pub fn create_order_full(
        &mut self,
        sandbox: &str,
        store_user: &str,
        publisher_user_id: &str,
        product_id: &str,
        sku_id: Option<&str>,
        quantity: i64,
        order_id: Option<String>,
        client_id: &str,
        language: &str,
        market: &str,
        trial: bool,
    ) -> Result<OrderRef, String> {
        let product = self
            .product(product_id)
            .cloned()
            .ok_or_else(|| format!("unknown product '{product_id}'"))?;
        let sku = match sku_id {
            Some(s) if !s.is_empty() => {
                if !product.skus.iter().any(|k| k.eq_ignore_ascii_case(s)) {
                    return Err(format!("product '{product_id}' has no SKU '{s}'"));
                }
                s.to_string()
            }
            _ => product.default_sku(),
        };
        if quantity < 1 {
            return Err("quantity must be at least 1".into());
        }
        if trial {
            check_trial(&product, quantity)?;
        }
        let now = self.now();
        let trial_end = trial.then(|| now.add_secs(i64::from(product.trial_days) * 86_400));
        let order_id = order_id.unwrap_or_else(|| self.guid());
        let line_item_id = self.guid();
        let short_order_id = self.digits(10);
        let country = market.to_ascii_uppercase();
        let order = Order {
            order_id: order_id.clone(),
            line_item_id: line_item_id.clone(),
            short_order_id: short_order_id.clone(),
            product_id: product.product_id.clone(),
            sku_id: sku.clone(),
            kind: product.kind,
            quantity,
            remaining: if product.kind.is_consumable() {
                quantity
            } else {
                0
            },
            state: "Purchased".into(),
            created: now,
            price: product.price,
            currency: product.currency_code.clone(),
            client_id: client_id.to_string(),
            language: language.to_string(),
            market: market.to_string(),
            availability_id: product.availability_id.clone(),
            title: product.title.clone(),
            purchaser: publisher_user_id.to_string(),
            dev_offer_id: product.dev_offer_id.clone(),
            line_state: "Purchased".into(),
            refunded_at: None,
            quantity_revoked: false,
            revoked_units: 0,
            item_removed: false,
            charged_back: false,
        };

        if product.subscription.is_some() {
            if let Some(r) = self.renew_active(sandbox, store_user, &order, trial)? {
                return Ok(r);
            }
        }
        let recurrence = product.subscription.as_ref().map(|sub| {
            let id = format!("mdr:0:{}:{}", self.hex32(), self.guid());
            let mut r = Recurrence::new(id, &product, &sku, sub, now, &country, &order_id);
            if let Some(t) = trial_end {
                r.start_trial(t);
            }
            r
        });
        let recurrence_id = recurrence.as_ref().map(|r| r.id.clone());
        let (end, acq) = match (&recurrence, trial_end) {
            (Some(r), _) => (r.expiration_with_grace(), "Recurring"),
            (None, Some(t)) => (t, "Single"),
            (None, None) => (Timestamp::MAX, "Single"),
        };
        let is_trial = trial;
        let mut new_ents = Vec::new();
        let base = Entitlement {
            id: String::new(),
            product_id: product.product_id.clone(),
            sku_id: sku.clone(),
            kind: product.kind,
            source: Source::Direct,
            satisfied_by: Vec::new(),
            acquisition_type: acq.into(),
            status: "Active".into(),
            acquired: now,
            start: now,
            end,
            modified: now,
            transaction_id: order_id.clone(),
            order_id: order_id.clone(),
            line_item_id: line_item_id.clone(),
            is_trial,
            trial_end: trial_end.map(|t| match &recurrence {
                Some(r) => r.expiration.min(t),
                None => t,
            }),
            recurrence_id: recurrence_id.clone(),
            purchased_country: country.clone(),
            publisher_user_id: publisher_user_id.to_string(),
        };
        let children: Vec<ProductSpec> = product
            .bundle_children
            .iter()
            .filter_map(|c| self.product(c).cloned())
            .collect();
        let child_source = if recurrence.is_some() {
            Source::Subscription
        } else {
            Source::Bundle
        };

        // Consumables keep one item per product whose quantity is derived from the orders.
        let existing_id = {
            let user = self.user_mut(sandbox, store_user);
            if product.kind.is_consumable() {
                user.entitlements
                    .iter_mut()
                    .find(|e| e.product_id.eq_ignore_ascii_case(&product.product_id))
                    .map(|e| {
                        e.modified = now;
                        e.status = "Active".into();
                        e.transaction_id = order_id.clone();
                        e.id.clone()
                    })
            } else {
                None
            }
        };
        let entitlement_id = match existing_id {
            Some(id) => id,
            None => {
                let id = self.hex32();
                new_ents.push(Entitlement {
                    id: id.clone(),
                    ..base.clone()
                });
                id
            }
        };
        for child in children {
            let cid = self.hex32();
            new_ents.push(Entitlement {
                id: cid,
                product_id: child.product_id.clone(),
                sku_id: child.default_sku(),
                kind: child.kind,
                source: child_source,
                satisfied_by: vec![product.product_id.clone()],
                ..base.clone()
            });
        }
        let user = self.user_mut(sandbox, store_user);
        user.orders.push(order);
        user.entitlements.extend(new_ents);
        if let Some(r) = recurrence {
            user.recurrences.push(r);
        }
        Ok(OrderRef {
            order_id,
            line_item_id,
            short_order_id,
            entitlement_id,
            recurrence_id,
        })
    }

    /// A promotional (`Conditional`, e.g. Games with Gold) entitlement: no order and the
    /// lowest duplicate priority (https://learn.microsoft.com/en-us/gaming/gdk/_content/gc/commerce/service-to-service/microsoft-store-apis/xstore-v8-query-for-products).
    pub fn grant_promo(
        &mut self,
        sandbox: &str,
        store_user: &str,
        product_id: &str,
    ) -> Result<OrderRef, String> {
        let product = self
            .product(product_id)
            .cloned()
            .ok_or_else(|| format!("unknown product '{product_id}'"))?;
        if product.kind.is_consumable() {
            return Err(format!(
                "product '{product_id}' is a consumable and cannot be promotional"
            ));
        }
        let now = self.now();
        let (id, transaction_id, line_item_id) = (self.hex32(), self.guid(), self.guid());
        let ent = Entitlement {
            id: id.clone(),
            product_id: product.product_id.clone(),
            sku_id: product.default_sku(),
            kind: product.kind,
            source: Source::Promo,
            satisfied_by: Vec::new(),
            acquisition_type: "Conditional".into(),
            status: "Active".into(),
            acquired: now,
            start: now,
            end: Timestamp::MAX,
            modified: now,
            transaction_id: transaction_id.clone(),
            order_id: transaction_id.clone(),
            line_item_id: line_item_id.clone(),
            is_trial: false,
            trial_end: None,
            recurrence_id: None,
            purchased_country: "US".into(),
            publisher_user_id: store_user.to_string(),
        };
        self.user_mut(sandbox, store_user).entitlements.push(ent);
        Ok(OrderRef {
            order_id: transaction_id,
            line_item_id,
            short_order_id: String::new(),
            entitlement_id: id,
            recurrence_id: None,
        })
    }

    /// Buying a subscription that is still live (not terminal) adds a billing period to the
    /// existing recurrence instead of creating a second one (new id only after a terminal
    /// state). Returns `None` when there is nothing to extend.
    fn renew_active(
        &mut self,
        sandbox: &str,
        store_user: &str,
        order: &Order,
        trial: bool,
    ) -> Result<Option<OrderRef>, String> {
        let now = self.now();
        let user = self.user_mut(sandbox, store_user);
        let Some(r) = user
            .recurrences
            .iter_mut()
            .find(|r| !r.is_terminal() && r.product_id.eq_ignore_ascii_case(&order.product_id))
        else {
            return Ok(None);
        };
        if trial {
            return Err(format!(
                "product '{}' already has a live subscription; no trial",
                order.product_id
            ));
        }
        r.expiration = super::subscriptions::period_end(r.expiration.add_secs(1), r.months);
        r.last_modified = now;
        let rid = r.id.clone();
        let entitlement_id = user
            .entitlements
            .iter()
            .find(|e| {
                e.recurrence_id.as_deref() == Some(rid.as_str()) && e.source == Source::Direct
            })
            .map(|e| e.id.clone())
            .unwrap_or_default();
        let out = OrderRef {
            order_id: order.order_id.clone(),
            line_item_id: order.line_item_id.clone(),
            short_order_id: order.short_order_id.clone(),
            entitlement_id,
            recurrence_id: Some(rid),
        };
        user.orders.push(order.clone());
        Ok(Some(out))
    }
}
