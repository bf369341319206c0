// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @title LedgerIds
/// @notice The byte layout of RxLedger ids, shared with `ledger_client/ids.py`.
/// @dev A code hash is keccak256 over ASCII text starting with the GS1 Application Identifier
/// of what it names, so hashes of different kinds never collide:
/// pack = keccak256("01" ‖ gtin14 ‖ "21" ‖ serial), lot = keccak256("01" ‖ gtin14 ‖ "10" ‖ lot),
/// unit = keccak256("00" ‖ sscc18).
/// A record's id also names its owner, the member that created it (for a genuine record, the
/// member owning the GS1 company prefix the code carries):
/// id = keccak256(abi.encode(uint256(ownerIndex), codeHash)). A record created by anyone
/// else gets the creator's own id, which no lookup of the printed code ever finds.
library LedgerIds {
    /// @notice Returns the id of the record of `codeHash` created by member index `owner`.
    function recordId(uint32 owner, bytes32 codeHash) internal pure returns (bytes32 result) {
        assembly ("memory-safe") {
            mstore(0x00, owner)
            mstore(0x20, codeHash)
            result := keccak256(0x00, 0x40)
        }
    }

    /// @notice Returns the code hash of the pack `gtin14` + `serial`.
    function packHash(string calldata gtin14, string calldata serial) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked("01", gtin14, "21", serial));
    }

    /// @notice Returns the code hash of lot `lot` of product `gtin14`.
    function lotHash(string calldata gtin14, string calldata lot) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked("01", gtin14, "10", lot));
    }

    /// @notice Returns the code hash of the logistic unit `sscc18`.
    function unitHash(string calldata sscc18) internal pure returns (bytes32) {
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
