//! The configuration tree: [`SageConfig`], one struct per section, and the
//! built-in defaults (the lowest layer).
//!
//! Defaults follow PROTOCOL.md: handshake clock skew 120 s and nonce
//! memory 10 min (§6.5), session lifetime 1 h / idle 10 min / 1000
//! messages and rekey interval 256 (§7.1.5, §7.1.7), RFC 9421 maximum age
//! and clock skew 300 s with a required nonce (§5.3, §5.5). Every struct
//! denies unknown keys; the loader collects those with their full path
//! rather than stopping at the first one.
//!
//! This module only describes values and their syntax; the rules that
//! relate values to each other or to the environment live in
//! [`crate::validate`].

use core::net::{IpAddr, Ipv4Addr, SocketAddr};
use core::time::Duration;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::secret::Secret;
use crate::size::ByteSize;
use crate::types::{DatabaseUrl, EthereumAddress, LogFormat, LogLevel, RegistryBackend};

/// The whole configuration of a SAGE node.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SageConfig {
    /// The HTTP server.
    pub server: ServerConfig,
    /// Where node data lives and how stored keys are protected.
    pub storage: StorageConfig,
    /// The database.
    pub database: DatabaseConfig,
    /// Session lifetime and key rotation (PROTOCOL.md §7.1).
    pub session: SessionConfig,
    /// HPKE handshake acceptance (PROTOCOL.md §6).
    pub handshake: HandshakeConfig,
    /// RFC 9421 HTTP message signature verification (PROTOCOL.md §5).
    pub rfc9421: Rfc9421Config,
    /// Where agent records come from (PROTOCOL.md §9).
    pub registry: RegistryConfig,
    /// This node's own identity keys.
    pub identity: IdentityConfig,
    /// The management API.
    pub management: ManagementConfig,
    /// Prometheus metrics.
    pub metrics: MetricsConfig,
    /// Logs.
    pub logging: LoggingConfig,
}

impl SageConfig {
    /// `path` made absolute against `storage.data_dir` when it is relative.
    #[must_use]
    pub fn data_path(&self, path: &Path) -> PathBuf {
        if path.is_absolute() {
            path.to_path_buf()
        } else {
            self.storage.data_dir.join(path)
        }
    }
}

/// `[server]`: the HTTP listener.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address and port to listen on (default `127.0.0.1:8080`).
    pub listen: SocketAddr,
    /// Largest request body accepted (default 1 MiB, at most 16 MiB: the
    /// RFC 9530 digest of a larger body is never computed, PROTOCOL.md §5.5).
    pub body_limit: ByteSize,
    /// Time allowed for a whole request, body and handler included
    /// (default 30 s).
    #[serde(with = "crate::duration::serde_human")]
    pub request_timeout: Duration,
    /// Time allowed to receive the request head (default 10 s).
    #[serde(with = "crate::duration::serde_human")]
    pub read_timeout: Duration,
    /// Time in-flight requests get to finish on shutdown (default 30 s).
    #[serde(with = "crate::duration::serde_human")]
    pub shutdown_timeout: Duration,
    /// The URL other agents reach this node at (`http://` or `https://`,
    /// no query or fragment), when it differs from `http://<listen>`:
    /// behind a proxy, a load balancer or a public name. It is the
    /// endpoint of the node's registry record and agent card.
    pub public_url: Option<String>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 8080),
            body_limit: ByteSize::mib(1),
            request_timeout: Duration::from_secs(30),
            read_timeout: Duration::from_secs(10),
            shutdown_timeout: Duration::from_secs(30),
            public_url: None,
        }
    }
}

/// `[storage]`: the data directory and the key-encryption key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StorageConfig {
    /// Directory of node data: the SQLite file, identity keys, the local
    /// key-encryption key (default `./data`).
    pub data_dir: PathBuf,
    /// Key that wraps session keys at rest: a secret reference whose value
    /// is 32 bytes in base64 or hex. Required outside `local`; in `local`,
    /// when absent, the node generates one into the data directory (mode
    /// 0600) on first run.
    pub key_encryption_key: Option<Secret>,
}

impl Default for StorageConfig {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("./data"),
            key_encryption_key: None,
        }
    }
}

/// `[database]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    /// `sqlite://PATH` or `postgres://…` (default
    /// `sqlite://<storage.data_dir>/sage.db`). A password in the URL is
    /// never shown.
    pub url: DatabaseUrl,
    /// Connection pool.
    pub pool: PoolConfig,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self {
            url: DatabaseUrl::sqlite_file("./data/sage.db"),
            pool: PoolConfig::default(),
        }
    }
}

/// `[database.pool]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PoolConfig {
    /// Most open connections (default 10).
    pub max_connections: u32,
    /// Connections kept open when idle (default 0).
    pub min_connections: u32,
    /// Longest wait for a free connection (default 5 s).
    #[serde(with = "crate::duration::serde_human")]
    pub acquire_timeout: Duration,
    /// Idle time after which a connection is closed; 0 keeps idle
    /// connections (default 10 min).
    #[serde(with = "crate::duration::serde_human")]
    pub idle_timeout: Duration,
    /// Age after which a connection is replaced; 0 never replaces
    /// (default 30 min).
    #[serde(with = "crate::duration::serde_human")]
    pub max_lifetime: Duration,
}

impl Default for PoolConfig {
    fn default() -> Self {
        Self {
            max_connections: 10,
            min_connections: 0,
            acquire_timeout: Duration::from_secs(5),
            idle_timeout: Duration::from_secs(600),
            max_lifetime: Duration::from_secs(1800),
        }
    }
}

/// `[session]`: lifetime of an established session (PROTOCOL.md §7.1.7)
/// and its key rotation (§7.1.5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SessionConfig {
    /// Absolute session age limit (default 1 h; must be > 0).
    #[serde(with = "crate::duration::serde_human")]
    pub max_age: Duration,
    /// Idle limit (default 10 min; must be > 0).
    #[serde(with = "crate::duration::serde_human")]
    pub idle_timeout: Duration,
    /// Records sent plus received before the session expires (default
    /// 1000; must be > 0).
    pub max_messages: u64,
    /// Records per key generation (default 256). 0 disables rotation, as in
    /// the record layer (PROTOCOL.md §18.2), and is warned about.
    pub rekey_interval: u64,
}

impl Default for SessionConfig {
    fn default() -> Self {
        let core = sage_core::session::SessionConfig::DEFAULT;
        Self {
            max_age: core.policy.max_age,
            idle_timeout: core.policy.idle_timeout,
            max_messages: core.policy.max_messages,
            rekey_interval: core.rekey_interval,
        }
    }
}

impl SessionConfig {
    /// The core's session configuration.
    #[must_use]
    pub fn to_core(&self) -> sage_core::session::SessionConfig {
        sage_core::session::SessionConfig {
            rekey_interval: self.rekey_interval,
            policy: sage_core::session::SessionPolicy {
                max_age: self.max_age,
                idle_timeout: self.idle_timeout,
                max_messages: self.max_messages,
            },
        }
    }
}

/// `[handshake]`: what a responder accepts (PROTOCOL.md §6.5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HandshakeConfig {
    /// Largest accepted `|ts − now|` of an init payload (default 120 s).
    #[serde(with = "crate::duration::serde_human")]
    pub clock_skew: Duration,
    /// How long a `(ctxID, nonce)` is remembered (default 10 min; at least
    /// twice `clock_skew`).
    #[serde(with = "crate::duration::serde_human")]
    pub nonce_ttl: Duration,
    /// HPKE suites accepted (default `[hpke-base+x25519+hkdf-sha256]`).
    pub allowed_suites: Vec<String>,
    /// Whether an init without a valid anti-DoS cookie is refused
    /// (default false).
    pub require_cookie: bool,
}

impl Default for HandshakeConfig {
    fn default() -> Self {
        Self {
            clock_skew: Duration::from_secs(120),
            nonce_ttl: Duration::from_secs(600),
            allowed_suites: vec![
                sage_core::version::ProtocolVersion::V1Draft1
                    .labels()
                    .hpke_suite
                    .to_owned(),
            ],
            require_cookie: false,
        }
    }
}

/// `[rfc9421]`: HTTP message signature verification of requests
/// (PROTOCOL.md §5.3, §5.5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Rfc9421Config {
    /// Largest accepted `now − created` (default 300 s; 0 disables the age
    /// check, which is warned about).
    #[serde(with = "crate::duration::serde_human")]
    pub max_age: Duration,
    /// How far `created` may lie in the future (default 300 s).
    #[serde(with = "crate::duration::serde_human")]
    pub clock_skew: Duration,
    /// Components a request signature must cover, as names (`@method`,
    /// `content-type`) or serialised identifiers. `content-digest` is
    /// required on top whenever there is a body. Default: `@method`,
    /// `@target-uri`, `@authority`.
    pub required_components: Vec<String>,
    /// Whether a request signature must carry `nonce` (default true).
    pub require_nonce: bool,
}

impl Default for Rfc9421Config {
    fn default() -> Self {
        Self {
            max_age: Duration::from_secs(300),
            clock_skew: Duration::from_secs(300),
            required_components: PROFILE_REQUEST_COMPONENTS
                .iter()
                .map(|c| (*c).to_owned())
                .collect(),
            require_nonce: true,
        }
    }
}

/// Components a strict verifier requires of every request (§5.3).
pub(crate) const PROFILE_REQUEST_COMPONENTS: [&str; 3] = ["@method", "@target-uri", "@authority"];

/// `[registry]`: where agent records are read (PROTOCOL.md §9).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RegistryConfig {
    /// `local` (records in this node's database) or `ethereum`.
    pub backend: RegistryBackend,
    /// How long a positive resolution is reused (default 5 s; longer is
    /// warned about, PROTOCOL.md §9.5).
    #[serde(with = "crate::duration::serde_human")]
    pub cache_ttl: Duration,
    /// The Ethereum registry; required when `backend` is `ethereum`.
    pub ethereum: EthereumConfig,
}

impl Default for RegistryConfig {
    fn default() -> Self {
        Self {
            backend: RegistryBackend::Local,
            cache_ttl: Duration::from_secs(5),
            ethereum: EthereumConfig::default(),
        }
    }
}

/// `[registry.ethereum]`: the `AgentCardRegistry` contract and the account
/// that writes to it (PROTOCOL.md §8.2–§8.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EthereumConfig {
    /// JSON-RPC endpoint. Only `http://` is usable: the Ethereum client is
    /// built without TLS, so an `https://` node is reached through a node
    /// or TLS-terminating proxy on this machine.
    pub rpc_url: Option<String>,
    /// Address of the registry contract.
    pub contract_address: Option<EthereumAddress>,
    /// Chain id the endpoint must report.
    pub chain_id: Option<u64>,
    /// The account that signs and pays for registry transactions (it owns
    /// the records it registers): a secret reference whose value is the
    /// account's secp256k1 private key, 32 bytes in hex (`0x` optional) or
    /// base64. Only writes need it; resolution never does.
    pub sender_key: Option<Secret>,
    /// How long a registration waits between its commit and its reveal
    /// (default 65 s: the registry's 60 s minimum, §8.3, plus a margin for
    /// the next block's timestamp; at most 1 h, when the commitment
    /// expires).
    #[serde(with = "crate::duration::serde_human")]
    pub reveal_wait: Duration,
    /// Time allowed for one JSON-RPC request (default 30 s).
    #[serde(with = "crate::duration::serde_human")]
    pub request_timeout: Duration,
    /// How long a transaction's receipt is awaited (default 2 min).
    #[serde(with = "crate::duration::serde_human")]
    pub receipt_timeout: Duration,
}

/// The registry's minimum delay between a commit and its reveal
/// (PROTOCOL.md §8.3; the contract's `COMMIT_MIN_DELAY`).
pub(crate) const COMMIT_MIN_DELAY: Duration = Duration::from_secs(60);

/// The registry's maximum delay between a commit and its reveal
/// (PROTOCOL.md §8.3; the contract's `COMMIT_MAX_DELAY`).
pub(crate) const COMMIT_MAX_DELAY: Duration = Duration::from_secs(3600);

impl Default for EthereumConfig {
    fn default() -> Self {
        Self {
            rpc_url: None,
            contract_address: None,
            chain_id: None,
            sender_key: None,
            reveal_wait: COMMIT_MIN_DELAY + Duration::from_secs(5),
            request_timeout: Duration::from_secs(30),
            receipt_timeout: Duration::from_secs(120),
        }
    }
}

/// `[identity]`: this node's keys. Relative paths are relative to
/// `storage.data_dir`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IdentityConfig {
    /// The node agent's `did:sage` DID, when it has one.
    pub did: Option<String>,
    /// Signing key file (JWK or PEM; default `identity/signing.jwk`).
    pub signing_key: PathBuf,
    /// X25519 key-agreement key file for the handshake (default
    /// `identity/kem.jwk`).
    pub kem_key: PathBuf,
    /// Passphrase of encrypted key files, as a secret reference.
    pub passphrase: Option<Secret>,
}

impl Default for IdentityConfig {
    fn default() -> Self {
        Self {
            did: None,
            signing_key: PathBuf::from("identity/signing.jwk"),
            kem_key: PathBuf::from("identity/kem.jwk"),
            passphrase: None,
        }
    }
}

/// `[management]`: the management API.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ManagementConfig {
    /// Bearer token of the management API, as a secret reference (at least
    /// 32 bytes). Without a token the management API is not served.
    pub token: Option<Secret>,
}

/// `[metrics]`: Prometheus metrics.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsConfig {
    /// Whether metrics are served (default true).
    pub enabled: bool,
    /// A separate listener for metrics; when absent they are served on
    /// `server.listen`.
    pub listen: Option<SocketAddr>,
    /// HTTP path of the metrics (default `/metrics`).
    pub path: String,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            listen: None,
            path: "/metrics".to_owned(),
        }
    }
}

/// `[logging]`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LoggingConfig {
    /// `text` or `json` (default text).
    pub format: LogFormat,
    /// Default level (default info).
    pub level: LogLevel,
    /// A `tracing` filter (`sage=debug,sqlx=warn`) that replaces `level`.
    pub filter: Option<String>,
}
