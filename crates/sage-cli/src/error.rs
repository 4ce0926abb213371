//! Why a command failed, and the one mapping from cause to exit code.
//!
//! Messages name what was wrong (file, field, reason) and never include
//! key material: key-file errors carry only the parser's verdict, never
//! the text that was read. Configuration errors never show a secret's
//! value, and database errors name the database by its URL with the
//! password redacted.

use core::fmt;
use core::time::Duration;
use std::io;
use std::path::{Path, PathBuf};

use sage_client::ClientError;
use sage_config::{ConfigError, ConfigErrors};
use sage_core::did::DidError;
use sage_core::jcs::JcsError;
use sage_core::primitives::jwk::JwkError;
use sage_core::primitives::pem::PemError;
use sage_core::primitives::{KeyError, SignatureError};
use sage_core::time::Timestamp;
use sage_registry::RegistryError;
use sage_registry_eth::EthRegistryError;
use sage_store::StoreError;
use sage_vectors::RunnerError;
use serde_json::{Map, Value, json};
use sqlx::migrate::MigrateError;

/// Exit status: success.
pub(crate) const EXIT_OK: u8 = 0;
/// Exit status: a signature, digest, vector or freshness check failed.
pub(crate) const EXIT_VERIFICATION_FAILED: u8 = 1;
/// Exit status: arguments, key file, JSON, HTTP message, DID or
/// configuration is malformed, or a database command was refused.
pub(crate) const EXIT_INVALID_INPUT: u8 = 2;
/// Exit status: a file could not be read or written, or the database
/// failed.
pub(crate) const EXIT_IO: u8 = 3;

/// What an I/O error was doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IoAction {
    Read,
    Write,
    Create,
}

impl fmt::Display for IoAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Read => "cannot read",
            Self::Write => "cannot write",
            Self::Create => "cannot create",
        })
    }
}

/// Why a key file was refused.
#[derive(Debug)]
pub(crate) enum KeyFileProblem {
    /// Neither a PEM document nor a JSON object.
    UnknownFormat,
    /// Not UTF-8 text.
    NotText,
    Jwk(JwkError),
    Pem(PemError),
    /// The key cannot do what the command needs (e.g. an X25519 key to sign).
    Unusable(KeyError),
    /// A public key where the command needs the private key.
    NotPrivate,
}

impl fmt::Display for KeyFileProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownFormat => f.write_str("not a JWK (JSON object) or PEM document"),
            Self::NotText => f.write_str("not UTF-8 text"),
            Self::Jwk(e) => write!(f, "{e}"),
            Self::Pem(e) => write!(f, "{e}"),
            Self::Unusable(e) => write!(f, "{e}"),
            Self::NotPrivate => {
                f.write_str("holds a public key; this command needs the private key")
            }
        }
    }
}

/// A command failure. [`CliError::exit_code`] is the only place where a
/// cause becomes an exit status.
#[derive(Debug)]
pub(crate) enum CliError {
    /// A file could not be read, created or written.
    Io {
        path: PathBuf,
        action: IoAction,
        source: io::Error,
    },
    /// The output file exists and `--force` was not given.
    WouldOverwrite { path: PathBuf },
    /// A command-line argument is unusable.
    BadArgument {
        argument: &'static str,
        reason: String,
    },
    /// A key file is malformed or unusable for the command.
    BadKeyFile {
        path: PathBuf,
        problem: KeyFileProblem,
    },
    /// JSON refused by the strict parser.
    BadJson { source: String, error: JcsError },
    /// A raw HTTP message that does not parse or cannot be signed.
    BadHttpMessage { source: String, reason: String },
    /// A DID that does not parse.
    BadDid { did: String, error: DidError },
    /// A vector directory that cannot be run.
    BadVectors(RunnerError),
    /// A raw signature that does not verify.
    BadSignature(SignatureError),
    /// An HTTP message signature that does not verify, with its §13.6
    /// diagnostic code.
    HttpVerification { code: &'static str, reason: String },
    /// Vectors ran and some failed (each is already printed).
    VectorsFailed { failed: usize },
    /// The configuration is invalid, or one of its files unreadable: every
    /// error and warning of the load.
    Config(ConfigErrors),
    /// A database command failed on the database `database` (its URL,
    /// password redacted).
    Store { database: String, error: StoreError },
    /// A database command against production without `--yes`.
    NotConfirmed { environment: &'static str },
    /// A registry operation or resolution failed (`sage did ...`).
    Registry(RegistryError),
    /// The Ethereum node at `rpc_url` cannot be used for the registry at
    /// `contract`: unreachable, serving another chain, holding no contract
    /// there, or refusing the sender (`sage did ... --registry ethereum`).
    Chain {
        rpc_url: String,
        contract: String,
        error: EthRegistryError,
    },
    /// `sage did activate` before the registry's activation delay ran out.
    ActivationTooEarly {
        did: String,
        /// The first block time at which activation is accepted.
        activatable_at: Timestamp,
        /// The registry's activation delay, in seconds after registration.
        delay_secs: u64,
    },
    /// The registry refused a reveal as too early: the configured wait
    /// between commit and reveal is shorter than the chain's delay.
    RevealTooEarly { reveal_wait: Duration },
    /// `sage send` / `sage handshake` failed: resolution, the node, or a
    /// check of its answer.
    Client(ClientError),
}

impl CliError {
    /// The process exit status of this failure.
    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            Self::BadSignature(_) | Self::HttpVerification { .. } | Self::VectorsFailed { .. } => {
                EXIT_VERIFICATION_FAILED
            }
            Self::BadArgument { .. }
            | Self::BadKeyFile { .. }
            | Self::BadJson { .. }
            | Self::BadHttpMessage { .. }
            | Self::BadDid { .. }
            | Self::NotConfirmed { .. } => EXIT_INVALID_INPUT,
            Self::BadVectors(RunnerError::Io { .. }) => EXIT_IO,
            Self::BadVectors(_) => EXIT_INVALID_INPUT,
            Self::Io { .. } | Self::WouldOverwrite { .. } => EXIT_IO,
            // Only unreadable files is an I/O failure; anything invalid
            // (alone or beside them) is the user's input.
            Self::Config(errors) => {
                let unreadable = |e: &ConfigError| matches!(e, ConfigError::Read { .. });
                if !errors.errors.is_empty() && errors.errors.iter().all(unreadable) {
                    EXIT_IO
                } else {
                    EXIT_INVALID_INPUT
                }
            }
            Self::Store { error, .. } => store_exit_code(error),
            Self::Registry(error) => registry_exit_code(error),
            Self::Chain { error, .. } => chain_exit_code(error),
            Self::ActivationTooEarly { .. } | Self::RevealTooEarly { .. } => EXIT_INVALID_INPUT,
            Self::Client(error) => client_exit_code(error),
        }
    }

    /// Members of the JSON form of this failure besides `ok`, `exit_code`,
    /// `code` and `error`: the listed errors of a configuration, the
    /// database of a store failure.
    pub(crate) fn json_details(&self) -> Map<String, Value> {
        let mut details = Map::new();
        match self {
            Self::Config(ConfigErrors { errors, warnings }) => {
                let errors: Vec<Value> = errors
                    .iter()
                    .map(|e| json!({ "path": e.path(), "message": e.to_string() }))
                    .collect();
                let warnings: Vec<Value> = warnings
                    .iter()
                    .map(|w| json!({ "path": w.path, "message": w.to_string() }))
                    .collect();
                details.insert("valid".into(), false.into());
                details.insert("errors".into(), errors.into());
                details.insert("warnings".into(), warnings.into());
            }
            Self::Store { database, .. } => {
                details.insert("database".into(), database.clone().into());
            }
            Self::Registry(error) => {
                let problem = serde_json::to_value(error.problem()).unwrap_or(Value::Null);
                details.insert("problem".into(), problem);
            }
            Self::Chain {
                rpc_url, contract, ..
            } => {
                details.insert("rpc_url".into(), rpc_url.clone().into());
                details.insert("contract_address".into(), contract.clone().into());
            }
            Self::ActivationTooEarly { activatable_at, .. } => {
                details.insert("activatable_at".into(), activatable_at.to_rfc3339().into());
            }
            _ => {}
        }
        details
    }

    /// The §13.6 diagnostic code, for failures that have one.
    pub(crate) fn diagnostic_code(&self) -> Option<&'static str> {
        match self {
            Self::HttpVerification { code, .. } => Some(code),
            Self::BadSignature(_) => Some("sig.bad"),
            Self::BadDid { error, .. } => Some(error.code()),
            Self::Registry(error) => Some(error.code()),
            Self::Chain {
                error: EthRegistryError::Unreachable(_) | EthRegistryError::ReceiptTimeout,
                ..
            } => Some("record.unreachable"),
            Self::ActivationTooEarly { .. } | Self::RevealTooEarly { .. } => {
                Some("registry.rejected")
            }
            Self::Client(ClientError::Resolve(error)) => Some(error.code()),
            _ => None,
        }
    }

    pub(crate) fn io(path: &Path, action: IoAction) -> impl FnOnce(io::Error) -> Self + '_ {
        move |source| Self::Io {
            path: path.to_path_buf(),
            action,
            source,
        }
    }

    pub(crate) fn key_file(path: &Path, problem: KeyFileProblem) -> Self {
        Self::BadKeyFile {
            path: path.to_path_buf(),
            problem,
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io {
                path,
                action,
                source,
            } => write!(f, "{action} {}: {source}", path.display()),
            Self::WouldOverwrite { path } => write!(
                f,
                "{} exists; refusing to overwrite it (use --force)",
                path.display()
            ),
            Self::BadArgument { argument, reason } => write!(f, "{argument}: {reason}"),
            Self::BadKeyFile { path, problem } => {
                write!(f, "key file {}: {problem}", path.display())
            }
            Self::BadJson { source, error } => write!(f, "{source}: invalid JSON: {error}"),
            Self::BadHttpMessage { source, reason } => {
                write!(f, "{source}: invalid HTTP message: {reason}")
            }
            Self::BadDid { did, error } => write!(f, "{did:?} is not a did:sage DID: {error}"),
            Self::BadVectors(e) => write!(f, "{e}"),
            Self::BadSignature(e) => write!(f, "signature does not verify: {e}"),
            Self::HttpVerification { code, reason } => write!(f, "{code}: {reason}"),
            Self::VectorsFailed { failed } => write!(f, "{failed} vector(s) failed"),
            Self::Config(ConfigErrors { errors, warnings }) => {
                let count = errors.len();
                write!(
                    f,
                    "invalid configuration ({count} error{}):",
                    if count == 1 { "" } else { "s" }
                )?;
                for error in errors {
                    write!(f, "\n  error: {error}")?;
                }
                for warning in warnings {
                    write!(f, "\n  warning: {warning}")?;
                }
                Ok(())
            }
            Self::Store { database, error } => {
                write!(f, "database {database}: ")?;
                describe_store_error(f, error)
            }
            Self::NotConfirmed { environment } => write!(
                f,
                "refusing to run against {environment} without --yes \
                 (the environment comes from --env, else $SAGE_ENV)"
            ),
            Self::Registry(RegistryError::Unreachable(cause)) => {
                write!(
                    f,
                    "record.unreachable: the registry cannot be reached: {cause}"
                )
            }
            Self::Registry(error) => write!(f, "{}: {error}", error.code()),
            Self::Chain {
                rpc_url,
                contract,
                error,
            } => describe_chain_error(f, rpc_url, contract, error),
            Self::ActivationTooEarly {
                did,
                activatable_at,
                delay_secs,
            } => write!(
                f,
                "{did} cannot be activated yet: the registry accepts its activation from \
                 {} (block time; its activation delay is {delay_secs}s after registration)",
                activatable_at.to_rfc3339()
            ),
            Self::RevealTooEarly { reveal_wait } => write!(
                f,
                "the registry refused the reveal as too early: registry.ethereum.reveal_wait \
                 ({}s) is shorter than its commit-reveal delay (PROTOCOL.md §8.3); register \
                 again with a longer wait (the new commitment replaces this one)",
                reveal_wait.as_secs()
            ),
            Self::Client(error) => write!(f, "{error}"),
        }
    }
}

/// A node that cannot be used, named by what is wrong and which
/// configuration key to look at.
fn describe_chain_error(
    f: &mut fmt::Formatter<'_>,
    rpc_url: &str,
    contract: &str,
    error: &EthRegistryError,
) -> fmt::Result {
    match error {
        EthRegistryError::Unreachable(cause) => write!(
            f,
            "record.unreachable: cannot reach the Ethereum node at {rpc_url} \
             (registry.ethereum.rpc_url): {cause}"
        ),
        EthRegistryError::ChainIdMismatch { expected, actual } => write!(
            f,
            "the Ethereum node at {rpc_url} serves chain {actual}, \
             but registry.ethereum.chain_id is {expected}"
        ),
        EthRegistryError::NoContract => write!(
            f,
            "no contract at {contract} (registry.ethereum.contract_address) on the chain \
             of {rpc_url}"
        ),
        EthRegistryError::ReceiptTimeout => write!(
            f,
            "record.unreachable: the Ethereum node at {rpc_url} gave no receipt within \
             registry.ethereum.receipt_timeout"
        ),
        EthRegistryError::InvalidSignerKey => {
            f.write_str("registry.ethereum.sender_key is not a secp256k1 private key")
        }
        EthRegistryError::UnsupportedUrlScheme => write!(
            f,
            "registry.ethereum.rpc_url {rpc_url}: only http:// is supported \
             (the Ethereum client is built without TLS)"
        ),
        other => write!(f, "the Ethereum node at {rpc_url}: {other}"),
    }
}

/// A node that cannot be reached (or that lost a transaction) exits 3,
/// like any unusable registry; a node that does not match the
/// configuration, or refuses what was sent, exits 2.
fn chain_exit_code(error: &EthRegistryError) -> u8 {
    match error {
        EthRegistryError::Unreachable(_)
        | EthRegistryError::ReceiptTimeout
        | EthRegistryError::Malformed { .. } => EXIT_IO,
        _ => EXIT_INVALID_INPUT,
    }
}

/// A peer whose answer or handshake does not verify, or that refuses us,
/// exits 1; a node or registry that cannot be reached, or whose answer is
/// unusable, exits 3; a DID, URL, task or payload that cannot be sent
/// exits 2.
fn client_exit_code(error: &ClientError) -> u8 {
    match error {
        ClientError::ResponseSignature(_)
        | ClientError::ResponseIdentity
        | ClientError::Handshake(_)
        | ClientError::HandshakeRefused { .. }
        | ClientError::Rejected
        | ClientError::Session(_) => EXIT_VERIFICATION_FAILED,
        ClientError::InvalidDid(_)
        | ClientError::InvalidUrl { .. }
        | ClientError::InvalidTask
        | ClientError::NoKemKey
        | ClientError::NoEndpoint
        | ClientError::Card(_)
        | ClientError::PayloadTooLarge
        | ClientError::BadRequest
        | ClientError::Signing(_)
        | ClientError::Envelope(_)
        | ClientError::Incomplete(_) => EXIT_INVALID_INPUT,
        ClientError::Resolve(error) => registry_exit_code(error),
        _ => EXIT_IO,
    }
}

/// Failed proofs, signatures and freshness checks exit 1; a registry or
/// database that cannot be used exits 3; every other refusal is about the
/// input (the DID, the key, the record's state) and exits 2.
fn registry_exit_code(error: &RegistryError) -> u8 {
    match error {
        RegistryError::BadPop { .. }
        | RegistryError::Unauthorized
        | RegistryError::Replayed
        | RegistryError::Stale => EXIT_VERIFICATION_FAILED,
        RegistryError::Unreachable(_) | RegistryError::InvalidRecord(_) => EXIT_IO,
        _ => EXIT_INVALID_INPUT,
    }
}

/// Refusals and unusable input exit 2; the database, the tools it runs
/// and the files it writes exit 3.
fn store_exit_code(error: &StoreError) -> u8 {
    match error {
        StoreError::UnsupportedScheme { .. }
        | StoreError::InvalidUrl
        | StoreError::NotABackup { .. }
        | StoreError::NoSeedData { .. }
        | StoreError::ZeroMigrations
        | StoreError::SchemaMismatch { .. }
        | StoreError::NonUtf8Path { .. }
        | StoreError::InMemory => EXIT_INVALID_INPUT,
        _ => EXIT_IO,
    }
}

/// A store failure, with the migration failures an operator must act on
/// named for what they are (sqlx's own words are about its bookkeeping).
fn describe_store_error(f: &mut fmt::Formatter<'_>, error: &StoreError) -> fmt::Result {
    match error {
        StoreError::Migrate(MigrateError::VersionMismatch(version)) => write!(
            f,
            "migration {version:04} was changed after it was applied (checksum mismatch): \
             run the sage build that applied it, or restore its original file"
        ),
        StoreError::Migrate(MigrateError::VersionMissing(version)) => write!(
            f,
            "migration {version:04} is applied in the database but unknown to this build \
             (the database was migrated by a newer sage)"
        ),
        StoreError::Migrate(MigrateError::Dirty(version)) => write!(
            f,
            "migration {version:04} failed half-way (dirty): repair the database, \
             then remove its row from _sqlx_migrations"
        ),
        StoreError::Database(
            e @ (sqlx::Error::Io(_) | sqlx::Error::Tls(_) | sqlx::Error::PoolTimedOut),
        ) => write!(f, "cannot connect: {e}"),
        other => write!(f, "{other}"),
    }
}

impl std::error::Error for CliError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io { source, .. } => Some(source),
            Self::BadJson { error, .. } => Some(error),
            Self::BadDid { error, .. } => Some(error),
            Self::BadVectors(e) => Some(e),
            Self::BadSignature(e) => Some(e),
            Self::Config(e) => Some(e),
            Self::Store { error, .. } => Some(error),
            Self::Registry(error) => Some(error),
            Self::Chain { error, .. } => Some(error),
            Self::Client(error) => Some(error),
            _ => None,
        }
    }
}
