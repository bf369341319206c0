// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @title IAccessGrants
/// @notice Who, besides a lot's holders and the regulators, may read a lot's clear EPCIS events
/// at the gateways: auditors granted access by the lot's owner or by the council, until an
/// optional expiry time or until revoked. Gateways read these grants from the chain; they hold
/// no list of their own.
interface IAccessGrants {
    /// @notice Who made a grant, lowest first: a grant is changed or revoked only at its own
    /// authority or above (the council overrules the owner, never the other way round).
    enum GrantAuthority {
        NONE,
        OWNER,
        COUNCIL
    }

    /// @notice One member's read access to one lot's events, packed in one slot.
    /// `expiresAt` 0: until revoked.
    struct Grant {
        uint40 expiresAt;
        GrantAuthority authority;
    }

    event AccessGranted(bytes32 indexed lotId, address indexed grantee, address indexed by, uint40 expiresAt);
    event AccessRevoked(bytes32 indexed lotId, address indexed grantee, address indexed by);

    error AccessGrantsUnknownLot(bytes32 lotId);
    error AccessGrantsNotLotOwner(bytes32 lotId, address caller);
    error AccessGrantsInvalidGrantee(address grantee);
    error AccessGrantsInvalidExpiry(uint40 expiresAt, uint256 blockTime);
    error AccessGrantsUnchanged(bytes32 lotId, address grantee, uint40 expiresAt);
    error AccessGrantsNotGranted(bytes32 lotId, address grantee);
    error AccessGrantsAuthorityTooLow(bytes32 lotId, address grantee, GrantAuthority grantedBy);

    /// @notice Grants `grantee` read access to the events of lot `lotId` until `expiresAt`
    /// (0: until revoked), or changes the expiry of its grant.
    function grant(bytes32 lotId, address grantee, uint40 expiresAt) external;

    /// @notice Revokes the grant of `grantee` on lot `lotId`.
    function revoke(bytes32 lotId, address grantee) external;

    /// @notice Returns the grant of `grantee` on lot `lotId` (authority NONE when there is none).
    function grantOf(bytes32 lotId, address grantee) external view returns (Grant memory);

    /// @notice Returns true when `grantee` holds a grant on lot `lotId` that has not expired.
    function hasAccess(bytes32 lotId, address grantee) external view returns (bool);
}
