//! A local emulator of the Microsoft Store Services (Entra token endpoint, Collections and
//! Purchase) for tests, examples and offline development. See the README section "The emulator".
//!
//! The emulator runs on its own thread with its own tokio runtime, so it can be driven from
//! plain synchronous code:
//!
//! ```no_run
//! use msstore_emulator::{Emulator, EmulatorConfig};
//! let emu = Emulator::start(EmulatorConfig::default()).unwrap();
//! let seed = emu.seed_demo();
//! println!("{} {}", emu.login_base_url(), seed.collections_key);
//! ```
//!
//! Every admin operation is also available as JSON over HTTP under `{base}/admin/` (see
//! [`admin`]), for the C, C# and C++ test suites.

pub mod admin;
mod assertion;
mod catalog;
mod claims;
mod clawback;
mod clock;
mod collections;
mod config;
mod consume;
mod crypto;
mod entra;
mod faults;
mod identity;
mod json;
mod jwt;
mod keys;
mod log;
mod purchase;
mod queue;
mod router;
mod seed;
mod server;
mod state;
mod subscriptions;
mod time;
mod tls;
mod tokens;

pub use assertion::FederatedCredential;
pub use catalog::{ProductKind, ProductSpec, SubscriptionSpec};
pub use clawback::{ClawbackAction, ClawbackOutcome, ClawbackRequest, EnqueuedEvent};
pub use config::{EmulatorConfig, Knobs, RateLimit};
pub use faults::{FaultKind, FaultRule};
pub use keys::{EmuError, KeyKind};
pub use log::LoggedRequest;
pub use queue::QueuedMessage;
pub use seed::DemoSeed;
pub use state::OrderRef;
pub use time::Timestamp;
pub use tls::TEST_CERT_PEM;

use server::{lock, Shared};
use state::State;
use std::net::{IpAddr, SocketAddr, TcpListener};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A running emulator. Dropping it stops the server and joins its thread.
pub struct Emulator {
    shared: Arc<Shared>,
    addr: SocketAddr,
    stop: Option<tokio::sync::watch::Sender<bool>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// Only loopback addresses may be bound: the emulator hands out tokens to anyone who asks.
pub fn parse_loopback(host: &str) -> std::io::Result<IpAddr> {
    let h = host.trim().trim_start_matches('[').trim_end_matches(']');
    let ip: IpAddr = if h.eq_ignore_ascii_case("localhost") {
        IpAddr::from([127, 0, 0, 1])
    } else {
        h.parse().map_err(|_| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("invalid host '{host}'"),
            )
        })?
    };
    if !ip.is_loopback() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("host '{host}' is not a loopback address"),
        ));
    }
    Ok(ip)
}

impl Emulator {
    /// Binds `host:port` (port 0 = ephemeral) and returns once the listener is accepting.
    pub fn start(config: EmulatorConfig) -> std::io::Result<Emulator> {
        let ip = parse_loopback(&config.host)?;
        let listener = TcpListener::bind(SocketAddr::new(ip, config.port))?;
        let addr = listener.local_addr()?;
        let scheme = if config.tls { "https" } else { "http" };
        let base_url = match addr {
            SocketAddr::V4(a) => format!("{scheme}://{}:{}", a.ip(), a.port()),
            SocketAddr::V6(a) => format!("{scheme}://[{}]:{}", a.ip(), a.port()),
        };
        let tls = if config.tls {
            Some(tls::acceptor()?)
        } else {
            None
        };
        let shared = Arc::new(Shared {
            state: Mutex::new(State::new(
                clock::Clock::new(config.start_time),
                config.knobs.clone(),
                config.rng_seed,
            )),
            signer: crypto::Signer::new()?,
            log: Mutex::new(Default::default()),
            log_seq: AtomicU64::new(0),
            connections: AtomicU64::new(0),
            base_url,
        });
        let (tx, rx) = tokio::sync::watch::channel(false);
        let thread = server::spawn(listener, tls, shared.clone(), rx)?;
        Ok(Emulator {
            shared,
            addr,
            stop: Some(tx),
            thread: Some(thread),
        })
    }

    /// Stops accepting, closes every connection and joins the server thread. Idempotent.
    pub fn shutdown(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(true);
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT` (`https://` when started with `tls`).
    pub fn base_url(&self) -> String {
        self.shared.base_url.clone()
    }

    pub fn login_base_url(&self) -> String {
        format!("{}/login", self.base_url())
    }

    pub fn collections_base_url(&self) -> String {
        format!("{}/collections", self.base_url())
    }

    pub fn purchase_base_url(&self) -> String {
        format!("{}/purchase", self.base_url())
    }

    fn with_state<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        let mut st = lock(&self.shared.state);
        st.tick();
        f(&mut st)
    }

    pub fn add_tenant(&self, tenant_id: &str) {
        self.with_state(|s| s.add_tenant(tenant_id))
    }

    /// Registers an app (creating the tenant); calling again adds another valid secret.
    pub fn add_app(&self, tenant_id: &str, client_id: &str, secret: &str) {
        self.with_state(|s| s.add_app(tenant_id, client_id, secret, None))
    }

    /// Revokes one secret of an app (the end of a rotation); returns whether it existed.
    pub fn remove_app_secret(&self, tenant_id: &str, client_id: &str, secret: &str) -> bool {
        self.with_state(|s| s.remove_app_secret(tenant_id, client_id, secret))
    }

    /// Like [`Emulator::add_app`] with a secret that expires at `expires` (virtual time).
    pub fn add_app_with_expiring_secret(
        &self,
        tenant_id: &str,
        client_id: &str,
        secret: &str,
        expires: Timestamp,
    ) {
        self.with_state(|s| s.add_app(tenant_id, client_id, secret, Some(expires)))
    }

    /// Registers a certificate (PEM; the first certificate counts) for an app, creating the app
    /// without a secret if needed. Assertions signed with its key and naming it by `x5t#S256`
    /// (or `x5t`) are accepted. Returns the base64url SHA-256 thumbprint.
    pub fn add_app_certificate(
        &self,
        tenant_id: &str,
        client_id: &str,
        certificate_pem: &str,
    ) -> Result<String, String> {
        self.with_state(|s| {
            s.ensure_app(tenant_id, client_id);
            s.assertions
                .add_certificate(client_id, certificate_pem)
                .map(|c| c.x5t_s256)
        })
    }

    /// Removes every certificate of an app.
    pub fn remove_app_certificates(&self, client_id: &str) {
        self.with_state(|s| s.assertions.remove_certificates(client_id))
    }

    /// Adds a federated identity credential (issuer, subject, audience) to an app, creating it
    /// without a secret if needed.
    pub fn add_federated_credential(
        &self,
        tenant_id: &str,
        client_id: &str,
        credential: FederatedCredential,
    ) {
        self.with_state(|s| {
            s.ensure_app(tenant_id, client_id);
            s.assertions.add_federated(client_id, credential)
        })
    }

    /// A subject token signed by the emulator's federated issuer (what AKS writes to
    /// `AZURE_FEDERATED_TOKEN_FILE`), valid `lifetime_secs` of virtual time.
    pub fn mint_federated_token(
        &self,
        issuer: &str,
        subject: &str,
        audience: &str,
        lifetime_secs: i64,
    ) -> String {
        let now = self.with_state(|s| s.now().unix_seconds());
        assertion::mint_subject_token(
            &self.shared.signer,
            now,
            issuer,
            subject,
            audience,
            lifetime_secs,
        )
    }

    /// Assigns a managed identity (a user-assigned one by `client_id`, or the system-assigned
    /// one) to the emulated host and returns the federated credential to add to an app that
    /// trusts it (see [`Emulator::add_federated_credential`]). Its tokens come from
    /// [`Emulator::imds_endpoint`] and [`Emulator::app_service_identity_endpoint`].
    pub fn add_managed_identity(
        &self,
        tenant_id: &str,
        client_id: &str,
        system_assigned: bool,
    ) -> FederatedCredential {
        self.with_state(|s| s.add_managed_identity(tenant_id, client_id, system_assigned))
    }

    /// The IMDS stand-in: `{base}/metadata/identity/oauth2/token` (needs `Metadata: true`).
    pub fn imds_endpoint(&self) -> String {
        format!("{}/metadata/identity/oauth2/token", self.base_url())
    }

    /// The App Service / Container Apps stand-in (`IDENTITY_ENDPOINT`): `{base}/msi/token`.
    pub fn app_service_identity_endpoint(&self) -> String {
        format!("{}/msi/token", self.base_url())
    }

    /// The App Service `IDENTITY_HEADER` the stand-in expects as `X-IDENTITY-HEADER`.
    pub fn app_service_identity_header(&self) -> String {
        self.with_state(|s| s.identity_header())
    }

    /// Adds or replaces a product; returns its id (generated when empty).
    pub fn add_product(&self, spec: ProductSpec) -> String {
        self.with_state(|s| s.add_product(spec))
    }

    pub fn add_user(&self, store_user_id: &str) {
        self.add_user_in_sandbox(state::RETAIL, store_user_id)
    }

    pub fn add_user_in_sandbox(&self, sandbox: &str, store_user_id: &str) {
        self.with_state(|s| {
            s.user_mut(sandbox, store_user_id);
        })
    }

    /// A paid purchase in RETAIL: entitlement, consumable units or subscription. `sku_id`
    /// empty = the product's first SKU.
    pub fn purchase(
        &self,
        store_user_id: &str,
        product_id: &str,
        sku_id: &str,
        quantity: i64,
    ) -> Result<OrderRef, EmuError> {
        self.purchase_in_sandbox(state::RETAIL, store_user_id, product_id, sku_id, quantity)
    }

    pub fn purchase_in_sandbox(
        &self,
        sandbox: &str,
        store_user_id: &str,
        product_id: &str,
        sku_id: &str,
        quantity: i64,
    ) -> Result<OrderRef, EmuError> {
        self.with_state(|s| {
            s.create_order(
                sandbox,
                store_user_id,
                store_user_id,
                product_id,
                Some(sku_id).filter(|x| !x.is_empty()),
                quantity,
                None,
                "",
                "en-us",
                "us",
            )
            .map_err(EmuError::Invalid)
        })
    }

    /// Buys `product_id` as a trial of `ProductSpec.trial_days` days (RETAIL). Items then carry
    /// `trialData`/`skuType: "Trial"`; a subscription's recurrence has `isTrial: true`.
    pub fn purchase_trial(
        &self,
        store_user_id: &str,
        product_id: &str,
        sku_id: &str,
    ) -> Result<OrderRef, EmuError> {
        self.with_state(|s| {
            s.create_order_full(
                state::RETAIL,
                store_user_id,
                store_user_id,
                product_id,
                Some(sku_id).filter(|x| !x.is_empty()),
                1,
                None,
                "",
                "en-us",
                "us",
                true,
            )
            .map_err(EmuError::Invalid)
        })
    }

    /// Grants `product_id` promotionally (acquisitionType `Conditional`, RETAIL). It loses to
    /// direct, bundle and subscription ownership under `excludeDuplicates`. No order is created;
    /// `order_id` is the item's transactionId.
    pub fn grant_promotional(
        &self,
        store_user_id: &str,
        product_id: &str,
    ) -> Result<OrderRef, EmuError> {
        self.with_state(|s| {
            s.grant_promo(state::RETAIL, store_user_id, product_id)
                .map_err(EmuError::Invalid)
        })
    }

    /// Issues an Entra-style token without going through HTTP (no secret check).
    pub fn issue_token(&self, tenant_id: &str, client_id: &str, audience: &str) -> String {
        let signer = &self.shared.signer;
        self.with_state(|s| tokens::issue(s, signer, tenant_id, client_id, audience).token)
    }

    /// What the device does: mint a Store ID key with a key-create token.
    pub fn mint_key(
        &self,
        kind: KeyKind,
        key_create_token: &str,
        publisher_user_id: &str,
        store_user_id: &str,
    ) -> Result<String, EmuError> {
        let signer = &self.shared.signer;
        self.with_state(|s| {
            keys::mint(
                s,
                signer,
                kind,
                key_create_token,
                publisher_user_id,
                store_user_id,
            )
        })
    }

    /// Issues the key-create token for the app itself, then mints.
    pub fn mint_key_for_app(
        &self,
        tenant_id: &str,
        client_id: &str,
        kind: KeyKind,
        publisher_user_id: &str,
        store_user_id: &str,
    ) -> Result<String, EmuError> {
        let signer = &self.shared.signer;
        self.with_state(|s| {
            if s.tenant(tenant_id).is_none() {
                return Err(EmuError::Unknown(format!("tenant '{tenant_id}'")));
            }
            let t = tokens::issue(s, signer, tenant_id, client_id, kind.create_audience());
            keys::mint(s, signer, kind, &t.token, publisher_user_id, store_user_id)
        })
    }

    /// Revokes one key; false if `key` is not a JWT.
    pub fn revoke_key(&self, key: &str) -> bool {
        self.with_state(|s| keys::revoke(s, key))
    }

    /// Revokes every key minted so far for the store user (renewals of them fail too).
    pub fn revoke_user_keys(&self, store_user_id: &str) {
        self.with_state(|s| keys::revoke_user(s, store_user_id))
    }

    /// Store-managed: remaining units; developer-managed: outstanding units; other kinds:
    /// number of active entitlements. RETAIL sandbox.
    pub fn balance(&self, store_user_id: &str, product_id: &str) -> i64 {
        self.balance_in_sandbox(state::RETAIL, store_user_id, product_id)
    }

    pub fn balance_in_sandbox(&self, sandbox: &str, store_user_id: &str, product_id: &str) -> i64 {
        self.with_state(|s| s.balance(sandbox, store_user_id, product_id))
    }

    /// Whether a v8 consume with this trackingId was applied for the user (RETAIL): what a
    /// test needs to tell a lost consume (applied, yet reported failed) from a refused one.
    pub fn consume_applied(&self, store_user_id: &str, tracking_id: &str) -> bool {
        let key = tracking_id.to_ascii_lowercase();
        self.with_state(|s| {
            s.user(state::RETAIL, store_user_id)
                .is_some_and(|u| u.consumes.contains_key(&key))
        })
    }

    /// `recurrenceState` of a subscription (RETAIL), after running the clock.
    pub fn recurrence_state(&self, store_user_id: &str, recurrence_id: &str) -> Option<String> {
        self.with_state(|s| {
            s.user(state::RETAIL, store_user_id)?
                .recurrences
                .iter()
                .find(|r| r.id == recurrence_id)
                .map(|r| r.state.clone())
        })
    }

    /// Virtual now.
    pub fn now(&self) -> Timestamp {
        self.with_state(|s| s.now())
    }

    pub fn advance(&self, d: Duration) {
        self.with_state(|s| {
            s.clock.advance(d);
            s.tick();
        })
    }

    pub fn set_now(&self, t: Timestamp) {
        self.with_state(|s| {
            s.clock.set(t);
            s.tick();
        })
    }

    /// Adds a fault rule; returns its id.
    pub fn add_fault(&self, rule: FaultRule) -> u64 {
        self.with_state(|s| s.faults.add(rule))
    }

    pub fn remove_fault(&self, id: u64) -> bool {
        self.with_state(|s| s.faults.remove(id))
    }

    pub fn clear_faults(&self) {
        self.with_state(|s| {
            s.faults.clear();
            s.rate.clear();
        })
    }

    pub fn knobs(&self) -> Knobs {
        self.with_state(|s| s.knobs.clone())
    }

    pub fn set_knobs(&self, knobs: Knobs) {
        self.with_state(|s| s.knobs = knobs)
    }

    pub fn update_knobs(&self, f: impl FnOnce(&mut Knobs)) {
        self.with_state(|s| f(&mut s.knobs))
    }

    /// Every logged Store/Entra request (admin calls are not logged), oldest first.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        lock(&self.shared.log).iter().cloned().collect()
    }

    pub fn clear_requests(&self) {
        lock(&self.shared.log).clear();
    }

    /// Requests whose route name (see [`LoggedRequest::route`]) equals `route`.
    pub fn count_requests(&self, route: &str) -> usize {
        lock(&self.shared.log)
            .iter()
            .filter(|r| r.route == route)
            .count()
    }

    /// Token requests (v1 and v2, any outcome) for `audience` (`/.default` ignored).
    pub fn token_requests_for(&self, audience: &str) -> usize {
        let want = audience
            .strip_suffix("/.default")
            .unwrap_or(audience)
            .trim_end_matches('/');
        lock(&self.shared.log)
            .iter()
            .filter(|r| {
                (r.route == "entra_v1" || r.route == "entra_v2")
                    && r.audience
                        .as_deref()
                        .is_some_and(|a| a.trim_end_matches('/').eq_ignore_ascii_case(want))
            })
            .count()
    }

    /// TCP connections accepted so far.
    pub fn connections_opened(&self) -> u64 {
        self.shared.connections.load(Ordering::Relaxed)
    }

    /// JWKS of the emulator signing key.
    pub fn jwks(&self) -> serde_json::Value {
        self.shared.signer.jwks()
    }

    /// Claws back an order line (refund, return, chargeback, reversal, partial subscription
    /// refund): updates entitlements, balances and v1 line states and enqueues v2 events.
    pub fn clawback(&self, req: ClawbackRequest) -> Result<ClawbackOutcome, EmuError> {
        self.with_state(|s| s.clawback(&req).map_err(EmuError::Invalid))
    }

    /// Shorthand for [`Emulator::clawback`] on a RETAIL order.
    pub fn clawback_order(
        &self,
        action: ClawbackAction,
        store_user_id: &str,
        order_id: &str,
    ) -> Result<ClawbackOutcome, EmuError> {
        self.clawback(ClawbackRequest::new(action, store_user_id, order_id))
    }

    /// The clawback queue's live messages (visible or not; expired ones are dropped).
    pub fn queue_messages(&self) -> Vec<QueuedMessage> {
        self.with_state(|s| {
            let now = s.now();
            s.queue.messages(now).to_vec()
        })
    }

    /// Puts raw `MessageText` on the clawback queue (e.g. an undecodable message); returns
    /// its message id.
    pub fn enqueue_raw_queue_message(&self, text: &str) -> String {
        self.with_state(|s| s.enqueue_raw(text.to_string()))
    }

    pub fn clear_queue(&self) {
        self.with_state(|s| s.queue.clear())
    }

    /// Sets up the quickstart world (see [`DemoSeed`]). Each call adds a new demo user.
    pub fn seed_demo(&self) -> DemoSeed {
        let signer = &self.shared.signer;
        let base = self.base_url();
        self.with_state(|s| seed::demo(s, signer, seed::SeedUrls { base }))
            .unwrap_or_else(|e| panic!("demo seed is internally consistent: {e}"))
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.shutdown();
    }
}
