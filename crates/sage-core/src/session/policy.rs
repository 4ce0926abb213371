//! Session configuration and lifetime policy (PROTOCOL.md §7.1.5, §7.1.7).
//!
//! Lifetime is local policy, not wire format: an absolute age, an idle
//! timeout and a message budget. The core reads no clock; every check is
//! against the `now` the caller passes. A limit of zero disables that limit
//! (Go core `IsExpired`), and a limit is exceeded only when it is strictly
//! passed (`now > created + max_age`, as Go's `now.After(...)`).
//!
//! The message budget counts records **sent and received** together: the
//! Go core increments one counter in every successful encrypt and decrypt,
//! and a budget that spans both directions bounds what one session key
//! protects. Idle time restarts only on a successful send or receive.
//!
//! A clock that steps backwards is read as "no time passed", never as a
//! negative age.

use core::time::Duration;

use super::error::ExpiryReason;
use crate::time::Timestamp;

/// Lifetime limits of a session (§7.1.7). Zero disables a limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SessionPolicy {
    /// Absolute age after which the session expires (default 1 hour).
    pub max_age: Duration,
    /// Time without a successful send or receive after which the session
    /// expires (default 10 minutes).
    pub idle_timeout: Duration,
    /// Records sent plus records received after which the session expires
    /// (default 1000).
    pub max_messages: u64,
}

impl SessionPolicy {
    /// The Go core defaults: 1 h, 10 min, 1000 messages.
    pub const DEFAULT: Self = Self {
        max_age: Duration::from_secs(60 * 60),
        idle_timeout: Duration::from_secs(10 * 60),
        max_messages: 1000,
    };
}

impl Default for SessionPolicy {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Everything a session is configured with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SessionConfig {
    /// Records per key generation, `R` of §7.1.5 (default 256). Zero
    /// disables rotation (§18.2): every record uses the base key. Both peers
    /// must use the same value.
    pub rekey_interval: u64,
    /// Lifetime limits.
    pub policy: SessionPolicy,
}

impl SessionConfig {
    /// The Go core's default rekey interval.
    pub const DEFAULT_REKEY_INTERVAL: u64 = 256;

    /// Rekey every 256 records, default lifetime policy.
    pub const DEFAULT: Self = Self {
        rekey_interval: Self::DEFAULT_REKEY_INTERVAL,
        policy: SessionPolicy::DEFAULT,
    };
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// The clock-and-counter part of a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Lifetime {
    pub(crate) created: Timestamp,
    pub(crate) last_activity: Timestamp,
    pub(crate) message_count: u64,
}

impl Lifetime {
    pub(crate) const fn new(now: Timestamp) -> Self {
        Self {
            created: now,
            last_activity: now,
            message_count: 0,
        }
    }

    /// The first limit `now` passes, checked in the Go core's order.
    pub(crate) fn check(&self, policy: &SessionPolicy, now: Timestamp) -> Result<(), ExpiryReason> {
        if passed(policy.max_age, self.created, now) {
            return Err(ExpiryReason::MaxAge);
        }
        if passed(policy.idle_timeout, self.last_activity, now) {
            return Err(ExpiryReason::IdleTimeout);
        }
        if policy.max_messages > 0 && self.message_count >= policy.max_messages {
            return Err(ExpiryReason::MaxMessages);
        }
        Ok(())
    }

    /// One record was sent or accepted at `now`.
    pub(crate) fn record_activity(&mut self, now: Timestamp) {
        self.last_activity = self.last_activity.max(now);
        self.message_count = self.message_count.saturating_add(1);
    }
}

/// Whether more than `limit` (non-zero) passed from `since` to `now`.
fn passed(limit: Duration, since: Timestamp, now: Timestamp) -> bool {
    if limit.is_zero() {
        return false;
    }
    let elapsed = now.unix_nanos().saturating_sub(since.unix_nanos());
    u128::try_from(elapsed).is_ok_and(|elapsed| elapsed > limit.as_nanos())
}
