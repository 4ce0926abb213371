//! Test databases and fixtures shared by every suite.
//!
//! [`TestDb::sqlite`] is a fresh file in a temporary directory;
//! [`TestDb::postgres`] is a fresh schema (`test_<random>`) of the database
//! `SAGE_TEST_DATABASE_URL` names, selected through the connection's
//! `search_path`, and dropped when the `TestDb` is, so tests run in
//! parallel. Without that variable the PostgreSQL tests fail, unless
//! `SAGE_SKIP_POSTGRES=1` is set (then they print SKIPPED and pass).
//!
//! [`both_engines!`] turns `async fn name(db: &TestDb)` into two tests,
//! `sqlite::name` and `postgres::name`, on a multi-threaded runtime.

use std::io::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use sage_core::did::{Chain, Did};
use sage_core::session::{Role, Session, SessionConfig, SessionSeed};
use sage_core::time::Timestamp;
use sage_core::version::ProtocolVersion;
use sage_store::{Clock, Engine, KeyEncryptionKey, Store, StoreOptions};

/// Start of every test's timeline (2026-01-01T00:00:00Z).
pub(crate) const T0: Timestamp = Timestamp::from_unix_seconds(1_767_225_600);

pub(crate) const SKIP_VAR: &str = "SAGE_SKIP_POSTGRES";
pub(crate) const URL_VAR: &str = "SAGE_TEST_DATABASE_URL";

/// One test's database.
pub(crate) struct TestDb {
    pub(crate) options: StoreOptions,
    pub(crate) engine: Engine,
    /// The SQLite file, for tests that read it raw.
    pub(crate) file: Option<PathBuf>,
    _dir: Option<tempfile::TempDir>,
    _schema: Option<PgSchema>,
}

impl TestDb {
    pub(crate) async fn sqlite() -> Self {
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

    /// `None` only when `SAGE_SKIP_POSTGRES=1` and no URL is set.
    pub(crate) async fn postgres() -> Option<Self> {
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
        let schema = format!("test_{}", hex(&name));
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
    pub(crate) async fn open(&self) -> Store {
        let store = self.open_unmigrated().await;
        store.migrate_up().await.unwrap();
        store
    }

    pub(crate) async fn open_unmigrated(&self) -> Store {
        Store::connect(&self.options).await.unwrap()
    }
}

/// Drops the test schema, even when the test panicked.
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

/// Runs each named `async fn(&TestDb)` on SQLite and on PostgreSQL.
macro_rules! both_engines {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let db = $crate::common::TestDb::sqlite().await;
                    super::$name(&db).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    if let Some(db) = $crate::common::TestDb::postgres().await {
                        super::$name(&db).await;
                    }
                }
            )*
        }
    };
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) fn kek() -> KeyEncryptionKey {
    KeyEncryptionKey::from_bytes([0x5a; 32])
}

pub(crate) fn rng() -> impl rand_core::CryptoRng {
    getrandom::rand_core::UnwrapErr(getrandom::SysRng)
}

pub(crate) fn did(name: &str) -> Did {
    Did::new(Chain::Ethereum, name).unwrap()
}

pub(crate) fn random_seed() -> [u8; 32] {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).unwrap();
    seed
}

/// Both ends of one session made at `now` from `seed`: (initiator, responder).
pub(crate) fn session_pair(
    seed: [u8; 32],
    config: SessionConfig,
    now: Timestamp,
) -> (Session, Session) {
    let v = ProtocolVersion::V1Draft1;
    (
        Session::from_handshake_seed(
            v,
            Role::Initiator,
            SessionSeed::from_bytes(seed),
            config,
            now,
        ),
        Session::from_handshake_seed(
            v,
            Role::Responder,
            SessionSeed::from_bytes(seed),
            config,
            now,
        ),
    )
}

/// A clock the test moves by hand.
#[derive(Debug)]
pub(crate) struct ManualClock(AtomicI64);

impl ManualClock {
    pub(crate) fn at(t: Timestamp) -> Arc<Self> {
        Arc::new(Self(AtomicI64::new(t.unix_seconds())))
    }

    pub(crate) fn set(&self, t: Timestamp) {
        self.0.store(t.unix_seconds(), Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_unix_seconds(self.0.load(Ordering::SeqCst))
    }
}
