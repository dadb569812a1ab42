//! Store ID keys (UserCollectionsId / UserPurchaseId): decoding without the network, and when
//! to renew. See <https://learn.microsoft.com/en-us/gaming/gdk/_content/gc/commerce/service-to-service/xstore-requesting-a-userstoreid>
//! and <https://learn.microsoft.com/en-us/windows/uwp/monetize/renew-a-windows-store-id-key>.

use crate::claims::{
    CLAIM_PAYLOAD, CLAIM_PREFIX_HTTP, CLAIM_PREFIX_HTTPS, KEY_AUDIENCE_COLLECTIONS,
    KEY_AUDIENCE_PURCHASE,
};
use crate::error::{Error, ErrorKind, Result};
use crate::jwt;
use crate::secret::SecretString;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::time::Duration;

mod wire;

/// The Store renews keys at least every 14 days (signing certificates rotate).
pub const RENEW_EVERY: Duration = Duration::from_secs(14 * 24 * 3600);

/// Which service a key belongs to; decided by its `aud` claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyKind {
    /// UserCollectionsId: collections queries and consume.
    Collections,
    /// UserPurchaseId: grants, subscriptions, orders.
    Purchase,
}

impl KeyKind {
    pub fn audience(&self) -> &'static str {
        match self {
            KeyKind::Collections => KEY_AUDIENCE_COLLECTIONS,
            KeyKind::Purchase => KEY_AUDIENCE_PURCHASE,
        }
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            KeyKind::Collections => "collections",
            KeyKind::Purchase => "purchase",
        }
    }

    /// Audience of the Entra token a game client mints this kind of key with.
    pub fn create_audience(&self) -> &'static str {
        match self {
            KeyKind::Collections => crate::claims::AUDIENCE_COLLECTIONS_KEY_CREATE,
            KeyKind::Purchase => crate::claims::AUDIENCE_PURCHASE_KEY_CREATE,
        }
    }

    /// Microsoft's renewal URL for this kind (what a real key's `refreshUri` claim carries).
    pub fn refresh_uri(&self) -> &'static str {
        match self {
            KeyKind::Collections => "https://collections.mp.microsoft.com/v6.0/b2b/keys/renew",
            KeyKind::Purchase => "https://purchase.mp.microsoft.com/v6.0/b2b/keys/renew",
        }
    }

    /// `collections`/`purchase`, or the Store's names `UserCollectionsId`/`UserPurchaseId`.
    pub fn parse(s: &str) -> Option<KeyKind> {
        match s.trim().to_ascii_lowercase().as_str() {
            "collections" | "usercollectionsid" => Some(KeyKind::Collections),
            "purchase" | "userpurchaseid" => Some(KeyKind::Purchase),
            _ => None,
        }
    }
}

/// A decoded (not verified) Store ID key. `Debug` and serialisation never include the key itself.
#[derive(Debug, Clone, Serialize)]
pub struct StoreIdKey {
    #[serde(skip)]
    raw: SecretString,
    pub kind: KeyKind,
    /// The `aud` claim as written.
    pub audience: String,
    /// Entra client id of the app that minted the key (compared with the token's `appid`).
    pub client_id: String,
    /// The publisherUserId the game passed when minting (not an identity proof).
    pub user_id: Option<String>,
    /// The key's own renewal URL claim. Informational only: renewal never goes there.
    pub refresh_uri: Option<String>,
    pub issued_at: Timestamp,
    pub not_before: Option<Timestamp>,
    pub expires_at: Timestamp,
}

impl StoreIdKey {
    /// Decodes a key JWT. Fails with `InvalidKey` when it is not a Store ID key.
    pub fn decode(key: &str) -> Result<StoreIdKey> {
        let bad =
            |why: String| Error::new(ErrorKind::InvalidKey, format!("not a Store ID key: {why}"));
        let key = key.trim();
        if key.is_empty() {
            return Err(bad("the key is empty".into()));
        }
        // Only the claims segment is decoded, into the few claims a key needs (see `wire`).
        let json = jwt::decode_claims_segment(key).map_err(|e| bad(e.to_string()))?;
        let claims = wire::KeyClaims::parse(&json)
            .ok_or_else(|| bad(jwt::JwtError::BadJson("claims").to_string()))?;
        let audience = claims
            .aud
            .0
            .map(std::borrow::Cow::into_owned)
            .ok_or_else(|| bad("no aud claim".into()))?;
        let kind = kind_from_audience(&audience).ok_or_else(|| {
            bad(format!(
                "aud '{audience}' is neither a collections nor a purchase key"
            ))
        })?;
        let client_id = wire::either(claims.client_id, claims.client_id_https)
            .ok_or_else(|| bad("no clientId claim".into()))?;
        let issued_at = epoch(claims.iat.0).ok_or_else(|| bad("no numeric iat claim".into()))?;
        let expires_at = epoch(claims.exp.0).ok_or_else(|| bad("no numeric exp claim".into()))?;
        Ok(StoreIdKey {
            raw: SecretString::new(key),
            kind,
            audience,
            client_id,
            user_id: wire::either(claims.user_id, claims.user_id_https),
            refresh_uri: wire::either(claims.refresh_uri, claims.refresh_uri_https),
            issued_at,
            not_before: epoch(claims.nbf.0),
            expires_at,
        })
    }

    /// The key as received, for sending to the Store.
    pub fn as_secret(&self) -> &SecretString {
        &self.raw
    }

    /// Whether the opaque payload claim is present (real keys always carry one).
    pub fn has_payload(&self) -> bool {
        jwt::decode(self.raw.expose())
            .ok()
            .and_then(|d| store_claim(&d.claims, CLAIM_PAYLOAD))
            .is_some()
    }

    /// When to renew: `min(iat + 14 days, exp - margin)`. The official library uses only
    /// `iat + 14 d`, which is too late for a key that lives less than 14 days.
    pub fn renew_after(&self, margin: Duration) -> Timestamp {
        let by_age = self.issued_at.add(RENEW_EVERY);
        let by_expiry = self.expires_at.sub(margin);
        by_age.min(by_expiry)
    }

    pub fn needs_renewal(&self, now: Timestamp, margin: Duration) -> bool {
        now >= self.renew_after(margin)
    }

    pub fn is_expired(&self, now: Timestamp) -> bool {
        now >= self.expires_at
    }

    /// The key's lifetime as minted (`exp - iat`).
    pub fn lifetime(&self) -> Duration {
        self.expires_at.duration_since(self.issued_at)
    }

    /// A JSON description for tools (`msstore key decode`), with derived advice.
    pub fn describe(&self, now: Timestamp, margin: Duration) -> Value {
        let mut v = serde_json::to_value(self).unwrap_or_default();
        v["renew_after"] = Value::String(self.renew_after(margin).to_iso());
        v["expired"] = Value::Bool(self.is_expired(now));
        v["needs_renewal"] = Value::Bool(self.needs_renewal(now, margin));
        v["lifetime_days"] = serde_json::json!(self.lifetime().as_secs_f64() / 86_400.0);
        v["has_payload"] = Value::Bool(self.has_payload());
        v
    }
}

fn kind_from_audience(aud: &str) -> Option<KeyKind> {
    let a = aud.trim_end_matches('/');
    if a.eq_ignore_ascii_case(KEY_AUDIENCE_COLLECTIONS) {
        Some(KeyKind::Collections)
    } else if a.eq_ignore_ascii_case(KEY_AUDIENCE_PURCHASE) {
        Some(KeyKind::Purchase)
    } else {
        None
    }
}

/// Reads a Store claim under its `http://` URI first, then the `https://` spelling.
fn store_claim(claims: &serde_json::Map<String, Value>, name: &str) -> Option<String> {
    [CLAIM_PREFIX_HTTP, CLAIM_PREFIX_HTTPS]
        .iter()
        .find_map(|p| claims.get(&format!("{p}{name}")))
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// A time claim's epoch seconds as a timestamp.
fn epoch(secs: Option<i64>) -> Option<Timestamp> {
    let secs = secs?;
    // Reject values outside years 1..9999 instead of clamping them into something plausible.
    if !(-62_135_596_800..=253_402_300_799).contains(&secs) {
        return None;
    }
    Some(Timestamp::from_unix(secs))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    pub(crate) fn make_key(claims: Value) -> String {
        format!(
            "{}.c2ln",
            jwt::signing_input(&json!({"typ":"JWT","alg":"RS256","x5t":"abc"}), &claims)
        )
    }

    fn spec_example() -> Value {
        json!({
         "http://schemas.microsoft.com/marketplace/2015/08/claims/key/clientId":"b6e0d7c241a84f3e9d250c7a18e4f9b6",
         "http://schemas.microsoft.com/marketplace/2015/08/claims/key/payload":"q8Zt==",
         "http://schemas.microsoft.com/marketplace/2015/08/claims/key/userId":"player-004512",
         "http://schemas.microsoft.com/marketplace/2015/08/claims/key/refreshUri":"https://purchase.mp.microsoft.com/v6.0/b2b/keys/renew",
         "iat":1767225600,"nbf":1767222000,"exp":1769817600,
         "iss":"https://purchase.mp.microsoft.com/v6.0/keys","aud":"https://purchase.mp.microsoft.com/v6.0/keys"})
    }

    #[test]
    fn decodes_the_spec_example() {
        let k = StoreIdKey::decode(&make_key(spec_example())).unwrap();
        assert_eq!(k.kind, KeyKind::Purchase);
        assert_eq!(k.client_id, "b6e0d7c241a84f3e9d250c7a18e4f9b6");
        assert_eq!(k.user_id.as_deref(), Some("player-004512"));
        assert_eq!(k.issued_at.unix_seconds(), 1_767_225_600);
        assert_eq!(k.expires_at.unix_seconds(), 1_769_817_600);
        assert_eq!(k.lifetime(), Duration::from_secs(30 * 86_400));
        assert!(k.has_payload());
        // 14 days after iat comes before exp - 1 day.
        assert_eq!(
            k.renew_after(Duration::from_secs(86_400)).unix_seconds(),
            1_767_225_600 + 14 * 86_400
        );
        assert!(!format!("{k:?}").contains("eyJ"));
    }

    #[test]
    fn https_claim_uris_and_short_lived_keys() {
        let mut c = spec_example();
        let obj = c.as_object_mut().unwrap();
        let entries: Vec<(String, Value)> = obj
            .iter()
            .map(|(k, v)| (k.replace("http://", "https://"), v.clone()))
            .collect();
        obj.clear();
        obj.extend(entries);
        obj.insert(
            "aud".into(),
            json!("https://collections.mp.microsoft.com/v6.0/keys"),
        );
        obj.insert("exp".into(), json!(1_767_225_600 + 7 * 86_400));
        let k = StoreIdKey::decode(&make_key(c)).unwrap();
        assert_eq!(k.kind, KeyKind::Collections);
        assert_eq!(k.user_id.as_deref(), Some("player-004512"));
        // A 7-day key must be renewed before it expires, not at iat + 14 d.
        assert_eq!(
            k.renew_after(Duration::from_secs(3600)).unix_seconds(),
            1_767_225_600 + 7 * 86_400 - 3600
        );
    }

    #[test]
    fn wire_claim_names_match_the_constants() {
        use crate::claims::{CLAIM_CLIENT_ID, CLAIM_REFRESH_URI, CLAIM_USER_ID};
        // Each claim under each prefix, alone, must land in its field.
        for prefix in [CLAIM_PREFIX_HTTP, CLAIM_PREFIX_HTTPS] {
            let mut c = json!({"aud":KEY_AUDIENCE_PURCHASE,"iat":1,"exp":2});
            c[format!("{prefix}{CLAIM_CLIENT_ID}")] = json!("cid");
            c[format!("{prefix}{CLAIM_USER_ID}")] = json!("uid");
            c[format!("{prefix}{CLAIM_REFRESH_URI}")] = json!("https://r");
            let k = StoreIdKey::decode(&make_key(c)).unwrap();
            assert_eq!(k.client_id, "cid", "{prefix}");
            assert_eq!(k.user_id.as_deref(), Some("uid"));
            assert_eq!(k.refresh_uri.as_deref(), Some("https://r"));
        }
    }

    #[test]
    fn lenient_claim_types() {
        let cid = format!("{CLAIM_PREFIX_HTTP}clientId");
        let uid = format!("{CLAIM_PREFIX_HTTP}userId");
        // aud as an array, times as a numeric string and a float, an escaped string, a user id
        // of the wrong type (absent), nested values skipped.
        let mut c = json!({"aud":[7, KEY_AUDIENCE_COLLECTIONS, "x"],"iat":"100","exp":200.9,
            "nbf":null,"extra":{"a":[1,{"b":2}]}});
        c[&cid] = json!("a\"b\u{e9}");
        c[&uid] = json!(42);
        let k = StoreIdKey::decode(&make_key(c)).unwrap();
        assert_eq!(k.kind, KeyKind::Collections);
        assert_eq!(k.client_id, "a\"b\u{e9}");
        assert_eq!(k.issued_at.unix_seconds(), 100);
        assert_eq!(k.expires_at.unix_seconds(), 200);
        assert_eq!(k.user_id, None);
        assert_eq!(k.not_before, None);
        // A clientId that is not a string is missing.
        let mut c = json!({"aud":KEY_AUDIENCE_PURCHASE,"iat":1,"exp":2});
        c[&cid] = json!({"not":"a string"});
        let e = StoreIdKey::decode(&make_key(c)).unwrap_err();
        assert!(e.message.contains("clientId"), "{}", e.message);
        // A claims segment that is not an object, and a garbage signature.
        let e = StoreIdKey::decode(&format!(
            "{}.c2ln",
            jwt::signing_input(&json!({}), &json!([1]))
        ))
        .unwrap_err();
        assert!(e.message.contains("claims"), "{}", e.message);
        let e =
            StoreIdKey::decode(&make_key(spec_example()).replace(".c2ln", ".c2l*")).unwrap_err();
        assert!(e.message.contains("signature"), "{}", e.message);
    }

    #[test]
    fn rejects_non_keys() {
        for bad in [
            String::new(),
            "abc".to_string(),
            make_key(json!({"aud":"https://example.com","iat":1,"exp":2})),
            make_key(json!({"aud":"https://purchase.mp.microsoft.com/v6.0/keys","iat":1,"exp":2})),
            make_key(json!({"aud":"https://purchase.mp.microsoft.com/v6.0/keys",
                "http://schemas.microsoft.com/marketplace/2015/08/claims/key/clientId":"c","iat":"x","exp":2})),
            make_key(json!({"aud":"https://purchase.mp.microsoft.com/v6.0/keys",
                "http://schemas.microsoft.com/marketplace/2015/08/claims/key/clientId":"c","iat":1,"exp":1e300})),
        ] {
            let e = StoreIdKey::decode(&bad).unwrap_err();
            assert_eq!(e.kind, ErrorKind::InvalidKey, "{bad}");
        }
    }
}
