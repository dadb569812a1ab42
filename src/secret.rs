//! A string that never shows itself in logs, errors or `Debug` output.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::sync::Arc;

/// Holds a client secret, access token or Store ID key. `Debug`/`Display` print `<redacted>`;
/// serialisation writes the real value (it is what goes on the wire).
///
/// Shared, not copied, on `clone`: a Store ID key is ~1.2 KB, and a caller that keeps one per
/// player and builds a request per call (or thousands of calls waiting for a connection slot)
/// would otherwise hold a copy of it in every request.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SecretString(Arc<str>);

impl SecretString {
    pub fn new(s: impl Into<String>) -> SecretString {
        SecretString(Arc::from(s.into()))
    }

    /// The secret itself. Call sites are easy to audit by searching for `expose`.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl fmt::Display for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl Serialize for SecretString {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for SecretString {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(SecretString::from)
    }
}

impl From<String> for SecretString {
    fn from(s: String) -> Self {
        SecretString(Arc::from(s))
    }
}

impl From<&str> for SecretString {
    fn from(s: &str) -> Self {
        SecretString(Arc::from(s))
    }
}

impl From<&String> for SecretString {
    fn from(s: &String) -> Self {
        SecretString(Arc::from(s.as_str()))
    }
}

impl From<&SecretString> for SecretString {
    fn from(s: &SecretString) -> Self {
        s.clone()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn never_prints_itself() {
        let s = super::SecretString::new("hunter2");
        assert_eq!(format!("{s:?} {s}"), "<redacted> <redacted>");
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"hunter2\"");
        let back: super::SecretString = serde_json::from_str("\"hunter2\"").unwrap();
        assert_eq!(back, s);
    }

    #[test]
    fn clones_share_one_allocation() {
        let s = super::SecretString::new("k".repeat(1200));
        let c = super::SecretString::from(&s);
        assert!(std::ptr::eq(s.expose().as_ptr(), c.expose().as_ptr()));
    }
}
