"""Say what a contract's refusal means in the user's terms, and what to do about it.

A :class:`LedgerRevertError` carries what the contract saw: 32-byte ids, role bitmasks,
addresses, enum numbers. :func:`explain` maps them back to what the user gave (the GS1 codes
of the batch, through a map built by :func:`code_map`), to role and member names, and adds
a hint from :data:`HINTS`, which has an entry for every custom error of the contracts.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from functools import cache
from typing import Any

from eth_utils import to_checksum_address

from ledger_client._paths import ARTIFACTS_DIR
from ledger_client.contracts import MemberStatus, Role
from ledger_client.errors import DuplicateInBatchError
from ledger_client.ids import lot_hash, pack_hash, record_id, unit_hash
from ledger_client.owners import CodeOwners
from ledger_client.reverts import LedgerRevertError
from ledger_client.types import (
    Authority,
    DecommissionReason,
    ExceptionKind,
    ExceptionStatus,
    GrantAuthority,
    LotStatus,
    PackFlag,
)

__all__ = ["HINTS", "Refusal", "code_map", "explain", "lot_label", "pack_label", "unit_label"]

#: What :func:`explain` words: a contract's revert, or the client's own duplicate check.
Refusal = LedgerRevertError | DuplicateInBatchError

_RELAY_VALUE = "RxLedger requests carry no value: send 0"

#: Error name -> (what happened, what to do): templates over the error's rendered arguments.
HINTS: dict[str, tuple[str, str]] = {
    # Consortium
    "ConsortiumOnlyByProposal": (
        "{caller} called a function that only a council proposal may call",
        "Propose the change with `rxledger council propose` and have the council approve it",
    ),
    "ConsortiumNotMember": (
        "{account} is not a member of the consortium",
        "Check the address or member name; the council adds members with a proposal (addMember)",
    ),
    "ConsortiumMemberNotActive": (
        "{account} is {status}, not active",
        "A suspended or revoked member neither acts nor receives; the council can restore it "
        "(setMemberStatus)",
    ),
    "ConsortiumLicenceExpired": (
        "the licence of {account} expired on {licenceExpiry}",
        "The council renews licences with a proposal (setLicenceExpiry); council members whose "
        "licence lapsed may still propose and approve renewals",
    ),
    "ConsortiumMissingRole": (
        "{account} holds {roles}, but this step needs {required}",
        "Act as (or ship to) a member that has the role, or ask the council to change its "
        "roles (setMemberRoles)",
    ),
    "ConsortiumMemberExists": (
        "{account} is a member already",
        "Change its status or roles instead of adding it again",
    ),
    "ConsortiumFull": (
        "the consortium has admitted its {maxMembers} members: member indices fit 24 bits",
        "No member can be added; a key rotation (rotateMemberKey) keeps a member's index",
    ),
    "ConsortiumInvalidMember": (
        "{account} cannot be given that membership (zero address, or status NONE)",
        "Give a real account and a status ACTIVE, SUSPENDED or REVOKED",
    ),
    "ConsortiumInvalidRoles": (
        "{roles} is not a valid set of roles",
        "Give at least one of " + ", ".join(r.name or "" for r in Role),
    ),
    "ConsortiumInvalidPrefix": (
        "GS1 company prefix {prefix!r} is not 4 to 12 digits",
        "Give the prefix as GS1 assigned it, digits only",
    ),
    "ConsortiumPrefixTaken": (
        "GS1 company prefix {prefix} belongs to {owner} already",
        "Check the prefix, or have the council revoke it first (revokePrefix)",
    ),
    "ConsortiumPrefixOverlaps": (
        "a longer GS1 company prefix starting with {prefix} is assigned already",
        "Revoke the longer prefix first, or assign the longer one instead",
    ),
    "ConsortiumPrefixNotAssigned": (
        "GS1 company prefix {prefix} belongs to nobody",
        "Check the prefix: there is nothing to revoke",
    ),
    "ConsortiumUnknownParameter": (
        "{key} is not a consortium parameter",
        "Use THRESHOLD, UNDO_WINDOW or PROPOSAL_LIFETIME",
    ),
    "ConsortiumInvalidParameter": (
        "{value} is out of range for {key}",
        "UNDO_WINDOW and PROPOSAL_LIFETIME take seconds from 3600 (1 hour) to 31536000 (365 days)",
    ),
    "ConsortiumThresholdUnreachable": (
        "a threshold of {threshold} approvals cannot work with {councilSize} council members",
        "Choose at least 2 and at most the council size, or add council members first",
    ),
    "ConsortiumUnknownProposal": (
        "there is no proposal {id}",
        "Use the number `rxledger council propose` printed",
    ),
    "ConsortiumProposalClosed": (
        "proposal {id} was executed or cancelled already",
        "Nothing to approve or cancel; propose again for a new change",
    ),
    "ConsortiumProposalExpired": (
        "proposal {id} expired on {deadline}",
        "Propose the change again",
    ),
    "ConsortiumAlreadyApproved": (
        "{approver} approved proposal {id} already",
        "Another council member has to approve it",
    ),
    "ConsortiumNotProposer": (
        "{caller} did not make proposal {id}",
        "Only its proposer cancels a proposal directly; the council cancels any proposal with "
        "one of its own: `rxledger council propose cancel '[ID]'`",
    ),
    "ConsortiumInvalidGatewayUrl": (
        "{url!r} is not a gateway URL",
        "Give an http:// or https:// URL of at most 256 bytes",
    ),
    # ProductDirectory
    "ProductDirectoryInvalidGtin": (
        "{gtin14!r} is not a valid GTIN-14",
        "Give 14 digits with a correct check digit",
    ),
    "ProductDirectoryNotPrefixOwner": (
        "GTIN {gtin14} is under the GS1 company prefix of {owner}, not of {caller}",
        "Only the prefix owner publishes its products: act as that member, or have the council "
        "assign the prefix (assignPrefix)",
    ),
    "ProductDirectoryMissingName": (
        "product {gtin14} has no name",
        "Give the product's name",
    ),
    # AccessGrants
    "AccessGrantsUnknownLot": (
        "{lotId} is not registered",
        "Check the GTIN and lot number: grants name a registered lot of its owner",
    ),
    "AccessGrantsNotLotOwner": (
        "{caller} does not own {lotId}",
        "Only the lot's owner grants and revokes access to it, or the council with "
        "`rxledger grant add|revoke ... --council`",
    ),
    "AccessGrantsInvalidGrantee": (
        "{grantee} is not an active, licensed auditor",
        "Grant to a member with the AUDITOR role (holders and regulators read without one); "
        "the council gives roles with setMemberRoles",
    ),
    "AccessGrantsInvalidExpiry": (
        "the expiry {expiresAt} is not later than the chain's time {blockTime}",
        "Give a later --until, or none for a grant until revoked",
    ),
    "AccessGrantsUnchanged": (
        "{grantee} holds this grant on {lotId} already, with the same expiry",
        "Nothing to do; give another --until to change its expiry",
    ),
    "AccessGrantsNotGranted": (
        "{grantee} holds no grant on {lotId}",
        "Nothing to revoke: `rxledger grant list GTIN LOT` shows the lot's grants",
    ),
    "AccessGrantsAuthorityTooLow": (
        "the grant of {grantee} on {lotId} was made by the {grantedBy}",
        "Only the council changes or revokes a council's grant: propose it with --council",
    ),
    # ExceptionRegistry
    "ExceptionRegistryInvalidKind": (
        "{kind} is no exception kind",
        "Give one of " + ", ".join(k.name.lower() for k in ExceptionKind if k),
    ),
    "ExceptionRegistryNoItems": (
        "the exception names no items",
        "Give the packs and SSCCs it is about",
    ),
    "ExceptionRegistryInvalidCounterparty": (
        "{counterparty} cannot be the counterparty",
        "An exception is against another member with a supply-chain role (it may be "
        "suspended): not yourself, a regulator or an auditor",
    ),
    "ExceptionRegistryAlreadyOpen": (
        "the same exception (you, the counterparty, the kind, the items) is open already as "
        "exception {id}",
        "Follow that one up (`rxledger exception show`); once it is resolved it may be "
        "opened again",
    ),
    "ExceptionRegistryUnknownException": (
        "there is no exception {id}",
        "Check the id (`rxledger exception show`)",
    ),
    "ExceptionRegistryNotCounterparty": (
        "{caller} is not the counterparty of exception {id}",
        "Only the member the exception was opened against answers it",
    ),
    "ExceptionRegistryNotOpener": (
        "{caller} neither opened exception {id} nor is a regulator",
        "Its opener resolves it; two regulators (one asks, a second closes) or the council "
        "(--council) close it",
    ),
    "ExceptionRegistryNotOpen": (
        "exception {id} is {status}, not open",
        "An exception is answered once, and not after its resolution",
    ),
    "ExceptionRegistryAlreadyResolved": (
        "exception {id} is resolved already",
        "Open a new exception if the problem came back",
    ),
    "ExceptionRegistryClosureAlreadyRequested": (
        "{caller} asked for the closure of exception {id} already",
        "A second regulator's resolve closes it, or the council's (--council)",
    ),
    # SerialRegistry
    "SerialRegistryEmptyBatch": (
        "the batch is empty",
        "Give at least one code",
    ),
    "SerialRegistryUnknownLot": (
        "{lotId} is not registered",
        "Register it first: `rxledger lot register GTIN LOT EXPIRY` (a member commissions only "
        "into its own lots). A lot whose owner keys its lots is found by number only with the "
        "owner's lot key (`--lot-keys FILE`), or through one of its packs (`--pack SERIAL`)",
    ),
    "SerialRegistryLotExists": (
        "{lotId} is registered already",
        "Nothing to do: a lot is registered once",
    ),
    "SerialRegistryInvalidExpiry": (
        "expiry {expiry} is not a date",
        "Give the expiry as YYMMDD (day 00 is the end of the month)",
    ),
    "SerialRegistryLotNotActive": (
        "{lotId} is {status}",
        "A quarantined or recalled lot takes no new packs and nothing of it is sold; whoever "
        "quarantined it (the lot owner, a regulator, the council) or a higher authority "
        "releases it with `rxledger lot status GTIN LOT active`; only the council restores a "
        "recalled lot",
    ),
    "SerialRegistryInvalidLotStatus": (
        "{lotId} cannot go from {from} to {to}",
        "Only the council changes a recalled lot (a proposal of callAsCouncil); otherwise "
        "choose a status the lot does not have (a quarantine is taken over only by a higher "
        "authority)",
    ),
    "SerialRegistryUnknownPack": (
        "{packId} is not on the ledger",
        "Check the code, or commission the pack first",
    ),
    "SerialRegistryPackExists": (
        "{packId} is commissioned already",
        "A serial is commissioned once: remove it from the file",
    ),
    "SerialRegistryUnknownUnit": (
        "{unitId} is not on the ledger",
        "Check the SSCC: a case or pallet exists once something is packed into it",
    ),
    "SerialRegistryUnitDissolved": (
        "{unitId} was unpacked",
        "Move its contents instead, or pack them into a new SSCC",
    ),
    "SerialRegistryNotCustodian": (
        "{caller} does not hold {id}",
        "Only the member holding an item moves it; `rxledger verify` shows who holds a pack",
    ),
    "SerialRegistryInTransit": (
        "{id} is in transit",
        "Its recipient has to receive it first (`rxledger receive`)",
    ),
    "SerialRegistryNotInTransit": (
        "{id} is not in transit",
        "It was received, cancelled or reported lost already, or never shipped itself (a "
        "pack travels with its case or pallet: name the unit)",
    ),
    "SerialRegistryNotRecipient": (
        "{id} was shipped to another member, not to {caller}",
        "Only its recipient receives it",
    ),
    "SerialRegistryNotSender": (
        "{caller} did not ship {id}",
        "Only its sender cancels a shipment or reports it lost or found; its recipient may "
        "refuse it (`rxledger refuse`)",
    ),
    "SerialRegistryNotShippedTo": (
        "{id} is not on its way to {recipient}",
        "Name the member it was shipped to (`rxledger verify` shows it)",
    ),
    "SerialRegistryNotShippedBy": (
        "{id} was not shipped by {sender}",
        "Name the member that shipped it (--from)",
    ),
    "SerialRegistryLost": (
        "{id} is reported lost in transit",
        "Its sender reports it found first (`rxledger found`)",
    ),
    "SerialRegistryNotLost": (
        "{id} is not reported lost",
        "Only a lost shipment is reported found",
    ),
    "SerialRegistryStillPacked": (
        "{id} is still inside a case or pallet",
        "Unpack the case or pallet holding it first (`rxledger unpack SSCC`), "
        "or move that whole unit",
    ),
    "SerialRegistryNotInUnit": (
        "{id} is not inside {unitId}",
        "Take out only what that unit holds",
    ),
    "SerialRegistryNestingTooDeep": (
        "packing into {unitId} would nest units {level} levels deep",
        "Units nest at most 4 levels: pack fewer levels",
    ),
    "SerialRegistrySelfNesting": (
        "{unitId} would end up inside itself",
        "Do not pack a unit into itself or into a unit it holds",
    ),
    "SerialRegistryShipToSelf": (
        "{member} cannot ship to itself",
        "Give another member with --to",
    ),
    "SerialRegistryPackDecommissioned": (
        "{packId} is decommissioned ({reason})",
        "A decommissioned pack does not move; its decommissioner can undo a mistake within "
        "the undo window (`rxledger undo`)",
    ),
    "SerialRegistryPackNotDecommissioned": (
        "{packId} is not decommissioned",
        "Nothing to undo",
    ),
    "SerialRegistryInvalidReason": (
        "decommission reason {reason} is not valid",
        "Give one of " + ", ".join(r.name.lower() for r in DecommissionReason if r.value),
    ),
    "SerialRegistryPackFlagged": (
        "{packId} is flagged {flags}",
        "A flagged pack is only decommissioned as destroyed or stolen; whoever raised the flag "
        "(the lot owner, a regulator, the council) or a higher authority clears it after "
        "investigation",
    ),
    "SerialRegistryPackExpired": (
        "{packId} expired on {expiresAt}",
        "An expired pack is only decommissioned as destroyed or stolen",
    ),
    "SerialRegistryNotDecommissioner": (
        "{packId} was decommissioned by another member, not by {caller}",
        "Only the member that decommissioned a pack undoes it",
    ),
    "SerialRegistryUndoNotAllowed": (
        "a decommission as {reason} is final ({packId})",
        "Only dispensed, sample, free_sample, exported and locked can be undone",
    ),
    "SerialRegistryUndoWindowClosed": (
        "the undo window of {packId} closed on {deadline}",
        "The decommission is final now",
    ),
    "SerialRegistryInvalidFlags": (
        "{flags} is not a valid set of pack flags",
        "Use SUSPECT, ILLEGITIMATE, both, or none to clear them",
    ),
    "SerialRegistryNotAuthorised": (
        "{caller} may not change {id}",
        "Only the lot's owner, a regulator or the council may (a holder may only raise SUSPECT "
        "on the packs it holds)",
    ),
    "SerialRegistryAuthorityTooLow": (
        "{id} was set at {raisedBy} level, above the {caller} level of this change",
        "Only the authority that raised a flag or lot status, or a higher one (holder < owner "
        "< regulator < council), lowers or overwrites it: ask a regulator, or the council by "
        "proposal",
    ),
    "SerialRegistryRecallAlreadyRequested": (
        "{regulator} asked for the recall of {lotId} already",
        "A regulator's recall of another member's lot takes a second regulator to confirm it "
        "(the lot stays quarantined meanwhile); the lot's owner or the council recall at once",
    ),
    # RxForwarder (OpenZeppelin ERC2771Forwarder and its libraries)
    "ERC2771ForwarderExpiredRequest": (
        "the relayed request expired on {deadline}",
        "Sign a new request",
    ),
    "ERC2771ForwarderInvalidSigner": (
        "the request is signed by {signer}, not by its sender {from}",
        "Sign the request with the key of its 'from' account",
    ),
    "ERC2771ForwarderMismatchedValue": (
        "the request asks for {requestedValue} wei, but {msgValue} were sent",
        _RELAY_VALUE,
    ),
    "ERC2771UntrustfulTarget": (
        "{target} does not trust the forwarder {forwarder}",
        "Relay only to the contracts of this deployment",
    ),
    "FailedCall": (
        "the relayed call failed without a reason",
        "It may have run out of gas: estimate the gas again and resend",
    ),
    "InsufficientBalance": (
        "the forwarder holds {balance} wei and needs {needed}",
        _RELAY_VALUE,
    ),
    "InvalidAccountNonce": (
        "the request's nonce is used up: the next nonce of {account} is {currentNonce}",
        "Sign a new request with the current nonce",
    ),
    "InvalidShortString": (
        "a name given to the forwarder is not a short string",
        "Deploy the forwarder with a name of at most 31 bytes",
    ),
    "StringTooLong": (
        "{str!r} is too long for the forwarder",
        "Deploy the forwarder with a name of at most 31 bytes",
    ),
    # NaivePackToken (the ERC-721 baseline of the gas benchmark)
    "ERC721IncorrectOwner": (
        "{sender} does not own token {tokenId}; {owner} does",
        "Transfer only tokens you own",
    ),
    "ERC721InsufficientApproval": (
        "{operator} is not approved for token {tokenId}",
        "Have the owner approve the operator first",
    ),
    "ERC721InvalidApprover": ("{approver} cannot approve", "Approve from the token's owner"),
    "ERC721InvalidOperator": ("{operator} cannot be an operator", "Give another operator"),
    "ERC721InvalidOwner": ("{owner} cannot own tokens", "Give a real account"),
    "ERC721InvalidReceiver": ("{receiver} cannot receive tokens", "Give a real account"),
    "ERC721InvalidSender": ("{sender} cannot send tokens", "Give a real account"),
    "ERC721NonexistentToken": ("token {tokenId} does not exist", "Mint it first"),
    # Raised by the client itself (DuplicateInBatchError), and Solidity's built-in errors
    "DuplicateInBatch": (
        "the batch names {id} more than once",
        "List each code once",
    ),
    "TransactionFailed": (
        "transaction {tx} was mined but failed",
        "It passed the gas estimate, so the chain changed meanwhile: check the state and retry",
    ),
    "UnknownRevert": (
        "the contract refused with data this client does not know ({data})",
        "The deployment may be newer than this client: update RxLedger",
    ),
    "Error": ("the contract refused: {message}", "Check the call"),
    "Panic": (
        "a contract hit an internal check (panic code {code})",
        "Report it, with the command you ran",
    ),
}

_ENUMS: dict[str, type[enum.IntEnum]] = {
    "MemberStatus": MemberStatus,
    "LotStatus": LotStatus,
    "DecommissionReason": DecommissionReason,
    "Authority": Authority,
    "GrantAuthority": GrantAuthority,
    "ExceptionStatus": ExceptionStatus,
}
_TIMES = ("licenceExpiry", "deadline", "expiresAt", "blockTime")
_ZERO_ADDRESS = "0x" + "0" * 40


def pack_label(gtin: str, serial: str) -> str:
    """How a message names a pack: ``pack (01)GTIN(21)SERIAL``."""
    return f"pack (01){gtin}(21){serial}"


def unit_label(sscc: str) -> str:
    """How a message names a case or pallet: ``SSCC 106141...``."""
    return f"SSCC {sscc}"


def lot_label(gtin: str, lot: str) -> str:
    """How a message names a lot: ``lot L1 of GTIN 0950...``."""
    return f"lot {lot} of GTIN {gtin}"


def code_map(
    packs: Iterable[tuple[str, str]] = (),
    units: Iterable[str] = (),
    lots: Iterable[tuple[str, str]] = (),
    owners: CodeOwners | None = None,
) -> dict[bytes, str]:
    """Return ledger id -> label for packs (GTIN, serial), SSCCs and lots (GTIN, lot).

    Each code is keyed by its code hash (what creating calls send) and, given the network's
    prefix ``owners``, by the id of its genuine record (what other calls and errors name); a
    lot by its keyed hash where ``owners`` holds its owner's lot key."""
    coded = [(g, pack_hash(g, s), pack_label(g, s)) for g, s in packs]
    coded += [(u, unit_hash(u), unit_label(u)) for u in units]
    keys = owners.lot_keys if owners is not None else {}
    for g, lot in lots:
        index = owners.index(g) if owners is not None else 0
        coded.append((g, lot_hash(g, lot, keys.get(index)), lot_label(g, lot)))
    labels = {code_hash: label for _, code_hash, label in coded}
    if owners is not None:
        labels |= {record_id(owners.index(c), h): label for c, h, label in coded}
    return labels


@cache
def _input_types() -> dict[str, dict[str, str]]:
    """Error name -> argument name -> Solidity internal type, from every artifact's ABI."""
    types: dict[str, dict[str, str]] = {}
    for path in sorted(ARTIFACTS_DIR.glob("*.json")):
        for item in json.loads(path.read_text())["abi"]:
            if item["type"] == "error":
                types[item["name"]] = {i["name"]: i["internalType"] for i in item["inputs"]}
    return types


def _roles(value: int, any_of: bool) -> str:
    names = [r.name or "" for r in Role if value & r.value]
    rest = value & ~sum(r.value for r in Role)
    if rest:
        names.append(f"unknown role bits {rest:#x}")
    if not names:
        return "no role"
    return f"one of {', '.join(names)}" if any_of and len(names) > 1 else ", ".join(names)


def _time(value: int) -> str:
    return datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _render(
    name: str, kind: str, value: Any, codes: Mapping[bytes, str], members: Mapping[str, str]
) -> Any:
    if isinstance(value, bytes):
        if name == "key":  # consortium parameters are short ASCII names
            return value.rstrip(b"\0").decode("ascii", "replace")
        return codes.get(value, "0x" + value.hex())
    if kind == "address" and isinstance(value, str):
        if value == _ZERO_ADDRESS:
            return "nobody"
        address = to_checksum_address(value)
        return f"{members[address]} ({address})" if address in members else address
    if not isinstance(value, int):
        return value
    if kind.startswith("enum "):
        enum_type = _ENUMS.get(kind.rsplit(".", 1)[-1].removeprefix("enum "))
        if enum_type is not None and value in enum_type._value2member_map_:
            return enum_type(value).name.lower()
    if name in ("roles", "required"):
        return _roles(value, any_of=name == "required")
    if name == "flags":
        return "+".join(f.name or "" for f in PackFlag if value & f.value) or "with no flag"
    if name in _TIMES:
        return _time(value)
    if name == "expiry":
        return f"{value:06d}"
    return value


def explain(
    exc: Refusal,
    codes: Mapping[bytes, str] | None = None,
    members: Mapping[str, str] | None = None,
) -> str:
    """Return one line: the error's name, what it means with its arguments in the user's
    terms, and what to do.

    ``codes`` maps ledger ids to labels of the codes the caller sent (see :func:`code_map`;
    default: the error's own ``codes``), ``members`` checksummed addresses to member names.
    """
    codes = codes or exc.codes
    members = {to_checksum_address(a): n for a, n in (members or {}).items()}
    kinds = _input_types().get(exc.error, {})
    shown = {
        k: _render(k, kinds.get(k, ""), v, codes, members) for k, v in exc.args_by_name.items()
    }
    what, todo = HINTS.get(exc.error, ("", ""))
    try:
        text = what.format_map(shown)
    except (KeyError, IndexError, ValueError):
        text = ""
    text = text or ", ".join(f"{k}={v}" for k, v in shown.items())
    return f"{exc.error}: {text}. {todo}." if todo else f"{exc.error}: {text}"
