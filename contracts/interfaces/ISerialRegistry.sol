// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {PackStatus} from "../libraries/PackState.sol";

/// @title ISerialRegistry
/// @notice Lots, packs and logistic units (SSCC cases and pallets) of an RxLedger network,
/// known by their hashed ids only, with their custody, status and verification. Every id is
/// owner-scoped (see {LedgerIds}): creating functions take code hashes and scope them to the
/// caller; every other function, view and event names records by their ids.
interface ISerialRegistry {
    enum LotStatus {
        NONE,
        ACTIVE,
        QUARANTINED,
        RECALLED
    }

    /// @notice LOST: shipped and reported lost in transit by its sender, with all it contains.
    enum UnitStatus {
        NONE,
        ACTIVE,
        IN_TRANSIT,
        DISSOLVED,
        LOST
    }

    /// @notice EU FMD-style decommission reasons. Undo is allowed for DISPENSED, SAMPLE,
    /// FREE_SAMPLE, EXPORTED and LOCKED within the undo window, never for DESTROYED or STOLEN.
    enum DecommissionReason {
        NONE,
        DISPENSED,
        DESTROYED,
        SAMPLE,
        FREE_SAMPLE,
        EXPORTED,
        STOLEN,
        LOCKED
    }

    /// @notice Who raised a pack's flags or set a lot's status, lowest first. A flag or status
    /// is lowered or overwritten only at its own authority or above.
    enum Authority {
        NONE,
        HOLDER,
        OWNER,
        REGULATOR,
        COUNCIL
    }

    /// @notice The one answer of {verify}; when several apply, the first in the order of
    /// docs/contracts.md (LOST, added last here, comes after QUARANTINED there).
    enum VerificationStatus {
        VERIFIED,
        UNKNOWN,
        PRODUCT_MISMATCH,
        LOT_MISMATCH,
        EXPIRY_MISMATCH,
        ILLEGITIMATE,
        SUSPECT,
        RECALLED,
        QUARANTINED,
        DECOMMISSIONED,
        EXPIRED,
        IN_TRANSIT,
        LOST
    }

    struct Lot {
        bytes32 id;
        uint32 owner;
        uint32 expiry;
        uint40 expiresAt;
        LotStatus status;
        Authority statusAuthority;
        uint32 recallRequestedBy;
    }

    struct Unit {
        uint32 custodian;
        uint32 pendingTo;
        uint32 parent;
        UnitStatus status;
        uint8 level;
    }

    struct LotView {
        bytes32 id;
        address owner;
        uint32 expiry;
        uint40 expiresAt;
        LotStatus status;
        Authority statusAuthority;
        address recallRequestedBy;
    }

    struct UnitView {
        uint32 index;
        UnitStatus status;
        uint8 level;
        uint32 parent;
        address custodian;
        address pendingTo;
        bool inTransit;
        bool lost;
    }

    /// @notice A pack with its custody resolved through its units: `custodian` holds it (its
    /// sender while in transit or lost), `pendingTo` is the recipient of the shipment carrying
    /// it while that is in transit (`inTransit`) or lost (`lost`); `lotTag` is the tag it was
    /// commissioned with (see {LedgerIds}).
    struct PackView {
        PackStatus status;
        DecommissionReason reason;
        uint8 flags;
        uint8 flagReason;
        uint40 decommissionedAt;
        uint40 undoDeadline;
        Authority flagAuthority;
        bytes32 lotId;
        uint32 parent;
        address custodian;
        address pendingTo;
        bool inTransit;
        bool lost;
        bytes3 lotTag;
    }

    struct Verification {
        VerificationStatus status;
        bytes32 packId;
        PackView pack;
        LotView lot;
        address productOwner;
    }

    event LotRegistered(bytes32 indexed lotId, address indexed owner, uint32 expiry, bytes32 eventHash);
    event LotStatusChanged(bytes32 indexed lotId, address indexed by, LotStatus status, bytes32 eventHash);
    event LotRecallRequested(bytes32 indexed lotId, address indexed by, bytes32 eventHash);
    event PacksCommissioned(
        bytes32 indexed lotId,
        address indexed by,
        bytes32 indexed unitId,
        bytes32[] packIds,
        bytes lotTags,
        bytes32 eventHash
    );
    event ItemsPacked(bytes32 indexed unitId, address indexed by, bytes32[] packIds, bytes32[] unitIds, bytes32 eventHash);
    event ItemsUnpacked(
        bytes32 indexed unitId, address indexed by, bytes32[] packIds, bytes32[] unitIds, bytes32 eventHash
    );
    event UnitsDissolved(address indexed by, bytes32[] unitIds, bytes32 eventHash);
    event ItemsShipped(
        address indexed from, address indexed to, bytes32[] packIds, bytes32[] unitIds, bytes32 eventHash
    );
    event ItemsReceived(address indexed by, bytes32[] packIds, bytes32[] unitIds, bytes32 eventHash);
    event PacksDecommissioned(
        address indexed by, DecommissionReason indexed reason, bytes32[] packIds, bytes32 eventHash
    );
    event DecommissionsUndone(address indexed by, bytes32[] packIds, bytes32 eventHash);
    event PacksFlagged(address indexed by, uint8 flags, uint8 reasonCode, bytes32[] packIds, bytes32 eventHash);
    event ShipmentCancelled(
        address indexed by, address indexed recipient, bytes32[] packIds, bytes32[] unitIds, bytes32 eventHash
    );
    event ItemsRefused(
        address indexed by, address indexed sender, bytes32[] packIds, bytes32[] unitIds, bytes32 eventHash
    );
    event ItemsLost(
        address indexed by, address indexed recipient, bytes32[] packIds, bytes32[] unitIds, bytes32 eventHash
    );
    event LostItemsFound(
        address indexed by, address indexed recipient, bytes32[] packIds, bytes32[] unitIds, bytes32 eventHash
    );

    error SerialRegistryEmptyBatch();
    error SerialRegistryUnknownLot(bytes32 lotId);
    error SerialRegistryLotExists(bytes32 lotId);
    error SerialRegistryInvalidExpiry(uint32 expiry);
    error SerialRegistryLotNotActive(bytes32 lotId, LotStatus status);
    error SerialRegistryInvalidLotStatus(bytes32 lotId, LotStatus from, LotStatus to);
    error SerialRegistryUnknownPack(bytes32 packId);
    error SerialRegistryPackExists(bytes32 packId);
    error SerialRegistryUnknownUnit(bytes32 unitId);
    error SerialRegistryUnitDissolved(bytes32 unitId);
    error SerialRegistryNotCustodian(bytes32 id, address caller);
    error SerialRegistryInTransit(bytes32 id);
    error SerialRegistryNotInTransit(bytes32 id);
    error SerialRegistryNotRecipient(bytes32 id, address caller);
    error SerialRegistryStillPacked(bytes32 id);
    error SerialRegistryNotInUnit(bytes32 id, bytes32 unitId);
    error SerialRegistryNestingTooDeep(bytes32 unitId, uint8 level);
    error SerialRegistrySelfNesting(bytes32 unitId);
    error SerialRegistryShipToSelf(address member);
    error SerialRegistryPackDecommissioned(bytes32 packId, DecommissionReason reason);
    error SerialRegistryPackNotDecommissioned(bytes32 packId);
    error SerialRegistryInvalidReason(uint8 reason);
    error SerialRegistryPackFlagged(bytes32 packId, uint8 flags);
    error SerialRegistryPackExpired(bytes32 packId, uint40 expiresAt);
    error SerialRegistryNotDecommissioner(bytes32 packId, address caller);
    error SerialRegistryUndoNotAllowed(bytes32 packId, DecommissionReason reason);
    error SerialRegistryUndoWindowClosed(bytes32 packId, uint256 deadline);
    error SerialRegistryInvalidFlags(uint8 flags);
    error SerialRegistryNotAuthorised(address caller, bytes32 id);
    error SerialRegistryAuthorityTooLow(bytes32 id, Authority raisedBy, Authority caller);
    error SerialRegistryRecallAlreadyRequested(bytes32 lotId, address regulator);
    error SerialRegistryNotSender(bytes32 id, address caller);
    error SerialRegistryNotShippedTo(bytes32 id, address recipient);
    error SerialRegistryNotShippedBy(bytes32 id, address sender);
    error SerialRegistryLost(bytes32 id);
    error SerialRegistryNotLost(bytes32 id);

    /// @notice Returns the single verification answer for a scanned pack and its details.
    /// The pack is looked up under the member owning the GTIN's company prefix only; a GTIN
    /// whose prefix no member owns answers PRODUCT_MISMATCH.
    /// `lot` may be empty and `expiry` 0 when the scan did not carry them. `expiry` matches the
    /// lot's when both name the same day: day 00 is the last day of the month (GS1Date).
    function verify(string calldata gtin14, string calldata serial, string calldata lot, uint32 expiry)
        external
        view
        returns (Verification memory);
}
