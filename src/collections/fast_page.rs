//! A query page read straight from its text, for the pages the Store actually sends: no escape
//! in any string, numbers where the documentation has them. Decoding a page through serde cost
//! ~11,000 instructions an entitlement (serde_json's per-token machinery: every key and value
//! passes through a visitor, a `MapAccess` and a `Result`), most of a query's CPU (issue 14).
//!
//! The rule that keeps this safe: it answers only when it is certain of serde's answer. Any
//! input it does not fully understand (an escape, a control character, a number out of range or
//! negative where an integer is read, a duplicate member, nesting past [`MAX_DEPTH`], anything
//! not well formed) gives `None`, and the page is read by serde, whose value or error is then
//! the answer. So it never accepts what serde rejects, and what it accepts decodes to serde's
//! value (tests compare the two over mutated pages; so does the `responses` fuzz target).
//! The shapes are those of `item_de` (which documents them).

use super::item_de::{read_fast, settle_recurrence, Field};
use super::{EntitlementItem, IdentityV6, TrialData};
use crate::paging::PageWire;
use crate::text::Text;
use crate::time::Timestamp;

/// Nesting deeper than this inside an unknown member goes to serde, which has its own limit;
/// it bounds this reader's recursion.
const MAX_DEPTH: u32 = 32;

/// How many bytes of `b` come before its first `"`, `\` or control character (`None`: none
/// does). Eight bytes at a time, as serde_json scans (Mycroft's zero-byte test: a byte's flag
/// can be wrong only above a byte that is truly flagged, so the lowest flag is exact); a byte at
/// a time this scan was most of the reader's cost.
fn plain_run(b: &[u8]) -> Option<usize> {
    const ONES: u64 = u64::MAX / 255;
    const HIGH: u64 = ONES << 7;
    let flags = |w: u64| {
        let control = w.wrapping_sub(ONES * 0x20) & !w;
        let q = w ^ (ONES * u64::from(b'"'));
        let quote = q.wrapping_sub(ONES) & !q;
        let e = w ^ (ONES * u64::from(b'\\'));
        let escape = e.wrapping_sub(ONES) & !e;
        (control | quote | escape) & HIGH
    };
    let mut chunks = b.chunks_exact(8);
    for (n, chunk) in chunks.by_ref().enumerate() {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let f = flags(u64::from_le_bytes(word));
        if f != 0 {
            return Some(n * 8 + f.trailing_zeros() as usize / 8);
        }
    }
    let tail = chunks.remainder();
    let at = tail
        .iter()
        .position(|&c| c == b'"' || c == b'\\' || c < 0x20)?;
    Some(b.len() - tail.len() + at)
}

/// A query page's members, if this reader is certain of them.
pub(crate) fn page(raw: &str) -> Option<PageWire<EntitlementItem>> {
    let mut r = Reader {
        s: raw,
        b: raw.as_bytes(),
        i: 0,
    };
    let mut page = PageWire {
        items: Vec::new(),
        continuation_token: None,
    };
    let (mut seen_items, mut seen_token) = (false, false);
    r.members(|r, name| {
        match name {
            "items" if !seen_items => {
                seen_items = true;
                page.items = r.items()?;
            }
            "continuationToken" if !seen_token => {
                seen_token = true;
                page.continuation_token = if r.null()? {
                    None
                } else {
                    Some(r.str()?.to_owned())
                };
            }
            "items" | "continuationToken" => return None,
            _ => r.skip(0)?,
        }
        Some(())
    })?;
    // Only whitespace may follow (serde_json: "trailing characters").
    r.ws();
    (r.i == r.b.len()).then_some(page)
}

/// Whether the fast reader answered for `raw`; panics when its answer is not serde's (the
/// check the tests and the `responses` fuzz target make: a disagreement is the bug looked for).
#[cfg(any(test, feature = "fuzzing"))]
pub(crate) fn answers_as_serde(raw: &str) -> bool {
    let Some(fast) = page(raw) else {
        return false;
    };
    match serde_json::from_str::<PageWire<EntitlementItem>>(raw) {
        Ok(slow) => {
            assert!(
                fast.items == slow.items && fast.continuation_token == slow.continuation_token,
                "the fast page reader and serde read a page differently: {raw}"
            );
            true
        }
        Err(e) => panic!("the fast page reader accepted a page serde rejects ({e}): {raw}"),
    }
}

/// A position in the page's text; every method gives `None` for what it does not handle.
pub(super) struct Reader<'a> {
    s: &'a str,
    b: &'a [u8],
    i: usize,
}

impl<'a> Reader<'a> {
    /// Skips JSON whitespace.
    #[inline]
    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.b.get(self.i) {
            self.i += 1;
        }
    }

    /// The next byte after whitespace, not consumed.
    #[inline]
    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.b.get(self.i).copied()
    }

    /// Consumes `c` (after whitespace).
    #[inline]
    fn eat(&mut self, c: u8) -> Option<()> {
        (self.peek()? == c).then(|| self.i += 1)
    }

    /// Consumes the literal `word` (its first byte was peeked).
    fn literal(&mut self, word: &[u8]) -> Option<()> {
        let end = self.i + word.len();
        (self.b.get(self.i..end)? == word).then(|| self.i = end)
    }

    /// Consumes `null` if it is next: whether it was.
    fn null(&mut self) -> Option<bool> {
        if self.peek()? != b'n' {
            return Some(false);
        }
        self.literal(b"null")?;
        Some(true)
    }

    /// A string with no escape and no control character: its text, borrowed.
    #[inline]
    fn str(&mut self) -> Option<&'a str> {
        self.eat(b'"')?;
        let start = self.i;
        let len = plain_run(self.b.get(start..)?)?;
        if self.b[start + len] != b'"' {
            return None;
        }
        self.i = start + len + 1;
        // The text is UTF-8 and `"` is ASCII, so both ends are character boundaries.
        self.s.get(start..start + len)
    }

    /// A date in the form the Store writes (`time::parse_store_form`), read in place: that
    /// reader checks each of its 33 bytes against its template, so none is a quote, a backslash
    /// or a control character and the string needs no scan. Anything else: `None`, nothing
    /// consumed.
    fn store_date(&mut self) -> Option<Timestamp> {
        if self.peek()? != b'"' {
            return None;
        }
        let date = self.b.get(self.i + 1..)?.first_chunk::<33>()?;
        if self.b.get(self.i + 34) != Some(&b'"') {
            return None;
        }
        let t = crate::time::parse_store_form(date)?;
        self.i += 35;
        Some(t)
    }

    #[inline]
    fn text(&mut self) -> Option<Text> {
        self.str().map(Text::new)
    }

    fn boolean(&mut self) -> Option<bool> {
        match self.peek()? {
            b't' => self.literal(b"true").map(|()| true),
            b'f' => self.literal(b"false").map(|()| false),
            _ => None,
        }
    }

    /// A non-negative integer in `i64` (a sign, a fraction or an exponent goes to serde: it
    /// reads `-0` and `1.0` as floats, which an integer field rejects).
    fn integer(&mut self) -> Option<i64> {
        self.ws();
        let start = self.i;
        let mut v: i64 = 0;
        while let Some(&c) = self.b.get(self.i).filter(|c| c.is_ascii_digit()) {
            v = v.checked_mul(10)?.checked_add(i64::from(c - b'0'))?;
            self.i += 1;
        }
        let digits = self.i - start;
        let leading_zero = digits > 1 && self.b[start] == b'0';
        if digits == 0 || leading_zero || matches!(self.b.get(self.i), Some(b'.' | b'e' | b'E')) {
            return None;
        }
        Some(v)
    }

    /// Skips digits; how many.
    fn digits(&mut self) -> usize {
        let start = self.i;
        while self.b.get(self.i).is_some_and(u8::is_ascii_digit) {
            self.i += 1;
        }
        self.i - start
    }

    /// Skips a JSON number (the grammar of RFC 8259, section 6).
    fn number(&mut self) -> Option<()> {
        if self.b.get(self.i) == Some(&b'-') {
            self.i += 1;
        }
        match self.b.get(self.i)? {
            b'0' => {
                self.i += 1;
                if self.b.get(self.i).is_some_and(u8::is_ascii_digit) {
                    return None;
                }
            }
            b'1'..=b'9' => {
                self.digits();
            }
            _ => return None,
        }
        if self.b.get(self.i) == Some(&b'.') {
            self.i += 1;
            if self.digits() == 0 {
                return None;
            }
        }
        if let Some(b'e' | b'E') = self.b.get(self.i) {
            self.i += 1;
            if let Some(b'+' | b'-') = self.b.get(self.i) {
                self.i += 1;
            }
            if self.digits() == 0 {
                return None;
            }
        }
        Some(())
    }

    /// Skips any value, nested at most [`MAX_DEPTH`] deep.
    pub(super) fn skip(&mut self, depth: u32) -> Option<()> {
        match self.peek()? {
            b'"' => self.str().map(drop),
            b'{' if depth < MAX_DEPTH => self.members(|r, _| r.skip(depth + 1)),
            b'[' if depth < MAX_DEPTH => self.elements(|r| r.skip(depth + 1)),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }

    /// An object: `member` is called at each member's value with its name.
    fn members(&mut self, mut member: impl FnMut(&mut Self, &'a str) -> Option<()>) -> Option<()> {
        self.eat(b'{')?;
        if self.peek()? == b'}' {
            self.i += 1;
            return Some(());
        }
        loop {
            let name = self.str()?;
            self.eat(b':')?;
            member(self, name)?;
            match self.peek()? {
                b',' => self.i += 1,
                b'}' => {
                    self.i += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// An array: `element` is called at each element.
    fn elements(&mut self, mut element: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        self.eat(b'[')?;
        if self.peek()? == b']' {
            self.i += 1;
            return Some(());
        }
        loop {
            element(self)?;
            match self.peek()? {
                b',' => self.i += 1,
                b']' => {
                    self.i += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// The page's `items`: an array of entitlement objects.
    fn items(&mut self) -> Option<Vec<EntitlementItem>> {
        let mut items = Vec::new();
        self.elements(|r| {
            items.push(r.item()?);
            Some(())
        })?;
        Some(items)
    }

    /// One entitlement: its members as `item_de::fill` reads them.
    fn item(&mut self) -> Option<EntitlementItem> {
        let mut item = EntitlementItem::default();
        let (mut recurrence_data, mut seen) = (None, 0u64);
        self.members(|r, name| {
            let f = Field::of(name);
            if let Some(bit) = f.bit() {
                if seen & bit != 0 {
                    return None;
                }
                seen |= bit;
            }
            read_fast(f, &mut item, &mut recurrence_data, r)
        })?;
        settle_recurrence(&mut item, recurrence_data);
        Some(item)
    }

    /// `recurrenceData` as `item_de::RecurrenceData` reads it: a string, or an object whose
    /// first `recurrenceId` member (any case) decides when it is a string; anything else is
    /// `None`. Empty text is `None`.
    pub(super) fn recurrence_data(&mut self) -> Option<Option<Text>> {
        let non_empty = |s: &str| (!s.is_empty()).then(|| Text::new(s));
        match self.peek()? {
            b'"' => self.str().map(non_empty),
            b'{' => {
                let (mut id, mut decided) = (None, false);
                self.members(|r, name| {
                    if !decided && name.eq_ignore_ascii_case("recurrenceId") {
                        decided = true;
                        match r.peek()? {
                            b'"' => {
                                id = r.str().map(non_empty)?;
                                return Some(());
                            }
                            b'-' | b'0'..=b'9' => return None,
                            _ => {}
                        }
                    }
                    r.skip(1)
                })?;
                Some(id)
            }
            // serde reads this value with `deserialize_any`, which converts a number (and
            // fails on one out of range, `1e400`); only the number's syntax is checked here.
            b'-' | b'0'..=b'9' => None,
            _ => self.skip(0).map(|()| None),
        }
    }
}

/// A member's value as the field's type reads it (`item_de::FieldValue`: `null` is the
/// default, or `None` for an optional field).
pub(super) trait FastValue: Sized {
    fn fast(r: &mut Reader<'_>) -> Option<Self>;
}

/// The value itself, `null` not included.
pub(super) trait FastInner: Sized {
    fn inner(r: &mut Reader<'_>) -> Option<Self>;
}

impl<T: FastInner> FastValue for Option<T> {
    fn fast(r: &mut Reader<'_>) -> Option<Self> {
        if r.null()? {
            return Some(None);
        }
        T::inner(r).map(Some)
    }
}

/// `null` is the type's default.
macro_rules! or_default {
    ($($t:ty),*) => {$(
        impl FastValue for $t {
            fn fast(r: &mut Reader<'_>) -> Option<Self> {
                if r.null()? {
                    return Some(<$t>::default());
                }
                <$t as FastInner>::inner(r)
            }
        }
    )*};
}

or_default!(Text, i64, Vec<Text>);

impl FastInner for Text {
    fn inner(r: &mut Reader<'_>) -> Option<Self> {
        r.text()
    }
}

impl FastInner for i64 {
    fn inner(r: &mut Reader<'_>) -> Option<Self> {
        r.integer()
    }
}

impl FastInner for Timestamp {
    fn inner(r: &mut Reader<'_>) -> Option<Self> {
        r.store_date().or_else(|| Timestamp::parse(r.str()?).ok())
    }
}

impl FastInner for Vec<Text> {
    fn inner(r: &mut Reader<'_>) -> Option<Self> {
        let mut v = Vec::new();
        r.elements(|r| {
            v.push(r.text()?);
            Some(())
        })?;
        Some(v)
    }
}

/// Each named member once (serde's derive: "duplicate field"), others skipped.
macro_rules! once {
    ($seen:ident, $bit:expr) => {{
        if $seen & $bit != 0 {
            return None;
        }
        $seen |= $bit;
    }};
}

impl FastInner for TrialData {
    fn inner(r: &mut Reader<'_>) -> Option<Self> {
        let (mut t, mut seen) = (TrialData::default(), 0u8);
        r.members(|r, name| {
            match name {
                "isTrial" => {
                    once!(seen, 1);
                    t.is_trial = r.boolean()?;
                }
                "isInTrialPeriod" => {
                    once!(seen, 2);
                    t.is_in_trial_period = r.boolean()?;
                }
                "trialTimeRemaining" => {
                    once!(seen, 4);
                    t.trial_time_remaining = Option::<Text>::fast(r)?;
                }
                _ => r.skip(1)?,
            }
            Some(())
        })?;
        Some(t)
    }
}

impl FastInner for IdentityV6 {
    fn inner(r: &mut Reader<'_>) -> Option<Self> {
        let mut id = IdentityV6 {
            identity_type: Text::default(),
            identity_value: Text::default(),
        };
        let mut seen = 0u8;
        r.members(|r, name| {
            match name {
                "identityType" => {
                    once!(seen, 1);
                    id.identity_type = r.text()?;
                }
                "identityValue" => {
                    once!(seen, 2);
                    id.identity_value = r.text()?;
                }
                _ => r.skip(1)?,
            }
            Some(())
        })?;
        Some(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const V9_ITEM: &str = r#"{"acquiredDate":"2026-01-14T09:12:40.1173402+00:00","acquisitionType":"Single","endDate":"9999-12-31T23:59:59.9999999+00:00","id":"2f8b8a9c-1a7e-4c5e-9d3b-6a1f0e2d4c5b","modifiedDate":"2026-01-14T09:12:40.1173402+00:00","productId":"9NBLGGH4R315","productKind":"Durable","quantity":1,"satisfiedByProductIds":["9NBLGGH4R316"],"skuId":"0010","startDate":"2026-01-14T09:12:40.1173402+00:00","status":"Active","tags":[],"transactionId":"8c3e9d1a-5b7f-4e2a-b6c8-0d9f1e3a5b7c","trialData":{"isInTrialPeriod":false,"isTrial":false,"trialTimeRemaining":""},"recurrenceId":"mdr:0:abc"}"#;

    const V8_ITEM: &str = r#"{"acquiredDate":"2026-01-14T09:12:40.1173402+00:00","beneficiary":{"identityType":"pub","identityValue":"u1"},"id":"i2","localTicketReference":"","productFamily":"Games","productKind":"Game","purchasedCountry":"US","quantity":0,"recurrenceData":{"recurrenceId":"mdr:0:r"},"sharingSource":"None","status":"Active","fulfillmentData":["f"],"satisfiedByProductIds":[]}"#;

    const V6_ITEM: &str = r#"{"itemId":"6f0c","productType":"UnmanagedConsumable","purchaser":{"identityType":"pub","identityValue":"u2"},"quantity":12,"modifiedDate":"/Date(1700000000000)/","tags":null,"skuType":"Full","devOfferId":"d"}"#;

    fn pages() -> Vec<String> {
        vec![
            format!(r#"{{"items":[{V9_ITEM},{V9_ITEM}],"continuationToken":"tok"}}"#),
            format!(r#"{{"items":[{V8_ITEM}],"continuationToken":null,"totalCount":1}}"#),
            format!(
                " {{ \"x\" : [ 1, -2.5e+3, {{\"y\": [true, false, null]}} ], \"items\" : [ {V6_ITEM} ] }} \n"
            ),
            r#"{"items":[]}"#.to_string(),
            r#"{"items":[{}],"continuationToken":""}"#.to_string(),
            r#"{"items":[{"recurrenceData":"mdr:0:x","id":"a"},{"recurrenceData":{"x":[1],"RecurrenceID":"r","recurrenceId":"s"},"recurrenceId":""},{"recurrenceData":[{"recurrenceId":"n"}],"quantity":null}]}"#.to_string(),
        ]
    }

    /// The word-at-a-time scan finds what a byte-at-a-time scan finds: each special byte at
    /// every position of every length around the 8-byte words, amid fillers that sit next to
    /// the special bytes' values (and above 0x7f, as UTF-8 continuation bytes do), with a
    /// second special byte after it.
    #[test]
    fn plain_run_finds_the_first_special_byte() {
        let naive = |b: &[u8]| b.iter().position(|&c| c == b'"' || c == b'\\' || c < 0x20);
        for filler in [
            b'a', 0x20, 0x21, 0x23, 0x5b, 0x5d, 0x7f, 0x80, 0xa2, 0xdc, 0xff,
        ] {
            for len in 0..26 {
                assert_eq!(plain_run(&vec![filler; len]), None);
                for at in 0..len {
                    for special in [b'"', b'\\', 0, 0x1f, b'\n'] {
                        let mut b = vec![filler; len];
                        b[at] = special;
                        assert_eq!(plain_run(&b), Some(at), "{b:?}");
                        if at + 1 < len {
                            b[len - 1] = 0;
                            assert_eq!(plain_run(&b), naive(&b), "{b:?}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn reads_the_documented_shapes_as_serde_does() {
        for raw in pages() {
            assert!(answers_as_serde(&raw), "fast reader declined: {raw}");
        }
        let p = page(&pages()[0]).unwrap();
        assert_eq!(p.items.len(), 2);
        assert_eq!(p.items[0].recurrence_id.as_deref(), Some("mdr:0:abc"));
        assert_eq!(p.continuation_token.as_deref(), Some("tok"));
    }

    /// Every byte of each page replaced by bytes that matter to JSON, deleted, or doubled:
    /// wherever the fast reader answers, serde gives the same answer; and serde's errors are
    /// never the fast reader's answers.
    #[test]
    fn mutated_pages_are_read_as_serde_reads_them_or_left_to_serde() {
        let (mut answered, mut declined) = (0, 0);
        for base in pages() {
            let b = base.as_bytes();
            for i in 0..b.len() {
                let mut variants: Vec<Vec<u8>> = b"\"\\{}[],:0-19.eE+tfnu x\t\x01"
                    .iter()
                    .map(|&c| {
                        let mut m = b.to_vec();
                        m[i] = c;
                        m
                    })
                    .collect();
                let mut deleted = b.to_vec();
                deleted.remove(i);
                variants.push(deleted);
                let mut doubled = b.to_vec();
                doubled.insert(i, b[i]);
                variants.push(doubled);
                for m in variants {
                    let Ok(raw) = String::from_utf8(m) else {
                        continue;
                    };
                    if answers_as_serde(&raw) {
                        answered += 1;
                    } else {
                        declined += 1;
                    }
                }
            }
        }
        // Both sides are reached.
        assert!(
            answered > 1000 && declined > 1000,
            "{answered} / {declined}"
        );
    }

    #[test]
    fn what_it_does_not_handle_goes_to_serde() {
        for raw in [
            // An escape, in a value and in a name.
            r#"{"items":[{"id":"a\nb"}]}"#,
            r#"{"items":[{"\u0069d":"a"}]}"#,
            // Integers serde reads as floats or rejects.
            r#"{"items":[{"quantity":-0}]}"#,
            r#"{"items":[{"quantity":1.0}]}"#,
            r#"{"items":[{"quantity":9223372036854775808}]}"#,
            r#"{"items":[{"quantity":01}]}"#,
            // Duplicates, at each level.
            r#"{"items":[],"items":[]}"#,
            r#"{"items":[{"id":"a","itemId":"b"}]}"#,
            r#"{"items":[{"trialData":{"isTrial":true,"isTrial":false}}]}"#,
            // Not the documented types.
            r#"{"items":null}"#,
            r#"{"items":[{"trialData":[true,false]}]}"#,
            r#"{"items":[{"beneficiary":{"identityType":null}}]}"#,
            r#"{"items":[{"endDate":"soon"}]}"#,
            // Numbers serde converts where this reader only checks their syntax.
            r#"{"items":[{"recurrenceData":1e400}]}"#,
            r#"{"items":[{"recurrenceData":{"recurrenceId":1e400}}]}"#,
            // Not well formed.
            r#"{"items":[{"id":"a",}]}"#,
            r#"{"items":[]} x"#,
            r#"[]"#,
        ] {
            assert!(page(raw).is_none(), "{raw}");
        }
        // Deep nesting in an unknown member is serde's to judge.
        let deep = format!(r#"{{"x":{}{},"items":[]}}"#, "[".repeat(40), "]".repeat(40));
        assert!(page(&deep).is_none());
        let shallow = format!(r#"{{"x":{}{},"items":[]}}"#, "[".repeat(20), "]".repeat(20));
        assert!(answers_as_serde(&shallow));
    }
}
