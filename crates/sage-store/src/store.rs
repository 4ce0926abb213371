//! The engine-neutral store: one type the node and the CLI open from a URL.
//!
//! Layer: store API. [`Store`] and [`Sessions`] pick the engine at
//! [`Store::connect`] from the URL scheme and forward every call to
//! [`SqliteStore`] or [`PgStore`]; they add no behaviour of their own.

use core::time::Duration;
use std::path::Path;

use sage_core::did::{AgentRecord, Did};
use sage_core::primitives::KeyType;
use sage_core::replay::ReplayVerdict;
use sage_core::session::{Session, SessionId};
use sage_core::time::Timestamp;

use crate::error::StoreError;
use crate::migrate::{MigrationReport, MigrationStatus};
use crate::model::{
    CachedDid, ClaimedWrite, DidCursor, NonceClaim, Page, PageRequest, SessionCursor,
    SessionProgress, SessionRecord, StoredSession, SweepReport,
};
use crate::options::{Engine, StoreOptions};
use crate::postgres::{PgSessions, PgStore};
use crate::seal::KeyEncryptionKey;
use crate::sqlite::{SqliteSessions, SqliteStore};
use crate::traits::{DidStore, NonceStore, SessionStore};

/// Nonces, DID records, migrations and sweeping on either engine; sessions
/// through [`Store::sessions`]. Cloning is cheap (pools are shared).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Store {
    /// Embedded SQLite.
    Sqlite(SqliteStore),
    /// PostgreSQL.
    Postgres(PgStore),
}

/// Forwards a call to the engine's store.
macro_rules! forward {
    ($self:expr, $store:ident => $call:expr) => {
        match $self {
            Store::Sqlite($store) => $call,
            Store::Postgres($store) => $call,
        }
    };
}

impl Store {
    /// Opens the store `options.url` names (`sqlite:` or `postgres:`).
    /// Does not migrate: call [`Store::migrate_up`].
    ///
    /// # Errors
    /// [`StoreError::UnsupportedScheme`]; [`StoreError::InvalidUrl`];
    /// [`StoreError::Database`].
    pub async fn connect(options: &StoreOptions) -> Result<Self, StoreError> {
        Ok(match options.engine()? {
            Engine::Sqlite => Self::Sqlite(SqliteStore::connect(options).await?),
            Engine::Postgres => Self::Postgres(PgStore::connect(options).await?),
        })
    }

    /// The engine.
    pub fn engine(&self) -> Engine {
        match self {
            Self::Sqlite(_) => Engine::Sqlite,
            Self::Postgres(_) => Engine::Postgres,
        }
    }

    /// The session store, sealing under `kek`.
    pub fn sessions(&self, kek: &KeyEncryptionKey) -> Sessions {
        match self {
            Self::Sqlite(s) => Sessions::Sqlite(s.sessions(kek)),
            Self::Postgres(s) => Sessions::Postgres(s.sessions(kek)),
        }
    }

    /// Largest number of pooled connections (for SQLite: readers; the
    /// writer is one connection).
    pub fn max_connections(&self) -> u32 {
        forward!(self, s => s.max_connections())
    }

    /// Checks that the database answers.
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub async fn ping(&self) -> Result<(), StoreError> {
        forward!(self, s => s.ping().await)
    }

    /// Closes the pools, waiting for connections in use to come back.
    pub async fn close(&self) {
        forward!(self, s => s.close().await);
    }

    /// Applies every pending migration.
    ///
    /// # Errors
    /// [`StoreError::Migrate`].
    pub async fn migrate_up(&self) -> Result<MigrationReport, StoreError> {
        forward!(self, s => s.migrate_up().await)
    }

    /// Reverts the `count` newest applied migrations.
    ///
    /// # Errors
    /// [`StoreError::ZeroMigrations`]; [`StoreError::Migrate`].
    pub async fn migrate_down(&self, count: u32) -> Result<MigrationReport, StoreError> {
        forward!(self, s => s.migrate_down(count).await)
    }

    /// Which migrations are known and applied. Writes nothing.
    ///
    /// # Errors
    /// [`StoreError::Migrate`]; [`StoreError::Database`].
    pub async fn migration_status(&self) -> Result<MigrationStatus, StoreError> {
        forward!(self, s => s.migration_status().await)
    }

    /// One sweep: deletes expired sessions and nonces and stale DID
    /// records as of `now`.
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub async fn sweep(&self, now: Timestamp) -> Result<SweepReport, StoreError> {
        forward!(self, s => s.sweep(now).await)
    }

    /// Number of live sessions at `now` (needs no key).
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub async fn count_sessions(&self, now: Timestamp) -> Result<u64, StoreError> {
        forward!(self, s => s.count_sessions(now).await)
    }

    /// Writes a backup to `file` (see [`crate::backup`]); returns its size
    /// in bytes.
    ///
    /// # Errors
    /// As [`crate::backup::backup`].
    pub async fn backup(&self, file: &Path) -> Result<u64, StoreError> {
        crate::backup::backup(self, file).await
    }
}

impl NonceStore for Store {
    async fn check_and_store(
        &self,
        scope: &str,
        nonce: &str,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<ReplayVerdict, StoreError> {
        forward!(self, s => s.check_and_store(scope, nonce, now, expires_at).await)
    }

    async fn is_remembered(
        &self,
        scope: &str,
        nonce: &str,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        forward!(self, s => s.is_remembered(scope, nonce, now).await)
    }

    async fn count(&self, now: Timestamp) -> Result<u64, StoreError> {
        forward!(self, s => NonceStore::count(s, now).await)
    }

    async fn delete_expired(&self, now: Timestamp) -> Result<u64, StoreError> {
        forward!(self, s => NonceStore::delete_expired(s, now).await)
    }
}

impl DidStore for Store {
    async fn put(
        &self,
        record: &AgentRecord,
        fetched_at: Timestamp,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        forward!(self, s => s.put(record, fetched_at, ttl).await)
    }

    async fn get(&self, did: &Did, now: Timestamp) -> Result<Option<CachedDid>, StoreError> {
        forward!(self, s => DidStore::get(s, did, now).await)
    }

    async fn revoke(&self, did: &Did, now: Timestamp) -> Result<bool, StoreError> {
        forward!(self, s => s.revoke(did, now).await)
    }

    async fn invalidate(&self, did: &Did) -> Result<bool, StoreError> {
        forward!(self, s => s.invalidate(did).await)
    }

    async fn delete(&self, did: &Did) -> Result<bool, StoreError> {
        forward!(self, s => DidStore::delete(s, did).await)
    }

    async fn list_by_owner(
        &self,
        owner: &str,
        now: Timestamp,
        page: &PageRequest<DidCursor>,
    ) -> Result<Page<CachedDid, DidCursor>, StoreError> {
        forward!(self, s => s.list_by_owner(owner, now, page).await)
    }

    async fn find_by_key(
        &self,
        key_type: KeyType,
        key_data: &[u8],
        now: Timestamp,
    ) -> Result<Vec<Did>, StoreError> {
        forward!(self, s => s.find_by_key(key_type, key_data, now).await)
    }

    async fn delete_stale(&self, now: Timestamp) -> Result<u64, StoreError> {
        forward!(self, s => s.delete_stale(now).await)
    }
}

/// Sessions on either engine, sealing under one key-encryption key.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Sessions {
    /// Embedded SQLite.
    Sqlite(SqliteSessions),
    /// PostgreSQL.
    Postgres(PgSessions),
}

/// Forwards a call to the engine's session store.
macro_rules! forward_sessions {
    ($self:expr, $store:ident => $call:expr) => {
        match $self {
            Sessions::Sqlite($store) => $call,
            Sessions::Postgres($store) => $call,
        }
    };
}

impl SessionStore for Sessions {
    async fn create(
        &self,
        session: &Session,
        kid: &str,
        peer: &Did,
    ) -> Result<SessionRecord, StoreError> {
        forward_sessions!(self, s => s.create(session, kid, peer).await)
    }

    async fn get(
        &self,
        sid: &SessionId,
        now: Timestamp,
    ) -> Result<Option<SessionRecord>, StoreError> {
        forward_sessions!(self, s => s.get(sid, now).await)
    }

    async fn get_by_kid(
        &self,
        kid: &str,
        now: Timestamp,
    ) -> Result<Option<SessionRecord>, StoreError> {
        forward_sessions!(self, s => s.get_by_kid(kid, now).await)
    }

    async fn load(
        &self,
        sid: &SessionId,
        now: Timestamp,
    ) -> Result<Option<StoredSession>, StoreError> {
        forward_sessions!(self, s => s.load(sid, now).await)
    }

    async fn load_by_kid(
        &self,
        kid: &str,
        now: Timestamp,
    ) -> Result<Option<StoredSession>, StoreError> {
        forward_sessions!(self, s => s.load_by_kid(kid, now).await)
    }

    async fn update(&self, session: &Session, expected_version: u64) -> Result<bool, StoreError> {
        forward_sessions!(self, s => s.update(session, expected_version).await)
    }

    async fn update_window(
        &self,
        sid: &SessionId,
        expected_version: u64,
        progress: &SessionProgress,
    ) -> Result<bool, StoreError> {
        forward_sessions!(self, s => s.update_window(sid, expected_version, progress).await)
    }

    async fn update_window_claiming(
        &self,
        sid: &SessionId,
        expected_version: u64,
        progress: &SessionProgress,
        claim: &NonceClaim<'_>,
    ) -> Result<ClaimedWrite, StoreError> {
        forward_sessions!(self, s => s.update_window_claiming(sid, expected_version, progress, claim).await)
    }

    async fn touch(&self, sid: &SessionId, now: Timestamp) -> Result<bool, StoreError> {
        forward_sessions!(self, s => s.touch(sid, now).await)
    }

    async fn delete(&self, sid: &SessionId) -> Result<bool, StoreError> {
        forward_sessions!(self, s => s.delete(sid).await)
    }

    async fn list_by_peer(
        &self,
        peer: &Did,
        now: Timestamp,
        page: &PageRequest<SessionCursor>,
    ) -> Result<Page<SessionRecord, SessionCursor>, StoreError> {
        forward_sessions!(self, s => s.list_by_peer(peer, now, page).await)
    }

    async fn count(&self, now: Timestamp) -> Result<u64, StoreError> {
        forward_sessions!(self, s => s.count(now).await)
    }

    async fn delete_expired(&self, now: Timestamp) -> Result<u64, StoreError> {
        forward_sessions!(self, s => s.delete_expired(now).await)
    }
}
