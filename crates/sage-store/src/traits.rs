//! The three store interfaces: sessions, nonces, DID records.
//!
//! Layer: store API. Each is implemented for SQLite ([`crate::sqlite`]) and
//! PostgreSQL ([`crate::postgres`]), and by the engine-neutral
//! [`Store`](crate::Store) / [`Sessions`](crate::Sessions) that dispatch to
//! them. Methods return `Send` futures so that a multi-threaded server can
//! hold them across `.await`.
//!
//! Every method that depends on time takes `now` from the caller (see
//! [`crate::instant`] for the clock rule). Expired rows are treated as
//! gone by every read, whether or not the sweeper has deleted them yet.

use core::future::Future;
use core::time::Duration;

use sage_core::did::{AgentRecord, Did};
use sage_core::primitives::KeyType;
use sage_core::replay::ReplayVerdict;
use sage_core::session::{Session, SessionId};
use sage_core::time::Timestamp;

use crate::error::StoreError;
use crate::model::{
    CachedDid, ClaimedWrite, DidCursor, NonceClaim, Page, PageRequest, SessionCursor,
    SessionProgress, SessionRecord, StoredSession,
};

/// Sessions, with their secrets sealed at rest (see [`crate::seal`]).
///
/// Concurrency: a row carries a `version`. Writers that change replay
/// state pass the version they read; a write against a newer version
/// changes nothing and returns `Ok(false)`, so of two nodes that accepted
/// the same record, exactly one can persist it — the other must reject the
/// record (reload and decrypt again: it will now be a replay).
pub trait SessionStore: Send + Sync {
    /// Stores a new session for the peer `peer` that names it `kid`. The
    /// snapshot (with the seed) is sealed; the counters, window and times
    /// go to clear columns. The record starts at version 1.
    ///
    /// # Errors
    /// [`StoreError::DuplicateSession`] when the session id or `kid` is
    /// taken; [`StoreError::Session`] for an expired session;
    /// [`StoreError::TooLong`] for a `kid` over
    /// [`MAX_KID_LEN`](crate::model::MAX_KID_LEN) bytes; database errors.
    fn create(
        &self,
        session: &Session,
        kid: &str,
        peer: &Did,
    ) -> impl Future<Output = Result<SessionRecord, StoreError>> + Send;

    /// The clear record of a live session (nothing is decrypted).
    ///
    /// # Errors
    /// Database errors; [`StoreError::CorruptRow`].
    fn get(
        &self,
        sid: &SessionId,
        now: Timestamp,
    ) -> impl Future<Output = Result<Option<SessionRecord>, StoreError>> + Send;

    /// The clear record of the live session a key id names.
    ///
    /// # Errors
    /// As [`SessionStore::get`].
    fn get_by_kid(
        &self,
        kid: &str,
        now: Timestamp,
    ) -> impl Future<Output = Result<Option<SessionRecord>, StoreError>> + Send;

    /// Restores a live session: opens the sealed snapshot and applies the
    /// stored counters and replay window, so that a record accepted before
    /// (on any node, before any restart) stays rejected.
    ///
    /// # Errors
    /// [`StoreError::Unseal`] when the snapshot does not open under this
    /// store's key-encryption key; [`StoreError::CorruptRow`]; database
    /// errors.
    fn load(
        &self,
        sid: &SessionId,
        now: Timestamp,
    ) -> impl Future<Output = Result<Option<StoredSession>, StoreError>> + Send;

    /// [`SessionStore::load`] of the live session a key id names, in one
    /// read (the data plane's lookup).
    ///
    /// # Errors
    /// As [`SessionStore::load`].
    fn load_by_kid(
        &self,
        kid: &str,
        now: Timestamp,
    ) -> impl Future<Output = Result<Option<StoredSession>, StoreError>> + Send;

    /// Rewrites everything — sealed snapshot and clear columns — if the row
    /// is still at `expected_version`. Returns `Ok(false)` when another
    /// writer got there first (or the session is gone). The new version is
    /// `expected_version + 1`.
    ///
    /// # Errors
    /// [`StoreError::Session`] for an expired session; database errors.
    fn update(
        &self,
        session: &Session,
        expected_version: u64,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// The hot path: writes the counters, the replay window and the
    /// activity clock (not the sealed snapshot) if the row is still at
    /// `expected_version`. Returns `Ok(false)` on a lost race or when the
    /// session is gone; the new version is `expected_version + 1`. Activity
    /// never moves backwards.
    ///
    /// # Errors
    /// Database errors.
    fn update_window(
        &self,
        sid: &SessionId,
        expected_version: u64,
        progress: &SessionProgress,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// [`SessionStore::update_window`] and
    /// [`NonceStore::check_and_store`] of `claim` as one write: the window
    /// is written only if the nonce is fresh and the row is still at
    /// `expected_version`, and the nonce stays recorded only if the window
    /// was written. This is the data plane's last step: the record's window
    /// and the nonce of the request that carried it are accepted together
    /// or not at all, so a request refused here (or failed by the database)
    /// can be sent again as it was.
    ///
    /// On PostgreSQL it is one statement (one commit per record instead of
    /// two). On SQLite the nonce goes through the batched nonce writer
    /// first and is released again if the window write does not happen.
    ///
    /// # Errors
    /// [`StoreError::TooLong`] for a scope or nonce over its limit
    /// ([`MAX_SCOPE_LEN`](crate::MAX_SCOPE_LEN),
    /// [`MAX_NONCE_LEN`](crate::MAX_NONCE_LEN)); database errors.
    fn update_window_claiming(
        &self,
        sid: &SessionId,
        expected_version: u64,
        progress: &SessionProgress,
        claim: &NonceClaim<'_>,
    ) -> impl Future<Output = Result<ClaimedWrite, StoreError>> + Send;

    /// Records activity at `now` (restarting the idle timeout) on a live
    /// session. Never moves activity backwards, never revives an expired
    /// session, and does not change the version. `Ok(false)` when there is
    /// no live session `sid`.
    ///
    /// # Errors
    /// Database errors.
    fn touch(
        &self,
        sid: &SessionId,
        now: Timestamp,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Deletes a session; `Ok(false)` when there was none.
    ///
    /// # Errors
    /// Database errors.
    fn delete(&self, sid: &SessionId) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// The live sessions with `peer`, newest first.
    ///
    /// # Errors
    /// [`StoreError::BadPageLimit`]; database errors.
    fn list_by_peer(
        &self,
        peer: &Did,
        now: Timestamp,
        page: &PageRequest<SessionCursor>,
    ) -> impl Future<Output = Result<Page<SessionRecord, SessionCursor>, StoreError>> + Send;

    /// Number of live sessions.
    ///
    /// # Errors
    /// Database errors.
    fn count(&self, now: Timestamp) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Deletes every session past its absolute expiry or its idle expiry at
    /// `now`; returns how many.
    ///
    /// # Errors
    /// Database errors.
    fn delete_expired(
        &self,
        now: Timestamp,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;
}

/// Replay nonces: the database-backed counterpart of
/// [`sage_core::replay::ReplayStore`]. A nonce needs no session.
pub trait NonceStore: Send + Sync {
    /// Atomically: if `nonce` is not stored in `scope`, or is stored but
    /// expired at `now` (`expires_at <= now`), stores it until `expires_at`
    /// and answers [`ReplayVerdict::Fresh`]; otherwise answers
    /// [`ReplayVerdict::Replayed`]. One statement decides (an upsert whose
    /// affected-row count is the verdict), so of any number of callers on
    /// any number of nodes, exactly one gets `Fresh`.
    ///
    /// # Errors
    /// [`StoreError::TooLong`] for a scope or nonce over 512 bytes;
    /// database errors (callers fail closed: no answer is a rejection).
    fn check_and_store(
        &self,
        scope: &str,
        nonce: &str,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> impl Future<Output = Result<ReplayVerdict, StoreError>> + Send;

    /// Whether `nonce` is stored in `scope` and still remembered at `now`
    /// (`expires_at > now`). A read: it records nothing. The data plane
    /// asks it only about a request whose record was already refused as a
    /// replay, to tell a replayed request (`sig.replay`) from a replayed
    /// record under a new signature (`session.replay`).
    ///
    /// # Errors
    /// [`StoreError::TooLong`] as [`NonceStore::check_and_store`];
    /// database errors.
    fn is_remembered(
        &self,
        scope: &str,
        nonce: &str,
        now: Timestamp,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Number of nonces not expired at `now`.
    ///
    /// # Errors
    /// Database errors.
    fn count(&self, now: Timestamp) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Deletes every nonce expired at `now`; returns how many.
    ///
    /// # Errors
    /// Database errors.
    fn delete_expired(
        &self,
        now: Timestamp,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;
}

/// The cache of resolved DID records (AgentMetadataV4).
///
/// Positive entries live for a TTL and are never served stale (PROTOCOL.md
/// §9.5: no fallback to an older positive result). A revoked entry is a
/// tombstone: served however old, never cleared by [`DidStore::put`] or
/// [`DidStore::invalidate`] or the sweeper, only by [`DidStore::delete`].
pub trait DidStore: Send + Sync {
    /// Caches `record` as fetched at `fetched_at`, usable for `ttl`;
    /// replaces an earlier entry of the same DID (keeping a tombstone
    /// revoked).
    ///
    /// # Errors
    /// [`StoreError::Record`] for a key type without a registry integer;
    /// [`StoreError::TooLong`]; database errors.
    fn put(
        &self,
        record: &AgentRecord,
        fetched_at: Timestamp,
        ttl: Duration,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The entry of `did` if it is fresh at `now` or revoked.
    ///
    /// # Errors
    /// Database errors; [`StoreError::CorruptRow`].
    fn get(
        &self,
        did: &Did,
        now: Timestamp,
    ) -> impl Future<Output = Result<Option<CachedDid>, StoreError>> + Send;

    /// Marks `did` revoked at `now` (a tombstone). `Ok(false)` when it is
    /// not cached.
    ///
    /// # Errors
    /// Database errors.
    fn revoke(
        &self,
        did: &Did,
        now: Timestamp,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Drops the positive entry of `did`, so the next lookup resolves
    /// again. Tombstones stay. `Ok(false)` when there was no positive entry.
    ///
    /// # Errors
    /// Database errors.
    fn invalidate(&self, did: &Did) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Drops the entry of `did`, tombstone or not.
    ///
    /// # Errors
    /// Database errors.
    fn delete(&self, did: &Did) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// The fresh or revoked entries whose owner address is `owner`
    /// (compared case-insensitively), by DID.
    ///
    /// # Errors
    /// [`StoreError::BadPageLimit`]; database errors.
    fn list_by_owner(
        &self,
        owner: &str,
        now: Timestamp,
        page: &PageRequest<DidCursor>,
    ) -> impl Future<Output = Result<Page<CachedDid, DidCursor>, StoreError>> + Send;

    /// The DIDs of fresh or revoked entries that register the public key
    /// `key_data` of type `key_type`, by DID.
    ///
    /// # Errors
    /// Database errors.
    fn find_by_key(
        &self,
        key_type: KeyType,
        key_data: &[u8],
        now: Timestamp,
    ) -> impl Future<Output = Result<Vec<Did>, StoreError>> + Send;

    /// Deletes positive entries stale at `now`; returns how many.
    ///
    /// # Errors
    /// Database errors.
    fn delete_stale(&self, now: Timestamp) -> impl Future<Output = Result<u64, StoreError>> + Send;
}
