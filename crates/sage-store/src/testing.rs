//! Test support (feature `test-support`): the harness that runs one test
//! body on both engines, shared by this crate's tests and by every crate
//! whose tests need a real database (the registry's, for one).
//!
//! [`TestDb::sqlite`] is a fresh file in a temporary directory;
//! [`TestDb::postgres`] is a fresh schema (`test_<random>`) of the database
//! `SAGE_TEST_DATABASE_URL` names, selected through the connection's
//! `search_path`, and dropped when the `TestDb` is, so tests run in
//! parallel. Without that variable the PostgreSQL tests fail, unless
//! `SAGE_SKIP_POSTGRES=1` is set (then they print SKIPPED and pass).
//!
//! [`both_engines!`](crate::both_engines) turns `async fn name(db: &TestDb)`
//! into two tests, `sqlite::name` and `postgres::name`, on a multi-threaded
//! runtime. Never enable this feature outside tests: it panics on failure.
#![allow(clippy::unwrap_used, clippy::panic, missing_docs)]

use std::io::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use sage_core::time::Timestamp;

use crate::{Clock, Engine, Store, StoreOptions};

/// Set to `1` to let PostgreSQL tests pass without a database (loudly).
pub const SKIP_VAR: &str = "SAGE_SKIP_POSTGRES";
/// The PostgreSQL database the tests make their schemas in.
pub const URL_VAR: &str = "SAGE_TEST_DATABASE_URL";

/// One test's database.
#[derive(Debug)]
pub struct TestDb {
    pub options: StoreOptions,
    pub engine: Engine,
    /// The SQLite file, for tests that read it raw.
    pub file: Option<PathBuf>,
    _dir: Option<tempfile::TempDir>,
    _schema: Option<PgSchema>,
}

impl TestDb {
    /// A fresh SQLite database file.
    pub async fn sqlite() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("store.db");
        Self {
            options: StoreOptions::new(format!("sqlite://{}", file.display())),
            engine: Engine::Sqlite,
            file: Some(file),
            _dir: Some(dir),
            _schema: None,
        }
    }

    /// A fresh PostgreSQL schema; `None` only when `SAGE_SKIP_POSTGRES=1`
    /// and no URL is set.
    pub async fn postgres() -> Option<Self> {
        let Ok(base) = std::env::var(URL_VAR) else {
            if std::env::var(SKIP_VAR).as_deref() == Ok("1") {
                // Straight to the stderr handle, past the test harness's
                // output capture, so that the skip shows in every run.
                let _ = writeln!(
                    std::io::stderr(),
                    "SKIPPED: PostgreSQL test ({SKIP_VAR}=1 and {URL_VAR} unset); \
                     this run does NOT cover PostgreSQL"
                );
                return None;
            }
            panic!(
                "{URL_VAR} is not set: run `eval \"$(sudo scripts/ensure-postgres.sh | tail -n 1)\"` \
                 first (or set {SKIP_VAR}=1 on a machine without PostgreSQL)"
            );
        };
        let mut name = [0u8; 8];
        getrandom::fill(&mut name).unwrap();
        let schema = format!("test_{}", sage_core::encoding::hex_encode(&name));
        let admin = sqlx::PgPool::connect(&base).await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
            .execute(&admin)
            .await
            .unwrap();
        admin.close().await;
        let separator = if base.contains('?') { '&' } else { '?' };
        let url = format!("{base}{separator}options=-c%20search_path%3D{schema}");
        Some(Self {
            options: StoreOptions::new(url),
            engine: Engine::Postgres,
            file: None,
            _dir: None,
            _schema: Some(PgSchema { base, schema }),
        })
    }

    /// A connected, migrated store.
    pub async fn open(&self) -> Store {
        let store = self.open_unmigrated().await;
        store.migrate_up().await.unwrap();
        store
    }

    /// A connected store, migrations not run.
    pub async fn open_unmigrated(&self) -> Store {
        Store::connect(&self.options).await.unwrap()
    }
}

/// Drops the test schema, even when the test panicked.
#[derive(Debug)]
struct PgSchema {
    base: String,
    schema: String,
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        let base = self.base.clone();
        let schema = self.schema.clone();
        // Drop runs inside the test's runtime, which cannot block on
        // itself: a short-lived thread with its own runtime does the work.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                if let Ok(admin) = sqlx::PgPool::connect(&base).await {
                    let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                        "DROP SCHEMA IF EXISTS {schema} CASCADE"
                    )))
                    .execute(&admin)
                    .await;
                    admin.close().await;
                }
            });
        })
        .join();
    }
}

/// A clock the test moves by hand, in whole seconds.
#[derive(Debug)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    /// A clock standing at `t`.
    pub fn at(t: Timestamp) -> Arc<Self> {
        Arc::new(Self(AtomicI64::new(t.unix_seconds())))
    }

    /// Moves the clock to `t`.
    pub fn set(&self, t: Timestamp) {
        self.0.store(t.unix_seconds(), Ordering::SeqCst);
    }

    /// Moves the clock by `seconds`.
    pub fn advance(&self, seconds: i64) {
        self.0.fetch_add(seconds, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_unix_seconds(self.0.load(Ordering::SeqCst))
    }
}

/// Runs each named `async fn(&TestDb)` on SQLite and on PostgreSQL.
#[macro_export]
macro_rules! both_engines {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let db = $crate::testing::TestDb::sqlite().await;
                    super::$name(&db).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    if let Some(db) = $crate::testing::TestDb::postgres().await {
                        super::$name(&db).await;
                    }
                }
            )*
        }
    };
}
