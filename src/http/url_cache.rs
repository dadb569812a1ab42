//! Parsed request URLs, kept per URL text. A Store route's URL is the same on every call, and
//! parsing it twice per request (our scheme check, then reqwest's) cost ~30,000 instructions,
//! a sixth of a whole consume (issue 14). The cached `Url` is handed to reqwest, which then
//! does not parse it again.

use super::scheme::{self, PlainHttp};
use crate::error::Result;
use std::collections::HashMap;
use std::sync::Mutex;

/// More distinct URLs than a client's routes (a handful per service): past it the cache starts
/// over, so an unusual caller cannot grow it without bound.
const MAX_URLS: usize = 64;

#[derive(Default)]
pub(crate) struct UrlCache(Mutex<HashMap<String, url::Url>>);

impl UrlCache {
    /// `url` parsed and passed through [`scheme::check`] (loopback-only plain HTTP). URLs with
    /// a query are not kept: a SAS URL's signature stays only in its own request.
    pub fn checked(&self, url: &str, op: &str) -> Result<url::Url> {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(u) = map.get(url) {
            return Ok(u.clone());
        }
        let parsed = scheme::check(url, PlainHttp::LoopbackOnly, op)?;
        if !url.contains('?') {
            if map.len() >= MAX_URLS {
                map.clear();
            }
            map.insert(url.to_string(), parsed.clone());
        }
        Ok(parsed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_checked_routes_only() {
        let c = UrlCache::default();
        let route = "https://collections.mp.microsoft.com/v9.0/collections/publisherQuery";
        assert_eq!(c.checked(route, "q").unwrap().as_str(), route);
        assert_eq!(c.checked(route, "q").unwrap().as_str(), route);
        // A refused URL is refused every time, never cached as good.
        let plain = "http://collections.mp.microsoft.com/x";
        assert!(c.checked(plain, "q").is_err());
        assert!(c.checked(plain, "q").is_err());
        let sas = "https://q.queue.core.windows.net/m?sig=SECRET";
        assert!(c.checked(sas, "q").is_ok());
        let map = c.0.lock().unwrap();
        assert_eq!(map.len(), 1, "only the route is kept");
        assert!(!map.keys().any(|k| k.contains("SECRET")));
    }

    #[test]
    fn starts_over_past_the_bound() {
        let c = UrlCache::default();
        for i in 0..(MAX_URLS * 2 + 1) {
            c.checked(&format!("https://h{i}.example/x"), "q").unwrap();
            assert!(c.0.lock().unwrap().len() <= MAX_URLS);
        }
    }
}
