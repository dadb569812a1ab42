//! The emulator's own compact-JWT plumbing (split, base64url, JSON), written apart from the
//! client's decoder on purpose: a decoding bug in the client must not be mirrored by the server
//! it is tested against. Signatures are checked by `crypto` with the emulator's key.

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine;
use serde_json::{Map, Value};

/// Upper bound on a JWT the emulator looks at (real Store ID keys are ~1-2 KiB).
const MAX_JWT_LEN: usize = 64 * 1024;

/// The three decoded parts of a compact JWT plus the signing input.
#[derive(Clone)]
pub struct DecodedJwt {
    pub header: Map<String, Value>,
    pub claims: Map<String, Value>,
    pub signature: Vec<u8>,
    /// `base64(header) "." base64(claims)`: what the signature covers.
    pub signing_input: String,
}

/// Decodes base64 in any of its four spellings (standard/URL-safe, padded or not).
pub fn decode_base64_lenient(s: &str) -> Option<Vec<u8>> {
    let s = s.trim();
    URL_SAFE_NO_PAD
        .decode(s)
        .or_else(|_| URL_SAFE.decode(s))
        .or_else(|_| STANDARD.decode(s))
        .or_else(|_| STANDARD_NO_PAD.decode(s))
        .ok()
}

pub fn encode_base64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Splits and decodes a compact JWT without verifying it; `None` when it is not one.
pub fn decode(token: &str) -> Option<DecodedJwt> {
    let token = token.trim();
    if token.len() > MAX_JWT_LEN {
        return None;
    }
    let mut parts = token.split('.');
    let (h, c, s) = match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(h), Some(c), Some(s), None) => (h, c, s),
        _ => return None,
    };
    let object = |seg: &str| match serde_json::from_slice::<Value>(&decode_base64_lenient(seg)?) {
        Ok(Value::Object(m)) => Some(m),
        _ => None,
    };
    let signature = if s.is_empty() {
        Vec::new()
    } else {
        decode_base64_lenient(s)?
    };
    Some(DecodedJwt {
        header: object(h)?,
        claims: object(c)?,
        signature,
        signing_input: format!("{h}.{c}"),
    })
}

/// Encodes header and claims as the unsigned part of a JWT (`b64(header).b64(claims)`).
pub fn signing_input(header: &Value, claims: &Value) -> String {
    format!(
        "{}.{}",
        encode_base64url(header.to_string().as_bytes()),
        encode_base64url(claims.to_string().as_bytes())
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn round_trips_and_refuses_what_is_not_a_jwt() {
        let t = format!(
            "{}.c2ln",
            signing_input(&json!({"alg": "none"}), &json!({"a": 1}))
        );
        let d = decode(&t).unwrap();
        assert_eq!(d.header["alg"], "none");
        assert_eq!(d.claims["a"], 1);
        assert_eq!(d.signature, b"sig");
        assert!(decode("a.b").is_none());
        assert!(decode("e30.e30.e30.e30").is_none());
        assert!(decode("W10.e30.").is_none(), "header must be an object");
        assert!(decode(&"a".repeat(MAX_JWT_LEN + 1)).is_none());
    }
}
