//! Start-up configuration and runtime knobs.

use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// Built-in per-user rate limit on query/consume/recurrence routes (https://learn.microsoft.com/en-us/gaming/gdk/_content/gc/commerce/service-to-service/xstore-fgrl), in virtual time.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct RateLimit {
    pub max_requests: u32,
    pub window_secs: u64,
}

impl Default for RateLimit {
    fn default() -> Self {
        RateLimit {
            max_requests: 100,
            window_secs: 300,
        }
    }
}

/// Behaviour switches, settable at runtime (`set_knobs`, `POST /admin/knobs` with a partial
/// object). Defaults follow the newest documentation.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Knobs {
    /// Store ID key lifetime: 30 d (current docs); 90 d for the 2015-2021 behaviour.
    pub key_lifetime_days: u32,
    /// 2016 behaviour: renewal accepts an expired key.
    pub allow_expired_key_renewal: bool,
    /// Simulated signing-certificate rotation: renewal refuses keys whose `iat` is older than
    /// `signing_generation_days`.
    pub enforce_signing_generation: bool,
    pub signing_generation_days: u32,
    /// Service token lifetime in seconds (virtual clock).
    pub token_lifetime_secs: u32,
    /// Audiences accepted by Entra in addition to the three Store ones.
    pub extra_audiences: Vec<String>,
    /// On every page after the first, repeat the previous page's last item with status
    /// `Expired` (the documented cross-page duplicate behaviour).
    pub inject_cross_page_duplicates: bool,
    /// v9 items carry `recurrenceData` (string) as well as `recurrenceId`.
    pub v9_emit_recurrence_data: bool,
    /// Recurrence change answers with a bare item instead of `{"items":[item]}`.
    pub change_response_bare: bool,
    /// Renewal payments fail: subscriptions due for renewal go to InDunning, then Failed.
    pub subscription_payment_fails: bool,
    /// `Cancel` keeps the paid time (library comment) instead of ending now (UWP docs).
    pub cancel_keeps_paid_time: bool,
    /// Reusing a trackingId with a different fingerprint is rejected (400) instead of being a
    /// new consume (documented behaviour).
    pub reject_tracking_id_reuse: bool,
    /// `removeQuantity` on a developer-managed consumable is rejected (library comment).
    pub reject_remove_quantity_for_unmanaged: bool,
    /// HTTP status of the (synthetic) insufficient-balance error.
    pub insufficient_quantity_status: u16,
    /// Per-user rate limit; `None` = off.
    pub rate_limit: Option<RateLimit>,
    /// Entra issues unsigned `alg:none` JWTs and Store routes accept them (signed ones too).
    pub alg_none_tokens: bool,
    /// Subscription state changes show up in the recurrence query only after this many virtual
    /// seconds (state updates can lag, https://learn.microsoft.com/en-us/gaming/gdk/_content/gc/commerce/service-to-service/microsoft-store-apis/xstore-v8-recurrence-query); the change response is always current.
    pub state_lag_secs: u64,
    /// Recurrence change in a non-RETAIL sandbox answers 400 "Requested catalog product data
    /// was not found" (known issue when the subscription is not also published to RETAIL).
    pub dev_sandbox_catalog_missing: bool,
    /// v2 token replies carry `expires_in`/`ext_expires_in` as strings (client leniency).
    pub entra_numbers_as_strings_v2: bool,
    /// Store responses carry unknown fields (`$type`, `testScenarios`, `payments`) that clients
    /// must ignore.
    pub extra_response_fields: bool,
    /// Clawback v2: lifetime of an issued SAS in seconds (virtual clock; at least 60, since
    /// `expiresOn` has minute precision). Default 6 h, as in the documentation's example.
    pub sas_lifetime_secs: u64,
    /// Clawback v2: a message's time to live in the queue (unpublished; default 7 days, Azure's).
    pub queue_message_ttl_secs: u64,
    /// Clawback v2: `MessageText` is URL-safe base64 without padding instead of standard base64.
    pub queue_base64url: bool,
    /// Clawback v2: product kinds that produce events. The Store's default is Consumable,
    /// UnmanagedConsumable and Pass, with Durable and Game on request (since Oct 2025); the
    /// emulator enables all of them by default.
    pub clawback_event_kinds: Vec<String>,
    /// Clawback v1: orders per page of `/v8.0/b2b/orders/query`.
    pub clawback_orders_page_size: u32,
    /// Every token request (of a known tenant, app and audience) is refused with this AADSTS
    /// code, with Entra's status and `error` for it: 500011, 7000215, 7000222, 700016, 700027,
    /// 700024, 90002 (setup-error tests). `None` = normal checks.
    pub entra_error_code: Option<u32>,
}

impl Default for Knobs {
    fn default() -> Self {
        Knobs {
            key_lifetime_days: 30,
            allow_expired_key_renewal: false,
            enforce_signing_generation: true,
            signing_generation_days: 14,
            token_lifetime_secs: 3599,
            extra_audiences: Vec::new(),
            inject_cross_page_duplicates: false,
            v9_emit_recurrence_data: false,
            change_response_bare: false,
            subscription_payment_fails: false,
            cancel_keeps_paid_time: false,
            reject_tracking_id_reuse: false,
            reject_remove_quantity_for_unmanaged: true,
            insufficient_quantity_status: 400,
            rate_limit: None,
            alg_none_tokens: false,
            state_lag_secs: 0,
            dev_sandbox_catalog_missing: false,
            entra_numbers_as_strings_v2: false,
            extra_response_fields: true,
            sas_lifetime_secs: 6 * 3600,
            queue_message_ttl_secs: 7 * 86_400,
            queue_base64url: false,
            clawback_event_kinds: [
                "Consumable",
                "UnmanagedConsumable",
                "Pass",
                "Durable",
                "Game",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect(),
            clawback_orders_page_size: 100,
            entra_error_code: None,
        }
    }
}

/// How to start an [`super::Emulator`].
#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    /// Loopback address to bind (`127.0.0.1` or `::1`).
    pub host: String,
    /// 0 = ephemeral.
    pub port: u16,
    pub knobs: Knobs,
    /// Seed for ids and probabilistic faults (reproducible runs).
    pub rng_seed: u64,
    /// Initial virtual time; `None` = real now.
    pub start_time: Option<Timestamp>,
    /// Serve HTTPS with the committed test certificate ([`super::TEST_CERT_PEM`], emulator
    /// only); `base_url()` is then `https://...`. Every connection pays a TLS handshake, as
    /// against the real service.
    pub tls: bool,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig {
            host: "127.0.0.1".into(),
            port: 0,
            knobs: Knobs::default(),
            rng_seed: 0x5eed_1234,
            start_time: None,
            tls: false,
        }
    }
}
