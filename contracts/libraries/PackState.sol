// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @notice The whole on-chain state of one pack, packed in one storage slot.
/// @dev Bit layout, least significant first:
/// | bits    | field           | meaning                                                        |
/// |---------|-----------------|----------------------------------------------------------------|
/// | 0-23    | custodian       | member index holding a loose pack (its sender while IN_TRANSIT  |
/// |         |                 | or LOST); the decommissioner after a decommission              |
/// | 24-47   | pendingTo       | member index a loose pack was shipped to (IN_TRANSIT or LOST)   |
/// | 48-79   | lot             | lot index (never 0 for a commissioned pack)                      |
/// | 80-111  | parent          | logistic unit index holding the pack; 0 when loose              |
/// | 112-119 | status          | PackStatus                                                      |
/// | 120-127 | reason          | DecommissionReason while DECOMMISSIONED                          |
/// | 128-135 | flags           | FLAG_SUSPECT, FLAG_ILLEGITIMATE                                  |
/// | 136-143 | flagReason      | reason code given with the last flag                            |
/// | 144-183 | decommissionedAt| block timestamp of the decommission                              |
/// | 184-191 | flagAuthority   | Authority level that raised the flags (0 when none)             |
/// | 192-231 | undoDeadline    | last second the decommission may be undone, fixed when it is made |
/// | 232-255 | lotTag          | the pack's lot tag, fixed at commissioning (see {LedgerIds})   |
/// Member indices fit 24 bits: the consortium never admits more than `Consortium.MAX_MEMBERS`.
type PackState is bytes32;

using PackStateLibrary for PackState global;

/// @notice Pack lifecycle status as stored in {PackState}. LOST: shipped and reported lost in
/// transit by its sender (custodian and pendingTo kept, so a report of it found puts it back
/// in transit to the same recipient).
enum PackStatus {
    NONE,
    ACTIVE,
    IN_TRANSIT,
    DECOMMISSIONED,
    LOST
}

/// @title PackStateLibrary
/// @notice Reads and writes the fields of {PackState}.
library PackStateLibrary {
    uint256 internal constant MASK_24 = 0xffffff;
    uint256 internal constant MASK_32 = 0xffffffff;
    uint256 internal constant MASK_8 = 0xff;
    uint256 internal constant MASK_40 = 0xffffffffff;

    uint256 internal constant CUSTODIAN_OFFSET = 0;
    uint256 internal constant PENDING_TO_OFFSET = 24;
    uint256 internal constant LOT_OFFSET = 48;
    uint256 internal constant PARENT_OFFSET = 80;
    uint256 internal constant STATUS_OFFSET = 112;
    uint256 internal constant REASON_OFFSET = 120;
    uint256 internal constant FLAGS_OFFSET = 128;
    uint256 internal constant FLAG_REASON_OFFSET = 136;
    uint256 internal constant DECOMMISSIONED_AT_OFFSET = 144;
    uint256 internal constant FLAG_AUTHORITY_OFFSET = 184;
    uint256 internal constant UNDO_DEADLINE_OFFSET = 192;
    uint256 internal constant LOT_TAG_OFFSET = 232;

    uint8 internal constant FLAG_SUSPECT = 1;
    uint8 internal constant FLAG_ILLEGITIMATE = 2;

    function custodian(PackState s) internal pure returns (uint32) {
        return uint32(_get(s, CUSTODIAN_OFFSET, MASK_24));
    }

    function pendingTo(PackState s) internal pure returns (uint32) {
        return uint32(_get(s, PENDING_TO_OFFSET, MASK_24));
    }

    function lot(PackState s) internal pure returns (uint32) {
        return uint32(_get(s, LOT_OFFSET, MASK_32));
    }

    function parent(PackState s) internal pure returns (uint32) {
        return uint32(_get(s, PARENT_OFFSET, MASK_32));
    }

    function status(PackState s) internal pure returns (PackStatus) {
        return PackStatus(_get(s, STATUS_OFFSET, MASK_8));
    }

    function reason(PackState s) internal pure returns (uint8) {
        return uint8(_get(s, REASON_OFFSET, MASK_8));
    }

    function flags(PackState s) internal pure returns (uint8) {
        return uint8(_get(s, FLAGS_OFFSET, MASK_8));
    }

    function flagReason(PackState s) internal pure returns (uint8) {
        return uint8(_get(s, FLAG_REASON_OFFSET, MASK_8));
    }

    function decommissionedAt(PackState s) internal pure returns (uint40) {
        return uint40(_get(s, DECOMMISSIONED_AT_OFFSET, MASK_40));
    }

    function flagAuthority(PackState s) internal pure returns (uint8) {
        return uint8(_get(s, FLAG_AUTHORITY_OFFSET, MASK_8));
    }

    function undoDeadline(PackState s) internal pure returns (uint40) {
        return uint40(_get(s, UNDO_DEADLINE_OFFSET, MASK_40));
    }

    function lotTag(PackState s) internal pure returns (uint24) {
        return uint24(_get(s, LOT_TAG_OFFSET, MASK_24));
    }

    function exists(PackState s) internal pure returns (bool) {
        return PackState.unwrap(s) != 0;
    }

    /// @notice A freshly commissioned pack of no lot tag yet: ACTIVE, held by `custodian_` or
    /// inside unit `parent_`.
    function commissioned(uint32 custodian_, uint32 lot_, uint32 parent_) internal pure returns (PackState) {
        return PackState.wrap(
            bytes32(
                (uint256(custodian_) << CUSTODIAN_OFFSET) | (uint256(lot_) << LOT_OFFSET)
                    | (uint256(parent_) << PARENT_OFFSET) | (uint256(uint8(PackStatus.ACTIVE)) << STATUS_OFFSET)
            )
        );
    }

    /// @notice `s` (of lot tag 0, as {commissioned} makes it) with lot tag `tag`.
    function withLotTag(PackState s, uint24 tag) internal pure returns (PackState) {
        return PackState.wrap(bytes32(uint256(PackState.unwrap(s)) | (uint256(tag) << LOT_TAG_OFFSET)));
    }

    function withCustodian(PackState s, uint32 v) internal pure returns (PackState) {
        return _set(s, CUSTODIAN_OFFSET, MASK_24, v);
    }

    function withPendingTo(PackState s, uint32 v) internal pure returns (PackState) {
        return _set(s, PENDING_TO_OFFSET, MASK_24, v);
    }

    function withParent(PackState s, uint32 v) internal pure returns (PackState) {
        return _set(s, PARENT_OFFSET, MASK_32, v);
    }

    function withStatus(PackState s, PackStatus v) internal pure returns (PackState) {
        return _set(s, STATUS_OFFSET, MASK_8, uint8(v));
    }

    /// @notice The pack with flags `flags_` and reason `flagReason_`, raised at `authority`
    /// (recorded as 0 when the flags are cleared).
    function withFlags(PackState s, uint8 flags_, uint8 flagReason_, uint8 authority) internal pure returns (PackState) {
        s = _set(s, FLAGS_OFFSET, MASK_8, flags_);
        s = _set(s, FLAG_REASON_OFFSET, MASK_8, flagReason_);
        return _set(s, FLAG_AUTHORITY_OFFSET, MASK_8, flags_ == 0 ? 0 : authority);
    }

    /// @notice The pack decommissioned by `by` for `reason_` at `at`, undoable until `deadline`
    /// (0: never); it leaves any unit.
    function decommissioned(PackState s, uint32 by, uint8 reason_, uint40 at, uint40 deadline)
        internal
        pure
        returns (PackState)
    {
        s = _set(s, CUSTODIAN_OFFSET, MASK_24, by);
        s = _set(s, PARENT_OFFSET, MASK_32, 0);
        s = _set(s, STATUS_OFFSET, MASK_8, uint8(PackStatus.DECOMMISSIONED));
        s = _set(s, REASON_OFFSET, MASK_8, reason_);
        s = _set(s, DECOMMISSIONED_AT_OFFSET, MASK_40, at);
        return _set(s, UNDO_DEADLINE_OFFSET, MASK_40, deadline);
    }

    /// @notice The decommission undone: ACTIVE again, loose, with its decommissioner as custodian.
    function undone(PackState s) internal pure returns (PackState) {
        s = _set(s, REASON_OFFSET, MASK_8, 0);
        s = _set(s, DECOMMISSIONED_AT_OFFSET, MASK_40, 0);
        s = _set(s, UNDO_DEADLINE_OFFSET, MASK_40, 0);
        return _set(s, STATUS_OFFSET, MASK_8, uint8(PackStatus.ACTIVE));
    }

    function _get(PackState s, uint256 offset, uint256 mask) private pure returns (uint256) {
        return (uint256(PackState.unwrap(s)) >> offset) & mask;
    }

    function _set(PackState s, uint256 offset, uint256 mask, uint256 value) private pure returns (PackState) {
        uint256 cleared = uint256(PackState.unwrap(s)) & ~(mask << offset);
        return PackState.wrap(bytes32(cleared | ((value & mask) << offset)));
    }
}
