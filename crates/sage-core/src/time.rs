//! Time as a value: the core never reads a clock.
//!
//! A [`Timestamp`] is a UTC instant with nanosecond precision. Callers pass
//! "now" into every check that needs it. RFC 3339 text uses Go's
//! `time.RFC3339Nano` layout (fraction trimmed of trailing zeros, `Z`),
//! which is what the handshake `ts` members carry (PROTOCOL.md §6.5).

use core::fmt;

/// A UTC instant: seconds since the Unix epoch plus nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp {
    secs: i64,
    nanos: u32,
}

/// RFC 3339 text that does not parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimestampParseError;

impl fmt::Display for TimestampParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not an RFC 3339 timestamp")
    }
}

impl std::error::Error for TimestampParseError {}

impl Timestamp {
    /// The instant `secs` seconds after the epoch.
    pub const fn from_unix_seconds(secs: i64) -> Self {
        Self { secs, nanos: 0 }
    }

    /// The instant from seconds and nanoseconds; `nanos` above 999 999 999 carry into seconds.
    pub const fn new(secs: i64, nanos: u32) -> Self {
        Self {
            secs: secs.saturating_add((nanos / 1_000_000_000) as i64),
            nanos: nanos % 1_000_000_000,
        }
    }

    /// Whole seconds since the epoch (floor).
    pub const fn unix_seconds(self) -> i64 {
        self.secs
    }

    /// Nanoseconds within the second.
    pub const fn subsec_nanos(self) -> u32 {
        self.nanos
    }

    /// Nanoseconds since the epoch.
    pub const fn unix_nanos(self) -> i128 {
        self.secs as i128 * 1_000_000_000 + self.nanos as i128
    }

    /// This instant plus `secs` seconds (saturating).
    pub const fn add_seconds(self, secs: i64) -> Self {
        Self {
            secs: self.secs.saturating_add(secs),
            nanos: self.nanos,
        }
    }

    /// Absolute distance between two instants, in nanoseconds.
    pub fn abs_diff_nanos(self, other: Self) -> u128 {
        self.unix_nanos().abs_diff(other.unix_nanos())
    }

    /// Formats as Go's `time.RFC3339Nano` in UTC, e.g. `2026-09-01T12:00:00.5Z`.
    pub fn to_rfc3339(self) -> String {
        let days = self.secs.div_euclid(86_400);
        let sod = self.secs.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        let mut out = format!(
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
            sod / 3600,
            (sod / 60) % 60,
            sod % 60
        );
        if self.nanos != 0 {
            let frac = format!("{:09}", self.nanos);
            out.push('.');
            out.push_str(frac.trim_end_matches('0'));
        }
        out.push('Z');
        out
    }

    /// Parses RFC 3339 (`YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`).
    ///
    /// # Errors
    /// [`TimestampParseError`] when the text is not of that form or names an
    /// impossible date or time.
    pub fn parse_rfc3339(s: &str) -> Result<Self, TimestampParseError> {
        let b = s.as_bytes();
        if b.len() < 20 {
            return Err(TimestampParseError);
        }
        let num = |r: core::ops::Range<usize>| -> Result<i64, TimestampParseError> {
            let part = b.get(r).ok_or(TimestampParseError)?;
            if part.is_empty() || !part.iter().all(u8::is_ascii_digit) {
                return Err(TimestampParseError);
            }
            Ok(part.iter().fold(0i64, |a, d| a * 10 + i64::from(d - b'0')))
        };
        let sep = |i: usize, c: &[u8]| b.get(i).is_some_and(|x| c.contains(x));
        if !(sep(4, b"-") && sep(7, b"-") && sep(10, b"Tt") && sep(13, b":") && sep(16, b":")) {
            return Err(TimestampParseError);
        }
        let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
        let (h, mi, se) = (num(11..13)?, num(14..16)?, num(17..19)?);
        if !(1..=12).contains(&mo)
            || d < 1
            || d > days_in_month(y, mo)
            || h > 23
            || mi > 59
            || se > 60
        {
            return Err(TimestampParseError);
        }
        let mut i = 19;
        let mut nanos: u32 = 0;
        if b.get(i) == Some(&b'.') {
            i += 1;
            let start = i;
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            let digits = &b[start..i];
            if digits.is_empty() {
                return Err(TimestampParseError);
            }
            for (k, dg) in digits.iter().take(9).enumerate() {
                nanos += u32::from(dg - b'0') * 10u32.pow(8 - k as u32);
            }
        }
        let offset = match b.get(i) {
            Some(b'Z' | b'z') if i + 1 == b.len() => 0,
            Some(sign @ (b'+' | b'-')) if i + 6 == b.len() && b[i + 3] == b':' => {
                let oh = num(i + 1..i + 3)?;
                let om = num(i + 4..i + 6)?;
                if oh > 23 || om > 59 {
                    return Err(TimestampParseError);
                }
                let o = oh * 3600 + om * 60;
                if *sign == b'+' { o } else { -o }
            }
            _ => return Err(TimestampParseError),
        };
        let secs = days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + se - offset;
        Ok(Self::new(secs, nanos))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

// Howard Hinnant's civil calendar algorithms (public domain).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_go_rfc3339nano() {
        assert_eq!(
            Timestamp::from_unix_seconds(1_788_609_600).to_rfc3339(),
            "2026-09-05T12:00:00Z"
        );
        assert_eq!(
            Timestamp::new(1_788_609_600, 500_000_000).to_rfc3339(),
            "2026-09-05T12:00:00.5Z"
        );
        assert_eq!(
            Timestamp::new(0, 1).to_rfc3339(),
            "1970-01-01T00:00:00.000000001Z"
        );
    }

    #[test]
    fn parses_offsets_and_fractions() {
        let t = Timestamp::parse_rfc3339("2026-09-12T03:12:02.671951Z").unwrap();
        assert_eq!(t.subsec_nanos(), 671_951_000);
        assert_eq!(t.to_rfc3339(), "2026-09-12T03:12:02.671951Z");
        let a = Timestamp::parse_rfc3339("2026-09-05T14:00:00+02:00").unwrap();
        assert_eq!(a, Timestamp::from_unix_seconds(1_788_609_600));
    }

    #[test]
    fn rejects_malformed() {
        for s in [
            "",
            "2026-09-01 12:00:00Z",
            "2026-02-30T00:00:00Z",
            "2026-09-01T12:00:00",
            "2026-09-01T12:00:00.Z",
            "2026-09-01T12:00:00Zjunk",
        ] {
            assert_eq!(Timestamp::parse_rfc3339(s), Err(TimestampParseError), "{s}");
        }
    }

    #[test]
    fn round_trips_many_instants() {
        for secs in [-86_400 * 365 * 100, -1, 0, 951_782_400, 4_102_444_800] {
            for nanos in [0, 1, 999_999_999] {
                let t = Timestamp::new(secs, nanos);
                assert_eq!(Timestamp::parse_rfc3339(&t.to_rfc3339()), Ok(t));
            }
        }
    }
}
