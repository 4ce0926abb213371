// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {AgentCardRegistry} from "../src/AgentCardRegistry.sol";
import {IAgentCardRegistry} from "../src/IAgentCardRegistry.sol";
import {Vm, vm} from "./utils/Vm.sol";
import {Assertions} from "./utils/Assertions.sol";

/// @notice Unit tests of the registry rules (PROTOCOL.md §8.3–§8.5, §9.3). The Rust crate
///         `sage-registry-eth` runs the same lifecycle end to end against anvil with keys
///         made by sage-core.
contract AgentCardRegistryTest is Assertions {
    AgentCardRegistry internal registry;

    Vm.Wallet internal alice;
    Vm.Wallet internal mallory;
    string internal aliceDid;

    uint256 internal constant STAKE = 0.01 ether;
    bytes32 internal constant SALT = keccak256("salt");

    // did.json → pop-secp256k1 (vectors/sage-spec): a proof made by the Go generator.
    address internal constant VECTOR_ADDRESS = 0x1111111111111111111111111111111111111111;
    string internal constant VECTOR_DID = "did:sage:ethereum:0x1111111111111111111111111111111111111111";
    bytes internal constant VECTOR_KEY =
        hex"04e4ca58183538cf9b3ae81e0a2b9f77c1f32f2ad256025f856c2182bb548675e37390e2e0c047f94686a454de3937009dff7af4cb5a1e57409b31e0be35e73f78";
    bytes internal constant VECTOR_PROOF =
        hex"2ef383803e18e1fe74d390cc650d82e87ad2fd0b4815f75ec3f6cba76603e51e6ea3715557e7fe7a772ce92cb13d41a79be5104025c9f338f864c86a5a9bcf4200";

    function setUp() public {
        vm.warp(1_800_000_000);
        registry = new AgentCardRegistry();
        alice = vm.createWallet(uint256(keccak256("alice")));
        mallory = vm.createWallet(uint256(keccak256("mallory")));
        aliceDid = didOf(alice.addr);
        vm.deal(alice.addr, 1 ether);
        vm.deal(mallory.addr, 1 ether);
        vm.deal(VECTOR_ADDRESS, 1 ether);
    }

    // ----------------------------------------------------------------- helpers

    function didOf(address account) internal pure returns (string memory) {
        return string.concat("did:sage:ethereum:", vm.toLowercase(vm.toString(account)));
    }

    function secp256k1Key(Vm.Wallet memory w) internal pure returns (bytes memory) {
        return abi.encodePacked(bytes1(0x04), w.publicKeyX, w.publicKeyY);
    }

    /// The §8.5 proof as sage-core makes it: r ‖ s ‖ recovery id (0/1).
    function pop(string memory did, Vm.Wallet memory w) internal view returns (bytes memory) {
        bytes32 digest = sha256(registry.popChallenge(did, secp256k1Key(w)));
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(w.privateKey, digest);
        return abi.encodePacked(r, s, v - 27);
    }

    function params(string memory did, bytes[] memory keys, IAgentCardRegistry.KeyType[] memory types, bytes[] memory proofs)
        internal
        pure
        returns (IAgentCardRegistry.RegistrationParams memory p)
    {
        p.did = did;
        p.name = "agent";
        p.description = "test agent";
        p.endpoint = "https://agent.example/a2a";
        p.capabilities = '{"chat":true}';
        p.keys = keys;
        p.keyTypes = types;
        p.signatures = proofs;
        p.salt = SALT;
    }

    /// One secp256k1 key of `signer` for `did`.
    function oneKeyParams(string memory did, Vm.Wallet memory signer)
        internal
        view
        returns (IAgentCardRegistry.RegistrationParams memory)
    {
        bytes[] memory keys = new bytes[](1);
        keys[0] = secp256k1Key(signer);
        IAgentCardRegistry.KeyType[] memory types = new IAgentCardRegistry.KeyType[](1);
        types[0] = IAgentCardRegistry.KeyType.ECDSA;
        bytes[] memory proofs = new bytes[](1);
        proofs[0] = pop(did, signer);
        return params(did, keys, types, proofs);
    }

    function commit(address from, IAgentCardRegistry.RegistrationParams memory p) internal {
        bytes32 commitHash = registry.computeCommitHash(p.did, p.keys, from, p.salt);
        vm.prank(from);
        registry.commitRegistration{value: STAKE}(commitHash);
    }

    function registerAlice() internal returns (bytes32 agentId) {
        IAgentCardRegistry.RegistrationParams memory p = oneKeyParams(aliceDid, alice);
        commit(alice.addr, p);
        vm.warp(block.timestamp + 61);
        vm.prank(alice.addr);
        agentId = registry.registerAgentWithParams(p);
    }

    function activeAlice() internal returns (bytes32 agentId) {
        agentId = registerAlice();
        vm.warp(block.timestamp + registry.activationDelay());
        vm.prank(alice.addr);
        registry.activateAgent(agentId);
    }

    // --------------------------------------------------------------- lifecycle

    function test_full_lifecycle_commit_register_activate_add_revoke_deactivate() public {
        bytes32 agentId = registerAlice();
        assertEq(agentId, keccak256(bytes(aliceDid)), "agent id is keccak256(did)");
        assertEq(registry.didToAgentId(aliceDid), agentId, "didToAgentId");
        assertTrue(!registry.isAgentActive(aliceDid), "inactive before activation");
        assertTrue(registry.agentState(agentId) == IAgentCardRegistry.AgentState.Registered, "registered");

        IAgentCardRegistry.AgentMetadata memory m = registry.getAgentByDID(aliceDid);
        assertEq(m.did, aliceDid, "did");
        assertEq(m.owner, alice.addr, "owner");
        assertEq(m.keyHashes.length, 1, "one key");
        assertEq(m.chainId, block.chainid, "chain id");
        IAgentCardRegistry.AgentKey memory k = registry.getKey(m.keyHashes[0]);
        assertTrue(k.verified, "PoP-checked key is verified");
        assertEq(k.keyData, secp256k1Key(alice), "key data stored as given");

        vm.warp(block.timestamp + registry.activationDelay());
        vm.prank(alice.addr);
        registry.activateAgent(agentId);
        assertTrue(registry.isAgentActive(aliceDid), "active after activation");

        Vm.Wallet memory second = vm.createWallet(uint256(keccak256("alice-2")));
        bytes memory secondProof = pop(aliceDid, second);
        vm.prank(alice.addr);
        registry.addKey(agentId, secp256k1Key(second), IAgentCardRegistry.KeyType.ECDSA, secondProof);

        bytes32 firstKey = keccak256(secp256k1Key(alice));
        vm.prank(alice.addr);
        registry.revokeKey(agentId, firstKey);
        m = registry.getAgent(agentId);
        assertEq(m.keyHashes.length, 2, "revoked key entry is kept");
        assertTrue(!registry.getKey(firstKey).verified, "revoked key is not verified");
        assertTrue(registry.getKey(keccak256(secp256k1Key(second))).verified, "second key still verified");

        vm.prank(alice.addr);
        registry.deactivateAgentByHash(agentId);
        assertTrue(!registry.isAgentActive(aliceDid), "inactive after deactivation");
        assertTrue(registry.agentState(agentId) == IAgentCardRegistry.AgentState.Deactivated, "deactivated");
    }

    function test_deactivated_record_cannot_be_reactivated_or_changed() public {
        bytes32 agentId = activeAlice();
        vm.prank(alice.addr);
        registry.deactivateAgent(aliceDid);

        vm.prank(alice.addr);
        vm.expectRevert(abi.encodeWithSelector(IAgentCardRegistry.AgentIsDeactivated.selector, agentId));
        registry.activateAgent(agentId);

        vm.prank(alice.addr);
        vm.expectRevert(abi.encodeWithSelector(IAgentCardRegistry.AgentIsDeactivated.selector, agentId));
        registry.updateAgent(agentId, "https://new.example", "{}");

        vm.prank(alice.addr);
        vm.expectRevert(abi.encodeWithSelector(IAgentCardRegistry.AgentIsDeactivated.selector, agentId));
        registry.deactivateAgentByHash(agentId);
    }

    function test_activation_before_the_delay_is_rejected() public {
        bytes32 agentId = registerAlice();
        uint256 earliest = registry.agentActivationTime(agentId);
        vm.prank(alice.addr);
        vm.expectRevert(abi.encodeWithSelector(IAgentCardRegistry.ActivationTooEarly.selector, earliest));
        registry.activateAgent(agentId);
    }

    // ------------------------------------------------------------ commit-reveal

    function test_reveal_too_early_is_rejected() public {
        IAgentCardRegistry.RegistrationParams memory p = oneKeyParams(aliceDid, alice);
        commit(alice.addr, p);
        vm.warp(block.timestamp + 59);
        vm.prank(alice.addr);
        vm.expectRevert(abi.encodeWithSelector(IAgentCardRegistry.RevealTooEarly.selector, block.timestamp + 1));
        registry.registerAgentWithParams(p);
    }

    function test_reveal_after_an_hour_is_rejected() public {
        IAgentCardRegistry.RegistrationParams memory p = oneKeyParams(aliceDid, alice);
        commit(alice.addr, p);
        uint256 deadline = block.timestamp + 1 hours;
        vm.warp(deadline + 1);
        vm.prank(alice.addr);
        vm.expectRevert(abi.encodeWithSelector(IAgentCardRegistry.CommitmentExpired.selector, deadline));
        registry.registerAgentWithParams(p);
    }

    function test_reveal_with_wrong_salt_is_rejected() public {
        IAgentCardRegistry.RegistrationParams memory p = oneKeyParams(aliceDid, alice);
        commit(alice.addr, p);
        vm.warp(block.timestamp + 61);
        p.salt = keccak256("another salt");
        vm.prank(alice.addr);
        vm.expectRevert(IAgentCardRegistry.CommitmentMismatch.selector);
        registry.registerAgentWithParams(p);
    }

    function test_reveal_from_another_account_is_rejected() public {
        IAgentCardRegistry.RegistrationParams memory p = oneKeyParams(aliceDid, alice);
        commit(alice.addr, p);
        vm.warp(block.timestamp + 61);

        // Mallory copies Alice's reveal from the mempool: no commitment of hers matches.
        vm.prank(mallory.addr);
        vm.expectRevert(IAgentCardRegistry.NoCommitment.selector);
        registry.registerAgentWithParams(p);

        // Even with a commitment of her own, the hash binds the committing account.
        bytes32 aliceCommitHash = registry.computeCommitHash(p.did, p.keys, alice.addr, p.salt);
        vm.prank(mallory.addr);
        registry.commitRegistration{value: STAKE}(aliceCommitHash);
        vm.warp(block.timestamp + 61);
        vm.prank(mallory.addr);
        vm.expectRevert(IAgentCardRegistry.CommitmentMismatch.selector);
        registry.registerAgentWithParams(p);

        // Alice's own reveal still goes through.
        vm.prank(alice.addr);
        registry.registerAgentWithParams(p);
    }

    function test_did_of_another_address_cannot_be_claimed() public {
        IAgentCardRegistry.RegistrationParams memory p = oneKeyParams(aliceDid, mallory);
        commit(mallory.addr, p);
        vm.warp(block.timestamp + 61);
        vm.prank(mallory.addr);
        vm.expectRevert(
            abi.encodeWithSelector(IAgentCardRegistry.DidNotOwnedBySender.selector, alice.addr, mallory.addr)
        );
        registry.registerAgentWithParams(p);
    }

    function test_non_canonical_dids_are_rejected() public {
        string memory lower = vm.toLowercase(vm.toString(alice.addr));
        string[5] memory bad = [
            string.concat("did:sage:eth:", lower),
            string.concat("did:sage:ETHEREUM:", lower),
            string.concat("did:sage:ethereum:", vm.toString(alice.addr)),
            string.concat("did:sage:ethereum:", lower, ":01"),
            string.concat("did:sage:ethereum:", lower, ":")
        ];
        for (uint256 i = 0; i < bad.length; ++i) {
            IAgentCardRegistry.RegistrationParams memory p = oneKeyParams(bad[i], alice);
            commit(alice.addr, p);
            vm.warp(block.timestamp + 61);
            vm.prank(alice.addr);
            vm.expectRevert(IAgentCardRegistry.InvalidDid.selector);
            registry.registerAgentWithParams(p);
        }
    }

    function test_numbered_did_of_the_sender_is_accepted() public {
        string memory did = string.concat(aliceDid, ":42");
        IAgentCardRegistry.RegistrationParams memory p = oneKeyParams(did, alice);
        commit(alice.addr, p);
        vm.warp(block.timestamp + 61);
        vm.prank(alice.addr);
        registry.registerAgentWithParams(p);
        assertEq(registry.getAgentsByOwner(alice.addr).length, 1, "one agent for alice");
    }

    function test_commit_hash_is_the_section_8_3_formula_and_binds_the_chain() public {
        bytes[] memory keys = new bytes[](1);
        keys[0] = secp256k1Key(alice);
        bytes32 expected = keccak256(abi.encode(aliceDid, keys, alice.addr, SALT, block.chainid));
        assertEq(registry.computeCommitHash(aliceDid, keys, alice.addr, SALT), expected, "commit hash formula");
        vm.chainId(block.chainid + 1);
        assertTrue(registry.computeCommitHash(aliceDid, keys, alice.addr, SALT) != expected, "chain id is bound");
    }

    function test_commit_without_stake_is_rejected() public {
        vm.prank(alice.addr);
        vm.expectRevert(abi.encodeWithSelector(IAgentCardRegistry.InsufficientStake.selector, 0, STAKE));
        registry.commitRegistration(keccak256("x"));
    }

    // ---------------------------------------------------------------- key rules

    function test_secp256k1_key_with_a_bad_proof_is_rejected() public {
        IAgentCardRegistry.RegistrationParams memory p = oneKeyParams(aliceDid, alice);
        // A proof made by another key.
        p.signatures[0] = pop(aliceDid, mallory);
        commit(alice.addr, p);
        vm.warp(block.timestamp + 61);
        vm.prank(alice.addr);
        vm.expectRevert(abi.encodeWithSelector(IAgentCardRegistry.InvalidProof.selector, keccak256(p.keys[0])));
        registry.registerAgentWithParams(p);
    }

    function test_secp256k1_proof_for_another_did_is_rejected() public {
        bytes32 agentId = activeAlice();
        Vm.Wallet memory second = vm.createWallet(uint256(keccak256("alice-2")));
        bytes memory key = secp256k1Key(second);
        bytes memory proofForOtherDid = pop(didOf(mallory.addr), second);
        vm.prank(alice.addr);
        vm.expectRevert(abi.encodeWithSelector(IAgentCardRegistry.InvalidProof.selector, keccak256(key)));
        registry.addKey(agentId, key, IAgentCardRegistry.KeyType.ECDSA, proofForOtherDid);
    }

    function test_compressed_secp256k1_key_is_rejected() public {
        bytes32 agentId = activeAlice();
        bytes memory compressed = abi.encodePacked(bytes1(0x02), alice.publicKeyX);
        vm.prank(alice.addr);
        vm.expectRevert(
            abi.encodeWithSelector(IAgentCardRegistry.InvalidKeyData.selector, IAgentCardRegistry.KeyType.ECDSA, 33)
        );
        registry.addKey(agentId, compressed, IAgentCardRegistry.KeyType.ECDSA, new bytes(65));
    }

    function test_ed25519_key_of_the_wrong_length_is_rejected() public {
        bytes32 agentId = activeAlice();
        vm.prank(alice.addr);
        vm.expectRevert(
            abi.encodeWithSelector(IAgentCardRegistry.InvalidKeyData.selector, IAgentCardRegistry.KeyType.Ed25519, 31)
        );
        registry.addKey(agentId, new bytes(31), IAgentCardRegistry.KeyType.Ed25519, new bytes(64));

        bytes memory key = abi.encodePacked(keccak256("ed25519 key"));
        vm.prank(alice.addr);
        vm.expectRevert(abi.encodeWithSelector(IAgentCardRegistry.InvalidProof.selector, keccak256(key)));
        registry.addKey(agentId, key, IAgentCardRegistry.KeyType.Ed25519, new bytes(63));

        vm.prank(alice.addr);
        registry.addKey(agentId, key, IAgentCardRegistry.KeyType.Ed25519, new bytes(64));
        assertTrue(registry.getKey(keccak256(key)).verified, "ed25519 key of the right shape is stored");
    }

    function test_x25519_key_has_no_proof_and_becomes_the_kem_key() public {
        bytes32 agentId = activeAlice();
        bytes memory kem = abi.encodePacked(keccak256("x25519 key"));

        vm.prank(alice.addr);
        vm.expectRevert(abi.encodeWithSelector(IAgentCardRegistry.UnexpectedProof.selector, keccak256(kem)));
        registry.addKey(agentId, kem, IAgentCardRegistry.KeyType.X25519, new bytes(65));

        vm.prank(alice.addr);
        vm.expectRevert(
            abi.encodeWithSelector(IAgentCardRegistry.InvalidKeyData.selector, IAgentCardRegistry.KeyType.X25519, 33)
        );
        registry.addKey(agentId, new bytes(33), IAgentCardRegistry.KeyType.X25519, "");

        vm.prank(alice.addr);
        registry.addKey(agentId, kem, IAgentCardRegistry.KeyType.X25519, "");
        assertEq(registry.getKMEKey(agentId), kem, "kem key");

        bytes memory second = abi.encodePacked(keccak256("x25519 key 2"));
        vm.prank(alice.addr);
        vm.expectRevert(IAgentCardRegistry.KemKeyAlreadySet.selector);
        registry.addKey(agentId, second, IAgentCardRegistry.KeyType.X25519, "");

        vm.prank(alice.addr);
        registry.updateKMEKey(agentId, second, "");
        assertEq(registry.getKMEKey(agentId), second, "rotated kem key");
        assertTrue(!registry.getKey(keccak256(kem)).verified, "previous kem key revoked");

        vm.prank(alice.addr);
        registry.revokeKey(agentId, keccak256(second));
        assertEq(registry.getKMEKey(agentId).length, 0, "revoking the kem key clears it");
    }

    function test_last_signing_key_of_an_active_record_cannot_be_revoked() public {
        bytes32 agentId = activeAlice();
        bytes32 only = keccak256(secp256k1Key(alice));
        vm.prank(alice.addr);
        vm.expectRevert(abi.encodeWithSelector(IAgentCardRegistry.LastSigningKey.selector, only));
        registry.revokeKey(agentId, only);
    }

    function test_revoked_key_cannot_be_revoked_again_or_registered_again() public {
        bytes32 agentId = activeAlice();
        Vm.Wallet memory second = vm.createWallet(uint256(keccak256("alice-2")));
        bytes memory key = secp256k1Key(second);
        bytes memory proof = pop(aliceDid, second);
        vm.startPrank(alice.addr);
        registry.addKey(agentId, key, IAgentCardRegistry.KeyType.ECDSA, proof);
        registry.revokeKey(agentId, keccak256(key));
        vm.expectRevert(abi.encodeWithSelector(IAgentCardRegistry.KeyAlreadyRevoked.selector, keccak256(key)));
        registry.revokeKey(agentId, keccak256(key));
        vm.expectRevert(abi.encodeWithSelector(IAgentCardRegistry.KeyAlreadyRegistered.selector, keccak256(key)));
        registry.addKey(agentId, key, IAgentCardRegistry.KeyType.ECDSA, proof);
        vm.stopPrank();
    }

    function test_key_of_another_record_cannot_be_revoked() public {
        bytes32 aliceId = activeAlice();
        string memory malloryDid = didOf(mallory.addr);
        IAgentCardRegistry.RegistrationParams memory p = oneKeyParams(malloryDid, mallory);
        commit(mallory.addr, p);
        vm.warp(block.timestamp + 61);
        vm.prank(mallory.addr);
        bytes32 malloryId = registry.registerAgentWithParams(p);

        bytes32 aliceKey = keccak256(secp256k1Key(alice));
        vm.prank(mallory.addr);
        vm.expectRevert(abi.encodeWithSelector(IAgentCardRegistry.KeyNotFound.selector, aliceKey));
        registry.revokeKey(malloryId, aliceKey);
        assertTrue(registry.getKey(aliceKey).verified, "alice's key untouched");
        assertTrue(registry.isAgentActive(aliceDid), "alice untouched");
        aliceId;
    }

    function test_deactivated_record_may_lose_its_last_signing_key() public {
        bytes32 agentId = activeAlice();
        vm.startPrank(alice.addr);
        registry.deactivateAgentByHash(agentId);
        registry.revokeKey(agentId, keccak256(secp256k1Key(alice)));
        vm.stopPrank();
        assertTrue(!registry.getKey(keccak256(secp256k1Key(alice))).verified, "revoked after deactivation");
    }

    function test_registration_without_a_signing_key_is_rejected() public {
        bytes[] memory keys = new bytes[](1);
        keys[0] = abi.encodePacked(keccak256("x25519 only"));
        IAgentCardRegistry.KeyType[] memory types = new IAgentCardRegistry.KeyType[](1);
        types[0] = IAgentCardRegistry.KeyType.X25519;
        bytes[] memory proofs = new bytes[](1);
        IAgentCardRegistry.RegistrationParams memory p = params(aliceDid, keys, types, proofs);
        commit(alice.addr, p);
        vm.warp(block.timestamp + 61);
        vm.prank(alice.addr);
        vm.expectRevert(IAgentCardRegistry.NoSigningKey.selector);
        registry.registerAgentWithParams(p);
    }

    function test_a_did_is_registered_once() public {
        bytes32 agentId = activeAlice();
        vm.prank(alice.addr);
        registry.deactivateAgentByHash(agentId);

        Vm.Wallet memory fresh = vm.createWallet(uint256(keccak256("alice-fresh")));
        IAgentCardRegistry.RegistrationParams memory p = oneKeyParams(aliceDid, fresh);
        commit(alice.addr, p);
        vm.warp(block.timestamp + 61);
        vm.prank(alice.addr);
        vm.expectRevert(abi.encodeWithSelector(IAgentCardRegistry.DidAlreadyRegistered.selector, agentId));
        registry.registerAgentWithParams(p);
    }

    // ---------------------------------------------------------------- ownership

    function test_only_the_owner_changes_a_record() public {
        bytes32 agentId = registerAlice();
        vm.warp(block.timestamp + registry.activationDelay());
        bytes memory notOwner = abi.encodeWithSelector(IAgentCardRegistry.NotAgentOwner.selector, agentId, mallory.addr);

        vm.startPrank(mallory.addr);
        vm.expectRevert(notOwner);
        registry.activateAgent(agentId);
        vm.expectRevert(notOwner);
        registry.addKey(agentId, abi.encodePacked(keccak256("k")), IAgentCardRegistry.KeyType.X25519, "");
        vm.expectRevert(notOwner);
        registry.revokeKey(agentId, keccak256(secp256k1Key(alice)));
        vm.expectRevert(notOwner);
        registry.updateAgent(agentId, "https://evil.example", "{}");
        vm.expectRevert(notOwner);
        registry.updateAgentEndpoint(aliceDid, "https://evil.example");
        vm.expectRevert(notOwner);
        registry.updateKMEKey(agentId, abi.encodePacked(keccak256("k")), "");
        vm.expectRevert(notOwner);
        registry.deactivateAgentByHash(agentId);
        vm.expectRevert(notOwner);
        registry.deactivateAgent(aliceDid);
        vm.stopPrank();
    }

    function test_only_the_registry_owner_sets_parameters() public {
        vm.prank(mallory.addr);
        vm.expectRevert(abi.encodeWithSelector(IAgentCardRegistry.NotRegistryOwner.selector, mallory.addr));
        registry.setActivationDelay(0);
        vm.prank(mallory.addr);
        vm.expectRevert(abi.encodeWithSelector(IAgentCardRegistry.NotRegistryOwner.selector, mallory.addr));
        registry.setRegistrationStake(0);

        registry.transferOwnership(alice.addr);
        vm.prank(mallory.addr);
        vm.expectRevert(abi.encodeWithSelector(IAgentCardRegistry.NotPendingOwner.selector, mallory.addr));
        registry.acceptOwnership();
        vm.prank(alice.addr);
        registry.acceptOwnership();
        assertEq(registry.owner(), alice.addr, "ownership moved in two steps");
    }

    // ------------------------------------------------------------------ vectors

    function test_did_json_pop_secp256k1_vector_is_accepted_on_chain() public {
        bytes[] memory keys = new bytes[](1);
        keys[0] = VECTOR_KEY;
        IAgentCardRegistry.KeyType[] memory types = new IAgentCardRegistry.KeyType[](1);
        types[0] = IAgentCardRegistry.KeyType.ECDSA;
        bytes[] memory proofs = new bytes[](1);
        proofs[0] = VECTOR_PROOF;
        IAgentCardRegistry.RegistrationParams memory p = params(VECTOR_DID, keys, types, proofs);

        commit(VECTOR_ADDRESS, p);
        vm.warp(block.timestamp + 61);
        vm.prank(VECTOR_ADDRESS);
        bytes32 agentId = registry.registerAgentWithParams(p);
        assertTrue(registry.getKey(keccak256(VECTOR_KEY)).verified, "vector proof verified by ecrecover");
        assertEq(registry.getAgent(agentId).owner, VECTOR_ADDRESS, "owner is the DID's address");
    }

    // -------------------------------------------------------------------- stake

    function test_stake_is_released_at_activation_and_withdrawn() public {
        activeAlice();
        assertEq(registry.withdrawableStake(alice.addr), STAKE, "stake released");
        uint256 before = alice.addr.balance;
        vm.prank(alice.addr);
        registry.withdrawStake();
        assertEq(alice.addr.balance, before + STAKE, "stake paid out");
        vm.prank(alice.addr);
        vm.expectRevert(IAgentCardRegistry.NothingToWithdraw.selector);
        registry.withdrawStake();
    }

    function test_stake_of_an_expired_commitment_is_withdrawable_and_a_live_one_is_not() public {
        commit(alice.addr, oneKeyParams(aliceDid, alice));
        vm.prank(alice.addr);
        vm.expectRevert(IAgentCardRegistry.NothingToWithdraw.selector);
        registry.withdrawStake();
        vm.warp(block.timestamp + 1 hours + 1);
        uint256 before = alice.addr.balance;
        vm.prank(alice.addr);
        registry.withdrawStake();
        assertEq(alice.addr.balance, before + STAKE, "expired commitment stake paid out");
    }

    // ------------------------------------------------------------------- events

    function test_registration_and_revocation_emit_events() public {
        IAgentCardRegistry.RegistrationParams memory p = oneKeyParams(aliceDid, alice);
        commit(alice.addr, p);
        vm.warp(block.timestamp + 61);
        bytes32 agentId = keccak256(bytes(aliceDid));
        vm.expectEmit();
        emit IAgentCardRegistry.AgentRegistered(agentId, aliceDid, alice.addr, block.timestamp);
        vm.prank(alice.addr);
        registry.registerAgentWithParams(p);

        vm.warp(block.timestamp + registry.activationDelay());
        vm.expectEmit();
        emit IAgentCardRegistry.AgentActivated(agentId, block.timestamp);
        vm.prank(alice.addr);
        registry.activateAgent(agentId);

        vm.expectEmit();
        emit IAgentCardRegistry.AgentDeactivatedByHash(agentId, block.timestamp);
        vm.prank(alice.addr);
        registry.deactivateAgentByHash(agentId);
    }
}
