// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @title The SAGE agent registry, [L] profile (PROTOCOL.md §8.2–§8.5).
/// @notice Every function, event and struct that also exists on the deployed SAGE
///         `AgentCardRegistry` has the same name, argument types, return types and
///         event topics here, so one client reads either registry. Items marked
///         "extension" exist only in this implementation; a client that must also
///         read a registry deployed by others does not depend on them.
/// @dev Error selectors are not part of the deployed interface (that contract reverts
///      with strings); callers match on the custom errors below.
interface IAgentCardRegistry {
    // ------------------------------------------------------------------ types

    /// @notice Registry integers of §3.1: 0 = secp256k1 ("ECDSA"), 1 = Ed25519, 2 = X25519.
    enum KeyType {
        ECDSA,
        Ed25519,
        X25519
    }

    /// @notice Lifecycle of a record (extension). `Deactivated` is terminal.
    enum AgentState {
        None,
        Registered,
        Active,
        Deactivated
    }

    /// @notice The record as `getAgent` / `getAgentByDID` return it (§8.2).
    /// @dev `keyHashes` lists every key ever added, revoked ones included;
    ///      `chainId` is the chain the registry runs on.
    struct AgentMetadata {
        string did;
        string name;
        string description;
        string endpoint;
        bytes32[] keyHashes;
        string capabilities;
        address owner;
        uint256 registeredAt;
        uint256 updatedAt;
        bool active;
        uint256 chainId;
        bytes kmePublicKey;
    }

    /// @notice One key entry; `keyHash = keccak256(keyData)`.
    struct AgentKey {
        KeyType keyType;
        bytes keyData;
        bytes signature;
        bool verified;
        uint256 registeredAt;
    }

    /// @notice The reveal of §8.3 step 2.
    struct RegistrationParams {
        string did;
        string name;
        string description;
        string endpoint;
        string capabilities;
        bytes[] keys;
        KeyType[] keyTypes;
        bytes[] signatures;
        bytes32 salt;
    }

    /// @notice The ERC-8004 summary that `resolveAgent` returns.
    struct AgentInfo {
        string agentId;
        address agentAddress;
        string endpoint;
        bool isActive;
        uint256 registeredAt;
    }

    // ----------------------------------------------------------------- events

    event CommitmentRecorded(address indexed committer, bytes32 commitHash, uint256 timestamp);
    event AgentRegistered(bytes32 indexed agentId, string indexed did, address indexed owner, uint256 timestamp);
    event AgentActivated(bytes32 indexed agentId, uint256 timestamp);
    event KeyAdded(bytes32 indexed agentId, bytes32 indexed keyHash, KeyType keyType, uint256 timestamp);
    event KeyRevoked(bytes32 indexed agentId, bytes32 indexed keyHash, uint256 timestamp);
    /// @dev `keyHash` is zero when the KEM key was cleared by revoking it.
    event KMEKeyUpdated(bytes32 indexed agentId, bytes32 indexed keyHash, uint256 timestamp);
    event AgentUpdated(bytes32 indexed agentId, uint256 timestamp);
    event AgentEndpointUpdated(string indexed agentId, string oldEndpoint, string newEndpoint);
    event AgentDeactivatedByHash(bytes32 indexed agentId, uint256 timestamp);
    event AgentDeactivated(string indexed agentId, address indexed agentAddress);
    event OwnershipTransferStarted(address indexed previousOwner, address indexed newOwner);
    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);
    /// @notice Extension.
    event ActivationDelayChanged(uint256 previousDelay, uint256 newDelay);
    /// @notice Extension.
    event RegistrationStakeChanged(uint256 previousStake, uint256 newStake);
    /// @notice Extension.
    event StakeWithdrawn(address indexed account, uint256 amount);

    // ----------------------------------------------------------------- errors

    error EmptyCommitment();
    error InsufficientStake(uint256 sent, uint256 required);
    error NoCommitment();
    error RevealTooEarly(uint256 earliest);
    error CommitmentExpired(uint256 deadline);
    error CommitmentMismatch();
    error InvalidDid();
    error DidNotOwnedBySender(address didAddress, address sender);
    error DidAlreadyRegistered(bytes32 agentId);
    error InvalidKeyCount(uint256 count);
    error KeyArrayLengthMismatch();
    error TooManyKeys();
    error KeyAlreadyRegistered(bytes32 keyHash);
    error InvalidKeyData(KeyType keyType, uint256 length);
    error InvalidProof(bytes32 keyHash);
    error UnexpectedProof(bytes32 keyHash);
    error KemKeyAlreadySet();
    error NoSigningKey();
    error AgentNotFound();
    error NotAgentOwner(bytes32 agentId, address caller);
    error AlreadyActive(bytes32 agentId);
    error AgentIsDeactivated(bytes32 agentId);
    error ActivationTooEarly(uint256 earliest);
    error KeyNotFound(bytes32 keyHash);
    error KeyAlreadyRevoked(bytes32 keyHash);
    error LastSigningKey(bytes32 keyHash);
    error NoAgentForAddress(address owner);
    error NotRegistryOwner(address caller);
    error NotPendingOwner(address caller);
    error InvalidAddress();
    error NothingToWithdraw();
    error StakeTransferFailed();
    error StakeTooLarge();

    // ------------------------------------------------- lifecycle (§8.3)

    /// @notice Step 1: `commitHash = keccak256(abi.encode(did, keys, owner, salt, chainId))`,
    ///         sent with at least `registrationStake()` wei. A second commit from the same
    ///         account replaces the first and carries its stake along.
    function commitRegistration(bytes32 commitHash) external payable;

    /// @notice Step 2, from the committing account, `COMMIT_MIN_DELAY`..`COMMIT_MAX_DELAY`
    ///         seconds after the commit. Returns `keccak256(bytes(did))`.
    function registerAgentWithParams(RegistrationParams calldata params) external returns (bytes32 agentId);

    /// @notice Step 3, by the record owner, once `agentActivationTime(agentId)` is reached.
    function activateAgent(bytes32 agentId) external;

    function addKey(bytes32 agentId, bytes calldata keyData, KeyType keyType, bytes calldata signature) external;

    function revokeKey(bytes32 agentId, bytes32 keyHash) external;

    /// @notice Rotates the X25519 KEM key: adds `newKmeKey` as a key entry and revokes the
    ///         previous KEM key entry. X25519 keys carry no proof, so `signature` must be empty.
    function updateKMEKey(bytes32 agentId, bytes calldata newKmeKey, bytes calldata signature) external;

    function updateAgent(bytes32 agentId, string calldata endpoint, string calldata capabilities) external;

    function updateAgentEndpoint(string calldata agentId, string calldata newEndpoint) external returns (bool success);

    function deactivateAgentByHash(bytes32 agentId) external;

    function deactivateAgent(string calldata agentId) external returns (bool success);

    // ------------------------------------------------------------------ views

    /// @notice The record, or an all-zero struct when there is none.
    function getAgent(bytes32 agentId) external view returns (AgentMetadata memory);

    /// @notice The record, or an all-zero struct when there is none.
    function getAgentByDID(string calldata did) external view returns (AgentMetadata memory);

    /// @notice The key entry, or an all-zero struct when there is none.
    function getKey(bytes32 keyHash) external view returns (AgentKey memory);

    function getAgentsByOwner(address owner) external view returns (bytes32[] memory);

    function getKMEKey(bytes32 agentId) external view returns (bytes memory);

    function isAgentActive(string calldata agentId) external view returns (bool);

    function resolveAgent(string calldata agentId) external view returns (AgentInfo memory info);

    function resolveAgentByAddress(address agentAddress) external view returns (AgentInfo memory info);

    function didToAgentId(string calldata did) external view returns (bytes32);

    function agentActivationTime(bytes32 agentId) external view returns (uint256);

    function agentStakes(bytes32 agentId) external view returns (uint256);

    function registrationCommitments(address committer)
        external
        view
        returns (bytes32 commitHash, uint256 timestamp, bool revealed);

    function activationDelay() external view returns (uint256);

    function registrationStake() external view returns (uint256);

    function owner() external view returns (address);

    function pendingOwner() external view returns (address);

    // ------------------------------------------------------------------ admin

    function setActivationDelay(uint256 newDelay) external;

    function setRegistrationStake(uint256 newStake) external;

    function transferOwnership(address newOwner) external;

    function acceptOwnership() external;

    // ------------------------------------------------------------- extensions

    function COMMIT_MIN_DELAY() external view returns (uint256);

    function COMMIT_MAX_DELAY() external view returns (uint256);

    function MAX_KEYS_PER_AGENT() external view returns (uint256);

    /// @notice The commitment `commitRegistration` expects from `owner` on this chain.
    function computeCommitHash(string calldata did, bytes[] calldata keys, address owner, bytes32 salt)
        external
        view
        returns (bytes32);

    /// @notice The §8.5 challenge `"SAGE-PoP:" ‖ did ‖ ":" ‖ hex(keyData)`.
    function popChallenge(string calldata did, bytes calldata keyData) external pure returns (bytes memory);

    function agentState(bytes32 agentId) external view returns (AgentState);

    function withdrawableStake(address account) external view returns (uint256);

    /// @notice Pays out released stakes, and the stake of the caller's expired, unrevealed
    ///         commitment.
    function withdrawStake() external;
}
