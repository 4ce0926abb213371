//! The PostgreSQL engine, for several nodes sharing one database.
//!
//! Layer: engine. One pool sized by [`StoreOptions`]. Every
//! check-and-set is a single statement that PostgreSQL makes atomic under
//! the default READ COMMITTED isolation: an upsert on a unique key waits
//! for a concurrent inserter of the same key and then re-evaluates its
//! `WHERE` against the committed row; an `UPDATE ... WHERE version = $n`
//! re-checks the version after waiting for a concurrent updater. So no
//! statement here needs a stronger isolation level, an explicit lock or a
//! retry loop.
//!
//! The store works in the schema the connection's `search_path` selects
//! (`public` unless the URL sets `options=-c search_path=...`), and so do
//! its migrations and its backups. The statements live next to their store
//! in `sessions`, `nonces` and `dids`; the schema is `migrations/postgres/`.

mod dids;
#[macro_use]
mod nonces;
mod registry;
mod sessions;

use std::str::FromStr;
use std::sync::Arc;

use sage_core::time::Timestamp;
use sqlx::migrate::{Migrate, Migrator};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

use crate::error::StoreError;
use crate::migrate::{self, MigrationReport, MigrationStatus};
use crate::model::SweepReport;
use crate::options::StoreOptions;
use crate::seal::{KeyEncryptionKey, Sealer};
use crate::{DidStore, NonceStore};

pub use sessions::PgSessions;

/// The migrations of `migrations/postgres`, embedded at build time.
pub(crate) static MIGRATOR: Migrator = sqlx::migrate!("./migrations/postgres");

/// Rows deleted per statement by the sweeping deletes, so that one sweep
/// never holds many row locks at once.
pub(crate) const DELETE_BATCH: i64 = 5_000;

/// Nonces and DID records on PostgreSQL; sessions through
/// [`PgStore::sessions`]. Cloning is cheap (the pool is shared).
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
    options: Arc<StoreOptions>,
}

impl PgStore {
    /// Connects to the database of `options.url`. Does not migrate: call
    /// [`PgStore::migrate_up`].
    ///
    /// # Errors
    /// [`StoreError::InvalidUrl`]; [`StoreError::Database`] when no
    /// connection can be made.
    pub async fn connect(options: &StoreOptions) -> Result<Self, StoreError> {
        let connect = PgConnectOptions::from_str(&options.url)
            .map_err(|_| StoreError::InvalidUrl)?
            .application_name("sage-store");
        let pool = PgPoolOptions::new()
            .max_connections(options.max_connections.max(1))
            .min_connections(options.min_connections)
            .acquire_timeout(options.acquire_timeout)
            .idle_timeout(options.idle_timeout)
            .max_lifetime(options.max_lifetime)
            .connect_with(connect)
            .await?;
        Ok(Self {
            pool,
            options: Arc::new(options.clone()),
        })
    }

    /// The session store of this database, sealing under `kek`.
    pub fn sessions(&self, kek: &KeyEncryptionKey) -> PgSessions {
        PgSessions::new(self.clone(), Arc::new(Sealer::new(kek)))
    }

    /// The options the store was opened with.
    pub fn options(&self) -> &StoreOptions {
        &self.options
    }

    /// Largest number of pooled connections.
    pub fn max_connections(&self) -> u32 {
        self.pool.options().get_max_connections()
    }

    /// The schema the store's tables live in (`current_schema()`).
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub async fn schema(&self) -> Result<String, StoreError> {
        let schema: Option<String> = sqlx::query_scalar("SELECT current_schema()")
            .fetch_one(&self.pool)
            .await?;
        schema.ok_or(StoreError::corrupt(
            "search_path",
            "no schema of the search path exists",
        ))
    }

    /// Closes the pool, waiting for connections in use to come back.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Checks that the database answers.
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Applies every pending migration (under PostgreSQL's advisory lock,
    /// so nodes starting together migrate once); returns what it applied.
    ///
    /// # Errors
    /// [`StoreError::Migrate`].
    pub async fn migrate_up(&self) -> Result<MigrationReport, StoreError> {
        let before = self.applied_with_dirty().await?.0;
        MIGRATOR.run(&self.pool).await?;
        Ok(migrate::applied_report(&MIGRATOR, &before))
    }

    /// Reverts the `count` most recently applied migrations; returns what
    /// it reverted.
    ///
    /// # Errors
    /// [`StoreError::ZeroMigrations`]; [`StoreError::Migrate`].
    pub async fn migrate_down(&self, count: u32) -> Result<MigrationReport, StoreError> {
        let applied = self.applied_with_dirty().await?.0;
        let target = migrate::undo_target(&applied, count)?;
        MIGRATOR.undo(&self.pool, target).await?;
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

    async fn applied_with_dirty(
        &self,
    ) -> Result<(Vec<sqlx::migrate::AppliedMigration>, Option<i64>), StoreError> {
        let exists: bool = sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
            .fetch_one(&self.pool)
            .await?;
        if !exists {
            return Ok((Vec::new(), None));
        }
        let mut conn = self.pool.acquire().await?;
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
            sessions: sessions::delete_expired(&self.pool, now).await?,
            nonces: NonceStore::delete_expired(self, now).await?,
            dids: DidStore::delete_stale(self, now).await?,
        })
    }

    pub(crate) fn pool(&self) -> &PgPool {
        &self.pool
    }

    pub(crate) async fn count_sessions(&self, now: Timestamp) -> Result<u64, StoreError> {
        sessions::count(&self.pool, now).await
    }
}
