//! Entra access tokens: issuing (RS256, claims of https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-client-creds-grant-flow) and validating them on Store routes.

use super::crypto::Signer;
use super::json::{ApiError, ApiResult};
use super::state::State;
use crate::claims;
use serde_json::{json, Value};

/// The three Store audiences plus any configured extra ones.
pub fn known_audience(state: &State, aud: &str) -> Option<String> {
    [
        claims::AUDIENCE_SERVICE,
        claims::AUDIENCE_COLLECTIONS_KEY_CREATE,
        claims::AUDIENCE_PURCHASE_KEY_CREATE,
    ]
    .iter()
    .map(|s| s.to_string())
    .chain(state.knobs.extra_audiences.iter().cloned())
    .find(|a| {
        a.trim_end_matches('/')
            .eq_ignore_ascii_case(aud.trim_end_matches('/'))
    })
}

pub struct IssuedToken {
    pub token: String,
    pub iat: i64,
    pub exp: i64,
    pub lifetime: i64,
}

/// Issues an app-only token for `audience` (no registry checks; callers did them).
pub fn issue(
    state: &mut State,
    signer: &Signer,
    tenant_id: &str,
    client_id: &str,
    audience: &str,
) -> IssuedToken {
    let now = state.now().unix_seconds();
    let lifetime = i64::from(state.knobs.token_lifetime_secs);
    let oid = state.guid();
    let claims = json!({
        "aud": audience,
        "iss": format!("https://sts.windows.net/{tenant_id}/"),
        "iat": now,
        "nbf": now,
        "exp": now + lifetime,
        "appid": client_id,
        "appidacr": "1",
        "idp": format!("https://sts.windows.net/{tenant_id}/"),
        "oid": oid,
        "sub": oid,
        "tid": tenant_id,
        "ver": "1.0",
    });
    let token = if state.knobs.alg_none_tokens {
        unsigned(&claims)
    } else {
        signer.sign(&claims)
    };
    IssuedToken {
        token,
        iat: now,
        exp: now + lifetime,
        lifetime,
    }
}

/// An `alg:none` JWT (empty signature segment), as issued under the `alg_none_tokens` knob.
fn unsigned(claims: &Value) -> String {
    let header = json!({"typ": "JWT", "alg": "none"});
    format!("{}.", crate::jwt::signing_input(&header, claims))
}

/// Decodes an Entra token: RS256 with the emulator key, or, only while `alg_none_tokens` is on,
/// an unsigned `alg:none` token (so clients that never check signatures can be exercised).
pub fn decode(state: &State, signer: &Signer, token: &str) -> Option<crate::jwt::DecodedJwt> {
    if let Some(d) = signer.verify(token) {
        return Some(d);
    }
    if !state.knobs.alg_none_tokens {
        return None;
    }
    let d = crate::jwt::decode(token)?;
    let alg = d.header.get("alg").and_then(Value::as_str).unwrap_or("");
    (alg.eq_ignore_ascii_case("none") && d.signature.is_empty()).then_some(d)
}

/// What a validated token tells us.
#[derive(Debug, Clone)]
pub struct TokenInfo {
    pub app_id: String,
}

/// Validates signature, audience, lifetime (virtual clock) and tenant. Every failure is
/// 401 `AuthenticationTokenInvalid`.
pub fn validate(
    state: &State,
    signer: &Signer,
    token: &str,
    audience: &str,
) -> ApiResult<TokenInfo> {
    let d = decode(state, signer, token)
        .ok_or_else(|| ApiError::token_invalid("The authentication token signature is invalid."))?;
    let c = &d.claims;
    let s = |k: &str| c.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let n = |k: &str| c.get(k).and_then(Value::as_i64);
    let aud = s("aud");
    if aud != audience {
        return Err(ApiError::token_invalid(format!(
            "The authentication token audience '{aud}' is not valid; expected '{audience}'."
        )));
    }
    let now = state.now().unix_seconds();
    let (Some(nbf), Some(exp)) = (n("nbf"), n("exp")) else {
        return Err(ApiError::token_invalid(
            "The authentication token has no lifetime.",
        ));
    };
    if now < nbf {
        return Err(ApiError::token_invalid(
            "The authentication token is not yet valid.",
        ));
    }
    if now >= exp {
        return Err(ApiError::token_invalid(
            "The authentication token has expired.",
        ));
    }
    let tid = s("tid");
    if state.tenant(&tid).is_none() {
        return Err(ApiError::token_invalid(
            "The authentication token's tenant is unknown.",
        ));
    }
    let appid = s("appid");
    if appid.is_empty() {
        return Err(ApiError::token_invalid("The appid claim is missing."));
    }
    Ok(TokenInfo { app_id: appid })
}
