//! A query's product (and SKU) ids as a waiting operation holds them: one byte buffer, each
//! field ended by a NUL, instead of a `Vec<ProductSkuId>` with two `String`s per product.
//!
//! The ids come from C strings, so none contains a NUL: the terminator needs no offsets list.
//! An absent SKU (a NULL entry of `sku_ids`) is the single byte 0xFF, which no UTF-8 text
//! contains, so it stays apart from an empty SKU. Ten 12-character ids cost ~830 heap bytes as
//! `ProductSkuId`s and 130 here; the request types are built from this when the operation
//! starts (see `admission`), so only running operations pay for them.

use crate::collections::ProductSkuId;

const END: u8 = 0;
/// Marks an absent SKU (never a byte of UTF-8 text).
const NO_SKU: u8 = 0xFF;

/// Product ids (and, when the caller passed `sku_ids`, one optional SKU per product), packed.
#[derive(Default)]
pub(crate) struct PackedProducts {
    /// Per product: the id and NUL, then (`with_skus`) the SKU and NUL, or `NO_SKU`.
    bytes: Box<[u8]>,
    with_skus: bool,
}

impl PackedProducts {
    /// Packs `(id, sku)` pairs; `with_skus` is whether the caller passed a SKU array at all.
    /// The texts hold no NUL (they were C strings).
    pub(crate) fn pack(items: &[(&str, Option<&str>)], with_skus: bool) -> PackedProducts {
        let len = items
            .iter()
            .map(|(i, s)| {
                i.len()
                    + 1
                    + if with_skus {
                        s.map_or(1, |s| s.len() + 1)
                    } else {
                        0
                    }
            })
            .sum();
        let mut bytes = Vec::with_capacity(len);
        for &(id, sku) in items {
            bytes.extend_from_slice(id.as_bytes());
            bytes.push(END);
            if with_skus {
                match sku {
                    Some(s) => {
                        bytes.extend_from_slice(s.as_bytes());
                        bytes.push(END);
                    }
                    None => bytes.push(NO_SKU),
                }
            }
        }
        PackedProducts {
            bytes: bytes.into_boxed_slice(),
            with_skus,
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The products as the request types take them.
    pub(crate) fn unpack(&self) -> Vec<ProductSkuId> {
        let mut rest: &[u8] = &self.bytes;
        let mut out = Vec::new();
        while !rest.is_empty() {
            let id = field(&mut rest).unwrap_or_default();
            let sku = if self.with_skus {
                field(&mut rest)
            } else {
                None
            };
            out.push(match sku {
                Some(sku) => ProductSkuId::with_sku(id, sku),
                None => ProductSkuId::product(id),
            });
        }
        out
    }
}

/// The next field of `rest` (`None`: an absent SKU), moving `rest` past it.
fn field<'a>(rest: &mut &'a [u8]) -> Option<&'a str> {
    if rest.first() == Some(&NO_SKU) {
        *rest = &rest[1..];
        return None;
    }
    let n = rest.iter().position(|&b| b == END).unwrap_or(rest.len());
    let (text, tail) = rest.split_at(n);
    *rest = tail.get(1..).unwrap_or_default();
    // Packed from `&str`s, so always UTF-8.
    Some(std::str::from_utf8(text).unwrap_or_default())
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
        assert_eq!(
            p.bytes.len(),
            12 + 1 + 1 + 2 + 1,
            "one NUL per id, no offsets"
        );
    }

    #[test]
    fn absent_empty_and_present_skus_stay_apart() {
        let items = [
            ("a", Some("0010")),
            ("b", None),
            ("c", Some("")),
            ("", None),
            ("é", Some("ü")),
        ];
        let p = PackedProducts::pack(&items, true);
        assert_eq!(
            p.unpack(),
            vec![
                ProductSkuId::with_sku("a", "0010"),
                ProductSkuId::product("b"),
                ProductSkuId::with_sku("c", ""),
                ProductSkuId::product(""),
                ProductSkuId::with_sku("é", "ü"),
            ]
        );
    }

    #[test]
    fn no_products_is_empty() {
        let p = PackedProducts::pack(&[], true);
        assert!(p.is_empty());
        assert!(p.unpack().is_empty());
        assert!(!PackedProducts::pack(&[("", None)], false).is_empty());
    }
}
