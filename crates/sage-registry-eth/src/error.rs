//! The one error type of this crate, named by cause.
//!
//! Layer: registry I/O. Transport failures (connection refused, HTTP error,
//! timeout, an answer that is not JSON-RPC) are [`EthRegistryError::Unreachable`]:
//! the resolver maps that to `record.unreachable` and must not fall back to
//! stale data. A contract revert is [`EthRegistryError::Reverted`] with the
//! custom error's name. alloy's error types stay private behind
//! [`TransportFailure`].

use core::fmt;

/// Everything that can go wrong talking to the registry.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EthRegistryError {
    /// The node could not be reached or gave no usable JSON-RPC answer.
    #[error("registry node unreachable")]
    Unreachable(#[source] TransportFailure),
    /// The node answered with a JSON-RPC error that is not a revert
    /// (e.g. insufficient funds, nonce too low).
    #[error("node rejected the request (code {code}): {message}")]
    NodeRejected {
        /// JSON-RPC error code.
        code: i64,
        /// The node's message.
        message: String,
    },
    /// The contract reverted. `reason` is the custom error's name (e.g.
    /// `RevealTooEarly`), the `Error(string)` message, `Panic(0x..)`, or
    /// `reverted without data`; `data` is the raw revert data.
    #[error("registry reverted: {reason}")]
    Reverted {
        /// Human-readable reason, see above.
        reason: String,
        /// Raw ABI-encoded revert data (may be empty).
        data: Vec<u8>,
    },
    /// No record (or key) under that DID, agent id or key hash.
    #[error("no such record in the registry")]
    NotFound,
    /// There is no contract code at the configured registry address.
    #[error("no contract at the registry address")]
    NoContract,
    /// The node serves another chain than the one configured.
    #[error("chain id mismatch: configured {expected}, node reports {actual}")]
    ChainIdMismatch {
        /// The configured chain id.
        expected: u64,
        /// What `eth_chainId` returned.
        actual: u64,
    },
    /// A write was attempted on a client built without a sender.
    #[error("this client has no sender; writes need a signer key or a node account")]
    NoSender,
    /// The signer key is not a valid secp256k1 scalar.
    #[error("invalid signer key")]
    InvalidSignerKey,
    /// The RPC URL does not parse.
    #[error("invalid RPC URL")]
    InvalidUrl,
    /// The RPC URL is not `http://`: this build has no TLS client, so an
    /// `https://` node must be reached through a local proxy or node.
    #[error("unsupported RPC URL scheme (only http:// is built in)")]
    UnsupportedUrlScheme,
    /// The transaction was sent but no receipt arrived in time.
    #[error("no receipt within the timeout")]
    ReceiptTimeout,
    /// The node answered with data this crate cannot use (a missing field, a
    /// value out of range, a malformed record). `what` names the item.
    #[error("malformed answer from the registry: {what}")]
    Malformed {
        /// The item that was malformed.
        what: &'static str,
    },
}

/// The underlying transport or RPC failure, kept opaque so that alloy types do
/// not leak into the public API. `Display` shows alloy's message.
pub struct TransportFailure(pub(crate) FailureKind);

/// What alloy reported.
pub(crate) enum FailureKind {
    /// A JSON-RPC request failed.
    Rpc(alloy::transports::TransportError),
    /// Waiting for a transaction's receipt failed.
    Watch(alloy::providers::PendingTransactionError),
}

impl fmt::Debug for TransportFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("TransportFailure")
            .field(&self.to_string())
            .finish()
    }
}

impl fmt::Display for TransportFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            FailureKind::Rpc(e) => fmt::Display::fmt(e, f),
            FailureKind::Watch(e) => fmt::Display::fmt(e, f),
        }
    }
}

impl std::error::Error for TransportFailure {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.0 {
            FailureKind::Rpc(e) => e.source(),
            FailureKind::Watch(e) => e.source(),
        }
    }
}
