// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {IAgentCardRegistry} from "./IAgentCardRegistry.sol";
import {DidSage} from "./DidSage.sol";
import {SagePop} from "./SagePop.sol";

/// @title SAGE agent registry ([L] profile, PROTOCOL.md §8.2–§8.5, §9.3).
/// @notice Written for this project from the public interface of the deployed SAGE
///         `AgentCardRegistry`; the rules are ours:
///         - registration is commit, reveal, activate (§8.3); the reveal must come from the
///           committing account, which must be the address inside the DID;
///         - a key is stored only if the chain can check it: a secp256k1 key with a valid
///           SAGE-PoP (`ecrecover`), an Ed25519 key of 32 bytes with a 64-byte proof (the
///           proof itself is for resolvers to check), an X25519 key of 32 bytes without one;
///         - only the record owner changes a record; `Deactivated` is terminal;
///         - revoked keys stay in the record with `verified = false` and can never return;
///           the last signing key of a record that is not deactivated cannot be revoked.
/// @dev Record state has one source of truth, `Record.state`; the `active` flag of
///      `AgentMetadata` is derived from it when a record is read.
contract AgentCardRegistry is IAgentCardRegistry {
    uint256 public constant override COMMIT_MIN_DELAY = 1 minutes;
    uint256 public constant override COMMIT_MAX_DELAY = 1 hours;
    /// @dev Counts revoked entries too, which are kept forever.
    uint256 public constant override MAX_KEYS_PER_AGENT = 32;

    uint256 private constant DEFAULT_ACTIVATION_DELAY = 1 hours;
    uint256 private constant DEFAULT_REGISTRATION_STAKE = 0.01 ether;

    struct Commitment {
        bytes32 commitHash;
        uint64 committedAt;
        bool revealed;
        uint128 stake;
    }

    struct Record {
        string did;
        string name;
        string description;
        string endpoint;
        string capabilities;
        bytes kmePublicKey;
        bytes32[] keyHashes;
        address owner;
        uint64 registeredAt;
        AgentState state;
        uint8 liveSigningKeys;
        uint64 updatedAt;
        uint64 activatableAt;
        uint128 stake;
    }

    struct StoredKey {
        bytes keyData;
        bytes signature;
        KeyType keyType;
        bool verified;
        uint64 addedAt;
    }

    uint256 public override activationDelay;
    uint256 public override registrationStake;
    address public override owner;
    address public override pendingOwner;

    mapping(address committer => Commitment) private _commitments;
    mapping(bytes32 agentId => Record) private _records;
    mapping(bytes32 keyHash => StoredKey) private _keys;
    /// @dev Non-zero forever once a key is registered: a key is never registered twice.
    mapping(bytes32 keyHash => bytes32 agentId) private _keyAgent;
    mapping(address recordOwner => bytes32[] agentIds) private _agentsByOwner;
    mapping(address account => uint256 amount) private _withdrawable;

    constructor() {
        owner = msg.sender;
        activationDelay = DEFAULT_ACTIVATION_DELAY;
        registrationStake = DEFAULT_REGISTRATION_STAKE;
        emit OwnershipTransferred(address(0), msg.sender);
    }

    modifier onlyRegistryOwner() {
        if (msg.sender != owner) {
            revert NotRegistryOwner(msg.sender);
        }
        _;
    }

    // ------------------------------------------------------------- lifecycle

    function commitRegistration(bytes32 commitHash) external payable override {
        if (commitHash == bytes32(0)) {
            revert EmptyCommitment();
        }
        if (msg.value < registrationStake) {
            revert InsufficientStake(msg.value, registrationStake);
        }
        Commitment storage c = _commitments[msg.sender];
        // A revealed commitment has already handed its stake to the record, so this
        // carries only the stake of an unrevealed one that is being replaced.
        uint256 stake = uint256(c.stake) + msg.value;
        if (stake > type(uint128).max) {
            revert StakeTooLarge();
        }
        c.commitHash = commitHash;
        c.committedAt = uint64(block.timestamp);
        c.revealed = false;
        c.stake = uint128(stake);
        emit CommitmentRecorded(msg.sender, commitHash, block.timestamp);
    }

    function registerAgentWithParams(RegistrationParams calldata params)
        external
        override
        returns (bytes32 agentId)
    {
        uint128 stake = _consumeCommitment(params);

        (bool wellFormed, address didAddress) = DidSage.parse(params.did);
        if (!wellFormed) {
            revert InvalidDid();
        }
        if (didAddress != msg.sender) {
            revert DidNotOwnedBySender(didAddress, msg.sender);
        }
        agentId = keccak256(bytes(params.did));
        Record storage r = _records[agentId];
        if (r.owner != address(0)) {
            revert DidAlreadyRegistered(agentId);
        }

        uint256 keyCount = params.keys.length;
        if (keyCount == 0 || keyCount > MAX_KEYS_PER_AGENT) {
            revert InvalidKeyCount(keyCount);
        }
        if (params.keyTypes.length != keyCount || params.signatures.length != keyCount) {
            revert KeyArrayLengthMismatch();
        }

        r.did = params.did;
        r.name = params.name;
        r.description = params.description;
        r.endpoint = params.endpoint;
        r.capabilities = params.capabilities;
        r.owner = msg.sender;
        r.registeredAt = uint64(block.timestamp);
        r.updatedAt = uint64(block.timestamp);
        r.activatableAt = uint64(block.timestamp + activationDelay);
        r.state = AgentState.Registered;
        r.stake = stake;
        _agentsByOwner[msg.sender].push(agentId);
        emit AgentRegistered(agentId, params.did, msg.sender, block.timestamp);

        for (uint256 i = 0; i < keyCount; ++i) {
            _addKey(agentId, r, params.did, params.keyTypes[i], params.keys[i], params.signatures[i]);
        }
        if (r.liveSigningKeys == 0) {
            revert NoSigningKey();
        }
    }

    function activateAgent(bytes32 agentId) external override {
        Record storage r = _ownedRecord(agentId);
        if (r.state == AgentState.Active) {
            revert AlreadyActive(agentId);
        }
        if (r.state == AgentState.Deactivated) {
            revert AgentIsDeactivated(agentId);
        }
        if (block.timestamp < r.activatableAt) {
            revert ActivationTooEarly(r.activatableAt);
        }
        r.state = AgentState.Active;
        r.updatedAt = uint64(block.timestamp);
        _releaseStake(r);
        emit AgentActivated(agentId, block.timestamp);
    }

    function addKey(bytes32 agentId, bytes calldata keyData, KeyType keyType, bytes calldata signature)
        external
        override
    {
        Record storage r = _changeableRecord(agentId);
        _addKey(agentId, r, r.did, keyType, keyData, signature);
        r.updatedAt = uint64(block.timestamp);
    }

    function revokeKey(bytes32 agentId, bytes32 keyHash) external override {
        Record storage r = _ownedRecord(agentId);
        if (_revokeKey(agentId, r, keyHash)) {
            emit KMEKeyUpdated(agentId, bytes32(0), block.timestamp);
        }
        r.updatedAt = uint64(block.timestamp);
    }

    function updateKMEKey(bytes32 agentId, bytes calldata newKmeKey, bytes calldata signature)
        external
        override
    {
        Record storage r = _changeableRecord(agentId);
        if (signature.length != 0) {
            revert UnexpectedProof(keccak256(newKmeKey));
        }
        if (r.kmePublicKey.length != 0) {
            _revokeKey(agentId, r, keccak256(r.kmePublicKey));
        }
        _addKey(agentId, r, r.did, KeyType.X25519, newKmeKey, signature);
        r.updatedAt = uint64(block.timestamp);
    }

    function updateAgent(bytes32 agentId, string calldata endpoint, string calldata capabilities)
        external
        override
    {
        Record storage r = _changeableRecord(agentId);
        r.endpoint = endpoint;
        r.capabilities = capabilities;
        r.updatedAt = uint64(block.timestamp);
        emit AgentUpdated(agentId, block.timestamp);
    }

    function updateAgentEndpoint(string calldata did, string calldata newEndpoint)
        external
        override
        returns (bool success)
    {
        bytes32 agentId = keccak256(bytes(did));
        Record storage r = _changeableRecord(agentId);
        string memory previous = r.endpoint;
        r.endpoint = newEndpoint;
        r.updatedAt = uint64(block.timestamp);
        emit AgentEndpointUpdated(did, previous, newEndpoint);
        emit AgentUpdated(agentId, block.timestamp);
        return true;
    }

    function deactivateAgentByHash(bytes32 agentId) external override {
        _deactivate(agentId);
    }

    function deactivateAgent(string calldata did) external override returns (bool success) {
        _deactivate(keccak256(bytes(did)));
        return true;
    }

    // ------------------------------------------------------------------- views

    function getAgent(bytes32 agentId) external view override returns (AgentMetadata memory) {
        return _metadata(_records[agentId]);
    }

    function getAgentByDID(string calldata did) external view override returns (AgentMetadata memory) {
        return _metadata(_records[keccak256(bytes(did))]);
    }

    function getKey(bytes32 keyHash) external view override returns (AgentKey memory key) {
        StoredKey storage k = _keys[keyHash];
        key.keyType = k.keyType;
        key.keyData = k.keyData;
        key.signature = k.signature;
        key.verified = k.verified;
        key.registeredAt = k.addedAt;
    }

    function getAgentsByOwner(address recordOwner) external view override returns (bytes32[] memory) {
        return _agentsByOwner[recordOwner];
    }

    function getKMEKey(bytes32 agentId) external view override returns (bytes memory) {
        return _existingRecord(agentId).kmePublicKey;
    }

    function isAgentActive(string calldata did) external view override returns (bool) {
        return _existingRecord(keccak256(bytes(did))).state == AgentState.Active;
    }

    function resolveAgent(string calldata did) external view override returns (AgentInfo memory) {
        return _info(_existingRecord(keccak256(bytes(did))));
    }

    function resolveAgentByAddress(address agentAddress) external view override returns (AgentInfo memory) {
        bytes32[] storage ids = _agentsByOwner[agentAddress];
        if (ids.length == 0) {
            revert NoAgentForAddress(agentAddress);
        }
        return _info(_records[ids[0]]);
    }

    function didToAgentId(string calldata did) external view override returns (bytes32) {
        bytes32 agentId = keccak256(bytes(did));
        return _records[agentId].owner == address(0) ? bytes32(0) : agentId;
    }

    function agentActivationTime(bytes32 agentId) external view override returns (uint256) {
        return _records[agentId].activatableAt;
    }

    function agentStakes(bytes32 agentId) external view override returns (uint256) {
        return _records[agentId].stake;
    }

    function registrationCommitments(address committer)
        external
        view
        override
        returns (bytes32 commitHash, uint256 timestamp, bool revealed)
    {
        Commitment storage c = _commitments[committer];
        return (c.commitHash, c.committedAt, c.revealed);
    }

    function computeCommitHash(string calldata did, bytes[] calldata keys, address recordOwner, bytes32 salt)
        public
        view
        override
        returns (bytes32)
    {
        return keccak256(abi.encode(did, keys, recordOwner, salt, block.chainid));
    }

    function popChallenge(string calldata did, bytes calldata keyData) external pure override returns (bytes memory) {
        return SagePop.challenge(did, keyData);
    }

    function agentState(bytes32 agentId) external view override returns (AgentState) {
        return _records[agentId].state;
    }

    function withdrawableStake(address account) external view override returns (uint256) {
        return _withdrawable[account] + _expiredCommitmentStake(_commitments[account]);
    }

    // ------------------------------------------------------------- stake payout

    function withdrawStake() external override {
        Commitment storage c = _commitments[msg.sender];
        uint256 expiredStake = _expiredCommitmentStake(c);
        uint256 amount = _withdrawable[msg.sender] + expiredStake;
        if (amount == 0) {
            revert NothingToWithdraw();
        }
        _withdrawable[msg.sender] = 0;
        if (expiredStake != 0) {
            c.stake = 0;
        }
        emit StakeWithdrawn(msg.sender, amount);
        (bool sent,) = msg.sender.call{value: amount}("");
        if (!sent) {
            revert StakeTransferFailed();
        }
    }

    // -------------------------------------------------------------------- admin

    function setActivationDelay(uint256 newDelay) external override onlyRegistryOwner {
        emit ActivationDelayChanged(activationDelay, newDelay);
        activationDelay = newDelay;
    }

    function setRegistrationStake(uint256 newStake) external override onlyRegistryOwner {
        emit RegistrationStakeChanged(registrationStake, newStake);
        registrationStake = newStake;
    }

    function transferOwnership(address newOwner) external override onlyRegistryOwner {
        if (newOwner == address(0)) {
            revert InvalidAddress();
        }
        pendingOwner = newOwner;
        emit OwnershipTransferStarted(owner, newOwner);
    }

    function acceptOwnership() external override {
        if (msg.sender != pendingOwner) {
            revert NotPendingOwner(msg.sender);
        }
        emit OwnershipTransferred(owner, msg.sender);
        owner = msg.sender;
        pendingOwner = address(0);
    }

    // ----------------------------------------------------------------- internal

    /// @dev Checks the reveal against the caller's commitment, marks it revealed and
    ///      returns the stake it held.
    function _consumeCommitment(RegistrationParams calldata params) private returns (uint128 stake) {
        Commitment storage c = _commitments[msg.sender];
        if (c.committedAt == 0 || c.revealed) {
            revert NoCommitment();
        }
        uint256 committedAt = c.committedAt;
        if (block.timestamp < committedAt + COMMIT_MIN_DELAY) {
            revert RevealTooEarly(committedAt + COMMIT_MIN_DELAY);
        }
        if (block.timestamp > committedAt + COMMIT_MAX_DELAY) {
            revert CommitmentExpired(committedAt + COMMIT_MAX_DELAY);
        }
        if (c.commitHash != computeCommitHash(params.did, params.keys, msg.sender, params.salt)) {
            revert CommitmentMismatch();
        }
        c.revealed = true;
        stake = c.stake;
        c.stake = 0;
    }

    function _addKey(
        bytes32 agentId,
        Record storage r,
        string memory did,
        KeyType keyType,
        bytes calldata keyData,
        bytes calldata proof
    ) private {
        bytes32 keyHash = keccak256(keyData);
        if (_keyAgent[keyHash] != bytes32(0)) {
            revert KeyAlreadyRegistered(keyHash);
        }
        if (r.keyHashes.length >= MAX_KEYS_PER_AGENT) {
            revert TooManyKeys();
        }

        if (keyType == KeyType.ECDSA) {
            if (!SagePop.isSecp256k1Key(keyData)) {
                revert InvalidKeyData(keyType, keyData.length);
            }
            if (!SagePop.isValidSecp256k1Proof(did, keyData, proof)) {
                revert InvalidProof(keyHash);
            }
            r.liveSigningKeys += 1;
        } else if (keyType == KeyType.Ed25519) {
            if (keyData.length != SagePop.ED25519_KEY_LENGTH) {
                revert InvalidKeyData(keyType, keyData.length);
            }
            if (proof.length != SagePop.ED25519_PROOF_LENGTH) {
                revert InvalidProof(keyHash);
            }
            r.liveSigningKeys += 1;
        } else {
            if (keyData.length != SagePop.X25519_KEY_LENGTH) {
                revert InvalidKeyData(keyType, keyData.length);
            }
            if (proof.length != 0) {
                revert UnexpectedProof(keyHash);
            }
            if (r.kmePublicKey.length != 0) {
                revert KemKeyAlreadySet();
            }
            r.kmePublicKey = keyData;
            emit KMEKeyUpdated(agentId, keyHash, block.timestamp);
        }

        StoredKey storage k = _keys[keyHash];
        k.keyData = keyData;
        k.signature = proof;
        k.keyType = keyType;
        k.verified = true;
        k.addedAt = uint64(block.timestamp);
        _keyAgent[keyHash] = agentId;
        r.keyHashes.push(keyHash);
        emit KeyAdded(agentId, keyHash, keyType, block.timestamp);
    }

    /// @dev Returns whether the revoked key was the record's KEM key (which is cleared).
    function _revokeKey(bytes32 agentId, Record storage r, bytes32 keyHash) private returns (bool clearedKem) {
        if (_keyAgent[keyHash] != agentId) {
            revert KeyNotFound(keyHash);
        }
        StoredKey storage k = _keys[keyHash];
        if (!k.verified) {
            revert KeyAlreadyRevoked(keyHash);
        }
        if (k.keyType == KeyType.X25519) {
            clearedKem = r.kmePublicKey.length != 0 && keccak256(r.kmePublicKey) == keyHash;
            if (clearedKem) {
                delete r.kmePublicKey;
            }
        } else {
            // A deactivated record is never trusted again, so it may lose every key.
            if (r.liveSigningKeys == 1 && r.state != AgentState.Deactivated) {
                revert LastSigningKey(keyHash);
            }
            r.liveSigningKeys -= 1;
        }
        k.verified = false;
        emit KeyRevoked(agentId, keyHash, block.timestamp);
    }

    function _deactivate(bytes32 agentId) private {
        Record storage r = _changeableRecord(agentId);
        r.state = AgentState.Deactivated;
        r.updatedAt = uint64(block.timestamp);
        _releaseStake(r);
        emit AgentDeactivatedByHash(agentId, block.timestamp);
        emit AgentDeactivated(r.did, r.owner);
    }

    /// @dev The stake secures a record while it waits for activation; it goes back to the
    ///      owner when the record leaves that state.
    function _releaseStake(Record storage r) private {
        if (r.stake != 0) {
            _withdrawable[r.owner] += r.stake;
            r.stake = 0;
        }
    }

    function _expiredCommitmentStake(Commitment storage c) private view returns (uint256) {
        bool expired = block.timestamp > uint256(c.committedAt) + COMMIT_MAX_DELAY;
        return (!c.revealed && expired) ? c.stake : 0;
    }

    function _existingRecord(bytes32 agentId) private view returns (Record storage r) {
        r = _records[agentId];
        if (r.owner == address(0)) {
            revert AgentNotFound();
        }
    }

    function _ownedRecord(bytes32 agentId) private view returns (Record storage r) {
        r = _existingRecord(agentId);
        if (r.owner != msg.sender) {
            revert NotAgentOwner(agentId, msg.sender);
        }
    }

    function _changeableRecord(bytes32 agentId) private view returns (Record storage r) {
        r = _ownedRecord(agentId);
        if (r.state == AgentState.Deactivated) {
            revert AgentIsDeactivated(agentId);
        }
    }

    function _metadata(Record storage r) private view returns (AgentMetadata memory m) {
        if (r.owner == address(0)) {
            return m;
        }
        m.did = r.did;
        m.name = r.name;
        m.description = r.description;
        m.endpoint = r.endpoint;
        m.keyHashes = r.keyHashes;
        m.capabilities = r.capabilities;
        m.owner = r.owner;
        m.registeredAt = r.registeredAt;
        m.updatedAt = r.updatedAt;
        m.active = r.state == AgentState.Active;
        m.chainId = block.chainid;
        m.kmePublicKey = r.kmePublicKey;
    }

    function _info(Record storage r) private view returns (AgentInfo memory) {
        return AgentInfo({
            agentId: r.did,
            agentAddress: r.owner,
            endpoint: r.endpoint,
            isActive: r.state == AgentState.Active,
            registeredAt: r.registeredAt
        });
    }
}
