// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @title LedgerIds
/// @notice The byte layout of RxLedger ids, shared with `ledger_client/ids.py`.
/// @dev A code hash is keccak256 over ASCII text starting with the GS1 Application Identifier
/// of what it names, so hashes of different kinds never collide:
/// pack = keccak256("01" ‖ gtin14 ‖ "21" ‖ serial) with its last 3 bytes zeroed,
/// lot = keccak256("01" ‖ gtin14 ‖ "10" ‖ lot), unit = keccak256("00" ‖ sscc18).
/// A pack's lot tag is the first 3 bytes of keccak256("01" ‖ gtin14 ‖ "21" ‖ serial ‖ 0x1d ‖
/// "10" ‖ lot) (0x1d: GS1's group separator); a pack word is the pack hash with the tag in
/// its last 3 bytes, so a producer commissions a pack and its tag in one word.
/// A record's id also names its owner, the member that created it (for a genuine record, the
/// member owning the GS1 company prefix the code carries):
/// id = keccak256(abi.encode(uint256(ownerIndex), codeHash)). A record created by anyone
/// else gets the creator's own id, which no lookup of the printed code ever finds.
library LedgerIds {
    /// @notice The last 3 bytes of a pack word: the lot tag.
    uint256 internal constant LOT_TAG_MASK = 0xffffff;

    /// @notice Returns the id of the record of `codeHash` created by member index `owner`.
    function recordId(uint32 owner, bytes32 codeHash) internal pure returns (bytes32 result) {
        assembly ("memory-safe") {
            mstore(0x00, owner)
            mstore(0x20, codeHash)
            result := keccak256(0x00, 0x40)
        }
    }

    /// @notice Returns the code hash of the pack `gtin14` + `serial` and its lot tag when
    /// printed with lot `lot`, from one text: the pack hash's text is the tag's first part.
    function packHashAndLotTag(string calldata gtin14, string calldata serial, string calldata lot)
        internal
        pure
        returns (bytes32 packHash, uint24 tag)
    {
        // The text is written past the free memory pointer, as scratch space, and never kept.
        assembly ("memory-safe") {
            let start := mload(0x40)
            mstore(start, shl(240, 0x3031)) // "01"
            calldatacopy(add(start, 2), gtin14.offset, gtin14.length)
            let end := add(add(start, 2), gtin14.length)
            mstore(end, shl(240, 0x3231)) // "21"
            calldatacopy(add(end, 2), serial.offset, serial.length)
            end := add(add(end, 2), serial.length)
            packHash := and(keccak256(start, sub(end, start)), not(LOT_TAG_MASK))
            mstore(end, shl(232, 0x1d3130)) // GS1 group separator, "10"
            calldatacopy(add(end, 3), lot.offset, lot.length)
            tag := shr(232, keccak256(start, add(sub(end, start), add(3, lot.length))))
        }
    }

    /// @notice Splits pack word `word` into its pack hash and lot tag.
    function splitPackWord(bytes32 word) internal pure returns (bytes32 packHash, uint24 tag) {
        return (word & ~bytes32(LOT_TAG_MASK), uint24(uint256(word)));
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
