//! Time at the database boundary, and the clock rule.
//!
//! **The clock rule: the application's clock, passed as `now`.** Every
//! store operation that depends on time takes `now` as a parameter; no
//! statement calls the database's `now()`/`CURRENT_TIMESTAMP`, and no
//! column has a time default. This matches sage-core, which is
//! clock-injected, so one instant decides both "is this session expired"
//! in the core and "is this row expired" in the database. Several nodes
//! sharing one PostgreSQL must therefore keep their clocks synchronised
//! (NTP); a skew of `d` moves every expiry by at most `d`.
//!
//! Representation: PostgreSQL `TIMESTAMPTZ` (microseconds, UTC); SQLite
//! `INTEGER` microseconds since the Unix epoch (SQLite has no time type,
//! and integers compare and index exactly). Both keep microseconds, so an
//! instant is truncated toward the past to a whole microsecond on the way
//! in, on both engines alike, and clamped to the years 0001–9999 (far
//! beyond any lifetime; "never" is expressed as `NULL`, not as a far date).

use sage_core::time::Timestamp;
use time::OffsetDateTime;

/// Where the store reads "now" when it needs it itself (the sweeper).
/// Everything else takes `now` from the caller.
pub trait Clock: Send + Sync + 'static {
    /// The current instant.
    fn now(&self) -> Timestamp;
}

/// The operating system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        system_now()
    }
}

/// The operating system's wall clock as a [`Timestamp`] (the epoch if the
/// clock reads before 1970).
pub fn system_now() -> Timestamp {
    match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => Timestamp::new(
            i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
            d.subsec_nanos(),
        ),
        Err(_) => Timestamp::default(),
    }
}

/// 0001-01-01T00:00:00Z in microseconds since the epoch.
const MIN_MICROS: i64 = -62_135_596_800_000_000;
/// 9999-12-31T23:59:59.999999Z in microseconds since the epoch.
const MAX_MICROS: i64 = 253_402_300_799_999_999;

/// Microseconds since the epoch, truncated toward the past and clamped.
pub(crate) fn to_micros(t: Timestamp) -> i64 {
    let micros = t.unix_nanos().div_euclid(1_000);
    i64::try_from(micros)
        .unwrap_or(if micros < 0 { MIN_MICROS } else { MAX_MICROS })
        .clamp(MIN_MICROS, MAX_MICROS)
}

/// The instant of a microsecond count.
pub(crate) fn from_micros(micros: i64) -> Timestamp {
    let secs = micros.div_euclid(1_000_000);
    // rem_euclid of 1e6 is in 0..1e6, so it fits in u32 and the product
    // stays below 1e9.
    let sub = u32::try_from(micros.rem_euclid(1_000_000)).unwrap_or(0);
    Timestamp::new(secs, sub * 1_000)
}

/// The PostgreSQL form: the same truncated, clamped instant.
pub(crate) fn to_offset(t: Timestamp) -> OffsetDateTime {
    let nanos = i128::from(to_micros(t)) * 1_000;
    // Clamped to years 1..=9999, which `time` always represents.
    OffsetDateTime::from_unix_timestamp_nanos(nanos).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// The instant of a PostgreSQL `TIMESTAMPTZ`.
pub(crate) fn from_offset(t: OffsetDateTime) -> Timestamp {
    Timestamp::new(t.unix_timestamp(), t.nanosecond())
}

/// A duration in whole microseconds (saturating).
pub(crate) fn duration_micros(d: core::time::Duration) -> i64 {
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX)
}

/// `t + d`, truncated and clamped like every stored instant.
pub(crate) fn micros_after(t: Timestamp, d: core::time::Duration) -> i64 {
    to_micros(t)
        .saturating_add(duration_micros(d))
        .clamp(MIN_MICROS, MAX_MICROS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn micros_truncate_toward_the_past_on_both_sides_of_the_epoch() {
        assert_eq!(to_micros(Timestamp::new(1, 999)), 1_000_000);
        assert_eq!(to_micros(Timestamp::new(1, 1_999)), 1_000_001);
        assert_eq!(to_micros(Timestamp::new(-1, 999_999_999)), -1);
        assert_eq!(from_micros(-1), Timestamp::new(-1, 999_999_000));
        assert_eq!(
            from_micros(to_micros(Timestamp::new(5, 123_456_000))),
            Timestamp::new(5, 123_456_000)
        );
    }

    #[test]
    fn far_instants_clamp_to_the_representable_years() {
        assert_eq!(
            to_micros(Timestamp::from_unix_seconds(i64::MAX)),
            MAX_MICROS
        );
        assert_eq!(
            to_micros(Timestamp::from_unix_seconds(i64::MIN)),
            MIN_MICROS
        );
        let far = to_offset(Timestamp::from_unix_seconds(i64::MAX));
        assert_eq!(far.year(), 9999);
        assert_eq!(
            from_offset(to_offset(Timestamp::new(7, 1_500))),
            Timestamp::new(7, 1_000)
        );
    }
}
