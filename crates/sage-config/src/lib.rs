//! Configuration of a SAGE node.
//!
//! Layer: outside the protocol core. This crate reads files and
//! environment variables (the core reads neither) and hands the rest of
//! the node typed, validated settings. It starts nothing and opens no
//! connection; the storage, server and registry crates map its sections
//! onto their own options.
//!
//! - [`load`] merges, lowest priority first: built-in defaults,
//!   `config/<env>.yaml` (environment from `SAGE_ENV`, default `local`),
//!   an explicit file, `SAGE_<SECTION>__<KEY>` variables, and key-path
//!   overrides (command-line flags). YAML values may use `${VAR}` and
//!   `${VAR:-default}`.
//! - Every problem is reported at once, each with its key path and the
//!   source that set it ([`ConfigErrors`]); unknown keys are errors at any
//!   depth. [`validate`] holds the rules between keys and environments.
//! - Secrets are references (`env:NAME`, `file:PATH`) resolved on demand
//!   ([`Secret`]); no `Debug`, `Display` or `Serialize` output shows a
//!   secret value, nor the password of a database URL.
//!
//! `docs/CONFIGURATION.md` lists every key, its default and its variable.

#![warn(missing_docs)]

mod config;
pub mod duration;
mod env_vars;
mod environment;
mod error;
mod keypath;
mod load;
mod secret;
mod size;
mod types;
mod validate;
mod yaml;

pub use config::{
    DatabaseConfig, EthereumConfig, HandshakeConfig, IdentityConfig, LoggingConfig,
    ManagementConfig, MetricsConfig, PoolConfig, RegistryConfig, Rfc9421Config, SageConfig,
    ServerConfig, SessionConfig, StorageConfig,
};
pub use env_vars::{EnvVars, SETTINGS_PREFIX, SETTINGS_SEPARATOR};
pub use environment::{Environment, UnknownEnvironment};
pub use error::{ConfigError, ConfigErrors, ConfigWarning, Invalid, Origin, Warning};
pub use load::{
    CONFIG_DIR_VARIABLE, DEFAULT_CONFIG_DIR, ENV_VARIABLE, LoadOptions, LoadedConfig, Sources,
    built_in_file, load,
};
pub use secret::{
    KEY_LEN, KeyEncodingError, Secret, SecretError, SecretRef, SecretRefError, SecretValue,
};
pub use size::{ByteSize, ByteSizeError};
pub use types::{
    AddressError, DatabaseBackend, DatabaseUrl, DatabaseUrlError, EthereumAddress, LogFormat,
    LogLevel, RegistryBackend,
};
pub use validate::{Validation, validate};
