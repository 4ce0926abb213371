//! `registry.ethereum`: the sender account (a secret reference, never a
//! literal), the commit-reveal wait and the client timeouts, and the RPC
//! URLs the Ethereum client can use (plain `http://` only).

mod common;

use core::time::Duration;

use common::*;
use sage_config::{ConfigError, Environment, Invalid, Warning};

/// A secp256k1 private key (anvil's first development account), as
/// Ethereum tools print it.
const SENDER_HEX: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

/// An ethereum registry section with `extra` lines appended to it.
fn ethereum_yaml(extra: &str) -> String {
    format!(
        "registry:\n  backend: ethereum\n  ethereum:\n    rpc_url: http://127.0.0.1:8545\n    \
         contract_address: \"{CONTRACT}\"\n    chain_id: 31337\n{extra}"
    )
}

fn errors_of(yaml: &str, pairs: &[(&str, &str)]) -> Vec<String> {
    let dir = config_dir(&[("local.yaml", yaml)]);
    messages(&load_err(options_in(dir.path(), Environment::Local, pairs)))
}

#[test]
fn defaults_wait_past_the_registry_delay_and_need_no_sender() {
    let dir = config_dir(&[("local.yaml", &ethereum_yaml(""))]);
    let loaded = load_ok(options_in(dir.path(), Environment::Local, &[]));
    let ethereum = &loaded.config.registry.ethereum;
    assert_eq!(ethereum.sender_key, None);
    assert_eq!(ethereum.reveal_wait, Duration::from_secs(65));
    assert_eq!(ethereum.request_timeout, Duration::from_secs(30));
    assert_eq!(ethereum.receipt_timeout, Duration::from_secs(120));
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
}

#[test]
fn every_key_loads_from_files_variables_and_overrides() {
    let dir = config_dir(&[]);
    let key_file = dir.path().join("sender.key");
    std::fs::write(&key_file, format!("{SENDER_HEX}\n")).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let yaml = ethereum_yaml(&format!(
        "    sender_key: file:{}\n    reveal_wait: 90s\n",
        key_file.display()
    ));
    std::fs::write(dir.path().join("local.yaml"), yaml).unwrap();
    let mut options = options_in(
        dir.path(),
        Environment::Local,
        &[("SAGE_REGISTRY__ETHEREUM__REQUEST_TIMEOUT", "5s")],
    );
    options.overrides = vec![(
        "registry.ethereum.receipt_timeout".to_owned(),
        "1m".to_owned(),
    )];
    let loaded = load_ok(options);
    let ethereum = &loaded.config.registry.ethereum;
    assert_eq!(ethereum.reveal_wait, Duration::from_secs(90));
    assert_eq!(ethereum.request_timeout, Duration::from_secs(5));
    assert_eq!(ethereum.receipt_timeout, Duration::from_secs(60));
    let key = ethereum
        .sender_key
        .as_ref()
        .unwrap()
        .resolve_key(&vars(&[]))
        .unwrap();
    assert_eq!(hex::encode(key.as_slice()), SENDER_HEX[2..]);
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);

    // Printed, the sender key is its reference only.
    let shown = serde_json::to_string(&loaded.config).unwrap();
    assert!(!shown.contains(&SENDER_HEX[2..]), "{shown}");
    assert!(shown.contains("<redacted: file:"), "{shown}");
}

#[test]
fn a_literal_sender_key_is_refused_without_being_echoed() {
    let errors = errors_of(
        &ethereum_yaml(&format!("    sender_key: {SENDER_HEX}\n")),
        &[],
    );
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(
        errors[0].starts_with("registry.ethereum.sender_key: a literal secret is not allowed"),
        "{errors:#?}"
    );
    assert!(!errors[0].contains(&SENDER_HEX[2..10]), "{errors:#?}");
}

#[test]
fn a_sender_key_must_resolve_to_a_secp256k1_private_key() {
    let yaml = ethereum_yaml("    sender_key: env:SAGE_ETH_SENDER_KEY\n");
    let unset = errors_of(&yaml, &[]);
    assert_eq!(unset.len(), 1, "{unset:#?}");
    assert!(
        unset[0].contains("SAGE_ETH_SENDER_KEY is not set"),
        "{unset:#?}"
    );

    let short = errors_of(&yaml, &[("SAGE_ETH_SENDER_KEY", "0xabcdef")]);
    assert_eq!(short.len(), 1, "{short:#?}");
    assert!(short[0].contains("must hold 32 bytes"), "{short:#?}");
    assert!(!short[0].contains("abcdef"), "{short:#?}");

    let zero = format!("0x{}", "00".repeat(32));
    let not_a_scalar = errors_of(&yaml, &[("SAGE_ETH_SENDER_KEY", &zero)]);
    assert_eq!(not_a_scalar.len(), 1, "{not_a_scalar:#?}");
    assert!(
        not_a_scalar[0].contains("is not a secp256k1 private key"),
        "{not_a_scalar:#?}"
    );

    let dir = config_dir(&[("local.yaml", &yaml)]);
    load_ok(options_in(
        dir.path(),
        Environment::Local,
        &[("SAGE_ETH_SENDER_KEY", SENDER_HEX)],
    ));
}

#[test]
fn the_ethereum_keys_are_not_checked_for_the_local_backend() {
    let yaml = "registry:\n  ethereum:\n    rpc_url: https://rpc.example\n    \
                sender_key: env:NOT_SET\n    reveal_wait: 2h\n";
    let dir = config_dir(&[("local.yaml", yaml)]);
    load_ok(options_in(dir.path(), Environment::Local, &[]));
}

#[test]
fn https_and_websocket_rpc_urls_are_refused_with_the_reason() {
    for (url, says) in [
        ("https://rpc.example", "built without TLS"),
        ("wss://rpc.example/ws", "JSON-RPC over http://"),
        ("ws://127.0.0.1:8546", "JSON-RPC over http://"),
    ] {
        let yaml = ethereum_yaml("").replace("http://127.0.0.1:8545", url);
        let dir = config_dir(&[("local.yaml", &yaml)]);
        let errors = load_err(options_in(dir.path(), Environment::Local, &[]));
        assert!(
            matches!(
                &errors.errors[..],
                [ConfigError::Invalid { path, reason: Invalid::BadUrl { reason }, .. }]
                    if path == "registry.ethereum.rpc_url" && reason.contains(says)
            ),
            "{url}: {errors}"
        );
    }
}

#[test]
fn reveal_wait_and_timeouts_are_bounded() {
    let errors = errors_of(
        &ethereum_yaml("    reveal_wait: 2h\n    request_timeout: 0s\n    receipt_timeout: 0s\n"),
        &[],
    );
    assert_eq!(errors.len(), 3, "{errors:#?}");
    assert!(
        errors[0].starts_with("registry.ethereum.receipt_timeout: must be > 0"),
        "{errors:#?}"
    );
    assert!(
        errors[1].starts_with("registry.ethereum.request_timeout: must be > 0"),
        "{errors:#?}"
    );
    assert!(
        errors[2].starts_with("registry.ethereum.reveal_wait: must be at most 1h"),
        "{errors:#?}"
    );

    let dir = config_dir(&[("local.yaml", &ethereum_yaml("    reveal_wait: 5s\n"))]);
    let loaded = load_ok(options_in(dir.path(), Environment::Local, &[]));
    assert!(
        matches!(
            &loaded.warnings[..],
            [w] if w.kind == Warning::RevealBeforeCommitDelay
                && w.path == "registry.ethereum.reveal_wait"
        ),
        "{:?}",
        loaded.warnings
    );
}
