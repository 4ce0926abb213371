//! Connection settings: which engine, which database, and the pool.
//!
//! The engine follows from the URL scheme: `sqlite:` (the embedded default,
//! e.g. `sqlite://sage.db` or `sqlite:///var/lib/sage/sage.db`) or
//! `postgres:`/`postgresql:`. Pool settings come from the caller's
//! configuration; this crate reads no environment variable and no file.
//!
//! The URL may hold a password: [`StoreOptions`]'s `Debug` and
//! [`redact_url`] print it as `***`.

use core::fmt;
use core::time::Duration;

use crate::error::StoreError;

/// The database engine behind a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Engine {
    /// Embedded SQLite (one file, WAL mode).
    Sqlite,
    /// PostgreSQL (shared by several nodes).
    Postgres,
}

impl Engine {
    /// The engine a database URL names.
    ///
    /// # Errors
    /// [`StoreError::UnsupportedScheme`] for any scheme other than
    /// `sqlite`, `postgres` and `postgresql`.
    pub fn of_url(url: &str) -> Result<Self, StoreError> {
        let scheme = url.split_once(':').map_or(url, |(scheme, _)| scheme);
        match scheme.to_ascii_lowercase().as_str() {
            "sqlite" => Ok(Self::Sqlite),
            "postgres" | "postgresql" => Ok(Self::Postgres),
            _ => Err(StoreError::UnsupportedScheme {
                scheme: scheme.chars().take(32).collect(),
            }),
        }
    }

    /// `sqlite` or `postgres`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }
}

impl fmt::Display for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How SQLite makes a commit durable (`PRAGMA synchronous`, in WAL mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum SqliteDurability {
    /// `NORMAL`: the WAL is fsynced at checkpoints, not at every commit. A
    /// crash of the process loses nothing; a power cut may lose the last
    /// commits (never corrupts). The default: a lost nonce after a power
    /// cut is also lost by every in-memory replay cache.
    #[default]
    Normal,
    /// `FULL`: fsync at every commit. Survives power loss, at the cost of
    /// one fsync per write.
    Full,
}

/// Everything needed to open a store. Build it with [`StoreOptions::new`]
/// and set the fields the configuration names.
#[derive(Clone)]
#[non_exhaustive]
pub struct StoreOptions {
    /// The database URL (`sqlite://FILE` or `postgres://USER:PASS@HOST/DB`).
    pub url: String,
    /// Largest number of pooled connections (for SQLite: readers; writes go
    /// through one connection, see [`crate::sqlite`]). Default 10.
    pub max_connections: u32,
    /// Connections kept open while idle. Default 0.
    pub min_connections: u32,
    /// How long an operation waits for a free connection. Default 5 s.
    pub acquire_timeout: Duration,
    /// Idle connections are closed after this long. Default 10 min.
    pub idle_timeout: Option<Duration>,
    /// Connections are replaced after this long. Default 30 min.
    pub max_lifetime: Option<Duration>,
    /// How long SQLite retries a locked database before failing. Default 5 s.
    pub sqlite_busy_timeout: Duration,
    /// SQLite commit durability. Default [`SqliteDurability::Normal`].
    pub sqlite_durability: SqliteDurability,
}

impl StoreOptions {
    /// The defaults for `url`.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            max_connections: 10,
            min_connections: 0,
            acquire_timeout: Duration::from_secs(5),
            idle_timeout: Some(Duration::from_secs(10 * 60)),
            max_lifetime: Some(Duration::from_secs(30 * 60)),
            sqlite_busy_timeout: Duration::from_secs(5),
            sqlite_durability: SqliteDurability::Normal,
        }
    }

    /// The engine the URL names.
    ///
    /// # Errors
    /// As [`Engine::of_url`].
    pub fn engine(&self) -> Result<Engine, StoreError> {
        Engine::of_url(&self.url)
    }

    /// The URL with its password replaced by `***`, for logs and output.
    pub fn redacted_url(&self) -> String {
        redact_url(&self.url)
    }
}

impl fmt::Debug for StoreOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoreOptions")
            .field("url", &self.redacted_url())
            .field("max_connections", &self.max_connections)
            .field("min_connections", &self.min_connections)
            .field("acquire_timeout", &self.acquire_timeout)
            .field("idle_timeout", &self.idle_timeout)
            .field("max_lifetime", &self.max_lifetime)
            .field("sqlite_busy_timeout", &self.sqlite_busy_timeout)
            .field("sqlite_durability", &self.sqlite_durability)
            .finish()
    }
}

/// `url` with the password of its user-info, and any `password` query
/// parameter, replaced by `***`. Text that is not a URL is returned as
/// `<unparseable URL>` (it might still hold a secret).
pub fn redact_url(url: &str) -> String {
    let Ok(mut parsed) = url::Url::parse(url) else {
        return "<unparseable URL>".to_owned();
    };
    if parsed.password().is_some() {
        // Only fails for URLs that cannot have a password, which this one has.
        let _ = parsed.set_password(Some("***"));
    }
    if parsed.query_pairs().any(|(k, _)| k == "password") {
        let pairs: Vec<(String, String)> = parsed
            .query_pairs()
            .map(|(k, v)| {
                let v = if k == "password" { "***".into() } else { v };
                (k.into_owned(), v.into_owned())
            })
            .collect();
        parsed.query_pairs_mut().clear().extend_pairs(pairs);
    }
    parsed.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_follows_the_url_scheme() {
        assert_eq!(Engine::of_url("sqlite://x.db").unwrap(), Engine::Sqlite);
        assert_eq!(Engine::of_url("sqlite::memory:").unwrap(), Engine::Sqlite);
        assert_eq!(Engine::of_url("postgres://h/db").unwrap(), Engine::Postgres);
        assert_eq!(
            Engine::of_url("PostgreSQL://h/db").unwrap(),
            Engine::Postgres
        );
        assert!(matches!(
            Engine::of_url("mysql://h/db"),
            Err(StoreError::UnsupportedScheme { scheme }) if scheme == "mysql"
        ));
    }

    #[test]
    fn debug_and_redaction_hide_the_password() {
        let options =
            StoreOptions::new("postgres://sage:hunter2@127.0.0.1:5432/sage?password=hunter3");
        let shown = format!("{options:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(!shown.contains("hunter3"), "{shown}");
        assert!(shown.contains("sage:***@127.0.0.1"), "{shown}");
        assert_eq!(redact_url("not a url with secret"), "<unparseable URL>");
    }
}
