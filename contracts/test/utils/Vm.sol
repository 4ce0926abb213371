// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @notice The few forge cheatcodes the registry tests use, declared here rather than
///         taken from forge-std: npm carries only an unofficial, outdated forge-std, and
///         the tests must build offline from npm packages alone.
/// @dev Signatures follow forge's cheatcode ABI (forge 1.x). The cheatcode contract lives
///      at address(uint160(uint256(keccak256("hevm cheat code")))).
interface Vm {
    struct Wallet {
        address addr;
        uint256 publicKeyX;
        uint256 publicKeyY;
        uint256 privateKey;
    }

    function warp(uint256 newTimestamp) external;
    function chainId(uint256 newChainId) external;
    function deal(address account, uint256 newBalance) external;
    function prank(address msgSender) external;
    function startPrank(address msgSender) external;
    function stopPrank() external;
    function expectRevert(bytes calldata revertData) external;
    function expectRevert(bytes4 revertSelector) external;
    function expectEmit() external;
    function createWallet(uint256 privateKey) external returns (Wallet memory wallet);
    function sign(uint256 privateKey, bytes32 digest) external pure returns (uint8 v, bytes32 r, bytes32 s);
    function toString(address value) external pure returns (string memory);
    function toLowercase(string calldata input) external pure returns (string memory);
}

Vm constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));
