//! Secret values never appear in what a loaded configuration prints.

mod common;

use common::*;
use sage_config::{Environment, SecretRef};

const TOKEN: &str = "tok-7f3c9a1e5b2d4c6f8a0b1c2d3e4f5a6b";
const PASSPHRASE: &str = "pass-phrase-9d8c7b6a";
const DB_PASSWORD: &str = "db-pa55-w0rd";

#[test]
fn resolved_secrets_never_appear_in_debug_or_serialised_forms() {
    let dir = config_dir(&[(
        "development.yaml",
        "\
storage:
  key_encryption_key: env:SAGE_KEK
database:
  url: ${SAGE_DATABASE_URL}
identity:
  passphrase: env:PASSPHRASE
management:
  token: env:TOKEN
",
    )]);
    let url = format!("postgres://sage:{DB_PASSWORD}@db:5432/sage");
    let env = [
        ("SAGE_KEK", KEK_B64),
        ("SAGE_DATABASE_URL", url.as_str()),
        ("PASSPHRASE", PASSPHRASE),
        ("TOKEN", TOKEN),
    ];
    let loaded = load_ok(options_in(dir.path(), Environment::Development, &env));
    let config = &loaded.config;

    // The values are there for the code that needs them...
    let env_vars = vars(&env);
    let token = config.management.token.as_ref().unwrap();
    assert_eq!(token.resolve(&env_vars).unwrap().expose(), TOKEN.as_bytes());
    let kek = config.storage.key_encryption_key.as_ref().unwrap();
    assert_eq!(
        kek.resolve_key(&env_vars).unwrap().as_slice(),
        (0u8..32).collect::<Vec<_>>()
    );
    assert!(config.database.url.expose().contains(DB_PASSWORD));
    assert_eq!(token.reference(), &SecretRef::Env("TOKEN".into()));

    // ...and in no printed form.
    let resolved = token.resolve(&env_vars).unwrap();
    let shown = [
        format!("{config:?}"),
        format!("{config:#?}"),
        format!("{loaded:?}"),
        format!("{resolved:?}"),
        format!("{kek:?}"),
        serde_json::to_string(config).unwrap(),
        serde_saphyr::to_string(config).unwrap(),
    ];
    for text in &shown {
        for secret in [TOKEN, PASSPHRASE, DB_PASSWORD, KEK_B64, "AAECAwQF"] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
    }
    let yaml = &shown[6];
    assert!(yaml.contains("<redacted: env:TOKEN>"), "{yaml}");
    assert!(
        yaml.contains("postgres://sage:<redacted>@db:5432/sage"),
        "{yaml}"
    );
}

#[test]
fn errors_about_a_bad_secret_do_not_echo_it() {
    let dir = config_dir(&[(
        "development.yaml",
        "\
storage:
  key_encryption_key: env:SAGE_KEK
management:
  token: env:TOKEN
",
    )]);
    let errors = load_err(options_in(
        dir.path(),
        Environment::Development,
        &[("SAGE_KEK", "this-is-not-a-key"), ("TOKEN", "short-token")],
    ));
    let text = errors.to_string();
    assert_eq!(errors.errors.len(), 2, "{text}");
    assert!(!text.contains("this-is-not-a-key"), "{text}");
    assert!(!text.contains("short-token"), "{text}");
}
