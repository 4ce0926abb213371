//! End to end against anvil: the registry contract as deployed from the
//! committed artifact, driven by `EthRegistryClient`, with keys and proofs
//! made by sage-core (PROTOCOL.md §8.3–§8.5).
//!
//! Needs anvil from `scripts/ensure-chain-tools.sh`; without it every test
//! fails (SAGE_SKIP_CHAIN=1 skips them, loudly).

#![allow(clippy::unwrap_used)]

mod common;

use common::{Chain, commit_and_register, did_of, request, revert_reason, signing_key};
use sage_core::did::{Did, pop_challenge, verify_pop};
use sage_core::primitives::{KeyType, VerifyingKey, X25519Secret};
use sage_core::version::ProtocolVersion;
use sage_registry_eth::{
    AgentState, COMMIT_MAX_DELAY_SECS, COMMIT_MIN_DELAY_SECS, ClientOptions, EthRegistryClient,
    EthRegistryError, NewKey, RegistryKeyType, Sender, TxReceipt, agent_id_for_did, commit_hash,
    key_hash,
};

fn kem_key(seed: u8) -> [u8; 32] {
    X25519Secret::from_bytes([seed; 32]).public_key().to_bytes()
}

fn x25519(key: [u8; 32]) -> NewKey {
    NewKey {
        key_type: RegistryKeyType::X25519,
        key_data: key.to_vec(),
        proof: Vec::new(),
    }
}

#[tokio::test]
async fn full_lifecycle_commit_register_activate_add_revoke_deactivate() {
    let Some(chain) = Chain::start("full_lifecycle").await else {
        return;
    };
    let did = did_of(chain.address(1));
    let client = chain.client(1).await;
    let (_, secp) = signing_key(KeyType::Secp256k1, "sage-registry-eth/e2e/secp256k1", &did);
    let (_, ed) = signing_key(KeyType::Ed25519, "sage-registry-eth/e2e/ed25519", &did);
    let first_key = key_hash(&secp.key_data);
    let request = request(&did, vec![secp, ed, x25519(kem_key(7))]);

    let committed = client.commit(&request).await.unwrap();
    let keys: Vec<&[u8]> = request.keys.iter().map(|k| k.key_data.as_slice()).collect();
    assert_eq!(
        committed.commit_hash,
        commit_hash(&did, &keys, chain.address(1), request.salt, chain.chain_id)
    );
    let commitment = client.commitment(chain.address(1)).await.unwrap();
    assert_eq!(commitment.commit_hash, committed.commit_hash);
    assert!(!commitment.revealed);

    chain.advance(COMMIT_MIN_DELAY_SECS).await;
    let agent_id = client.register(&request).await.unwrap().agent_id;
    assert_eq!(agent_id, agent_id_for_did(&did));
    assert_eq!(client.agent_id_of(&did).await.unwrap(), agent_id);
    assert_eq!(
        client.agent_state(agent_id).await.unwrap(),
        AgentState::Registered
    );

    let record = client.get_agent_by_did(&did).await.unwrap();
    assert!(
        !record.is_active,
        "a registered record is inactive until activated"
    );
    assert_eq!(record.did, did);
    assert_eq!(record.owner, chain.address(1));
    assert_eq!(record.chain_id, chain.chain_id);
    assert_eq!(record.endpoint, request.endpoint);
    assert_eq!(record.capabilities, request.capabilities);
    assert_eq!(record.public_kem_key, Some(kem_key(7)));
    assert_eq!(record.keys.len(), 3);
    assert!(record.keys.iter().all(|k| k.verified));
    // Every proof the chain stored verifies with sage-core's §8.5 verifier.
    let labels = ProtocolVersion::V1Draft1.labels();
    let parsed = Did::parse(&did).unwrap();
    for (key, key_type) in record
        .keys
        .iter()
        .take(2)
        .zip([KeyType::Secp256k1, KeyType::Ed25519])
    {
        let verifying = VerifyingKey::from_bytes(key_type, &key.key_data).unwrap();
        verify_pop(labels, &verifying, &parsed, &key.signature).unwrap();
    }

    assert_eq!(
        revert_reason(client.activate(agent_id).await),
        "ActivationTooEarly"
    );
    chain
        .advance(client.activation_delay().await.unwrap())
        .await;
    client.activate(agent_id).await.unwrap();
    assert!(client.is_active(&did).await.unwrap());

    let (_, second) = signing_key(
        KeyType::Secp256k1,
        "sage-registry-eth/e2e/secp256k1-2",
        &did,
    );
    let second_hash = key_hash(&second.key_data);
    client.add_key(agent_id, &second).await.unwrap();
    client.revoke_key(agent_id, first_key).await.unwrap();
    let record = client.get_agent(agent_id).await.unwrap();
    assert_eq!(record.keys.len(), 4, "the revoked entry is kept");
    let revoked = record
        .keys
        .iter()
        .find(|k| k.key_hash == first_key)
        .unwrap();
    assert!(!revoked.verified, "revocation clears verified");
    assert!(
        record
            .keys
            .iter()
            .find(|k| k.key_hash == second_hash)
            .unwrap()
            .verified
    );
    assert!(record.updated_at >= record.created_at);

    client.deactivate(agent_id).await.unwrap();
    assert!(!client.is_active(&did).await.unwrap());
    assert_eq!(
        client.agent_state(agent_id).await.unwrap(),
        AgentState::Deactivated
    );
    assert_eq!(
        revert_reason(client.activate(agent_id).await),
        "AgentIsDeactivated"
    );
}

#[tokio::test]
async fn reveal_before_the_minimum_delay_is_rejected() {
    let Some(chain) = Chain::start("reveal_too_early").await else {
        return;
    };
    let did = did_of(chain.address(1));
    let client = chain.client(1).await;
    let request = request(&did, vec![signing_key(KeyType::Secp256k1, "early", &did).1]);
    client.commit(&request).await.unwrap();
    chain.advance(COMMIT_MIN_DELAY_SECS - 20).await;
    assert_eq!(
        revert_reason(client.register(&request).await),
        "RevealTooEarly"
    );
}

#[tokio::test]
async fn reveal_after_the_commitment_expired_is_rejected() {
    let Some(chain) = Chain::start("reveal_too_late").await else {
        return;
    };
    let did = did_of(chain.address(1));
    let client = chain.client(1).await;
    let request = request(&did, vec![signing_key(KeyType::Secp256k1, "late", &did).1]);
    client.commit(&request).await.unwrap();
    chain.advance(COMMIT_MAX_DELAY_SECS + 1).await;
    assert_eq!(
        revert_reason(client.register(&request).await),
        "CommitmentExpired"
    );
}

#[tokio::test]
async fn reveal_with_a_wrong_salt_is_rejected() {
    let Some(chain) = Chain::start("wrong_salt").await else {
        return;
    };
    let did = did_of(chain.address(1));
    let client = chain.client(1).await;
    let mut request = request(&did, vec![signing_key(KeyType::Secp256k1, "salt", &did).1]);
    client.commit(&request).await.unwrap();
    chain.advance(COMMIT_MIN_DELAY_SECS).await;
    request.salt = [0xa5; 32];
    assert_eq!(
        revert_reason(client.register(&request).await),
        "CommitmentMismatch"
    );
}

#[tokio::test]
async fn reveal_copied_by_another_account_is_rejected() {
    let Some(chain) = Chain::start("front_running").await else {
        return;
    };
    let did = did_of(chain.address(1));
    let owner = chain.client(1).await;
    let attacker = chain.client(2).await;
    let request = request(
        &did,
        vec![signing_key(KeyType::Secp256k1, "front-run", &did).1],
    );
    owner.commit(&request).await.unwrap();
    chain.advance(COMMIT_MIN_DELAY_SECS).await;

    // The attacker replays the owner's reveal from its own account.
    assert_eq!(
        revert_reason(attacker.register(&request).await),
        "NoCommitment"
    );
    // A commitment of its own binds its own address, which is not the DID's.
    attacker.commit(&request).await.unwrap();
    chain.advance(COMMIT_MIN_DELAY_SECS).await;
    assert_eq!(
        revert_reason(attacker.register(&request).await),
        "DidNotOwnedBySender"
    );

    owner.register(&request).await.unwrap();
    assert_eq!(
        owner.get_agent_by_did(&did).await.unwrap().owner,
        chain.address(1)
    );
}

#[tokio::test]
async fn secp256k1_key_with_a_bad_proof_is_rejected() {
    let Some(chain) = Chain::start("bad_pop").await else {
        return;
    };
    let did = did_of(chain.address(1));
    let client = chain.client(1).await;
    let (_, mut key) = signing_key(KeyType::Secp256k1, "bad-pop", &did);
    // The proof of another key, for the same DID.
    key.proof = signing_key(KeyType::Secp256k1, "someone-else", &did)
        .1
        .proof;
    let bad = request(&did, vec![key]);
    client.commit(&bad).await.unwrap();
    chain.advance(COMMIT_MIN_DELAY_SECS).await;
    assert_eq!(revert_reason(client.register(&bad).await), "InvalidProof");

    // A proof for another DID.
    let good = request(&did, vec![signing_key(KeyType::Secp256k1, "good", &did).1]);
    let agent_id = commit_and_register(&chain, &client, &good).await;
    let (_, mut key) = signing_key(KeyType::Secp256k1, "other-did", &did);
    key.proof = signing_key(KeyType::Secp256k1, "other-did", &did_of(chain.address(2)))
        .1
        .proof;
    assert_eq!(
        revert_reason(client.add_key(agent_id, &key).await),
        "InvalidProof"
    );
}

#[tokio::test]
async fn ed25519_key_of_the_wrong_length_is_rejected() {
    let Some(chain) = Chain::start("ed25519_length").await else {
        return;
    };
    let did = did_of(chain.address(1));
    let client = chain.client(1).await;
    let (_, mut short) = signing_key(KeyType::Ed25519, "short", &did);
    short.key_data.pop();
    let bad = request(
        &did,
        vec![signing_key(KeyType::Secp256k1, "ok", &did).1, short],
    );
    client.commit(&bad).await.unwrap();
    chain.advance(COMMIT_MIN_DELAY_SECS).await;
    assert_eq!(revert_reason(client.register(&bad).await), "InvalidKeyData");
}

#[tokio::test]
async fn revoking_the_last_signing_key_of_an_active_record_is_rejected() {
    let Some(chain) = Chain::start("last_signing_key").await else {
        return;
    };
    let did = did_of(chain.address(1));
    let client = chain.client(1).await;
    let (_, key) = signing_key(KeyType::Secp256k1, "only", &did);
    let only = key_hash(&key.key_data);
    let agent_id = commit_and_register(
        &chain,
        &client,
        &request(&did, vec![key, x25519(kem_key(1))]),
    )
    .await;
    chain
        .advance(client.activation_delay().await.unwrap())
        .await;
    client.activate(agent_id).await.unwrap();
    assert_eq!(
        revert_reason(client.revoke_key(agent_id, only).await),
        "LastSigningKey"
    );
    // The KEM key is no signing key: revoking it is fine and clears it.
    client
        .revoke_key(agent_id, key_hash(&kem_key(1)))
        .await
        .unwrap();
    assert_eq!(client.kem_key(agent_id).await.unwrap(), None);
}

#[tokio::test]
async fn deactivated_record_cannot_be_reactivated() {
    let Some(chain) = Chain::start("no_reactivation").await else {
        return;
    };
    let did = did_of(chain.address(1));
    let client = chain.client(1).await;
    let agent_id = commit_and_register(
        &chain,
        &client,
        &request(&did, vec![signing_key(KeyType::Ed25519, "ed", &did).1]),
    )
    .await;
    client.deactivate(agent_id).await.unwrap();
    chain
        .advance(client.activation_delay().await.unwrap())
        .await;
    assert_eq!(
        revert_reason(client.activate(agent_id).await),
        "AgentIsDeactivated"
    );
    assert_eq!(
        revert_reason(client.deactivate(agent_id).await),
        "AgentIsDeactivated"
    );
    assert!(!client.get_agent(agent_id).await.unwrap().is_active);
}

#[tokio::test]
async fn only_the_owner_can_change_a_record() {
    let Some(chain) = Chain::start("only_owner").await else {
        return;
    };
    let did = did_of(chain.address(1));
    let owner = chain.client(1).await;
    let other = chain.client(2).await;
    let (_, key) = signing_key(KeyType::Secp256k1, "owned", &did);
    let key_hash_ = key_hash(&key.key_data);
    let agent_id = commit_and_register(&chain, &owner, &request(&did, vec![key])).await;
    chain.advance(owner.activation_delay().await.unwrap()).await;

    assert_eq!(
        revert_reason(other.activate(agent_id).await),
        "NotAgentOwner"
    );
    let (_, extra) = signing_key(KeyType::Secp256k1, "extra", &did);
    assert_eq!(
        revert_reason(other.add_key(agent_id, &extra).await),
        "NotAgentOwner"
    );
    assert_eq!(
        revert_reason(other.revoke_key(agent_id, key_hash_).await),
        "NotAgentOwner"
    );
    assert_eq!(
        revert_reason(
            other
                .update_agent(agent_id, "https://evil.example", "{}")
                .await
        ),
        "NotAgentOwner"
    );
    assert_eq!(
        revert_reason(other.update_endpoint(&did, "https://evil.example").await),
        "NotAgentOwner"
    );
    assert_eq!(
        revert_reason(other.update_kem_key(agent_id, kem_key(3)).await),
        "NotAgentOwner"
    );
    assert_eq!(
        revert_reason(other.deactivate(agent_id).await),
        "NotAgentOwner"
    );

    owner.activate(agent_id).await.unwrap();
    owner
        .update_endpoint(&did, "https://new.example/a2a")
        .await
        .unwrap();
    let record = owner.get_agent_by_did(&did).await.unwrap();
    assert_eq!(record.endpoint, "https://new.example/a2a");
    assert!(record.is_active);
}

/// did.json → `pop-secp256k1` (and `pop-ed25519`, same DID): the vectors'
/// own key bytes and proofs, for the vectors' own DID. The DID's address
/// 0x1111…1111 must be the sender; anvil's auto-impersonation sends as it.
#[tokio::test]
async fn did_json_pop_vectors_are_accepted_on_chain() {
    let Some(chain) = Chain::start("did_json_pop_vectors").await else {
        return;
    };
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../vectors/sage-spec/did.json"
    );
    let suite: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let vector = |name: &str| {
        suite["vectors"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["name"] == name)
            .unwrap()
            .clone()
    };
    let hex_field = |v: &serde_json::Value, field: &str| {
        alloy::hex::decode(v["output"][field].as_str().unwrap()).unwrap()
    };
    let secp = vector("pop-secp256k1");
    let ed = vector("pop-ed25519");
    let did = secp["input"]["did"].as_str().unwrap().to_owned();
    assert_eq!(ed["input"]["did"].as_str().unwrap(), did);

    let owner: [u8; 20] = alloy::hex::decode(did.trim_start_matches("did:sage:ethereum:0x"))
        .unwrap()
        .try_into()
        .unwrap();
    chain.fund(owner).await;
    let client = chain.impersonating(owner);
    let keys = vec![
        NewKey {
            key_type: RegistryKeyType::Secp256k1,
            key_data: hex_field(&secp, "key_data"),
            proof: hex_field(&secp, "proof"),
        },
        NewKey {
            key_type: RegistryKeyType::Ed25519,
            key_data: hex_field(&ed, "key_data"),
            proof: hex_field(&ed, "proof"),
        },
    ];
    // The registry builds the vector's challenge byte for byte.
    let challenge = client
        .onchain_pop_challenge(&did, &keys[0].key_data)
        .await
        .unwrap();
    assert_eq!(
        challenge,
        secp["output"]["challenge"].as_str().unwrap().as_bytes()
    );

    let agent_id = commit_and_register(&chain, &client, &request(&did, keys)).await;
    let record = client.get_agent(agent_id).await.unwrap();
    assert_eq!(record.owner, owner);
    assert!(
        record.keys.iter().all(|k| k.verified),
        "the vector proofs are accepted"
    );

    // Flipping the recovery id breaks the ecrecover check.
    let mut tampered = hex_field(&secp, "proof");
    tampered[64] ^= 1;
    let (_, mut fresh) = signing_key(KeyType::Secp256k1, "tampered", &did);
    fresh.proof = tampered;
    assert_eq!(
        revert_reason(client.add_key(agent_id, &fresh).await),
        "InvalidProof"
    );
}

#[tokio::test]
async fn client_and_registry_compute_the_same_commitment_and_challenge() {
    let Some(chain) = Chain::start("commit_hash_parity").await else {
        return;
    };
    let client = chain.client(1).await;
    let did = did_of(chain.address(3));
    let keys = [vec![0x04; 65], vec![0x01; 32], vec![]];
    let salt = [0x33; 32];
    assert_eq!(
        client
            .onchain_commit_hash(&did, &keys, chain.address(3), salt)
            .await
            .unwrap(),
        commit_hash(&did, &keys, chain.address(3), salt, chain.chain_id)
    );
    let (key, _) = signing_key(KeyType::Secp256k1, "challenge", &did);
    let key_data = key.verifying_key().to_bytes();
    let expected = pop_challenge(
        ProtocolVersion::V1Draft1.labels(),
        &Did::parse(&did).unwrap(),
        &key_data,
    );
    assert_eq!(
        client.onchain_pop_challenge(&did, &key_data).await.unwrap(),
        expected.as_bytes()
    );
    assert_eq!(
        client.commit_window().await.unwrap(),
        (COMMIT_MIN_DELAY_SECS, COMMIT_MAX_DELAY_SECS)
    );
}

#[tokio::test]
async fn unknown_records_are_not_found() {
    let Some(chain) = Chain::start("not_found").await else {
        return;
    };
    let client = chain.client(1).await;
    let did = did_of(chain.address(4));
    assert!(matches!(
        client.get_agent_by_did(&did).await,
        Err(EthRegistryError::NotFound)
    ));
    assert!(matches!(
        client.get_agent([9; 32]).await,
        Err(EthRegistryError::NotFound)
    ));
    assert!(matches!(
        client.get_key([9; 32]).await,
        Err(EthRegistryError::NotFound)
    ));
    assert!(matches!(
        client.is_active(&did).await,
        Err(EthRegistryError::NotFound)
    ));
    assert!(matches!(
        client.kem_key([9; 32]).await,
        Err(EthRegistryError::NotFound)
    ));
    assert!(matches!(
        client.agent_id_of(&did).await,
        Err(EthRegistryError::NotFound)
    ));
    assert_eq!(
        client.agents_by_owner(chain.address(4)).await.unwrap(),
        Vec::<[u8; 32]>::new()
    );
}

#[tokio::test]
async fn stopped_node_gives_unreachable_not_stale_data() {
    let Some(mut chain) = Chain::start("unreachable").await else {
        return;
    };
    let did = did_of(chain.address(1));
    let client = chain.client(1).await;
    commit_and_register(
        &chain,
        &client,
        &request(&did, vec![signing_key(KeyType::Secp256k1, "gone", &did).1]),
    )
    .await;
    client.get_agent_by_did(&did).await.unwrap();

    chain.stop();
    assert!(matches!(
        client.get_agent_by_did(&did).await,
        Err(EthRegistryError::Unreachable(_))
    ));
    assert!(matches!(
        client.is_active(&did).await,
        Err(EthRegistryError::Unreachable(_))
    ));
    assert!(matches!(
        client.activation_delay().await,
        Err(EthRegistryError::Unreachable(_))
    ));
}

#[tokio::test]
async fn connect_checks_the_chain_id_and_the_contract_code() {
    let Some(chain) = Chain::start("connect_checks").await else {
        return;
    };
    let wrong_chain =
        EthRegistryClient::connect(&chain.rpc_url, chain.registry, chain.chain_id + 1, None).await;
    assert!(matches!(
        wrong_chain,
        Err(EthRegistryError::ChainIdMismatch { .. })
    ));
    let no_code =
        EthRegistryClient::connect(&chain.rpc_url, chain.address(5), chain.chain_id, None).await;
    assert!(matches!(no_code, Err(EthRegistryError::NoContract)));
    let read_only =
        EthRegistryClient::connect(&chain.rpc_url, chain.registry, chain.chain_id, None)
            .await
            .unwrap();
    assert_eq!(read_only.sender_address(), None);
    assert_eq!(read_only.contract_address(), chain.registry);
}

#[tokio::test]
async fn read_only_client_refuses_writes_without_contacting_the_node() {
    let client = EthRegistryClient::new(
        "http://127.0.0.1:9",
        [1; 20],
        31337,
        Sender::ReadOnly,
        ClientOptions::default(),
    )
    .unwrap();
    let did = "did:sage:ethereum:0x0101010101010101010101010101010101010101";
    assert!(matches!(
        client.commit(&request(did, Vec::new())).await,
        Err(EthRegistryError::NoSender)
    ));
    assert!(matches!(
        client.activate([0; 32]).await,
        Err(EthRegistryError::NoSender)
    ));
    assert!(matches!(
        EthRegistryClient::new(
            "not a url",
            [1; 20],
            1,
            Sender::ReadOnly,
            ClientOptions::default()
        ),
        Err(EthRegistryError::InvalidUrl)
    ));
    assert!(matches!(
        EthRegistryClient::new(
            "https://rpc.example",
            [1; 20],
            1,
            Sender::ReadOnly,
            ClientOptions::default()
        ),
        Err(EthRegistryError::UnsupportedUrlScheme)
    ));
}

/// Gas of each operation, printed for docs/REGISTRY-GAS.md (run with
/// `--nocapture`); the bounds catch a regression of more than ~25 %. Every
/// transaction is sent with headroom over its estimate: without it, a write
/// estimated in the same second as the record's previous change and mined in
/// the next one ran out of gas (the `updatedAt` store costs more then).
#[tokio::test]
async fn gas_per_operation_stays_within_budget() {
    let Some(chain) = Chain::start("gas").await else {
        return;
    };
    let deployment = EthRegistryClient::deploy(&chain.rpc_url, chain.key(0))
        .await
        .unwrap();
    let client = EthRegistryClient::connect(
        &chain.rpc_url,
        deployment.address,
        chain.chain_id,
        Some(chain.key(1)),
    )
    .await
    .unwrap();
    let did = did_of(chain.address(1));
    let (_, secp) = signing_key(KeyType::Secp256k1, "gas/secp", &did);
    let (_, ed) = signing_key(KeyType::Ed25519, "gas/ed", &did);
    let first = key_hash(&secp.key_data);
    let request = request(&did, vec![secp, ed, x25519(kem_key(11))]);

    let mut rows: Vec<(&str, TxReceipt, u64)> = vec![("deploy", deployment.receipt, 3_900_000)];
    rows.push((
        "commitRegistration",
        client.commit(&request).await.unwrap().receipt,
        90_000,
    ));
    chain.advance(COMMIT_MIN_DELAY_SECS).await;
    let registered = client.register(&request).await.unwrap();
    rows.push((
        "registerAgentWithParams (secp256k1 + Ed25519 + X25519)",
        registered.receipt,
        1_400_000,
    ));
    let id = registered.agent_id;
    chain
        .advance(client.activation_delay().await.unwrap())
        .await;
    rows.push(("activateAgent", client.activate(id).await.unwrap(), 80_000));
    let (_, secp2) = signing_key(KeyType::Secp256k1, "gas/secp2", &did);
    rows.push((
        "addKey (secp256k1, PoP via ecrecover)",
        client.add_key(id, &secp2).await.unwrap(),
        420_000,
    ));
    let (_, ed2) = signing_key(KeyType::Ed25519, "gas/ed2", &did);
    rows.push((
        "addKey (Ed25519)",
        client.add_key(id, &ed2).await.unwrap(),
        330_000,
    ));
    rows.push((
        "revokeKey",
        client.revoke_key(id, first).await.unwrap(),
        60_000,
    ));
    rows.push((
        "updateKMEKey (rotate X25519)",
        client.update_kem_key(id, kem_key(12)).await.unwrap(),
        260_000,
    ));
    rows.push((
        "updateAgent",
        client
            .update_agent(id, "https://agent.example/v2", "{}")
            .await
            .unwrap(),
        60_000,
    ));
    rows.push((
        "deactivateAgentByHash",
        client.deactivate(id).await.unwrap(),
        60_000,
    ));
    rows.push((
        "withdrawStake",
        client.withdraw_stake().await.unwrap(),
        60_000,
    ));

    println!("| operation | gas used |\n|---|---:|");
    for (operation, receipt, _) in &rows {
        println!("| {operation} | {} |", receipt.gas_used);
    }
    for (operation, receipt, budget) in rows {
        let TxReceipt {
            gas_used,
            gas_limit,
            ..
        } = receipt;
        assert!(
            gas_used <= budget,
            "{operation}: {gas_used} gas, budget {budget}"
        );
        assert!(
            gas_limit >= gas_used + gas_used / 10,
            "{operation}: sent with a limit of {gas_limit} for {gas_used} used; no headroom"
        );
    }
}
