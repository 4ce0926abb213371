//! Test databases, a hand-moved clock, agents and request builders.
//!
//! [`TestDb`] is sage-store's harness: a fresh SQLite file, or a fresh
//! PostgreSQL schema of `SAGE_TEST_DATABASE_URL` dropped afterwards. Without
//! that variable the PostgreSQL tests fail unless `SAGE_SKIP_POSTGRES=1`.
//! [`both_engines!`] turns `async fn name(db: &TestDb)` into
//! `sqlite::name` and `postgres::name`.

use std::io::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use sage_core::did::{Chain, Did};
use sage_core::primitives::{KeyType, SigningKey, X25519Secret};
use sage_core::time::Timestamp;
use sage_core::version::{Labels, ProtocolVersion};
use sage_registry::{
    LocalRegistry, NewKey, Register, Request, RequestBody, RequestHeader, SignedRequest,
};
use sage_store::{Clock, Store, StoreOptions};

/// Start of every test's timeline (2026-01-01T00:00:00Z).
pub(crate) const T0: Timestamp = Timestamp::from_unix_seconds(1_767_225_600);

const SKIP_VAR: &str = "SAGE_SKIP_POSTGRES";
const URL_VAR: &str = "SAGE_TEST_DATABASE_URL";

/// One test's database.
pub(crate) struct TestDb {
    pub(crate) options: StoreOptions,
    _dir: Option<tempfile::TempDir>,
    _schema: Option<PgSchema>,
}

impl TestDb {
    pub(crate) async fn sqlite() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("registry.db");
        Self {
            options: StoreOptions::new(format!("sqlite://{}", file.display())),
            _dir: Some(dir),
            _schema: None,
        }
    }

    /// `None` only when `SAGE_SKIP_POSTGRES=1` and no URL is set.
    pub(crate) async fn postgres() -> Option<Self> {
        let Ok(base) = std::env::var(URL_VAR) else {
            if std::env::var(SKIP_VAR).as_deref() == Ok("1") {
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
        let schema = format!(
            "test_registry_{}",
            name.iter().map(|b| format!("{b:02x}")).collect::<String>()
        );
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
            _dir: None,
            _schema: Some(PgSchema { base, schema }),
        })
    }

    /// A connected, migrated store.
    pub(crate) async fn open(&self) -> Store {
        let store = Store::connect(&self.options).await.unwrap();
        store.migrate_up().await.unwrap();
        store
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

pub(crate) fn labels() -> &'static Labels {
    ProtocolVersion::V1Draft1.labels()
}

pub(crate) fn rng() -> impl rand_core::CryptoRng {
    getrandom::rand_core::UnwrapErr(getrandom::SysRng)
}

/// A clock the test moves by hand, in whole seconds.
#[derive(Debug)]
pub(crate) struct ManualClock(AtomicI64);

impl ManualClock {
    pub(crate) fn at(t: Timestamp) -> Arc<Self> {
        Arc::new(Self(AtomicI64::new(t.unix_seconds())))
    }

    pub(crate) fn advance(&self, seconds: i64) {
        self.0.fetch_add(seconds, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_unix_seconds(self.0.load(Ordering::SeqCst))
    }
}

/// The local registry on `db` with a clock at [`T0`].
pub(crate) async fn local(db: &TestDb) -> (LocalRegistry<Store>, Arc<ManualClock>) {
    let clock = ManualClock::at(T0);
    (LocalRegistry::new(db.open().await, clock.clone()), clock)
}

/// An agent: a DID, its controller key (key-1), a second signing key and a
/// KEM key.
pub(crate) struct Agent {
    pub(crate) did: Did,
    pub(crate) controller: SigningKey,
    pub(crate) second: SigningKey,
    pub(crate) kem: X25519Secret,
}

impl Agent {
    pub(crate) fn new(name: &str) -> Self {
        Self::with_types(name, KeyType::Ed25519, KeyType::Secp256k1)
    }

    pub(crate) fn with_types(name: &str, controller: KeyType, second: KeyType) -> Self {
        Self {
            did: Did::new(Chain::Ethereum, name).unwrap(),
            controller: SigningKey::generate(controller, &mut rng()).unwrap(),
            second: SigningKey::generate(second, &mut rng()).unwrap(),
            kem: X25519Secret::generate(&mut rng()),
        }
    }

    /// Registration with key-1 = controller, key-2 = the KEM key endorsed
    /// by key-1.
    pub(crate) fn registration(&self) -> Register {
        Register {
            name: "agent".into(),
            description: "a test agent".into(),
            endpoint: "https://agent.example/a2a".into(),
            capabilities: serde_json::Map::new(),
            keys: vec![
                NewKey::signing(labels(), &self.controller, &self.did).unwrap(),
                NewKey::kem(
                    labels(),
                    &self.did,
                    &self.kem.public_key(),
                    &self.controller,
                    "key-1",
                ),
            ],
        }
    }

    /// `body` at `version`, made now on `clock`, signed by `key`.
    pub(crate) fn sign<B: RequestBody>(
        &self,
        clock: &ManualClock,
        version: u64,
        body: B,
        key: &SigningKey,
    ) -> SignedRequest<B> {
        let header = RequestHeader::new(self.did.clone(), version, clock.now(), &mut rng());
        Request::new(header, body).sign(key)
    }

    /// `body` at `version`, signed by the controller.
    pub(crate) fn request<B: RequestBody>(
        &self,
        clock: &ManualClock,
        version: u64,
        body: B,
    ) -> SignedRequest<B> {
        self.sign(clock, version, body, &self.controller)
    }
}

/// Registers and activates `agent`; the record ends at version 2.
pub(crate) async fn active(registry: &LocalRegistry<Store>, clock: &ManualClock, agent: &Agent) {
    use sage_registry::{Activate, Registry as _};
    registry
        .register(&agent.request(clock, 0, agent.registration()))
        .await
        .unwrap();
    registry
        .activate(&agent.request(clock, 1, Activate))
        .await
        .unwrap();
}
