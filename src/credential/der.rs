//! The two fields of an X.509 certificate the client needs, read from its DER with a minimal
//! reader: the validity's notAfter (to expose the credential's expiry) and the subject public
//! key (to check the configured private key belongs to the certificate). A full X.509 parser
//! (x509-parser and its nom/der-parser/asn1-rs stack) would be a dozen crates for two fields;
//! the certificate is our own configuration, and the layout is fixed by RFC 5280 §4.1
//! (https://www.rfc-editor.org/rfc/rfc5280#section-4.1).

use crate::time::Timestamp;

/// One DER element: its tag, its content, and what follows it.
fn next(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, &rest[n..])
    };
    if rest.len() < len {
        return None;
    }
    Some((tag, &rest[..len], &rest[len..]))
}

const SEQUENCE: u8 = 0x30;
const UTC_TIME: u8 = 0x17;
const GENERALIZED_TIME: u8 = 0x18;
const BIT_STRING: u8 = 0x03;
const VERSION_TAG: u8 = 0xa0;

/// What we read from a certificate.
pub struct CertFields {
    pub not_after: Timestamp,
    /// The subjectPublicKey bits: for RSA, the PKCS#1 RSAPublicKey DER.
    pub public_key: Vec<u8>,
}

/// Reads notAfter and the public key of a DER certificate; `None` when it is not one.
pub fn cert_fields(der: &[u8]) -> Option<CertFields> {
    let (tag, cert, _) = next(der)?;
    if tag != SEQUENCE {
        return None;
    }
    let (tag, tbs, _) = next(cert)?;
    if tag != SEQUENCE {
        return None;
    }
    let mut rest = tbs;
    let (tag, _, after) = next(rest)?;
    if tag == VERSION_TAG {
        rest = after;
    }
    // serialNumber, signature, issuer.
    for _ in 0..3 {
        rest = next(rest)?.2;
    }
    let (tag, validity, after) = next(rest)?;
    if tag != SEQUENCE {
        return None;
    }
    let (_, _, validity_rest) = next(validity)?;
    let (time_tag, not_after, _) = next(validity_rest)?;
    let not_after = parse_time(time_tag, not_after)?;
    // subject, then subjectPublicKeyInfo { algorithm, subjectPublicKey BIT STRING }.
    let (tag, spki, _) = next(next(after)?.2)?;
    if tag != SEQUENCE {
        return None;
    }
    let (tag, bits, _) = next(next(spki)?.2)?;
    if tag != BIT_STRING || bits.first() != Some(&0) {
        return None;
    }
    Some(CertFields {
        not_after,
        public_key: bits[1..].to_vec(),
    })
}

/// UTCTime `YYMMDDHHMMSSZ` (years 1950-2049) or GeneralizedTime `YYYYMMDDHHMMSSZ`.
fn parse_time(tag: u8, bytes: &[u8]) -> Option<Timestamp> {
    let s = std::str::from_utf8(bytes).ok()?.strip_suffix('Z')?;
    if !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (year, rest) = match (tag, s.len()) {
        (UTC_TIME, 12) => {
            let yy: i64 = s[..2].parse().ok()?;
            (if yy >= 50 { 1900 + yy } else { 2000 + yy }, &s[2..])
        }
        (GENERALIZED_TIME, 14) => (s[..4].parse().ok()?, &s[4..]),
        _ => return None,
    };
    let n = |i: usize| rest[i..i + 2].parse::<u32>().ok();
    Timestamp::from_civil(year, n(0)?, n(2)?, n(4)?, n(6)?, n(8)?, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        let t = parse_time(UTC_TIME, b"491231235959Z").unwrap();
        assert_eq!(t.to_civil(), (2049, 12, 31, 23, 59, 59));
        let t = parse_time(UTC_TIME, b"500101000000Z").unwrap();
        assert_eq!(t.to_civil().0, 1950);
        let t = parse_time(GENERALIZED_TIME, b"21261107092905Z").unwrap();
        assert_eq!(t.to_civil(), (2126, 11, 7, 9, 29, 5));
        assert!(parse_time(UTC_TIME, b"21261107092905Z").is_none());
        assert!(parse_time(GENERALIZED_TIME, b"2126110709290+Z").is_none());
    }

    #[test]
    fn garbage_is_none_not_a_panic() {
        for bad in [
            &b""[..],
            b"\x30",
            b"\x30\x84\xff\xff\xff\xff",
            b"\x30\x03\x30\x01",
        ] {
            assert!(cert_fields(bad).is_none());
        }
    }
}
