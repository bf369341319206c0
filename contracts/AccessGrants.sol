// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ERC2771Context} from "@openzeppelin/contracts/metatx/ERC2771Context.sol";
import {IAccessGrants} from "./interfaces/IAccessGrants.sol";
import {IConsortium} from "./interfaces/IConsortium.sol";
import {ILotReader} from "./interfaces/ILotReader.sol";
import {Roles} from "./libraries/Roles.sol";

/// @title AccessGrants
/// @notice Read access to a lot's clear EPCIS events for auditors, granted and revoked by the
/// lot's owner (the member that registered it) or by the council (a passed proposal of
/// `Consortium.callAsCouncil`). Grants belong to member indexes, so they survive key rotations
/// of the owner and of the grantee. No single key changes a grant it did not make: the owner
/// cannot touch the council's grants, and any other member touches none.
contract AccessGrants is IAccessGrants, ERC2771Context {
    IConsortium private immutable _consortium;
    ILotReader private immutable _registry;
    mapping(bytes32 lotId => mapping(uint32 grantee => Grant)) private _grants;

    /// @param trustedForwarder The ERC-2771 forwarder that may relay members' signed requests.
    /// @param consortium_ The consortium whose members and council may grant.
    /// @param registry_ The registry whose lots are granted.
    constructor(address trustedForwarder, IConsortium consortium_, ILotReader registry_)
        ERC2771Context(trustedForwarder)
    {
        _consortium = consortium_;
        _registry = registry_;
    }

    /// @inheritdoc IAccessGrants
    /// @dev Requirements:
    /// - lot `lotId` exists;
    /// - the caller is the council, or the lot's owner as an active, licensed member;
    /// - `grantee` is an active, licensed member with the AUDITOR role;
    /// - `expiresAt` is 0 or later than the current block's time;
    /// - the grant changes: a new grant, or another expiry of an existing one made at the
    ///   caller's authority or below.
    function grant(bytes32 lotId, address grantee, uint40 expiresAt) external {
        (GrantAuthority authority, address caller) = _authority(lotId);
        IConsortium.Member memory m = _consortium.member(grantee);
        if (
            m.status != IConsortium.MemberStatus.ACTIVE || m.licenceExpiry <= block.timestamp
                || m.roles & Roles.AUDITOR == 0
        ) revert AccessGrantsInvalidGrantee(grantee);
        if (expiresAt != 0 && expiresAt <= block.timestamp) {
            revert AccessGrantsInvalidExpiry(expiresAt, block.timestamp);
        }
        Grant storage g = _grants[lotId][m.index];
        if (g.authority > authority) revert AccessGrantsAuthorityTooLow(lotId, grantee, g.authority);
        if (g.authority == authority && g.expiresAt == expiresAt) {
            revert AccessGrantsUnchanged(lotId, grantee, expiresAt);
        }
        (g.expiresAt, g.authority) = (expiresAt, authority);
        emit AccessGranted(lotId, grantee, caller, expiresAt);
    }

    /// @inheritdoc IAccessGrants
    /// @dev Requirements:
    /// - lot `lotId` exists;
    /// - the caller is the council, or the lot's owner as an active, licensed member;
    /// - `grantee` holds a grant on the lot (expired or not) made at the caller's authority or
    ///   below.
    function revoke(bytes32 lotId, address grantee) external {
        (GrantAuthority authority, address caller) = _authority(lotId);
        uint32 index = _consortium.member(grantee).index;
        Grant storage g = _grants[lotId][index];
        if (g.authority == GrantAuthority.NONE) revert AccessGrantsNotGranted(lotId, grantee);
        if (g.authority > authority) revert AccessGrantsAuthorityTooLow(lotId, grantee, g.authority);
        delete _grants[lotId][index];
        emit AccessRevoked(lotId, grantee, caller);
    }

    /// @inheritdoc IAccessGrants
    function grantOf(bytes32 lotId, address grantee) public view returns (Grant memory) {
        uint32 index = _consortium.member(grantee).index;
        return index == 0 ? Grant(0, GrantAuthority.NONE) : _grants[lotId][index];
    }

    /// @inheritdoc IAccessGrants
    function hasAccess(bytes32 lotId, address grantee) external view returns (bool) {
        Grant memory g = grantOf(lotId, grantee);
        return g.authority != GrantAuthority.NONE && (g.expiresAt == 0 || g.expiresAt > block.timestamp);
    }

    /// @notice Returns the consortium and the registry this contract answers to.
    function sources() external view returns (IConsortium, ILotReader) {
        return (_consortium, _registry);
    }

    /// @dev The caller's authority over lot `lotId`'s grants; reverts when it has none.
    function _authority(bytes32 lotId) private view returns (GrantAuthority, address caller) {
        caller = _msgSender();
        address owner = _registry.lotState(lotId).owner;
        if (owner == address(0)) revert AccessGrantsUnknownLot(lotId);
        if (caller == address(_consortium)) return (GrantAuthority.COUNCIL, caller);
        _consortium.requireMember(caller, Roles.ALL);
        if (caller != owner) revert AccessGrantsNotLotOwner(lotId, caller);
        return (GrantAuthority.OWNER, caller);
    }
}
