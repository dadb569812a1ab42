//! Clawback v2 SAS token
//! (<https://learn.microsoft.com/en-us/gaming/gdk/_content/gc/commerce/service-to-service/microsoft-store-apis/xstore-v8-clawbackv2-sastoken>):
//! `GET {purchase}/v8.0/b2b/clawback/sastoken` with the
//! service token. The answer is the queue URL with a shared-access signature in its query
//! (`sp=rp`: read + process) and `expiresOn`. One token is cached per client, fetched
//! single-flight, reused until shortly before `expiresOn`, and replaced when the queue answers
//! 403 (the two clocks may disagree, or the token was revoked).

use crate::client::{parse_body, Core, Service};
use crate::error::{Error, ErrorKind, Result};
use crate::http::RetryOn;
use crate::secret::SecretString;
use crate::service_error::store_error;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::time::Duration;

pub(crate) const PATH_SAS_TOKEN: &str = "/v8.0/b2b/clawback/sastoken";

/// Renew this long before `expiresOn` (capped at half the remaining lifetime at fetch time).
const RENEW_MARGIN: Duration = Duration::from_secs(5 * 60);

/// A queue SAS. The URI carries the signature: it is a secret (`Debug` hides it).
#[derive(Debug, Clone, Serialize)]
pub struct SasToken {
    /// `https://<account>.queue.core.windows.net:443/<queue>?sv=…&sp=rp&sig=…`.
    pub uri: SecretString,
    pub expires_on: Timestamp,
    /// Local time after which this client fetches a new one.
    pub(crate) renew_at: Timestamp,
}

impl SasToken {
    /// The queue's URL without the signature (safe to log).
    pub fn queue_url(&self) -> String {
        match reqwest::Url::parse(self.uri.expose()) {
            Ok(mut u) => {
                u.set_query(None);
                u.to_string()
            }
            Err(_) => String::new(),
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SasWire {
    #[serde(default, alias = "ExpiresOn")]
    expires_on: Option<String>,
    #[serde(default, alias = "Uri")]
    uri: Option<String>,
}

/// The per-client cache; the async mutex makes fetching single-flight.
#[derive(Default)]
pub(crate) struct SasCache {
    current: tokio::sync::Mutex<Option<SasToken>>,
    fetches: std::sync::atomic::AtomicU64,
}

impl SasCache {
    pub(crate) fn fetches(&self) -> u64 {
        self.fetches.load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// Checks the queue URL the Store handed us: https (or http to loopback for the emulator) and
/// a signature, so the SAS never travels in clear text to a remote host.
fn check_queue_uri(uri: &str) -> Result<()> {
    let bad = |why: &str| {
        Error::new(
            ErrorKind::MalformedResponse,
            format!("clawback_sastoken: the queue uri {why}"),
        )
    };
    let u = reqwest::Url::parse(uri).map_err(|_| bad("is not a URL"))?;
    let loopback = match u.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    match u.scheme() {
        "https" => {}
        "http" if loopback => {}
        _ => return Err(bad("is not https")),
    }
    if !u.query_pairs().any(|(k, _)| k == "sig") {
        return Err(bad("carries no signature (sig)"));
    }
    Ok(())
}

impl Core {
    /// The cached SAS, or a fresh one when missing, close to expiry, or `stale` (the one the
    /// caller saw rejected; if another task already replaced it, that replacement is returned).
    pub(crate) async fn clawback_sas(&self, stale: Option<&SasToken>) -> Result<SasToken> {
        let mut cur = self.clawback_sas.current.lock().await;
        if let Some(t) = cur.as_ref() {
            let rejected = stale.is_some_and(|s| s.uri.expose() == t.uri.expose());
            if !rejected && Timestamp::now() < t.renew_at {
                return Ok(t.clone());
            }
        }
        let fresh = self.fetch_sas().await?;
        *cur = Some(fresh.clone());
        Ok(fresh)
    }

    async fn fetch_sas(&self) -> Result<SasToken> {
        self.clawback_sas
            .fetches
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let ex = self
            .store_request(
                reqwest::Method::GET,
                Service::Purchase,
                PATH_SAS_TOKEN,
                None,
                "clawback_sastoken",
                RetryOn::TransientAndThrottle,
            )
            .await
            .map_err(|f| f.error)?;
        if !ex.is_success() {
            return Err(store_error("clawback_sastoken", &ex));
        }
        let w: SasWire = parse_body("clawback_sastoken", &ex)?;
        let malformed = |m: &str| {
            Error::new(
                ErrorKind::MalformedResponse,
                format!("clawback_sastoken: {m}"),
            )
            .with_ms_cv(ex.ms_cv.clone())
        };
        let uri = w
            .uri
            .filter(|u| !u.trim().is_empty())
            .ok_or_else(|| malformed("no uri in the response"))?;
        check_queue_uri(&uri)?;
        let expires_on = w
            .expires_on
            .as_deref()
            .and_then(|s| Timestamp::parse(s).ok())
            .ok_or_else(|| malformed("expiresOn is missing or not a date"))?;
        let now = Timestamp::now();
        let margin = RENEW_MARGIN.min(expires_on.duration_since(now) / 2);
        Ok(SasToken {
            uri: SecretString::new(uri),
            expires_on,
            renew_at: expires_on.sub(margin),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_uri_rules() {
        check_queue_uri("https://q.queue.core.windows.net:443/cbq?sv=1&sp=rp&sig=abc").unwrap();
        check_queue_uri("http://127.0.0.1:9/queue/cbq?sp=rp&sig=abc").unwrap();
        for bad in [
            "http://example.com/q?sig=abc",
            "https://q.example/q?sp=rp",
            "not a url",
            "ftp://127.0.0.1/q?sig=a",
        ] {
            assert!(check_queue_uri(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn debug_hides_the_signature() {
        let t = SasToken {
            uri: SecretString::new("https://q.example/cbq?sig=SECRETSIG"),
            expires_on: Timestamp::now(),
            renew_at: Timestamp::now(),
        };
        assert!(!format!("{t:?}").contains("SECRETSIG"));
        assert_eq!(t.queue_url(), "https://q.example/cbq");
    }
}
