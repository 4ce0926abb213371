//! The node's session manager: sessions found by `kid`, opened and sealed
//! with optimistic concurrency (docs/PROTOCOL-PROFILE.md §3 step 7, §4;
//! PROTOCOL.md §7.1).
//!
//! Layer: node, over sage-store's [`SessionStore`]. Every request loads
//! the session from the store (sealed at rest), so every node sharing the
//! database serves it and a restart loses nothing. A record is accepted
//! only once its updated window is written back at the version it was
//! read at, in the same write as the RFC 9421 nonce of the request that
//! carried it (both are accepted or neither); on a lost race the session is reloaded and the record opened
//! again (it is then a replay, or the other writer's change is merged),
//! once. Send sequence numbers are claimed the same way, so a number is
//! never used twice whichever node answers; when the answer is computed in
//! the node (a receipt), the open, the answer and the seal share one write
//! ([`SessionManager::exchange`]). Within one node, the requests
//! of one session are serialised by an async mutex per session id, so
//! that they do not race each other for the row.
//!
//! What it keeps in memory: those mutexes (dropped when unused) and, per
//! `kid` it served, the session's expiry times, so that a record on a
//! session the store already treats as gone is refused as
//! `session.expired` rather than `session.unknown`. No secret is cached.

use core::time::Duration;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use getrandom::rand_core::UnwrapErr;
use sage_core::did::Did;
use sage_core::session::{Session, SessionError, SessionId};
use sage_core::time::Timestamp;
use sage_store::{
    ClaimedWrite, NonceClaim, SessionProgress, SessionRecord, SessionStore as _, Sessions,
    StoreError, StoredSession,
};
use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};
use zeroize::Zeroizing;

use crate::metrics;

/// At most this many `kid`s are remembered for expiry diagnostics; past
/// it the memory starts afresh (the only cost: `session.unknown` instead
/// of `session.expired` for a forgotten one).
const MAX_REMEMBERED: usize = 65_536;

/// What a `kid` names.
#[derive(Debug)]
pub(crate) enum Lookup {
    /// A live session, loaded.
    Live(Box<StoredSession>),
    /// No session: never issued here, closed, or forgotten.
    Unknown,
    /// A session past its lifetime policy.
    Expired,
}

/// Why a session operation failed.
#[derive(Debug)]
pub(crate) enum SessionFailure {
    /// The session refused the record (replay, window, tag, expiry).
    Session(SessionError),
    /// The session disappeared between two reads (closed or swept).
    Gone,
    /// The store could not answer.
    Store(StoreError),
    /// Another writer won the row twice in a row.
    Contention,
    /// The request's RFC 9421 nonce was seen before: nothing was written.
    NonceReplayed,
}

impl From<StoreError> for SessionFailure {
    fn from(error: StoreError) -> Self {
        Self::Store(error)
    }
}

/// Expiry times of a session this node served.
#[derive(Debug, Clone, Copy)]
struct Remembered {
    expires_at: Option<Timestamp>,
    idle_timeout: Duration,
    last_activity: Timestamp,
    spent: bool,
    counted: bool,
}

impl Remembered {
    fn of(stored: &StoredSession) -> Self {
        Self {
            expires_at: stored.record.expires_at,
            idle_timeout: stored.session.config().policy.idle_timeout,
            last_activity: stored.session.last_activity(),
            spent: false,
            counted: false,
        }
    }

    fn expired_at(&self, now: Timestamp) -> bool {
        let idle =
            !self.idle_timeout.is_zero() && now > after(self.last_activity, self.idle_timeout);
        self.spent || self.expires_at.is_some_and(|t| now > t) || idle
    }
}

/// Finds, opens and seals sessions.
#[derive(Debug)]
pub(crate) struct SessionManager {
    store: Sessions,
    locks: Mutex<HashMap<SessionId, Arc<AsyncMutex<()>>>>,
    remembered: Mutex<HashMap<String, Remembered>>,
}

impl SessionManager {
    pub(crate) fn new(store: Sessions) -> Self {
        Self {
            store,
            locks: Mutex::new(HashMap::new()),
            remembered: Mutex::new(HashMap::new()),
        }
    }

    /// Stores the session a handshake created, named `kid`, with `peer`.
    pub(crate) async fn create(
        &self,
        session: &Session,
        kid: &str,
        peer: &Did,
    ) -> Result<SessionRecord, StoreError> {
        let started = Instant::now();
        let record = self.store.create(session, kid, peer).await?;
        metrics::session_operation("create", started.elapsed());
        self.remember(
            kid,
            Remembered {
                expires_at: record.expires_at,
                idle_timeout: session.config().policy.idle_timeout,
                last_activity: record.last_activity,
                spent: false,
                counted: false,
            },
        );
        Ok(record)
    }

    /// The live session `kid` names at `now`.
    pub(crate) async fn find(&self, kid: &str, now: Timestamp) -> Result<Lookup, StoreError> {
        let Some(mut stored) = self.store.load_by_kid(kid, now).await? else {
            return Ok(self.forgotten(kid, now));
        };
        if stored.record.is_expired(now) || stored.session.check_lifetime(now).is_err() {
            return Ok(self.expire(kid, &stored.record.sid).await);
        }
        self.remember(kid, Remembered::of(&stored));
        Ok(Lookup::Live(Box::new(stored)))
    }

    /// Opens `record` on `stored` and persists the moved window, with
    /// the request's `nonce` when it has one, before returning the
    /// plaintext.
    pub(crate) async fn open(
        &self,
        kid: &str,
        stored: Box<StoredSession>,
        record: &[u8],
        nonce: Option<NonceClaim<'_>>,
        now: Timestamp,
    ) -> Result<(Zeroizing<Vec<u8>>, Box<StoredSession>), SessionFailure> {
        self.persisted(kid, stored, nonce, now, |session| {
            timed_decrypt(session, now, record).map(Zeroizing::new)
        })
        .await
    }

    /// Seals `plaintext` as the next outbound record of `stored`, claiming
    /// its sequence number in the store first.
    pub(crate) async fn seal(
        &self,
        kid: &str,
        stored: Box<StoredSession>,
        plaintext: &[u8],
        now: Timestamp,
    ) -> Result<Vec<u8>, SessionFailure> {
        self.persisted(kid, stored, None, now, |session| {
            timed_encrypt(session, now, plaintext)
        })
        .await
        .map(|(record, _)| record)
    }

    /// Opens `record`, answers its plaintext with `answer` and seals that
    /// answer, persisting the moved window, the request's `nonce` and the
    /// claimed send sequence in one conditional write: [`Self::open`] then [`Self::seal`] for an
    /// answer computed in this process (a receipt), where nothing leaves
    /// the node before the write, so one write does the work of two.
    /// `answer` may run again when the row changed under this node (the
    /// record is then opened again on the reloaded session).
    ///
    /// Returns the plaintext's length, the answer's length and the sealed
    /// answer.
    pub(crate) async fn exchange(
        &self,
        kid: &str,
        stored: Box<StoredSession>,
        record: &[u8],
        nonce: Option<NonceClaim<'_>>,
        now: Timestamp,
        answer: impl Fn(&[u8]) -> Zeroizing<Vec<u8>>,
    ) -> Result<(usize, usize, Vec<u8>), SessionFailure> {
        self.persisted(kid, stored, nonce, now, |session| {
            let plaintext = Zeroizing::new(timed_decrypt(session, now, record)?);
            let reply = answer(&plaintext);
            let sealed = timed_encrypt(session, now, &reply)?;
            Ok((plaintext.len(), reply.len(), sealed))
        })
        .await
        .map(|(exchanged, _)| exchanged)
    }

    /// Runs `operation` on the session under this node's lock of it and
    /// writes the counters and window it moved back at the version they
    /// were read at, together with `nonce` when there is one, before
    /// returning its result. On a lost race the session is reloaded and
    /// `operation` runs again, once (the store leaves a losing claim
    /// unrecorded, so it is claimed again).
    async fn persisted<T>(
        &self,
        kid: &str,
        mut stored: Box<StoredSession>,
        nonce: Option<NonceClaim<'_>>,
        now: Timestamp,
        mut operation: impl FnMut(&mut Session) -> Result<T, SessionError>,
    ) -> Result<(T, Box<StoredSession>), SessionFailure> {
        let sid = stored.record.sid.clone();
        let _guard = self.exclusive(&sid).await;
        for attempt in 0..2 {
            if attempt > 0 {
                stored = self.reload(&sid, now).await?;
            }
            let result = operation(&mut stored.session).map_err(SessionFailure::Session)?;
            let progress = SessionProgress::of(&stored.session);
            let version = stored.record.version;
            let written = match &nonce {
                None => self.store.update_window(&sid, version, &progress).await?,
                Some(claim) => {
                    match self
                        .store
                        .update_window_claiming(&sid, version, &progress, claim)
                        .await?
                    {
                        ClaimedWrite::Written => true,
                        ClaimedWrite::VersionChanged => false,
                        ClaimedWrite::NonceReplayed => return Err(SessionFailure::NonceReplayed),
                    }
                }
            };
            if written {
                stored.record.version = version.saturating_add(1);
                self.remember(kid, Remembered::of(&stored));
                return Ok((result, stored));
            }
            tracing::debug!(attempt, "session row changed under this node; reloading");
        }
        Err(SessionFailure::Contention)
    }

    async fn reload(
        &self,
        sid: &SessionId,
        now: Timestamp,
    ) -> Result<Box<StoredSession>, SessionFailure> {
        self.store
            .load(sid, now)
            .await?
            .map(Box::new)
            .ok_or(SessionFailure::Gone)
    }

    /// A session found past its policy: counted, swept, reported expired.
    async fn expire(&self, kid: &str, sid: &SessionId) -> Lookup {
        metrics::sessions_expired(1);
        if let Err(error) = self.store.delete(sid).await {
            tracing::warn!(%error, "an expired session could not be swept");
        }
        let mut remembered = self
            .remembered
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(entry) = remembered.get_mut(kid) {
            entry.spent = true;
            entry.counted = true;
        }
        Lookup::Expired
    }

    /// What to say about a `kid` the store does not know (any more): the
    /// store hides a session past its time limits, so one this node served
    /// is reported expired (and counted once).
    fn forgotten(&self, kid: &str, now: Timestamp) -> Lookup {
        let mut remembered = self
            .remembered
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        match remembered.get_mut(kid) {
            Some(entry) if entry.expired_at(now) => {
                if !core::mem::replace(&mut entry.counted, true) {
                    metrics::sessions_expired(1);
                }
                Lookup::Expired
            }
            _ => Lookup::Unknown,
        }
    }

    fn remember(&self, kid: &str, entry: Remembered) {
        let mut remembered = self
            .remembered
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if remembered.len() >= MAX_REMEMBERED && !remembered.contains_key(kid) {
            remembered.clear();
        }
        remembered.insert(kid.to_owned(), entry);
    }

    /// Holds the node-local lock of `sid` until the guard drops.
    async fn exclusive(&self, sid: &SessionId) -> SessionGuard<'_> {
        let lock = {
            let mut locks = self.locks.lock().unwrap_or_else(PoisonError::into_inner);
            Arc::clone(locks.entry(sid.clone()).or_default())
        };
        SessionGuard {
            manager: self,
            sid: sid.clone(),
            guard: Some(lock.lock_owned().await),
        }
    }
}

/// The lock of one session; dropping it removes the mutex from the map
/// when nobody else waits on it.
struct SessionGuard<'a> {
    manager: &'a SessionManager,
    sid: SessionId,
    guard: Option<OwnedMutexGuard<()>>,
}

impl Drop for SessionGuard<'_> {
    fn drop(&mut self) {
        drop(self.guard.take());
        let mut locks = self
            .manager
            .locks
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        // Clones are only taken under this map lock, so a count of one
        // (the map's) means no request holds or awaits this mutex.
        if locks
            .get(&self.sid)
            .is_some_and(|lock| Arc::strong_count(lock) == 1)
        {
            locks.remove(&self.sid);
        }
    }
}

/// Opens `record` on `session`, timed for the metrics.
fn timed_decrypt(
    session: &mut Session,
    now: Timestamp,
    record: &[u8],
) -> Result<Vec<u8>, SessionError> {
    let started = Instant::now();
    let opened = session.decrypt(now, record);
    metrics::session_operation("decrypt", started.elapsed());
    opened
}

/// Seals `plaintext` on `session`, timed for the metrics.
fn timed_encrypt(
    session: &mut Session,
    now: Timestamp,
    plaintext: &[u8],
) -> Result<Vec<u8>, SessionError> {
    let started = Instant::now();
    let sealed = session.encrypt(&mut UnwrapErr(getrandom::SysRng), now, plaintext);
    metrics::session_operation("encrypt", started.elapsed());
    sealed
}

/// `at + duration`, saturating.
fn after(at: Timestamp, duration: Duration) -> Timestamp {
    let secs = i64::try_from(duration.as_secs()).unwrap_or(i64::MAX);
    Timestamp::new(
        at.unix_seconds().saturating_add(secs),
        at.subsec_nanos().saturating_add(duration.subsec_nanos()),
    )
}
