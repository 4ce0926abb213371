// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @notice Minimal assertions: a failed one reverts, which fails the forge test.
abstract contract Assertions {
    error AssertionFailed(string what);

    function assertTrue(bool condition, string memory what) internal pure {
        if (!condition) {
            revert AssertionFailed(what);
        }
    }

    function assertEq(uint256 a, uint256 b, string memory what) internal pure {
        assertTrue(a == b, what);
    }

    function assertEq(bytes32 a, bytes32 b, string memory what) internal pure {
        assertTrue(a == b, what);
    }

    function assertEq(address a, address b, string memory what) internal pure {
        assertTrue(a == b, what);
    }

    function assertEq(bytes memory a, bytes memory b, string memory what) internal pure {
        assertTrue(keccak256(a) == keccak256(b), what);
    }

    function assertEq(string memory a, string memory b, string memory what) internal pure {
        assertTrue(keccak256(bytes(a)) == keccak256(bytes(b)), what);
    }
}
