//! A query's product (and SKU) ids as a waiting operation holds them: one text buffer and one
//! list of end offsets, instead of a `Vec<ProductSkuId>` with two `String`s per product.
//!
//! Ten 12-character ids cost ~830 heap bytes as `ProductSkuId`s and ~180 here; the request
//! types are built from this when the operation starts (see `admission`), so only running
//! operations pay for them.

use crate::collections::ProductSkuId;

/// End offset marking an absent SKU (a NULL entry of `sku_ids`): ids are at most 64 KiB each
/// and 1000 at most, so a real end never reaches it.
const NO_SKU: u32 = u32::MAX;

/// Product ids (and, when the caller passed `sku_ids`, one optional SKU per product), packed.
#[derive(Default)]
pub(crate) struct PackedProducts {
    /// Every id and SKU, concatenated in order.
    text: Box<str>,
    /// End of each field in `text`: one per product, or two (id, SKU) when `with_skus`.
    ends: Box<[u32]>,
    with_skus: bool,
}

impl PackedProducts {
    /// Packs `(id, sku)` pairs; `with_skus` is whether the caller passed a SKU array at all.
    pub(crate) fn pack(items: &[(&str, Option<&str>)], with_skus: bool) -> PackedProducts {
        let per = if with_skus { 2 } else { 1 };
        let mut text = String::new();
        text.reserve_exact(
            items
                .iter()
                .map(|(i, s)| i.len() + s.map_or(0, str::len))
                .sum(),
        );
        let mut ends = Vec::with_capacity(items.len() * per);
        for &(id, sku) in items {
            text.push_str(id);
            ends.push(end(&text));
            if with_skus {
                match sku {
                    Some(s) => {
                        text.push_str(s);
                        ends.push(end(&text));
                    }
                    None => ends.push(NO_SKU),
                }
            }
        }
        PackedProducts {
            text: text.into_boxed_str(),
            ends: ends.into_boxed_slice(),
            with_skus,
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The products as the request types take them.
    pub(crate) fn unpack(&self) -> Vec<ProductSkuId> {
        let per = if self.with_skus { 2 } else { 1 };
        let mut start = 0usize;
        let mut field = |e: u32| -> Option<&str> {
            if e == NO_SKU {
                return None;
            }
            let s = &self.text[start..e as usize];
            start = e as usize;
            Some(s)
        };
        self.ends
            .chunks(per)
            .map(|c| {
                let id = field(c[0]).unwrap_or_default();
                match c.get(1).and_then(|&e| field(e)) {
                    Some(sku) => ProductSkuId::with_sku(id, sku),
                    None => ProductSkuId::product(id),
                }
            })
            .collect()
    }
}

/// `text.len()` as an end offset (bounded by 1000 products of 64 KiB ids and SKUs each).
fn end(text: &str) -> u32 {
    u32::try_from(text.len()).unwrap_or(NO_SKU - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_alone_round_trip() {
        let p = PackedProducts::pack(&[("9NBLGGH4R315", None), ("", None), ("9P", None)], false);
        assert_eq!(
            p.unpack(),
            vec![
                ProductSkuId::product("9NBLGGH4R315"),
                ProductSkuId::product(""),
                ProductSkuId::product("9P"),
            ]
        );
    }

    #[test]
    fn absent_empty_and_present_skus_stay_apart() {
        let items = [
            ("a", Some("0010")),
            ("b", None),
            ("c", Some("")),
            ("", None),
        ];
        let p = PackedProducts::pack(&items, true);
        assert_eq!(
            p.unpack(),
            vec![
                ProductSkuId::with_sku("a", "0010"),
                ProductSkuId::product("b"),
                ProductSkuId::with_sku("c", ""),
                ProductSkuId::product(""),
            ]
        );
    }

    #[test]
    fn no_products_is_empty() {
        let p = PackedProducts::pack(&[], true);
        assert!(p.is_empty());
        assert!(p.unpack().is_empty());
    }
}
