// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @title The `did:sage:ethereum` identifiers this registry accepts (PROTOCOL.md §8.1).
/// @notice Accepted: `did:sage:ethereum:0x` + 40 lower-case hex digits, optionally followed
///         by `:` + a decimal agent number without leading zeros (`:0`, `:7`, `:42`).
/// @dev The parser of §8.1 also accepts aliases (`eth`), upper-case chain names and other
///      identifiers. The registry keys records by the exact DID string, so it admits only
///      the one canonical spelling of each identity: two spellings of one identity would
///      otherwise be two records. The address in the DID must be the registering account,
///      which is what makes the DID the owner's to claim.
library DidSage {
    bytes private constant PREFIX = "did:sage:ethereum:0x";
    uint256 private constant ADDRESS_HEX_DIGITS = 40;
    uint256 private constant MAX_AGENT_NUMBER_DIGITS = 20;

    /// @notice The address embedded in `did`, and whether `did` has the accepted form.
    function parse(string calldata did) internal pure returns (bool ok, address embedded) {
        bytes calldata raw = bytes(did);
        uint256 prefixLength = PREFIX.length;
        uint256 addressEnd = prefixLength + ADDRESS_HEX_DIGITS;
        if (raw.length < addressEnd) {
            return (false, address(0));
        }
        if (keccak256(raw[:prefixLength]) != keccak256(PREFIX)) {
            return (false, address(0));
        }

        uint160 value;
        for (uint256 i = prefixLength; i < addressEnd; ++i) {
            (bool isHex, uint8 nibble) = _lowerHexDigit(uint8(raw[i]));
            if (!isHex) {
                return (false, address(0));
            }
            value = (value << 4) | nibble;
        }

        if (raw.length != addressEnd && !_isAgentNumberSuffix(raw[addressEnd:])) {
            return (false, address(0));
        }
        return (true, address(value));
    }

    /// @dev `suffix` is `:` followed by 1..20 decimal digits, the first non-zero unless it
    ///      is the only one.
    function _isAgentNumberSuffix(bytes calldata suffix) private pure returns (bool) {
        uint256 digits = suffix.length - 1;
        if (suffix[0] != ":" || digits == 0 || digits > MAX_AGENT_NUMBER_DIGITS) {
            return false;
        }
        if (digits > 1 && suffix[1] == "0") {
            return false;
        }
        for (uint256 i = 1; i < suffix.length; ++i) {
            if (suffix[i] < "0" || suffix[i] > "9") {
                return false;
            }
        }
        return true;
    }

    function _lowerHexDigit(uint8 c) private pure returns (bool, uint8) {
        if (c >= 0x30 && c <= 0x39) {
            return (true, c - 0x30);
        }
        if (c >= 0x61 && c <= 0x66) {
            return (true, c - 0x61 + 10);
        }
        return (false, 0);
    }
}
