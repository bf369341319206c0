// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ERC2771Context} from "@openzeppelin/contracts/metatx/ERC2771Context.sol";
import {IConsortium} from "./interfaces/IConsortium.sol";
import {ISerialRegistry} from "./interfaces/ISerialRegistry.sol";
import {GS1Date} from "./libraries/GS1Date.sol";
import {LedgerIds} from "./libraries/LedgerIds.sol";
import {PackState, PackStateLibrary, PackStatus} from "./libraries/PackState.sol";
import {Roles} from "./libraries/Roles.sol";

/// @title SerialRegistry
/// @notice The life of every pack: commissioned into a lot, packed into cases and pallets,
/// shipped and received between members (or the shipment cancelled, refused, reported lost
/// and found), decommissioned (dispensed, destroyed, ...) and possibly undone. Custody moves at the highest logistic unit: a pack inside a case on a
/// pallet takes the pallet's custodian. A dissolved (unpacked) unit keeps the custodian it had
/// when it was dissolved, and the packs and units it held take that custodian until they are
/// handled one by one.
contract SerialRegistry is ISerialRegistry, ERC2771Context {
    uint8 public constant MAX_LEVEL = 4;
    /// @dev Bit i set: DecommissionReason(i) may be undone.
    uint256 private constant UNDOABLE = (1 << uint8(DecommissionReason.DISPENSED))
        | (1 << uint8(DecommissionReason.SAMPLE)) | (1 << uint8(DecommissionReason.FREE_SAMPLE))
        | (1 << uint8(DecommissionReason.EXPORTED)) | (1 << uint8(DecommissionReason.LOCKED));
    /// @dev Bit i set: DecommissionReason(i) applies to any pack, saleable or not.
    uint256 private constant UNCONDITIONAL = (1 << uint8(DecommissionReason.DESTROYED))
        | (1 << uint8(DecommissionReason.STOLEN));

    /// @dev A change of the items of one shipment leg: each must be `from`, held by member
    /// `sender` and shipped to member `recipient`; it becomes `to`, held by `holder` and
    /// pending to `pendingTo`. `byRecipient`: the caller is the recipient (else the sender).
    struct Leg {
        PackStatus from;
        uint32 sender;
        uint32 recipient;
        PackStatus to;
        uint32 holder;
        uint32 pendingTo;
        bool byRecipient;
        address counterparty;
    }

    IConsortium private immutable _consortium;

    mapping(bytes32 packId => PackState) private _packs;
    mapping(bytes32 lotId => uint32) private _lotIndex;
    mapping(bytes32 unitId => uint32) private _unitIndex;
    Lot[] private _lots;
    Unit[] private _units;

    /// @param trustedForwarder The ERC-2771 forwarder that may relay members' signed requests.
    /// @param consortium_ The consortium whose members may write.
    constructor(address trustedForwarder, IConsortium consortium_) ERC2771Context(trustedForwarder) {
        _consortium = consortium_;
        _lots.push();
        _units.push();
    }

    // ---------------------------------------------------------------- lots

    /// @notice Registers the caller's lot `lotHash` expiring on `expiry` (GS1 YYMMDD).
    /// @dev Requirements:
    /// - the caller is an active, licensed manufacturer or repackager;
    /// - the caller has no lot `lotHash` yet and `expiry` is a valid date.
    function registerLot(bytes32 lotHash, uint32 expiry, bytes32 eventHash) external {
        address caller = _msgSender();
        uint32 owner = _consortium.requireMember(caller, Roles.PRODUCERS);
        bytes32 lotId = LedgerIds.recordId(owner, lotHash);
        if (_lotIndex[lotId] != 0) revert SerialRegistryLotExists(lotId);
        uint40 expiresAt = GS1Date.endOfDay(expiry);
        if (expiresAt == 0) revert SerialRegistryInvalidExpiry(expiry);
        _lotIndex[lotId] = uint32(_lots.length);
        _lots.push(Lot(lotId, owner, expiry, expiresAt, LotStatus.ACTIVE, Authority.NONE, 0));
        emit LotRegistered(lotId, caller, expiry, eventHash);
    }

    /// @notice Quarantines, recalls or releases lot `lotId`.
    /// @dev Requirements:
    /// - the caller is the lot's owner (active, licensed producer), an active regulator, or the
    ///   council (through a consortium proposal);
    /// - `status` is ACTIVE, QUARANTINED or RECALLED and differs from the lot's, unless a
    ///   higher authority takes over a quarantine;
    /// - lowering (releasing a quarantine) needs the authority that set it or a higher one;
    ///   only the council changes a recalled lot.
    /// A regulator's recall of another member's lot quarantines it at once and waits for a
    /// second regulator to confirm it (the owner or the council may also recall it outright).
    function setLotStatus(bytes32 lotId, LotStatus status, bytes32 eventHash) external {
        address caller = _msgSender();
        uint32 index = _lotIndex[lotId];
        if (index == 0) revert SerialRegistryUnknownLot(lotId);
        Lot storage lot = _lots[index];
        (Authority authority, uint32 me) = _lotAuthority(caller, lot.owner, lotId);
        LotStatus from = lot.status;
        bool takesOver = status == from && status == LotStatus.QUARANTINED && authority > lot.statusAuthority;
        if (status == LotStatus.NONE || (status == from && !takesOver)) {
            revert SerialRegistryInvalidLotStatus(lotId, from, status);
        }
        if (from == LotStatus.RECALLED && authority != Authority.COUNCIL) {
            revert SerialRegistryInvalidLotStatus(lotId, from, status);
        }
        if (status < from && authority < lot.statusAuthority) {
            revert SerialRegistryAuthorityTooLow(lotId, lot.statusAuthority, authority);
        }
        if (status == LotStatus.RECALLED && authority == Authority.REGULATOR && lot.owner != me) {
            uint32 requester = lot.recallRequestedBy;
            if (requester == me) revert SerialRegistryRecallAlreadyRequested(lotId, caller);
            // A request counts only while its regulator still is one: otherwise this is a new one.
            if (requester != 0 && !_isRegulator(requester)) requester = 0;
            if (requester == 0) {
                lot.recallRequestedBy = me;
                emit LotRecallRequested(lotId, caller, eventHash);
                if (from == LotStatus.QUARANTINED && lot.statusAuthority >= authority) return;
                status = LotStatus.QUARANTINED;
            }
        }
        if (status != LotStatus.QUARANTINED) lot.recallRequestedBy = 0;
        lot.status = status;
        lot.statusAuthority = status == LotStatus.ACTIVE
            ? Authority.NONE
            : (status > from || authority > lot.statusAuthority ? authority : lot.statusAuthority);
        emit LotStatusChanged(lotId, caller, status, eventHash);
    }

    // ---------------------------------------------------------------- packs and units

    /// @notice Commissions the caller's packs `packWords` in its lot `lotHash`, straight into
    /// its unit `unitHash` when that is not 0. A pack word is the pack's code hash with its
    /// lot tag in the last 3 bytes (see {LedgerIds}); the tag is kept for {verify}.
    /// @dev Requirements:
    /// - the caller is an active, licensed producer with an ACTIVE lot `lotHash`;
    /// - every pack is new for the caller (no duplicates);
    /// - a non-zero `unitHash` names a new unit (created in the caller's custody) or a
    ///   top-level ACTIVE unit the caller created and holds.
    function commission(bytes32 lotHash, bytes32 unitHash, bytes32[] calldata packWords, bytes32 eventHash)
        external
    {
        (address caller, uint32 me) = _caller(Roles.PRODUCERS, packWords.length);
        bytes32 lotId = LedgerIds.recordId(me, lotHash);
        bytes32 unitId = unitHash == 0 ? bytes32(0) : LedgerIds.recordId(me, unitHash);
        PackState fresh;
        {
            uint32 lotIndex = _lotIndex[lotId];
            if (lotIndex == 0) revert SerialRegistryUnknownLot(lotId);
            LotStatus lotStatus = _lots[lotIndex].status;
            if (lotStatus != LotStatus.ACTIVE) revert SerialRegistryLotNotActive(lotId, lotStatus);
            uint32 parent = unitId == 0 ? 0 : _containerFor(unitId, me, caller, 1);
            fresh = PackStateLibrary.commissioned(parent == 0 ? me : 0, lotIndex, parent);
        }
        (bytes32[] memory packIds, bytes memory lotTags) = _commissionPacks(packWords, me, fresh);
        emit PacksCommissioned(lotId, caller, unitId, packIds, lotTags, eventHash);
    }

    /// @notice Packs loose packs and top-level units into the caller's unit `unitHash` (a case
    /// or pallet).
    /// @dev Requirements:
    /// - the caller is an active, licensed supply-chain member;
    /// - `unitHash` names a new unit or a top-level ACTIVE unit the caller created and holds;
    /// - every child is ACTIVE, held by the caller, not inside a live unit, not the unit itself;
    /// - nesting stays within {MAX_LEVEL} levels of units.
    function pack(bytes32 unitHash, bytes32[] calldata packIds, bytes32[] calldata unitIds, bytes32 eventHash)
        external
    {
        (address caller, uint32 me) = _caller(Roles.SUPPLY_CHAIN, packIds.length + unitIds.length);
        bytes32 unitId = LedgerIds.recordId(me, unitHash);
        uint8 level = 1;
        for (uint256 i; i < unitIds.length; ++i) {
            uint8 childLevel = _units[_unitIndexOf(unitIds[i])].level;
            if (childLevel + 1 > level) level = childLevel + 1;
        }
        uint32 parent = _containerFor(unitId, me, caller, level);
        for (uint256 i; i < packIds.length; ++i) {
            bytes32 id = packIds[i];
            _packs[id] = _loosePack(id, me, caller).withParent(parent).withCustodian(0);
        }
        for (uint256 i; i < unitIds.length; ++i) {
            bytes32 id = unitIds[i];
            uint32 index = _unitIndexOf(id);
            if (index == parent) revert SerialRegistrySelfNesting(id);
            Unit storage child = _looseUnit(id, index, me, caller);
            child.parent = parent;
            child.custodian = 0;
        }
        emit ItemsPacked(unitId, caller, packIds, unitIds, eventHash);
    }

    /// @notice Takes some packs and units out of unit `unitId`; the unit stays.
    /// @dev Requirements:
    /// - the caller is an active, licensed supply-chain member holding `unitId`, not in transit;
    /// - every child sits directly in `unitId`.
    function unpackItems(bytes32 unitId, bytes32[] calldata packIds, bytes32[] calldata unitIds, bytes32 eventHash)
        external
    {
        (address caller, uint32 me) = _caller(Roles.SUPPLY_CHAIN, packIds.length + unitIds.length);
        uint32 parent = _unitIndexOf(unitId);
        (, Unit memory top) = _unitCustody(parent);
        _requireHolder(unitId, top, me, caller);
        if (_units[parent].status == UnitStatus.DISSOLVED) revert SerialRegistryUnitDissolved(unitId);
        for (uint256 i; i < packIds.length; ++i) {
            bytes32 id = packIds[i];
            PackState s = _existingPack(id);
            if (s.parent() != parent || s.status() != PackStatus.ACTIVE) revert SerialRegistryNotInUnit(id, unitId);
            _packs[id] = s.withParent(0).withCustodian(me);
        }
        for (uint256 i; i < unitIds.length; ++i) {
            bytes32 id = unitIds[i];
            Unit storage child = _units[_unitIndexOf(id)];
            if (child.parent != parent || child.status != UnitStatus.ACTIVE) revert SerialRegistryNotInUnit(id, unitId);
            child.parent = 0;
            child.custodian = me;
        }
        emit ItemsUnpacked(unitId, caller, packIds, unitIds, eventHash);
    }

    /// @notice Unpacks whole units: each is dissolved and its contents stay with the caller.
    /// @dev Requirements:
    /// - the caller is an active, licensed supply-chain member;
    /// - every unit is ACTIVE, held by the caller and not inside a live unit.
    function unpack(bytes32[] calldata unitIds, bytes32 eventHash) external {
        (address caller, uint32 me) = _caller(Roles.SUPPLY_CHAIN, unitIds.length);
        for (uint256 i; i < unitIds.length; ++i) {
            bytes32 id = unitIds[i];
            _looseUnit(id, _unitIndexOf(id), me, caller).status = UnitStatus.DISSOLVED;
        }
        emit UnitsDissolved(caller, unitIds, eventHash);
    }

    /// @notice Ships loose packs and top-level units to member `to`; they are in transit until
    /// `to` receives them.
    /// @dev Requirements:
    /// - the caller and `to` are different active, licensed supply-chain members;
    /// - every item is ACTIVE, held by the caller and not inside a live unit.
    function ship(bytes32[] calldata packIds, bytes32[] calldata unitIds, address to, bytes32 eventHash) external {
        address caller = _msgSender();
        uint32 me = _consortium.requireMember(caller, Roles.SUPPLY_CHAIN);
        uint32 recipient = _consortium.requireMember(to, Roles.SUPPLY_CHAIN);
        if (recipient == me) revert SerialRegistryShipToSelf(to);
        if (packIds.length + unitIds.length == 0) revert SerialRegistryEmptyBatch();
        for (uint256 i; i < packIds.length; ++i) {
            bytes32 id = packIds[i];
            _packs[id] = _loosePack(id, me, caller).withStatus(PackStatus.IN_TRANSIT).withPendingTo(recipient);
        }
        for (uint256 i; i < unitIds.length; ++i) {
            bytes32 id = unitIds[i];
            Unit storage unit = _looseUnit(id, _unitIndexOf(id), me, caller);
            unit.status = UnitStatus.IN_TRANSIT;
            unit.pendingTo = recipient;
        }
        emit ItemsShipped(caller, to, packIds, unitIds, eventHash);
    }

    /// @notice Receives packs and units shipped to the caller; the caller becomes custodian.
    /// @dev Requirements:
    /// - the caller is an active, licensed supply-chain member;
    /// - every item is in transit to the caller.
    function receiveItems(bytes32[] calldata packIds, bytes32[] calldata unitIds, bytes32 eventHash) external {
        (address caller, uint32 me) = _caller(Roles.SUPPLY_CHAIN, packIds.length + unitIds.length);
        for (uint256 i; i < packIds.length; ++i) {
            bytes32 id = packIds[i];
            PackState s = _existingPack(id);
            if (s.status() != PackStatus.IN_TRANSIT) revert SerialRegistryNotInTransit(id);
            if (s.pendingTo() != me) revert SerialRegistryNotRecipient(id, caller);
            _packs[id] = s.withStatus(PackStatus.ACTIVE).withPendingTo(0).withCustodian(me);
        }
        for (uint256 i; i < unitIds.length; ++i) {
            bytes32 id = unitIds[i];
            Unit storage unit = _units[_unitIndexOf(id)];
            if (unit.status != UnitStatus.IN_TRANSIT) revert SerialRegistryNotInTransit(id);
            if (unit.pendingTo != me) revert SerialRegistryNotRecipient(id, caller);
            (unit.status, unit.pendingTo, unit.custodian) = (UnitStatus.ACTIVE, 0, me);
        }
        emit ItemsReceived(caller, packIds, unitIds, eventHash);
    }

    /// @notice Cancels the caller's shipment of packs and units to `recipient` before receipt:
    /// they are ACTIVE in the caller's custody again.
    /// @dev Requirements:
    /// - the caller is an active, licensed supply-chain member;
    /// - every item is in transit (itself shipped, not inside a shipped unit), shipped by the
    ///   caller to `recipient`.
    function cancelShipment(address recipient, bytes32[] calldata packIds, bytes32[] calldata unitIds, bytes32 eventHash)
        external
    {
        (address caller, uint32 me) = _caller(Roles.SUPPLY_CHAIN, packIds.length + unitIds.length);
        uint32 to = _indexOf(recipient);
        _reroute(packIds, unitIds, Leg(PackStatus.IN_TRANSIT, me, to, PackStatus.ACTIVE, me, 0, false, recipient));
        emit ShipmentCancelled(caller, recipient, packIds, unitIds, eventHash);
    }

    /// @notice Refuses packs and units `sender` shipped to the caller: they go back to `sender`,
    /// in transit from the caller, until `sender` receives them ({receiveItems}).
    /// @dev Requirements:
    /// - the caller is an active, licensed supply-chain member;
    /// - every item is in transit (itself shipped, not inside a shipped unit) to the caller,
    ///   shipped by `sender`.
    function refuseItems(address sender, bytes32[] calldata packIds, bytes32[] calldata unitIds, bytes32 eventHash)
        external
    {
        (address caller, uint32 me) = _caller(Roles.SUPPLY_CHAIN, packIds.length + unitIds.length);
        uint32 from = _indexOf(sender);
        _reroute(packIds, unitIds, Leg(PackStatus.IN_TRANSIT, from, me, PackStatus.IN_TRANSIT, me, from, true, sender));
        emit ItemsRefused(caller, sender, packIds, unitIds, eventHash);
    }

    /// @notice Reports packs and units the caller shipped to `recipient` lost in transit: they
    /// are LOST (never received, verified LOST) until the caller reports them found.
    /// @dev Requirements:
    /// - the caller is an active, licensed supply-chain member;
    /// - every item is in transit (itself shipped, not inside a shipped unit), shipped by the
    ///   caller to `recipient`.
    function reportLost(address recipient, bytes32[] calldata packIds, bytes32[] calldata unitIds, bytes32 eventHash)
        external
    {
        (address caller, uint32 me) = _caller(Roles.SUPPLY_CHAIN, packIds.length + unitIds.length);
        uint32 to = _indexOf(recipient);
        _reroute(packIds, unitIds, Leg(PackStatus.IN_TRANSIT, me, to, PackStatus.LOST, me, to, false, recipient));
        emit ItemsLost(caller, recipient, packIds, unitIds, eventHash);
    }

    /// @notice Undoes the caller's report of packs and units lost on their way to `recipient`:
    /// they are in transit to `recipient` again (who may receive or refuse them; the caller
    /// may cancel the shipment).
    /// @dev Requirements:
    /// - the caller is an active, licensed supply-chain member;
    /// - every item is LOST, reported by the caller (its sender) on its way to `recipient`.
    function reportFound(address recipient, bytes32[] calldata packIds, bytes32[] calldata unitIds, bytes32 eventHash)
        external
    {
        (address caller, uint32 me) = _caller(Roles.SUPPLY_CHAIN, packIds.length + unitIds.length);
        uint32 to = _indexOf(recipient);
        _reroute(packIds, unitIds, Leg(PackStatus.LOST, me, to, PackStatus.IN_TRANSIT, me, to, false, recipient));
        emit LostItemsFound(caller, recipient, packIds, unitIds, eventHash);
    }

    /// @notice Decommissions packs for `reason`; a pack inside a unit leaves it.
    /// @dev Requirements:
    /// - the caller is an active, licensed supply-chain member holding every pack, not in
    ///   transit; DISPENSED needs the DISPENSER role;
    /// - `reason` is not NONE; every pack is ACTIVE;
    /// - except for DESTROYED and STOLEN: the lot is ACTIVE, the pack is not flagged, and the
    ///   lot has not expired.
    function decommission(bytes32[] calldata packIds, DecommissionReason reason, bytes32 eventHash) external {
        address caller = _msgSender();
        uint16 roles = reason == DecommissionReason.DISPENSED ? Roles.DISPENSER : Roles.SUPPLY_CHAIN;
        uint32 me = _consortium.requireMember(caller, roles);
        if (reason == DecommissionReason.NONE) revert SerialRegistryInvalidReason(uint8(reason));
        if (packIds.length == 0) revert SerialRegistryEmptyBatch();
        bool checkSaleable = (UNCONDITIONAL >> uint8(reason)) & 1 == 0;
        // The undo window is fixed now: a later change of UNDO_WINDOW does not reach back.
        uint40 undoDeadline = (UNDOABLE >> uint8(reason)) & 1 == 0
            ? 0
            : uint40(block.timestamp + _consortium.parameter("UNDO_WINDOW"));
        // Packs of one batch usually share their unit and lot: check each once.
        uint32 checkedParent;
        uint32 checkedLot;
        for (uint256 i; i < packIds.length; ++i) {
            bytes32 id = packIds[i];
            PackState s = _packs[id];
            _requireActive(id, s);
            uint32 parent = s.parent();
            if (parent == 0) {
                if (s.custodian() != me) revert SerialRegistryNotCustodian(id, caller);
            } else if (parent != checkedParent) {
                (, Unit memory top) = _unitCustody(parent);
                _requireHolder(id, top, me, caller);
                checkedParent = parent;
            }
            if (checkSaleable) {
                if (s.flags() != 0) revert SerialRegistryPackFlagged(id, s.flags());
                uint32 lotIndex = s.lot();
                if (lotIndex != checkedLot) {
                    _requireSaleable(id, _lots[lotIndex]);
                    checkedLot = lotIndex;
                }
            }
            _packs[id] = s.decommissioned(me, uint8(reason), uint40(block.timestamp), undoDeadline);
        }
        emit PacksDecommissioned(caller, reason, packIds, eventHash);
    }

    /// @notice Undoes the decommission of packs, within the undo window, for reasons that allow it.
    /// @dev Requirements:
    /// - the caller is the active, licensed member that decommissioned every pack;
    /// - every pack is DECOMMISSIONED for an undoable reason, no later than the undo deadline
    ///   fixed at decommissioning (the consortium's UNDO_WINDOW at that time).
    function undoDecommission(bytes32[] calldata packIds, bytes32 eventHash) external {
        (address caller, uint32 me) = _caller(Roles.SUPPLY_CHAIN, packIds.length);
        for (uint256 i; i < packIds.length; ++i) {
            bytes32 id = packIds[i];
            PackState s = _existingPack(id);
            if (s.status() != PackStatus.DECOMMISSIONED) revert SerialRegistryPackNotDecommissioned(id);
            if (s.custodian() != me) revert SerialRegistryNotDecommissioner(id, caller);
            if ((UNDOABLE >> s.reason()) & 1 == 0) {
                revert SerialRegistryUndoNotAllowed(id, DecommissionReason(s.reason()));
            }
            uint256 deadline = s.undoDeadline();
            if (block.timestamp > deadline) revert SerialRegistryUndoWindowClosed(id, deadline);
            _packs[id] = s.undone();
        }
        emit DecommissionsUndone(caller, packIds, eventHash);
    }

    /// @notice Sets the flags of packs (suspect, illegitimate) with a reason code; 0 clears them.
    /// @dev Requirements:
    /// - `flags` uses only FLAG_SUSPECT (1) and FLAG_ILLEGITIMATE (2);
    /// - the caller's authority over each pack: COUNCIL (a consortium proposal), REGULATOR (an
    ///   active regulator), OWNER (the owner of the pack's lot) or HOLDER (a supply-chain member
    ///   holding it); a HOLDER may only raise SUSPECT;
    /// - the caller's authority is at least the one that raised the pack's current flags.
    function flagPacks(bytes32[] calldata packIds, uint8 flags, uint8 reasonCode, bytes32 eventHash) external {
        address caller = _msgSender();
        if (flags > (PackStateLibrary.FLAG_SUSPECT | PackStateLibrary.FLAG_ILLEGITIMATE)) {
            revert SerialRegistryInvalidFlags(flags);
        }
        IConsortium.Member memory m;
        bool council = caller == address(_consortium);
        if (!council) {
            _consortium.requireMember(caller, Roles.ALL);
            m = _consortium.member(caller);
        }
        if (packIds.length == 0) revert SerialRegistryEmptyBatch();
        for (uint256 i; i < packIds.length; ++i) {
            bytes32 id = packIds[i];
            PackState s = _existingPack(id);
            Authority authority = council ? Authority.COUNCIL : _packAuthority(s, m);
            if (authority == Authority.NONE || (authority == Authority.HOLDER && flags != PackStateLibrary.FLAG_SUSPECT)) {
                revert SerialRegistryNotAuthorised(caller, id);
            }
            Authority raisedBy = Authority(s.flagAuthority());
            if (raisedBy > authority) revert SerialRegistryAuthorityTooLow(id, raisedBy, authority);
            _packs[id] = s.withFlags(flags, reasonCode, uint8(authority));
        }
        emit PacksFlagged(caller, flags, reasonCode, packIds, eventHash);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc ISerialRegistry
    function verify(string calldata gtin14, string calldata serial, string calldata lot, uint32 expiry)
        external
        view
        returns (Verification memory v)
    {
        uint32 owner = _consortium.prefixOwnerIndex(gtin14);
        if (owner == 0) {
            v.status = VerificationStatus.PRODUCT_MISMATCH;
            return v;
        }
        v.productOwner = _account(owner);
        (bytes32 packHash, uint24 tag) = LedgerIds.packHashAndLotTag(gtin14, serial, lot);
        v.packId = LedgerIds.recordId(owner, packHash);
        PackState s = _packs[v.packId];
        if (!s.exists()) {
            v.status = VerificationStatus.UNKNOWN;
            return v;
        }
        v.pack = _packView(s);
        v.lot = _lotView(s.lot());
        v.status = _verdict(v, bytes(lot).length == 0 || tag == s.lotTag(), expiry);
    }

    /// @notice Returns pack `packId` with its resolved custody (status NONE when unknown).
    function packState(bytes32 packId) external view returns (PackView memory) {
        return _packView(_packs[packId]);
    }

    /// @notice Returns many packs at once, in order (for auditors and indexers).
    function packStates(bytes32[] calldata packIds) external view returns (PackView[] memory views) {
        views = new PackView[](packIds.length);
        for (uint256 i; i < packIds.length; ++i) {
            views[i] = _packView(_packs[packIds[i]]);
        }
    }

    /// @notice Returns lot `lotId` (status NONE when unknown).
    function lotState(bytes32 lotId) external view returns (LotView memory) {
        return _lotView(_lotIndex[lotId]);
    }

    /// @notice Returns unit `unitId` with its resolved custody (status NONE when unknown).
    function unitState(bytes32 unitId) external view returns (UnitView memory view_) {
        uint32 index = _unitIndex[unitId];
        if (index == 0) return view_;
        Unit memory u = _units[index];
        (, Unit memory top) = _unitCustody(index);
        view_ = UnitView(index, u.status, u.level, u.parent, _account(top.custodian), address(0), false, false);
        (view_.pendingTo, view_.inTransit, view_.lost) = _transit(uint8(top.status), top.pendingTo);
    }

    /// @notice Returns the consortium this registry answers to.
    function consortium() external view returns (IConsortium) {
        return _consortium;
    }

    // ---------------------------------------------------------------- internals

    /// @dev `lotMatches`: the scan carried no lot, or the pack's lot tag is the scanned lot's.
    function _verdict(Verification memory v, bool lotMatches, uint32 expiry) private view returns (VerificationStatus) {
        if (!lotMatches) return VerificationStatus.LOT_MISMATCH;
        if (expiry != 0 && !GS1Date.sameDay(expiry, v.lot.expiry)) return VerificationStatus.EXPIRY_MISMATCH;
        if (v.pack.flags & PackStateLibrary.FLAG_ILLEGITIMATE != 0) return VerificationStatus.ILLEGITIMATE;
        if (v.pack.flags & PackStateLibrary.FLAG_SUSPECT != 0) return VerificationStatus.SUSPECT;
        if (v.lot.status == LotStatus.RECALLED) return VerificationStatus.RECALLED;
        if (v.lot.status == LotStatus.QUARANTINED) return VerificationStatus.QUARANTINED;
        if (v.pack.lost) return VerificationStatus.LOST;
        if (v.pack.status == PackStatus.DECOMMISSIONED) return VerificationStatus.DECOMMISSIONED;
        if (block.timestamp > v.lot.expiresAt) return VerificationStatus.EXPIRED;
        if (v.pack.inTransit) return VerificationStatus.IN_TRANSIT;
        return VerificationStatus.VERIFIED;
    }

    /// @dev Stores a new pack `fresh` of member `me` for each of `packWords`, with its lot tag;
    /// returns the pack ids and their 3-byte tags, concatenated.
    function _commissionPacks(bytes32[] calldata packWords, uint32 me, PackState fresh)
        private
        returns (bytes32[] memory packIds, bytes memory lotTags)
    {
        packIds = new bytes32[](packWords.length);
        lotTags = new bytes(packWords.length * 3);
        for (uint256 i; i < packWords.length; ++i) {
            (bytes32 packHash, uint24 tag) = LedgerIds.splitPackWord(packWords[i]);
            bytes32 id = LedgerIds.recordId(me, packHash);
            if (_packs[id].exists()) revert SerialRegistryPackExists(id);
            _packs[id] = fresh.withLotTag(tag);
            packIds[i] = id;
            assembly ("memory-safe") {
                // One word: the tag in bytes 3i to 3i + 2 of lotTags, then 29 zero bytes over
                // the next tags' place (written next) or past the last tag: lotTags' padding,
                // then free memory, as lotTags is the last allocation.
                mstore(add(add(lotTags, 0x20), mul(i, 3)), shl(232, tag))
            }
        }
    }

    /// @dev The caller of a batch write of `items` items: an active, licensed member holding any
    /// of `roles`, and its member index.
    function _caller(uint16 roles, uint256 items) private view returns (address caller, uint32 me) {
        caller = _msgSender();
        me = _consortium.requireMember(caller, roles);
        if (items == 0) revert SerialRegistryEmptyBatch();
    }

    /// @dev The member index of `account` (0 when it is no member).
    function _indexOf(address account) private view returns (uint32) {
        return _consortium.member(account).index;
    }

    /// @dev Moves every item of a shipment leg as `leg` says, checking each is where it says.
    /// Items in transit or lost are loose (shipping detached them), so no unit walk is needed.
    function _reroute(bytes32[] calldata packIds, bytes32[] calldata unitIds, Leg memory leg) private {
        for (uint256 i; i < packIds.length; ++i) {
            bytes32 id = packIds[i];
            PackState s = _existingPack(id);
            _checkLeg(id, uint8(s.status()), s.custodian(), s.pendingTo(), leg);
            _packs[id] = s.withStatus(leg.to).withCustodian(leg.holder).withPendingTo(leg.pendingTo);
        }
        for (uint256 i; i < unitIds.length; ++i) {
            bytes32 id = unitIds[i];
            Unit storage unit = _units[_unitIndexOf(id)];
            _checkLeg(id, uint8(unit.status), unit.custodian, unit.pendingTo, leg);
            (unit.status, unit.custodian, unit.pendingTo) = (UnitStatus(uint8(leg.to)), leg.holder, leg.pendingTo);
        }
    }

    /// @dev Reverts unless an item of status `status` (a PackStatus or UnitStatus: IN_TRANSIT
    /// and LOST have the same values), held by `custodian` and pending to `pendingTo`, is on
    /// `leg`: the caller's side is checked first.
    function _checkLeg(bytes32 id, uint8 status, uint32 custodian, uint32 pendingTo, Leg memory leg) private view {
        if (status != uint8(leg.from)) {
            if (leg.from == PackStatus.LOST) revert SerialRegistryNotLost(id);
            revert SerialRegistryNotInTransit(id);
        }
        if (leg.byRecipient) {
            if (pendingTo != leg.recipient) revert SerialRegistryNotRecipient(id, _msgSender());
            if (custodian != leg.sender) revert SerialRegistryNotShippedBy(id, leg.counterparty);
        } else {
            if (custodian != leg.sender) revert SerialRegistryNotSender(id, _msgSender());
            if (pendingTo != leg.recipient) revert SerialRegistryNotShippedTo(id, leg.counterparty);
        }
    }

    /// @dev Returns the index of unit `unitId`: a new ACTIVE unit held by `me` at `level`, or an
    /// existing top-level ACTIVE unit held by `me`, raised to `level` if needed.
    function _containerFor(bytes32 unitId, uint32 me, address caller, uint8 level) private returns (uint32 index) {
        if (level > MAX_LEVEL) revert SerialRegistryNestingTooDeep(unitId, level);
        index = _unitIndex[unitId];
        if (index == 0) {
            index = uint32(_units.length);
            _unitIndex[unitId] = index;
            _units.push(Unit(me, 0, 0, UnitStatus.ACTIVE, level));
            return index;
        }
        Unit storage unit = _looseUnit(unitId, index, me, caller);
        if (unit.level < level) unit.level = level;
    }

    /// @dev Checks that pack `id` is ACTIVE, held by `me` and not inside a live unit; returns
    /// its state detached from a dissolved unit.
    function _loosePack(bytes32 id, uint32 me, address caller) private view returns (PackState s) {
        s = _packs[id];
        _requireActive(id, s);
        uint32 parent = s.parent();
        if (parent != 0) {
            Unit storage unit = _units[parent];
            if (unit.status != UnitStatus.DISSOLVED) revert SerialRegistryStillPacked(id);
            s = s.withParent(0).withCustodian(unit.custodian);
        }
        if (s.custodian() != me) revert SerialRegistryNotCustodian(id, caller);
    }

    /// @dev Checks that unit `id` is ACTIVE, held by `me` and not inside a live unit; detaches
    /// it from a dissolved parent and returns it.
    function _looseUnit(bytes32 id, uint32 index, uint32 me, address caller) private returns (Unit storage unit) {
        unit = _units[index];
        UnitStatus status = unit.status;
        if (status != UnitStatus.ACTIVE) {
            if (status == UnitStatus.DISSOLVED) revert SerialRegistryUnitDissolved(id);
            if (status == UnitStatus.IN_TRANSIT) revert SerialRegistryInTransit(id);
            revert SerialRegistryLost(id);
        }
        uint32 parent = unit.parent;
        if (parent != 0) {
            Unit storage container = _units[parent];
            if (container.status != UnitStatus.DISSOLVED) revert SerialRegistryStillPacked(id);
            (unit.parent, unit.custodian) = (0, container.custodian);
        }
        if (unit.custodian != me) revert SerialRegistryNotCustodian(id, caller);
    }

    /// @dev Follows `index` up to its top unit or its nearest dissolved unit, which holds the custody.
    function _unitCustody(uint32 index) private view returns (uint32 anchor, Unit memory top) {
        anchor = index;
        top = _units[index];
        while (top.status != UnitStatus.DISSOLVED && top.parent != 0) {
            anchor = top.parent;
            top = _units[anchor];
        }
    }

    function _packCustodian(PackState s) private view returns (uint32) {
        if (s.parent() == 0) return s.custodian();
        (, Unit memory top) = _unitCustody(s.parent());
        return top.custodian;
    }

    function _requireHolder(bytes32 id, Unit memory top, uint32 me, address caller) private pure {
        if (top.status == UnitStatus.IN_TRANSIT) revert SerialRegistryInTransit(id);
        if (top.status == UnitStatus.LOST) revert SerialRegistryLost(id);
        if (top.custodian != me) revert SerialRegistryNotCustodian(id, caller);
    }

    function _existingPack(bytes32 id) private view returns (PackState s) {
        s = _packs[id];
        if (!s.exists()) revert SerialRegistryUnknownPack(id);
    }

    function _requireActive(bytes32 id, PackState s) private pure {
        PackStatus status = s.status();
        if (status == PackStatus.ACTIVE) return;
        if (status == PackStatus.NONE) revert SerialRegistryUnknownPack(id);
        if (status == PackStatus.IN_TRANSIT) revert SerialRegistryInTransit(id);
        if (status == PackStatus.LOST) revert SerialRegistryLost(id);
        revert SerialRegistryPackDecommissioned(id, DecommissionReason(s.reason()));
    }

    function _requireSaleable(bytes32 packId, Lot storage lot) private view {
        if (lot.status != LotStatus.ACTIVE) revert SerialRegistryLotNotActive(lot.id, lot.status);
        if (block.timestamp > lot.expiresAt) revert SerialRegistryPackExpired(packId, lot.expiresAt);
    }

    /// @dev The caller's authority over a lot owned by member `owner`, and its member index.
    function _lotAuthority(address caller, uint32 owner, bytes32 lotId)
        private
        view
        returns (Authority authority, uint32 me)
    {
        if (caller == address(_consortium)) return (Authority.COUNCIL, 0);
        me = _consortium.requireMember(caller, Roles.ALL);
        uint16 roles = _consortium.member(caller).roles;
        if (roles & Roles.REGULATOR != 0) return (Authority.REGULATOR, me);
        if (me == owner && roles & Roles.PRODUCERS != 0) return (Authority.OWNER, me);
        revert SerialRegistryNotAuthorised(caller, lotId);
    }

    /// @dev True when member `index` is now an active, licensed regulator.
    function _isRegulator(uint32 index) private view returns (bool) {
        IConsortium.Member memory m = _consortium.member(_account(index));
        return m.status == IConsortium.MemberStatus.ACTIVE && m.roles & Roles.REGULATOR != 0
            && m.licenceExpiry > block.timestamp;
    }

    /// @dev The authority of active member `m` over pack `s` (NONE when it has none).
    function _packAuthority(PackState s, IConsortium.Member memory m) private view returns (Authority) {
        if (m.roles & Roles.REGULATOR != 0) return Authority.REGULATOR;
        if (_lots[s.lot()].owner == m.index) return Authority.OWNER;
        if (m.roles & Roles.SUPPLY_CHAIN != 0 && _packCustodian(s) == m.index) return Authority.HOLDER;
        return Authority.NONE;
    }

    function _unitIndexOf(bytes32 unitId) private view returns (uint32 index) {
        index = _unitIndex[unitId];
        if (index == 0) revert SerialRegistryUnknownUnit(unitId);
    }

    function _packView(PackState s) private view returns (PackView memory v) {
        if (!s.exists()) return v;
        v.status = s.status();
        v.reason = DecommissionReason(s.reason());
        v.flags = s.flags();
        v.flagReason = s.flagReason();
        v.decommissionedAt = s.decommissionedAt();
        v.undoDeadline = s.undoDeadline();
        v.flagAuthority = Authority(s.flagAuthority());
        v.lotId = _lots[s.lot()].id;
        v.lotTag = bytes3(s.lotTag());
        v.parent = s.parent();
        if (v.parent == 0) {
            v.custodian = _account(s.custodian());
            (v.pendingTo, v.inTransit, v.lost) = _transit(uint8(v.status), s.pendingTo());
        } else {
            (, Unit memory top) = _unitCustody(v.parent);
            v.custodian = _account(top.custodian);
            (v.pendingTo, v.inTransit, v.lost) = _transit(uint8(top.status), top.pendingTo);
        }
    }

    /// @dev The recipient, transit and loss of an item (or of what sits in a unit) whose top
    /// holder has status `status` (PackStatus or UnitStatus) and recipient `pendingTo`.
    function _transit(uint8 status, uint32 pendingTo) private view returns (address, bool, bool) {
        bool inTransit = status == uint8(PackStatus.IN_TRANSIT);
        bool lost = status == uint8(PackStatus.LOST);
        return (inTransit || lost ? _account(pendingTo) : address(0), inTransit, lost);
    }

    function _lotView(uint32 index) private view returns (LotView memory) {
        if (index == 0) return LotView(0, address(0), 0, 0, LotStatus.NONE, Authority.NONE, address(0));
        Lot storage lot = _lots[index];
        return LotView(
            lot.id,
            _account(lot.owner),
            lot.expiry,
            lot.expiresAt,
            lot.status,
            lot.statusAuthority,
            _account(lot.recallRequestedBy)
        );
    }

    function _account(uint32 index) private view returns (address) {
        return index == 0 ? address(0) : _consortium.accountAt(index);
    }
}
