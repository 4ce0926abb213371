//! # sage-store: persistence for SAGE nodes
//!
//! Sessions, replay nonces and the DID record cache, on embedded SQLite
//! (the default, one file) or PostgreSQL (shared by several nodes), both
//! through `sqlx` with runtime queries and embedded, reversible migrations.
//!
//! | interface | what it keeps | notes |
//! |---|---|---|
//! | [`SessionStore`] | sage-core sessions | seed sealed at rest ([`seal`]); counters and replay window in clear columns, updated with optimistic concurrency |
//! | [`NonceStore`] | `(scope, nonce)` until expiry | one atomic upsert decides; the async counterpart of [`sage_core::replay::ReplayStore`] |
//! | [`DidStore`] | resolved AgentMetadataV4 records | TTL, tombstones for revoked DIDs, lookups by owner and by key |
//! | [`RegistryStore`] | the embedded registry's authoritative records, keys and history | versioned writes (one writer per version), append-only keys, never deleted |
//!
//! Open a [`Store`] from [`StoreOptions`] (the URL picks the engine), run
//! [`Store::migrate_up`], take [`Store::sessions`] with the
//! key-encryption key, and run a [`Sweeper`] for retention:
//!
//! ```no_run
//! # async fn demo() -> Result<(), sage_store::StoreError> {
//! use std::sync::Arc;
//! use std::time::Duration;
//! use sage_store::{KeyEncryptionKey, NonceStore, Store, StoreOptions, Sweeper, SystemClock};
//! use sage_store::instant::system_now;
//!
//! let store = Store::connect(&StoreOptions::new("sqlite://sage.db")).await?;
//! store.migrate_up().await?;
//! let sessions = store.sessions(&KeyEncryptionKey::from_bytes([0x42; 32])); // from your secrets
//! let now = system_now();
//! let verdict = store.check_and_store("kid-1", "nonce-1", now, now.add_seconds(300)).await?;
//! let sweeper = Sweeper::new(store.clone(), Arc::new(SystemClock), Duration::from_secs(60)).spawn();
//! # let _ = (sessions, verdict);
//! sweeper.shutdown().await.ok();
//! # Ok(()) }
//! ```
//!
//! What it does not do: resolve DIDs, run the protocol (that is
//! sage-core), read configuration files or the environment (the caller
//! passes [`StoreOptions`] and the key), or keep anything in memory between
//! calls (several nodes may share one PostgreSQL).
//!
//! The clock rule, the schema, the retention rules, encryption at rest and
//! backups are documented in `docs/DATABASE.md`.
#![warn(missing_docs)]

pub mod backup;
pub mod environment;
pub mod instant;
pub mod migrate;
pub mod postgres;
pub mod registry;
pub mod seal;
pub mod seed;
pub mod sqlite;
pub mod sweeper;
#[cfg(feature = "test-support")]
pub mod testing;

mod error;
mod model;
mod options;
mod restore;
mod row;
mod store;
mod traits;

pub use environment::Environment;
pub use error::{FileAction, StoreError};
pub use instant::{Clock, SystemClock};
pub use migrate::{MigrationReport, MigrationState, MigrationStatus};
pub use model::{
    CachedDid, ClaimedWrite, DidCursor, MAX_DID_LEN, MAX_KID_LEN, MAX_NONCE_LEN, MAX_PAGE_LIMIT,
    MAX_SCOPE_LEN, NonceClaim, Page, PageRequest, SessionCursor, SessionProgress, SessionRecord,
    StoredSession, SweepReport,
};
pub use options::{Engine, SqliteDurability, StoreOptions, redact_url};
pub use registry::RegistryStore;
pub use seal::KeyEncryptionKey;
pub use store::{Sessions, Store};
pub use sweeper::{SweepSnapshot, SweepStats, Sweeper, SweeperHandle};
pub use traits::{DidStore, NonceStore, SessionStore};
