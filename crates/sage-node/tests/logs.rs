//! No key material, secret or plaintext reaches the log, at any level:
//! a node is started with a sealed identity and a management token, a
//! client runs a real handshake and sends a record, and the whole log,
//! captured at trace level, is searched for every secret in every usual
//! encoding. (One test per binary: the subscriber is process-wide.)

// The helpers unwrap too (clippy allows it only inside #[test] functions).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io;
use std::sync::{Arc, Mutex};

use sage_client::{Peer, RegistryResolver, SageClient};
use sage_config::{LogFormat, LogLevel, LoggingConfig, Secret};
use sage_core::did::Did;
use sage_core::encoding::{b64_decode, b64_encode, b64url_encode, hex_encode};
use sage_core::primitives::{KeyType, SigningKey};
use sage_node::server::{self, NodeOptions};
use sage_registry::LocalRegistry;
use sage_store::{Store, StoreOptions, SystemClock};
use tracing_subscriber::fmt::MakeWriter;

use sage_node::testing::{config_in, register_signing_agent, request, rng};

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl io::Write for Capture {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Capture {
    type Writer = Capture;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// Every encoding a secret could be logged in.
fn encodings(secret: &[u8]) -> Vec<String> {
    vec![
        hex_encode(secret),
        hex_encode(secret).to_uppercase(),
        b64_encode(secret),
        b64url_encode(secret),
        format!("{secret:?}"),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_key_material_secret_or_plaintext_is_logged_at_trace_level() {
    let capture = Capture::default();
    sage_node::ops::init_logging_with(
        &LoggingConfig {
            format: LogFormat::Json,
            level: LogLevel::Trace,
            filter: None,
        },
        capture.clone(),
    )
    .unwrap();

    let dir = tempfile::tempdir().unwrap();
    let passphrase = "log-test passphrase 9d2e";
    let token = "log-test-management-token-0123456789abcdef";
    let mut config = config_in(dir.path());
    config.identity.passphrase = Some(Secret::env("LOG_TEST_PASSPHRASE").unwrap());
    config.management.token = Some(Secret::env("LOG_TEST_TOKEN").unwrap());
    let mut options = NodeOptions::new(config);
    options.env_vars = [
        ("LOG_TEST_PASSPHRASE", passphrase),
        ("LOG_TEST_TOKEN", token),
    ]
    .into_iter()
    .collect();
    let node = server::start(options).await.unwrap();
    let base = format!("http://{}", node.local_addr());

    let client_key = SigningKey::generate(KeyType::Ed25519, &mut rng()).unwrap();
    let client_did = Did::parse("did:sage:ethereum:log-test-client").unwrap();
    let database = format!("sqlite://{}/sage.db", dir.path().display());
    let store = Store::connect(&StoreOptions::new(&database)).await.unwrap();
    let registry = LocalRegistry::new(store, Arc::new(SystemClock));
    register_signing_agent(&registry, &client_did, &client_key).await;
    let client = SageClient::builder()
        .identity(
            client_did.clone(),
            SigningKey::from_bytes(KeyType::Ed25519, client_key.to_bytes().as_slice()).unwrap(),
        )
        .resolver(RegistryResolver::new(registry))
        .build()
        .unwrap();
    let plaintext = "the secret plaintext 4f1c7a";
    let reply = client
        .send(&Peer::Did(node.did().clone()), plaintext.as_bytes(), None)
        .await
        .unwrap();
    assert!(!reply.plaintext.is_empty());

    let identity = request(
        "GET",
        &format!("{base}/v1/identity"),
        &[("authorization", &format!("Bearer {token}"))],
        Vec::new(),
    )
    .await;
    assert_eq!(identity.status, 200, "{}", identity.text());

    let mut secrets: Vec<(String, Vec<u8>)> = vec![
        (
            "node signing key".into(),
            node.identity().signing_key().to_bytes().to_vec(),
        ),
        (
            "node KEM key".into(),
            node.identity().kem_secret().to_bytes().to_vec(),
        ),
        ("client signing key".into(), client_key.to_bytes().to_vec()),
        ("passphrase".into(), passphrase.as_bytes().to_vec()),
        ("token".into(), token.as_bytes().to_vec()),
    ];
    let kek = std::fs::read_to_string(dir.path().join("key-encryption-key")).unwrap();
    secrets.push(("key-encryption key".into(), b64_decode(kek.trim()).unwrap()));
    node.shutdown().await.unwrap();

    let log = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    assert!(log.contains("request_id"), "no request id in the log");
    assert!(log.contains("node started"));
    assert!(!log.contains(plaintext), "the plaintext was logged");
    assert!(!log.contains(passphrase) && !log.contains(token));
    for (name, secret) in &secrets {
        for encoded in encodings(secret) {
            assert!(
                !log.contains(&encoded),
                "the {name} was logged as {encoded}"
            );
        }
    }
}
