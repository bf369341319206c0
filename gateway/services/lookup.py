"""Who answers for a GTIN, and whether a requester is an authorized trading partner: the
on-chain counterparts of the DSCSA VRS lookup directory and ATP credentials."""

from __future__ import annotations

from typing import Literal

from web3 import Web3

from gateway.schemas import LvmLookup
from gateway.services.chain import Chain
from gateway.services.readmodel import MemberRecord, ReadModel
from gateway.services.standing import Standing, refusal
from ledger_client.contracts import SUPPLY_CHAIN_ROLES, MemberStatus, Role


def lookup(readmodel: ReadModel, chain: Chain, gtin14: str) -> LvmLookup | None:
    """Who answers for ``gtin14``: its product directory entry, else the member its company
    prefix is assigned to (every GTIN of an assigned prefix is found, registered or not);
    None when no member owns the prefix. The gateway is the entry's, else the owner's
    published one."""
    product = readmodel.product(gtin14)
    source: Literal["directory", "prefix"]
    if product is not None:
        owner, url, source = product.owner, product.gateway_url, "directory"
    else:
        prefix_owner = readmodel.prefix_owner(gtin14)
        if prefix_owner is None:
            return None
        owner, url, source = prefix_owner, "", "prefix"
    if not url:
        url = str(chain.consortium.functions.gatewayUrl(Web3.to_checksum_address(owner)).call())
    member = readmodel.member(owner)
    return LvmLookup(
        gtinOwner=owner, gtinOwnerGLN=member.gln if member else None, gatewayUrl=url or None,
        source=source,
    )  # fmt: skip


def requester(readmodel: ReadModel, address: str, gln: str | None) -> MemberRecord | str:
    """The member a verification request is for: the one with GLN ``gln`` when given, else
    the caller at ``address``; or the address or GLN when no member has it."""
    if gln is None:
        return readmodel.member(address) or address
    found = [member for member in readmodel.members() if member.gln == gln]
    return found[0] if found else gln


def atp_refusal(who: MemberRecord | str) -> str | None:
    """Why ``who`` is not an authorized trading partner now (not a member, not active, an
    expired licence, no trading-partner role), or None when it is one."""
    if isinstance(who, str):
        return f"{who} is not a member of this RxLedger network"
    standing = Standing(Role(who.roles), MemberStatus(who.status), who.licence_expiry)
    refused = refusal(who.address, standing)
    if refused is None and not standing.roles & SUPPLY_CHAIN_ROLES:
        refused = f"member {who.address} holds no trading-partner role"
    return refused
