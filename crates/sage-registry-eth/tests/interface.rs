//! Our registry's ABI carries the deployed SAGE `AgentCardRegistry`
//! interface: every function the Go client and our reader call, and every
//! event, with the same name, canonical argument and return types,
//! mutability and indexed flags — hence the same selectors and topics. That
//! is what lets one client read both registries.
//!
//! The expected list is written from the deployed interface (its public ABI);
//! the actual one is read from the committed artifact.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use serde_json::Value;

fn canonical(param: &Value) -> String {
    let ty = param["type"].as_str().unwrap();
    match ty.strip_prefix("tuple") {
        Some(array_suffix) => {
            let parts: Vec<String> = param["components"]
                .as_array()
                .unwrap()
                .iter()
                .map(canonical)
                .collect();
            format!("({}){array_suffix}", parts.join(","))
        }
        None => ty.to_owned(),
    }
}

fn list(params: &Value) -> String {
    params
        .as_array()
        .unwrap()
        .iter()
        .map(canonical)
        .collect::<Vec<_>>()
        .join(",")
}

/// `name(inputs) -> (outputs) mutability` for functions, `name(type[ indexed],…)` for events.
fn artifact_items() -> BTreeMap<String, String> {
    let artifact: Value = serde_json::from_str(sage_registry_eth::CONTRACT_ARTIFACT_JSON).unwrap();
    let mut items = BTreeMap::new();
    for item in artifact["abi"].as_array().unwrap() {
        let name = item["name"].as_str().unwrap_or_default().to_owned();
        match item["type"].as_str().unwrap() {
            "function" => {
                let sig = format!("{name}({})", list(&item["inputs"]));
                let rest = format!(
                    "({}) {}",
                    list(&item["outputs"]),
                    item["stateMutability"].as_str().unwrap()
                );
                items.insert(sig, rest);
            }
            "event" => {
                let params: Vec<String> = item["inputs"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| {
                        let indexed = if p["indexed"].as_bool().unwrap() {
                            " indexed"
                        } else {
                            ""
                        };
                        format!("{}{indexed}", canonical(p))
                    })
                    .collect();
                items.insert(format!("event {name}({})", params.join(",")), String::new());
            }
            _ => {}
        }
    }
    items
}

const METADATA: &str =
    "(string,string,string,string,bytes32[],string,address,uint256,uint256,bool,uint256,bytes)";
const KEY: &str = "(uint8,bytes,bytes,bool,uint256)";
const INFO: &str = "(string,address,string,bool,uint256)";
const PARAMS: &str = "(string,string,string,string,string,bytes[],uint8[],bytes[],bytes32)";

#[test]
fn deployed_interface_functions_have_identical_signatures_in_our_artifact() {
    let items = artifact_items();
    let expected: Vec<(String, String)> = vec![
        ("commitRegistration(bytes32)".into(), "() payable".into()),
        (
            format!("registerAgentWithParams({PARAMS})"),
            "(bytes32) nonpayable".into(),
        ),
        ("activateAgent(bytes32)".into(), "() nonpayable".into()),
        (
            "addKey(bytes32,bytes,uint8,bytes)".into(),
            "() nonpayable".into(),
        ),
        ("revokeKey(bytes32,bytes32)".into(), "() nonpayable".into()),
        (
            "updateKMEKey(bytes32,bytes,bytes)".into(),
            "() nonpayable".into(),
        ),
        (
            "updateAgent(bytes32,string,string)".into(),
            "() nonpayable".into(),
        ),
        (
            "updateAgentEndpoint(string,string)".into(),
            "(bool) nonpayable".into(),
        ),
        (
            "deactivateAgentByHash(bytes32)".into(),
            "() nonpayable".into(),
        ),
        ("deactivateAgent(string)".into(), "(bool) nonpayable".into()),
        ("getAgent(bytes32)".into(), format!("({METADATA}) view")),
        ("getAgentByDID(string)".into(), format!("({METADATA}) view")),
        ("getKey(bytes32)".into(), format!("({KEY}) view")),
        (
            "getAgentsByOwner(address)".into(),
            "(bytes32[]) view".into(),
        ),
        ("getKMEKey(bytes32)".into(), "(bytes) view".into()),
        ("isAgentActive(string)".into(), "(bool) view".into()),
        ("resolveAgent(string)".into(), format!("({INFO}) view")),
        (
            "resolveAgentByAddress(address)".into(),
            format!("({INFO}) view"),
        ),
        ("didToAgentId(string)".into(), "(bytes32) view".into()),
        (
            "agentActivationTime(bytes32)".into(),
            "(uint256) view".into(),
        ),
        ("agentStakes(bytes32)".into(), "(uint256) view".into()),
        (
            "registrationCommitments(address)".into(),
            "(bytes32,uint256,bool) view".into(),
        ),
        ("activationDelay()".into(), "(uint256) view".into()),
        ("registrationStake()".into(), "(uint256) view".into()),
        ("setActivationDelay(uint256)".into(), "() nonpayable".into()),
        (
            "setRegistrationStake(uint256)".into(),
            "() nonpayable".into(),
        ),
        ("owner()".into(), "(address) view".into()),
        ("pendingOwner()".into(), "(address) view".into()),
        ("transferOwnership(address)".into(), "() nonpayable".into()),
        ("acceptOwnership()".into(), "() nonpayable".into()),
    ];
    for (signature, shape) in expected {
        assert_eq!(items.get(&signature), Some(&shape), "{signature}");
    }
}

#[test]
fn deployed_interface_events_have_identical_topics_in_our_artifact() {
    let items = artifact_items();
    for event in [
        "event CommitmentRecorded(address indexed,bytes32,uint256)",
        "event AgentRegistered(bytes32 indexed,string indexed,address indexed,uint256)",
        "event AgentActivated(bytes32 indexed,uint256)",
        "event KeyAdded(bytes32 indexed,bytes32 indexed,uint8,uint256)",
        "event KeyRevoked(bytes32 indexed,bytes32 indexed,uint256)",
        "event KMEKeyUpdated(bytes32 indexed,bytes32 indexed,uint256)",
        "event AgentUpdated(bytes32 indexed,uint256)",
        "event AgentEndpointUpdated(string indexed,string,string)",
        "event AgentDeactivatedByHash(bytes32 indexed,uint256)",
        "event AgentDeactivated(string indexed,address indexed)",
        "event OwnershipTransferStarted(address indexed,address indexed)",
        "event OwnershipTransferred(address indexed,address indexed)",
    ] {
        assert!(items.contains_key(event), "{event}");
    }
}

#[test]
fn operator_approval_is_deliberately_absent() {
    // "Only the owner can change a record": the deployed operator role is not offered.
    let items = artifact_items();
    assert!(
        !items
            .keys()
            .any(|k| k.starts_with("setApprovalForAgent(") || k.starts_with("agentOperators("))
    );
}
