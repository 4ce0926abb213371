// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @title The [L] key proof of possession, "SAGE-PoP" (PROTOCOL.md §8.5), as far as the EVM
///        can check it.
/// @notice challenge = "SAGE-PoP:" ‖ DID ‖ ":" ‖ hex(keyData), lower-case hex; the proof
///         signs SHA-256(challenge). A secp256k1 proof is r‖s‖v and is checked with
///         `ecrecover` against the address of the key. Ed25519 has no precompile, so only
///         the lengths of the key and the proof are checked here; resolvers verify the
///         signature off chain. X25519 keys carry no proof.
library SagePop {
    bytes private constant PREFIX = "SAGE-PoP:";

    bytes16 private constant HEX_DIGITS = "0123456789abcdef";

    uint256 internal constant SECP256K1_KEY_LENGTH = 65;
    uint256 internal constant SECP256K1_PROOF_LENGTH = 65;
    uint256 internal constant ED25519_KEY_LENGTH = 32;
    uint256 internal constant ED25519_PROOF_LENGTH = 64;
    uint256 internal constant X25519_KEY_LENGTH = 32;

    /// @notice The ASCII challenge for `keyData` under `did`.
    function challenge(string memory did, bytes calldata keyData) internal pure returns (bytes memory) {
        return bytes.concat(PREFIX, bytes(did), ":", _lowerHex(keyData));
    }

    /// @notice Whether `keyData` is a SEC1 uncompressed secp256k1 point encoding
    ///         (`04 ‖ X ‖ Y`); the 33-byte compressed form is not accepted (§3.1).
    function isSecp256k1Key(bytes calldata keyData) internal pure returns (bool) {
        return keyData.length == SECP256K1_KEY_LENGTH && keyData[0] == 0x04;
    }

    /// @notice Whether `proof` is a valid secp256k1 SAGE-PoP of `keyData` for `did`.
    /// @dev `keyData` must already satisfy `isSecp256k1Key`. `v` may be the recovery id
    ///      (0/1, as §3.2 encodes it) or 27/28. High-S values are accepted, as `ecrecover`
    ///      and the Go verifier accept them.
    function isValidSecp256k1Proof(string memory did, bytes calldata keyData, bytes calldata proof)
        internal
        pure
        returns (bool)
    {
        if (proof.length != SECP256K1_PROOF_LENGTH) {
            return false;
        }
        uint8 v = uint8(proof[64]);
        if (v < 27) {
            v += 27;
        }
        if (v != 27 && v != 28) {
            return false;
        }
        bytes32 digest = sha256(challenge(did, keyData));
        address signer = ecrecover(digest, v, bytes32(proof[0:32]), bytes32(proof[32:64]));
        return signer != address(0) && signer == ethereumAddress(keyData);
    }

    /// @notice keccak256(X ‖ Y)[12..32] of an uncompressed key.
    function ethereumAddress(bytes calldata keyData) internal pure returns (address) {
        return address(uint160(uint256(keccak256(keyData[1:]))));
    }

    function _lowerHex(bytes calldata data) private pure returns (bytes memory out) {
        out = new bytes(data.length * 2);
        // Indices stay below out.length, which cannot overflow for calldata sizes.
        unchecked {
            for (uint256 i = 0; i < data.length; ++i) {
                uint8 b = uint8(data[i]);
                out[2 * i] = HEX_DIGITS[b >> 4];
                out[2 * i + 1] = HEX_DIGITS[b & 0x0f];
            }
        }
    }
}
