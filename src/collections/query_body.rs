//! The v9 publisherQuery request body, written by hand into one buffer of the right size: the
//! same bytes `serde_json::to_vec(&QueryV9Request)` writes (the tests compare them over awkward
//! inputs), without serde_json's byte-at-a-time escaping of the ~1.3 KB Store ID key (issue 14
//! §3). The body shape is documented at
//! <https://learn.microsoft.com/en-us/gaming/gdk/_content/gc/commerce/service-to-service/microsoft-store-apis/xstore-v9-query-for-products>.

use super::{ProductSkuId, QueryV9Request, UserIdentity};
use crate::client::RequestBody;
use crate::error::Result;
use crate::json_write::{push_bool, push_str, push_u32};

impl RequestBody for QueryV9Request {
    fn body_bytes(&self) -> Result<Vec<u8>> {
        Ok(query_v9_body(self))
    }
}

/// `req` as JSON, member order and escapes as serde_json writes them.
pub(super) fn query_v9_body(req: &QueryV9Request) -> Vec<u8> {
    let text_len = |s: Option<&String>| s.map_or(0, String::len);
    let strings: usize = req
        .beneficiaries
        .iter()
        .map(|b| {
            b.identity_type.len() + b.identity_value.expose().len() + b.local_ticket_reference.len()
        })
        .chain(
            req.product_sku_ids
                .iter()
                .map(|p| p.product_id.len() + text_len(p.sku_id.as_ref())),
        )
        .sum::<usize>()
        + text_len(req.continuation_token.as_ref())
        + text_len(req.validity_type.as_ref())
        + text_len(req.sbx.as_ref());
    // Member names and punctuation: ~80 bytes per beneficiary, ~30 per product, ~150 for the
    // rest; a string grows only when it has characters to escape.
    let reserve = 200 + 80 * req.beneficiaries.len() + 32 * req.product_sku_ids.len() + strings;
    let mut out = Vec::with_capacity(reserve);
    out.extend_from_slice(b"{\"beneficiaries\":[");
    for (n, b) in req.beneficiaries.iter().enumerate() {
        if n > 0 {
            out.push(b',');
        }
        push_identity(&mut out, b);
    }
    out.extend_from_slice(b"],\"productSkuIds\":[");
    for (n, p) in req.product_sku_ids.iter().enumerate() {
        if n > 0 {
            out.push(b',');
        }
        push_product(&mut out, p);
    }
    out.push(b']');
    if let Some(t) = &req.continuation_token {
        out.extend_from_slice(b",\"continuationToken\":");
        push_str(&mut out, t);
    }
    out.extend_from_slice(b",\"maxPageSize\":");
    push_u32(&mut out, req.max_page_size);
    out.extend_from_slice(b",\"excludeDuplicates\":");
    push_bool(&mut out, req.exclude_duplicates);
    if let Some(v) = &req.validity_type {
        out.extend_from_slice(b",\"validityType\":");
        push_str(&mut out, v);
    }
    if let Some(s) = &req.sbx {
        out.extend_from_slice(b",\"sbx\":");
        push_str(&mut out, s);
    }
    out.push(b'}');
    out
}

fn push_identity(out: &mut Vec<u8>, b: &UserIdentity) {
    out.extend_from_slice(b"{\"identityType\":");
    push_str(out, &b.identity_type);
    out.extend_from_slice(b",\"identityValue\":");
    push_str(out, b.identity_value.expose());
    out.extend_from_slice(b",\"localTicketReference\":");
    push_str(out, &b.local_ticket_reference);
    out.push(b'}');
}

fn push_product(out: &mut Vec<u8>, p: &ProductSkuId) {
    out.extend_from_slice(b"{\"productId\":");
    push_str(out, &p.product_id);
    if let Some(s) = &p.sku_id {
        out.extend_from_slice(b",\"skuId\":");
        push_str(out, s);
    }
    out.push(b'}');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json_write::tests::awkward_strings;

    fn assert_as_serde(r: &QueryV9Request) {
        assert_eq!(
            String::from_utf8(query_v9_body(r)).unwrap(),
            String::from_utf8(serde_json::to_vec(r).unwrap()).unwrap()
        );
    }

    #[test]
    fn writes_what_serde_writes_over_awkward_strings() {
        for s in awkward_strings() {
            let mut r = QueryV9Request::new(s.as_str(), vec![ProductSkuId::product(&s)]);
            r.beneficiaries[0].identity_type = s.clone();
            r.beneficiaries[0].local_ticket_reference = s.clone();
            r.product_sku_ids.push(ProductSkuId {
                product_id: s.clone(),
                sku_id: Some(s.clone()),
            });
            r.continuation_token = Some(s.clone());
            r.validity_type = Some(s.clone());
            r.sbx = Some(s.clone());
            assert_as_serde(&r);
        }
    }

    #[test]
    fn writes_what_serde_writes_for_every_optional_member_and_list_length() {
        let ids = ["9NZB0T3LQH5D", "9P5WZ5ZCJ4Q3", "9N0Z2W6M4KCJ"];
        for n in [0, 1, 3] {
            for beneficiaries in [0, 1, 2] {
                for (token, validity, sbx) in [
                    (None, None, None),
                    (Some("+RID:~abc=="), Some("Valid"), Some("XDKS.1")),
                    (Some(""), None, Some("")),
                ] {
                    for (page, dedupe) in [(1, false), (100, true), (200, true), (u32::MAX, false)]
                    {
                        let products = ids[..n]
                            .iter()
                            .enumerate()
                            .map(|(k, id)| match k {
                                1 => ProductSkuId::with_sku(*id, "0010"),
                                _ => ProductSkuId::product(*id),
                            })
                            .collect();
                        let mut r = QueryV9Request::new("eyJk", products);
                        r.beneficiaries = (0..beneficiaries)
                            .map(|k| UserIdentity::b2b(format!("key{k}")))
                            .collect();
                        r.continuation_token = token.map(String::from);
                        r.validity_type = validity.map(String::from);
                        r.sbx = sbx.map(String::from);
                        r.max_page_size = page;
                        r.exclude_duplicates = dedupe;
                        assert_as_serde(&r);
                    }
                }
            }
        }
    }

    #[test]
    fn a_plain_body_is_written_without_growing_the_buffer() {
        let r = QueryV9Request::new(
            "k".repeat(1300).as_str(),
            vec![ProductSkuId::product("9NZB0T3LQH5D"); 10],
        );
        let body = query_v9_body(&r);
        let reserved = 200 + 80 + 32 * 10 + 3 + 1300 + 12 * 10;
        assert_eq!(body.capacity(), reserved, "{} bytes", body.len());
    }
}
