//! Queries that page: one page, and every page by following continuation tokens (Collections
//! v6/v8/v9, the subscription query, the v1 clawback orders query all page the same way).

use crate::client::{Core, Parsed, RequestBody, Service};
use crate::error::{Error, ErrorKind, Result};
use crate::http::RetryOn;
use serde::de::{DeserializeOwned, DeserializeSeed, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::marker::PhantomData;

/// One page of a query.
#[derive(Debug, Clone, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass back to get the next page; `None` on the last page.
    pub continuation_token: Option<String>,
    /// The response body as received.
    #[serde(skip)]
    pub raw_json: String,
}

/// Every page of a query.
pub(crate) struct AllPages<T> {
    pub items: Vec<T>,
    pub pages: u32,
}

#[derive(Deserialize)]
#[serde(
    rename_all = "camelCase",
    bound(deserialize = "T: Deserialize<'de> + Default")
)]
pub(crate) struct PageWire<T> {
    #[serde(default = "Vec::new", deserialize_with = "presized")]
    pub items: Vec<T>,
    #[serde(default)]
    pub continuation_token: Option<String>,
}

/// Room for this many items is made when a page's first item arrives: serde's own `Vec`
/// starts empty (serde_json gives no length) and grows 4 → 8 → 16, copying every ~800-byte
/// entitlement of a 10-item page once more on the way (issue 14). An empty page allocates
/// nothing.
const FIRST_ITEMS: usize = 16;

/// A page's `items` array, read like serde's `Vec<T>` but pre-sized on its first element and
/// each element pushed as soon as it is read (not passed back through `Option<T>` first: one
/// copy of each item fewer).
fn presized<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    struct Items<T>(PhantomData<T>);
    impl<'de, T: Deserialize<'de> + Default> Visitor<'de> for Items<T> {
        type Value = Vec<T>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a sequence")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
            let mut items = Vec::new();
            while seq.next_element_seed(PushTo(&mut items))?.is_some() {}
            Ok(items)
        }
    }
    d.deserialize_seq(Items(PhantomData))
}

/// Reads one element onto the end of a `Vec`: into a default pushed first, so a type that
/// decodes in place (`EntitlementItem`) is never moved. On an error the page fails whole.
struct PushTo<'a, T>(&'a mut Vec<T>);

impl<'de, T: Deserialize<'de> + Default> DeserializeSeed<'de> for PushTo<'_, T> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        if self.0.capacity() == 0 {
            self.0.reserve_exact(FIRST_ITEMS);
        }
        let at = self.0.len();
        self.0.push(T::default());
        T::deserialize_in_place(d, &mut self.0[at])
    }
}

impl<T> From<Parsed<PageWire<T>>> for Page<T> {
    fn from(parsed: Parsed<PageWire<T>>) -> Page<T> {
        Page {
            items: parsed.value.items,
            // The v8 sample's loop stopped only on null; an empty token also means "done".
            continuation_token: parsed.value.continuation_token.filter(|t| !t.is_empty()),
            raw_json: parsed.raw,
        }
    }
}

impl Core {
    /// One page of `op`: a POST of `req` to `path`, retried on transient failures (a query
    /// changes nothing, so resending it is safe).
    pub(crate) async fn page<T: DeserializeOwned + Default + 'static>(
        &self,
        service: Service,
        path: &str,
        op: &'static str,
        req: &impl RequestBody,
    ) -> Result<Page<T>> {
        let parsed: Parsed<PageWire<T>> = self
            .store_json(service, path, req, op, RetryOn::TransientAndThrottle)
            .await?;
        Ok(parsed.into())
    }

    /// Every page of `op`: sends `req`, then `req` with each continuation token set by
    /// `set_token`, until a page has none. A page that fails is retried with the same token
    /// (the retry loop does that). More than `max_pages` pages is an error, so a service that
    /// never stops paging cannot hold the call (or its memory) without bound.
    pub(crate) async fn all_pages<R: RequestBody, T: DeserializeOwned + Default + 'static>(
        &self,
        service: Service,
        path: &str,
        op: &'static str,
        mut req: R,
        set_token: fn(&mut R, String),
    ) -> Result<AllPages<T>> {
        let mut items = Vec::new();
        let mut pages = 0;
        loop {
            let page: Page<T> = self.page(service, path, op, &req).await?;
            pages += 1;
            // The first page's items are kept as they are: extending an empty `Vec` would
            // allocate it and copy every ~800-byte entitlement once more (issue 14).
            if items.is_empty() {
                items = page.items;
            } else {
                items.extend(page.items);
            }
            match page.continuation_token {
                None => return Ok(AllPages { items, pages }),
                Some(_) if pages >= self.config.max_pages => return Err(too_many_pages(op, pages)),
                Some(t) => set_token(&mut req, t),
            }
        }
    }
}

fn too_many_pages(op: &str, pages: u32) -> Error {
    Error::new(
        ErrorKind::Service,
        format!(
            "{op}: still more pages after {pages} (max_pages); narrow the query or raise max_pages"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(body: &str) -> Page<u32> {
        let value: PageWire<u32> = serde_json::from_str(body).unwrap();
        Parsed {
            value,
            raw: body.to_string(),
        }
        .into()
    }

    #[test]
    fn an_empty_or_missing_token_ends_the_pages() {
        let p = parse(r#"{"items":[1,2],"continuationToken":"abc"}"#);
        assert_eq!(p.items, vec![1, 2]);
        assert_eq!(p.continuation_token.as_deref(), Some("abc"));
        assert_eq!(
            parse(r#"{"items":[],"continuationToken":""}"#).continuation_token,
            None
        );
        let bare = parse("{}");
        assert!(bare.items.is_empty() && bare.continuation_token.is_none());
        assert_eq!(bare.raw_json, "{}");
    }

    /// Pre-sizing changes no answer: empty, short and long pages, `null` and a non-array.
    #[test]
    fn items_read_like_a_plain_vec() {
        for n in [0, 1, FIRST_ITEMS, FIRST_ITEMS + 1, 100] {
            let list: Vec<String> = (0..n).map(|i| i.to_string()).collect();
            let p = parse(&format!(r#"{{"items":[{}]}}"#, list.join(",")));
            assert_eq!(p.items, (0..n as u32).collect::<Vec<u32>>());
            assert!(
                p.items.capacity() >= n.min(FIRST_ITEMS)
                    && p.items.capacity() < 2 * n.max(FIRST_ITEMS)
            );
        }
        assert_eq!(parse(r#"{"items":[]}"#).items.capacity(), 0);
        for (body, want) in [
            (
                r#"{"items":null}"#,
                "invalid type: null, expected a sequence",
            ),
            (r#"{"items":{}}"#, "invalid type: map, expected a sequence"),
            (r#"{"items":[1,"x"]}"#, "invalid type: string"),
        ] {
            let e = serde_json::from_str::<PageWire<u32>>(body).err().unwrap();
            assert!(e.to_string().contains(want), "{body}: {e}");
        }
    }

    #[test]
    fn the_cap_error_names_the_setting() {
        let e = too_many_pages("query_subscriptions", 3);
        assert_eq!(e.kind, ErrorKind::Service);
        assert!(e
            .message
            .starts_with("query_subscriptions: still more pages after 3"));
        assert!(e.message.contains("max_pages"));
    }
}
