//! The node's database and its key-encryption key, from configuration.
//!
//! Layer: node, wiring. [`store_options`] maps `database.*` onto the
//! store's options (a pool duration of zero means "never"; `sage db` uses
//! it too) and [`sqlite_dir`] names the directory a SQLite file needs.
//! [`open_store`] creates that directory, connects, and
//! migrates: always for SQLite (the node owns its file), for PostgreSQL
//! only when asked (a shared schema is the operator's to change), else it
//! refuses a schema that is behind. [`key_encryption_key`] resolves
//! `storage.key_encryption_key`, or, when it is absent (allowed in `local`
//! only, which configuration validation enforces), reads or creates
//! `<storage.data_dir>/key-encryption-key`: 32 random bytes in base64,
//! mode 0600, written atomically like the identity keys.

use core::time::Duration;
use std::path::PathBuf;

use sage_config::{DatabaseBackend, EnvVars, SageConfig};
use sage_core::encoding::{b64_decode, b64_encode};
use sage_store::{KeyEncryptionKey, Store, StoreOptions};
use zeroize::Zeroizing;

use super::NodeError;
use crate::identity::keystore::{KeystoreError, read_private_file, write_private_file};

/// The file name of the generated key-encryption key, in the data directory.
pub const GENERATED_KEK_FILE: &str = "key-encryption-key";

/// Connects to the configured database and brings its schema up to date
/// (see the module doc).
///
/// # Errors
/// [`NodeError::Store`] for a connection or migration failure;
/// [`NodeError::PendingMigrations`] for a PostgreSQL schema that is behind
/// when `migrate_postgres` is false; [`NodeError::Keys`] when the SQLite
/// directory cannot be created.
pub async fn open_store(config: &SageConfig, migrate_postgres: bool) -> Result<Store, NodeError> {
    let url = &config.database.url;
    let database = url.redacted();
    let options = store_options(config);
    let backend = url.backend();
    if let Some(dir) = sqlite_dir(config) {
        std::fs::create_dir_all(&dir).map_err(|source| {
            NodeError::Keys(KeystoreError::Io {
                path: dir.clone(),
                action: crate::identity::keystore::FileAction::Write,
                source,
            })
        })?;
    }
    let store_error = |source| NodeError::Store {
        database: database.clone(),
        source,
    };
    let store = Store::connect(&options).await.map_err(store_error)?;
    let migrate = backend == DatabaseBackend::Sqlite || migrate_postgres;
    if migrate {
        let report = store.migrate_up().await.map_err(store_error)?;
        tracing::debug!(?report, "database migrated");
    } else {
        let status = store.migration_status().await.map_err(store_error)?;
        let pending = status.pending();
        if pending > 0 {
            store.close().await;
            return Err(NodeError::PendingMigrations { database, pending });
        }
    }
    Ok(store)
}

/// The store's connection options of `config`: the URL of
/// `database.url` as configured (with its password; the store opens SQLite
/// files with `create_if_missing`) and the pool of `database.pool`.
pub fn store_options(config: &SageConfig) -> StoreOptions {
    let pool = &config.database.pool;
    let mut options = StoreOptions::new(config.database.url.expose());
    options.max_connections = pool.max_connections;
    options.min_connections = pool.min_connections;
    options.acquire_timeout = pool.acquire_timeout;
    options.idle_timeout = never_if_zero(pool.idle_timeout);
    options.max_lifetime = never_if_zero(pool.max_lifetime);
    options
}

/// Zero is the configuration's "never" for pool durations.
fn never_if_zero(duration: Duration) -> Option<Duration> {
    (!duration.is_zero()).then_some(duration)
}

/// The directory the SQLite database of `config` lives in, to create
/// before connecting (`storage.data_dir` for the default URL); `None` for
/// PostgreSQL, an in-memory database, or a file in the working directory.
pub fn sqlite_dir(config: &SageConfig) -> Option<PathBuf> {
    let url = &config.database.url;
    match url.backend() {
        DatabaseBackend::Sqlite => sqlite_file(url.expose())
            .and_then(|file| file.parent().map(PathBuf::from))
            .filter(|dir| !dir.as_os_str().is_empty()),
        DatabaseBackend::Postgres => None,
    }
}

/// The file a SQLite URL opens, read the way sqlx reads it: the scheme
/// `sqlite://` or `sqlite:` removed, the query cut off, percent escapes
/// decoded. `None` for an in-memory database or an undecodable path.
fn sqlite_file(url: &str) -> Option<PathBuf> {
    let rest = url.strip_prefix("sqlite:")?;
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let (database, query) = rest.split_once('?').unwrap_or((rest, ""));
    let in_memory = database.is_empty()
        || database == ":memory:"
        || query.split('&').any(|pair| pair == "mode=memory");
    if in_memory {
        return None;
    }
    percent_decode(database).map(PathBuf::from)
}

/// `%XX` escapes decoded; `None` for a malformed escape or a result that
/// is not UTF-8 (sqlx refuses both).
fn percent_decode(text: &str) -> Option<String> {
    let mut bytes = Vec::with_capacity(text.len());
    let mut rest = text.as_bytes();
    while let Some((&byte, tail)) = rest.split_first() {
        if byte == b'%' {
            let (hex, after) = tail.split_at_checked(2)?;
            let hex = core::str::from_utf8(hex).ok()?;
            bytes.push(u8::from_str_radix(hex, 16).ok()?);
            rest = after;
        } else {
            bytes.push(byte);
            rest = tail;
        }
    }
    String::from_utf8(bytes).ok()
}

/// The key that seals session keys at rest (see the module doc).
///
/// # Errors
/// [`NodeError::Secret`] for a configured key that does not resolve;
/// [`NodeError::Keys`] for a generated key file that cannot be read,
/// is too open, is malformed, or cannot be written.
pub fn key_encryption_key(
    config: &SageConfig,
    env: &EnvVars,
) -> Result<KeyEncryptionKey, NodeError> {
    if let Some(secret) = &config.storage.key_encryption_key {
        let key = secret
            .resolve_key(env)
            .map_err(|source| NodeError::Secret {
                key: "storage.key_encryption_key",
                source,
            })?;
        return Ok(KeyEncryptionKey::from_bytes(*key));
    }
    let path = config.storage.data_dir.join(GENERATED_KEK_FILE);
    if let Some(text) = read_private_file(&path)? {
        let malformed = || KeystoreError::Malformed {
            path: path.clone(),
            reason: "not 32 bytes in base64",
        };
        let text = core::str::from_utf8(&text).map_err(|_| malformed())?;
        let bytes = Zeroizing::new(b64_decode(text.trim()).map_err(|_| malformed())?);
        let key: [u8; 32] = bytes.as_slice().try_into().map_err(|_| malformed())?;
        return Ok(KeyEncryptionKey::from_bytes(key));
    }
    let mut key = Zeroizing::new([0u8; 32]);
    getrandom::fill(key.as_mut_slice()).map_err(|_| KeystoreError::Rng)?;
    let mut text = Zeroizing::new(b64_encode(key.as_slice()));
    text.push('\n');
    write_private_file(&path, text.as_bytes())?;
    tracing::info!(file = %path.display(), "generated the local key-encryption key");
    Ok(KeyEncryptionKey::from_bytes(*key))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config_with_url(url: &str) -> SageConfig {
        let mut config = SageConfig::default();
        config.database.url = url.parse().unwrap();
        config
    }

    #[test]
    fn sqlite_urls_name_their_directory() {
        for (url, dir) in [
            ("sqlite://./data/sage.db", Some("./data")),
            (
                "sqlite:///var/lib/sage/sage.db?mode=rwc",
                Some("/var/lib/sage"),
            ),
            ("sqlite://my%20data/sage.db", Some("my data")),
            ("sqlite:node.db", None),
            ("sqlite://node.db", None),
            ("sqlite::memory:", None),
            ("sqlite://x.db?mode=memory", None),
            ("postgres://h/db", None),
        ] {
            assert_eq!(
                sqlite_dir(&config_with_url(url)),
                dir.map(PathBuf::from),
                "{url}"
            );
        }
    }

    #[test]
    fn sqlite_urls_name_the_file_sqlx_opens() {
        for (url, file) in [
            (
                "sqlite:///var/lib/sage/sage.db",
                Some("/var/lib/sage/sage.db"),
            ),
            ("sqlite://data/sage.db?mode=rwc", Some("data/sage.db")),
            ("sqlite:node.db", Some("node.db")),
            ("sqlite://my%20data/sage.db", Some("my data/sage.db")),
            ("sqlite::memory:", None),
            ("sqlite://?mode=memory", None),
            ("sqlite://x.db?cache=shared&mode=memory", None),
            ("sqlite://bad%zz.db", None),
            ("sqlite://bad%2", None),
            ("postgres://h/db", None),
        ] {
            assert_eq!(sqlite_file(url), file.map(PathBuf::from), "{url}");
        }
    }

    #[test]
    fn pool_settings_reach_the_store_and_zero_means_never() {
        let mut config = config_with_url("postgres://sage:pw@db.internal/sage");
        config.database.pool.max_connections = 20;
        config.database.pool.min_connections = 2;
        config.database.pool.acquire_timeout = Duration::from_secs(7);
        config.database.pool.idle_timeout = Duration::ZERO;
        config.database.pool.max_lifetime = Duration::from_secs(60);
        let options = store_options(&config);
        assert_eq!(options.url, "postgres://sage:pw@db.internal/sage");
        assert_eq!(options.max_connections, 20);
        assert_eq!(options.min_connections, 2);
        assert_eq!(options.acquire_timeout, Duration::from_secs(7));
        assert_eq!(options.idle_timeout, None);
        assert_eq!(options.max_lifetime, Some(Duration::from_secs(60)));
    }

    #[test]
    fn the_generated_key_encryption_key_is_kept_across_starts() {
        let dir = tempfile::tempdir().unwrap();
        let mut config = SageConfig::default();
        config.storage.data_dir = dir.path().to_path_buf();
        let env = EnvVars::default();
        let first = key_encryption_key(&config, &env).unwrap();
        let second = key_encryption_key(&config, &env).unwrap();
        // The type shows nothing of the key; compare what it seals with.
        let file = std::fs::read_to_string(dir.path().join(GENERATED_KEK_FILE)).unwrap();
        assert_eq!(b64_decode(file.trim()).unwrap().len(), 32);
        let _ = (first, second);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(dir.path().join(GENERATED_KEK_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let again = std::fs::read_to_string(dir.path().join(GENERATED_KEK_FILE)).unwrap();
        assert_eq!(file, again);
    }
}
