//! UTC timestamps as the Store services write them.
//!
//! Three wire formats exist: ISO-8601 with an offset and up to 7 fractional digits
//! (<https://learn.microsoft.com/en-us/gaming/gdk/_content/gc/commerce/service-to-service/microsoft-store-apis/xstore-v9-query-for-products>),
//! minute precision (`2022-12-09T02:13Z`,
//! <https://learn.microsoft.com/en-us/gaming/gdk/_content/gc/commerce/service-to-service/microsoft-store-apis/xstore-v8-clawbackv2-sastoken>)
//! and the legacy WCF form `/Date(ms)/` (<https://learn.microsoft.com/en-us/windows/uwp/monetize/query-for-products>).
//! All three parse into one [`Timestamp`]; we always write the 7-digit ISO form.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// An instant in UTC with 100 ns precision (the .NET tick), stored as seconds and nanoseconds
/// since the Unix epoch. Years 0001..=9999 are representable.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp {
    secs: i64,
    nanos: u32,
}

/// Why a date string did not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseTimestampError(pub String);

impl fmt::Display for ParseTimestampError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid date '{}'", self.0)
    }
}

impl std::error::Error for ParseTimestampError {}

const MIN_SECS: i64 = -62_135_596_800; // 0001-01-01T00:00:00Z
const MAX_SECS: i64 = 253_402_300_799; // 9999-12-31T23:59:59Z

impl Timestamp {
    /// `9999-12-31T23:59:59.9999999+00:00`: the Store's "no end".
    pub const MAX: Timestamp = Timestamp {
        secs: MAX_SECS,
        nanos: 999_999_900,
    };
    pub const UNIX_EPOCH: Timestamp = Timestamp { secs: 0, nanos: 0 };

    pub fn from_unix(secs: i64) -> Timestamp {
        Timestamp { secs, nanos: 0 }
    }

    pub fn from_unix_nanos(secs: i64, nanos: u32) -> Timestamp {
        Timestamp {
            secs: secs + i64::from(nanos / 1_000_000_000),
            nanos: nanos % 1_000_000_000,
        }
    }

    pub fn now() -> Timestamp {
        Timestamp::from(SystemTime::now())
    }

    pub fn unix_seconds(&self) -> i64 {
        self.secs
    }

    pub fn subsec_nanos(&self) -> u32 {
        self.nanos
    }

    /// Milliseconds since the Unix epoch (negative before 1970).
    pub fn unix_millis(&self) -> i64 {
        self.secs * 1000 + i64::from(self.nanos / 1_000_000)
    }

    /// True for the Store's "no end" sentinel (any instant in the last second of year 9999).
    pub fn is_max(&self) -> bool {
        self.secs >= MAX_SECS
    }

    pub fn add_secs(&self, secs: i64) -> Timestamp {
        Timestamp {
            secs: self.secs.saturating_add(secs).clamp(MIN_SECS, MAX_SECS),
            nanos: self.nanos,
        }
    }

    pub fn add(&self, d: Duration) -> Timestamp {
        let nanos = self.nanos + d.subsec_nanos();
        Timestamp {
            secs: self
                .secs
                .saturating_add(d.as_secs() as i64)
                .saturating_add(i64::from(nanos / 1_000_000_000))
                .min(MAX_SECS),
            nanos: nanos % 1_000_000_000,
        }
    }

    pub fn sub(&self, d: Duration) -> Timestamp {
        let total = self.as_nanos_i128() - d.as_nanos() as i128;
        Timestamp::from_nanos_i128(total)
    }

    /// `self - earlier`, or zero when `earlier` is later.
    pub fn duration_since(&self, earlier: Timestamp) -> Duration {
        let d = self.as_nanos_i128() - earlier.as_nanos_i128();
        if d <= 0 {
            Duration::ZERO
        } else {
            Duration::new((d / 1_000_000_000) as u64, (d % 1_000_000_000) as u32)
        }
    }

    fn as_nanos_i128(&self) -> i128 {
        i128::from(self.secs) * 1_000_000_000 + i128::from(self.nanos)
    }

    fn from_nanos_i128(n: i128) -> Timestamp {
        let secs = n.div_euclid(1_000_000_000) as i64;
        let nanos = n.rem_euclid(1_000_000_000) as u32;
        Timestamp {
            secs: secs.clamp(MIN_SECS, MAX_SECS),
            nanos,
        }
    }

    /// Builds a UTC instant from calendar fields; `None` when a field is out of range.
    #[inline]
    pub fn from_civil(
        year: i64,
        month: u32,
        day: u32,
        hour: u32,
        min: u32,
        sec: u32,
        nanos: u32,
    ) -> Option<Timestamp> {
        if !(1..=9999).contains(&year)
            || !(1..=12).contains(&month)
            || day < 1
            || day > days_in_month(year, month)
            || hour > 23
            || min > 59
            || sec > 59
            || nanos >= 1_000_000_000
        {
            return None;
        }
        // In 1..=9999 (checked above).
        let days = days_from_civil(year as u32, month, day);
        Some(Timestamp {
            secs: days * 86_400 + i64::from(hour * 3600 + min * 60 + sec),
            nanos,
        })
    }

    /// Calendar fields `(year, month, day, hour, minute, second)` in UTC.
    pub fn to_civil(&self) -> (i64, u32, u32, u32, u32, u32) {
        let days = self.secs.div_euclid(86_400);
        let rem = self.secs.rem_euclid(86_400) as u32;
        let (y, m, d) = civil_from_days(days);
        (y, m, d, rem / 3600, (rem / 60) % 60, rem % 60)
    }

    /// Day of week, 0 = Sunday.
    pub fn weekday(&self) -> u32 {
        (self.secs.div_euclid(86_400) + 4).rem_euclid(7) as u32
    }

    /// Adds calendar months the way Store subscriptions renew
    /// (<https://learn.microsoft.com/en-us/gaming/gdk/_content/gc/commerce/service-to-service/microsoft-store-apis/xstore-v8-recurrence-query>):
    /// the day is clamped to the last day of the target month.
    pub fn add_months(&self, months: i64) -> Timestamp {
        let (y, m, d, hh, mm, ss) = self.to_civil();
        let total = y * 12 + i64::from(m - 1) + months;
        let (ny, nm) = (total.div_euclid(12), (total.rem_euclid(12) + 1) as u32);
        let nd = d.min(days_in_month(ny, nm));
        Timestamp::from_civil(ny.clamp(1, 9999), nm, nd, hh, mm, ss, self.nanos)
            .unwrap_or(Timestamp::MAX)
    }

    /// Parses any of the three Store date formats.
    pub fn parse(s: &str) -> Result<Timestamp, ParseTimestampError> {
        if let Some(t) = parse_iso_fixed(s.as_bytes()) {
            return Ok(t);
        }
        let t = s.trim();
        let err = || ParseTimestampError(s.to_string());
        if let Some(rest) = t
            .strip_prefix("/Date(")
            .or_else(|| t.strip_prefix("\\/Date("))
        {
            return parse_wcf(rest).ok_or_else(err);
        }
        parse_iso(t).ok_or_else(err)
    }

    /// ISO-8601 with 7 fractional digits and `+00:00`, as the Store writes it.
    pub fn to_iso(&self) -> String {
        match self.iso_bytes() {
            // All ASCII: never lossy.
            Some(b) => String::from_utf8_lossy(&b).into_owned(),
            None => {
                // Outside what the Store writes (and what `from_civil` makes): `fmt` widens
                // the year.
                let (y, mo, d, h, mi, s) = self.to_civil();
                format!(
                    "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{:07}+00:00",
                    self.nanos / 100
                )
            }
        }
    }

    /// [`Timestamp::to_iso`]'s bytes for years 0..=9999 (`None` past them), without an
    /// allocation: the C views copy them straight into their arena. Digits written in place:
    /// through `fmt` this cost ~3,600 instructions a date, and the C views have four per
    /// entitlement (issue 14).
    pub(crate) fn iso_bytes(&self) -> Option<[u8; 33]> {
        let (y, mo, d, h, mi, s) = self.to_civil();
        if !(0..=9999).contains(&y) {
            return None;
        }
        let mut b = *b"0000-00-00T00:00:00.0000000+00:00";
        put_digits(&mut b[0..4], y as u32);
        put_digits(&mut b[5..7], mo);
        put_digits(&mut b[8..10], d);
        put_digits(&mut b[11..13], h);
        put_digits(&mut b[14..16], mi);
        put_digits(&mut b[17..19], s);
        put_digits(&mut b[20..27], self.nanos / 100);
        Some(b)
    }

    /// RFC 1123 (`Tue, 03 Feb 2026 10:00:00 GMT`), as Azure Queue and HTTP headers write it.
    pub fn to_rfc1123(&self) -> String {
        const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
        const MONTHS: [&str; 12] = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        let (y, mo, d, h, mi, s) = self.to_civil();
        format!(
            "{}, {d:02} {} {y:04} {h:02}:{mi:02}:{s:02} GMT",
            DAYS[self.weekday() as usize],
            MONTHS[(mo - 1) as usize]
        )
    }

    /// Parses an RFC 1123 date (`Tue, 03 Feb 2026 10:00:00 GMT`).
    pub fn parse_rfc1123(s: &str) -> Option<Timestamp> {
        const MONTHS: [&str; 12] = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        let rest = s.trim().split_once(", ")?.1;
        let mut parts = rest.split(' ');
        let day: u32 = parts.next()?.parse().ok()?;
        let month_name = parts.next()?;
        let month = MONTHS.iter().position(|m| *m == month_name)? as u32 + 1;
        let year: i64 = parts.next()?.parse().ok()?;
        let mut hms = parts.next()?.split(':');
        let h = hms.next()?.parse().ok()?;
        let mi = hms.next()?.parse().ok()?;
        let se = hms.next()?.parse().ok()?;
        if parts.next()? != "GMT" {
            return None;
        }
        Timestamp::from_civil(year, month, day, h, mi, se, 0)
    }
}

fn parse_wcf(rest: &str) -> Option<Timestamp> {
    let inner = rest
        .strip_suffix(")/")
        .or_else(|| rest.strip_suffix(")\\/"))?;
    // `/Date(1234567890123+0100)/`: the offset only says how to display; the ms are UTC.
    let digits_end = inner
        .char_indices()
        .skip(1)
        .find(|(_, c)| *c == '+' || *c == '-')
        .map(|(i, _)| i)
        .unwrap_or(inner.len());
    let (ms_part, offset) = inner.split_at(digits_end);
    if !offset.is_empty() && (offset.len() != 5 || !offset[1..].bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let ms: i64 = ms_part.parse().ok()?;
    let secs = ms.div_euclid(1000);
    if !(MIN_SECS..=MAX_SECS).contains(&secs) {
        return None;
    }
    Some(Timestamp {
        secs,
        nanos: (ms.rem_euclid(1000) as u32) * 1_000_000,
    })
}

/// Writes `v`'s last `out.len()` decimal digits into `out`, zero-padded.
fn put_digits(out: &mut [u8], mut v: u32) {
    for c in out.iter_mut().rev() {
        *c = b'0' + (v % 10) as u8;
        v /= 10;
    }
}

/// Decimal digits only (no sign, not empty), as `u32`; `None` past `u32::MAX`.
fn num(s: &str) -> Option<u32> {
    if s.is_empty() {
        return None;
    }
    s.bytes().try_fold(0u32, |n, b| {
        if !b.is_ascii_digit() {
            return None;
        }
        n.checked_mul(10)?.checked_add(u32::from(b - b'0'))
    })
}

/// The form the Store writes, `2021-06-14T00:00:00.1234567+00:00` (fraction optional, `Z` or
/// `±HH:MM`), read at fixed positions in one pass over the bytes: no `str` slicing, no UTF-8
/// check, no search (40 dates per 10-item page, issue 14). Anything else is `None` and goes to
/// the general parser, which gives the same answer for what this accepts.
fn parse_iso_fixed(b: &[u8]) -> Option<Timestamp> {
    if let Some(t) = b.try_into().ok().and_then(parse_store_form) {
        return Some(t);
    }
    // `YYYY-MM-DDTHH:MM:SS`: the separators, then the 14 digits checked together.
    let h: &[u8; 19] = b.first_chunk()?;
    if h[4] != b'-' || h[7] != b'-' || h[10] != b'T' || h[13] != b':' || h[16] != b':' {
        return None;
    }
    const DIGITS: [usize; 14] = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18];
    let d = |i: usize| h[i].wrapping_sub(b'0');
    for i in DIGITS {
        if d(i) > 9 {
            return None;
        }
    }
    let two = |i: usize| u32::from(d(i)) * 10 + u32::from(d(i + 1));
    let year = two(0) * 100 + two(2);
    let (month, day, hour, minute, second) = (two(5), two(8), two(11), two(14), two(17));
    let (nanos, zone) = match b[19..].split_first() {
        Some((b'.', frac)) => fraction(frac)?,
        _ => (0, &b[19..]),
    };
    let offset_secs = match *zone {
        [b'Z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let (oh, om) = (two_digits(h1, h2)?, two_digits(m1, m2)?);
            if oh > 23 || om > 59 {
                return None;
            }
            let secs = i64::from(oh * 3600 + om * 60);
            if sign == b'-' {
                -secs
            } else {
                secs
            }
        }
        _ => return None,
    };
    let local = Timestamp::from_civil(i64::from(year), month, day, hour, minute, second, nanos)?;
    Some(Timestamp {
        secs: (local.secs - offset_secs).clamp(MIN_SECS, MAX_SECS),
        nanos: local.nanos,
    })
}

/// What the Store writes for every date, `2021-06-14T00:00:00.1234567+00:00`: the shape
/// checked 8 bytes at a time (four words against a template) instead of byte by byte, whose
/// 14 compares and branches made the reader keep its digits on the stack (issue 14). Anything
/// else is `None`, for [`parse_iso_fixed`]'s general path.
pub(crate) fn parse_store_form(b: &[u8; 33]) -> Option<Timestamp> {
    // Per byte: `D` a digit, `?` the zone's sign (checked below), anything else itself.
    const TEMPLATE: &[u8; 33] = b"DDDD-DD-DDTDD:DD:DD.DDDDDDD?DD:DD";
    // For each 8-byte word: (bits compared, their wanted value, what makes a digit's low
    // nibble past 9 carry into its high nibble).
    const fn word(at: usize) -> (u64, u64, u64) {
        let (mut mask, mut want, mut add, mut i) = (0u64, 0u64, 0u64, 0);
        while i < 8 {
            let (m, w, a) = match TEMPLATE[at + i] {
                b'D' => (0xF0, 0x30, 0x06),
                b'?' => (0, 0, 0),
                c => (0xFF, c as u64, 0),
            };
            mask |= m << (8 * i);
            want |= w << (8 * i);
            add |= a << (8 * i);
            i += 1;
        }
        (mask, want, add)
    }
    const WORDS: [(u64, u64, u64); 4] = [word(0), word(8), word(16), word(24)];
    let le = |at: usize| {
        u64::from_le_bytes([
            b[at],
            b[at + 1],
            b[at + 2],
            b[at + 3],
            b[at + 4],
            b[at + 5],
            b[at + 6],
            b[at + 7],
        ])
    };
    let words = [le(0), le(8), le(16), le(24)];
    let mut bad = 0;
    for (&w, (mask, want, add)) in words.iter().zip(WORDS) {
        // High nibbles all 3 first, so adding 6 to a digit byte cannot carry out of it.
        bad |= ((w & mask) ^ want) | ((w.wrapping_add(add) & mask) ^ want);
    }
    let last = b[32].wrapping_sub(b'0');
    let sign = b[27];
    if bad != 0 || last > 9 || !(sign == b'+' || sign == b'-') {
        return None;
    }
    // Every `D` is a digit now. Its low nibble is its value; every other byte is cleared. Then
    // in each word, byte `k` of `v * 10 + (v >> 8)` is the two-digit number at `k`, `k + 1`
    // (at most 99: no byte carries into the next), all pairs at once instead of one multiply
    // and add per digit, which was most of this reader's ~350 instructions (issue 14).
    const fn low_nibbles(at: usize) -> u64 {
        let (mut m, mut i) = (0u64, 0);
        while i < 8 {
            if TEMPLATE[at + i] == b'D' {
                m |= 0x0F << (8 * i);
            }
            i += 1;
        }
        m
    }
    const DIGITS: [u64; 4] = [
        low_nibbles(0),
        low_nibbles(8),
        low_nibbles(16),
        low_nibbles(24),
    ];
    let v = |i: usize| words[i] & DIGITS[i];
    let pairs = |i: usize| v(i) * 10 + (v(i) >> 8);
    let at = |w: u64, k: u32| ((w >> (8 * k)) & 0xFF) as u32;
    // "YYYY-MM-" "DDTHH:MM" ":SS.ffff" "fff?HH:M" and the last digit in `last`.
    let (p0, p1, p2, p3) = (pairs(0), pairs(1), pairs(2), pairs(3));
    let year = at(p0, 0) * 100 + at(p0, 2);
    let (month, day, hour, minute, second) =
        (at(p0, 5), at(p1, 0), at(p1, 3), at(p1, 6), at(p2, 1));
    let nanos = (((at(p2, 4) * 100 + at(p2, 6)) * 100 + at(p3, 0)) * 10 + at(v(3), 2)) * 100;
    let (oh, om) = (at(p3, 4), at(v(3), 7) * 10 + u32::from(last));
    if oh > 23 || om > 59 {
        return None;
    }
    let offset = i64::from(oh * 3600 + om * 60);
    let offset_secs = if sign == b'-' { -offset } else { offset };
    let local = Timestamp::from_civil(i64::from(year), month, day, hour, minute, second, nanos)?;
    Some(Timestamp {
        secs: (local.secs - offset_secs).clamp(MIN_SECS, MAX_SECS),
        nanos: local.nanos,
    })
}

/// The 1..=9 digits after the decimal point as nanoseconds, and what follows them; `None` for
/// no digit or more than 9. Inlined: as a call it made the caller keep its 14 digits on the
/// stack around it.
#[inline(always)]
fn fraction(frac: &[u8]) -> Option<(u32, &[u8])> {
    let mut n = 0;
    let mut nanos = 0u32;
    while let Some(&c) = frac.get(n) {
        let digit = c.wrapping_sub(b'0');
        if digit > 9 {
            break;
        }
        if n == 9 {
            return None;
        }
        nanos = nanos * 10 + u32::from(digit);
        n += 1;
    }
    if n == 0 {
        return None;
    }
    Some((nanos * POW10[9 - n], &frac[n..]))
}

const POW10: [u32; 10] = [
    1,
    10,
    100,
    1_000,
    10_000,
    100_000,
    1_000_000,
    10_000_000,
    100_000_000,
    1_000_000_000,
];

/// Two ASCII digits as a number.
fn two_digits(hi: u8, lo: u8) -> Option<u32> {
    let (hi, lo) = (hi.wrapping_sub(b'0'), lo.wrapping_sub(b'0'));
    (hi < 10 && lo < 10).then_some(u32::from(hi) * 10 + u32::from(lo))
}

fn parse_iso(t: &str) -> Option<Timestamp> {
    if t.len() < 16 || !t.is_ascii() {
        return None;
    }
    let b = t.as_bytes();
    if b[4] != b'-' || b[7] != b'-' || !(b[10] == b'T' || b[10] == b't' || b[10] == b' ') {
        return None;
    }
    let year = i64::from(num(&t[0..4])?);
    let month = num(&t[5..7])?;
    let day = num(&t[8..10])?;
    let rest = &t[11..];
    // Split the clock part from the zone designator.
    // Bytes, not char patterns: the text is ASCII (checked above) and this runs for every
    // date of every entitlement.
    let zone_at = rest
        .bytes()
        .position(|c| matches!(c, b'Z' | b'z' | b'+'))
        .or_else(|| rest.bytes().rposition(|c| c == b'-'))
        .unwrap_or(rest.len());
    let (clock, zone) = rest.split_at(zone_at);
    let mut fields = clock.splitn(3, ':');
    let hour = num(fields.next()?)?;
    let minute = num(fields.next()?)?;
    let (second, nanos) = match fields.next() {
        None => (0, 0),
        Some(sec) => {
            let (whole, frac) = match sec.split_once(['.', ',']) {
                Some((w, f)) => (w, Some(f)),
                None => (sec, None),
            };
            let second = num(whole)?;
            let nanos = match frac {
                None => 0,
                Some(f) => {
                    if f.is_empty() || f.len() > 9 {
                        return None;
                    }
                    let mut n = num(f)?;
                    for _ in f.len()..9 {
                        n *= 10;
                    }
                    n
                }
            };
            (second, nanos)
        }
    };
    if clock.len() < 5 || clock.as_bytes()[2] != b':' {
        return None;
    }
    let offset_secs: i64 = match zone {
        "" | "Z" | "z" => 0,
        z => {
            let sign = match &z[..1] {
                "+" => 1,
                "-" => -1,
                _ => return None,
            };
            let body = &z[1..];
            let (oh, om) = match body.len() {
                5 if body.as_bytes()[2] == b':' => (num(&body[0..2])?, num(&body[3..5])?),
                4 => (num(&body[0..2])?, num(&body[2..4])?),
                2 => (num(body)?, 0),
                _ => return None,
            };
            if oh > 23 || om > 59 {
                return None;
            }
            sign * i64::from(oh * 3600 + om * 60)
        }
    };
    let local = Timestamp::from_civil(year, month, day, hour, minute, second, nanos)?;
    Some(Timestamp {
        secs: (local.secs - offset_secs).clamp(MIN_SECS, MAX_SECS),
        nanos: local.nanos,
    })
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(y) => 29,
        2 => 28,
        _ => 0,
    }
}

// Howard Hinnant's days-from-civil algorithms (public domain). Years 1..=9999 only (what
// `from_civil` lets through), so the arithmetic is unsigned: no `div_euclid` sign fix-ups.
fn days_from_civil(y: u32, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let (era, yoe) = (y / 400, y % 400);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    i64::from(era * 146_097 + doe) - 719_468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

impl From<SystemTime> for Timestamp {
    fn from(t: SystemTime) -> Timestamp {
        match t.duration_since(UNIX_EPOCH) {
            Ok(d) => Timestamp::UNIX_EPOCH.add(d),
            Err(e) => Timestamp::UNIX_EPOCH.sub(e.duration()),
        }
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_iso())
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Timestamp({})", self.to_iso())
    }
}

impl std::str::FromStr for Timestamp {
    type Err = ParseTimestampError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Timestamp::parse(s)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_iso())
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Parsed from the borrowed text: `Cow<str>` would allocate a `String` for every date.
        struct DateText;
        impl serde::de::Visitor<'_> for DateText {
            type Value = Timestamp;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a date string")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Timestamp, E> {
                Timestamp::parse(s).map_err(E::custom)
            }
        }
        d.deserialize_str(DateText)
    }
}

/// A .NET `TimeSpan` string (`hh:mm:ss.fffffff` or `d.hh:mm:ss.fffffff`), as `trialTimeRemaining`.
pub fn parse_timespan(s: &str) -> Option<Duration> {
    let s = s.trim();
    let (neg, s) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s),
    };
    if neg {
        return Some(Duration::ZERO);
    }
    let mut parts: Vec<&str> = s.split(':').collect();
    if parts.len() == 4 {
        // "DD:HH:MM:SS.MS", as the documentation writes it.
        let days = num(parts.remove(0))?;
        return parse_timespan(&format!("{days}.{}", parts.join(":")));
    }
    if parts.len() != 3 {
        return None;
    }
    let (days, hours) = match parts[0].split_once('.') {
        Some((d, h)) => (num(d)?, num(h)?),
        None => (0, num(parts[0])?),
    };
    let minutes = num(parts[1])?;
    let (secs, frac) = match parts[2].split_once('.') {
        Some((s, f)) => (num(s)?, Some(f)),
        None => (num(parts[2])?, None),
    };
    if hours > 23 || minutes > 59 || secs > 59 {
        return None;
    }
    let nanos = match frac {
        None => 0,
        Some(f) if !f.is_empty() && f.len() <= 9 && f.bytes().all(|b| b.is_ascii_digit()) => {
            f.parse::<u32>().ok()? * 10u32.pow(9 - f.len() as u32)
        }
        Some(_) => return None,
    };
    let total = u64::from(days) * 86_400
        + u64::from(hours) * 3600
        + u64::from(minutes) * 60
        + u64::from(secs);
    Some(Duration::new(total, nanos))
}

/// Formats a duration as a .NET `TimeSpan` string (`d.hh:mm:ss.fffffff`).
pub fn format_timespan(d: Duration) -> String {
    let total = d.as_secs();
    let (days, rem) = (total / 86_400, total % 86_400);
    let body = format!(
        "{:02}:{:02}:{:02}.{:07}",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60,
        d.subsec_nanos() / 100
    );
    if days > 0 {
        format!("{days}.{body}")
    } else {
        body
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_store_iso_with_seven_digits() {
        let t = Timestamp::parse("2021-08-30T21:53:08.2565331+00:00").unwrap();
        assert_eq!(t.unix_seconds(), 1_630_360_388);
        assert_eq!(t.subsec_nanos(), 256_533_100);
        assert_eq!(t.to_iso(), "2021-08-30T21:53:08.2565331+00:00");
    }

    #[test]
    fn parses_offsets_and_minute_precision() {
        let a = Timestamp::parse("2022-12-09T02:13Z").unwrap();
        let b = Timestamp::parse("2022-12-09T03:13:00+01:00").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.to_iso(), "2022-12-09T02:13:00.0000000+00:00");
        let c = Timestamp::parse("2023-06-02 21:00:26Z").unwrap();
        assert_eq!(c.to_civil(), (2023, 6, 2, 21, 0, 26));
        assert!(Timestamp::parse("2026-03-02T23:59:59+00:00").is_ok());
        assert!(Timestamp::parse("2026-02-03T00:00:04.12+00:00").is_ok());
    }

    #[test]
    fn parses_wcf_dates() {
        let t = Timestamp::parse("/Date(-62135568000000)/").unwrap();
        assert_eq!(t.to_civil(), (1, 1, 1, 8, 0, 0));
        let t = Timestamp::parse("\\/Date(1630360388256)\\/").unwrap();
        assert_eq!(t.unix_millis(), 1_630_360_388_256);
        assert!(Timestamp::parse("/Date(1630360388256+0100)/").is_ok());
        assert!(Timestamp::parse("/Date(abc)/").is_err());
    }

    /// The fixed-position reader agrees with the general parser on everything it accepts, and
    /// leaves everything else to it.
    #[test]
    fn fixed_form_agrees_with_the_general_parser() {
        for s in [
            "2021-06-14T00:00:00Z",
            "2021-06-14T00:00:00.1234567+00:00",
            "2021-06-14T23:59:59.999999999-05:30",
            "9999-12-31T23:59:59.9999999+00:00",
            "0001-01-01T00:00:00+01:00",
            "2024-02-29T12:00:00.5Z",
        ] {
            let fixed = parse_iso_fixed(s.as_bytes()).unwrap_or_else(|| panic!("{s}"));
            assert_eq!(Some(fixed), parse_iso(s), "{s}");
        }
        for s in [
            "2021-06-14T00:00Z",
            "2021-06-14 00:00:00Z",
            "2021-06-14T00:00:00z",
            "2021-06-14T00:00:00",
            "2021-06-14T00:00:00+0100",
            "2021-06-14T00:00:00.Z",
            "2021-06-14T00:00:00.1234567890Z",
            "2021-06-14T00:00:00+24:00",
            "2023-02-29T00:00:00Z",
            "2021-06-14T00:00:00Z ",
            "２021-06-14T00:00:00Z",
        ] {
            assert_eq!(parse_iso_fixed(s.as_bytes()), None, "{s}");
        }
        // What it leaves behind still parses (or not) as before.
        assert!(Timestamp::parse("2021-06-14T00:00Z").is_ok());
        assert!(Timestamp::parse(" 2021-06-14T00:00:00Z ").is_ok());
        assert!(Timestamp::parse("2023-02-29T00:00:00Z").is_err());
    }

    /// The fixed-position reader as it was before the one-pass rewrite (issue 14), kept as the
    /// reference the rewrite must agree with.
    fn old_parse_iso_fixed(b: &[u8]) -> Option<Timestamp> {
        // Every field read from a fixed position of one 19-byte head: no slice or closure per field
        // (40 dates per 10-item page, issue 14).
        let h: &[u8; 19] = b.get(..19)?.try_into().ok()?;
        if h[4] != b'-' || h[7] != b'-' || h[10] != b'T' || h[13] != b':' || h[16] != b':' {
            return None;
        }
        let year = two_digits(h[0], h[1])? * 100 + two_digits(h[2], h[3])?;
        let (month, day) = (two_digits(h[5], h[6])?, two_digits(h[8], h[9])?);
        let (hour, minute) = (two_digits(h[11], h[12])?, two_digits(h[14], h[15])?);
        let second = two_digits(h[17], h[18])?;
        let mut rest = &b[19..];
        let mut nanos = 0;
        if let [b'.', frac @ ..] = rest {
            let n = frac.iter().take_while(|c| c.is_ascii_digit()).count();
            if n == 0 || n > 9 {
                return None;
            }
            nanos = frac[..n]
                .iter()
                .fold(0u32, |v, &c| v * 10 + u32::from(c - b'0'))
                * POW10[9 - n];
            rest = &frac[n..];
        }
        let offset_secs = match *rest {
            [b'Z'] => 0,
            [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
                let (oh, om) = (two_digits(h1, h2)?, two_digits(m1, m2)?);
                if oh > 23 || om > 59 {
                    return None;
                }
                let secs = i64::from(oh * 3600 + om * 60);
                if sign == b'-' {
                    -secs
                } else {
                    secs
                }
            }
            _ => return None,
        };
        let local =
            Timestamp::from_civil(i64::from(year), month, day, hour, minute, second, nanos)?;
        Some(Timestamp {
            secs: (local.secs - offset_secs).clamp(MIN_SECS, MAX_SECS),
            nanos: local.nanos,
        })
    }

    /// Inputs around every edge of the fixed form: leap years, the year range, 0..=10
    /// fractional digits, offsets, lowercase designators, each byte replaced by a near miss,
    /// and every truncation.
    fn fixed_form_inputs() -> Vec<Vec<u8>> {
        let mut bases: Vec<String> = Vec::new();
        for date in [
            "2021-06-14",
            "0001-01-01",
            "0000-01-01",
            "9999-12-31",
            "2024-02-29",
            "2023-02-29",
            "1900-02-29",
            "2000-02-29",
            "2100-02-28",
            "2021-00-10",
            "2021-13-10",
            "2021-04-31",
            "2021-04-30",
            "2021-01-00",
            "2021-01-32",
            "2021-12-31",
        ] {
            for clock in [
                "00:00:00", "23:59:59", "24:00:00", "12:60:00", "12:00:60", "09:05:07",
            ] {
                for frac in [
                    "",
                    ".",
                    ".0",
                    ".5",
                    ".12",
                    ".123",
                    ".1234",
                    ".12345",
                    ".123456",
                    ".1234567",
                    ".12345678",
                    ".123456789",
                    ".1234567890",
                    ".9999999",
                    ".x",
                ] {
                    for zone in [
                        "Z", "z", "+00:00", "-00:00", "+01:00", "-05:30", "+23:59", "-23:59",
                        "+24:00", "+12:60", "+0100", "+01", "", "Z ", "+01:00Z", "+1:00",
                    ] {
                        bases.push(format!("{date}T{clock}{frac}{zone}"));
                    }
                }
            }
            bases.push(format!("{date} 00:00:00Z"));
            bases.push(format!("{date}t00:00:00Z"));
            bases.push(format!("{date}T00:00Z"));
        }
        let mut out: Vec<Vec<u8>> = bases.iter().map(|s| s.clone().into_bytes()).collect();
        for s in [
            "2021-06-14T09:05:07.1234567+01:00",
            "9999-12-31T23:59:59.9999999+00:00",
        ] {
            let b = s.as_bytes();
            for i in 0..b.len() {
                for c in [
                    b'0', b'9', b'/', b':', b'-', b'+', b'.', b'T', b'Z', b' ', b'a', 0, 0xff,
                ] {
                    let mut m = b.to_vec();
                    m[i] = c;
                    out.push(m);
                }
                out.push(b[..i].to_vec());
                let mut longer = b.to_vec();
                longer.insert(i, b'1');
                out.push(longer);
            }
        }
        out
    }

    /// The one-pass reader accepts exactly what the reader it replaced accepted, with the same
    /// value.
    #[test]
    fn one_pass_reader_matches_the_old_reader() {
        let inputs = fixed_form_inputs();
        let (mut accepted, mut store_form) = (0, 0);
        for b in &inputs {
            let new = parse_iso_fixed(b);
            assert_eq!(
                new,
                old_parse_iso_fixed(b),
                "{}",
                String::from_utf8_lossy(b)
            );
            accepted += usize::from(new.is_some());
            if let Some(t) = b.as_slice().try_into().ok().and_then(parse_store_form) {
                store_form += 1;
                assert_eq!(
                    Some(t),
                    old_parse_iso_fixed(b),
                    "{}",
                    String::from_utf8_lossy(b)
                );
            }
            // What it accepts, the general parser reads the same (so the fast path changes no
            // answer of `Timestamp::parse`).
            if let (Some(t), Ok(s)) = (new, std::str::from_utf8(b)) {
                assert_eq!(parse_iso(s), Some(t), "{s}");
            }
        }
        // The table reaches both sides of the reader.
        assert!(
            accepted > 1000 && accepted < inputs.len() / 2,
            "{accepted} of {}",
            inputs.len()
        );
        // ... and the Store's own form takes its fast path in some of them, not all.
        assert!(
            store_form > 100 && store_form < accepted,
            "{store_form} of {accepted}"
        );
        // Values at the edges, by hand.
        let at =
            |s: &str| parse_iso_fixed(s.as_bytes()).map(|t| (t.unix_seconds(), t.subsec_nanos()));
        assert_eq!(at("0001-01-01T00:00:00Z"), Some((MIN_SECS, 0)));
        assert_eq!(at("0001-01-01T00:00:00+01:00"), Some((MIN_SECS, 0)));
        assert_eq!(
            at("9999-12-31T23:59:59.9999999-01:00"),
            Some((MAX_SECS, 999_999_900))
        );
        assert_eq!(
            at("2000-02-29T00:00:00.123456789Z"),
            Some((951_782_400, 123_456_789))
        );
        assert_eq!(
            at("2021-06-14T00:00:00.5-05:30"),
            Some((1_623_648_600, 500_000_000))
        );
        assert_eq!(at("1900-02-29T00:00:00Z"), None);
        assert_eq!(at("0000-01-01T00:00:00Z"), None);
    }

    /// The Store form's reader over every day of years at the calendar's edges (leap rules of
    /// 4, 100 and 400, the first and last year), each field at its edges and one past them:
    /// what it accepts is what the general reader accepts, with the same value, and the value
    /// is the day count done here by hand, second by second.
    #[test]
    fn store_form_reader_over_whole_years() {
        let mut days_before = std::collections::HashMap::new();
        // Days from 0001-01-01 to 1 January of `y`, counted year by year.
        let (mut n, mut y) = (0i64, 1i64);
        for want in [1, 4, 100, 1900, 1970, 2000, 2024, 2100, 9999] {
            while y < want {
                n += if is_leap(y) { 366 } else { 365 };
                y += 1;
            }
            days_before.insert(want, n);
        }
        let epoch = days_before[&1970];
        let mut checked = 0;
        for (&year, &before) in &days_before {
            let mut day_of_year = 0;
            for month in 0..=13u32 {
                for day in 0..=32u32 {
                    let valid_day =
                        (1..=12).contains(&month) && day >= 1 && day <= days_in_month(year, month);
                    for (h, mi, s, frac, zone, zone_secs) in [
                        (0, 0, 0, "0000000", "+00:00", 0i64),
                        (23, 59, 59, "9999999", "-23:59", -86_340),
                        (12, 34, 56, "1234567", "+01:30", 5_400),
                        (24, 0, 0, "0000000", "+00:00", 0),
                        (0, 60, 0, "0000000", "+00:00", 0),
                        (0, 0, 60, "0000000", "+00:00", 0),
                        (0, 0, 0, "0000000", "+24:00", 0),
                        (0, 0, 0, "0000000", "+00:60", 0),
                    ] {
                        let s_text = format!(
                            "{year:04}-{month:02}-{day:02}T{h:02}:{mi:02}:{s:02}.{frac}{zone}"
                        );
                        let b: &[u8; 33] = s_text.as_bytes().try_into().unwrap();
                        let got = parse_store_form(b);
                        assert_eq!(got, parse_iso(&s_text), "{s_text}");
                        let valid =
                            valid_day && h < 24 && mi < 60 && s < 60 && !zone.ends_with("60");
                        let valid = valid && !zone.starts_with("+24");
                        if !valid {
                            assert_eq!(got, None, "{s_text}");
                            continue;
                        }
                        let secs = (before + day_of_year + i64::from(day) - 1 - epoch) * 86_400
                            + i64::from(h * 3600 + mi * 60 + s)
                            - zone_secs;
                        let nanos: u32 = frac.parse::<u32>().unwrap() * 100;
                        let want = Timestamp {
                            secs: secs.clamp(MIN_SECS, MAX_SECS),
                            nanos,
                        };
                        assert_eq!(got, Some(want), "{s_text}");
                        checked += 1;
                    }
                }
                if (1..=12).contains(&month) {
                    day_of_year += i64::from(days_in_month(year, month));
                }
            }
        }
        // 9 years, 3 of them leap years (4, 2000, 2024), 3 valid times a day.
        assert_eq!(checked, 3 * (9 * 365 + 3), "{checked}");
    }

    /// The digits written in place read exactly as `fmt` writes them, at every field's edges.
    #[test]
    fn iso_without_fmt_matches_fmt() {
        let via_fmt = |t: Timestamp| {
            let (y, mo, d, h, mi, s) = t.to_civil();
            format!(
                "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{:07}+00:00",
                t.subsec_nanos() / 100
            )
        };
        for t in [
            Timestamp::MAX,
            Timestamp::UNIX_EPOCH,
            Timestamp::from_unix(MIN_SECS),
            Timestamp::from_unix_nanos(1_630_360_388, 256_000_100),
            Timestamp::from_unix_nanos(951_782_399, 999_999_999),
            Timestamp::from_unix(-1),
            // Past year 9999 (only `from_unix` makes one): fmt's wider year is kept.
            Timestamp::from_unix(MAX_SECS + 1),
        ] {
            assert_eq!(t.to_iso(), via_fmt(t), "{:?}", t.to_civil());
        }
        assert_eq!(
            Timestamp::from_unix(MAX_SECS + 1).to_iso(),
            "10000-01-01T00:00:00.0000000+00:00"
        );
    }

    #[test]
    fn max_sentinel_round_trips() {
        let t = Timestamp::parse("9999-12-31T23:59:59.9999999+00:00").unwrap();
        assert!(t.is_max());
        assert_eq!(t, Timestamp::MAX);
        assert_eq!(t.to_iso(), "9999-12-31T23:59:59.9999999+00:00");
    }

    #[test]
    fn rejects_garbage() {
        for bad in [
            "",
            "2021-13-01T00:00:00Z",
            "2021-06-142T00:00:00Z",
            "2021-02-30T00:00:00Z",
            "yesterday",
            "2021-01-01T25:00:00Z",
            "2021-01-01T00:00:00+2500",
        ] {
            assert!(Timestamp::parse(bad).is_err(), "{bad}");
        }
    }

    /// Dates are parsed from the borrowed text, and from serde's copy when the JSON string
    /// holds an escape; a number or an overflowing field is an error, not a panic.
    #[test]
    fn deserialises_plain_and_escaped_text() {
        let plain: Timestamp = serde_json::from_str(r#""2021-06-14T00:00:00.5Z""#).unwrap();
        let escaped: Timestamp = serde_json::from_str(r#""2021-06-14T00:00:00.5\u005a""#).unwrap();
        assert_eq!(plain, escaped);
        assert_eq!(plain.subsec_nanos(), 500_000_000);
        assert!(serde_json::from_str::<Timestamp>("17").is_err());
        assert!(serde_json::from_str::<Timestamp>(r#""2021-06-14T99999999999:00:00Z""#).is_err());
    }

    #[test]
    fn month_arithmetic_clamps_to_month_end() {
        let t = Timestamp::parse("2026-01-31T00:00:00Z").unwrap();
        assert_eq!(t.add_months(1).to_civil(), (2026, 2, 28, 0, 0, 0));
        assert_eq!(t.add_months(13).to_civil(), (2027, 2, 28, 0, 0, 0));
        assert_eq!(t.add_months(-2).to_civil(), (2025, 11, 30, 0, 0, 0));
    }

    #[test]
    fn rfc1123_round_trips() {
        let t = Timestamp::parse("2026-02-03T10:00:00Z").unwrap();
        assert_eq!(t.to_rfc1123(), "Tue, 03 Feb 2026 10:00:00 GMT");
        assert_eq!(Timestamp::parse_rfc1123(&t.to_rfc1123()), Some(t));
    }

    #[test]
    fn timespans() {
        assert_eq!(
            parse_timespan("01:02:03.5000000"),
            Some(Duration::new(3723, 500_000_000))
        );
        assert_eq!(
            parse_timespan("2.01:00:00"),
            Some(Duration::from_secs(2 * 86_400 + 3600))
        );
        assert_eq!(
            parse_timespan("02:01:00:00.0"),
            Some(Duration::from_secs(2 * 86_400 + 3600))
        );
        assert_eq!(parse_timespan("nonsense"), None);
        assert_eq!(
            format_timespan(Duration::from_secs(90_061)),
            "1.01:01:01.0000000"
        );
    }
}
