// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @title LedgerIds
/// @notice The byte layout of RxLedger ids, shared with `ledger_client/ids.py`.
/// @dev Each id is keccak256 over ASCII text starting with the GS1 Application Identifier
/// of what it names, so ids of different kinds never collide:
/// packId = keccak256("01" ‖ gtin14 ‖ "21" ‖ serial), lotId = keccak256("01" ‖ gtin14 ‖ "10" ‖ lot),
/// unitId = keccak256("00" ‖ sscc18).
library LedgerIds {
    /// @notice Returns the ledger id of the pack `gtin14` + `serial`.
    function packId(string calldata gtin14, string calldata serial) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked("01", gtin14, "21", serial));
    }

    /// @notice Returns the ledger id of lot `lot` of product `gtin14`.
    function lotId(string calldata gtin14, string calldata lot) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked("01", gtin14, "10", lot));
    }

    /// @notice Returns the ledger id of the logistic unit `sscc18`.
    function unitId(string calldata sscc18) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked("00", sscc18));
    }

    /// @notice Returns true when `code` is all digits, `length` long, with a valid GS1 check digit.
    function isValidGs1Key(bytes calldata code, uint256 length) internal pure returns (bool) {
        if (code.length != length) return false;
        uint256 sum;
        for (uint256 i; i < length; ++i) {
            uint8 c = uint8(code[i]);
            if (c < 0x30 || c > 0x39) return false;
            // weights 3,1,3,... counted from the digit left of the check digit
            if (i + 1 < length) sum += (c - 0x30) * ((length - 1 - i) % 2 == 1 ? 3 : 1);
        }
        return (10 - (sum % 10)) % 10 == uint8(code[length - 1]) - 0x30;
    }
}
