//! Errors of the store layer.
//!
//! One enum for the crate, named by cause. Database and migration failures
//! wrap the driver's error (it names the failing statement, never a bound
//! value). A sealed snapshot that fails to open carries no detail: wrong
//! key, wrong session id and altered bytes look the same. Nothing here
//! prints a database URL with its password, a key or a snapshot.

use std::path::PathBuf;
use std::process::ExitStatus;

use sage_core::did::RecordError;
use sage_core::session::SessionError;

/// A store operation that failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database driver failed: connection, query or constraint.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// Applying or reverting a migration failed.
    #[error("migration error: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The database URL names neither `sqlite:` nor `postgres:`/`postgresql:`.
    #[error("unsupported database URL scheme {scheme:?}: expected sqlite: or postgres:")]
    UnsupportedScheme {
        /// The scheme that was given.
        scheme: String,
    },
    /// The database URL does not parse (the URL itself is not repeated: it
    /// may hold a password).
    #[error("invalid database URL")]
    InvalidUrl,
    /// A session with this id or key id is already stored.
    #[error("a session with id {sid} or its key id is already stored")]
    DuplicateSession {
        /// The session id that was inserted.
        sid: String,
    },
    /// The session has expired, so it has no keys to store.
    #[error("cannot store the session: {0}")]
    Session(SessionError),
    /// The sealed snapshot did not open under the key-encryption key for
    /// its session id. Deliberately opaque.
    #[error("sealed session snapshot failed to open")]
    Unseal,
    /// The operating system's random number generator failed.
    #[error("operating system RNG unavailable")]
    Rng,
    /// A stored row breaks an invariant the store wrote it with (a column
    /// out of range, a malformed DID, snapshot or window).
    #[error("corrupt {table} row: {problem}")]
    CorruptRow {
        /// The table the row came from.
        table: &'static str,
        /// What is wrong with it.
        problem: &'static str,
    },
    /// An argument is longer than its column allows.
    #[error("{field} is longer than {max} bytes")]
    TooLong {
        /// Which argument.
        field: &'static str,
        /// Its limit, in bytes.
        max: usize,
    },
    /// A page size of zero or above the maximum.
    #[error("page limit must be between 1 and {max}")]
    BadPageLimit {
        /// The largest page the store returns.
        max: u32,
    },
    /// A DID record that cannot be cached (a key type without a registry
    /// integer).
    #[error("DID record: {0}")]
    Record(#[from] RecordError),
    /// There is no seed data for this environment (production is never
    /// seeded).
    #[error("no seed data for the {environment} environment")]
    NoSeedData {
        /// The environment that was asked for.
        environment: &'static str,
    },
    /// A migration count of zero.
    #[error("nothing to revert: give a number of migrations of at least 1")]
    ZeroMigrations,
    /// A file operation of backup or restore failed.
    #[error("{action} {}: {source}", path.display())]
    Io {
        /// What was being done.
        action: FileAction,
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// A backup path that is not UTF-8 (SQLite takes file names as text).
    #[error("{} is not a UTF-8 path", path.display())]
    NonUtf8Path {
        /// The path.
        path: PathBuf,
    },
    /// The backup file exists already; backups never overwrite.
    #[error("{} exists; refusing to overwrite a backup", path.display())]
    BackupExists {
        /// The file.
        path: PathBuf,
    },
    /// The file given to restore is not a backup of this store.
    #[error("{} is not a SAGE store backup: {reason}", path.display())]
    NotABackup {
        /// The file.
        path: PathBuf,
        /// Why it was refused.
        reason: &'static str,
    },
    /// The restore target's schema is at another migration version than
    /// the backup's: migrate one of them first.
    #[error("the backup is at schema version {backup}, the target database at {target}")]
    SchemaMismatch {
        /// The backup's highest applied migration.
        backup: i64,
        /// The target's highest applied migration.
        target: i64,
    },
    /// An in-memory SQLite database has no file to back up or restore.
    #[error("an in-memory SQLite database cannot be backed up or restored")]
    InMemory,
    /// The SQLite nonce writer task is gone (its runtime shut down).
    #[error("the nonce writer task stopped")]
    WriterStopped,
    /// `pg_dump` or `psql` could not be started.
    #[error("cannot run {tool}: {source}")]
    ToolMissing {
        /// The program.
        tool: &'static str,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// `pg_dump` or `psql` ran and failed.
    #[error("{tool} failed ({status}): {stderr}")]
    ToolFailed {
        /// The program.
        tool: &'static str,
        /// Its exit status.
        status: ExitStatus,
        /// What it printed on stderr (trimmed).
        stderr: String,
    },
}

/// What a failed file operation was doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FileAction {
    /// Reading (or inspecting) a file.
    Read,
    /// Creating a file.
    Create,
}

impl core::fmt::Display for FileAction {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::Read => "cannot read",
            Self::Create => "cannot create",
        })
    }
}

impl StoreError {
    pub(crate) const fn corrupt(table: &'static str, problem: &'static str) -> Self {
        Self::CorruptRow { table, problem }
    }
}
