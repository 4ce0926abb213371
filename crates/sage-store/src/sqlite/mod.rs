//! The embedded SQLite engine (the default).
//!
//! Layer: engine. One database file in WAL mode, with `busy_timeout` and
//! the durability of [`SqliteDurability`]. Two pools over that file:
//!
//! - **one writer connection**: every statement that writes goes through
//!   it. SQLite admits one writer at a time anyway; a single connection
//!   queues writers in the pool (a cheap async wait) instead of letting
//!   them collide on the file lock, where SQLite's busy handler sleeps in
//!   milliseconds. This is what makes nonce checks fast under
//!   concurrency. Atomicity does not depend on it: every check-and-set is
//!   still one statement, so several processes on one file stay correct
//!   (they then wait on `busy_timeout`);
//! - **readers** (`max_connections`): WAL lets them read while the writer
//!   writes.
//!
//! Nonce checks, the hot path, are further grouped: concurrent checks are
//! decided together in one statement by a writer task (see
//! `nonce_writer`), with the same atomic upsert per nonce.
//!
//! An in-memory database (`sqlite::memory:`) uses the one writer connection
//! for reads too, since each connection would otherwise see its own.
//!
//! The statements live next to their store in `sessions`, `nonces` and
//! `dids`; the schema is `migrations/sqlite/`.

mod dids;
mod nonce_writer;
mod nonces;
mod registry;
mod sessions;

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

use sqlx::migrate::{Migrate, Migrator};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use crate::error::{FileAction, StoreError};
use crate::migrate::{self, MigrationReport, MigrationStatus};
use crate::model::SweepReport;
use crate::options::{SqliteDurability, StoreOptions};
use crate::seal::{KeyEncryptionKey, Sealer};
use crate::{DidStore, NonceStore};
use sage_core::time::Timestamp;

pub use sessions::SqliteSessions;

/// The migrations of `migrations/sqlite`, embedded at build time.
pub(crate) static MIGRATOR: Migrator = sqlx::migrate!("./migrations/sqlite");

/// Rows deleted per statement by the sweeping deletes, so that one sweep
/// never holds the writer for long.
pub(crate) const DELETE_BATCH: i64 = 5_000;

/// Nonces and DID records on SQLite; sessions through
/// [`SqliteStore::sessions`]. Cloning is cheap (the pools are shared).
#[derive(Debug, Clone)]
pub struct SqliteStore {
    writer: SqlitePool,
    reader: SqlitePool,
    nonces: nonce_writer::NonceWriter,
    /// The database file; `None` in memory.
    file: Option<PathBuf>,
}

impl SqliteStore {
    /// Opens (creating if missing) the database of `options.url`, and
    /// starts its nonce writer task on the current tokio runtime. Does not
    /// migrate: call [`SqliteStore::migrate_up`].
    ///
    /// # Errors
    /// [`StoreError::InvalidUrl`]; [`StoreError::Database`] when the file
    /// cannot be opened.
    pub async fn connect(options: &StoreOptions) -> Result<Self, StoreError> {
        let in_memory = is_in_memory(&options.url);
        let connect = SqliteConnectOptions::from_str(&options.url)
            .map_err(|_| StoreError::InvalidUrl)?
            .create_if_missing(true)
            .foreign_keys(true)
            .busy_timeout(options.sqlite_busy_timeout)
            .synchronous(match options.sqlite_durability {
                SqliteDurability::Normal => SqliteSynchronous::Normal,
                SqliteDurability::Full => SqliteSynchronous::Full,
            });
        let connect = if in_memory {
            connect
        } else {
            connect.journal_mode(SqliteJournalMode::Wal)
        };
        let file = (!in_memory).then(|| connect.get_filename().to_path_buf());
        let pool = |max: u32, min: u32| {
            SqlitePoolOptions::new()
                // A pooled handle to a local file does not go stale, and the
                // ping before each acquire would double the cost of a query.
                .test_before_acquire(false)
                .max_connections(max)
                .min_connections(min)
                .acquire_timeout(options.acquire_timeout)
                .idle_timeout(options.idle_timeout)
                .max_lifetime(options.max_lifetime)
        };
        // The writer connects first: it switches a new file to WAL, which
        // needs the database to itself.
        let writer = pool(1, options.min_connections.min(1))
            .connect_with(connect.clone())
            .await?;
        let reader = if in_memory {
            writer.clone()
        } else {
            pool(options.max_connections.max(1), options.min_connections)
                .connect_with(connect)
                .await?
        };
        Ok(Self {
            nonces: nonce_writer::NonceWriter::spawn(writer.clone()),
            writer,
            reader,
            file,
        })
    }

    /// The session store of this database, sealing under `kek`.
    pub fn sessions(&self, kek: &KeyEncryptionKey) -> SqliteSessions {
        SqliteSessions::new(self.clone(), Arc::new(Sealer::new(kek)))
    }

    /// The database file (`None` for an in-memory database).
    pub fn file(&self) -> Option<&Path> {
        self.file.as_deref()
    }

    /// Largest number of reader connections (the writer is always one).
    pub fn max_connections(&self) -> u32 {
        self.reader.options().get_max_connections()
    }

    /// Closes both pools, waiting for connections in use to come back.
    pub async fn close(&self) {
        self.writer.close().await;
        self.reader.close().await;
    }

    /// Checks that the database answers.
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.reader).await?;
        Ok(())
    }

    /// Applies every pending migration; returns what it applied.
    ///
    /// # Errors
    /// [`StoreError::Migrate`] (a failed, dirty or altered migration).
    pub async fn migrate_up(&self) -> Result<MigrationReport, StoreError> {
        let before = self.applied().await?;
        MIGRATOR.run(&self.writer).await?;
        Ok(migrate::applied_report(&MIGRATOR, &before))
    }

    /// Reverts the `count` most recently applied migrations (all of them if
    /// fewer are applied); returns what it reverted.
    ///
    /// # Errors
    /// [`StoreError::ZeroMigrations`]; [`StoreError::Migrate`].
    pub async fn migrate_down(&self, count: u32) -> Result<MigrationReport, StoreError> {
        let applied = self.applied().await?;
        let target = migrate::undo_target(&applied, count)?;
        MIGRATOR.undo(&self.writer, target).await?;
        Ok(migrate::reverted_report(&MIGRATOR, &applied, target))
    }

    /// Which migrations are known, applied and intact. Writes nothing.
    ///
    /// # Errors
    /// [`StoreError::Migrate`]; [`StoreError::Database`].
    pub async fn migration_status(&self) -> Result<MigrationStatus, StoreError> {
        let (applied, dirty) = self.applied_with_dirty().await?;
        Ok(migrate::status(&MIGRATOR, &applied, dirty))
    }

    async fn applied(&self) -> Result<Vec<sqlx::migrate::AppliedMigration>, StoreError> {
        Ok(self.applied_with_dirty().await?.0)
    }

    async fn applied_with_dirty(
        &self,
    ) -> Result<(Vec<sqlx::migrate::AppliedMigration>, Option<i64>), StoreError> {
        let exists: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
        )
        .fetch_optional(&self.reader)
        .await?;
        if exists.is_none() {
            return Ok((Vec::new(), None));
        }
        let mut conn = self.reader.acquire().await?;
        let dirty = conn.dirty_version(migrate::TABLE).await?;
        let applied = conn.list_applied_migrations(migrate::TABLE).await?;
        Ok((applied, dirty))
    }

    /// Deletes what expired at `now` in every table (one sweep).
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub async fn sweep(&self, now: Timestamp) -> Result<SweepReport, StoreError> {
        Ok(SweepReport {
            sessions: sessions::delete_expired(&self.writer, now).await?,
            nonces: NonceStore::delete_expired(self, now).await?,
            dids: DidStore::delete_stale(self, now).await?,
        })
    }

    /// Copies the live database to `target` with `VACUUM INTO` (SQLite's
    /// online backup: a consistent snapshot, taken while the store keeps
    /// serving).
    ///
    /// # Errors
    /// [`StoreError::BackupExists`]; [`StoreError::InMemory`];
    /// [`StoreError::Database`].
    pub async fn backup(&self, target: &Path) -> Result<u64, StoreError> {
        if self.file.is_none() {
            return Err(StoreError::InMemory);
        }
        if tokio::fs::try_exists(target).await.unwrap_or(true) {
            return Err(StoreError::BackupExists {
                path: target.to_path_buf(),
            });
        }
        let target_text = target.to_str().ok_or_else(|| StoreError::NonUtf8Path {
            path: target.to_path_buf(),
        })?;
        sqlx::query("VACUUM INTO $1")
            .bind(target_text)
            .execute(&self.reader)
            .await?;
        let size = tokio::fs::metadata(target)
            .await
            .map_err(|source| StoreError::Io {
                action: FileAction::Read,
                path: target.to_path_buf(),
                source,
            })?
            .len();
        Ok(size)
    }

    pub(crate) fn writer(&self) -> &SqlitePool {
        &self.writer
    }

    pub(crate) fn reader(&self) -> &SqlitePool {
        &self.reader
    }

    pub(crate) fn nonce_writer(&self) -> &nonce_writer::NonceWriter {
        &self.nonces
    }
}

/// Whether a SQLite URL names an in-memory database.
fn is_in_memory(url: &str) -> bool {
    url.contains(":memory:") || url.contains("mode=memory")
}

impl SqliteStore {
    pub(crate) async fn count_sessions(&self, now: Timestamp) -> Result<u64, StoreError> {
        sessions::count(&self.reader, now).await
    }
}
