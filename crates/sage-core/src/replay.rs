//! Replay memory, injected by the caller.
//!
//! The core never owns storage. Wherever a rule says "reject a value seen
//! before" (RFC 9421 nonces per `keyid`, §5.5 step 5; handshake nonces per
//! context id, §6.5), the core asks a [`ReplayStore`]. A node backs it with
//! its database so that replays stay rejected across restarts and across
//! nodes; [`MemoryReplayStore`] is the in-process implementation.
//!
//! Invariant: `check_and_store` is atomic. Of any number of callers racing
//! with the same `(scope, value)` that has not expired, exactly one gets
//! [`ReplayVerdict::Fresh`].

use std::collections::HashMap;

use crate::time::Timestamp;

/// What a replay store answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplayVerdict {
    /// Never seen (or seen but expired): it is now stored.
    Fresh,
    /// Seen before and not yet expired.
    Replayed,
}

/// The replay store could not answer (its backend failed). Callers fail
/// closed: an unanswered check is a rejection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplayStoreUnavailable;

impl core::fmt::Display for ReplayStoreUnavailable {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("replay store unavailable")
    }
}

impl std::error::Error for ReplayStoreUnavailable {}

/// Remembers values per scope until they expire.
pub trait ReplayStore {
    /// Atomically checks whether `value` was seen in `scope` and, if not (or
    /// if the earlier entry expired at or before `now`), stores it until
    /// `expires_at`.
    ///
    /// # Errors
    /// [`ReplayStoreUnavailable`] when the backend cannot answer.
    fn check_and_store(
        &mut self,
        scope: &str,
        value: &str,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<ReplayVerdict, ReplayStoreUnavailable>;
}

impl<T: ReplayStore + ?Sized> ReplayStore for &mut T {
    fn check_and_store(
        &mut self,
        scope: &str,
        value: &str,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<ReplayVerdict, ReplayStoreUnavailable> {
        (**self).check_and_store(scope, value, now, expires_at)
    }
}

/// In-memory [`ReplayStore`], bounded by a capacity. When full, expired
/// entries are swept; if it is still full, it fails closed
/// ([`ReplayStoreUnavailable`]) rather than forgetting live entries.
#[derive(Debug)]
pub struct MemoryReplayStore {
    entries: HashMap<(String, String), Timestamp>,
    capacity: usize,
}

impl MemoryReplayStore {
    /// Default capacity: one million live entries.
    pub const DEFAULT_CAPACITY: usize = 1_000_000;

    /// An empty store with [`Self::DEFAULT_CAPACITY`].
    pub fn new() -> Self {
        Self::with_capacity(Self::DEFAULT_CAPACITY)
    }

    /// An empty store holding at most `capacity` live entries.
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            entries: HashMap::new(),
            capacity,
        }
    }

    /// Number of stored entries (live or not yet swept).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Removes entries that expired at or before `now`; returns how many.
    pub fn sweep(&mut self, now: Timestamp) -> usize {
        let before = self.entries.len();
        self.entries.retain(|_, exp| *exp > now);
        before - self.entries.len()
    }
}

impl Default for MemoryReplayStore {
    fn default() -> Self {
        Self::new()
    }
}

impl ReplayStore for MemoryReplayStore {
    fn check_and_store(
        &mut self,
        scope: &str,
        value: &str,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<ReplayVerdict, ReplayStoreUnavailable> {
        let key = (scope.to_owned(), value.to_owned());
        if let Some(exp) = self.entries.get(&key) {
            if *exp > now {
                return Ok(ReplayVerdict::Replayed);
            }
        } else if self.entries.len() >= self.capacity {
            self.sweep(now);
            if self.entries.len() >= self.capacity {
                return Err(ReplayStoreUnavailable);
            }
        }
        self.entries.insert(key, expires_at);
        Ok(ReplayVerdict::Fresh)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: i64) -> Timestamp {
        Timestamp::from_unix_seconds(s)
    }

    #[test]
    fn second_use_in_scope_is_a_replay_until_expiry() {
        let mut s = MemoryReplayStore::new();
        assert_eq!(
            s.check_and_store("k", "n", t(0), t(10)),
            Ok(ReplayVerdict::Fresh)
        );
        assert_eq!(
            s.check_and_store("k", "n", t(5), t(15)),
            Ok(ReplayVerdict::Replayed)
        );
        assert_eq!(
            s.check_and_store("other", "n", t(5), t(15)),
            Ok(ReplayVerdict::Fresh)
        );
        assert_eq!(
            s.check_and_store("k", "n", t(10), t(20)),
            Ok(ReplayVerdict::Fresh)
        );
    }

    #[test]
    fn full_store_fails_closed() {
        let mut s = MemoryReplayStore::with_capacity(1);
        assert_eq!(
            s.check_and_store("k", "a", t(0), t(10)),
            Ok(ReplayVerdict::Fresh)
        );
        assert_eq!(
            s.check_and_store("k", "b", t(1), t(10)),
            Err(ReplayStoreUnavailable)
        );
        assert_eq!(
            s.check_and_store("k", "b", t(10), t(20)),
            Ok(ReplayVerdict::Fresh)
        );
    }
}
