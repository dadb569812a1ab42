//! Compact JWT plumbing shared by the Store ID key decoder and the emulator: splitting, base64url
//! and JSON. No signature verification here (the client never verifies; the emulator does its
//! own with its key).

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine;
use serde_json::Value;

/// Upper bound on a JWT we are willing to look at. Real Store ID keys are ~1-2 KiB.
pub const MAX_JWT_LEN: usize = 64 * 1024;

/// Why a string is not a usable compact JWT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JwtError {
    TooLong,
    NotThreeSegments,
    BadBase64(&'static str),
    BadJson(&'static str),
}

impl std::fmt::Display for JwtError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            JwtError::TooLong => write!(f, "longer than {MAX_JWT_LEN} bytes"),
            JwtError::NotThreeSegments => {
                write!(f, "not a compact JWT (expected 3 dot-separated segments)")
            }
            JwtError::BadBase64(part) => write!(f, "the {part} segment is not base64url"),
            JwtError::BadJson(part) => write!(f, "the {part} segment is not a JSON object"),
        }
    }
}

impl std::error::Error for JwtError {}

/// The three decoded parts of a compact JWT plus the signing input.
#[derive(Clone)]
pub struct DecodedJwt {
    pub header: serde_json::Map<String, Value>,
    pub claims: serde_json::Map<String, Value>,
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

/// Splits and decodes a compact JWT without verifying it.
pub fn decode(token: &str) -> Result<DecodedJwt, JwtError> {
    let token = token.trim();
    if token.len() > MAX_JWT_LEN {
        return Err(JwtError::TooLong);
    }
    let mut parts = token.split('.');
    let (h, c, s) = match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(h), Some(c), Some(s), None) => (h, c, s),
        _ => return Err(JwtError::NotThreeSegments),
    };
    let object =
        |seg: &str, name: &'static str| -> Result<serde_json::Map<String, Value>, JwtError> {
            let bytes = decode_base64_lenient(seg).ok_or(JwtError::BadBase64(name))?;
            match serde_json::from_slice::<Value>(&bytes) {
                Ok(Value::Object(m)) => Ok(m),
                _ => Err(JwtError::BadJson(name)),
            }
        };
    let header = object(h, "header")?;
    let claims = object(c, "claims")?;
    let signature = if s.is_empty() {
        Vec::new()
    } else {
        decode_base64_lenient(s).ok_or(JwtError::BadBase64("signature"))?
    };
    Ok(DecodedJwt {
        header,
        claims,
        signature,
        signing_input: format!("{h}.{c}"),
    })
}

/// The decoded claims segment of a compact JWT, for readers that need only the claims (a Store
/// ID key): the header is checked to be a JSON object, the signature only to be base64url
/// characters (decoding it would be wasted work for a reader that never verifies it).
pub fn decode_claims_segment(token: &str) -> Result<Vec<u8>, JwtError> {
    let token = token.trim();
    if token.len() > MAX_JWT_LEN {
        return Err(JwtError::TooLong);
    }
    let mut parts = token.split('.');
    let (h, c, s) = match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(h), Some(c), Some(s), None) => (h, c, s),
        _ => return Err(JwtError::NotThreeSegments),
    };
    let header = decode_base64_lenient(h).ok_or(JwtError::BadBase64("header"))?;
    if !is_json_object(&header) {
        return Err(JwtError::BadJson("header"));
    }
    let is_b64 = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'+' | b'/');
    if !s.trim_end_matches('=').bytes().all(is_b64) || s.len() % 4 == 1 {
        return Err(JwtError::BadBase64("signature"));
    }
    decode_base64_lenient(c).ok_or(JwtError::BadBase64("claims"))
}

/// Whether `bytes` is one JSON object (contents skipped, not kept).
fn is_json_object(bytes: &[u8]) -> bool {
    struct ObjectOnly;
    impl<'de> serde::Deserialize<'de> for ObjectOnly {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl<'de> serde::de::Visitor<'de> for V {
                type Value = ObjectOnly;
                fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                    f.write_str("a JSON object")
                }
                fn visit_map<A: serde::de::MapAccess<'de>>(
                    self,
                    mut m: A,
                ) -> Result<ObjectOnly, A::Error> {
                    use serde::de::IgnoredAny;
                    while m.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                    Ok(ObjectOnly)
                }
            }
            d.deserialize_map(V)
        }
    }
    serde_json::from_slice::<ObjectOnly>(bytes).is_ok()
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
    fn round_trip_and_errors() {
        let input = signing_input(&json!({"alg":"none"}), &json!({"a":1}));
        let tok = format!("{input}.");
        let d = decode(&tok).unwrap();
        assert_eq!(d.claims["a"], 1);
        assert!(d.signature.is_empty());
        assert_eq!(d.signing_input, input);
        assert_eq!(decode("a.b").err(), Some(JwtError::NotThreeSegments));
        assert_eq!(decode("a.b.c.d").err(), Some(JwtError::NotThreeSegments));
        assert_eq!(decode("!!.e30.").err(), Some(JwtError::BadBase64("header")));
        assert_eq!(decode("e30.W10.").err(), Some(JwtError::BadJson("claims")));
        assert_eq!(
            decode(&"a".repeat(MAX_JWT_LEN + 1)).err(),
            Some(JwtError::TooLong)
        );
    }

    #[test]
    fn claims_segment_checks_like_decode() {
        let input = signing_input(&json!({"alg":"none"}), &json!({"a":1}));
        let claims = decode_claims_segment(&format!("{input}.c2ln")).unwrap();
        assert_eq!(claims, br#"{"a":1}"#);
        assert!(decode_claims_segment(&format!("{input}.")).is_ok());
        assert_eq!(
            decode_claims_segment("a.b").err(),
            Some(JwtError::NotThreeSegments)
        );
        assert_eq!(
            decode_claims_segment("!!.e30.").err(),
            Some(JwtError::BadBase64("header"))
        );
        // A header that is JSON but not an object.
        assert_eq!(
            decode_claims_segment("W10.e30.").err(),
            Some(JwtError::BadJson("header"))
        );
        assert_eq!(
            decode_claims_segment("e30.e30.not*base64").err(),
            Some(JwtError::BadBase64("signature"))
        );
        assert_eq!(
            decode_claims_segment("e30.!!.").err(),
            Some(JwtError::BadBase64("claims"))
        );
        assert_eq!(
            decode_claims_segment(&"a".repeat(MAX_JWT_LEN + 1)).err(),
            Some(JwtError::TooLong)
        );
    }

    #[test]
    fn lenient_base64() {
        for s in ["aGk_", "aGk/", "aGk-", "aGk+", "aGVsbG8=", "aGVsbG8"] {
            assert!(decode_base64_lenient(s).is_some(), "{s}");
        }
    }
}
