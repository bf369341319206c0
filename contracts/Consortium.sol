// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ERC2771Context} from "@openzeppelin/contracts/metatx/ERC2771Context.sol";
import {IConsortium} from "./interfaces/IConsortium.sol";
import {Roles} from "./libraries/Roles.sol";

/// @title Consortium
/// @notice Who may write to an RxLedger network, which GS1 company prefixes each member owns,
/// and the protocol parameters. There is no owner: every change is a call on this contract
/// that council members propose and approve, M of N; it runs when approvals of M members that
/// are council members at that moment are in.
/// A council member's vote needs a valid licence, except on licence renewals
/// ({setLicenceExpiry}), so that lapsed licences can never lock the council out.
contract Consortium is IConsortium, ERC2771Context {
    bytes32 public constant THRESHOLD = "THRESHOLD";
    bytes32 public constant UNDO_WINDOW = "UNDO_WINDOW";
    bytes32 public constant PROPOSAL_LIFETIME = "PROPOSAL_LIFETIME";

    /// @notice No single key may change the rules: at least two approvals, always.
    uint256 public constant MIN_THRESHOLD = 2;
    uint256 private constant MIN_PREFIX_LENGTH = 4;
    uint256 private constant MAX_PREFIX_LENGTH = 12;
    /// @notice Most members a consortium ever admits (key rotations keep a member's index):
    /// member indices fit the 24 bits a pack's state keeps them in (see {PackState}).
    uint256 public constant MAX_MEMBERS = (1 << 24) - 1;
    /// @notice Longest gateway URL a member may publish, in bytes.
    uint256 public constant MAX_GATEWAY_URL_LENGTH = 256;

    mapping(address account => Member) private _members;
    mapping(address account => uint64) private _glns;
    address[] private _accounts;
    /// @dev Prefixes belong to member indexes, so a key rotation keeps them with the member.
    mapping(bytes32 prefixHash => uint32 index) private _prefixOwners;
    /// @dev How many assigned prefixes start with (and are longer than) a given digit string.
    mapping(bytes32 headHash => uint256) private _longerPrefixes;
    mapping(bytes32 key => uint256) private _parameters;
    /// @dev Gateway URLs belong to member indexes, so a key rotation keeps them with the member.
    mapping(uint32 index => string) private _gatewayUrls;
    uint256 private _councilSize;
    Proposal[] private _proposals;
    mapping(uint256 id => mapping(address => bool)) private _approved;
    mapping(uint256 id => address[]) private _approvers;

    modifier onlyByProposal() {
        if (msg.sender != address(this)) revert ConsortiumOnlyByProposal(msg.sender);
        _;
    }

    /// @dev Recounts the council around a change of member `account`, then checks that the
    /// council can still reach the threshold.
    modifier recountsCouncil(address account) {
        Member storage m = _existing(account);
        _countCouncil(m, -1);
        _;
        _countCouncil(m, 1);
        _checkThreshold(_parameters[THRESHOLD]);
    }

    /// @param trustedForwarder The ERC-2771 forwarder that may relay members' signed requests.
    /// @param bootstrap The founding members with their prefixes.
    /// @param threshold Approvals a proposal needs (at least {MIN_THRESHOLD}).
    constructor(address trustedForwarder, BootstrapMember[] memory bootstrap, uint16 threshold)
        ERC2771Context(trustedForwarder)
    {
        _accounts.push(address(0));
        for (uint256 i; i < bootstrap.length; ++i) {
            BootstrapMember memory m = bootstrap[i];
            _addMember(m.account, m.gln, m.roles, m.licenceExpiry);
            for (uint256 j; j < m.prefixes.length; ++j) {
                _assignPrefix(m.prefixes[j], m.account);
            }
        }
        _setParameter(THRESHOLD, threshold);
        _setParameter(UNDO_WINDOW, 10 days);
        _setParameter(PROPOSAL_LIFETIME, 7 days);
    }

    // ---------------------------------------------------------------- proposals

    /// @notice Proposes `data`, a call on this contract, and approves it as the proposer.
    /// @dev Requirements:
    /// - the caller is an active council member, licensed unless `data` renews a licence.
    /// @return id The proposal id.
    function propose(bytes calldata data) external returns (uint256 id) {
        address proposer = _msgSender();
        _requireCouncil(proposer, _isRenewal(data));
        id = _proposals.length;
        uint40 deadline = uint40(block.timestamp + _parameters[PROPOSAL_LIFETIME]);
        _proposals.push(Proposal(proposer, deadline, 0, false, false, data));
        emit ProposalCreated(id, proposer, data, deadline);
        _approve(id, proposer);
    }

    /// @notice Approves proposal `id`; runs it when the approvals that count reach the threshold.
    /// @dev Requirements:
    /// - the caller is an active council member, licensed unless the proposal renews a
    ///   licence, that has not approved `id` yet;
    /// - the proposal exists, has not run, is not cancelled, and its deadline has not passed;
    /// - when it runs, the proposed call succeeds (its error is passed on otherwise).
    function approve(uint256 id) external {
        address approver = _msgSender();
        if (id >= _proposals.length) revert ConsortiumUnknownProposal(id);
        _requireCouncil(approver, _isRenewal(_proposals[id].data));
        _approve(id, approver);
    }

    /// @notice Cancels proposal `id`.
    /// @dev Requirements:
    /// - the caller is the proposer, still a member's key (not rotated away, see
    ///   {rotateMemberKey}), or the council through an approved proposal;
    /// - the proposal exists, has not run and is not cancelled.
    function cancel(uint256 id) external {
        address caller = msg.sender == address(this) ? address(this) : _msgSender();
        Proposal storage p = _open(id);
        if (caller != address(this)) {
            if (caller != p.proposer) revert ConsortiumNotProposer(id, caller);
            if (_members[caller].status == MemberStatus.NONE) revert ConsortiumNotMember(caller);
        }
        p.cancelled = true;
        emit ProposalCancelled(id, caller);
    }

    /// @notice Returns proposal `id`.
    function proposal(uint256 id) external view returns (Proposal memory) {
        if (id >= _proposals.length) revert ConsortiumUnknownProposal(id);
        return _proposals[id];
    }

    /// @notice Returns how many proposals were made.
    function proposalCount() external view returns (uint256) {
        return _proposals.length;
    }

    /// @notice Returns true when `account` approved proposal `id`.
    function hasApproved(uint256 id, address account) external view returns (bool) {
        return _approved[id][account];
    }

    /// @notice Returns how many of proposal `id`'s approvals count now (see {approve}).
    function countedApprovals(uint256 id) public view returns (uint256 count) {
        if (id >= _proposals.length) revert ConsortiumUnknownProposal(id);
        bool renewal = _isRenewal(_proposals[id].data);
        address[] storage approvers = _approvers[id];
        for (uint256 i; i < approvers.length; ++i) {
            if (_countsAsCouncil(approvers[i], renewal)) ++count;
        }
    }

    // ---------------------------------------------------------------- members' own data

    /// @notice Publishes the URL of the caller's gateway, where partners query its EPCIS
    /// events and fetch its transaction information; replaces the one published before.
    /// @dev Requirements:
    /// - the caller is an active, licensed member (any role): a suspended or revoked member's
    ///   last URL stays readable, so its past events can still be asked for, but cannot change;
    /// - `url` starts with `https://` or `http://` and is at most {MAX_GATEWAY_URL_LENGTH} bytes.
    function setGatewayUrl(string calldata url) external {
        address caller = _msgSender();
        uint32 index = requireMember(caller, Roles.ALL);
        if (!_isHttpUrl(bytes(url))) revert ConsortiumInvalidGatewayUrl(url);
        _gatewayUrls[index] = url;
        emit GatewayUrlSet(caller, index, url);
    }

    // ---------------------------------------------------------------- governed changes

    /// @notice Adds an active member.
    /// @dev Requirements: called through an approved proposal; `account` is new and not zero;
    /// `roles` is a non-empty set of known roles; fewer than {MAX_MEMBERS} members were added.
    function addMember(address account, uint64 gln_, uint16 roles, uint40 licenceExpiry) external onlyByProposal {
        _addMember(account, gln_, roles, licenceExpiry);
        _checkThreshold(_parameters[THRESHOLD]);
    }

    /// @notice Sets the status of member `account` (suspend, reactivate, revoke).
    /// @dev Requirements: called through an approved proposal; `account` is a member; the
    /// status is not NONE; the council can still reach the threshold afterwards.
    function setMemberStatus(address account, MemberStatus status)
        external
        onlyByProposal
        recountsCouncil(account)
    {
        if (status == MemberStatus.NONE) revert ConsortiumInvalidMember(account);
        _members[account].status = status;
        emit MemberStatusChanged(account, status);
    }

    /// @notice Replaces the roles of member `account`.
    /// @dev Requirements: called through an approved proposal; `account` is a member; `roles`
    /// is a non-empty set of known roles; the council can still reach the threshold afterwards.
    function setMemberRoles(address account, uint16 roles) external onlyByProposal recountsCouncil(account) {
        _checkRoles(roles);
        _members[account].roles = roles;
        emit MemberRolesChanged(account, roles);
    }

    /// @notice Sets when the licence of member `account` expires.
    /// @dev Requirements: called through an approved proposal; `account` is a member.
    function setLicenceExpiry(address account, uint40 licenceExpiry) external onlyByProposal {
        _existing(account).licenceExpiry = licenceExpiry;
        emit MemberLicenceChanged(account, licenceExpiry);
    }

    /// @notice Moves member `account` to a new key, `newAccount`: its index (and so every record
    /// it created, holds or has in transit to it), roles, status, licence, GLN and company
    /// prefixes go with it; `account` is no member afterwards and can do nothing more.
    /// @dev Approvals `account` gave to open proposals stop counting (`newAccount` may approve
    /// them again); its open proposals can be cancelled by the council only.
    /// Requirements: called through an approved proposal; `account` is a member; `newAccount`
    /// is not zero and is no member.
    function rotateMemberKey(address account, address newAccount) external onlyByProposal {
        Member memory m = _existing(account);
        if (newAccount == address(0)) revert ConsortiumInvalidMember(newAccount);
        if (_members[newAccount].status != MemberStatus.NONE) revert ConsortiumMemberExists(newAccount);
        m.account = newAccount;
        _members[newAccount] = m;
        delete _members[account];
        _glns[newAccount] = _glns[account];
        delete _glns[account];
        _accounts[m.index] = newAccount;
        emit MemberKeyRotated(account, newAccount, m.index);
    }

    /// @notice Assigns GS1 company prefix `prefix` to member `account`.
    /// @dev Requirements: called through an approved proposal; `prefix` is 4 to 12 digits; no
    /// prefix is assigned that equals it, starts it or starts with it (GS1 company prefixes
    /// never overlap); `account` is a member.
    function assignPrefix(string calldata prefix, address account) external onlyByProposal {
        _existing(account);
        _assignPrefix(prefix, account);
    }

    /// @notice Takes GS1 company prefix `prefix` back from its owner.
    /// @dev Requirements: called through an approved proposal; `prefix` is assigned.
    function revokePrefix(string calldata prefix) external onlyByProposal {
        bytes32 key = keccak256(bytes(prefix));
        uint32 owner = _prefixOwners[key];
        if (owner == 0) revert ConsortiumPrefixNotAssigned(prefix);
        delete _prefixOwners[key];
        _countHeads(bytes(prefix), false);
        emit PrefixRevoked(prefix, _accounts[owner]);
    }

    /// @notice Calls `target` with `data` as the council, e.g. the registry's council-level
    /// reversal of a mistaken regulator action.
    /// @dev Requirements: called through an approved proposal; the call succeeds (its error is
    /// passed on otherwise).
    function callAsCouncil(address target, bytes calldata data) external onlyByProposal {
        (bool ok, bytes memory result) = target.call(data);
        if (!ok) _bubble(result);
    }

    /// @notice Sets protocol parameter `key` (THRESHOLD, UNDO_WINDOW or PROPOSAL_LIFETIME).
    /// @dev Requirements: called through an approved proposal; the key is known; a threshold is
    /// at least {MIN_THRESHOLD} and at most the council size; windows are 1 hour to 365 days.
    function setParameter(bytes32 key, uint256 value) external onlyByProposal {
        _setParameter(key, value);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IConsortium
    function member(address account) external view returns (Member memory) {
        return _members[account];
    }

    /// @notice Returns the GS1 Global Location Number of member `account`.
    function gln(address account) external view returns (uint64) {
        return _glns[account];
    }

    /// @notice Returns the gateway URL member `account` published (empty when none).
    function gatewayUrl(address account) external view returns (string memory) {
        uint32 index = _members[account].index;
        return index == 0 ? "" : _gatewayUrls[index];
    }

    /// @inheritdoc IConsortium
    function requireMember(address account, uint16 anyOfRoles) public view returns (uint32) {
        Member memory m = _members[account];
        if (m.status == MemberStatus.NONE) revert ConsortiumNotMember(account);
        if (m.status != MemberStatus.ACTIVE) revert ConsortiumMemberNotActive(account, m.status);
        if (m.licenceExpiry <= block.timestamp) revert ConsortiumLicenceExpired(account, m.licenceExpiry);
        if (m.roles & anyOfRoles == 0) revert ConsortiumMissingRole(account, anyOfRoles, m.roles);
        return m.index;
    }

    /// @inheritdoc IConsortium
    function accountAt(uint32 index) external view returns (address) {
        return index < _accounts.length ? _accounts[index] : address(0);
    }

    /// @notice Returns the number of members ever added.
    function memberCount() external view returns (uint256) {
        return _accounts.length - 1;
    }

    /// @notice Returns the number of active council members.
    function councilSize() external view returns (uint256) {
        return _councilSize;
    }

    /// @inheritdoc IConsortium
    function prefixOwner(string calldata code) external view returns (address) {
        return _accounts[prefixOwnerIndex(code)];
    }

    /// @inheritdoc IConsortium
    function prefixOwnerIndex(string calldata code) public view returns (uint32) {
        uint256 codeLength = bytes(code).length;
        if (codeLength != 14 && codeLength != 18) return 0;
        for (uint256 length = MAX_PREFIX_LENGTH; length >= MIN_PREFIX_LENGTH; --length) {
            uint32 owner = _prefixOwners[keccak256(bytes(code[1:1 + length]))];
            if (owner != 0) return owner;
        }
        return 0;
    }

    /// @inheritdoc IConsortium
    function parameter(bytes32 key) external view returns (uint256) {
        return _parameters[key];
    }

    // ---------------------------------------------------------------- internals

    function _approve(uint256 id, address approver) private {
        Proposal storage p = _open(id);
        if (block.timestamp > p.deadline) revert ConsortiumProposalExpired(id, p.deadline);
        if (_approved[id][approver]) revert ConsortiumAlreadyApproved(id, approver);
        _approved[id][approver] = true;
        _approvers[id].push(approver);
        uint16 approvals = p.approvals + 1;
        p.approvals = approvals;
        emit ProposalApproved(id, approver, approvals);
        if (countedApprovals(id) >= _parameters[THRESHOLD]) {
            p.executed = true;
            (bool ok, bytes memory result) = address(this).call(p.data);
            if (!ok) _bubble(result);
            emit ProposalExecuted(id);
        }
    }

    /// @dev Returns proposal `id` if it exists and is still open (not run, not cancelled).
    function _open(uint256 id) private view returns (Proposal storage p) {
        if (id >= _proposals.length) revert ConsortiumUnknownProposal(id);
        p = _proposals[id];
        if (p.executed || p.cancelled) revert ConsortiumProposalClosed(id);
    }

    /// @dev True when proposal data `data` is a call of {setLicenceExpiry}.
    function _isRenewal(bytes memory data) private pure returns (bool) {
        return data.length >= 4 && bytes4(data) == this.setLicenceExpiry.selector;
    }

    /// @dev Reverts unless `account` is an active council member, licensed unless `renewal`.
    function _requireCouncil(address account, bool renewal) private view {
        if (!renewal) {
            requireMember(account, Roles.COUNCIL);
            return;
        }
        Member memory m = _members[account];
        if (m.status == MemberStatus.NONE) revert ConsortiumNotMember(account);
        if (m.status != MemberStatus.ACTIVE) revert ConsortiumMemberNotActive(account, m.status);
        if (m.roles & Roles.COUNCIL == 0) revert ConsortiumMissingRole(account, Roles.COUNCIL, m.roles);
    }

    /// @dev True when `account` is now an active council member, licensed unless `renewal`.
    function _countsAsCouncil(address account, bool renewal) private view returns (bool) {
        Member memory m = _members[account];
        return m.status == MemberStatus.ACTIVE && m.roles & Roles.COUNCIL != 0
            && (renewal || m.licenceExpiry > block.timestamp);
    }

    function _bubble(bytes memory result) private pure {
        assembly ("memory-safe") {
            revert(add(result, 32), mload(result))
        }
    }

    function _addMember(address account, uint64 gln_, uint16 roles, uint40 licenceExpiry) private {
        if (account == address(0)) revert ConsortiumInvalidMember(account);
        if (_members[account].status != MemberStatus.NONE) revert ConsortiumMemberExists(account);
        _checkRoles(roles);
        if (_accounts.length > MAX_MEMBERS) revert ConsortiumFull(account, MAX_MEMBERS);
        uint32 index = uint32(_accounts.length);
        _accounts.push(account);
        Member storage m = _members[account];
        (m.account, m.index, m.roles, m.status, m.licenceExpiry) =
            (account, index, roles, MemberStatus.ACTIVE, licenceExpiry);
        _glns[account] = gln_;
        _countCouncil(m, 1);
        emit MemberAdded(account, index, gln_, roles, licenceExpiry);
    }

    function _assignPrefix(string memory prefix, address account) private {
        bytes memory digits = bytes(prefix);
        if (digits.length < MIN_PREFIX_LENGTH || digits.length > MAX_PREFIX_LENGTH) {
            revert ConsortiumInvalidPrefix(prefix);
        }
        for (uint256 i; i < digits.length; ++i) {
            if (digits[i] < "0" || digits[i] > "9") revert ConsortiumInvalidPrefix(prefix);
        }
        for (uint256 length = MIN_PREFIX_LENGTH; length <= digits.length; ++length) {
            bytes memory head = _head(digits, length);
            uint32 owner = _prefixOwners[keccak256(head)];
            if (owner != 0) revert ConsortiumPrefixTaken(string(head), _accounts[owner]);
        }
        if (_longerPrefixes[keccak256(digits)] != 0) revert ConsortiumPrefixOverlaps(prefix);
        _prefixOwners[keccak256(digits)] = _members[account].index;
        _countHeads(digits, true);
        emit PrefixAssigned(prefix, account);
    }

    /// @dev Counts `digits` as a longer prefix under each of its proper heads (or uncounts it).
    function _countHeads(bytes memory digits, bool add) private {
        for (uint256 length = MIN_PREFIX_LENGTH; length < digits.length; ++length) {
            bytes32 key = keccak256(_head(digits, length));
            _longerPrefixes[key] = add ? _longerPrefixes[key] + 1 : _longerPrefixes[key] - 1;
        }
    }

    /// @dev True when `url` is `http://` or `https://` and more, within the length limit.
    function _isHttpUrl(bytes calldata url) private pure returns (bool) {
        if (url.length > MAX_GATEWAY_URL_LENGTH) return false;
        if (url.length > 8 && bytes8(url[:8]) == "https://") return true;
        return url.length > 7 && bytes7(url[:7]) == "http://";
    }

    function _head(bytes memory digits, uint256 length) private pure returns (bytes memory head) {
        head = new bytes(length);
        for (uint256 i; i < length; ++i) {
            head[i] = digits[i];
        }
    }

    function _setParameter(bytes32 key, uint256 value) private {
        if (key == THRESHOLD) {
            _checkThreshold(value);
        } else if (key == UNDO_WINDOW || key == PROPOSAL_LIFETIME) {
            if (value < 1 hours || value > 365 days) revert ConsortiumInvalidParameter(key, value);
        } else {
            revert ConsortiumUnknownParameter(key);
        }
        _parameters[key] = value;
        emit ParameterChanged(key, value);
    }

    function _checkThreshold(uint256 threshold) private view {
        if (threshold < MIN_THRESHOLD || threshold > _councilSize) {
            revert ConsortiumThresholdUnreachable(threshold, _councilSize);
        }
    }

    function _checkRoles(uint16 roles) private pure {
        if (roles == 0 || roles & ~Roles.ALL != 0) revert ConsortiumInvalidRoles(roles);
    }

    function _existing(address account) private view returns (Member storage m) {
        m = _members[account];
        if (m.status == MemberStatus.NONE) revert ConsortiumNotMember(account);
    }

    function _countCouncil(Member storage m, int256 delta) private {
        if (m.status != MemberStatus.ACTIVE || m.roles & Roles.COUNCIL == 0) return;
        _councilSize = delta > 0 ? _councilSize + 1 : _councilSize - 1;
    }
}
