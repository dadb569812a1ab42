//! Turning a non-2xx Store or Entra response into an [`Error`] whose kind says what to do.

use crate::error::{EntraErrorDetails, Error, ErrorDetails, ErrorKind};
use crate::http::Exchange;
use serde::Deserialize;

/// The Store's ServiceError body (the error tables of
/// <https://learn.microsoft.com/en-us/windows/uwp/monetize/view-and-grant-products-from-a-service>);
/// no sample body is published, so every field is optional.
#[derive(Debug, Default, Deserialize)]
struct ServiceErrorBody {
    #[serde(default, alias = "Code")]
    code: Option<String>,
    #[serde(default, alias = "Message")]
    message: Option<String>,
    #[serde(default, alias = "innerError", alias = "InnerError")]
    innererror: Option<InnerError>,
}

#[derive(Debug, Default, Deserialize)]
struct InnerError {
    #[serde(default, alias = "Code")]
    code: Option<String>,
    #[serde(default, alias = "Message")]
    message: Option<String>,
}

/// ServiceError inner codes that are about the caller's credentials, never about the request's
/// object: <https://learn.microsoft.com/en-us/windows/uwp/monetize/view-and-grant-products-from-a-service>.
pub(crate) const AUTH_INNER_CODES: [&str; 3] = [
    "AuthenticationTokenInvalid",
    "PartnerAadTicketRequired",
    "InconsistentClientId",
];

/// Inner codes of a 401 that a fresh service token cannot cure: the Store ID key belongs to
/// another Entra app (its `clientId` claim is not the token's `appid`), a configuration error.
/// Every other 401 (AuthenticationTokenInvalid, PartnerAadTicketRequired, an unknown code, or
/// a bare 401 with no body, e.g. `WWW-Authenticate: Bearer error="invalid_token"`) may be our
/// token, so it earns the one forced refresh.
pub(crate) const KEY_ERROR_CODES: [&str; 1] = ["InconsistentClientId"];

/// `innererror.code` of a ServiceError body, when the body is one and the code is not blank.
pub(crate) fn inner_error_code(body: &[u8]) -> Option<String> {
    let body: ServiceErrorBody = serde_json::from_slice(body).ok()?;
    body.innererror?.code.filter(|c| !c.trim().is_empty())
}

/// Whether `code` is one of `codes`, ignoring case: the doc examples spell the same names in
/// several casings (`Key` and `key` in
/// <https://learn.microsoft.com/en-us/windows/uwp/monetize/renew-a-windows-store-id-key>).
pub(crate) fn is_one_of(code: &str, codes: &[&str]) -> bool {
    codes.iter().any(|c| c.eq_ignore_ascii_case(code.trim()))
}

/// Maps a Store response with a non-2xx status to an error (`op` names the call for the message).
pub(crate) fn store_error(op: &str, ex: &Exchange) -> Error {
    let body: ServiceErrorBody = serde_json::from_slice(&ex.body).unwrap_or_default();
    let inner_code = body.innererror.as_ref().and_then(|i| i.code.clone());
    let service_message = body
        .innererror
        .as_ref()
        .and_then(|i| i.message.clone())
        .or(body.message.clone());
    let kind = match (ex.status, inner_code.as_deref()) {
        (401, Some("InconsistentClientId")) => ErrorKind::ClientIdMismatch,
        (401, Some("PartnerAadTicketRequired")) => ErrorKind::MissingServiceToken,
        (401, _) | (403, _) => ErrorKind::Unauthorized,
        (404, _) => ErrorKind::NotFound,
        (429, _) => ErrorKind::Throttled,
        (400, Some("InvalidParameter")) => ErrorKind::InvalidArgument,
        (s, _) if s >= 500 => ErrorKind::Network,
        _ => ErrorKind::Service,
    };
    let mut message = format!("{op} failed with HTTP {}", ex.status);
    if let Some(m) = service_message.filter(|m| !m.is_empty()) {
        message.push_str(": ");
        message.push_str(&truncate(&m, 300));
    }
    match kind {
        ErrorKind::ClientIdMismatch => message.push_str(
            ". To fix: the Store ID key was minted with another Entra app's token; have the game \
             request keys with key-create tokens of this client_id",
        ),
        ErrorKind::MissingServiceToken => message.push_str(
            ". To fix: the request carried no Entra service token; check the login configuration",
        ),
        _ => {}
    }
    Error::with_details(
        kind,
        ErrorDetails {
            message,
            http_status: Some(ex.status),
            service_code: body.code,
            inner_code,
            ms_cv: ex.ms_cv.clone(),
            correlation_id: ex.correlation_id.clone(),
            retry_after: ex.retry_after,
            tracking_id: None,
            entra: None,
        },
    )
}

/// Entra's error body: <https://learn.microsoft.com/en-us/entra/identity-platform/reference-error-codes>.
#[derive(Debug, Default, Deserialize)]
struct EntraErrorBody {
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    error_description: Option<String>,
    #[serde(default)]
    error_codes: Vec<u64>,
    #[serde(default)]
    trace_id: Option<String>,
    #[serde(default)]
    correlation_id: Option<String>,
}

/// Maps a non-2xx Entra token response to an error.
pub(crate) fn entra_error(audience: &str, ex: &Exchange) -> Error {
    let body: EntraErrorBody = serde_json::from_slice(&ex.body).unwrap_or_default();
    let kind = match ex.status {
        429 => ErrorKind::Throttled,
        s if s >= 500 => ErrorKind::Network,
        _ if body.error.as_deref() == Some("temporarily_unavailable") => ErrorKind::Network,
        _ => ErrorKind::EntraAuth,
    };
    // error_description echoes app ids and tenant names: keep only its first line's AADSTS code
    // and summary, never the full text.
    let summary = body
        .error_description
        .as_deref()
        .and_then(|d| d.lines().next())
        .map(|l| truncate(l, 200))
        .unwrap_or_default();
    let error = body.error.clone().unwrap_or_default();
    let mut message = format!(
        "Entra ID refused the token request for {audience} (HTTP {}{}{}){}",
        ex.status,
        if error.is_empty() { "" } else { ", " },
        error,
        if summary.is_empty() {
            String::new()
        } else {
            format!(": {summary}")
        }
    );
    if let Some(hint) = body.error_codes.iter().find_map(|c| entra_hint(*c)) {
        message.push_str(". ");
        message.push_str(hint);
    }
    Error::with_details(
        kind,
        ErrorDetails {
            message,
            http_status: Some(ex.status),
            service_code: body.error.clone(),
            inner_code: body.error_codes.first().map(|c| format!("AADSTS{c}")),
            ms_cv: ex.ms_cv.clone(),
            correlation_id: body.correlation_id.clone().or(ex.correlation_id.clone()),
            retry_after: ex.retry_after,
            tracking_id: None,
            entra: Some(EntraErrorDetails {
                error,
                codes: body.error_codes,
                correlation_id: body.correlation_id,
                trace_id: body.trace_id,
            }),
        },
    )
}

/// What to do about the Entra errors that block a setup
/// (https://learn.microsoft.com/en-us/entra/identity-platform/reference-error-codes).
fn entra_hint(code: u64) -> Option<&'static str> {
    Some(match code {
        500011 => {
            "To fix: in Partner Center, add this app's client id under Product collections \
                   and purchases for each product; the association can take up to 16 hours"
        }
        7000215 => {
            "To fix: the client secret is wrong; use the secret's Value (not its ID) from \
                    the app registration's Certificates & secrets"
        }
        7000222 => {
            "To fix: the client secret has expired; create a new one in the app \
                     registration and rotate it in"
        }
        700016 => {
            "To fix: the client id is not an app in this tenant; check tenant_id and \
                   client_id against the app registration's Overview page"
        }
        700027 => {
            "To fix: the certificate or assertion is wrong; upload this certificate to the \
                   app registration (Certificates & secrets) or check the federated credential"
        }
        700024 => {
            "To fix: the assertion is outside its valid time; check this machine's clock \
                   and that the federated token file is being refreshed"
        }
        700213 => {
            "To fix: no federated credential matches; check its issuer, subject and \
                   audience (api://AzureADTokenExchange) on the app registration"
        }
        90002 => "To fix: the tenant does not exist; check tenant_id (the Directory (tenant) ID)",
        _ => return None,
    })
}

fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ex(status: u16, body: &str) -> Exchange {
        Exchange {
            status,
            body: body.as_bytes().to_vec(),
            ms_cv: Some("cv.1".into()),
            correlation_id: None,
            retry_after: None,
            maybe_applied_earlier: false,
        }
    }

    #[test]
    fn store_errors_map_to_kinds() {
        let e = store_error(
            "renew",
            &ex(
                401,
                r#"{"code":"Unauthorized","innererror":{"code":"InconsistentClientId","message":"appid differs"}}"#,
            ),
        );
        assert_eq!(e.kind, ErrorKind::ClientIdMismatch);
        assert_eq!(e.service_code.as_deref(), Some("Unauthorized"));
        assert_eq!(e.ms_cv.as_deref(), Some("cv.1"));
        assert!(e.message.contains("appid differs"));
        assert!(e.message.contains("To fix:"), "{}", e.message);
        assert_eq!(store_error("q", &ex(401, "")).kind, ErrorKind::Unauthorized);
        assert_eq!(
            store_error("q", &ex(503, "<html>")).kind,
            ErrorKind::Network
        );
        assert_eq!(
            store_error(
                "q",
                &ex(
                    400,
                    r#"{"code":"BadRequest","innererror":{"code":"InvalidParameter"}}"#
                )
            )
            .kind,
            ErrorKind::InvalidArgument
        );
        assert_eq!(
            store_error(
                "q",
                &ex(
                    400,
                    r#"{"code":"BadRequest","innererror":{"code":"InsufficientQuantity"}}"#
                )
            )
            .kind,
            ErrorKind::Service
        );
    }

    #[test]
    fn entra_errors_keep_codes_not_descriptions() {
        let body = r#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided. Ensure the secret being sent is the one for app 'abc'.\r\nTrace ID: t\r\nCorrelation ID: c\r\nTimestamp: 2023-06-02 21:00:26Z","error_codes":[7000215],"timestamp":"2023-06-02 21:00:26Z","trace_id":"t","correlation_id":"c"}"#;
        let e = entra_error("https://onestore.microsoft.com", &ex(401, body));
        assert_eq!(e.kind, ErrorKind::EntraAuth);
        assert_eq!(e.inner_code.as_deref(), Some("AADSTS7000215"));
        assert_eq!(e.correlation_id.as_deref(), Some("c"));
        assert!(!e.message.contains("Trace ID"));
        let d = e.entra.clone().unwrap();
        assert_eq!(d.codes, vec![7000215]);
        assert!(
            e.message.contains("To fix: the client secret is wrong"),
            "{}",
            e.message
        );
        for code in [500011, 7000222, 700016, 700027, 90002] {
            let body = format!(r#"{{"error":"x","error_codes":[{code}]}}"#);
            let e = entra_error("aud", &ex(400, &body));
            assert!(e.message.contains("To fix:"), "{code}: {}", e.message);
        }
        let e = entra_error("aud", &ex(400, r#"{"error":"x","error_codes":[500011]}"#));
        assert!(e.message.contains("16 hours"), "{}", e.message);
        assert_eq!(d.error, "invalid_client");
    }
}
