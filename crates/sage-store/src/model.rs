//! The values the stores take and return.
//!
//! Layer: store API, no SQL. [`SessionRecord`] is the clear (queryable,
//! non-secret) part of a stored session; [`SessionProgress`] is what moves
//! while records flow (counters, window, activity); [`StoredSession`] is a
//! restored, usable [`Session`]. [`CachedDid`] is one entry of the DID
//! record cache. Lists are paged by keyset ([`PageRequest`], [`Page`]), so
//! a page costs the same however deep it is.

use core::fmt;
use core::time::Duration;

use sage_core::did::{AgentRecord, Did};
use sage_core::session::{Role, Session, SessionId, WindowState};
use sage_core::time::Timestamp;

use crate::error::StoreError;

/// Largest page a list returns.
pub const MAX_PAGE_LIMIT: u32 = 1_000;
/// Longest key id (`kid`) stored, in bytes (the handshake's `kid-<uuid>` is 40).
pub const MAX_KID_LEN: usize = 255;
/// Longest nonce scope stored, in bytes.
pub const MAX_SCOPE_LEN: usize = 512;
/// Longest nonce stored, in bytes.
pub const MAX_NONCE_LEN: usize = 512;
/// Longest DID stored, in bytes.
pub const MAX_DID_LEN: usize = 512;

/// The clear columns of a stored session: everything but the sealed
/// snapshot. Nothing here is secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// The session id (primary key).
    pub sid: SessionId,
    /// The key id the peer names the session with (`kid → sid`).
    pub kid: String,
    /// The peer's DID.
    pub peer_did: Did,
    /// This side's role.
    pub role: Role,
    /// When the session was created.
    pub created_at: Timestamp,
    /// When a record was last sent or accepted (or the session touched).
    pub last_activity: Timestamp,
    /// Absolute expiry (`created_at + max_age`); `None` when the session
    /// has no age limit.
    pub expires_at: Option<Timestamp>,
    /// Idle expiry (`last_activity + idle_timeout`); `None` when the
    /// session has no idle limit.
    pub idle_expires_at: Option<Timestamp>,
    /// Records sent plus records accepted.
    pub message_count: u64,
    /// The next sequence number to send; `None` once exhausted.
    pub next_send_seq: Option<u64>,
    /// The inbound replay window.
    pub window: WindowState,
    /// The row version for optimistic concurrency: 1 at creation, plus one
    /// at every successful [`update`](crate::SessionStore::update) or
    /// [`update_window`](crate::SessionStore::update_window).
    pub version: u64,
}

impl SessionRecord {
    /// Whether the session is past either expiry at `now` (strictly, as
    /// the core's lifetime policy: expired when `now > limit`).
    pub fn is_expired(&self, now: Timestamp) -> bool {
        let micros = crate::instant::to_micros(now);
        let passed =
            |t: Option<Timestamp>| t.is_some_and(|t| crate::instant::to_micros(t) < micros);
        passed(self.expires_at) || passed(self.idle_expires_at)
    }
}

/// The RFC 9421 nonce of the request that carried a record, to be decided
/// in the same write as the window that record moved
/// ([`update_window_claiming`](crate::SessionStore::update_window_claiming)).
/// The fields mean what they mean to
/// [`check_and_store`](crate::NonceStore::check_and_store).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NonceClaim<'a> {
    /// The nonce's scope (the signature's `keyid`).
    pub scope: &'a str,
    /// The nonce.
    pub nonce: &'a str,
    /// When it is seen.
    pub now: Timestamp,
    /// Until when it must be remembered.
    pub expires_at: Timestamp,
}

/// What a window write with a nonce claim did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimedWrite {
    /// The nonce was fresh and is now recorded; the window is written and
    /// the row is at `expected_version + 1`.
    Written,
    /// The row is no longer at `expected_version` (another writer won, or
    /// the session is gone). Nothing is written and the nonce is not
    /// recorded, so the same claim may be tried again after a reload.
    VersionChanged,
    /// The nonce was seen before and is still remembered. Nothing is
    /// written.
    NonceReplayed,
}

/// What a session changes as records flow: the counters, the replay window
/// and the activity clock. Written by
/// [`update_window`](crate::SessionStore::update_window) without touching
/// the sealed snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionProgress {
    /// The next sequence number to send; `None` once exhausted.
    pub next_send_seq: Option<u64>,
    /// Records sent plus records accepted.
    pub message_count: u64,
    /// When a record was last sent or accepted.
    pub last_activity: Timestamp,
    /// The inbound replay window.
    pub window: WindowState,
}

impl SessionProgress {
    /// The progress of a live session.
    pub fn of(session: &Session) -> Self {
        Self {
            next_send_seq: session.next_send_seq(),
            message_count: session.message_count(),
            last_activity: session.last_activity(),
            window: session.replay_window(),
        }
    }
}

/// A session restored from the store: its clear record and the live
/// [`Session`], with the stored counters and window applied.
pub struct StoredSession {
    /// The clear columns, including the version to pass to the next update.
    pub record: SessionRecord,
    /// The session, ready to encrypt and decrypt.
    pub session: Session,
}

impl fmt::Debug for StoredSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `Session`'s own Debug prints no key material.
        f.debug_struct("StoredSession")
            .field("record", &self.record)
            .field("session", &self.session)
            .finish()
    }
}

/// One entry of the DID record cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedDid {
    /// The registry record as resolved.
    pub record: AgentRecord,
    /// Set by [`revoke`](crate::DidStore::revoke): a tombstone, kept
    /// however old it gets (negative caching, PROTOCOL.md §9.5).
    pub revoked: bool,
    /// When it was revoked.
    pub revoked_at: Option<Timestamp>,
    /// When the record was fetched from the registry.
    pub fetched_at: Timestamp,
    /// When the record stops being served (`fetched_at + ttl`); ignored for
    /// tombstones.
    pub stale_at: Timestamp,
}

impl CachedDid {
    /// Whether the entry may be trusted at `now`: revoked entries never
    /// are; others until they go stale.
    pub fn is_usable(&self, now: Timestamp) -> bool {
        !self.revoked && self.record.is_active && now < self.stale_at
    }

    /// The time to live it was cached with.
    pub fn ttl(&self) -> Duration {
        let nanos = self.stale_at.unix_nanos() - self.fetched_at.unix_nanos();
        u64::try_from(nanos).map_or(Duration::ZERO, Duration::from_nanos)
    }
}

/// Where a list starts and how much it returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest<C> {
    /// Largest number of items, 1..=[`MAX_PAGE_LIMIT`].
    pub limit: u32,
    /// Continue after this cursor (`None` for the first page).
    pub after: Option<C>,
}

impl<C> PageRequest<C> {
    /// The first page of at most `limit` items.
    pub fn first(limit: u32) -> Self {
        Self { limit, after: None }
    }

    /// The limit, checked.
    pub(crate) fn checked_limit(&self) -> Result<i64, StoreError> {
        if (1..=MAX_PAGE_LIMIT).contains(&self.limit) {
            Ok(i64::from(self.limit))
        } else {
            Err(StoreError::BadPageLimit {
                max: MAX_PAGE_LIMIT,
            })
        }
    }
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T, C> {
    /// The items, in list order.
    pub items: Vec<T>,
    /// The request for the next page, when this one was full.
    pub next: Option<PageRequest<C>>,
}

impl<T, C> Page<T, C> {
    pub(crate) fn new(items: Vec<T>, limit: u32, cursor: impl Fn(&T) -> C) -> Self {
        let full = u32::try_from(items.len()).is_ok_and(|n| n == limit);
        let next = items.last().filter(|_| full).map(|last| PageRequest {
            limit,
            after: Some(cursor(last)),
        });
        Self { items, next }
    }
}

/// Position in a list of sessions (newest first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionCursor {
    /// Creation time of the last item seen.
    pub created_at: Timestamp,
    /// Its session id (the tie-breaker).
    pub sid: SessionId,
}

impl SessionCursor {
    pub(crate) fn of(record: &SessionRecord) -> Self {
        Self {
            created_at: record.created_at,
            sid: record.sid.clone(),
        }
    }
}

/// Position in a list of DIDs (by DID).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DidCursor {
    /// The last DID seen.
    pub did: String,
}

impl DidCursor {
    pub(crate) fn of(entry: &CachedDid) -> Self {
        Self {
            did: entry.record.did.as_str().to_owned(),
        }
    }
}

/// Deletions of one sweep.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SweepReport {
    /// Sessions past their absolute or idle expiry.
    pub sessions: u64,
    /// Nonces past their expiry.
    pub nonces: u64,
    /// Stale DID records (tombstones are kept).
    pub dids: u64,
}

pub(crate) fn check_len(field: &'static str, value: &str, max: usize) -> Result<(), StoreError> {
    if value.len() > max {
        Err(StoreError::TooLong { field, max })
    } else {
        Ok(())
    }
}

/// `u64` counters live in signed 64-bit columns as the same 64 bits.
pub(crate) const fn to_db_u64(value: u64) -> i64 {
    value.cast_signed()
}

pub(crate) const fn from_db_u64(value: i64) -> u64 {
    value.cast_unsigned()
}

pub(crate) const fn role_code(role: Role) -> i16 {
    match role {
        Role::Initiator => 0,
        Role::Responder => 1,
    }
}

pub(crate) fn role_of_code(code: i16) -> Result<Role, StoreError> {
    match code {
        0 => Ok(Role::Initiator),
        1 => Ok(Role::Responder),
        _ => Err(StoreError::corrupt("sessions", "role is neither 0 nor 1")),
    }
}

/// The owner column: the address lower-cased, so that EIP-55 mixed-case
/// and lower-case spellings of one address match.
pub(crate) fn owner_key(owner: &str) -> String {
    owner.to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_has_a_next_request_only_when_full() {
        let page = Page::new(vec![1, 2, 3], 3, |n| *n);
        assert_eq!(
            page.next,
            Some(PageRequest {
                limit: 3,
                after: Some(3)
            })
        );
        let page = Page::new(vec![1, 2], 3, |n| *n);
        assert_eq!(page.next, None);
    }

    #[test]
    fn page_limit_outside_one_to_max_is_refused() {
        assert!(PageRequest::<()>::first(0).checked_limit().is_err());
        assert!(
            PageRequest::<()>::first(MAX_PAGE_LIMIT + 1)
                .checked_limit()
                .is_err()
        );
        assert_eq!(PageRequest::<()>::first(5).checked_limit().unwrap(), 5);
    }

    #[test]
    fn counters_keep_all_64_bits() {
        for value in [0, 1, u64::MAX, 1 << 63] {
            assert_eq!(from_db_u64(to_db_u64(value)), value);
        }
    }
}
