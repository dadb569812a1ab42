//! The claims of a Store ID key as they are on the wire, decoded in one pass into borrowed
//! fields: only the claims a key needs, no `serde_json::Map` of every claim (a key's `payload`
//! claim is most of its bytes and is only skipped over).
//!
//! Each field is lenient the way reading a `serde_json::Value` was: a claim of an unexpected
//! JSON type reads as absent (the caller then reports it missing) instead of failing the
//! whole parse.

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use std::borrow::Cow;
use std::fmt;

/// Visitor methods that read a JSON type as "absent" (consuming it fully).
macro_rules! none_for_scalars {
    () => {
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Ok(None)
        }
    };
}
macro_rules! none_for_null_and_map {
    () => {
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            Ok(None)
        }
    };
}
macro_rules! none_for_seq {
    () => {
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok(None)
        }
    };
}

/// The claims `StoreIdKey::decode` reads. Store claim URIs come in an `http://` spelling (UWP
/// docs, the official library) and an `https://` one (GDK docs); both are read, `http` first.
/// The names must match `crate::claims` (a test checks).
#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct KeyClaims<'a> {
    #[serde(borrow)]
    pub aud: Audience<'a>,
    pub iat: TimeClaim,
    pub exp: TimeClaim,
    pub nbf: TimeClaim,
    #[serde(
        borrow,
        rename = "http://schemas.microsoft.com/marketplace/2015/08/claims/key/clientId"
    )]
    pub client_id: LenientStr<'a>,
    #[serde(
        borrow,
        rename = "https://schemas.microsoft.com/marketplace/2015/08/claims/key/clientId"
    )]
    pub client_id_https: LenientStr<'a>,
    #[serde(
        borrow,
        rename = "http://schemas.microsoft.com/marketplace/2015/08/claims/key/userId"
    )]
    pub user_id: LenientStr<'a>,
    #[serde(
        borrow,
        rename = "https://schemas.microsoft.com/marketplace/2015/08/claims/key/userId"
    )]
    pub user_id_https: LenientStr<'a>,
    #[serde(
        borrow,
        rename = "http://schemas.microsoft.com/marketplace/2015/08/claims/key/refreshUri"
    )]
    pub refresh_uri: LenientStr<'a>,
    #[serde(
        borrow,
        rename = "https://schemas.microsoft.com/marketplace/2015/08/claims/key/refreshUri"
    )]
    pub refresh_uri_https: LenientStr<'a>,
}

impl<'a> KeyClaims<'a> {
    /// Parses a claims segment's JSON. `Err` when it is not a JSON object.
    pub fn parse(json: &'a [u8]) -> Option<KeyClaims<'a>> {
        // A derived struct would also accept a JSON array (fields by position): require `{`.
        let first = json.iter().find(|b| !b.is_ascii_whitespace());
        if first != Some(&b'{') {
            return None;
        }
        serde_json::from_slice(json).ok()
    }
}

/// Either spelling of a Store claim, `http://` first.
pub(super) fn either(http: LenientStr<'_>, https: LenientStr<'_>) -> Option<String> {
    http.0.or(https.0).map(Cow::into_owned)
}

/// A string claim; any other JSON type reads as `None`.
#[derive(Default)]
pub(super) struct LenientStr<'a>(pub Option<Cow<'a, str>>);

impl<'de: 'a, 'a> Deserialize<'de> for LenientStr<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Option<Cow<'de, str>>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Some(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Some(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Some(Cow::Owned(v)))
            }
            none_for_scalars!();
            none_for_null_and_map!();
            none_for_seq!();
        }
        d.deserialize_any(V).map(LenientStr)
    }
}

/// `aud`: a string, or an array whose first string is the audience (a Store key has one).
#[derive(Default)]
pub(super) struct Audience<'a>(pub Option<Cow<'a, str>>);

impl<'de: 'a, 'a> Deserialize<'de> for Audience<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Option<Cow<'de, str>>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string or an array of strings")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Some(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Some(Cow::Owned(v.to_owned())))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut first = None;
                while let Some(LenientStr(s)) = seq.next_element::<LenientStr<'de>>()? {
                    if first.is_none() {
                        first = s;
                    }
                }
                Ok(first)
            }
            none_for_scalars!();
            none_for_null_and_map!();
        }
        d.deserialize_any(V).map(Audience)
    }
}

/// Epoch seconds as an integer, a float (truncated) or a numeric string; `None` otherwise.
#[derive(Default)]
pub(super) struct TimeClaim(pub Option<i64>);

impl<'de> Deserialize<'de> for TimeClaim {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Option<i64>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("epoch seconds")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(Some(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                // Beyond i64 is far outside any valid year; the caller's range check rejects it.
                Ok(Some(i64::try_from(v).unwrap_or(i64::MAX)))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                // `as` saturates (and maps NaN to 0, which no valid key has as iat/exp).
                Ok(Some(v as i64))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(v.trim().parse().ok())
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                Ok(None)
            }
            none_for_null_and_map!();
            none_for_seq!();
        }
        d.deserialize_any(V).map(TimeClaim)
    }
}
