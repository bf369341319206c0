// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @title IConsortium
/// @notice Membership, GS1 company prefixes and protocol parameters of an RxLedger network,
/// changed only by M-of-N proposals of council members.
interface IConsortium {
    /// @notice A member's state, packed in one slot.
    struct Member {
        address account;
        uint32 index;
        uint16 roles;
        MemberStatus status;
        uint40 licenceExpiry;
    }

    /// @notice A member given at deployment, with its GS1 company prefixes.
    struct BootstrapMember {
        address account;
        uint64 gln;
        uint16 roles;
        uint40 licenceExpiry;
        string[] prefixes;
    }

    /// @notice A change waiting for council approvals: a call on the consortium itself.
    struct Proposal {
        address proposer;
        uint40 deadline;
        uint16 approvals;
        bool executed;
        bool cancelled;
        bytes data;
    }

    enum MemberStatus {
        NONE,
        ACTIVE,
        SUSPENDED,
        REVOKED
    }

    event MemberAdded(address indexed account, uint32 indexed index, uint64 gln, uint16 roles, uint40 licenceExpiry);
    event MemberStatusChanged(address indexed account, MemberStatus status);
    event MemberRolesChanged(address indexed account, uint16 roles);
    event MemberLicenceChanged(address indexed account, uint40 licenceExpiry);
    event MemberKeyRotated(address indexed account, address indexed newAccount, uint32 indexed index);
    event PrefixAssigned(string prefix, address indexed account);
    event PrefixRevoked(string prefix, address indexed account);
    event ParameterChanged(bytes32 indexed key, uint256 value);
    event ProposalCreated(uint256 indexed id, address indexed proposer, bytes data, uint40 deadline);
    event ProposalApproved(uint256 indexed id, address indexed approver, uint16 approvals);
    event ProposalExecuted(uint256 indexed id);
    event ProposalCancelled(uint256 indexed id, address indexed by);
    event GatewayUrlSet(address indexed member, uint32 indexed index, string url);

    error ConsortiumOnlyByProposal(address caller);
    error ConsortiumNotMember(address account);
    error ConsortiumMemberNotActive(address account, MemberStatus status);
    error ConsortiumLicenceExpired(address account, uint40 licenceExpiry);
    error ConsortiumMissingRole(address account, uint16 required, uint16 roles);
    error ConsortiumMemberExists(address account);
    error ConsortiumFull(address account, uint256 maxMembers);
    error ConsortiumInvalidMember(address account);
    error ConsortiumInvalidRoles(uint16 roles);
    error ConsortiumInvalidPrefix(string prefix);
    error ConsortiumPrefixTaken(string prefix, address owner);
    error ConsortiumPrefixOverlaps(string prefix);
    error ConsortiumPrefixNotAssigned(string prefix);
    error ConsortiumUnknownParameter(bytes32 key);
    error ConsortiumInvalidParameter(bytes32 key, uint256 value);
    error ConsortiumThresholdUnreachable(uint256 threshold, uint256 councilSize);
    error ConsortiumUnknownProposal(uint256 id);
    error ConsortiumProposalClosed(uint256 id);
    error ConsortiumProposalExpired(uint256 id, uint40 deadline);
    error ConsortiumAlreadyApproved(uint256 id, address approver);
    error ConsortiumNotProposer(uint256 id, address caller);
    error ConsortiumInvalidGatewayUrl(string url);

    /// @notice Returns the member `account`; status NONE when it is not one.
    function member(address account) external view returns (Member memory);

    /// @notice Returns the index of `account` if it is an active, licensed member holding any
    /// role in `anyOfRoles`; reverts with the reason otherwise.
    function requireMember(address account, uint16 anyOfRoles) external view returns (uint32 index);

    /// @notice Returns the account of the member with `index` (address(0) for 0 or unknown).
    function accountAt(uint32 index) external view returns (address);

    /// @notice Returns the member owning the longest GS1 company prefix that starts `code` (a
    /// GTIN-14 or an SSCC-18) after its first digit (indicator or extension digit), or address(0).
    function prefixOwner(string calldata code) external view returns (address);

    /// @notice Returns the member index of {prefixOwner}(`code`), or 0.
    function prefixOwnerIndex(string calldata code) external view returns (uint32);

    /// @notice Returns protocol parameter `key`.
    function parameter(bytes32 key) external view returns (uint256);
}
