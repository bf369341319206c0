// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @title Roles
/// @notice Role bits of consortium members; a member may hold several.
library Roles {
    uint16 internal constant MANUFACTURER = 1 << 0;
    uint16 internal constant REPACKAGER = 1 << 1;
    uint16 internal constant WHOLESALER = 1 << 2;
    uint16 internal constant LOGISTICS = 1 << 3;
    uint16 internal constant DISPENSER = 1 << 4;
    uint16 internal constant REGULATOR = 1 << 5;
    uint16 internal constant AUDITOR = 1 << 6;
    uint16 internal constant COUNCIL = 1 << 7;
    /// @notice Takes back expired, recalled and unsaleable product for destruction or credit.
    uint16 internal constant REVERSE_DISTRIBUTOR = 1 << 8;
    uint16 internal constant ALL = (1 << 9) - 1;

    /// @notice Roles that commission packs and own lots.
    uint16 internal constant PRODUCERS = MANUFACTURER | REPACKAGER;
    /// @notice Roles that hold, pack, ship and receive product.
    uint16 internal constant SUPPLY_CHAIN =
        MANUFACTURER | REPACKAGER | WHOLESALER | LOGISTICS | DISPENSER | REVERSE_DISTRIBUTOR;
}
