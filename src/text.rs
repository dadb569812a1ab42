//! [`Text`]: the text of a decoded Store answer. Most of an entitlement's strings are short
//! (product ids are 12 characters, `Durable`, `Active`, `US`), and allocating and freeing one
//! `String` each was a quarter of decoding a query page (issue 14). A `Text` keeps up to 24
//! bytes inline, in the size of a `String`, and longer text on the heap.
//!
//! It is our own type so that the crate storing it (`compact_str`) stays out of the public API:
//! it reads as a `&str` (`Deref`, `AsRef`, `Borrow`), compares with `str` and `String`, converts
//! from and into `String`, and (de)serialises as a JSON string.

use compact_str::CompactString;
use serde::de::{self, Deserialize, Deserializer, Visitor};
use serde::{Serialize, Serializer};
use std::borrow::{Borrow, Cow};
use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;
use std::str::FromStr;

/// Immutable text, inline up to 24 bytes. Reads as a `&str`; `Debug` and `Display` are a
/// `String`'s.
#[derive(Clone, Default)]
pub struct Text(CompactString);

impl Text {
    /// A copy of `s` (no allocation up to 24 bytes).
    pub fn new(s: &str) -> Text {
        Text(CompactString::new(s))
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The text as a `String` (a heap-held text gives its buffer without a copy).
    pub fn into_string(self) -> String {
        self.0.into_string()
    }
}

impl Deref for Text {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<[u8]> for Text {
    fn as_ref(&self) -> &[u8] {
        self.as_str().as_bytes()
    }
}

impl Borrow<str> for Text {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.as_str(), f)
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

// Equality, order and hash are those of the `str`, as `Borrow<str>` requires.
impl PartialEq for Text {
    fn eq(&self, other: &Text) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Text {}

impl PartialOrd for Text {
    fn partial_cmp(&self, other: &Text) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Text {
    fn cmp(&self, other: &Text) -> Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl Hash for Text {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state)
    }
}

/// `Text == x` and `x == Text` for each of the other text types.
macro_rules! eq_both_ways {
    ($($other:ty),*) => {$(
        impl PartialEq<$other> for Text {
            fn eq(&self, other: &$other) -> bool {
                self.as_str() == AsRef::<str>::as_ref(other)
            }
        }
        impl PartialEq<Text> for $other {
            fn eq(&self, other: &Text) -> bool {
                AsRef::<str>::as_ref(self) == other.as_str()
            }
        }
    )*};
}

eq_both_ways!(str, &str, String, Cow<'_, str>);

impl From<&str> for Text {
    fn from(s: &str) -> Text {
        Text::new(s)
    }
}

impl From<&String> for Text {
    fn from(s: &String) -> Text {
        Text::new(s)
    }
}

/// Short text moves inline (and the `String` is freed); longer text keeps its buffer.
impl From<String> for Text {
    fn from(s: String) -> Text {
        Text(CompactString::from(s))
    }
}

impl From<Cow<'_, str>> for Text {
    fn from(s: Cow<'_, str>) -> Text {
        match s {
            Cow::Borrowed(s) => Text::new(s),
            Cow::Owned(s) => Text::from(s),
        }
    }
}

impl From<Text> for String {
    fn from(t: Text) -> String {
        t.into_string()
    }
}

impl FromStr for Text {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Text, Self::Err> {
        Ok(Text::new(s))
    }
}

impl Serialize for Text {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Reads the `&str` the deserialiser lends (serde_json: the body's bytes, or its unescaping
/// buffer), with no `String` in between.
impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Text, D::Error> {
        struct TextVisitor;
        impl Visitor<'_> for TextVisitor {
            type Value = Text;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Text, E> {
                Ok(Text::new(s))
            }
            fn visit_string<E: de::Error>(self, s: String) -> Result<Text, E> {
                Ok(Text::from(s))
            }
        }
        d.deserialize_str(TextVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::hash_map::DefaultHasher;
    use std::collections::{BTreeSet, HashSet};

    const LONG: &str = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"; // 36 bytes: on the heap

    /// `t == other` and `other == t`, which must agree.
    fn both_ways<O: PartialEq<Text> + ?Sized>(t: &Text, other: &O) -> bool
    where
        Text: PartialEq<O>,
    {
        let (there, back) = (t == other, other == t);
        assert_eq!(there, back);
        there
    }

    #[test]
    fn reads_compares_and_converts_as_the_text_it_holds() {
        for s in [
            "",
            "9NZB0T3LQH5D",
            "exactly-twenty-four-byte",
            LONG,
            "Ünïcödé ✓",
        ] {
            let t = Text::from(s);
            assert_eq!(t.as_str(), s);
            assert_eq!(&*t, s);
            assert_eq!(t.len(), s.len());
            let owned = s.to_string();
            let cow: Cow<str> = Cow::Borrowed(s);
            assert!(both_ways(&t, s) && both_ways(&t, &s));
            assert!(both_ways(&t, &owned) && both_ways(&t, &cow));
            assert_eq!(Text::from(s.to_string()), t);
            assert_eq!(Text::from(Cow::<str>::Owned(s.into())), t);
            assert_eq!(String::from(t.clone()), s);
            assert_eq!(t.clone().into_string(), s);
            assert_eq!(s.parse::<Text>().unwrap(), t);
            assert_eq!(format!("{t}|{t:>40}|{t:?}"), format!("{s}|{s:>40}|{s:?}"));
            let r: &str = t.as_ref();
            let b: &str = t.borrow();
            assert_eq!((r, b), (s, s));
        }
        assert_eq!(Text::default(), "");
        assert_ne!(Text::from("a"), Text::from("b"));
        assert!(!both_ways(&Text::from("a"), "b") && !both_ways(&Text::from("a"), &"A"));
        assert!(!both_ways(&Text::from("a"), &"ab".to_string()));
    }

    #[test]
    fn order_and_hash_are_the_strs() {
        let words = ["Game", "Durable", "", LONG, "Active", "9NZB0T3LQH5D"];
        let texts: BTreeSet<Text> = words.iter().map(|&w| Text::from(w)).collect();
        let strs: BTreeSet<&str> = words.iter().copied().collect();
        assert!(texts.iter().map(Text::as_str).eq(strs.iter().copied()));
        let hash = |v: &dyn Fn(&mut DefaultHasher)| {
            let mut h = DefaultHasher::new();
            v(&mut h);
            h.finish()
        };
        for w in words {
            let t = Text::from(w);
            assert_eq!(hash(&|h| t.hash(h)), hash(&|h| w.hash(h)), "{w}");
        }
        // Borrow<str>: a set of Text is searched with a &str.
        let set: HashSet<Text> = words.iter().map(|&w| Text::from(w)).collect();
        assert!(set.contains("Durable") && set.contains(LONG) && !set.contains("durable"));
    }

    #[test]
    fn json_round_trip_and_escapes() {
        for (json, want) in [
            (r#""9NZB0T3LQH5D""#, "9NZB0T3LQH5D"),
            (r#""a\u0041\n\"""#, "aA\n\""),
            (r#""""#, ""),
            (&format!("\"{LONG}\""), LONG),
        ] {
            let t: Text = serde_json::from_str(json).unwrap();
            assert_eq!(t, want);
            let back = serde_json::to_string(&t).unwrap();
            assert_eq!(back, serde_json::to_string(want).unwrap());
            // From a reader (no borrowed input): the same text.
            let t: Text = serde_json::from_reader(json.as_bytes()).unwrap();
            assert_eq!(t, want);
        }
        // A Value hands over owned strings.
        let t: Text = serde_json::from_value(serde_json::json!("Durable")).unwrap();
        assert_eq!(t, "Durable");
        for bad in ["1", "null", "[]", "{}", "true"] {
            let e = serde_json::from_str::<Text>(bad).unwrap_err().to_string();
            assert!(e.contains("expected a string"), "{bad}: {e}");
        }
    }

    #[test]
    fn short_text_is_inline_in_the_size_of_a_string() {
        for s in ["", "0010", "9NZB0T3LQH5D", "exactly-twenty-four-byte"] {
            assert!(!Text::new(s).0.is_heap_allocated(), "{s}");
            assert!(!Text::from(s.to_string()).0.is_heap_allocated(), "{s}");
        }
        assert!(Text::new(LONG).0.is_heap_allocated());
        assert!(Text::new("exactly-twenty-five-bytes").0.is_heap_allocated());
        assert_eq!(std::mem::size_of::<Text>(), std::mem::size_of::<String>());
        assert_eq!(
            std::mem::size_of::<Option<Text>>(),
            std::mem::size_of::<Option<String>>()
        );
    }
}
