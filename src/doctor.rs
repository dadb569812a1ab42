//! `doctor`: the setup checks, in order, each with what to do when it fails. The configuration,
//! the credential's expiry, a token for each audience, each token's app and tenant against the
//! configuration, and a Store call with the service token; given Store ID keys, each is decoded,
//! queried with and renewed. The run stops at the first failure that blocks the rest.

use crate::config::ClientConfig;
use crate::error::{Error, ErrorKind};
use crate::key::{KeyKind, StoreIdKey};
use crate::time::Timestamp;
use crate::token::{AccessToken, Audience};
use crate::Client;
use serde::Serialize;

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Pass,
    /// Works, but needs attention soon (an expiring certificate, an unusual Store answer).
    Warn,
    Fail,
}

/// One check's outcome. Never holds a secret, token or key.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: String,
    pub status: Status,
    pub detail: String,
    /// What to do, when the check did not pass.
    pub hint: Option<String>,
    /// The error behind a failure (for its kind and codes).
    #[serde(skip)]
    pub error: Option<Error>,
}

impl Check {
    fn pass(name: impl Into<String>, detail: impl Into<String>) -> Check {
        Check {
            name: name.into(),
            status: Status::Pass,
            detail: detail.into(),
            hint: None,
            error: None,
        }
    }

    fn problem(status: Status, name: impl Into<String>, detail: String, hint: &str) -> Check {
        Check {
            name: name.into(),
            status,
            detail,
            hint: Some(hint.to_string()),
            error: None,
        }
    }

    /// A failure from a library error: its message up to "To fix:", and the fix as the hint.
    fn failed(name: impl Into<String>, e: Error, fallback_hint: &str) -> Check {
        let (detail, hint) = match e.message.split_once("To fix: ") {
            Some((d, h)) => (d.trim_end_matches([' ', '.']).to_string(), h.to_string()),
            None => (e.message.clone(), fallback_hint.to_string()),
        };
        Check {
            name: name.into(),
            status: Status::Fail,
            detail,
            hint: Some(hint),
            error: Some(e),
        }
    }

    /// `PASS name: detail`, or `FAIL name: detail. To fix: hint`.
    pub fn line(&self) -> String {
        let status = match self.status {
            Status::Pass => "PASS",
            Status::Warn => "WARN",
            Status::Fail => "FAIL",
        };
        match &self.hint {
            Some(h) => format!("{status} {}: {}. To fix: {h}", self.name, self.detail),
            None => format!("{status} {}: {}", self.name, self.detail),
        }
    }
}

/// Whether every check passed or only warned.
pub fn healthy(checks: &[Check]) -> bool {
    checks.iter().all(|c| c.status != Status::Fail)
}

/// Runs the checks with `config` (and, for each Store ID key given, a decode, a query and a
/// renew). Blocks the calling thread; call it outside an async runtime.
pub fn run(config: &ClientConfig, keys: &[String]) -> Vec<Check> {
    let mut out = Vec::new();
    let client = match Client::new(config.clone()) {
        Ok(c) => {
            out.push(Check::pass(
                "configuration",
                format!(
                    "tenant {}, client {}, credential: {}, Entra {:?}, login {}",
                    config.tenant_id,
                    config.client_id,
                    config.effective_credential().kind_name(),
                    config.entra_version,
                    config.login_base_url
                ),
            ));
            c
        }
        Err(e) => {
            out.push(configuration_failure(e));
            return out;
        }
    };
    out.push(expiry(&client, config));
    for audience in Audience::ALL {
        let name = format!("token {}", audience.uri());
        match block(&client, client.access_token(audience)) {
            Ok(t) => {
                out.push(Check::pass(
                    &name,
                    format!("expires in {} min", t.expires_in().as_secs() / 60),
                ));
                out.push(claims(&t, config));
            }
            Err(e) => {
                out.push(Check::failed(
                    name,
                    e,
                    "check the credential, tenant_id and client_id",
                ));
                return out;
            }
        }
    }
    out.push(store_call(&client));
    for (i, key) in keys.iter().enumerate() {
        if !key_checks(&client, config, i + 1, key, &mut out) {
            break;
        }
    }
    out
}

/// The failed "configuration" check of a configuration that could not even be read (the C ABI's
/// options or JSON), the first and last line of its report.
pub fn configuration_failure(e: Error) -> Check {
    Check::failed(
        "configuration",
        e,
        "correct the setting named above (flags, MSSTORE_* variables or the JSON config)",
    )
}

fn block<T>(
    client: &Client,
    f: impl std::future::Future<Output = crate::Result<T>>,
) -> crate::Result<T> {
    client.block_on(f).and_then(|r| r)
}

fn expiry(client: &Client, config: &ClientConfig) -> Check {
    const NAME: &str = "credential expiry";
    let kind = config.effective_credential().kind_name();
    let Some(not_after) = client.credential_expires_at() else {
        return Check::pass(
            NAME,
            format!(
                "no expiry known for a {kind} (a secret's expiry is shown in the app \
                 registration's Certificates & secrets)"
            ),
        );
    };
    let now = Timestamp::now();
    let days = not_after.duration_since(now).as_secs() / 86_400;
    let window = u64::from(config.credential_expiry_warning_days);
    if not_after <= now {
        Check::problem(
            Status::Fail,
            NAME,
            format!("the {kind} expired at {}", not_after.to_iso()),
            "upload a new certificate to the app registration and configure it",
        )
    } else if days < window {
        Check::problem(
            Status::Warn,
            NAME,
            format!("the {kind} expires at {} ({days} days)", not_after.to_iso()),
            "rotate it: add the new certificate to the app registration, then set it as the \
             credential and this one as previous_credential",
        )
    } else {
        Check::pass(
            NAME,
            format!(
                "the {kind} is valid until {} ({days} days)",
                not_after.to_iso()
            ),
        )
    }
}

/// The token's `appid` (v1) or `azp` (v2) and `tid`, read without verifying the signature (we
/// only compare them with our own configuration).
fn claims(t: &AccessToken, config: &ClientConfig) -> Check {
    let name = format!("token claims {}", t.audience.uri());
    let Ok(jwt) = crate::jwt::decode(t.token.expose()) else {
        return Check::problem(
            Status::Warn,
            name,
            "the token is not a JWT; its app and tenant cannot be checked".into(),
            "none needed if the Store accepts it (next check)",
        );
    };
    let claim = |k: &str| jwt.claims.get(k).and_then(|v| v.as_str()).unwrap_or("");
    let app = [claim("appid"), claim("azp")]
        .into_iter()
        .find(|s| !s.is_empty())
        .unwrap_or("");
    let tid = claim("tid");
    if !app.eq_ignore_ascii_case(&config.client_id) {
        return Check::problem(
            Status::Fail,
            name,
            format!(
                "issued to app '{app}', configured client_id is '{}'",
                config.client_id
            ),
            "the credential belongs to another app registration: use that app's client_id, or \
             this app's credential",
        );
    }
    let tenant_is_guid = uuid::Uuid::parse_str(&config.tenant_id).is_ok();
    if tenant_is_guid && !tid.eq_ignore_ascii_case(&config.tenant_id) {
        return Check::problem(
            Status::Fail,
            name,
            format!(
                "issued in tenant '{tid}', configured tenant_id is '{}'",
                config.tenant_id
            ),
            "set tenant_id to the app registration's Directory (tenant) ID",
        );
    }
    Check::pass(name, format!("appid {app}, tid {tid}"))
}

/// A call that needs only the service token: the clawback queue's SAS
/// (https://learn.microsoft.com/en-us/gaming/gdk/_content/gc/commerce/service-to-service/microsoft-store-apis/xstore-v8-clawback-sas-token).
fn store_call(client: &Client) -> Check {
    const NAME: &str = "store call (service token)";
    match block(client, client.clawback_sas_token()) {
        Ok(_) => Check::pass(
            NAME,
            "the Store accepted the service token (clawback SAS issued)",
        ),
        Err(e)
            if matches!(
                e.kind,
                ErrorKind::Unauthorized | ErrorKind::EntraAuth | ErrorKind::MissingServiceToken
            ) =>
        {
            Check::failed(
                NAME,
                e,
                "the Store refused the service token: check that the app is associated with the \
                 product in Partner Center (up to 16 hours to take effect)",
            )
        }
        Err(e) => Check::problem(
            Status::Warn,
            NAME,
            format!("the Store answered but not with a SAS: {}", e.message),
            "if you do not use clawback v2 this is expected; otherwise check its setup in \
             Partner Center",
        ),
    }
}

/// Decodes key `n`, queries with it and renews it. False when a failure blocks the rest.
fn key_checks(
    client: &Client,
    config: &ClientConfig,
    n: usize,
    key: &str,
    out: &mut Vec<Check>,
) -> bool {
    let name = |what: &str| format!("key {n} {what}");
    let decoded = match StoreIdKey::decode(key) {
        Ok(d) => d,
        Err(e) => {
            out.push(Check::failed(
                name("decode"),
                e,
                "pass the UserCollectionsId or UserPurchaseId exactly as the game client minted it",
            ));
            return false;
        }
    };
    let kind = match decoded.kind {
        KeyKind::Collections => "collections",
        KeyKind::Purchase => "purchase",
    };
    if !decoded.client_id.eq_ignore_ascii_case(&config.client_id) {
        out.push(Check::problem(
            Status::Fail,
            name("decode"),
            format!(
                "InconsistentClientId: the {kind} key was minted for app '{}', not '{}'",
                decoded.client_id, config.client_id
            ),
            "the game client must mint keys with key-create tokens from this app (msstore token \
             --audience collections|purchase)",
        ));
        return true;
    }
    let now = Timestamp::now();
    if decoded.expires_at <= now {
        out.push(Check::problem(
            Status::Fail,
            name("decode"),
            format!("the {kind} key expired at {}", decoded.expires_at.to_iso()),
            "have the game client mint a new key",
        ));
        return true;
    }
    out.push(Check::pass(
        name("decode"),
        format!("{kind} key, expires {}", decoded.expires_at.to_iso()),
    ));
    let query = match decoded.kind {
        KeyKind::Collections => block(
            client,
            client.query_v8_page(crate::QueryV8Request::new(key)),
        )
        .map(|p| format!("{} items on the first page", p.items.len())),
        KeyKind::Purchase => block(
            client,
            client.query_subscriptions_page(crate::RecurrenceQueryRequest::new(key)),
        )
        .map(|p| format!("{} subscriptions on the first page", p.items.len())),
    };
    out.push(match query {
        Ok(d) => Check::pass(name("query"), d),
        Err(e) => Check::failed(name("query"), e, "see the error above"),
    });
    out.push(match block(client, client.renew_key(key)) {
        Ok(r) => Check::pass(
            name("renew"),
            format!(
                "renewed; the new key expires {}",
                r.decoded.expires_at.to_iso()
            ),
        ),
        Err(e) => Check::failed(name("renew"), e, "have the game client mint a new key"),
    });
    true
}
