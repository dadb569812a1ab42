//! Store ID keys (https://learn.microsoft.com/en-us/gaming/gdk/_content/gc/commerce/service-to-service/xstore-requesting-a-userstoreid): minting for a simulated device, validation on Store routes, renewal,
//! revocation. The `payload` claim is base64 of an emulator user handle
//! `emu-user:v1:<generation>:<store user id>`; bumping a user's generation revokes all keys.

use super::crypto::Signer;
use super::json::{self, ApiError, ApiResult};
use super::state::State;
use super::tokens;
use crate::claims;
use crate::jwt;
use serde_json::{json, Map, Value};

/// Which service a key belongs to (its `aud` claim). The emulator's own type, apart from the
/// client's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyKind {
    /// UserCollectionsId: collections queries and consume.
    Collections,
    /// UserPurchaseId: grants, subscriptions, orders.
    Purchase,
}

impl KeyKind {
    pub fn audience(&self) -> &'static str {
        match self {
            KeyKind::Collections => claims::KEY_AUDIENCE_COLLECTIONS,
            KeyKind::Purchase => claims::KEY_AUDIENCE_PURCHASE,
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
            KeyKind::Collections => claims::AUDIENCE_COLLECTIONS_KEY_CREATE,
            KeyKind::Purchase => claims::AUDIENCE_PURCHASE_KEY_CREATE,
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

/// Why a key could not be minted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmuError {
    InvalidToken(String),
    WrongAudience(String),
    Unknown(String),
    Invalid(String),
}

impl std::fmt::Display for EmuError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EmuError::InvalidToken(m) => write!(f, "invalid token: {m}"),
            EmuError::WrongAudience(m) => write!(f, "wrong audience: {m}"),
            EmuError::Unknown(m) => write!(f, "not found: {m}"),
            EmuError::Invalid(m) => write!(f, "invalid: {m}"),
        }
    }
}

impl std::error::Error for EmuError {}

fn claim_uri(name: &str) -> String {
    format!("{}{name}", claims::CLAIM_PREFIX_HTTP)
}

fn payload_for(state: &State, store_user: &str) -> String {
    let generation = state.key_generation.get(store_user).copied().unwrap_or(0);
    base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        format!("emu-user:v1:{generation}:{store_user}"),
    )
}

/// (generation, store user) from a payload.
fn parse_payload(payload: &str) -> Option<(u32, String)> {
    let bytes = jwt::decode_base64_lenient(payload)?;
    let text = String::from_utf8(bytes).ok()?;
    let rest = text.strip_prefix("emu-user:v1:")?;
    let (generation, user) = rest.split_once(':')?;
    Some((generation.parse().ok()?, user.to_string()))
}

/// Signs a key with fresh `iat`/`nbf`/`exp`.
fn sign_key(
    state: &State,
    signer: &Signer,
    kind: KeyKind,
    client_id: &str,
    user_id: &str,
    payload: &str,
) -> String {
    let now = state.now().unix_seconds();
    let lifetime = i64::from(state.knobs.key_lifetime_days) * 86_400;
    let aud = kind.audience();
    signer.sign(&json!({
        claim_uri(claims::CLAIM_CLIENT_ID): client_id,
        claim_uri(claims::CLAIM_PAYLOAD): payload,
        claim_uri(claims::CLAIM_USER_ID): user_id,
        claim_uri(claims::CLAIM_REFRESH_URI): kind.refresh_uri(),
        "iat": now,
        "nbf": now - 3600,
        "exp": now + lifetime,
        "iss": aud,
        "aud": aud,
    }))
}

/// Device-side minting: the token must be valid and carry the key-create audience for `kind`.
pub fn mint(
    state: &mut State,
    signer: &Signer,
    kind: KeyKind,
    key_create_token: &str,
    publisher_user_id: &str,
    store_user: &str,
) -> Result<String, EmuError> {
    let d = tokens::decode(state, signer, key_create_token)
        .ok_or_else(|| EmuError::InvalidToken("signature or format invalid".into()))?;
    let aud = d.claims.get("aud").and_then(Value::as_str).unwrap_or("");
    if aud != kind.create_audience() {
        return Err(EmuError::WrongAudience(format!(
            "token audience '{aud}', expected '{}'",
            kind.create_audience()
        )));
    }
    tokens::validate(state, signer, key_create_token, kind.create_audience())
        .map_err(|e| EmuError::InvalidToken(e.message))?;
    let appid = d
        .claims
        .get("appid")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if store_user.is_empty() {
        return Err(EmuError::Invalid("store user id is empty".into()));
    }
    state.user_mut("", store_user);
    let payload = payload_for(state, store_user);
    Ok(sign_key(
        state,
        signer,
        kind,
        &appid,
        publisher_user_id,
        &payload,
    ))
}

/// A verified key.
#[derive(Debug, Clone)]
pub struct KeyInfo {
    pub client_id: String,
    pub publisher_user_id: String,
    pub store_user: String,
    pub payload: String,
    pub iat: i64,
    pub exp: i64,
}

/// Checks signature and kind, and returns the claims; lifetime/revocation are checked by the
/// caller because renewal has its own rules.
fn decode_key(
    state: &State,
    signer: &Signer,
    key: &str,
    kind: KeyKind,
) -> ApiResult<(KeyInfo, String)> {
    let invalid = |m: &str| ApiError::token_invalid(format!("The Store ID key is invalid: {m}."));
    let d = signer
        .verify(key)
        .ok_or_else(|| invalid("bad signature or format"))?;
    let c = &d.claims;
    let s = |k: &str| c.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let aud = s("aud");
    let actual = if aud == claims::KEY_AUDIENCE_COLLECTIONS {
        KeyKind::Collections
    } else if aud == claims::KEY_AUDIENCE_PURCHASE {
        KeyKind::Purchase
    } else {
        return Err(invalid("unknown audience"));
    };
    if actual != kind {
        return Err(invalid("wrong key kind for this service"));
    }
    let payload = s(&claim_uri(claims::CLAIM_PAYLOAD));
    let (generation, store_user) = parse_payload(&payload).ok_or_else(|| invalid("bad payload"))?;
    let sig = key.rsplit('.').next().unwrap_or("").to_string();
    if state.revoked_keys.contains(&sig)
        || state.key_generation.get(&store_user).copied().unwrap_or(0) != generation
    {
        return Err(ApiError::token_invalid(
            "The Store ID key has been revoked.",
        ));
    }
    let info = KeyInfo {
        client_id: s(&claim_uri(claims::CLAIM_CLIENT_ID)),
        publisher_user_id: s(&claim_uri(claims::CLAIM_USER_ID)),
        store_user,
        payload,
        iat: c.get("iat").and_then(Value::as_i64).unwrap_or(0),
        exp: c.get("exp").and_then(Value::as_i64).unwrap_or(0),
    };
    Ok((info, sig))
}

/// Validation for Store routes: valid, right kind, not expired, not revoked.
pub fn validate(state: &State, signer: &Signer, key: &str, kind: KeyKind) -> ApiResult<KeyInfo> {
    let (info, _) = decode_key(state, signer, key, kind)?;
    if state.now().unix_seconds() >= info.exp {
        return Err(ApiError::token_invalid("The Store ID key has expired."));
    }
    Ok(info)
}

/// The authenticated caller of a Store route.
#[derive(Debug, Clone)]
pub struct Caller {
    pub client_id: String,
    pub store_user: String,
    pub publisher_user_id: String,
}

/// Step 1 of Store-route auth: `Authorization: Bearer` with a valid service token.
pub fn authenticate_token(
    state: &State,
    signer: &Signer,
    authorization: Option<&str>,
) -> ApiResult<tokens::TokenInfo> {
    let token = bearer(authorization)?;
    tokens::validate(state, signer, token, claims::AUDIENCE_SERVICE)
}

/// Step 2: the Store ID key from the body; its `clientId` must match the token's `appid`.
pub fn authenticate_key(
    state: &State,
    signer: &Signer,
    token: &tokens::TokenInfo,
    key: &str,
    kind: KeyKind,
) -> ApiResult<Caller> {
    let k = validate(state, signer, key, kind)?;
    if !claims::client_ids_match(&k.client_id, &token.app_id) {
        return Err(ApiError::unauthorized(
            "InconsistentClientId",
            "The Store ID key's clientId does not match the appid of the authentication token.",
        ));
    }
    Ok(Caller {
        client_id: token.app_id.clone(),
        store_user: k.store_user,
        publisher_user_id: k.publisher_user_id,
    })
}

/// Extracts the token of `Authorization: Bearer …`; anything else is PartnerAadTicketRequired.
pub fn bearer(authorization: Option<&str>) -> ApiResult<&str> {
    let missing = || {
        ApiError::unauthorized(
            "PartnerAadTicketRequired",
            "An Entra (AAD) ticket is required in the Authorization header.",
        )
    };
    let h = authorization.ok_or_else(missing)?.trim();
    let (scheme, rest) = h.split_once(' ').ok_or_else(missing)?;
    if !scheme.eq_ignore_ascii_case("bearer") || rest.trim().is_empty() {
        return Err(missing());
    }
    Ok(rest.trim())
}

/// `POST …/v6.0/b2b/keys/renew` on the host of `kind`.
pub fn renew(
    state: &mut State,
    signer: &Signer,
    kind: KeyKind,
    body: &Map<String, Value>,
) -> ApiResult<Value> {
    let ticket = json::req_str(body, "serviceTicket")?;
    let key = json::req_str(body, "key")?;
    let t = tokens::validate(state, signer, ticket, claims::AUDIENCE_SERVICE)?;
    let (info, _) = decode_key(state, signer, key, kind)?;
    let now = state.now().unix_seconds();
    if now >= info.exp && !state.knobs.allow_expired_key_renewal {
        return Err(ApiError::token_invalid("The Store ID key has expired."));
    }
    if state.knobs.enforce_signing_generation
        && now - info.iat > i64::from(state.knobs.signing_generation_days) * 86_400
    {
        return Err(ApiError::token_invalid(
            "The Store ID key was signed by a retired certificate; mint a new key on the client.",
        ));
    }
    if !claims::client_ids_match(&info.client_id, &t.app_id) {
        return Err(ApiError::unauthorized(
            "InconsistentClientId",
            "The Store ID key's clientId does not match the appid of the service ticket.",
        ));
    }
    let new_key = sign_key(
        state,
        signer,
        kind,
        &info.client_id,
        &info.publisher_user_id,
        &info.payload,
    );
    Ok(json!({ "key": new_key }))
}

/// Revokes one key (by its signature). Returns false if the string is not a JWT.
pub fn revoke(state: &mut State, key: &str) -> bool {
    let parts: Vec<&str> = key.trim().split('.').collect();
    match parts.as_slice() {
        [_, _, sig] if !sig.is_empty() => {
            state.revoked_keys.insert(sig.to_string());
            true
        }
        _ => false,
    }
}

/// Revokes every key ever minted for `store_user`.
pub fn revoke_user(state: &mut State, store_user: &str) {
    *state
        .key_generation
        .entry(store_user.to_string())
        .or_insert(0) += 1;
}

/// Best-effort store user / publisher user of a key without verification (fault matching).
pub fn peek_users(key: &str) -> Vec<String> {
    let Some(d) = jwt::decode(key) else {
        return Vec::new();
    };
    let s = |k: &str| {
        d.claims
            .get(&claim_uri(k))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let mut out = Vec::new();
    if let Some((_, u)) = s(claims::CLAIM_PAYLOAD).as_deref().and_then(parse_payload) {
        out.push(u);
    }
    if let Some(p) = s(claims::CLAIM_USER_ID) {
        out.push(p);
    }
    out
}
