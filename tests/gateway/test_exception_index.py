"""The gateway's index of shipment exceptions and exception records (real chain, real SQLite):
custody after a cancel, a refusal, a loss and a find is the chain's, an index verification of a
lost pack answers LOST as the chain does, exception records carry every step's evidence, and a
rebuild from the stored events (a reorg's rollback) and a key rotation keep them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from gateway.db import models as m
from gateway.indexer import Indexer
from gateway.reorg import roll_back
from gateway.schemas import AlertKind
from gateway.services.alerts import on_indexed, visible_to
from gateway.services.chain import Chain
from gateway.services.custody import holdings
from gateway.services.readmodel import ReadModel
from gateway.services.verify import Verifier
from ledger_client.chain import connect, dev_account, fund
from ledger_client.devnet import DevNetwork, deploy_devnet
from ledger_client.ledger import Ledger
from ledger_client.types import (
    ExceptionKind,
    ExceptionStatus,
    PackStatus,
    Resolver,
    UnitStatus,
)
from tests.utils.factories import GTIN, make_sscc
from tests.utils.governance import as_council, govern
from tests.utils.index_state import fresh_engine, index_state

CASE, PALLET = make_sscc("0614141", 31), make_sscc("0614141", 32)
SERIALS = ("CX", "RX", "LX", "FX", "P1", "P2")


@dataclass
class History:
    net: DevNetwork
    chain: Chain
    exceptions: dict[str, int]


@pytest.fixture(scope="module")
def history() -> History:
    """CX cancelled, RX refused (in transit back), LX lost, FX lost and found, and PALLET (a
    case of P1, P2) lost; three exceptions: answered and accepted, closed by the council after
    a regulator's request, open."""
    net = deploy_devnet(connect("eth-tester"))
    mf, wa, wb = net["manufacturer"], net["wholesaler_a"], net["wholesaler_b"]
    mf.register_lot(GTIN, "XI1", "301231")
    mf.commission(GTIN, "XI1", list(SERIALS[:4]))
    mf.commission(GTIN, "XI1", list(SERIALS[4:]), into_sscc=CASE)
    mf.pack(PALLET, units=[CASE])
    packs = {s: (GTIN, s) for s in SERIALS[:4]}
    mf.ship(wa.address, packs=list(packs.values()), units=[PALLET])
    mf.cancel_shipment(wa.address, packs=[packs["CX"]])
    wa.refuse(mf.address, packs=[packs["RX"]])
    mf.report_lost(wa.address, packs=[packs["LX"], packs["FX"]], units=[PALLET])
    mf.report_found(wa.address, packs=[packs["FX"]])
    kind = ExceptionKind.DATA_WITHOUT_PRODUCT
    accepted, _ = wa.open_exception(mf.address, kind, units=[PALLET], evidence_hash=b"\x01" * 32)
    mf.answer_exception(accepted, b"\x02" * 32)
    wa.resolve_exception(accepted, b"\x03" * 32)
    closed, _ = wb.open_exception(mf.address, ExceptionKind.DATA_ISSUE, [packs["CX"]])
    net["regulator"].resolve_exception(closed)  # asks for the closure; the council closes it
    as_council(net, net["auditor"].exceptions, "resolveException", closed, b"\x04" * 32)
    still_open, _ = wa.open_exception(mf.address, ExceptionKind.PACKAGING_LABELLING, [packs["RX"]])
    ids = {"accepted": accepted, "closed": closed, "open": still_open}
    return History(net, Chain(net["auditor"].w3, net.deployment), ids)


def indexed(history: History, path: Path) -> Engine:
    engine = fresh_engine(path)
    Indexer(history.chain, engine, 0, start_block=history.net.deployment.block).catch_up()
    return engine


def test_indexed_custody_is_the_chains(history: History, tmp_path: Path) -> None:
    readmodel = ReadModel(indexed(history, tmp_path / "index.db"))
    auditor = history.net["auditor"]
    for serial in SERIALS:
        pid = auditor.owners.pack_id(GTIN, serial)
        mine, chain = readmodel.pack(pid), auditor.pack_states([pid])[0]
        assert mine is not None, serial
        assert (mine.status, mine.custodian, mine.in_transit, mine.lost) == (
            int(chain.status),
            chain.custodian,
            chain.in_transit,
            chain.lost,
        ), serial
        assert (mine.pending_to or "0x" + "00" * 20) == chain.pending_to, serial
    lx = readmodel.pack(auditor.owners.pack_id(GTIN, "LX"))
    assert lx is not None and lx.status == PackStatus.LOST


def test_a_cancel_or_a_refusal_ends_the_recipients_custody(
    history: History, tmp_path: Path
) -> None:
    engine = indexed(history, tmp_path / "index.db")
    owners, a = history.net["auditor"].owners, history.net.address
    with Session(engine) as conn:
        held = {s: [h.holder for h in holdings(conn, owners.pack_id(GTIN, s))] for s in SERIALS}
        ended = holdings(conn, owners.pack_id(GTIN, "CX"))[1].end
    maker, wholesaler = a("manufacturer"), a("wholesaler_a")
    assert held["CX"] == held["RX"] == [maker, wholesaler, maker]
    assert held["LX"] == held["P1"] == [maker, wholesaler]  # lost: its recipient still sees it
    assert ended is not None


def test_an_index_verification_of_a_lost_pack_answers_as_the_chain(
    history: History, tmp_path: Path
) -> None:
    readmodel = ReadModel(indexed(history, tmp_path / "index.db"))
    verifier = Verifier(readmodel, history.chain, {})
    for serial in ("LX", "P1", "FX", "RX", "CX"):
        code = f"01{GTIN}21{serial}"
        index, _, _ = verifier.verify(code, "index")
        chain, _, _ = verifier.verify(code, "chain")
        assert index.status == chain.status, serial
        assert index.pack is not None and index.pack.lost == (serial in ("LX", "P1"))
    lost, _, _ = verifier.verify(f"01{GTIN}21P1", "index")
    assert (lost.status, lost.verdict) == ("LOST", "red")
    assert "reported lost in transit" in lost.reasons[0]


def test_exception_records_carry_every_steps_evidence(history: History, tmp_path: Path) -> None:
    engine = indexed(history, tmp_path / "index.db")
    with engine.connect() as conn:
        rows = {r.id: r for r in conn.execute(select(m.ExceptionCase))}
    auditor = history.net["auditor"]
    for case_id, row in rows.items():
        chain = auditor.exception(case_id)
        assert (row.opener, row.counterparty, row.kind, row.status, row.resolved_by) == (
            chain.opener,
            chain.counterparty,
            int(chain.kind),
            int(chain.status),
            int(chain.resolved_by),
        )
        assert (row.opened_at, row.answered_at, row.resolved_at) == (
            chain.opened_at,
            chain.answered_at,
            chain.resolved_at,
        )
        assert bytes(row.items_hash) == chain.items_hash
    accepted = rows[history.exceptions["accepted"]]
    hashes = (accepted.evidence_hash, accepted.answer_hash, accepted.resolution_hash)
    assert [bytes(h) for h in hashes] == [b"\x01" * 32, b"\x02" * 32, b"\x03" * 32]
    closed = rows[history.exceptions["closed"]]
    assert (closed.resolved_by, bytes(closed.resolution_hash)) == (Resolver.COUNCIL, b"\x04" * 32)
    still_open = rows[history.exceptions["open"]]
    assert (still_open.status, still_open.evidence_hash) == (ExceptionStatus.OPEN, None)


def test_a_rebuild_from_the_stored_events_gives_the_same_index(
    history: History, tmp_path: Path
) -> None:
    engine = indexed(history, tmp_path / "index.db")
    before = index_state(engine)
    assert before["exceptions"] and any(r[1] == UnitStatus.LOST for r in before["units"])
    with engine.begin() as conn:
        head = history.chain.w3.eth.block_number
        assert roll_back(conn, head, lambda gtin: ("0x" + "00" * 20, [""] * 5)) == 0
    assert index_state(engine) == before


def test_a_key_rotation_renames_the_parties_of_indexed_exceptions(tmp_path: Path) -> None:
    w3 = connect("eth-tester")
    net = deploy_devnet(w3)
    new = dev_account("outsider")
    fund(w3, [new.address])
    wa, mf = net["wholesaler_a"], net["manufacturer"]
    case_id, _ = wa.open_exception(mf.address, ExceptionKind.DATA_ISSUE, units=[CASE])
    govern(net, "rotateMemberKey", mf.address, new.address, by=("wholesaler_a", "regulator"))
    Ledger(w3, net.deployment, new).answer_exception(case_id)
    engine = fresh_engine(tmp_path / "index.db")
    Indexer(Chain(w3, net.deployment), engine, 0, start_block=net.deployment.block).catch_up()
    with engine.connect() as conn:
        row = conn.execute(select(m.ExceptionCase)).one()
    assert (row.counterparty, row.status) == (new.address, ExceptionStatus.ANSWERED)


def test_an_exception_opened_alerts_its_counterparty_once(history: History, tmp_path: Path) -> None:
    engine = fresh_engine(tmp_path / "alerts.db")
    indexer = Indexer(
        history.chain, engine, 0, start_block=history.net.deployment.block, hooks=[on_indexed]
    )
    indexer.catch_up()
    indexer.catch_up()  # nothing new: nothing raised twice
    mf, wa = history.net.address("manufacturer"), history.net.address("wholesaler_a")
    kind = m.Alert.kind == AlertKind.EXCEPTION_OPENED.value
    with Session(engine) as session:
        alerts = session.execute(select(m.Alert).where(kind)).scalars().all()
        assert sorted(int(a.subject) for a in alerts) == sorted(history.exceptions.values())
        assert {a.holder for a in alerts} == {mf}  # every one is against the manufacturer
        opened = next(a for a in alerts if int(a.subject) == history.exceptions["open"])
        assert opened.data["kind"] == "packaging_labelling" and opened.data["opener"] == wa
        readable = select(m.Alert).where(kind, visible_to(wa))
        assert session.execute(readable).first() is None  # the opener is not alerted
