//! [`NodeError`]: why a node did not start, or did not stop cleanly.

use core::fmt;
use std::io;
use std::net::SocketAddr;

use sage_config::SecretError;
use sage_core::card::CardError;
use sage_registry_eth::EthRegistryError;
use sage_store::StoreError;

use crate::api::auth::TokenFileError;
use crate::identity::bootstrap::BootstrapError;
use crate::identity::keystore::KeystoreError;
use crate::metrics::MetricsError;
use crate::protocol::ProtocolSetupError;

/// Why [`super::start`] or [`super::RunningNode::shutdown`] failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum NodeError {
    /// A secret of the configuration cannot be resolved.
    Secret {
        /// The configuration key.
        key: &'static str,
        /// Why (never the value).
        source: SecretError,
    },
    /// A setting the configured backend needs is missing.
    MissingSetting {
        /// The configuration key.
        key: &'static str,
    },
    /// The Prometheus recorder could not be installed.
    Metrics(MetricsError),
    /// The database cannot be reached, migrated or read.
    Store {
        /// The database URL, password redacted.
        database: String,
        /// Why.
        source: StoreError,
    },
    /// The PostgreSQL schema is behind and automatic migration is off.
    PendingMigrations {
        /// The database URL, password redacted.
        database: String,
        /// How many migrations are pending.
        pending: usize,
    },
    /// A key file (identity or key-encryption key) failed.
    Keys(KeystoreError),
    /// The generated management token file cannot be read or written.
    Token(TokenFileError),
    /// The Ethereum registry cannot be used.
    Ethereum(EthRegistryError),
    /// The node's identity could not be established in the registry.
    Identity(BootstrapError),
    /// The agent card could not be built or signed.
    Card(CardError),
    /// The protocol endpoints refused their configuration.
    Protocol(ProtocolSetupError),
    /// The listen address cannot be bound.
    Bind {
        /// The address.
        address: SocketAddr,
        /// Why.
        source: io::Error,
    },
    /// The HTTP server failed while serving.
    Serve(io::Error),
    /// In-flight requests did not finish within `server.shutdown_timeout`;
    /// they were cut off.
    ShutdownTimedOut,
}

impl fmt::Display for NodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Secret { key, source } => write!(f, "{key}: {source}"),
            Self::MissingSetting { key } => write!(f, "{key} is required for this node"),
            Self::Metrics(e) => write!(f, "metrics: {e}"),
            Self::Store { database, source } => write!(f, "database {database}: {source}"),
            Self::PendingMigrations { database, pending } => write!(
                f,
                "database {database} has {pending} pending migration(s): run \
                 `sage db migrate up`, or start with `sage serve --migrate`"
            ),
            Self::Keys(e) => write!(f, "{e}"),
            Self::Token(e) => write!(f, "management token: {e}"),
            Self::Ethereum(e) => write!(f, "Ethereum registry: {e}"),
            Self::Identity(e) => write!(f, "node identity: {e}"),
            Self::Card(e) => write!(f, "agent card: {e}"),
            Self::Protocol(e) => write!(f, "protocol endpoints: {e}"),
            Self::Bind { address, source } => write!(f, "cannot listen on {address}: {source}"),
            Self::Serve(e) => write!(f, "HTTP server: {e}"),
            Self::ShutdownTimedOut => f.write_str(
                "in-flight requests did not finish within server.shutdown_timeout and were cut off",
            ),
        }
    }
}

impl std::error::Error for NodeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Secret { source, .. } => Some(source),
            Self::Metrics(e) => Some(e),
            Self::Store { source, .. } => Some(source),
            Self::Keys(e) => Some(e),
            Self::Token(e) => Some(e),
            Self::Ethereum(e) => Some(e),
            Self::Identity(e) => Some(e),
            Self::Card(e) => Some(e),
            Self::Protocol(e) => Some(e),
            Self::Bind { source, .. } | Self::Serve(source) => Some(source),
            Self::MissingSetting { .. }
            | Self::PendingMigrations { .. }
            | Self::ShutdownTimedOut => None,
        }
    }
}

impl From<KeystoreError> for NodeError {
    fn from(e: KeystoreError) -> Self {
        Self::Keys(e)
    }
}

impl From<BootstrapError> for NodeError {
    fn from(e: BootstrapError) -> Self {
        Self::Identity(e)
    }
}
