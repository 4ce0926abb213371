//! Every validation error, the warnings, and many errors at once.

mod common;

use common::*;
use sage_config::{ConfigError, Environment, Invalid, Origin, Warning};

/// Loads `yaml` as the environment file of `env` and returns the messages.
fn errors_of(env: Environment, yaml: &str, pairs: &[(&str, &str)]) -> Vec<String> {
    let dir = config_dir(&[(&env.file_name(), yaml)]);
    messages(&load_err(options_in(dir.path(), env, pairs)))
}

fn only_error(env: Environment, yaml: &str, pairs: &[(&str, &str)]) -> String {
    let errors = errors_of(env, yaml, pairs);
    assert_eq!(errors.len(), 1, "{errors:#?}");
    errors.into_iter().next().expect("one error")
}

#[test]
fn a_bad_duration_is_reported_at_its_path() {
    let message = only_error(
        Environment::Local,
        "session:\n  idle_timeout: 10 minutes\n",
        &[],
    );
    assert!(
        message.starts_with("session.idle_timeout: \"10 minutes\" is not a duration"),
        "{message}"
    );
    let message = only_error(Environment::Local, "handshake:\n  nonce_ttl: 600\n", &[]);
    assert!(
        message.starts_with("handshake.nonce_ttl: \"600\" has no unit"),
        "{message}"
    );
}

#[test]
fn a_zero_max_age_must_be_positive() {
    let message = only_error(Environment::Local, "session:\n  max_age: 0s\n", &[]);
    assert!(
        message.starts_with("session.max_age: must be > 0 (set by "),
        "{message}"
    );
}

#[test]
fn unknown_keys_are_reported_at_any_depth() {
    let errors = errors_of(
        Environment::Local,
        "colour: blue\ndatabase:\n  pool:\n    max_conections: 5\nregistry:\n  ethereum:\n    rpc: x\n",
        &[],
    );
    assert_eq!(errors.len(), 3, "{errors:#?}");
    assert!(errors[0].starts_with("colour: unknown key"), "{errors:#?}");
    assert!(
        errors[1].starts_with(
            "database.pool.max_conections: unknown key (did you mean max_connections?)"
        ),
        "{errors:#?}"
    );
    assert!(
        errors[2].starts_with("registry.ethereum.rpc: unknown key"),
        "{errors:#?}"
    );
}

#[test]
fn a_bad_ethereum_address_is_refused() {
    let message = only_error(
        Environment::Local,
        "registry:\n  ethereum:\n    contract_address: \"0x1234\"\n",
        &[],
    );
    assert!(
        message.starts_with(
            "registry.ethereum.contract_address: \"0x1234\" is not an Ethereum address"
        ),
        "{message}"
    );
    let message = only_error(
        Environment::Local,
        "registry:\n  ethereum:\n    contract_address: 0x00000000000000000000000000000000000000ff\n",
        &[],
    );
    assert!(message.contains("must be a quoted string"), "{message}");
}

#[test]
fn staging_without_a_key_encryption_key_is_refused() {
    let yaml = "database:\n  url: postgres://sage@db/sage\n";
    let dir = config_dir(&[("staging.yaml", yaml)]);
    let errors = load_err(options_in(dir.path(), Environment::Staging, &[]));
    assert!(matches!(
        &errors.errors[..],
        [ConfigError::Invalid { path, reason: Invalid::Required { .. }, .. }]
            if path == "storage.key_encryption_key"
    ));
    // The same file is fine in local, where the node generates a key.
    let dir = config_dir(&[("local.yaml", yaml)]);
    load_ok(options_in(dir.path(), Environment::Local, &[]));
}

#[test]
fn a_key_encryption_key_must_resolve_to_32_bytes() {
    let yaml = "storage:\n  key_encryption_key: env:SAGE_KEK\n";
    let message = only_error(Environment::Development, yaml, &[]);
    assert!(message.contains("SAGE_KEK is not set"), "{message}");
    let message = only_error(Environment::Development, yaml, &[("SAGE_KEK", "c2hvcnQ=")]);
    assert!(message.contains("decodes to 5 bytes"), "{message}");
    assert!(!message.contains("c2hvcnQ"), "{message}");
    let dir = config_dir(&[("development.yaml", yaml)]);
    load_ok(options_in(
        dir.path(),
        Environment::Development,
        &[("SAGE_KEK", KEK_B64)],
    ));
}

#[test]
fn a_literal_secret_is_refused_without_being_echoed() {
    let message = only_error(
        Environment::Local,
        "management:\n  token: correct-horse-battery-staple\n",
        &[],
    );
    assert!(
        message.starts_with("management.token: a literal secret is not allowed"),
        "{message}"
    );
    assert!(message.contains("env:NAME or file:PATH"), "{message}");
    assert!(!message.contains("horse"), "{message}");
    let message = only_error(Environment::Local, "identity:\n  passphrase: 123456\n", &[]);
    assert!(!message.contains("123456"), "{message}");
}

#[test]
fn sqlite_in_production_is_a_warning_not_an_error() {
    let yaml = "storage:\n  key_encryption_key: env:SAGE_KEK\n\
                registry:\n  backend: ethereum\n  ethereum:\n    rpc_url: http://127.0.0.1:8545\n\
                \x20   contract_address: \"0x5FbDB2315678afecb367f032d93F642f64180aa3\"\n    chain_id: 1\n\
                metrics:\n  listen: 127.0.0.1:9090\nlogging:\n  format: json\n";
    let dir = config_dir(&[("production.yaml", yaml)]);
    let loaded = load_ok(options_in(
        dir.path(),
        Environment::Production,
        &[("SAGE_KEK", KEK_B64)],
    ));
    let kinds: Vec<&Warning> = loaded.warnings.iter().map(|w| &w.kind).collect();
    assert_eq!(kinds, [&Warning::SqliteInProduction]);
    assert_eq!(loaded.warnings[0].path, "database.url");
    assert_eq!(
        loaded.warnings[0].origin,
        Some(Origin::Derived {
            from: "storage.data_dir"
        })
    );
}

#[test]
fn rekey_interval_zero_disables_rotation_with_a_warning() {
    let dir = config_dir(&[("local.yaml", "session:\n  rekey_interval: 0\n")]);
    let loaded = load_ok(options_in(dir.path(), Environment::Local, &[]));
    assert_eq!(loaded.config.session.to_core().rekey_interval, 0);
    assert_eq!(loaded.warnings.len(), 1);
    assert_eq!(loaded.warnings[0].kind, Warning::RekeyDisabled);
}

#[test]
fn several_errors_are_reported_at_once_in_key_order() {
    let yaml = "\
server:
  listen: not-an-address
  body_limit: 64MiB
session:
  max_age: 0s
  max_messages: 0
handshake:
  clock_skew: 10m
  nonce_ttl: 5m
  allowed_suites: [hpke-base+p256+hkdf-sha256]
rfc9421:
  required_components: ['@method', '@method;req', '@bogus']
database:
  url: mysql://root@db/sage
  pool:
    max_connections: 2
    min_connections: 3
registry:
  backend: ethereum
  ethereum:
    rpc_url: ftp://rpc.example
    chain_id: 0
identity:
  did: did:web:example.com
metrics:
  path: metrics
logging:
  format: xml
";
    let errors = errors_of(Environment::Staging, yaml, &[]);
    let paths: Vec<&str> = errors
        .iter()
        .map(|m| m.split(": ").next().unwrap())
        .collect();
    assert_eq!(
        paths,
        [
            "database.pool.min_connections",
            "database.url",
            "handshake.allowed_suites",
            "handshake.nonce_ttl",
            "identity.did",
            "logging.format",
            "metrics.path",
            "registry.ethereum.chain_id",
            "registry.ethereum.contract_address",
            "registry.ethereum.rpc_url",
            "rfc9421.required_components",
            "rfc9421.required_components",
            "server.body_limit",
            "server.listen",
            "session.max_age",
            "session.max_messages",
            "storage.key_encryption_key",
        ],
        "{errors:#?}"
    );
}

#[test]
fn pool_timeouts_and_metrics_listener_rules() {
    let errors = errors_of(
        Environment::Local,
        "database:\n  pool:\n    max_connections: 0\n    acquire_timeout: 0s\n\
         metrics:\n  listen: 127.0.0.1:8080\nlogging:\n  filter: ' '\n",
        &[],
    );
    assert_eq!(errors.len(), 4, "{errors:#?}");
    assert!(errors[0].starts_with("database.pool.acquire_timeout: must be > 0 (set by "));
    assert!(errors[1].starts_with("database.pool.max_connections: must be > 0"));
    assert!(errors[2].starts_with("logging.filter: must not be empty"));
    assert!(errors[3].starts_with("metrics.listen: must differ from server.listen"));
}

#[test]
fn a_short_management_token_is_refused_and_a_long_one_accepted() {
    let yaml = "management:\n  token: env:TOKEN\n";
    let message = only_error(Environment::Local, yaml, &[("TOKEN", "short")]);
    assert!(
        message.starts_with("management.token: must be at least 32 bytes"),
        "{message}"
    );
    assert!(
        !message.contains("short (") && !message.contains("\"short\""),
        "{message}"
    );
    let dir = config_dir(&[("local.yaml", yaml)]);
    load_ok(options_in(
        dir.path(),
        Environment::Local,
        &[("TOKEN", "0123456789abcdef0123456789abcdef")],
    ));
}

#[cfg(unix)]
#[test]
fn a_secret_file_readable_by_others_is_a_warning() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = config_dir(&[]);
    let token = dir.path().join("token");
    std::fs::write(&token, "0123456789abcdef0123456789abcdef\n").unwrap();
    std::fs::set_permissions(&token, std::fs::Permissions::from_mode(0o644)).unwrap();
    let yaml = format!("management:\n  token: file:{}\n", token.display());
    std::fs::write(dir.path().join("local.yaml"), yaml).unwrap();
    let loaded = load_ok(options_in(dir.path(), Environment::Local, &[]));
    assert!(matches!(
        &loaded.warnings[..],
        [w] if matches!(w.kind, Warning::LooseSecretFile { mode: 0o644, .. })
    ));
    std::fs::set_permissions(&token, std::fs::Permissions::from_mode(0o600)).unwrap();
    let loaded = load_ok(options_in(dir.path(), Environment::Local, &[]));
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
}
