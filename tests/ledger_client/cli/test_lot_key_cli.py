"""``rxledger lot keygen`` and ``--lot-keys``: a manufacturer writes its lot key once,
registers and quarantines a lot with it by number; a member without the key does not find
the lot by number, and a regulator without it quarantines it through ``--pack``."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from ledger_client.chain import connect
from ledger_client.cli import app
from ledger_client.dev.anvil import Anvil
from ledger_client.devnet import DevNetwork, deploy_devnet
from ledger_client.ledger import Ledger
from ledger_client.lot_keys import read_lot_keys
from ledger_client.types import LotStatus
from tests.utils.cli import rx

pytestmark = pytest.mark.anvil
GTIN = "09506000134352"


@pytest.fixture(scope="module")
def net(node: Anvil) -> DevNetwork:
    return deploy_devnet(connect(node.url))


def keygen(out: Path) -> tuple[int, str]:
    argv = ["lot", "keygen", str(out), "--as", "manufacturer"]
    result = CliRunner().invoke(app, argv, env={"RXLEDGER_KEY": ""})
    return result.exit_code, result.output


def test_a_key_file_keys_the_lots_registered_with_it(
    node: Anvil, deployment: Path, net: DevNetwork, tmp_path: Path
) -> None:
    keys, store = tmp_path / "lot.keys", tmp_path / "epcis.sqlite"
    code, out = keygen(keys)
    assert code == 0 and f"written to {keys}" in out, out
    assert keys.stat().st_mode & 0o777 == 0o600
    code, out = keygen(keys)
    assert code == 2 and "never overwritten" in out, out

    maker = ["--as", "manufacturer", "--lot-keys", str(keys), "--store", str(store)]
    code, out = rx(node, deployment, "lot", "register", GTIN, "K1", "301231", *maker)
    assert code == 0, out
    m = net["manufacturer"]
    (key,) = read_lot_keys(keys).values()
    Ledger(m.w3, net.deployment, m.account, lot_key=key).commission(GTIN, "K1", ["Q7ZT4WX9"])
    code, out = rx(node, deployment, "lot", "status", GTIN, "K1", "quarantined", *maker)
    assert code == 0 and "is now QUARANTINED" in out, out
    code, out = rx(node, deployment, "grant", "add", GTIN, "K1", "auditor", *maker[:4])
    assert code == 0, out
    listed = [rx(node, deployment, "grant", "list", GTIN, "K1", *k)[1] for k in ([], maker[2:4])]
    assert [out.splitlines()[0] for out in listed] == ["0 grants", "1 grants"]
    assert net["auditor"].lot_state(GTIN, "K1").status == LotStatus.NONE  # not by number

    regulator = ["--as", "regulator", "--store", str(tmp_path / "reg.sqlite")]
    code, out = rx(node, deployment, "lot", "status", GTIN, "K1", "recalled", *regulator)
    assert code == 1 and "SerialRegistryUnknownLot" in out, out
    code, out = rx(
        node, deployment, "lot", "status", GTIN, "K1", "recalled", "--pack", "Q7ZT4WX9", *regulator
    )
    assert code == 0 and "recall of lot K1 of 09506000134352 requested: it is QUARANTINED" in out
    owner = ["--as", "manufacturer", "--store", str(store)]  # no key: through the pack
    code, out = rx(
        node, deployment, "lot", "status", GTIN, "K1", "recalled", *owner, "--pack", "Q7ZT4WX9"
    )
    assert (code, out) == (0, f"lot K1 of {GTIN} is now RECALLED\n")
