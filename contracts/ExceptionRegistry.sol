// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ERC2771Context} from "@openzeppelin/contracts/metatx/ERC2771Context.sol";
import {IConsortium} from "./interfaces/IConsortium.sol";
import {IExceptionRegistry} from "./interfaces/IExceptionRegistry.sol";
import {Roles} from "./libraries/Roles.sol";

/// @title ExceptionRegistry
/// @notice Exceptions between trading partners, each step by the right party only: a
/// supply-chain member opens one against another (the counterparty), the counterparty answers
/// it once, and the opener resolves it (accepting the answer, or withdrawing it before one);
/// the council (a passed proposal of `Consortium.callAsCouncil`) may close any exception that
/// is not resolved, and so may two regulators: the first asks for the closure, the second's
/// call closes it (no single key settles another member's dispute). The same claim (opener, counterparty, kind, items) is open
/// once at most: opening it again before its resolution names the open one. Parties are kept by member index, so an exception follows
/// both through key rotations. The chain keeps the hashes, never the items or documents
/// themselves: which items, and the evidence, stay with the partners.
contract ExceptionRegistry is IExceptionRegistry, ERC2771Context {
    IConsortium private immutable _consortium;
    uint256 private _count;
    mapping(uint256 id => Record) private _records;
    /// @dev The open (unresolved) exception of each claim, see {_claim}.
    mapping(bytes32 claim => uint256 id) private _openClaims;

    /// @param trustedForwarder The ERC-2771 forwarder that may relay members' signed requests.
    /// @param consortium_ The consortium whose members, regulators and council act.
    constructor(address trustedForwarder, IConsortium consortium_) ERC2771Context(trustedForwarder) {
        _consortium = consortium_;
    }

    /// @inheritdoc IExceptionRegistry
    /// @dev Requirements:
    /// - the caller is an active, licensed supply-chain member;
    /// - `kind` is not NONE and `itemsHash` is not zero;
    /// - `counterparty` is a member (of any status) with a supply-chain role, not the caller;
    /// - the caller has no unresolved exception of `kind` against `counterparty` about the same
    ///   items.
    function openException(address counterparty, ExceptionKind kind, bytes32 itemsHash, bytes32 evidenceHash)
        external
        returns (uint256 id)
    {
        address caller = _msgSender();
        uint32 me = _consortium.requireMember(caller, Roles.SUPPLY_CHAIN);
        if (kind == ExceptionKind.NONE) revert ExceptionRegistryInvalidKind(uint8(kind));
        if (itemsHash == 0) revert ExceptionRegistryNoItems();
        IConsortium.Member memory other = _consortium.member(counterparty);
        if (other.index == 0 || other.index == me || other.roles & Roles.SUPPLY_CHAIN == 0) {
            revert ExceptionRegistryInvalidCounterparty(counterparty);
        }
        bytes32 claim = _claim(me, other.index, kind, itemsHash);
        uint256 open = _openClaims[claim];
        if (open != 0) revert ExceptionRegistryAlreadyOpen(open);
        // Ids count the exceptions opened, each of which costs over 100,000 gas: never near 2**256.
        unchecked {
            id = ++_count;
        }
        _openClaims[claim] = id;
        _records[id] = Record(
            me,
            other.index,
            kind,
            ExceptionStatus.OPEN,
            Resolver.NONE,
            uint40(block.timestamp),
            0,
            0,
            0,
            itemsHash,
            evidenceHash
        );
        emit ExceptionOpened(id, caller, counterparty, kind, itemsHash, evidenceHash);
    }

    /// @inheritdoc IExceptionRegistry
    /// @dev Requirements:
    /// - the caller is an active, licensed member, the exception's counterparty;
    /// - the exception exists and is OPEN (answered once only, never after its resolution).
    function answerException(uint256 id, bytes32 evidenceHash) external {
        address caller = _msgSender();
        uint32 me = _consortium.requireMember(caller, Roles.ALL);
        Record storage r = _existing(id);
        if (r.counterparty != me) revert ExceptionRegistryNotCounterparty(id, caller);
        if (r.status != ExceptionStatus.OPEN) revert ExceptionRegistryNotOpen(id, r.status);
        (r.status, r.answeredAt) = (ExceptionStatus.ANSWERED, uint40(block.timestamp));
        emit ExceptionAnswered(id, caller, evidenceHash);
    }

    /// @inheritdoc IExceptionRegistry
    /// @dev Requirements:
    /// - the caller is the council, or an active, licensed member that opened the exception or
    ///   holds the REGULATOR role;
    /// - the exception exists and is not RESOLVED;
    /// - a regulator that did not open it closes it only after another regulator, still an
    ///   active, licensed one, asked for the closure: otherwise its call is that request
    ///   (`ExceptionClosureRequested`), and asking twice reverts.
    function resolveException(uint256 id, bytes32 evidenceHash) external {
        address caller = _msgSender();
        Record storage r = _existing(id);
        Resolver by = Resolver.COUNCIL;
        uint32 me;
        if (caller != address(_consortium)) {
            me = _consortium.requireMember(caller, Roles.ALL);
            if (me == r.opener) {
                by = Resolver.OPENER;
            } else if (_consortium.member(caller).roles & Roles.REGULATOR != 0) {
                by = Resolver.REGULATOR;
            } else {
                revert ExceptionRegistryNotOpener(id, caller);
            }
        }
        if (r.status == ExceptionStatus.RESOLVED) revert ExceptionRegistryAlreadyResolved(id);
        if (by == Resolver.REGULATOR) {
            uint32 requester = r.closeRequestedBy;
            if (requester == me) revert ExceptionRegistryClosureAlreadyRequested(id, caller);
            // A request counts only while its regulator still is one: otherwise this is a new one.
            if (requester == 0 || !_isRegulator(requester)) {
                r.closeRequestedBy = me;
                emit ExceptionClosureRequested(id, caller, evidenceHash);
                return;
            }
        }
        (r.status, r.resolvedBy, r.resolvedAt) = (ExceptionStatus.RESOLVED, by, uint40(block.timestamp));
        delete _openClaims[_claim(r.opener, r.counterparty, r.kind, r.itemsHash)];
        emit ExceptionResolved(id, caller, by, evidenceHash);
    }

    /// @inheritdoc IExceptionRegistry
    function exceptionRecord(uint256 id) external view returns (ExceptionView memory) {
        Record memory r = _records[id];
        return ExceptionView(
            _consortium.accountAt(r.opener),
            _consortium.accountAt(r.counterparty),
            r.kind,
            r.status,
            r.resolvedBy,
            r.openedAt,
            r.answeredAt,
            r.resolvedAt,
            r.itemsHash,
            r.evidenceHash
        );
    }

    /// @inheritdoc IExceptionRegistry
    function exceptionCount() external view returns (uint256) {
        return _count;
    }

    /// @notice Returns the consortium this registry answers to.
    function consortium() external view returns (IConsortium) {
        return _consortium;
    }

    /// @dev What makes two exceptions the same claim.
    function _claim(uint32 opener, uint32 counterparty, ExceptionKind kind, bytes32 itemsHash)
        private
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(opener, counterparty, kind, itemsHash));
    }

    function _isRegulator(uint32 index) private view returns (bool) {
        IConsortium.Member memory m = _consortium.member(_consortium.accountAt(index));
        return m.status == IConsortium.MemberStatus.ACTIVE && m.roles & Roles.REGULATOR != 0
            && m.licenceExpiry > block.timestamp;
    }

    function _existing(uint256 id) private view returns (Record storage r) {
        r = _records[id];
        if (r.status == ExceptionStatus.NONE) revert ExceptionRegistryUnknownException(id);
    }
}
