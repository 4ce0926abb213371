//! Classifies alloy's errors into [`EthRegistryError`]: reverts (with the
//! contract's custom error decoded), node rejections, and transport failures.
//!
//! Layer: registry I/O, private. The rule the resolver depends on: anything
//! that means "no usable answer from the node" is `Unreachable`; only an
//! answer from the node is ever a `Reverted`, `NodeRejected` or `NotFound`.

use alloy::contract::Error as ContractError;
use alloy::providers::PendingTransactionError;
use alloy::providers::WatchTxError;
use alloy::sol_types::{Panic, Revert, SolError, SolInterface};
use alloy::transports::{RpcError, TransportError};

use crate::bindings::AgentCardRegistry::AgentCardRegistryErrors;
use crate::error::{EthRegistryError, FailureKind, TransportFailure};

/// The `reason` of [`EthRegistryError::Reverted`] for revert data `data`.
pub(crate) fn revert_reason(data: &[u8]) -> String {
    if data.is_empty() {
        return "reverted without data".to_owned();
    }
    if let Some(selector) = data.get(..4).and_then(|s| <[u8; 4]>::try_from(s).ok()) {
        if AgentCardRegistryErrors::abi_decode(data).is_ok()
            && let Some(name) = AgentCardRegistryErrors::name_by_selector(selector)
        {
            return name.to_owned();
        }
        if let Ok(revert) = Revert::abi_decode(data) {
            return revert.reason;
        }
        if let Ok(panic) = Panic::abi_decode(data) {
            return format!("Panic(0x{:x})", panic.code);
        }
        return format!("unknown error 0x{}", alloy::hex::encode(selector));
    }
    "malformed revert data".to_owned()
}

fn reverted(data: &[u8]) -> EthRegistryError {
    EthRegistryError::Reverted {
        reason: revert_reason(data),
        data: data.to_vec(),
    }
}

/// Maps a failed JSON-RPC request.
pub(crate) fn from_transport(error: TransportError) -> EthRegistryError {
    match &error {
        RpcError::ErrorResp(payload) => {
            if let Some(data) = payload.as_revert_data() {
                return reverted(&data);
            }
            // Some nodes report a revert without data only in the message.
            if payload.message.contains("revert") {
                return reverted(&[]);
            }
            EthRegistryError::NodeRejected {
                code: payload.code,
                message: payload.message.to_string(),
            }
        }
        _ => EthRegistryError::Unreachable(TransportFailure(FailureKind::Rpc(error))),
    }
}

/// Maps a failure while waiting for a receipt.
pub(crate) fn from_pending(error: PendingTransactionError) -> EthRegistryError {
    match error {
        PendingTransactionError::TransportError(e) => from_transport(e),
        PendingTransactionError::TxWatcher(WatchTxError::Timeout) => {
            EthRegistryError::ReceiptTimeout
        }
        other => EthRegistryError::Unreachable(TransportFailure(FailureKind::Watch(other))),
    }
}

/// Maps a failed contract call or transaction.
pub(crate) fn from_contract(error: ContractError) -> EthRegistryError {
    match error {
        ContractError::TransportError(e) => from_transport(e),
        ContractError::PendingTransactionError(e) => from_pending(e),
        ContractError::ZeroData(..) => EthRegistryError::NoContract,
        _ => EthRegistryError::Malformed {
            what: "contract return data",
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bindings::AgentCardRegistry;
    use alloy::primitives::U256;

    #[test]
    fn custom_errors_are_named() {
        let data = AgentCardRegistry::RevealTooEarly {
            earliest: U256::from(60),
        }
        .abi_encode();
        assert_eq!(revert_reason(&data), "RevealTooEarly");
        let data = AgentCardRegistry::CommitmentMismatch {}.abi_encode();
        assert_eq!(revert_reason(&data), "CommitmentMismatch");
    }

    #[test]
    fn string_reverts_panics_and_empty_data_are_described() {
        let data = Revert::from("Not agent owner").abi_encode();
        assert_eq!(revert_reason(&data), "Not agent owner");
        let data = Panic {
            code: U256::from(0x11),
        }
        .abi_encode();
        assert_eq!(revert_reason(&data), "Panic(0x11)");
        assert_eq!(revert_reason(&[]), "reverted without data");
        assert_eq!(revert_reason(&[1, 2, 3, 4, 5]), "unknown error 0x01020304");
        assert_eq!(revert_reason(&[1, 2]), "malformed revert data");
    }

    #[test]
    fn a_known_selector_with_truncated_arguments_is_not_named() {
        let data = AgentCardRegistry::RevealTooEarly {
            earliest: U256::from(60),
        }
        .abi_encode();
        assert!(revert_reason(&data[..20]).starts_with("unknown error 0x"));
    }
}
