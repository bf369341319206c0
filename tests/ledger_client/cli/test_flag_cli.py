"""``rxledger flag`` on an anvil node: a holder quarantines suspect packs, the maker
determines them illegitimate (the 3911 clock starts) and clears them after the investigation;
each party is held to its own authority, and every step leaves its EPCIS event."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ledger_client.chain import connect
from ledger_client.dev.anvil import Anvil
from ledger_client.devnet import DevNetwork, deploy_devnet
from ledger_client.epcis.mapping import map_event
from ledger_client.epcis.operations import FlagPacks
from ledger_client.epcis.store import EventStore
from ledger_client.types import FlagReason, PackFlag, VerificationStatus
from tests.utils.cli import rx as run_rx

pytestmark = pytest.mark.anvil
GTIN, LOT, EXPIRY = "09506000134352", "FLG", "301231"


@pytest.fixture(scope="module")
def net(node: Anvil) -> DevNetwork:
    """FL1-FL3 went from the manufacturer to wholesaler A."""
    net = deploy_devnet(connect(node.url))
    m, w = net["manufacturer"], net["wholesaler_a"]
    packs = [(GTIN, s) for s in ("FL1", "FL2", "FL3")]
    m.register_lot(GTIN, LOT, EXPIRY)
    m.commission(GTIN, LOT, [s for _, s in packs])
    m.ship(w.address, packs=packs)
    w.receive(packs=packs)
    return net


def packs_file(tmp_path: Path, *serials: str) -> str:
    path = tmp_path / "packs.txt"
    path.write_text("".join(f"(01){GTIN}(21){s}\n" for s in serials))
    return str(path)


def rx(node: Anvil, deployment: Path, member: str, *args: str) -> tuple[int, str]:
    store = deployment.parent / f"epcis-{member}.sqlite"
    return run_rx(node, deployment, *args, "--as", member, "--store", str(store))


def status(net: DevNetwork, serial: str) -> VerificationStatus:
    return net["auditor"].verify(GTIN, serial, LOT, EXPIRY).status


def test_a_holder_flags_suspect_and_the_maker_determines_and_clears(
    node: Anvil, deployment: Path, net: DevNetwork, tmp_path: Path
) -> None:
    file = packs_file(tmp_path, "FL1", "FL2")
    code, out = rx(node, deployment, "wholesaler_a", "flag", file, "--status", "suspect")
    assert code == 0, out
    assert status(net, "FL1") == status(net, "FL2") == VerificationStatus.SUSPECT
    code, out = rx(node, deployment, "manufacturer", "flag", file, "--status", "illegitimate",
                   "--classification", "counterfeit")  # fmt: skip
    assert code == 0, out
    assert status(net, "FL1") == VerificationStatus.ILLEGITIMATE
    assert net["auditor"].pack_state(GTIN, "FL1").flag_reason == FlagReason.COUNTERFEIT
    code, out = rx(node, deployment, "manufacturer", "flag", file, "--status", "clear")
    assert code == 0, out
    assert status(net, "FL1") == status(net, "FL2") == VerificationStatus.VERIFIED
    with EventStore(deployment.parent / "epcis-manufacturer.sqlite") as store:
        determined, cleared = store.all_events()[-2:]
    ops = [map_event(e).operations for e in (determined, cleared)]
    assert [(o.flags, o.reason) for (o,) in ops if isinstance(o, FlagPacks)] == [
        (PackFlag.ILLEGITIMATE, FlagReason.COUNTERFEIT),
        (PackFlag(0), FlagReason.NONE),
    ]
    assert (determined["disposition"], cleared["disposition"]) == (
        "no_pedigree_match",
        "sellable_accessible",
    )


def test_the_determination_starts_the_3911_clock_with_its_classification(
    node: Anvil, deployment: Path, net: DevNetwork, tmp_path: Path
) -> None:
    file = packs_file(tmp_path, "FL3")
    code, out = rx(node, deployment, "regulator", "flag", file, "--status", "illegitimate",
                   "--classification", "diverted")  # fmt: skip
    assert code == 0, out
    store = deployment.parent / "epcis-auditor.sqlite"
    code, out = run_rx(node, deployment, "audit", "investigations", "--store", str(store))
    assert code == 0, out
    (row,) = [r for r in json.loads(out) if r["status"] == "OPEN"]
    assert row["classification"] == "DIVERTED"
    assert row["pack_ids"] == ["0x" + net["auditor"].pack_ids([(GTIN, "FL3")])[0].hex()]


@pytest.mark.parametrize(
    ("member", "flags", "refusal"),
    [
        ("wholesaler_a", "illegitimate", "SerialRegistryNotAuthorised"),
        ("pharmacy_a", "suspect", "SerialRegistryNotAuthorised"),
        ("wholesaler_a", "clear", "SerialRegistryNotAuthorised"),
        ("manufacturer", "clear", "SerialRegistryAuthorityTooLow"),
    ],
)
def test_each_party_is_held_to_its_own_authority(
    node: Anvil,
    deployment: Path,
    net: DevNetwork,
    tmp_path: Path,
    member: str,
    flags: str,
    refusal: str,
) -> None:
    """A holder may only raise SUSPECT, a non-holder nothing, and the maker cannot lower a
    flag a regulator raised (FL3's, from the test above)."""
    before = status(net, "FL3")
    code, out = rx(node, deployment, member, "flag", packs_file(tmp_path, "FL3"), "--status", flags)
    assert code != 0 and refusal in out, out
    assert status(net, "FL3") == before


def test_bad_options_are_refused_before_anything_is_sent(
    node: Anvil, deployment: Path, net: DevNetwork, tmp_path: Path
) -> None:
    w3 = net["auditor"].w3
    before = w3.eth.block_number
    file = packs_file(tmp_path, "FL1")
    code, out = rx(node, deployment, "manufacturer", "flag", file, "--status", "stolen")
    assert code == 2 and "suspect, illegitimate, clear" in out, out
    code, out = rx(node, deployment, "manufacturer", "flag", file, "--status", "suspect",
                   "--classification", "lost")  # fmt: skip
    assert code == 2 and "counterfeit" in out, out
    assert w3.eth.block_number == before
