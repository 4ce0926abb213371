//! Byte sizes for limits: a plain number of bytes (`1048576`) or a number
//! with a unit (`512KiB`, `1MiB`, `16MB`). Binary units (`KiB`, `MiB`,
//! `GiB`) are powers of 1024, decimal ones (`KB`, `MB`, `GB`) powers of
//! 1000; units are case-insensitive. Formatting gives the largest binary
//! unit that divides the size exactly, so it parses back to the same value.

use core::fmt;
use core::str::FromStr;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A size in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct ByteSize(pub u64);

/// Why a byte size did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ByteSizeError {
    /// Not `<integer>[unit]`.
    #[error("{0:?} is not a size: write e.g. \"1MiB\", \"512KiB\" or a number of bytes")]
    Malformed(String),
    /// A unit other than `B KB MB GB KiB MiB GiB`.
    #[error("{text:?}: unknown unit {unit:?} (units: B, KiB, MiB, GiB, KB, MB, GB)")]
    UnknownUnit {
        /// The whole text.
        text: String,
        /// The unknown unit.
        unit: String,
    },
    /// More than `u64::MAX` bytes.
    #[error("{0:?} is too large")]
    Overflow(String),
}

const UNITS: [(&str, u64); 7] = [
    ("b", 1),
    ("kb", 1_000),
    ("mb", 1_000_000),
    ("gb", 1_000_000_000),
    ("kib", 1 << 10),
    ("mib", 1 << 20),
    ("gib", 1 << 30),
];

impl ByteSize {
    /// `n` mebibytes.
    #[must_use]
    pub const fn mib(n: u64) -> Self {
        Self(n << 20)
    }

    /// The size in bytes.
    #[must_use]
    pub const fn bytes(self) -> u64 {
        self.0
    }
}

impl FromStr for ByteSize {
    type Err = ByteSizeError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let trimmed = text.trim();
        let digits = trimmed.bytes().take_while(u8::is_ascii_digit).count();
        let (number, unit) = trimmed.split_at(digits);
        if number.is_empty() {
            return Err(ByteSizeError::Malformed(trimmed.to_owned()));
        }
        let unit = unit.trim_start();
        let scale = if unit.is_empty() {
            1
        } else {
            let lower = unit.to_ascii_lowercase();
            UNITS
                .iter()
                .find(|(name, _)| *name == lower)
                .map(|(_, scale)| *scale)
                .ok_or_else(|| ByteSizeError::UnknownUnit {
                    text: trimmed.to_owned(),
                    unit: unit.to_owned(),
                })?
        };
        let overflow = || ByteSizeError::Overflow(trimmed.to_owned());
        let value: u64 = number.parse().map_err(|_| overflow())?;
        value.checked_mul(scale).map(Self).ok_or_else(overflow)
    }
}

impl fmt::Display for ByteSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (name, shift) in [("GiB", 30), ("MiB", 20), ("KiB", 10)] {
            if self.0 != 0 && self.0.is_multiple_of(1 << shift) {
                return write!(f, "{}{name}", self.0 >> shift);
            }
        }
        write!(f, "{}B", self.0)
    }
}

impl Serialize for ByteSize {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct SizeVisitor;

        impl Visitor<'_> for SizeVisitor {
            type Value = ByteSize;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a size such as \"1MiB\" or a number of bytes")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<ByteSize, E> {
                v.parse().map_err(E::custom)
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<ByteSize, E> {
                Ok(ByteSize(v))
            }
        }

        d.deserialize_any(SizeVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_binary_and_decimal_units() {
        assert_eq!("1048576".parse(), Ok(ByteSize(1 << 20)));
        assert_eq!("1MiB".parse(), Ok(ByteSize::mib(1)));
        assert_eq!("512 KiB".parse(), Ok(ByteSize(512 * 1024)));
        assert_eq!("16mb".parse(), Ok(ByteSize(16_000_000)));
        assert_eq!("10B".parse(), Ok(ByteSize(10)));
    }

    #[test]
    fn bad_sizes_are_refused() {
        assert!(matches!(
            "MiB".parse::<ByteSize>(),
            Err(ByteSizeError::Malformed(_))
        ));
        assert!(matches!(
            "1TB".parse::<ByteSize>(),
            Err(ByteSizeError::UnknownUnit { .. })
        ));
        assert!(matches!(
            "99999999999GiB".parse::<ByteSize>(),
            Err(ByteSizeError::Overflow(_))
        ));
    }

    #[test]
    fn formatting_round_trips() {
        for (size, text) in [
            (ByteSize::mib(16), "16MiB"),
            (ByteSize(3072), "3KiB"),
            (ByteSize(1536), "1536B"),
            (ByteSize(1000), "1000B"),
            (ByteSize(0), "0B"),
        ] {
            assert_eq!(size.to_string(), text);
            assert_eq!(text.parse(), Ok(size));
        }
    }
}
