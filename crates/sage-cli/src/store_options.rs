//! From the node configuration to the store's connection settings.
//!
//! Layer: CLI glue. sage-config knows no database driver and sage-store
//! reads no configuration, so the mapping between them lives here, in one
//! function: [`store_settings`] turns `database.url`, `database.pool` and
//! `storage` into the [`StoreOptions`] the store opens, the directory a
//! SQLite file needs before it can be created, and the URL as it may be
//! printed. [`store_environment`] maps the configuration's environment to
//! the store's (seed data, the production guard).
//!
//! It does not touch files, connect, or resolve the key-encryption key:
//! the `sage db` commands write no session, so they never need it.
//!
//! Invariants: a zero pool `idle_timeout` or `max_lifetime` means "never"
//! in the configuration and becomes `None` here; the URL handed to the
//! store is the configured one, unchanged (the store opens SQLite files
//! with `create_if_missing`); the printable URL never holds a password.

use core::time::Duration;
use std::path::PathBuf;

use sage_config::{DatabaseBackend, Environment, SageConfig};
use sage_store::StoreOptions;

/// Everything `sage db` needs to reach the configured database.
#[derive(Debug)]
pub(crate) struct StoreSettings {
    /// What the store connects with (URL with its password, pool).
    pub(crate) options: StoreOptions,
    /// The directory of the SQLite file, to create before connecting
    /// (`storage.data_dir` for the default URL); `None` for PostgreSQL, an
    /// in-memory database, or a file in the working directory.
    pub(crate) sqlite_dir: Option<PathBuf>,
    /// The URL with its password redacted, for output and errors.
    pub(crate) shown_url: String,
}

/// The store settings of `config`: `database.url` and `database.pool`
/// become [`StoreOptions`]; a SQLite URL also names the directory to
/// create (its file's parent, under `storage.data_dir` by default).
pub(crate) fn store_settings(config: &SageConfig) -> StoreSettings {
    let url = &config.database.url;
    let pool = &config.database.pool;
    let mut options = StoreOptions::new(url.expose());
    options.max_connections = pool.max_connections;
    options.min_connections = pool.min_connections;
    options.acquire_timeout = pool.acquire_timeout;
    options.idle_timeout = never_if_zero(pool.idle_timeout);
    options.max_lifetime = never_if_zero(pool.max_lifetime);
    let sqlite_dir = match url.backend() {
        DatabaseBackend::Sqlite => sqlite_file(url.expose())
            .and_then(|file| file.parent().map(PathBuf::from))
            .filter(|dir| !dir.as_os_str().is_empty()),
        DatabaseBackend::Postgres => None,
    };
    StoreSettings {
        options,
        sqlite_dir,
        shown_url: url.redacted(),
    }
}

/// The store's name for a configuration environment.
pub(crate) fn store_environment(environment: Environment) -> sage_store::Environment {
    match environment {
        Environment::Local => sage_store::Environment::Local,
        Environment::Development => sage_store::Environment::Development,
        Environment::Staging => sage_store::Environment::Staging,
        Environment::Production => sage_store::Environment::Production,
    }
}

/// Zero is the configuration's "never" for pool durations.
fn never_if_zero(duration: Duration) -> Option<Duration> {
    (!duration.is_zero()).then_some(duration)
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

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn config_with_url(url: &str) -> SageConfig {
        let mut config = SageConfig::default();
        config.database.url = url.parse().unwrap();
        config
    }

    #[test]
    fn pool_settings_reach_the_store_and_zero_means_never() {
        let mut config = config_with_url("postgres://sage:pw@db.internal/sage");
        config.database.pool.max_connections = 20;
        config.database.pool.min_connections = 2;
        config.database.pool.acquire_timeout = Duration::from_secs(7);
        config.database.pool.idle_timeout = Duration::ZERO;
        config.database.pool.max_lifetime = Duration::from_secs(60);
        let settings = store_settings(&config);
        assert_eq!(settings.options.url, "postgres://sage:pw@db.internal/sage");
        assert_eq!(settings.options.max_connections, 20);
        assert_eq!(settings.options.min_connections, 2);
        assert_eq!(settings.options.acquire_timeout, Duration::from_secs(7));
        assert_eq!(settings.options.idle_timeout, None);
        assert_eq!(settings.options.max_lifetime, Some(Duration::from_secs(60)));
        assert_eq!(settings.sqlite_dir, None);
        assert_eq!(
            settings.shown_url,
            "postgres://sage:<redacted>@db.internal/sage"
        );
    }

    #[test]
    fn the_default_url_puts_the_sqlite_file_in_the_data_directory() {
        let settings = store_settings(&SageConfig::default());
        assert_eq!(settings.options.url, "sqlite://./data/sage.db");
        assert_eq!(settings.sqlite_dir.as_deref(), Some(Path::new("./data")));
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
    fn a_file_in_the_working_directory_needs_no_directory() {
        let settings = store_settings(&config_with_url("sqlite://node.db"));
        assert_eq!(settings.sqlite_dir, None);
    }

    #[test]
    fn environments_map_one_to_one() {
        for environment in Environment::ALL {
            assert_eq!(store_environment(environment).name(), environment.name());
        }
    }
}
