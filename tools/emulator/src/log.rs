//! Request log for test assertions. Secrets (client secrets, tokens, Store ID keys) are
//! redacted before anything is stored.

use super::json::parse_form;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LoggedRequest {
    pub seq: u64,
    /// Virtual time of arrival.
    pub time: Timestamp,
    pub method: String,
    pub path: String,
    /// Stable route name (`entra_v2`, `collections_v9_query`, ...).
    pub route: String,
    /// HTTP status sent; 0 when the connection was dropped without a response.
    pub status: u16,
    /// The `MS-CV` sent back.
    pub ms_cv: String,
    /// Requested audience (token requests only; `/.default` stripped).
    pub audience: Option<String>,
    /// Request body with secrets redacted.
    pub body: String,
    /// Injected fault, if any (`throttle`, `drop_after_apply`, ...).
    pub fault: Option<String>,
}

const REDACTED: &str = "<redacted>";
const SECRET_FIELDS: &[&str] = &[
    "client_secret",
    "client_assertion",
    "serviceticket",
    "b2bkey",
    "identityvalue",
    "key",
    "access_token",
    "key_create_token",
];

fn is_secret(name: &str) -> bool {
    SECRET_FIELDS.iter().any(|s| s.eq_ignore_ascii_case(name))
}

fn redact_value(v: &mut Value) {
    match v {
        Value::Object(m) => {
            for (k, val) in m.iter_mut() {
                if is_secret(k) && !val.is_null() {
                    *val = Value::String(REDACTED.into());
                } else {
                    redact_value(val);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(redact_value),
        _ => {}
    }
}

/// Redacts a JSON or form body; anything else is replaced by a size note when it might hold
/// a secret we cannot parse.
pub fn redact(body: &[u8], form: bool) -> String {
    if body.is_empty() {
        return String::new();
    }
    if form {
        return parse_form(body)
            .into_iter()
            .map(|(k, v)| {
                if is_secret(&k) {
                    format!("{k}={REDACTED}")
                } else {
                    format!("{k}={v}")
                }
            })
            .collect::<Vec<_>>()
            .join("&");
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(mut v) => {
            redact_value(&mut v);
            v.to_string()
        }
        Err(_) => format!("<{} bytes, not JSON>", body.len()),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn redacts() {
        let s = super::redact(br#"{"Key":"abc","serviceTicket":"t","beneficiaries":[{"identityValue":"k"}],"productId":"P"}"#, false);
        assert!(!s.contains("abc") && !s.contains("\"t\"") && !s.contains("\"k\""));
        assert!(s.contains("\"P\""));
        let f = super::redact(b"client_id=c&client_secret=s3cr3t&scope=x", true);
        assert!(!f.contains("s3cr3t") && f.contains("client_id=c"));
    }
}
