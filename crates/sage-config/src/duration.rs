//! Human-readable durations: `500ms`, `90s`, `10m`, `1h`, `1h30m`.
//!
//! A duration is one or more `<integer><unit>` groups with no spaces, the
//! units being `ns`, `us`, `ms`, `s`, `m`, `h` and `d`. A bare `0` is the
//! zero duration; any other bare number is refused, because `max_age: 30`
//! is ambiguous. There are no fractions (`1.5h` is written `1h30m`).
//! Formatting gives the shortest exact form, so a formatted duration parses
//! back to the same value.
//!
//! The `serde` module is used with `#[serde(with = "crate::duration")]` on
//! every duration field of the configuration.

use core::fmt;
use core::time::Duration;

/// Why a duration did not parse. The offending text is not secret, so it is
/// part of the message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DurationError {
    /// Nothing was given.
    #[error("empty duration: write e.g. \"90s\" or \"10m\"")]
    Empty,
    /// A number without a unit (other than `0`).
    #[error("{0:?} has no unit: write e.g. \"{0}s\" (units: ms, s, m, h, d)")]
    MissingUnit(String),
    /// A unit that is not one of `ns us ms s m h d`.
    #[error("{text:?}: unknown unit {unit:?} (units: ns, us, ms, s, m, h, d)")]
    UnknownUnit {
        /// The whole text.
        text: String,
        /// The unknown unit.
        unit: String,
    },
    /// Something other than `<integer><unit>` groups.
    #[error("{0:?} is not a duration: write e.g. \"500ms\", \"90s\", \"10m\", \"1h30m\"")]
    Malformed(String),
    /// More than `u64::MAX` seconds.
    #[error("{0:?} is too long")]
    Overflow(String),
}

/// Nanoseconds per unit.
const UNITS: [(&str, u128); 7] = [
    ("ns", 1),
    ("us", 1_000),
    ("ms", 1_000_000),
    ("s", 1_000_000_000),
    ("m", 60 * 1_000_000_000),
    ("h", 3_600 * 1_000_000_000),
    ("d", 86_400 * 1_000_000_000),
];

/// Parses a human-readable duration.
///
/// # Errors
/// [`DurationError`] naming what is wrong with `text`.
pub fn parse_duration(text: &str) -> Result<Duration, DurationError> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(DurationError::Empty);
    }
    if trimmed.bytes().all(|b| b.is_ascii_digit()) {
        return if trimmed.bytes().all(|b| b == b'0') {
            Ok(Duration::ZERO)
        } else {
            Err(DurationError::MissingUnit(trimmed.to_owned()))
        };
    }
    let mut total: u128 = 0;
    let mut rest = trimmed;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let (number, tail) = rest.split_at(digits);
        let letters = tail.bytes().take_while(u8::is_ascii_alphabetic).count();
        let (unit, tail) = tail.split_at(letters);
        if number.is_empty() || unit.is_empty() {
            return Err(DurationError::Malformed(trimmed.to_owned()));
        }
        let scale = UNITS
            .iter()
            .find(|(name, _)| *name == unit)
            .map(|(_, scale)| *scale)
            .ok_or_else(|| DurationError::UnknownUnit {
                text: trimmed.to_owned(),
                unit: unit.to_owned(),
            })?;
        let overflow = || DurationError::Overflow(trimmed.to_owned());
        let value: u128 = number.parse().map_err(|_| overflow())?;
        total = value
            .checked_mul(scale)
            .and_then(|n| total.checked_add(n))
            .ok_or_else(overflow)?;
        rest = tail;
    }
    let secs = u64::try_from(total / 1_000_000_000)
        .map_err(|_| DurationError::Overflow(trimmed.to_owned()))?;
    let nanos = u32::try_from(total % 1_000_000_000).unwrap_or(0);
    Ok(Duration::new(secs, nanos))
}

/// The shortest exact human form of `duration` (`0s`, `500ms`, `2m`,
/// `1h30m`); days are written as hours.
#[must_use]
pub fn format_duration(duration: Duration) -> String {
    HumanDuration(duration).to_string()
}

/// [`Display`](fmt::Display) adapter giving [`format_duration`]'s form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HumanDuration(pub Duration);

impl fmt::Display for HumanDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut nanos = self.0.as_nanos();
        if nanos == 0 {
            return f.write_str("0s");
        }
        // Largest unit first; "d" is skipped ("48h" reads better than "2d").
        for (name, scale) in UNITS.iter().rev().skip(1) {
            let count = nanos / scale;
            if count > 0 {
                write!(f, "{count}{name}")?;
                nanos %= scale;
            }
        }
        Ok(())
    }
}

/// Serde glue: durations are written as human strings, and read from a
/// string or the number `0`.
pub(crate) mod serde_human {
    use core::fmt;
    use core::time::Duration;

    use serde::de::{self, Visitor};
    use serde::{Deserializer, Serializer};

    use super::{HumanDuration, parse_duration};

    pub(crate) fn serialize<S: Serializer>(value: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&HumanDuration(*value))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        d.deserialize_any(DurationVisitor)
    }

    struct DurationVisitor;

    impl Visitor<'_> for DurationVisitor {
        type Value = Duration;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a duration such as \"500ms\", \"90s\", \"10m\" or \"1h\"")
        }

        fn visit_str<E: de::Error>(self, v: &str) -> Result<Duration, E> {
            parse_duration(v).map_err(E::custom)
        }

        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Duration, E> {
            self.visit_str(&v.to_string())
        }

        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Duration, E> {
            if v < 0 {
                return Err(E::custom(format!("{v} is negative: a duration is >= 0")));
            }
            self.visit_str(&v.to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_forms_parse() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("2d"), Ok(Duration::from_secs(172_800)));
        assert_eq!(parse_duration(" 1s250ms "), Ok(Duration::from_millis(1250)));
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
        assert_eq!(parse_duration("0s"), Ok(Duration::ZERO));
    }

    #[test]
    fn malformed_durations_say_why() {
        assert_eq!(parse_duration(""), Err(DurationError::Empty));
        assert_eq!(
            parse_duration("30"),
            Err(DurationError::MissingUnit("30".into()))
        );
        assert!(matches!(
            parse_duration("5 minutes"),
            Err(DurationError::Malformed(_))
        ));
        assert!(matches!(
            parse_duration("5y"),
            Err(DurationError::UnknownUnit { unit, .. }) if unit == "y"
        ));
        assert!(matches!(
            parse_duration("1.5h"),
            Err(DurationError::Malformed(_))
        ));
        assert!(matches!(
            parse_duration("h"),
            Err(DurationError::Malformed(_))
        ));
        assert!(matches!(
            parse_duration("-1s"),
            Err(DurationError::Malformed(_))
        ));
        assert!(matches!(
            parse_duration("99999999999999999999999d"),
            Err(DurationError::Overflow(_))
        ));
    }

    #[test]
    fn formatting_is_shortest_and_round_trips() {
        for (d, text) in [
            (Duration::ZERO, "0s"),
            (Duration::from_millis(500), "500ms"),
            (Duration::from_secs(120), "2m"),
            (Duration::from_secs(5400), "1h30m"),
            (Duration::from_secs(172_800), "48h"),
            (Duration::new(1, 1), "1s1ns"),
        ] {
            assert_eq!(format_duration(d), text);
            assert_eq!(parse_duration(text), Ok(d));
        }
    }
}
