//! Layer priority, the environment-variable mapping, overrides and source
//! attribution.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::*;
use sage_config::{ConfigError, Environment, LoadOptions, Origin, load};

const LOCAL: &str = "server:\n  listen: 127.0.0.1:1001\n  read_timeout: 11s\n  request_timeout: 21s\n  shutdown_timeout: 31s\n";
const EXPLICIT: &str =
    "server:\n  read_timeout: 12s\n  request_timeout: 22s\n  shutdown_timeout: 32s\n";

fn addr(text: &str) -> SocketAddr {
    text.parse().expect("socket address")
}

#[test]
fn each_layer_overrides_the_one_below_and_overrides_win() {
    let dir = config_dir(&[("local.yaml", LOCAL), ("extra.yaml", EXPLICIT)]);
    let options = LoadOptions {
        explicit_file: Some(dir.path().join("extra.yaml")),
        overrides: vec![("server.shutdown_timeout".into(), "34s".into())],
        ..options_in(
            dir.path(),
            Environment::Local,
            &[
                ("SAGE_SERVER__REQUEST_TOKEN_UNUSED", ""),
                ("SAGE_SERVER__REQUEST_TIMEOUT", "23s"),
                ("SAGE_SERVER__SHUTDOWN_TIMEOUT", "33s"),
            ],
        )
    };
    let loaded = load_ok(options);
    let server = &loaded.config.server;
    // default (body_limit) < env file (listen) < explicit (read_timeout)
    // < variables (request_timeout) < overrides (shutdown_timeout).
    assert_eq!(server.body_limit.bytes(), 1 << 20);
    assert_eq!(server.listen, addr("127.0.0.1:1001"));
    assert_eq!(server.read_timeout, Duration::from_secs(12));
    assert_eq!(server.request_timeout, Duration::from_secs(23));
    assert_eq!(server.shutdown_timeout, Duration::from_secs(34));

    let sources = &loaded.sources;
    assert_eq!(sources.get("server.body_limit"), Some(&Origin::Default));
    assert_eq!(
        sources.get("server.listen"),
        Some(&Origin::File(dir.path().join("local.yaml")))
    );
    assert_eq!(
        sources.get("server.read_timeout"),
        Some(&Origin::File(dir.path().join("extra.yaml")))
    );
    assert_eq!(
        sources.get("server.request_timeout"),
        Some(&Origin::EnvVar("SAGE_SERVER__REQUEST_TIMEOUT".into()))
    );
    assert_eq!(
        sources.get("server.shutdown_timeout"),
        Some(&Origin::Override)
    );
}

#[test]
fn nested_variables_map_with_double_underscores_and_are_typed() {
    let dir = config_dir(&[("local.yaml", "")]);
    let loaded = load_ok(options_in(
        dir.path(),
        Environment::Local,
        &[
            ("SAGE_SERVER__LISTEN", "0.0.0.0:9000"),
            ("SAGE_DATABASE__POOL__MAX_CONNECTIONS", "42"),
            ("SAGE_REGISTRY__ETHEREUM__CHAIN_ID", "31337"),
            ("SAGE_METRICS__ENABLED", "false"),
            (
                "SAGE_HANDSHAKE__ALLOWED_SUITES",
                "[hpke-base+x25519+hkdf-sha256]",
            ),
            // Not settings: no "__" after the prefix.
            ("SAGE_DATABASE_URL", "postgres://ignored@h/db"),
            ("SAGE_KEK", KEK_B64),
        ],
    ));
    let config = &loaded.config;
    assert_eq!(config.server.listen, addr("0.0.0.0:9000"));
    assert_eq!(config.database.pool.max_connections, 42);
    assert_eq!(config.registry.ethereum.chain_id, Some(31337));
    assert!(!config.metrics.enabled);
    assert_eq!(config.database.url.expose(), "sqlite://./data/sage.db");
}

#[test]
fn an_unknown_variable_key_is_reported_with_its_variable() {
    let dir = config_dir(&[("local.yaml", "")]);
    let errors = load_err(options_in(
        dir.path(),
        Environment::Local,
        &[("SAGE_SERVER__LISTNE", "0.0.0.0:1")],
    ));
    assert_eq!(
        messages(&errors),
        ["server.listne: unknown key (did you mean listen?) (set by $SAGE_SERVER__LISTNE)"]
    );
}

#[test]
fn sage_env_selects_the_environment_file_and_bad_names_are_refused() {
    let dir = config_dir(&[
        ("local.yaml", "server:\n  listen: 127.0.0.1:1\n"),
        (
            "development.yaml",
            "server:\n  listen: 127.0.0.1:2\nstorage:\n  key_encryption_key: env:SAGE_KEK\n",
        ),
    ]);
    let mut options = options_in(
        dir.path(),
        Environment::Local,
        &[("SAGE_ENV", "development"), ("SAGE_KEK", KEK_B64)],
    );
    options.env = None;
    let loaded = load_ok(options.clone());
    assert_eq!(loaded.environment, Environment::Development);
    assert_eq!(loaded.config.server.listen, addr("127.0.0.1:2"));

    options.env_vars = vars(&[("SAGE_ENV", "prod")]);
    let errors = load_err(options);
    assert!(matches!(
        &errors.errors[..],
        [ConfigError::UnknownEnvironment(_)]
    ));
    assert!(messages(&errors)[0].contains("\"prod\""));
}

#[test]
fn the_database_url_follows_the_data_dir_unless_set() {
    let dir = config_dir(&[("local.yaml", "storage:\n  data_dir: /srv/sage/\n")]);
    let loaded = load_ok(options_in(dir.path(), Environment::Local, &[]));
    assert_eq!(
        loaded.config.database.url.expose(),
        "sqlite:///srv/sage/sage.db"
    );
    assert_eq!(
        loaded.sources.get("database.url"),
        Some(&Origin::Derived {
            from: "storage.data_dir"
        })
    );
    let loaded = load_ok(LoadOptions {
        overrides: vec![("database.url".into(), "postgres://sage@db/sage".into())],
        ..options_in(dir.path(), Environment::Local, &[])
    });
    assert_eq!(
        loaded.config.database.url.expose(),
        "postgres://sage@db/sage"
    );
}

#[test]
fn malformed_override_keys_are_refused() {
    let dir = config_dir(&[("local.yaml", "")]);
    let errors = load_err(LoadOptions {
        overrides: vec![
            ("server..listen".into(), "x".into()),
            (String::new(), "y".into()),
        ],
        ..options_in(dir.path(), Environment::Local, &[])
    });
    assert_eq!(errors.errors.len(), 2);
    assert!(
        errors
            .errors
            .iter()
            .all(|e| matches!(e, ConfigError::BadOverrideKey { .. }))
    );
}

#[test]
fn a_missing_config_dir_falls_back_to_the_built_in_files() {
    // No config_dir and no SAGE_CONFIG_DIR: ./config, which does not exist
    // in the test's working directory (the crate), then the built-in copy.
    assert!(!std::path::Path::new("config/local.yaml").exists());
    let loaded = load_ok(LoadOptions::new(vars(&[])));
    assert_eq!(loaded.environment, Environment::Local);
    assert_eq!(
        loaded.sources.get("server.listen"),
        Some(&Origin::BuiltInFile(Environment::Local))
    );
}

#[test]
fn an_explicit_config_dir_must_hold_the_environment_file() {
    let dir = config_dir(&[]);
    let errors = load(options_in(dir.path(), Environment::Staging, &[])).unwrap_err();
    assert!(
        matches!(&errors.errors[..], [ConfigError::Read { path, .. }] if path.ends_with("staging.yaml"))
    );
}
