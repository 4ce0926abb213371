//! `${VAR}` substitution in YAML values.

mod common;

use std::time::Duration;

use common::*;
use sage_config::{ConfigError, Environment, LoadOptions, Warning};

#[test]
fn set_variables_and_defaults_are_substituted_and_typed() {
    let dir = config_dir(&[(
        "local.yaml",
        "server:\n  listen: ${LISTEN}\n  read_timeout: ${READ:-7s}\n\
         database:\n  pool:\n    max_connections: ${POOL:-12}\n",
    )]);
    let loaded = load_ok(options_in(
        dir.path(),
        Environment::Local,
        &[("LISTEN", "127.0.0.1:7000")],
    ));
    let config = &loaded.config;
    assert_eq!(config.server.listen.port(), 7000);
    assert_eq!(config.server.read_timeout, Duration::from_secs(7));
    assert_eq!(config.database.pool.max_connections, 12);
}

#[test]
fn an_unset_variable_without_default_names_the_variable_and_the_file() {
    let dir = config_dir(&[(
        "staging.yaml",
        "database:\n  url: ${SAGE_DATABASE_URL}\nserver:\n  listen: ${NOT_SET_EITHER}\n",
    )]);
    let errors = load_err(options_in(dir.path(), Environment::Staging, &[]));
    let file = dir.path().join("staging.yaml");
    let found: Vec<(&std::path::Path, &str)> = errors
        .errors
        .iter()
        .map(|e| match e {
            ConfigError::UnsetVariable { file, name, .. } => (file.as_path(), name.as_str()),
            other => panic!("unexpected {other}"),
        })
        .collect();
    assert_eq!(
        found,
        [
            (file.as_path(), "SAGE_DATABASE_URL"),
            (file.as_path(), "NOT_SET_EITHER")
        ]
    );
    let message = errors.errors[0].to_string();
    assert!(message.contains("staging.yaml:2"), "{message}");
    assert!(message.contains("SAGE_DATABASE_URL"), "{message}");
}

#[test]
fn errors_of_several_files_are_reported_together() {
    let dir = config_dir(&[
        ("local.yaml", "server:\n  listen: ${A_UNSET}\n"),
        ("extra.yaml", "server:\n  listen: [unclosed\n"),
    ]);
    let errors = load_err(LoadOptions {
        explicit_file: Some(dir.path().join("extra.yaml")),
        ..options_in(dir.path(), Environment::Local, &[])
    });
    assert!(matches!(
        &errors.errors[..],
        [ConfigError::UnsetVariable { .. }, ConfigError::Yaml { .. }]
    ));
}

#[test]
fn the_escape_and_quoted_values_stay_literal_with_a_warning() {
    let dir = config_dir(&[(
        "local.yaml",
        "logging:\n  filter: $${NOT_A_VARIABLE}\nmetrics:\n  path: \"/m${X}\"\n",
    )]);
    let loaded = load_ok(options_in(
        dir.path(),
        Environment::Local,
        &[("X", "etrics")],
    ));
    assert_eq!(
        loaded.config.logging.filter.as_deref(),
        Some("${NOT_A_VARIABLE}")
    );
    assert_eq!(loaded.config.metrics.path, "/m${X}");
    let quoted: Vec<&str> = loaded
        .warnings
        .iter()
        .filter(|w| w.kind == Warning::QuotedSubstitution)
        .map(|w| w.path.as_str())
        .collect();
    assert_eq!(quoted, ["logging.filter", "metrics.path"]);
}

#[test]
fn a_tagged_string_keeps_a_substituted_address_a_string() {
    // An address with leading zeros would otherwise be read as a number.
    let dir = config_dir(&[(
        "local.yaml",
        "registry:\n  ethereum:\n    contract_address: !!str ${ADDR}\n",
    )]);
    let zeros = "0x00000000000000000000000000000000000000ff";
    let loaded = load_ok(options_in(
        dir.path(),
        Environment::Local,
        &[("ADDR", zeros)],
    ));
    assert_eq!(
        loaded
            .config
            .registry
            .ethereum
            .contract_address
            .map(|a| a.to_string()),
        Some(zeros.to_owned())
    );
}
