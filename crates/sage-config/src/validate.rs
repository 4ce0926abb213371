//! Rules that a well-formed configuration must also satisfy: positive
//! limits, consistent pairs of keys, known suites and components, secrets
//! that resolve, keys that the registry backend needs, and what each
//! environment requires (a key-encryption key outside `local`) or should
//! avoid (SQLite in `production`: a warning).
//!
//! Every rule runs; each failure is recorded with its key path. Secrets
//! are resolved to check them and dropped at once; messages never contain
//! their values. This module reads secret files but starts nothing.

use core::time::Duration;

use sage_core::httpsig::{ComponentId, HttpSigError, MAX_BODY_LEN};
use sage_core::primitives::{KeyType, SigningKey};
use sage_core::version::ProtocolVersion;

use crate::config::{COMMIT_MAX_DELAY, COMMIT_MIN_DELAY, PROFILE_REQUEST_COMPONENTS, SageConfig};
use crate::duration::format_duration;
use crate::env_vars::EnvVars;
use crate::environment::Environment;
use crate::error::{ConfigError, ConfigWarning, Invalid, Warning};
use crate::secret::{Secret, SecretRef};
use crate::size::ByteSize;
use crate::types::{DatabaseBackend, LogFormat, RegistryBackend};

/// Longest positive registry cache that cannot hide a revocation for
/// more than the [N] freshness bound (PROTOCOL.md §9.5).
const REGISTRY_FRESHNESS: Duration = Duration::from_secs(5);

/// Shortest accepted management token.
const MIN_TOKEN_LEN: usize = 32;

/// The outcome of [`validate`].
#[derive(Debug, Default)]
pub struct Validation {
    /// Rules broken (each [`ConfigError::Invalid`], without origin).
    pub errors: Vec<ConfigError>,
    /// Suspicious but allowed settings.
    pub warnings: Vec<ConfigWarning>,
}

impl Validation {
    fn error(&mut self, path: &str, reason: Invalid) {
        self.errors.push(ConfigError::Invalid {
            path: path.to_owned(),
            reason,
            origin: None,
        });
    }

    fn warn(&mut self, path: &str, kind: Warning) {
        self.warnings.push(ConfigWarning {
            path: path.to_owned(),
            kind,
            origin: None,
        });
    }

    fn positive(&mut self, path: &str, value: Duration) {
        if value.is_zero() {
            self.error(path, Invalid::MustBePositive);
        }
    }

    /// Resolves `secret` (when set) and returns its length.
    fn secret(&mut self, path: &str, secret: &Secret, env: &EnvVars) -> Option<usize> {
        self.secret_file_mode(path, secret);
        match secret.resolve(env) {
            Ok(value) => Some(value.len()),
            Err(e) => {
                self.error(path, Invalid::Secret(e.to_string()));
                None
            }
        }
    }

    #[cfg(unix)]
    fn secret_file_mode(&mut self, path: &str, secret: &Secret) {
        use std::os::unix::fs::PermissionsExt as _;
        if let SecretRef::File(file) = secret.reference()
            && let Ok(metadata) = std::fs::metadata(file)
        {
            let mode = metadata.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                self.warn(
                    path,
                    Warning::LooseSecretFile {
                        path: file.clone(),
                        mode,
                    },
                );
            }
        }
    }

    #[cfg(not(unix))]
    fn secret_file_mode(&mut self, _: &str, _: &Secret) {}
}

/// Checks every rule; see the module documentation.
#[must_use]
pub fn validate(config: &SageConfig, environment: Environment, env: &EnvVars) -> Validation {
    let mut v = Validation::default();
    server(config, &mut v);
    storage(config, environment, env, &mut v);
    database(config, environment, &mut v);
    session(config, &mut v);
    handshake(config, &mut v);
    rfc9421(config, &mut v);
    registry(config, environment, env, &mut v);
    identity(config, env, &mut v);
    management(config, env, &mut v);
    observability(config, environment, &mut v);
    v
}

fn server(config: &SageConfig, v: &mut Validation) {
    let server = &config.server;
    let max_body = ByteSize(u64::try_from(MAX_BODY_LEN).unwrap_or(u64::MAX));
    if server.body_limit.bytes() == 0 {
        v.error("server.body_limit", Invalid::MustBePositive);
    } else if server.body_limit > max_body {
        v.error(
            "server.body_limit",
            Invalid::TooLarge {
                limit: max_body.to_string(),
                because: Some("larger bodies cannot be digest-checked, PROTOCOL.md §5.5"),
            },
        );
    }
    v.positive("server.request_timeout", server.request_timeout);
    v.positive("server.read_timeout", server.read_timeout);
    v.positive("server.shutdown_timeout", server.shutdown_timeout);
    if let Some(url) = &server.public_url {
        public_url(url, v);
    }
}

/// `server.public_url`: an absolute `http`/`https` URL with a host, and
/// without query or fragment (it is the base of the node's endpoints).
fn public_url(url: &str, v: &mut Validation) {
    let path = "server.public_url";
    let rest = url
        .split_once("://")
        .filter(|(scheme, _)| {
            scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https")
        })
        .map(|(_, rest)| rest);
    let Some(rest) = rest else {
        v.error(
            path,
            Invalid::BadUrl {
                reason: "expected an http:// or https:// URL",
            },
        );
        return;
    };
    if rest.contains(['?', '#']) || rest.chars().any(char::is_whitespace) {
        v.error(
            path,
            Invalid::BadUrl {
                reason: "a public URL has no query, fragment or whitespace",
            },
        );
        return;
    }
    let authority = rest.split('/').next().unwrap_or_default();
    let host = authority.rsplit('@').next().unwrap_or_default();
    if host.is_empty() || host.starts_with(':') {
        v.error(
            path,
            Invalid::BadUrl {
                reason: "the URL names no host",
            },
        );
    }
}

fn storage(config: &SageConfig, environment: Environment, env: &EnvVars, v: &mut Validation) {
    if config.storage.data_dir.as_os_str().is_empty() {
        v.error("storage.data_dir", Invalid::Empty);
    }
    let path = "storage.key_encryption_key";
    match &config.storage.key_encryption_key {
        Some(secret) => {
            v.secret_file_mode(path, secret);
            if let Err(e) = secret.resolve_key(env) {
                v.error(path, Invalid::Secret(e.to_string()));
            }
        }
        None if environment.requires_key_encryption_key() => v.error(
            path,
            Invalid::Required {
                when: format!("in {environment} (a reference such as env:SAGE_KEK)"),
            },
        ),
        None => {}
    }
}

fn database(config: &SageConfig, environment: Environment, v: &mut Validation) {
    let pool = &config.database.pool;
    if pool.max_connections == 0 {
        v.error("database.pool.max_connections", Invalid::MustBePositive);
    } else if pool.min_connections > pool.max_connections {
        v.error(
            "database.pool.min_connections",
            Invalid::TooLarge {
                limit: pool.max_connections.to_string(),
                because: Some("database.pool.max_connections"),
            },
        );
    }
    v.positive("database.pool.acquire_timeout", pool.acquire_timeout);
    if environment == Environment::Production
        && config.database.url.backend() == DatabaseBackend::Sqlite
    {
        v.warn("database.url", Warning::SqliteInProduction);
    }
}

fn session(config: &SageConfig, v: &mut Validation) {
    let session = &config.session;
    v.positive("session.max_age", session.max_age);
    v.positive("session.idle_timeout", session.idle_timeout);
    if session.max_messages == 0 {
        v.error("session.max_messages", Invalid::MustBePositive);
    }
    if session.rekey_interval == 0 {
        v.warn("session.rekey_interval", Warning::RekeyDisabled);
    }
    if !session.max_age.is_zero() && session.idle_timeout > session.max_age {
        v.warn("session.idle_timeout", Warning::IdleTimeoutUnreachable);
    }
}

fn handshake(config: &SageConfig, v: &mut Validation) {
    let handshake = &config.handshake;
    v.positive("handshake.clock_skew", handshake.clock_skew);
    let window = handshake.clock_skew.saturating_mul(2);
    if handshake.nonce_ttl < window {
        v.error(
            "handshake.nonce_ttl",
            Invalid::TooSmall {
                limit: format_duration(window),
                because: Some(
                    "twice handshake.clock_skew: a replayed init must not outlive its nonce",
                ),
            },
        );
    }
    let supported = ProtocolVersion::V1Draft1.labels().hpke_suite;
    if handshake.allowed_suites.is_empty() {
        v.error("handshake.allowed_suites", Invalid::Empty);
    }
    for suite in &handshake.allowed_suites {
        if suite != supported {
            v.error(
                "handshake.allowed_suites",
                Invalid::UnknownSuite {
                    suite: suite.clone(),
                    supported,
                },
            );
        }
    }
}

/// Reads a configured component: a bare name (`@method`, `content-type`,
/// `@query-param;name="x"`) or a serialised identifier (`"@method"`).
fn parse_component(text: &str) -> Result<ComponentId, HttpSigError> {
    if text.starts_with('"') {
        return ComponentId::parse(text);
    }
    let quoted = match text.split_once(';') {
        Some((name, params)) => format!("\"{name}\";{params}"),
        None => format!("\"{text}\""),
    };
    ComponentId::parse(&quoted)
}

fn rfc9421(config: &SageConfig, v: &mut Validation) {
    let rfc = &config.rfc9421;
    if rfc.max_age.is_zero() {
        v.warn("rfc9421.max_age", Warning::SignatureAgeUnchecked);
    }
    if !rfc.require_nonce {
        v.warn("rfc9421.require_nonce", Warning::NonceNotRequired);
    }
    let path = "rfc9421.required_components";
    let mut covered = Vec::new();
    for entry in &rfc.required_components {
        match parse_component(entry) {
            Ok(id) if id.is_req() => v.error(
                path,
                Invalid::ReqComponentInRequest {
                    component: entry.clone(),
                },
            ),
            Ok(id) => covered.push(id.as_str().to_owned()),
            Err(e) => v.error(
                path,
                Invalid::BadComponent {
                    component: entry.clone(),
                    reason: e.to_string(),
                },
            ),
        }
    }
    for component in PROFILE_REQUEST_COMPONENTS {
        if !covered.contains(&format!("\"{component}\"")) {
            v.warn(path, Warning::WeakComponents { component });
        }
    }
}

fn registry(config: &SageConfig, environment: Environment, env: &EnvVars, v: &mut Validation) {
    let registry = &config.registry;
    if registry.cache_ttl > REGISTRY_FRESHNESS {
        v.warn("registry.cache_ttl", Warning::LongRegistryCache);
    }
    match registry.backend {
        RegistryBackend::Local => {
            if environment == Environment::Production {
                v.warn("registry.backend", Warning::LocalRegistryInProduction);
            }
        }
        RegistryBackend::Ethereum => {
            let ethereum = &registry.ethereum;
            let required = || Invalid::Required {
                when: "when registry.backend is ethereum".to_owned(),
            };
            match &ethereum.rpc_url {
                None => v.error("registry.ethereum.rpc_url", required()),
                Some(url) => rpc_url(url, v),
            }
            if ethereum.contract_address.is_none() {
                v.error("registry.ethereum.contract_address", required());
            }
            match ethereum.chain_id {
                None => v.error("registry.ethereum.chain_id", required()),
                Some(0) => v.error("registry.ethereum.chain_id", Invalid::MustBePositive),
                Some(_) => {}
            }
            if let Some(secret) = &ethereum.sender_key {
                sender_key(secret, env, v);
            }
            reveal_wait(ethereum.reveal_wait, v);
            v.positive(
                "registry.ethereum.request_timeout",
                ethereum.request_timeout,
            );
            v.positive(
                "registry.ethereum.receipt_timeout",
                ethereum.receipt_timeout,
            );
        }
    }
}

/// The sender key must resolve to a usable secp256k1 private key: a
/// misconfigured account is better found here than after a commit paid
/// its stake.
fn sender_key(secret: &Secret, env: &EnvVars, v: &mut Validation) {
    let path = "registry.ethereum.sender_key";
    v.secret_file_mode(path, secret);
    match secret.resolve_key(env) {
        Ok(key) => {
            if SigningKey::from_bytes(KeyType::Secp256k1, key.as_slice()).is_err() {
                v.error(
                    path,
                    Invalid::Secret(format!(
                        "{} is not a secp256k1 private key (zero, or not below the curve order)",
                        secret.reference()
                    )),
                );
            }
        }
        Err(e) => v.error(path, Invalid::Secret(e.to_string())),
    }
}

/// A reveal later than the registry's maximum delay always fails (the
/// commitment has expired); one before its minimum delay fails unless the
/// chain's clock runs ahead of this machine's (a development chain).
fn reveal_wait(wait: Duration, v: &mut Validation) {
    let path = "registry.ethereum.reveal_wait";
    if wait > COMMIT_MAX_DELAY {
        v.error(
            path,
            Invalid::TooLarge {
                limit: format_duration(COMMIT_MAX_DELAY),
                because: Some("the registry refuses a reveal once its commitment is 1h old"),
            },
        );
    } else if wait < COMMIT_MIN_DELAY {
        v.warn(path, Warning::RevealBeforeCommitDelay);
    }
}

/// The Ethereum client speaks JSON-RPC over plain HTTP only (it is built
/// without TLS), so any other scheme would fail on every request: it is
/// refused here, with what to do instead.
fn rpc_url(url: &str, v: &mut Validation) {
    let path = "registry.ethereum.rpc_url";
    let Some((scheme, rest)) = url.split_once("://") else {
        v.error(
            path,
            Invalid::BadUrl {
                reason: "not a URL: expected http://HOST[:PORT]",
            },
        );
        return;
    };
    let refusal = match scheme.to_ascii_lowercase().as_str() {
        "http" => None,
        "https" => Some(
            "https:// is not supported: the Ethereum client is built without TLS; \
             use http:// to a node on this machine, or to a local TLS-terminating proxy",
        ),
        "ws" | "wss" => Some(
            "ws:// and wss:// are not supported: the Ethereum client speaks JSON-RPC \
             over http://",
        ),
        _ => Some("unsupported scheme: expected http://"),
    };
    if let Some(reason) = refusal {
        v.error(path, Invalid::BadUrl { reason });
        return;
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit('@').next().unwrap_or_default();
    let host = if host_port.starts_with('[') {
        host_port
            .split(']')
            .next()
            .map_or("", |h| h.trim_start_matches('['))
    } else {
        host_port.split(':').next().unwrap_or_default()
    };
    if host.is_empty() {
        v.error(
            path,
            Invalid::BadUrl {
                reason: "the URL names no host",
            },
        );
        return;
    }
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if !loopback {
        v.warn(path, Warning::InsecureRpc { scheme: "http" });
    }
}

fn identity(config: &SageConfig, env: &EnvVars, v: &mut Validation) {
    let identity = &config.identity;
    if let Some(did) = &identity.did
        && let Err(e) = sage_core::did::Did::parse(did)
    {
        v.error("identity.did", Invalid::BadDid(e.to_string()));
    }
    for (path, file) in [
        ("identity.signing_key", &identity.signing_key),
        ("identity.kem_key", &identity.kem_key),
    ] {
        if file.as_os_str().is_empty() {
            v.error(path, Invalid::Empty);
        }
    }
    if let Some(passphrase) = &identity.passphrase {
        v.secret("identity.passphrase", passphrase, env);
    }
}

fn management(config: &SageConfig, env: &EnvVars, v: &mut Validation) {
    let path = "management.token";
    if let Some(token) = &config.management.token
        && let Some(len) = v.secret(path, token, env)
        && len < MIN_TOKEN_LEN
    {
        v.error(
            path,
            Invalid::TooSmall {
                limit: format!("{MIN_TOKEN_LEN} bytes"),
                because: Some("a bearer token must resist guessing"),
            },
        );
    }
}

fn observability(config: &SageConfig, environment: Environment, v: &mut Validation) {
    let metrics = &config.metrics;
    if !metrics.path.starts_with('/') {
        v.error("metrics.path", Invalid::NotAbsolutePath);
    }
    match metrics.listen {
        Some(listen) if listen == config.server.listen => v.error(
            "metrics.listen",
            Invalid::Clash {
                other: "server.listen",
            },
        ),
        None if metrics.enabled && environment == Environment::Production => {
            v.warn("metrics.listen", Warning::PublicMetrics);
        }
        _ => {}
    }
    if config
        .logging
        .filter
        .as_deref()
        .is_some_and(|f| f.trim().is_empty())
    {
        v.error("logging.filter", Invalid::Empty);
    }
    if environment == Environment::Production && config.logging.format == LogFormat::Text {
        v.warn("logging.format", Warning::TextLogsInProduction);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_defaults_are_valid_in_local_without_warnings() {
        let v = validate(
            &SageConfig::default(),
            Environment::Local,
            &EnvVars::default(),
        );
        assert!(v.errors.is_empty(), "{:?}", v.errors);
        assert!(v.warnings.is_empty(), "{:?}", v.warnings);
    }

    #[test]
    fn components_are_read_bare_or_serialised() {
        assert_eq!(parse_component("@method").unwrap().as_str(), "\"@method\"");
        assert_eq!(
            parse_component("\"content-type\"").unwrap().as_str(),
            "\"content-type\""
        );
        assert!(parse_component("@method;req").unwrap().is_req());
        assert!(parse_component("@no-such-thing").is_err());
    }

    #[test]
    fn public_urls_must_be_absolute_http_with_a_host() {
        let mut v = Validation::default();
        public_url("https://agent.example.com", &mut v);
        public_url("http://127.0.0.1:8080/sage", &mut v);
        assert!(v.errors.is_empty(), "{v:?}");
        for refused in [
            "agent.example.com",
            "ftp://agent.example.com",
            "https://",
            "https://:8080/",
            "https://agent.example.com/?x=1",
            "https://agent.example.com/#top",
        ] {
            let before = v.errors.len();
            public_url(refused, &mut v);
            assert_eq!(v.errors.len(), before + 1, "{refused}");
        }
    }

    #[test]
    fn rpc_urls_must_be_http_and_warn_when_remote() {
        let mut v = Validation::default();
        rpc_url("http://127.0.0.1:8545", &mut v);
        rpc_url("http://user:pw@[::1]:8546/rpc", &mut v);
        rpc_url("HTTP://localhost", &mut v);
        assert!(v.errors.is_empty() && v.warnings.is_empty(), "{v:?}");
        rpc_url("http://rpc.example:8545", &mut v);
        assert_eq!(v.warnings.len(), 1);
        for refused in [
            "https://rpc.example",
            "wss://rpc.example/ws",
            "ws://127.0.0.1:8546",
            "ftp://rpc.example",
            "rpc.example",
            "http://",
        ] {
            let before = v.errors.len();
            rpc_url(refused, &mut v);
            assert_eq!(v.errors.len(), before + 1, "{refused}");
        }
        let https = v.errors[0].to_string();
        assert!(https.contains("without TLS"), "{https}");
    }

    #[test]
    fn reveal_waits_past_the_commitment_lifetime_are_errors_and_short_ones_warnings() {
        let mut v = Validation::default();
        reveal_wait(Duration::from_secs(65), &mut v);
        reveal_wait(COMMIT_MAX_DELAY, &mut v);
        assert!(v.errors.is_empty() && v.warnings.is_empty(), "{v:?}");
        reveal_wait(Duration::from_secs(5), &mut v);
        assert_eq!(v.warnings.len(), 1);
        reveal_wait(COMMIT_MAX_DELAY + Duration::from_secs(1), &mut v);
        assert_eq!(v.errors.len(), 1);
    }
}
