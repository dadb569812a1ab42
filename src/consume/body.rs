//! The v8 consume request body, written by hand into one buffer of the right size: the same
//! bytes `serde_json::to_vec(&ConsumeRequest)` writes (a unit test compares them over awkward
//! inputs), in a quarter of the instructions (4.4k against 16.8k per consume, issue 14 §3). The
//! body shape is documented at
//! <https://learn.microsoft.com/en-us/gaming/gdk/_content/gc/commerce/service-to-service/microsoft-store-apis/xstore-v8-consume>.

use super::ConsumeRequest;

/// `req` as JSON, member order and escapes as serde_json writes them.
pub(super) fn consume_body(req: &ConsumeRequest) -> Vec<u8> {
    let b = &req.beneficiary;
    let strings = [
        b.identity_type.as_str(),
        b.identity_value.expose(),
        &b.local_ticket_reference,
        &req.product_id,
        req.tracking_id.as_deref().unwrap_or(""),
        req.sbx.as_deref().unwrap_or(""),
    ];
    // The member names, punctuation and numbers fit in 200 bytes; a string grows only when it
    // has characters to escape.
    let mut out = Vec::with_capacity(200 + strings.iter().map(|s| s.len()).sum::<usize>());
    out.extend_from_slice(b"{\"beneficiary\":{\"identityType\":");
    push_str(&mut out, &b.identity_type);
    out.extend_from_slice(b",\"identityValue\":");
    push_str(&mut out, b.identity_value.expose());
    out.extend_from_slice(b",\"localTicketReference\":");
    push_str(&mut out, &b.local_ticket_reference);
    out.extend_from_slice(b"},\"productId\":");
    push_str(&mut out, &req.product_id);
    out.extend_from_slice(b",\"trackingId\":");
    match &req.tracking_id {
        Some(t) => push_str(&mut out, t),
        None => out.extend_from_slice(b"null"),
    }
    if let Some(q) = req.remove_quantity {
        out.extend_from_slice(b",\"removeQuantity\":");
        out.extend_from_slice(crate::http::decimal(q, &mut [0; 10]));
    }
    out.extend_from_slice(b",\"includeOrderIds\":");
    out.extend_from_slice(if req.include_order_ids {
        b"true"
    } else {
        b"false"
    });
    if let Some(s) = &req.sbx {
        out.extend_from_slice(b",\"sbx\":");
        push_str(&mut out, s);
    }
    out.push(b'}');
    out
}

/// `s` as a JSON string. Runs without an escape are copied whole; a Store ID key (~1.2 KB of
/// base64url) is one run, found by a scan the compiler vectorises.
pub(crate) fn push_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    while let Some(i) = next_escape(bytes, start) {
        out.extend_from_slice(&bytes[start..i]);
        push_escape(out, bytes[i]);
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

fn needs_escape(b: u8) -> bool {
    b < 0x20 || b == b'"' || b == b'\\'
}

/// The first byte at or after `from` that JSON must escape. Whole 16-byte blocks are tested
/// without branching per byte; the block that has one is then searched byte by byte.
fn next_escape(bytes: &[u8], from: usize) -> Option<usize> {
    const BLOCK: usize = 16;
    let mut i = from;
    while i + BLOCK <= bytes.len() {
        let block = &bytes[i..i + BLOCK];
        if block.iter().fold(false, |any, &b| any | needs_escape(b)) {
            break;
        }
        i += BLOCK;
    }
    bytes[i..]
        .iter()
        .position(|&b| needs_escape(b))
        .map(|p| i + p)
}

/// serde_json's escapes: the short forms where JSON has one, else `\u00XX` in lowercase hex.
fn push_escape(out: &mut Vec<u8>, b: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let short = match b {
        b'"' => b'"',
        b'\\' => b'\\',
        0x08 => b'b',
        0x0c => b'f',
        b'\n' => b'n',
        b'\r' => b'r',
        b'\t' => b't',
        _ => {
            let hex = [HEX[usize::from(b >> 4)], HEX[usize::from(b & 0xf)]];
            out.extend_from_slice(b"\\u00");
            out.extend_from_slice(&hex);
            return;
        }
    };
    out.extend_from_slice(&[b'\\', short]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collections::UserIdentity;

    fn serde_bytes(r: &ConsumeRequest) -> Vec<u8> {
        serde_json::to_vec(r).unwrap()
    }

    /// Every control character, both escaped ASCII characters, DEL, non-ASCII (2, 3 and 4 UTF-8
    /// bytes), escapes at a 16-byte block's edges and runs longer than a block.
    fn awkward_strings() -> Vec<String> {
        let mut v: Vec<String> = (0u8..0x20).map(|c| format!("a{}b", c as char)).collect();
        v.extend(
            [
                "",
                "\"",
                "\\",
                "\\\"\\\"",
                "\u{7f}",
                "café ü € 𝄞 漢字",
                "\u{2028}\u{2029}",
                "0123456789abcde\"",
                "0123456789abcdef\"",
                "0123456789abcdef0\n",
                "\"0123456789abcdef0123456789abcdef\\",
                "</script>",
            ]
            .map(String::from),
        );
        v.push("eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.".repeat(40));
        v
    }

    #[test]
    fn writes_what_serde_writes_over_awkward_strings() {
        for s in awkward_strings() {
            let mut r = ConsumeRequest::store_managed(s.as_str(), &s, u32::MAX);
            r.tracking_id = Some(s.clone());
            r.beneficiary.local_ticket_reference = s.clone();
            r.beneficiary.identity_type = s.clone();
            r.sbx = Some(s.clone());
            assert_eq!(consume_body(&r), serde_bytes(&r), "{s:?}");
        }
    }

    #[test]
    fn writes_what_serde_writes_for_every_optional_member() {
        for quantity in [
            None,
            Some(1),
            Some(9),
            Some(10),
            Some(1_000_000),
            Some(u32::MAX),
        ] {
            for tracking in [None, Some("5d3e2f1a-8b7c-4d6e-9f0a-1b2c3d4e5f60")] {
                for sbx in [None, Some("RETAIL")] {
                    for include in [false, true] {
                        let r = ConsumeRequest {
                            beneficiary: UserIdentity::b2b("eyJk"),
                            product_id: "9NZB0T3LQH5D".into(),
                            tracking_id: tracking.map(String::from),
                            remove_quantity: quantity,
                            include_order_ids: include,
                            sbx: sbx.map(String::from),
                        };
                        assert_eq!(
                            String::from_utf8(consume_body(&r)).unwrap(),
                            String::from_utf8(serde_bytes(&r)).unwrap()
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn a_plain_body_is_written_without_growing_the_buffer() {
        let r = ConsumeRequest::store_managed("k".repeat(1200).as_str(), "9NZB0T3LQH5D", 1)
            .with_tracking_id("5d3e2f1a-8b7c-4d6e-9f0a-1b2c3d4e5f60");
        let body = consume_body(&r);
        let reserved = 200 + 3 + 1200 + 12 + 36;
        assert_eq!(body.capacity(), reserved, "{} bytes", body.len());
    }
}
