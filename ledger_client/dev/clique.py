"""A local Clique (proof-of-authority) network of geth signer nodes, built by ``make geth``.

Every node seals with its own generated key, kept in an encrypted keystore in a temporary
folder with its password file (never in the repository), and peers only with the others
(static peers, no discovery). The dev accounts given as ``funded`` get ether in the genesis.
"""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_keys import keys
from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import TransactionNotFound
from web3.types import RPCEndpoint

from ledger_client._paths import ROOT
from ledger_client.chain import connect
from ledger_client.dev.anvil import DEV_GAS_LIMIT, ChildProcess, Service
from ledger_client.dev.clique_watchdog import CliqueWatchdog
from ledger_client.dev.ports import free_port
from ledger_client.errors import ConfigurationError

GETH = ROOT / "tools" / "bin" / "geth"
CLIQUE_CHAIN_ID = 4242
#: Ether each funded account gets in the genesis (as anvil's dev accounts have).
GENESIS_BALANCE = 10**22
#: geth's light scrypt (N=4096): the keystores live in a temporary folder for one run.
KEYSTORE_SCRYPT_N = 4096
#: Forks up to London: geth's Clique refuses Shanghai and later.
FORK_BLOCKS = (
    "homestead",
    "eip150",
    "eip155",
    "eip158",
    "byzantium",
    "constantinople",
    "petersburg",
    "istanbul",
    "berlin",
    "london",
)


def geth_binary() -> Path:
    """Return the geth that ``make geth`` builds; raise when it is missing."""
    if not GETH.is_file():
        raise ConfigurationError(f"geth not found at {GETH}: run `make geth` first")
    return GETH


def clique_genesis(
    chain_id: int,
    signers: Iterable[str],
    period: int,
    funded: Iterable[str] = (),
    gas_limit: int = DEV_GAS_LIMIT,
) -> dict[str, Any]:
    """Return a geth genesis: Clique with ``signers`` in its extraData (32-byte vanity, the
    addresses, an empty 65-byte seal), a block every ``period`` seconds, ``funded`` funded."""
    addresses = "".join(Web3.to_checksum_address(s)[2:].lower() for s in signers)
    return {
        "config": {
            "chainId": chain_id,
            **{f"{fork}Block": 0 for fork in FORK_BLOCKS},
            "clique": {"period": period, "epoch": 30000},
        },
        "difficulty": "0x1",
        "gasLimit": hex(gas_limit),
        "extraData": "0x" + "00" * 32 + addresses + "00" * 65,
        "alloc": {Web3.to_checksum_address(a): {"balance": hex(GENESIS_BALANCE)} for a in funded},
    }


@dataclass(eq=False)
class GethNode(ChildProcess):
    """One geth signer: its datadir (keystore, chain), ports and sealing key.

    ``node_key`` is its p2p identity, ``gas_limit`` the block gas limit it seals towards,
    ``cache_mb`` geth's memory for caching state (``--cache``; geth's own default when None);
    ``start()`` runs it after :meth:`init` wrote its files.
    """

    name: str
    datadir: Path
    signer: LocalAccount
    chain_id: int
    node_key: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    http_port: int = field(default_factory=free_port)
    p2p_port: int = field(default_factory=free_port)
    auth_port: int = field(default_factory=free_port)
    gas_limit: int = DEV_GAS_LIMIT
    cache_mb: int | None = None
    process: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)

    @property
    def url(self) -> str:
        """The node's JSON-RPC URL."""
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def public_key(self) -> str:
        """The node's p2p public key (hex), as its peers list it."""
        return str(keys.PrivateKey(self.node_key).public_key.to_bytes().hex())

    @property
    def enode(self) -> str:
        """The node's p2p address, as its peers dial it."""
        return f"enode://{self.public_key}@127.0.0.1:{self.p2p_port}"

    @property
    def log_file(self) -> Path:
        """Where geth writes its log."""
        return self.datadir / "geth.log"

    def init(self, genesis: Path, peers: list[str], password: str) -> None:
        """Write the keystore, password, static peers and node key, and init the chain."""
        keystore = self.datadir / "keystore"
        keystore.mkdir(parents=True)
        encrypted = Account.encrypt(self.signer.key, password, iterations=KEYSTORE_SCRYPT_N)
        (keystore / "signer.json").write_text(json.dumps(encrypted))
        (self.datadir / "password").write_text(password)
        (self.datadir / "nodekey").write_text(self.node_key.hex())
        static = ", ".join(f'"{p}"' for p in peers)
        (self.datadir / "config.toml").write_text(f"[Node.P2P]\nStaticNodes = [{static}]\n")
        self.init_chain(genesis)

    def init_chain(self, genesis: Path) -> None:
        """Write the chain's genesis block into the datadir (``geth init``), once."""
        if (self.datadir / "geth" / "chaindata").is_dir():
            return
        init = subprocess.run(
            [str(geth_binary()), "init", "--datadir", str(self.datadir), str(genesis)],
            capture_output=True,
            text=True,
        )
        if init.returncode != 0:
            raise ConfigurationError(f"geth init of {self.name} failed:\n{init.stderr[-2000:]}")

    def start(self, timeout: float = 60.0) -> Self:
        """Start the node with its signer key unlocked, not sealing yet (:meth:`seal`); wait
        until it answers."""
        self.launch()
        self.wait_until_answering(timeout)
        return self

    def launch(self) -> None:
        """Start the node's geth and return at once (:meth:`wait_until_answering`)."""
        signer = self.signer.address
        args = [
            str(geth_binary()),
            "--config", str(self.datadir / "config.toml"),
            "--datadir", str(self.datadir),
            "--nodekey", str(self.datadir / "nodekey"),
            "--networkid", str(self.chain_id),
            "--syncmode", "full",
            "--port", str(self.p2p_port),
            "--nodiscover", "--nat", "none", "--ipcdisable",
            "--http", "--http.addr", "127.0.0.1", "--http.port", str(self.http_port),
            # admin (peers) and debug (debug_setHead) serve the watchdog and the tests.
            "--http.api", "eth,net,web3,miner,clique,admin,debug",
            "--authrpc.addr", "127.0.0.1", "--authrpc.port", str(self.auth_port),
            "--miner.etherbase", signer, "--miner.gaslimit", str(self.gas_limit),
            # The signer must be unlocked to seal; HTTP listens on loopback only.
            "--unlock", signer, "--password", str(self.datadir / "password"),
            "--allow-insecure-unlock",
        ]  # fmt: skip
        if self.cache_mb is not None:
            args += ["--cache", str(self.cache_mb)]
        with self.log_file.open("ab") as log:
            self.process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)

    def wait_until_answering(self, timeout: float = 60.0) -> None:
        """Wait until the launched node answers JSON-RPC; raise with its log tail if it exits
        or stays silent."""
        assert self.process is not None, "launch() first"
        w3 = Web3(Web3.HTTPProvider(self.url))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ConfigurationError(
                    f"geth {self.name} exited with {self.process.returncode}:\n{self.log_tail()}"
                )
            if w3.is_connected():
                return
            time.sleep(0.2)
        self.stop()
        raise ConfigurationError(
            f"geth {self.name} did not answer within {timeout} s:\n{self.log_tail()}"
        )

    def seal(self) -> None:
        """Start sealing blocks (``miner_start``)."""
        Web3(Web3.HTTPProvider(self.url)).manager.request_blocking(RPCEndpoint("miner_start"), [])

    def kill(self) -> None:
        """Kill the node at once (SIGKILL, as a crash or power loss)."""
        if self.process is not None and self.running:
            self.process.kill()
            self.process.wait()

    def log_tail(self, lines: int = 20) -> str:
        """The last ``lines`` of the node's log."""
        return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])

    @property
    def running(self) -> bool:
        """True while the node's geth runs."""
        return self.process is not None and self.process.poll() is None


class CliqueNetwork(Service):
    """``size`` geth Clique signers on loopback, sealing a block every ``period`` seconds, of
    at most ``gas_limit`` gas (in the genesis and each signer's); with ``signers`` only the
    first that many nodes seal and the others follow, importing every block.

    A context manager: entering writes the genesis and node folders under ``root`` (a new
    temporary folder, removed on exit, by default), starts every node and waits until all
    are peered and blocks advance; exiting stops them. A signer seals only once it is peered:
    signers that seal alone each start their own chain, and Clique's rule that a signer seals
    at most one of ``size // 2 + 1`` consecutive blocks then stalls every one of them. While
    it runs, a :class:`CliqueWatchdog` (unless ``watchdog=False``) ends the deadlock of two
    forks on which no signer may seal. ``cache_mb`` is each node's state cache (geth's
    ``--cache``), for histories whose state outgrows geth's default.
    """

    def __init__(
        self,
        size: int = 4,
        period: int = 2,
        funded: Iterable[str] = (),
        chain_id: int = CLIQUE_CHAIN_ID,
        root: Path | None = None,
        gas_limit: int = DEV_GAS_LIMIT,
        watchdog: bool = True,
        signers: int | None = None,
        cache_mb: int | None = None,
    ) -> None:
        self.period = period
        self.gas_limit = gas_limit
        #: How many of the nodes (the first ones) seal; the others only import and execute.
        self.signers = size if signers is None else signers
        self.funded = list(funded)
        self.chain_id = chain_id
        self._own_root = root is None
        self.root = root or Path(tempfile.mkdtemp(prefix="rxledger-clique-"))
        self.nodes = [
            GethNode(
                f"signer{i + 1}",
                self.root / f"signer{i + 1}",
                Account.create(),
                chain_id,
                gas_limit=gas_limit,
                cache_mb=cache_mb,
            )
            for i in range(size)
        ]
        self._w3: dict[str, Web3] = {}
        #: Ends Clique's fork deadlock while the network runs (None when off).
        self.watchdog = CliqueWatchdog(self) if watchdog else None

    def start(self, timeout: float = 60.0) -> Self:
        """Initialise every node, start them all and wait until the network is sealing."""
        self._prepare()
        try:
            for node in self.nodes:
                node.launch()
            for node in self.nodes:
                node.wait_until_answering(timeout)
            self.wait_until_peered(0, timeout)
            # The genesis is old, so block 1 is due at once: its in-turn signer seals it the
            # moment it starts, and a node that does not seal yet drops the blocks it is sent
            # (geth deems it still syncing), seals a block 1 of its own, and the signers can
            # end on two forks on which none of them may seal. The in-turn signer starts last.
            first = self.in_turn(1)
            for i in [*(i for i in range(self.signers) if i != first), first]:
                self.nodes[i].seal()
            self.wait_until_peered(2, timeout)
        except BaseException:
            self.stop()
            raise
        if self.watchdog is not None:
            self.watchdog.start()
        return self

    def _prepare(self) -> None:
        """Write each node's genesis, keys and peers, and init its chain."""
        genesis = clique_genesis(
            self.chain_id,
            [n.signer.address for n in self.nodes[: self.signers]],
            self.period,
            self.funded,
            self.gas_limit,
        )
        password = secrets.token_hex(16)
        for node in self.nodes:
            node.datadir.mkdir(parents=True)
            path = node.datadir / "genesis.json"
            path.write_text(json.dumps(genesis, indent=1))
            node.init(path, [p.enode for p in self.nodes if p is not node], password)

    def stop(self) -> None:
        """Stop the watchdog and every node; remove the network's folder if this network made
        it."""
        if self.watchdog is not None:
            self.watchdog.stop()
        for node in self.nodes:
            node.stop()
        if self._own_root:
            shutil.rmtree(self.root, ignore_errors=True)

    def w3(self, index: int) -> Web3:
        """A Web3 connected to node ``index`` (0-based)."""
        node = self.nodes[index]
        if node.url not in self._w3:
            self._w3[node.url] = connect(node.url)
        return self._w3[node.url]

    def in_turn(self, height: int) -> int:
        """The index of the node whose signer is in turn at block ``height`` (Clique orders
        the signers by address)."""
        order = sorted(range(self.signers), key=lambda i: self.nodes[i].signer.address.lower())
        return order[height % len(order)]

    def running(self) -> list[int]:
        """The indexes of the nodes whose geth runs."""
        return [i for i, n in enumerate(self.nodes) if n.running]

    def heads(self) -> dict[int, int]:
        """Each running node's latest block number."""
        return {i: self.w3(i).eth.block_number for i in self.running()}

    def wait_until_peered(self, height: int, timeout: float = 60.0) -> None:
        """Wait until each running node peers with all other running nodes and has reached
        block ``height``."""
        peers = len(self.running()) - 1

        def peered() -> bool:
            return all(
                head >= height and self.w3(i).net.peer_count >= peers
                for i, head in self.heads().items()
            )

        self.wait_until(peered, timeout, f"the nodes did not peer and reach block {height}")

    def wait_for_transaction(self, tx_hash: bytes, timeout: float = 60.0) -> int:
        """Wait until every running node has ``tx_hash`` in the same block; return its number."""
        found: dict[int, Any] = {}

        def everywhere() -> bool:
            found.clear()
            for i in self.running():
                try:
                    found[i] = self.w3(i).eth.get_transaction_receipt(HexBytes(tx_hash))
                except TransactionNotFound:
                    return False
            return len({bytes(r["blockHash"]) for r in found.values()}) == 1

        self.wait_until(everywhere, timeout, f"not every node has transaction {tx_hash.hex()}")
        return int(next(iter(found.values()))["blockNumber"])

    def agreed_hash(self, height: int, timeout: float = 60.0) -> bytes:
        """Wait until every running node has the same block at ``height``; return its hash."""
        hashes: set[bytes] = set()

        def agreed() -> bool:
            hashes.clear()
            for i, head in self.heads().items():
                if head < height:
                    return False
                hashes.add(bytes(self.w3(i).eth.get_block(height)["hash"]))
            return len(hashes) == 1

        self.wait_until(agreed, timeout, f"the nodes do not agree on block {height}")
        return hashes.pop()

    def signer_of(self, height: int, index: int = 0) -> str:
        """Who sealed block ``height``, as node ``index`` sees it (``clique_getSigner``)."""
        method = RPCEndpoint("clique_getSigner")
        return Web3.to_checksum_address(
            self.w3(index).manager.request_blocking(method, [hex(height)])
        )

    def wait_for_seal(self, index: int, timeout: float = 60.0) -> int:
        """Wait until node ``index`` seals a block above the highest head now; return it."""
        signer = self.nodes[index].signer.address
        start = max(self.heads().values())
        sealed: list[int] = []

        def has_sealed() -> bool:
            head = self.w3(index).eth.block_number
            sealed[:] = [
                h for h in range(start + 1, head + 1) if self.signer_of(h, index) == signer
            ]
            return bool(sealed)

        self.wait_until(has_sealed, timeout, f"{self.nodes[index].name} sealed no block")
        return sealed[0]

    @contextmanager
    def down(self, index: int, timeout: float = 120.0) -> Iterator[GethNode]:
        """Kill node ``index`` (a crash) for the ``with`` block; then restart it, wait until
        it is peered again and agrees on the block the others had reached, and let it seal."""
        node = self.nodes[index]
        node.kill()
        try:
            yield node
        finally:
            reached = max(self.heads().values())
            node.start()
            self.wait_until_peered(reached, timeout)
            self.agreed_hash(reached, timeout)
            if index < self.signers:
                node.seal()

    def wait_until(self, done: Callable[[], bool], timeout: float, failure: str) -> None:
        """Wait until ``done()`` holds; raise ``failure`` with every node's log tail after
        ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while not done():
            if time.monotonic() > deadline:
                logs = "\n".join(f"--- {n.name}\n{n.log_tail()}" for n in self.nodes)
                raise ConfigurationError(f"{failure} within {timeout} s\n{logs}")
            time.sleep(0.2)
