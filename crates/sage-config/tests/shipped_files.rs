//! Every shipped `config/*.yaml` loads for its environment once its
//! variables are set, and the built-in copies are the shipped files.

mod common;

use common::*;
use sage_config::{
    DatabaseBackend, Environment, LogFormat, Origin, RegistryBackend, Warning, built_in_file,
};

/// The variables the deployment files document as required.
const DEPLOYMENT_VARS: [(&str, &str); 3] = [
    ("SAGE_DATABASE_URL", "postgres://sage@db.internal:5432/sage"),
    ("SAGE_KEK", KEK_B64),
    ("SAGE_REGISTRY_CONTRACT", CONTRACT),
];

#[test]
fn local_loads_with_nothing_set_and_without_warnings() {
    let loaded = load_ok(options_in(&shipped_config_dir(), Environment::Local, &[]));
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let config = &loaded.config;
    assert_eq!(config.database.url.backend(), DatabaseBackend::Sqlite);
    assert_eq!(config.database.url.expose(), "sqlite://./data/sage.db");
    assert!(config.storage.key_encryption_key.is_none());
    assert_eq!(config.registry.backend, RegistryBackend::Local);
}

#[test]
fn development_loads_with_a_key_encryption_key() {
    let loaded = load_ok(options_in(
        &shipped_config_dir(),
        Environment::Development,
        &[("SAGE_KEK", KEK_B64)],
    ));
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    assert!(loaded.config.storage.key_encryption_key.is_some());
}

#[test]
fn staging_and_production_load_with_their_variables() {
    for env in [Environment::Staging, Environment::Production] {
        let loaded = load_ok(options_in(&shipped_config_dir(), env, &DEPLOYMENT_VARS));
        let config = &loaded.config;
        assert_eq!(
            config.database.url.backend(),
            DatabaseBackend::Postgres,
            "{env}"
        );
        assert_eq!(config.registry.backend, RegistryBackend::Ethereum, "{env}");
        assert_eq!(
            config
                .registry
                .ethereum
                .contract_address
                .map(|a| a.to_string()),
            Some(CONTRACT.to_ascii_lowercase()),
        );
        assert_eq!(config.logging.format, LogFormat::Json);
        // The default RPC endpoint is a node on the same machine: no
        // warning about plain http.
        assert!(loaded.warnings.is_empty(), "{env}: {:?}", loaded.warnings);
        assert_eq!(
            loaded.sources.get("database.url"),
            Some(&Origin::File(shipped_config_dir().join(env.file_name())))
        );
    }
}

#[test]
fn production_names_every_missing_variable() {
    let errors = load_err(options_in(
        &shipped_config_dir(),
        Environment::Production,
        &[],
    ));
    let text = errors.to_string();
    assert!(text.contains("SAGE_DATABASE_URL"), "{text}");
    assert!(text.contains("SAGE_REGISTRY_CONTRACT"), "{text}");
}

#[test]
fn production_on_sqlite_is_only_warned_about() {
    let loaded = load_ok(options_in(
        &shipped_config_dir(),
        Environment::Production,
        &[
            ("SAGE_DATABASE_URL", "sqlite:///var/lib/sage/sage.db"),
            ("SAGE_KEK", KEK_B64),
            ("SAGE_REGISTRY_CONTRACT", CONTRACT),
        ],
    ));
    assert_eq!(loaded.warnings.len(), 1);
    assert_eq!(loaded.warnings[0].kind, Warning::SqliteInProduction);
}

#[test]
fn the_built_in_files_are_the_shipped_files() {
    for env in Environment::ALL {
        let shipped = std::fs::read_to_string(shipped_config_dir().join(env.file_name())).unwrap();
        assert_eq!(built_in_file(env), shipped, "{env}");
    }
}
