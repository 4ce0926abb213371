//! From the node configuration to the store's connection settings.
//!
//! Layer: CLI glue. sage-config knows no database driver and sage-store
//! reads no configuration; the mapping between them is the node's
//! (`sage_node::server::storage`), so that `sage db` opens exactly the
//! database `sage serve` does. [`store_settings`] bundles what the commands
//! need: the [`StoreOptions`] the store opens, the directory a SQLite file
//! needs before it can be created, and the URL as it may be printed.
//! [`store_environment`] maps the configuration's environment to the
//! store's (seed data, the production guard).
//!
//! It does not touch files, connect, or resolve the key-encryption key:
//! the `sage db` commands write no session, so they never need it.
//!
//! Invariants: a zero pool `idle_timeout` or `max_lifetime` means "never"
//! in the configuration and becomes `None` here; the URL handed to the
//! store is the configured one, unchanged (the store opens SQLite files
//! with `create_if_missing`); the printable URL never holds a password.

use std::path::PathBuf;

use sage_config::{Environment, SageConfig};
use sage_node::server::storage::{sqlite_dir, store_options};
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
    StoreSettings {
        options: store_options(config),
        sqlite_dir: sqlite_dir(config),
        shown_url: config.database.url.redacted(),
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

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    // The mapping itself is sage-node's, and tested there.

    #[test]
    fn the_configured_url_is_opened_with_its_password_and_shown_without() {
        let mut config = SageConfig::default();
        config.database.url = "postgres://sage:pw@db.internal/sage".parse().unwrap();
        let settings = store_settings(&config);
        assert_eq!(settings.options.url, "postgres://sage:pw@db.internal/sage");
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
    fn environments_map_one_to_one() {
        for environment in Environment::ALL {
            assert_eq!(store_environment(environment).name(), environment.name());
        }
    }
}
