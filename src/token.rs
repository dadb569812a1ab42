//! Entra ID client-credentials tokens for the three Store audiences, cached per audience and
//! fetched single-flight: however many callers miss at once, one request goes to Entra.

use crate::claims::{
    AUDIENCE_COLLECTIONS_KEY_CREATE, AUDIENCE_PURCHASE_KEY_CREATE, AUDIENCE_SERVICE,
};
use crate::config::{ClientConfig, EntraVersion};
use crate::credential::{CredentialSource, FileStamp, TokenProvider};
use crate::error::{Error, ErrorKind, Result};
use crate::http::{new_cv, Exchange, Http, RequestSpec, RetryOn, FORM_CONTENT_TYPE};
use crate::log::{log_at, Level};
use crate::secret::SecretString;
use crate::service_error::entra_error;
use crate::time::Timestamp;
use reqwest::header::HeaderValue;
use serde::{Deserialize, Deserializer, Serialize};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, RwLock};
use std::time::Duration;

/// The three token audiences
/// (<https://learn.microsoft.com/en-us/windows/uwp/monetize/view-and-grant-products-from-a-service>).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    /// `https://onestore.microsoft.com`: used by the server on every Store call. Never give it
    /// to a game client.
    Service,
    /// `…/b2b/keys/create/collections`: a game client mints a UserCollectionsId with it.
    CollectionsKeyCreate,
    /// `…/b2b/keys/create/purchase`: a game client mints a UserPurchaseId with it.
    PurchaseKeyCreate,
}

impl Audience {
    pub const ALL: [Audience; 3] = [
        Audience::Service,
        Audience::CollectionsKeyCreate,
        Audience::PurchaseKeyCreate,
    ];

    pub fn uri(&self) -> &'static str {
        match self {
            Audience::Service => AUDIENCE_SERVICE,
            Audience::CollectionsKeyCreate => AUDIENCE_COLLECTIONS_KEY_CREATE,
            Audience::PurchaseKeyCreate => AUDIENCE_PURCHASE_KEY_CREATE,
        }
    }

    fn index(&self) -> usize {
        match self {
            Audience::Service => 0,
            Audience::CollectionsKeyCreate => 1,
            Audience::PurchaseKeyCreate => 2,
        }
    }
}

/// A bearer token for one audience. `Debug` hides the token.
#[derive(Debug, Clone, Serialize)]
pub struct AccessToken {
    pub audience: Audience,
    /// The JWT. Opaque to us.
    pub token: SecretString,
    /// When we received it (local clock).
    pub issued_at: Timestamp,
    /// `issued_at + expires_in` (local clock; Entra's absolute `expires_on` is only a fallback,
    /// since the two clocks may disagree).
    pub expires_at: Timestamp,
    /// `Bearer <token>` as an `Authorization` value, built once per token rather than per
    /// request, and marked sensitive (never printed). `None` when the token has bytes a header
    /// cannot carry: such a request is refused as it leaves (`Http::send`).
    #[serde(skip)]
    pub(crate) bearer: Option<HeaderValue>,
}

impl AccessToken {
    pub(crate) fn new(
        audience: Audience,
        token: SecretString,
        issued_at: Timestamp,
        expires_at: Timestamp,
    ) -> AccessToken {
        let bearer = HeaderValue::try_from(format!("Bearer {}", token.expose()))
            .ok()
            .map(|mut v| {
                v.set_sensitive(true);
                v
            });
        AccessToken {
            audience,
            token,
            issued_at,
            expires_at,
            bearer,
        }
    }

    pub fn expires_in(&self) -> Duration {
        self.expires_at.duration_since(Timestamp::now())
    }
}

/// Longest token lifetime we believe: Entra's access tokens live 60–90 minutes
/// (https://learn.microsoft.com/en-us/entra/identity-platform/configurable-token-lifetimes#access-tokens).
/// A larger `expires_in` (`u64::MAX`, `1e300`) is clamped to it, so it can neither wrap into an
/// already-expired token (one Entra request per call) nor pin a token for years; a token the
/// Store rejects before then is refreshed on its 401.
pub(crate) const MAX_TOKEN_LIFETIME_SECS: u64 = 24 * 3600;

/// A count of seconds that Entra v1 writes as a string and v2 as a number: `None` when it is
/// negative or not a number (it then counts as absent). Integers beyond `u64` saturate.
fn seconds<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Option<u64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum NumOrStr {
        N(u64),
        F(f64),
        S(String),
    }
    // `as` saturates: 1e300 becomes u64::MAX.
    let whole = |f: f64| (f.is_finite() && f >= 0.0).then_some(f as u64);
    Ok(match Option::<NumOrStr>::deserialize(d)? {
        None => None,
        Some(NumOrStr::N(n)) => Some(n),
        Some(NumOrStr::F(f)) => whole(f),
        Some(NumOrStr::S(s)) => {
            let s = s.trim();
            s.parse().ok().or_else(|| s.parse().ok().and_then(whole))
        }
    })
}

/// Entra's success body, v1 or v2 shape (see [`crate::config::EntraVersion`]).
#[derive(Deserialize)]
pub(crate) struct TokenResponse {
    pub access_token: SecretString,
    #[serde(default)]
    pub token_type: Option<String>,
    #[serde(default, deserialize_with = "seconds")]
    pub expires_in: Option<u64>,
    #[serde(default, deserialize_with = "seconds")]
    pub expires_on: Option<u64>,
}

impl TokenResponse {
    /// Seconds the token lives from `sent_at`, 0..=`MAX_TOKEN_LIFETIME_SECS`: `expires_in`, else
    /// `expires_on` (Entra's clock) minus our clock.
    fn lifetime_secs(&self, sent_at: Timestamp) -> Result<u64> {
        let secs = match (self.expires_in, self.expires_on) {
            (Some(secs), _) => secs,
            (None, Some(on)) => {
                let now = u64::try_from(sent_at.unix_seconds()).unwrap_or(0);
                on.saturating_sub(now)
            }
            (None, None) => {
                return Err(Error::new(
                    ErrorKind::MalformedResponse,
                    "Entra token response has neither a usable expires_in nor expires_on \
                     (a non-negative number of seconds)",
                ))
            }
        };
        Ok(secs.min(MAX_TOKEN_LIFETIME_SECS))
    }
}

/// Cache slot of one audience.
#[derive(Default)]
struct Slot {
    token: RwLock<Option<AccessToken>>,
    /// Held while a fetch runs: the single-flight gate.
    fetch: tokio::sync::Mutex<()>,
    /// Bumped after every fetch attempt, so waiters can tell a fetch finished while they queued.
    generation: AtomicU64,
    /// Result of the most recent failed fetch, handed to callers that queued behind it.
    last_error: RwLock<Option<(u64, Error)>>,
}

pub(crate) struct TokenCache {
    slots: [Slot; 3],
    refresh_margin: Duration,
    token_url: String,
    version: EntraVersion,
    client_id: String,
    credential: CredentialSource,
    /// The credential being rotated out, tried when Entra refuses `credential` as wrong.
    previous: Option<CredentialSource>,
    expiry_warning: Duration,
    /// The notAfter last warned about and when: the warning is logged once a day, or when the
    /// credential changes, not at every fetch.
    expiry_warned: Mutex<Option<(Timestamp, Timestamp)>>,
    /// Set while Entra refuses `credential` and accepts `previous`: the new credential's file
    /// stamps then. Fetches go to `previous` alone until the files change (or it is refused), so
    /// a rotation in progress costs one request per fetch, not two.
    new_refused: Mutex<Option<Vec<FileStamp>>>,
    requests_sent: AtomicU64,
}

impl TokenCache {
    pub fn new(config: &ClientConfig) -> TokenCache {
        let base = config.login_base_url.trim_end_matches('/');
        let token_url = match config.entra_version {
            EntraVersion::V1 => format!("{base}/{}/oauth2/token", config.tenant_id),
            EntraVersion::V2 => format!("{base}/{}/oauth2/v2.0/token", config.tenant_id),
        };
        TokenCache {
            slots: Default::default(),
            refresh_margin: config.token_refresh_margin,
            token_url,
            version: config.entra_version,
            credential: CredentialSource::new(config.effective_credential(), &config.client_id),
            previous: config
                .previous_credential
                .clone()
                .map(|c| CredentialSource::new(c, &config.client_id)),
            expiry_warning: Duration::from_secs(
                u64::from(config.credential_expiry_warning_days) * 24 * 3600,
            ),
            client_id: config.client_id.clone(),
            expiry_warned: Mutex::new(None),
            new_refused: Mutex::new(None),
            requests_sent: AtomicU64::new(0),
        }
    }

    /// Token requests sent to Entra by this cache (for diagnostics and benchmarks).
    pub fn requests_sent(&self) -> u64 {
        self.requests_sent.load(Ordering::Relaxed)
    }

    fn cached(&self, slot: &Slot, fresh_for: Duration) -> Option<AccessToken> {
        let guard = slot.token.read().ok()?;
        let t = guard.as_ref()?;
        (t.expires_at > Timestamp::now().add(fresh_for)).then(|| t.clone())
    }

    /// The cached token if it has more than the refresh margin left (no fetch, no wait).
    pub fn fresh(&self, audience: Audience) -> Option<AccessToken> {
        self.cached(&self.slots[audience.index()], self.refresh_margin)
    }

    /// A token with more than the refresh margin left, fetching one if needed.
    pub async fn get(&self, http: &Http, audience: Audience) -> Result<AccessToken> {
        let slot = &self.slots[audience.index()];
        if let Some(t) = self.cached(slot, self.refresh_margin) {
            return Ok(t);
        }
        // Inside the margin but still valid: if another caller is already refreshing, use the
        // current token rather than wait.
        if let Some(t) = self.cached(slot, Duration::from_secs(5)) {
            if slot.fetch.try_lock().is_err() {
                return Ok(t);
            }
        }
        let seen_generation = slot.generation.load(Ordering::Acquire);
        let _gate = slot.fetch.lock().await;
        if let Some(t) = self.cached(slot, self.refresh_margin) {
            return Ok(t);
        }
        // A fetch completed while we waited: share its outcome instead of hammering Entra (or
        // a provider) once per waiter, also when its token is already inside the margin.
        if slot.generation.load(Ordering::Acquire) != seen_generation {
            if let Some(t) = self.cached(slot, Duration::from_secs(5)) {
                return Ok(t);
            }
            if let Ok(guard) = slot.last_error.read() {
                if let Some((gen, err)) = guard.as_ref() {
                    if *gen > seen_generation {
                        return Err(err.clone());
                    }
                }
            }
        }
        self.fetch_into(http, audience, slot).await
    }

    /// Drops the cached token and fetches a new one (after a 401 from the Store), unless another
    /// caller already replaced the rejected token.
    pub async fn refresh(
        &self,
        http: &Http,
        audience: Audience,
        rejected: &AccessToken,
    ) -> Result<AccessToken> {
        let slot = &self.slots[audience.index()];
        let _gate = slot.fetch.lock().await;
        if let Ok(guard) = slot.token.read() {
            if let Some(t) = guard.as_ref() {
                if t.token != rejected.token {
                    return Ok(t.clone());
                }
            }
        }
        self.fetch_into(http, audience, slot).await
    }

    async fn fetch_into(
        &self,
        http: &Http,
        audience: Audience,
        slot: &Slot,
    ) -> Result<AccessToken> {
        let result = self.fetch(http, audience).await;
        let gen = slot.generation.fetch_add(1, Ordering::AcqRel) + 1;
        match &result {
            Ok(t) => {
                if let Ok(mut g) = slot.token.write() {
                    *g = Some(t.clone());
                }
            }
            Err(e) => {
                if let Ok(mut g) = slot.last_error.write() {
                    *g = Some((gen, e.clone()));
                }
            }
        }
        result
    }

    /// The credential's own expiry (a certificate's notAfter), where known.
    pub fn credential_expires_at(&self) -> Option<Timestamp> {
        self.credential.expires_at()
    }

    async fn fetch(&self, http: &Http, audience: Audience) -> Result<AccessToken> {
        if let Some(provider) = self.credential.provider() {
            self.requests_sent.fetch_add(1, Ordering::Relaxed);
            return provided_token(provider.clone(), audience).await;
        }
        self.warn_if_expiring();
        let Some(previous) = &self.previous else {
            return self.request(http, audience, &self.credential).await;
        };
        let stamp = self.credential.files_stamp();
        let known_refused = lock(&self.new_refused).as_ref() == Some(&stamp);
        if known_refused {
            match self.request(http, audience, previous).await {
                Err(e) if CredentialSource::is_refused(&e) => *lock(&self.new_refused) = None,
                other => return other,
            }
        }
        match self.request(http, audience, &self.credential).await {
            Err(e) if CredentialSource::is_refused(&e) && !known_refused => {
                match self.request(http, audience, previous).await {
                    Ok(t) => {
                        log_at!(
                            Level::Warn,
                            "msstore::credential",
                            "the new {} was refused ({}); using the previous one until the \
                             credential's files change. Finish the rotation: add the new \
                             credential to the app registration",
                            self.credential.kind_name(),
                            e.inner_code.as_deref().unwrap_or("")
                        );
                        *lock(&self.new_refused) = Some(stamp);
                        Ok(t)
                    }
                    // The new credential is the one that must work: its error says why not.
                    Err(_) => Err(e),
                }
            }
            other => other,
        }
    }

    /// Warns while the credential's own expiry (a certificate's notAfter) is near or past.
    fn warn_if_expiring(&self) {
        if self.expiry_warning.is_zero() {
            return;
        }
        let Some(not_after) = self.credential.expires_at() else {
            return;
        };
        let now = Timestamp::now();
        if not_after > now.add(self.expiry_warning) {
            return;
        }
        {
            let mut warned = lock(&self.expiry_warned);
            if let Some((at, when)) = *warned {
                if at == not_after && now.duration_since(when) < Duration::from_secs(24 * 3600) {
                    return;
                }
            }
            *warned = Some((not_after, now));
        }
        let days = not_after.duration_since(now).as_secs() / (24 * 3600);
        log_at!(
            Level::Warn,
            "msstore::credential",
            "the client {} {} {} ({} days): rotate it (set the new one as the credential and \
             this one as previous_credential until the app registration has the new one)",
            self.credential.kind_name(),
            if not_after > now {
                "expires"
            } else {
                "expired"
            },
            not_after.to_iso(),
            days
        );
    }

    /// One token request with one credential.
    async fn request(
        &self,
        http: &Http,
        audience: Audience,
        credential: &CredentialSource,
    ) -> Result<AccessToken> {
        let auth = credential.client_auth(http, &self.token_url).await?;
        // Built in a block: the serializer is not Send and must not live across an await.
        let form = {
            let mut form = url::form_urlencoded::Serializer::new(String::new());
            form.append_pair("grant_type", "client_credentials");
            form.append_pair("client_id", &self.client_id);
            for (name, value) in auth.form_fields() {
                form.append_pair(name, value);
            }
            match self.version {
                EntraVersion::V1 => form.append_pair("resource", audience.uri()),
                EntraVersion::V2 => {
                    form.append_pair("scope", &format!("{}/.default", audience.uri()))
                }
            };
            form.finish()
        };
        let spec = RequestSpec {
            method: reqwest::Method::POST,
            url: self.token_url.clone(),
            content_type: Some(FORM_CONTENT_TYPE),
            body: form.into_bytes().into(),
            bearer: None,
            cv: new_cv(),
            op: "entra_token",
            limit: crate::http::HostLimit::Exempt,
        };
        self.requests_sent.fetch_add(1, Ordering::Relaxed);
        log_at!(
            Level::Debug,
            "msstore::token",
            "requesting a token for {}",
            audience.uri()
        );
        let sent_at = Timestamp::now();
        let ex = http
            .send(&spec, RetryOn::TransientAndThrottle)
            .await
            .map_err(|f| f.error)?;
        if !ex.is_success() {
            let e = entra_error(audience.uri(), &ex);
            log_at!(Level::Error, "msstore::token", "{e}");
            return Err(e);
        }
        let (token, lifetime) = read_token_response(&ex, sent_at)?;
        // Measured from when we sent the request, so network time only shortens the life.
        // Lossless: the lifetime is at most MAX_TOKEN_LIFETIME_SECS.
        let expires_at = sent_at.add_secs(lifetime as i64);
        Ok(AccessToken::new(audience, token, sent_at, expires_at))
    }
}

/// A lock whose data stays consistent even if a holder panicked (single assignments).
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The token and its lifetime in seconds from an Entra 2xx answer sent at `sent_at`.
pub(crate) fn read_token_response(
    ex: &Exchange,
    sent_at: Timestamp,
) -> Result<(SecretString, u64)> {
    let body: TokenResponse = serde_json::from_slice(&ex.body).map_err(|e| {
        Error::new(
            ErrorKind::MalformedResponse,
            format!("Entra token response is not the expected JSON: {e}"),
        )
        .with_status(ex.status)
        .with_ms_cv(ex.ms_cv.clone())
    })?;
    if body.access_token.is_empty() {
        return Err(Error::new(
            ErrorKind::MalformedResponse,
            "Entra token response has an empty access_token",
        ));
    }
    if let Some(tt) = &body.token_type {
        if !tt.eq_ignore_ascii_case("bearer") {
            return Err(Error::new(
                ErrorKind::MalformedResponse,
                format!("Entra returned token_type '{tt}', expected Bearer"),
            ));
        }
    }
    let lifetime = body.lifetime_secs(sent_at)?;
    Ok((body.access_token, lifetime))
}

/// Asks a caller-supplied provider, on a blocking thread (it may do I/O). A panic in it is an
/// error, not a crash; an empty or expired token is refused like a bad Entra answer.
async fn provided_token(
    provider: std::sync::Arc<dyn TokenProvider>,
    audience: Audience,
) -> Result<AccessToken> {
    let issued_at = Timestamp::now();
    let t = tokio::task::spawn_blocking(move || provider.token(audience))
        .await
        .map_err(|_| Error::new(ErrorKind::EntraAuth, "the token provider panicked"))??;
    if t.token.is_empty() {
        return Err(Error::new(
            ErrorKind::EntraAuth,
            format!(
                "the token provider returned an empty token for {}",
                audience.uri()
            ),
        ));
    }
    if t.expires_at <= issued_at {
        return Err(Error::new(
            ErrorKind::EntraAuth,
            format!(
                "the token provider returned an expired token for {}",
                audience.uri()
            ),
        ));
    }
    let max = issued_at.add_secs(MAX_TOKEN_LIFETIME_SECS as i64);
    let expires_at = if t.expires_at > max {
        max
    } else {
        t.expires_at
    };
    Ok(AccessToken::new(audience, t.token, issued_at, expires_at))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bearer_value_is_built_once_and_never_printed() {
        let now = Timestamp::now();
        let t = AccessToken::new(Audience::Service, "eyJ.tok".into(), now, now.add_secs(60));
        let v = t.bearer.as_ref().expect("a header value");
        assert_eq!(v.as_bytes(), b"Bearer eyJ.tok");
        assert!(v.is_sensitive());
        assert!(!format!("{t:?}").contains("eyJ"), "{t:?}");
        assert!(!serde_json::to_string(&t).unwrap().contains("Bearer"));
        // A token a header cannot carry has no value (the request is refused as it leaves).
        let bad = AccessToken::new(Audience::Service, "eyJ\nx".into(), now, now);
        assert!(bad.bearer.is_none());
    }

    #[test]
    fn parses_v1_and_v2_shapes() {
        let v1: TokenResponse = serde_json::from_str(
            r#"{"token_type":"Bearer","expires_in":"3599","ext_expires_in":"3599","expires_on":"1700000000","not_before":"1699996400","resource":"https://onestore.microsoft.com","access_token":"eyJ"}"#,
        )
        .unwrap();
        assert_eq!(v1.expires_in, Some(3599));
        assert_eq!(v1.expires_on, Some(1_700_000_000));
        let v2: TokenResponse = serde_json::from_str(
            r#"{"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":"eyJ","unknown":1}"#,
        )
        .unwrap();
        assert_eq!(v2.expires_in, Some(3599));
        assert_eq!(v2.access_token.expose(), "eyJ");
    }

    fn lifetime(json: &str) -> Result<u64> {
        let body: TokenResponse = serde_json::from_str(json).unwrap();
        body.lifetime_secs(Timestamp::from_unix(1_700_000_000))
    }

    #[test]
    fn overflowing_expires_in_is_clamped_not_wrapped() {
        let max = MAX_TOKEN_LIFETIME_SECS;
        for (raw, want) in [
            ("18446744073709551615", max), // u64::MAX
            ("9223372036854775808", max),  // 2^63: `as i64` would make it negative
            ("18446744073709551616", max), // 2^64, past u64 (serde reads a float)
            ("1e300", max),
            ("86401", max),
            ("3599", 3599),
            ("3599.7", 3599),
            ("0", 0),
            // v1 sends strings.
            ("\"18446744073709551615\"", max),
            ("\"9223372036854775808\"", max),
            ("\"1e300\"", max),
            ("\" 3599 \"", 3599),
        ] {
            let got = lifetime(&format!(r#"{{"access_token":"x","expires_in":{raw}}}"#));
            assert_eq!(got.unwrap(), want, "expires_in {raw}");
        }
    }

    #[test]
    fn unusable_expires_in_falls_back_to_expires_on_or_fails() {
        for raw in [
            "-1", "-1e300", "\"-5\"", "\"soon\"", "\"NaN\"", "\"inf\"", "null",
        ] {
            let fallback = lifetime(&format!(
                r#"{{"access_token":"x","expires_in":{raw},"expires_on":1700003600}}"#
            ));
            assert_eq!(fallback.unwrap(), 3600, "expires_in {raw}");
            let e = lifetime(&format!(r#"{{"access_token":"x","expires_in":{raw}}}"#)).unwrap_err();
            assert_eq!(e.kind, ErrorKind::MalformedResponse, "expires_in {raw}");
            assert!(e.message.contains("expires_in"), "{}", e.message);
        }
    }

    #[test]
    fn expires_on_is_clamped_both_ways() {
        let on = |v: &str| lifetime(&format!(r#"{{"access_token":"x","expires_on":{v}}}"#));
        assert_eq!(on("18446744073709551615").unwrap(), MAX_TOKEN_LIFETIME_SECS);
        assert_eq!(on("\"1699999000\"").unwrap(), 0); // already past on our clock
        assert_eq!(on("1700000060").unwrap(), 60);
    }

    #[test]
    fn audiences() {
        assert_eq!(Audience::Service.uri(), "https://onestore.microsoft.com");
        assert!(Audience::PurchaseKeyCreate.uri().ends_with("/purchase"));
    }
}
