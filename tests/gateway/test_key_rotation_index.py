"""The gateway's index after a member's key rotation names the member by its new key wherever
the contracts' views do: its member row, the lots it owns, what it holds or has coming, its
prefixes, and the alerts addressed to it."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from gateway.db import models as m
from gateway.db.session import make_engine, migrate
from gateway.indexer import Indexer
from gateway.services.alerts import on_indexed
from gateway.services.chain import Chain
from ledger_client.devnet import DevNetwork
from ledger_client.types import LotStatus
from tests.utils.chain import Chain as DevChain
from tests.utils.factories import GTIN, commissioned, make_sscc
from tests.utils.governance import encode, govern, propose

CASE = make_sscc("0614141", 931)


def test_the_index_follows_a_rotated_key(net: DevNetwork, chain: DevChain, tmp_path: Path) -> None:
    maker, wholesaler = net["manufacturer"], net["wholesaler_a"]
    commissioned(maker, ["K1", "K2"], into=CASE)
    commissioned(maker, ["K3"], register=False)
    maker.ship(wholesaler.address, units=[CASE], packs=[(GTIN, "K3")])
    wholesaler.receive(units=[CASE])
    maker.set_lot_status(GTIN, "LOT1", LotStatus.QUARANTINED)  # alerts for the holders
    engine = make_engine(f"sqlite:///{tmp_path / 'index.db'}")
    migrate(engine)
    deployment = net.deployment
    indexer = Indexer(
        Chain(chain.w3, deployment), engine, 0, start_block=deployment.block, hooks=[on_indexed]
    )
    indexer.catch_up()
    with engine.connect() as conn:
        assert set(conn.execute(select(m.Alert.holder)).scalars()) == {
            maker.address,
            wholesaler.address,
        }

    new_maker, new_wholesaler = chain.ledger("outsider"), chain.ledger("logistics")
    govern(
        net, "rotateMemberKey", maker.address, new_maker.address, by=("regulator", "wholesaler_a")
    )
    # the manufacturer's council seat now votes with its new key
    data = encode(net, "rotateMemberKey", wholesaler.address, new_wholesaler.address)
    proposal_id, _ = propose(net, "regulator", data)
    new_maker.transact(new_maker.consortium.functions.approve(proposal_id))
    indexer.catch_up()

    with engine.connect() as conn:
        members = dict(conn.execute(select(m.Member.address, m.Member.index)).all())
        lots = set(conn.execute(select(m.Lot.owner)).scalars())
        packs = set(conn.execute(select(m.Pack.custodian, m.Pack.pending_to)).all())
        units = set(conn.execute(select(m.Unit.custodian)).scalars())
        prefixes = dict(conn.execute(select(m.Prefix.prefix, m.Prefix.owner)).all())
        holders = set(conn.execute(select(m.Alert.holder)).scalars())
    consortium = net["auditor"].consortium
    for old, new in ((maker, new_maker), (wholesaler, new_wholesaler)):
        assert old.address not in members
        assert members[new.address] == consortium.functions.member(new.address).call()[1]
    assert lots == {new_maker.address}
    assert packs == {(None, None), (new_maker.address, new_wholesaler.address)}
    assert units == {new_wholesaler.address}
    assert prefixes["0614141"] == new_maker.address
    assert prefixes["4012345"] == new_wholesaler.address
    assert holders == {new_maker.address, new_wholesaler.address}
