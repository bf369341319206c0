"""Every ``rxledger`` command, given bad input, ends in one line naming the problem, never a
traceback; the member-name and address forms of ``--to`` work; nothing needs the repo root."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from typer.testing import CliRunner

from ledger_client.chain import connect, dev_account
from ledger_client.cli import app
from ledger_client.cli.reporting import Known, message
from ledger_client.dev.anvil import Anvil
from ledger_client.devnet import DevNetwork, deploy_devnet
from ledger_client.epcis.store import EventStore
from ledger_client.errors import DuplicateInBatchError
from ledger_client.ids import pack_hash
from ledger_client.types import PackStatus
from tests.utils.factories import WHOLESALER_A_PREFIX, make_gtin
from tests.utils.ports import free_port

pytestmark = pytest.mark.anvil

GTIN = "09506000134352"
BAD_GTIN = "09506000134353"
SSCC = "106141410000000019"
BAD_SSCC = "106141410000000018"
UNREACHABLE = "http://127.0.0.1:9"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Anvil]:
    with Anvil(port=free_port(), state_file=tmp_path_factory.mktemp("anvil") / "s.json") as a:
        yield a


@pytest.fixture(scope="module")
def net(node: Anvil) -> DevNetwork:
    network = deploy_devnet(connect(node.url))
    network["manufacturer"].register_lot(GTIN, "L1", "281231")
    return network


@pytest.fixture(scope="module")
def files(net: DevNetwork, node: Anvil, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of good and bad inputs; every placeholder of the cases names one."""
    d = tmp_path_factory.mktemp("inputs")
    net.deployment.save(d / "deployment.json")
    other = json.loads((d / "deployment.json").read_text())
    (d / "other-chain.json").write_text(json.dumps({**other, "chain_id": 999}))
    (d / "reset-chain.json").write_text(json.dumps({**other, "registry": "0x" + "12" * 20}))
    (d / "not-json.json").write_text("not json\n")
    (d / "codes.txt").write_text(f"(01){GTIN}(10)L1(21)OK1\n")
    (d / "empty.txt").write_text("")
    (d / "blank.txt").write_text("\n  \n")
    (d / "adir").mkdir()
    (d / "binary.txt").write_bytes(b"\xff\xfe\x00(01)")
    (d / "header.csv").write_text("product,number\n1,2\n")
    (d / "bad-code.txt").write_text(f"(01){GTIN}(10)L1(21)OK1\n\n(01){BAD_GTIN}(10)L1(21)X\n")
    (d / "bad.key").write_text("not a key\n")
    (d / "empty.key").write_text("")
    (d / "good.key").write_text(bytes(dev_account("manufacturer").key).hex())
    (d / "members.json").write_text('[{"name": "a", "address": "0x12"}]')
    member = {"name": "a", "address": dev_account("a").address, "gln": 4012345000009,
              "roles": ["MANUFACTURER", "COUNCIL"], "licence_expiry": 4102444800}  # fmt: skip
    (d / "good-members.json").write_text(json.dumps([member]))
    (d / "catalogue.json").write_text("{}")
    (d / "log.jsonl").write_bytes(b"\xff\xfe")
    scan = {"gtin": GTIN, "serial": "OK1", "location": "pharmacy_a", "time": 1, "expiry": "281301"}
    (d / "bad-expiry.jsonl").write_text(json.dumps(scan) + "\n")
    EventStore(d / "store.sqlite").close()
    return d


# Minimal valid invocations; {dep} and {rpc} are appended by the cases that vary them.
READERS = {
    "verify": f"verify (01){GTIN}(21)OK1",
    "epcis export": f"epcis export --pack (01){GTIN}(21)OK1",
    "epcis ti-ts": f"epcis ti-ts --sscc {SSCC} --store {{d}}/store.sqlite",
    "audit replay": "audit replay",
    "audit export": "audit export --out {d}/out/logs.jsonl",
    "audit custody": f"audit custody --gtin {GTIN} --serial OK1",
    "audit lot-trace": f"audit lot-trace --gtin {GTIN} --lot L1",
    "audit expiry": "audit expiry",
    "audit anomalies": "audit anomalies",
    "audit shortage": "audit shortage --catalogue {d}/catalogue.json",
    "report 3911": f"report 3911 --gtin {GTIN} --serial OK1 --classification COUNTERFEIT "
    "--description x --out {d}/out/r.json",
    "report history": f"report history --gtin {GTIN} --lot L1 --out {{d}}/out/h.json",
    "report fmd-alert": f"report fmd-alert --gtin {GTIN} --serial OK1 --alert SERIAL_UNKNOWN "
    "--location pharmacy_a --out {d}/out/a.json",
}
FILE_WRITERS = {
    "commission": "commission {file}",
    "pack": f"pack {SSCC} {{file}}",
    "ship": "ship {file} --to pharmacy_a",
    "receive": "receive {file}",
    "decommission": "decommission {file} --reason dispensed",
    "undo": "undo {file}",
}
WRITERS = {
    **{name: argv.replace("{file}", "{d}/codes.txt") for name, argv in FILE_WRITERS.items()},
    "lot register": f"lot register {GTIN} L2 281231",
    "lot status": f"lot status {GTIN} L1 quarantined",
    "unpack": f"unpack {SSCC}",
    "council propose": "council propose setMemberStatus '[\"0x" + "42" * 20 + "\", 2]'",
    "council approve": "council approve 0",
    "epcis import": "epcis import {d}/codes.txt --store {d}/out/store.sqlite",
}
CONNECTED = {**READERS, **WRITERS}

BAD_FILES = {
    "missing file": ("{d}/missing.txt", "missing.txt: no such file"),
    "empty file": ("{d}/empty.txt", "empty.txt: no codes in the file"),
    "blank file": ("{d}/blank.txt", "blank.txt: no codes in the file"),
    "unreadable file": ("{d}/adir", "adir: is a directory, not a file"),
    "binary file": ("{d}/binary.txt", "binary.txt: not UTF-8 text"),
    "unknown CSV header": ("{d}/header.csv", "names no code columns: give a 'code' column"),
    "bad code": ("{d}/bad-code.txt", "bad-code.txt:3: GTIN (01) 09506000134353 has a wrong"),
}
BAD_KEYS = {
    "key file missing": ("--key-file {d}/no.key", "--key-file {d}/no.key: no such file"),
    "key file not hex": ("--key-file {d}/bad.key", "holds no private key: expected 64 hex"),
    "key file empty": ("--key-file {d}/empty.key", "is empty: it should hold a private key"),
    "unknown --as": ("--as nobody", "--as 'nobody' is not a demo member: one of manufacturer"),
}
BAD_CHAINS = {
    "unreachable node": (f"--rpc {UNREACHABLE} --deployment {{d}}/deployment.json",
                         f"no JSON-RPC node answers at {UNREACHABLE}"),
    "missing deployment": ("--rpc {rpc} --deployment {d}/none.json",
                           "no deployment file at {d}/none.json: give --deployment"),
    "deployment not JSON": ("--rpc {rpc} --deployment {d}/not-json.json",
                            "not-json.json is not a deployment file"),
    "deployment of another chain": ("--rpc {rpc} --deployment {d}/other-chain.json",
                                    "is a deployment on chain 999, but the node at"),
    "chain reset": ("--rpc {rpc} --deployment {d}/reset-chain.json",
                    "has no RxLedger contracts at 0x1212"),
}  # fmt: skip
AT = "--rpc {rpc} --deployment {d}/deployment.json"
ONE_OFF = {
    "ship to an unknown member": (
        "ship {d}/codes.txt --to nobody --as manufacturer",
        "--to 'nobody' is unknown: give a member name (manufacturer, repackager",
    ),
    "ship to a short address": (
        "ship {d}/codes.txt --to 0x1234 --as manufacturer",
        "--to '0x1234' is not an address: 0x and 40 hex digits",
    ),
    "ship to a bad checksum": (
        "ship {d}/codes.txt --to 0x" + "aB" * 20 + " --as manufacturer",
        "wrong EIP-55 checksum",
    ),
    "bad reason": (
        "decommission {d}/codes.txt --reason eaten --as pharmacy_a",
        "--reason 'eaten' is unknown: one of dispensed, destroyed",
    ),
    "bad lot status": (
        f"lot status {GTIN} L1 lost --as manufacturer",
        "lot status 'lost' is unknown: one of active, quarantined, recalled",
    ),
    "bad expiry": (
        f"lot register {GTIN} L3 281399 --as manufacturer",
        "expiry date (17) 281399: month 13 is not 01-12",
    ),
    "bad GTIN": (f"lot register {BAD_GTIN} L3 281231 --as manufacturer", "wrong check digit"),
    "bad SSCC to pack into": (
        f"pack {BAD_SSCC} {{d}}/codes.txt --as manufacturer",
        f"SSCC {BAD_SSCC} has a wrong check digit",
    ),
    "bad SSCC to unpack": ("unpack 123 --as manufacturer", "SSCC is malformed: '123'"),
    "bad SSCC to commission into": (
        "commission {d}/codes.txt --into 12 --as manufacturer",
        "SSCC is malformed: '12'",
    ),
    "bad code to verify": ("verify junk", "no GS1 Application Identifier at position 1: 'junk'"),
    "SSCC to verify": (f"verify (00){SSCC}", "is not a pack code (GTIN + serial)"),
    "bad code to export": ("epcis export --pack junk", "no GS1 Application Identifier"),
    "bad ti-ts SSCC": (
        "epcis ti-ts --sscc junk --store {d}/store.sqlite",
        "no GS1 Application Identifier",
    ),
    "ti-ts store missing": (
        f"epcis ti-ts --sscc {SSCC} --store {{d}}/none.sqlite",
        "no EPCIS store at {d}/none.sqlite: TI/TS takes the clear codes",
    ),
    "ti-ts store not SQLite": (
        f"epcis ti-ts --sscc {SSCC} --store {{d}}/codes.txt",
        "cannot open the EPCIS store {d}/codes.txt: file is not a database",
    ),
    "unknown proposal function": (
        "council propose mint '[]' --as manufacturer",
        "'mint' is not a change a proposal can make: one of addMember",
    ),
    "proposal args of the wrong shape": (
        "council propose addMember '[1]' --as manufacturer",
        "do not fit addMember(address account, uint64 gln_, uint16 roles, uint40 licenceExpiry)",
    ),
    "proposal args not JSON": (
        "council propose addMember '[1' --as manufacturer",
        "ARGS is not JSON",
    ),
    "bad members file": (
        "deploy {d}/members.json --key-file {d}/good.key --deployment {d}/out/new.json",
        "members.json: member 1: no gln, roles, licence_expiry",
    ),
    "missing members file": (
        "deploy {d}/none.json --key-file {d}/good.key --deployment {d}/out/new.json",
        "members file {d}/none.json: no such file",
    ),
    "audit of an unknown member": ("audit expiry --member nobody", "--member 'nobody' is unknown"),
    "audit of a bad address": ("audit expiry --member 0x12", "--member '0x12' is not an address"),
    "audit at a time that is none": ("audit expiry --at soon", "--at 'soon' is not a time"),
    "scans with a bad expiry": (
        "audit anomalies --scans {d}/bad-expiry.jsonl",
        "bad-expiry.jsonl:1: expiry date (17) 281301: month 13 is not 01-12",
    ),
    "report by an unknown member": (
        READERS["report 3911"] + " --reporter nobody",
        "--reporter 'nobody' is unknown",
    ),
    "report at a bad address": (
        READERS["report fmd-alert"].replace("pharmacy_a", "0xZZ"),
        "--location '0xZZ' is not an address",
    ),
    "report of a bad tx hash": (
        "report history --tx zz --out {d}/out/h.json",
        "--tx 'zz' is not a transaction hash",
    ),
    "report with a bad GTIN": (
        f"audit custody --gtin {BAD_GTIN} --serial OK1",
        "GTIN-14 09506000134353 has a wrong check digit",
    ),
    "unknown pack in custody": (
        f"audit custody --gtin {GTIN} --serial NOPE",
        f"pack (01){GTIN}(21)NOPE is not in the replayed history",
    ),
    "binary log file": ("audit replay --log-file {d}/log.jsonl", "log.jsonl:1: not UTF-8 text"),
    "catalogue missing": (
        "audit shortage --catalogue {d}/none.json",
        "catalogue {d}/none.json: no such file",
    ),
    "catalogue not JSON": (
        "audit shortage --catalogue {d}/codes.txt",
        "catalogue {d}/codes.txt:1: not JSON",
    ),
    "scans not JSON": (
        "audit anomalies --scans {d}/codes.txt",
        "codes.txt:1: not a verification record",
    ),
}

CASES: dict[str, tuple[str, str]] = {}
for name, argv in FILE_WRITERS.items():
    for problem, (path, expected) in BAD_FILES.items():
        CASES[f"{name}: {problem}"] = (f"{argv.format(file=path)} --as manufacturer {AT}", expected)
for name, argv in WRITERS.items():
    for problem, (option, expected) in BAD_KEYS.items():
        CASES[f"{name}: {problem}"] = (f"{argv} {option} {AT}", expected)
for name, argv in CONNECTED.items():
    who = " --as manufacturer" if name in WRITERS else ""
    for problem, (option, expected) in BAD_CHAINS.items():
        CASES[f"{name}: {problem}"] = (f"{argv}{who} {option}", expected)
CASES["deploy: unreachable node"] = (
    f"deploy {{d}}/good-members.json --key-file {{d}}/good.key --rpc {UNREACHABLE}",
    f"no JSON-RPC node answers at {UNREACHABLE}",
)
CASES["bad rpc scheme"] = (
    f"verify (01){GTIN}(21)OK1 --rpc ftp://node --deployment {{d}}/deployment.json",
    "chain URL must be 'eth-tester' or http(s)://..., got 'ftp://node'",
)
for problem, (argv, expected) in ONE_OFF.items():
    CASES[problem] = (f"{argv} {AT}", expected)


def _run(node: Anvil, files: Path, argv: str) -> tuple[int, str, BaseException | None]:
    text = argv.replace("{d}", str(files)).replace("{rpc}", node.url)
    result = CliRunner().invoke(app, shlex.split(text), env={"RXLEDGER_KEY": ""})
    exc = None if isinstance(result.exception, SystemExit) else result.exception
    return result.exit_code, result.output, exc


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_ends_in_one_line_naming_the_problem(node: Anvil, files: Path, case: str) -> None:
    argv, expected = CASES[case]
    code, out, exc = _run(node, files, argv)
    assert exc is None, f"uncaught {exc!r}"
    assert code != 0 and "Traceback" not in out, out
    assert expected.replace("{d}", str(files)) in out, out
    assert out.count("\n") == 1 and out.startswith("error: "), out


def test_bad_input_exits_2_and_a_refusal_by_the_chain_exits_1(
    node: Anvil, net: DevNetwork, files: Path
) -> None:
    assert _run(node, files, CASES["ship to an unknown member"][0])[0] == 2
    # a lot of another member's prefix: the client refuses before anything is sent
    code, out, _ = _run(node, files, f"lot register {GTIN} L9 281231 --as pharmacy_a {AT}")
    assert code == 2 and "create lots, packs and units under your own prefix" in out
    # a lot of its own prefix, by a member that may not register lots: the chain refuses
    own = make_gtin(WHOLESALER_A_PREFIX, 1)
    code, out, _ = _run(node, files, f"lot register {own} L9 281231 --as wholesaler_a {AT}")
    assert code == 1
    assert "ConsortiumMissingRole: wholesaler_a (0x" in out
    assert "holds WHOLESALER, COUNCIL, but this step needs one of MANUFACTURER, REPACKAGER" in out


def test_a_refused_shipment_names_the_pack_and_says_to_unpack_first(
    node: Anvil, net: DevNetwork, files: Path, tmp_path: Path
) -> None:
    codes = tmp_path / "case.csv"
    codes.write_text(f"gtin,serial,lot\n{GTIN},IN1,L1\n{GTIN},IN2,L1\n")
    case = "106141410000000026"
    assert _run(node, files, f"commission {codes} --into {case} --as manufacturer {AT}")[0] == 0
    code, out, _ = _run(node, files, f"ship {codes} --to wholesaler_a --as manufacturer {AT}")
    assert code == 1
    assert out.startswith(
        f"error: SerialRegistryStillPacked: pack (01){GTIN}(21)IN1 is still inside a case or "
        "pallet. Unpack the case or pallet holding it first (`rxledger unpack SSCC`)"
    )


def test_ship_to_takes_a_member_name_or_its_checksummed_or_lowercase_address(
    node: Anvil, net: DevNetwork, files: Path, tmp_path: Path
) -> None:
    pharmacy = net.address("pharmacy_a")
    forms = {"T1": "PHARMACY_A", "T2": pharmacy, "T3": pharmacy.lower()}
    codes = tmp_path / "all.txt"
    codes.write_text("".join(f"(01){GTIN}(10)L1(21){s}\n" for s in forms))
    assert _run(node, files, f"commission {codes} --as manufacturer {AT}")[0] == 0
    for serial, to in forms.items():
        one = tmp_path / f"{serial}.txt"
        one.write_text(f"(01){GTIN}(21){serial}\n")
        code, out, _ = _run(node, files, f"ship {one} --to {to} --as manufacturer {AT}")
        assert code == 0, out
        state = net["manufacturer"].pack_state(GTIN, serial)
        assert (state.status, state.pending_to) == (PackStatus.IN_TRANSIT, pharmacy)


def test_a_shipment_to_nobody_changes_nothing(
    node: Anvil, net: DevNetwork, files: Path, tmp_path: Path
) -> None:
    codes = tmp_path / "stay.txt"
    codes.write_text(f"(01){GTIN}(10)L1(21)STAY\n")
    assert _run(node, files, f"commission {codes} --as manufacturer {AT}")[0] == 0
    assert _run(node, files, f"ship {codes} --to nobody --as manufacturer {AT}")[0] == 2
    state = net["manufacturer"].pack_state(GTIN, "STAY")
    assert (state.status, state.custodian) == (PackStatus.ACTIVE, net.address("manufacturer"))


def test_ti_ts_runs_outside_the_repo_root_or_says_which_store_it_needs(
    node: Anvil, net: DevNetwork, files: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    unit = "106141410000000033"
    maker = net["manufacturer"]
    maker.commission(GTIN, "L1", ["TI1"], into_sscc=unit)
    maker.ship(net.address("wholesaler_a"), units=[unit])
    monkeypatch.chdir(tmp_path)
    code, out, _ = _run(node, files, f"epcis ti-ts --sscc {unit} {AT}")
    assert code == 2
    assert f"no EPCIS store at .rxledger/epcis.sqlite (in {tmp_path})" in out
    code, out, _ = _run(node, files, f"epcis ti-ts --sscc {unit} --store {{d}}/store.sqlite {AT}")
    assert code == 0, out
    info = json.loads(out)["transaction_information"]
    assert info["packs_without_clear_identifiers"] == 1
    assert info["buyer"]["account"] == net.address("wholesaler_a")


def test_a_lost_node_is_one_line_naming_the_node() -> None:
    text, code = message(requests.ConnectionError("refused"), Known(rpc="http://node:8545"))
    assert code == 1
    assert text == (
        "the JSON-RPC node at http://node:8545 stopped answering (ConnectionError); "
        "nothing more was sent"
    )


def test_an_unexpected_error_is_one_line_unless_debugging() -> None:
    text, code = message(ZeroDivisionError("division by zero"))
    assert code == 1
    assert text == (
        "internal error: ZeroDivisionError: division by zero (RXLEDGER_DEBUG=1 shows where)"
    )


def test_a_duplicate_in_a_batch_is_worded_like_a_refusal_and_exits_1() -> None:
    pid = pack_hash(GTIN, "D1")
    known = Known(codes={pid: f"pack (01){GTIN}(21)D1"})
    text, code = message(DuplicateInBatchError("pack ids", pid), known)
    assert code == 1
    assert text == (
        f"DuplicateInBatch: the batch names pack (01){GTIN}(21)D1 more than once. "
        "List each code once."
    )


def test_python_m_ledger_client_cli_runs_the_cli(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "ledger_client.cli", "verify", "junk"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.strip() == "error: no GS1 Application Identifier at position 1: 'junk'"
