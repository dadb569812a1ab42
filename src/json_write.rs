//! JSON text written straight into a buffer, byte for byte what serde_json writes: the hot
//! request bodies (`consume::body`, `collections::query_body`) are written by hand because
//! serde_json escapes a string one byte at a time, ~11 instructions a byte, and a Store ID key
//! is ~1.3 KB (issue 14 §3).

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

/// `true` or `false`.
pub(crate) fn push_bool(out: &mut Vec<u8>, b: bool) {
    out.extend_from_slice(if b { b"true" } else { b"false" });
}

/// `n` in decimal.
pub(crate) fn push_u32(out: &mut Vec<u8>, n: u32) {
    out.extend_from_slice(crate::http::decimal(n, &mut [0; 10]));
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
pub(crate) mod tests {
    use super::*;

    /// Every control character, both escaped ASCII characters, DEL, non-ASCII (2, 3 and 4 UTF-8
    /// bytes), escapes at a 16-byte block's edges and runs longer than a block.
    pub(crate) fn awkward_strings() -> Vec<String> {
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
    fn strings_are_written_as_serde_writes_them() {
        for s in awkward_strings() {
            let mut out = Vec::new();
            push_str(&mut out, &s);
            assert_eq!(out, serde_json::to_vec(&s).unwrap(), "{s:?}");
        }
    }
}
