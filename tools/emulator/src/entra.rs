//! Entra ID client-credentials token endpoint, v1 (`/oauth2/token`, `resource`) and v2
//! (`/oauth2/v2.0/token`, `scope=<aud>/.default`), with the error shape of https://learn.microsoft.com/en-us/entra/identity-platform/reference-error-codes.

use super::assertion;
use super::crypto::Signer;
use super::json::parse_form;
use super::state::State;
use super::tokens;
use crate::claims::client_ids_match;
use serde_json::{json, Value};

/// An Entra reply: status and JSON body, plus the audience asked for (for the request log).
pub struct EntraReply {
    pub status: u16,
    pub body: Value,
    pub audience: Option<String>,
}

fn error(state: &mut State, status: u16, error: &str, code: u32, text: String) -> (u16, Value) {
    let now = state.now();
    let trace = state.guid();
    let corr = state.guid();
    let (y, mo, d, h, mi, s) = now.to_civil();
    let ts = format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}Z");
    let desc = format!(
        "AADSTS{code}: {text}\r\nTrace ID: {trace}\r\nCorrelation ID: {corr}\r\nTimestamp: {ts}"
    );
    (
        status,
        json!({
            "error": error,
            "error_description": desc,
            "error_codes": [code],
            "timestamp": ts,
            "trace_id": trace,
            "correlation_id": corr,
            "error_uri": format!("https://login.microsoftonline.com/error?code={code}"),
        }),
    )
}

/// Handles one token request. `v2` selects the endpoint flavour.
pub fn token(
    state: &mut State,
    signer: &Signer,
    base_url: &str,
    tenant_id: &str,
    v2: bool,
    body: &[u8],
) -> EntraReply {
    let form = parse_form(body);
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let requested = if v2 {
        field("scope")
    } else {
        field("resource")
    };
    let audience = requested
        .as_deref()
        .map(|r| r.strip_suffix("/.default").unwrap_or(r).to_string());
    let token_urls = assertion::token_urls(base_url, tenant_id);
    let (status, body) = token_inner(
        state,
        signer,
        &token_urls,
        tenant_id,
        v2,
        &field,
        requested.as_deref(),
    );
    EntraReply {
        status,
        body,
        audience,
    }
}

fn token_inner(
    state: &mut State,
    signer: &Signer,
    token_urls: &[String],
    tenant_id: &str,
    v2: bool,
    field: &dyn Fn(&str) -> Option<String>,
    requested: Option<&str>,
) -> (u16, Value) {
    let Some(tenant) = state.tenant(tenant_id).cloned() else {
        return error(
            state,
            400,
            "invalid_request",
            90002,
            format!("Tenant '{tenant_id}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."),
        );
    };
    let missing = |state: &mut State, name: &str| {
        error(
            state,
            400,
            "invalid_request",
            900144,
            format!("The request body must contain the following parameter: '{name}'."),
        )
    };
    let Some(grant_type) = field("grant_type") else {
        return missing(state, "grant_type");
    };
    if grant_type != "client_credentials" {
        return error(
            state,
            400,
            "unsupported_grant_type",
            70003,
            format!("The app requested an unsupported grant type '{grant_type}'."),
        );
    }
    let Some(client_id) = field("client_id") else {
        return missing(state, "client_id");
    };
    let Some(requested) = requested else {
        return missing(state, if v2 { "scope" } else { "resource" });
    };
    let assertion_type = field("client_assertion_type");
    let secret = field("client_secret");
    if assertion_type.is_none() && secret.is_none() {
        return error(
            state,
            400,
            "invalid_client",
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.".into(),
        );
    }
    let Some(app) = tenant
        .apps
        .iter()
        .find(|a| client_ids_match(&a.client_id, &client_id))
    else {
        return error(
            state,
            400,
            "unauthorized_client",
            700016,
            format!("Application with identifier '{client_id}' was not found in the directory '{tenant_id}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant."),
        );
    };
    let audience = if v2 {
        let Some(base) = requested.strip_suffix("/.default") else {
            return error(
                state,
                400,
                "invalid_scope",
                70011,
                format!("The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' is not valid. The scope {requested} is not valid."),
            );
        };
        base.to_string()
    } else {
        requested.to_string()
    };
    let Some(audience) = tokens::known_audience(state, &audience) else {
        return error(
            state,
            400,
            if v2 { "invalid_scope" } else { "invalid_resource" },
            500011,
            format!("The resource principal named {audience} was not found in the tenant named {tenant_id}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant."),
        );
    };
    if let Some(code) = state.knobs.entra_error_code {
        let (status, name, text) = forced_refusal(code);
        return error(state, status, name, code, text.into());
    }
    if let Some(kind) = assertion_type {
        if kind != assertion::JWT_BEARER {
            return error(
                state,
                400,
                "invalid_request",
                50027,
                format!("Invalid client_assertion_type '{kind}'."),
            );
        }
        let Some(jwt) = field("client_assertion") else {
            return missing(state, "client_assertion");
        };
        let now = state.now().unix_seconds();
        if let Err((code, text)) =
            state
                .assertions
                .verify(signer, now, &app.client_id, token_urls, &jwt)
        {
            return error(state, 401, "invalid_client", code, text);
        }
        return issue(
            state,
            signer,
            &tenant.tenant_id,
            &app.client_id,
            &audience,
            v2,
        );
    }
    let secret = secret.unwrap_or_default();
    let now = state.now();
    let matching: Vec<_> = app.secrets.iter().filter(|s| s.value == secret).collect();
    if matching.is_empty() {
        return error(
            state,
            401,
            "invalid_client",
            7000215,
            format!("Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{}'.", app.client_id),
        );
    }
    if matching.iter().all(|s| s.expires.is_some_and(|e| e <= now)) {
        return error(
            state,
            401,
            "invalid_client",
            7000222,
            format!("The provided client secret keys for app '{}' are expired. Visit the Azure portal to create new keys for your app.", app.client_id),
        );
    }
    issue(
        state,
        signer,
        &tenant.tenant_id,
        &app.client_id,
        &audience,
        v2,
    )
}

fn issue(
    state: &mut State,
    signer: &Signer,
    tenant_id: &str,
    client_id: &str,
    audience: &str,
    v2: bool,
) -> (u16, Value) {
    let t = tokens::issue(state, signer, tenant_id, client_id, audience);
    let n = |x: i64| {
        if state.knobs.entra_numbers_as_strings_v2 {
            json!(x.to_string())
        } else {
            json!(x)
        }
    };
    let body = if v2 {
        json!({
            "token_type": "Bearer",
            "expires_in": n(t.lifetime),
            "ext_expires_in": n(t.lifetime),
            "access_token": t.token,
        })
    } else {
        json!({
            "token_type": "Bearer",
            "expires_in": t.lifetime.to_string(),
            "ext_expires_in": t.lifetime.to_string(),
            "expires_on": t.exp.to_string(),
            "not_before": t.iat.to_string(),
            "resource": audience,
            "access_token": t.token,
        })
    };
    (200, body)
}

/// Status, `error` and text Entra uses for each setup error (the `entra_error_code` knob).
fn forced_refusal(code: u32) -> (u16, &'static str, &'static str) {
    match code {
        500011 => (400, "invalid_resource", "The resource principal named https://onestore.microsoft.com was not found in the tenant."),
        7000215 => (401, "invalid_client", "Invalid client secret provided."),
        7000222 => (401, "invalid_client", "The provided client secret keys are expired."),
        700016 => (400, "unauthorized_client", "Application was not found in the directory."),
        700027 => (401, "invalid_client", "Client assertion failed signature validation."),
        700024 => (401, "invalid_client", "Client assertion is not within its valid time range."),
        90002 => (400, "invalid_request", "Tenant not found."),
        _ => (400, "invalid_request", "Refused by the entra_error_code knob."),
    }
}
