"""A network folder run on this machine (``make network``): every partner's geth Clique
signer, the PostgreSQL server its partners' gateways use, the contracts, and each partner's
gateway on its own node with its own store."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Self

import httpx
from dotenv import dotenv_values
from eth_account.signers.local import LocalAccount

from ledger_client._paths import ROOT
from ledger_client.contracts import Deployment, MemberSpec, Role, deploy_network
from ledger_client.dev.anvil import ChildProcess, Service
from ledger_client.dev.clique import CliqueNetwork, GethNode
from ledger_client.dev.netfolder import NetworkFolder, PartnerSite
from ledger_client.dev.postgres import PostgresCluster
from ledger_client.errors import ConfigurationError
from ledger_client.keystore import load_keystore


class FolderNetwork(CliqueNetwork):
    """The partners' signers of a network folder, each run from its own datadir: the chain
    stays in the folder between runs (``geth init`` only on the first)."""

    def __init__(self, folder: NetworkFolder) -> None:
        super().__init__(size=0, period=folder.period, chain_id=folder.chain_id, root=folder.root)
        self.folder = folder
        self.nodes = [self._node(site) for site in folder.partners]
        self.signers = len(self.nodes)

    def _node(self, site: PartnerSite) -> GethNode:
        datadir = self.folder.node_dir(site.name)
        return GethNode(
            site.name,
            datadir,
            load_keystore(datadir / "keystore" / "signer.json", datadir / "password"),
            self.chain_id,
            node_key=bytes.fromhex((datadir / "nodekey").read_text()),
            http_port=site.http_port,
            p2p_port=site.p2p_port,
            auth_port=site.auth_port,
            gas_limit=self.folder.gas_limit,
        )

    def _prepare(self) -> None:
        for node in self.nodes:
            node.init_chain(self.folder.genesis)


class GatewayServer(ChildProcess):
    """``python -m gateway`` with the settings of a partner's ``gateway.env`` (the variables
    of this process named ``RXLEDGER_*`` left out), logging to ``gateway.log`` beside it."""

    def __init__(self, env_file: Path) -> None:
        values = dotenv_values(env_file)
        self.env = {k: v for k, v in values.items() if v is not None}
        self.url = self.env["RXLEDGER_PUBLIC_URL"]
        self.console = {"Authorization": f"Bearer {self.env['RXLEDGER_CONSOLE_KEY']}"}
        self.log_file = env_file.parent / "gateway.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 120.0) -> Self:
        """Start the gateway; return once its index has caught up with the chain."""
        self.launch()
        self.wait_caught_up(timeout)
        return self

    def launch(self) -> None:
        """Start the gateway's process (:meth:`wait_caught_up` waits until it serves)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("RXLEDGER_")}
        with self.log_file.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gateway"],
                cwd=ROOT,
                env={**env, **self.env},
                stdout=subprocess.DEVNULL,
                stderr=log,
            )

    def wait_caught_up(self, timeout: float = 120.0) -> None:
        """Wait until the gateway is ready and its index has reached the confirmed head."""
        self._wait(
            lambda ready: ready["status"] == "ok" and ready["checks"]["indexer_lag_blocks"] == 0,
            timeout,
            "did not catch up with the chain",
        )

    def wait_indexed(self, block: int, timeout: float = 120.0) -> None:
        """Wait until the gateway's index has reached ``block``."""
        self._wait(
            lambda ready: ready["checks"]["indexed_block"] >= block,
            timeout,
            f"did not index block {block}",
        )

    def client(self) -> httpx.Client:
        """An HTTP client of the gateway, acting as its operator's staff (console key)."""
        return httpx.Client(base_url=self.url, headers=self.console, timeout=60)

    def _wait(self, done: Callable[[Any], bool], timeout: float, failure: str) -> None:
        deadline = time.monotonic() + timeout
        with httpx.Client(base_url=self.url, timeout=10) as client:
            while time.monotonic() < deadline:
                if self.process is not None and self.process.poll() is not None:
                    raise ConfigurationError(
                        f"the gateway at {self.url} exited:\n{self.log_tail()}"
                    )
                try:
                    if done(client.get("/readyz").json()):
                        return
                except (httpx.HTTPError, ValueError, KeyError):
                    pass
                time.sleep(0.3)
        raise ConfigurationError(f"the gateway at {self.url} {failure} within {timeout} s")

    def log_tail(self, chars: int = 3000) -> str:
        """The end of the gateway's log."""
        return self.log_file.read_text(errors="replace")[-chars:] if self.log_file.exists() else ""


class Consortium(Service):
    """A network folder running: nodes, PostgreSQL (when a partner's gateway uses it), the
    contracts (deployed on the first run), a gateway per partner. ``say`` reports progress."""

    def __init__(self, folder: NetworkFolder, say: Callable[[str], None] = lambda _: None) -> None:
        self.folder = folder
        self.say = say
        self.network = FolderNetwork(folder)
        self.postgres = PostgresCluster(folder.postgres_port) if folder.postgres_port else None
        self.gateways = {p.name: GatewayServer(folder.gateway_env(p.name)) for p in folder.partners}
        self.deployment: Deployment | None = None

    def start(self) -> Self:
        """Start everything, in order; stop what started if a step fails."""
        try:
            self.say(f"starting {len(self.network.nodes)} geth Clique signers")
            self.network.start()
            if self.postgres is not None:
                self.postgres.start()
                for p in self.folder.partners:
                    if p.database == "postgresql":
                        self.postgres.create_database(p.name)
                self.say(f"PostgreSQL on 127.0.0.1:{self.postgres.port}")
            self.deployment = self._deployment()
            for gateway in self.gateways.values():
                gateway.launch()
            for name, gateway in self.gateways.items():
                gateway.wait_caught_up()
                self.say(f"{name}'s gateway on {gateway.url}")
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop the gateways, PostgreSQL and the nodes."""
        for gateway in self.gateways.values():
            gateway.stop()
        if self.postgres is not None:
            self.postgres.stop()
        self.network.stop()

    def _deployment(self) -> Deployment:
        """The folder's deployment when it is live on the chain, else a new one."""
        w3 = self.network.w3(0)
        path = self.folder.deployment_file
        if path.is_file():
            saved = Deployment.load(path)
            if saved.is_live(w3):
                self.say(f"contracts of {path} live at registry {saved.registry}")
                return saved
        self.say("deploying the contracts (each transaction waits for its block)")
        deployer: LocalAccount = load_keystore(*self.folder.keystore("deployer"))
        deployment = deploy_network(w3, deployer, member_specs(self.folder), self.folder.threshold)
        deployment.save(path)
        self.say(f"deployed: registry {deployment.registry}")
        return deployment


def member_specs(folder: NetworkFolder) -> list[MemberSpec]:
    """The folder's partners as bootstrap members."""
    specs = []
    for p in folder.partners:
        roles = Role(0)
        for role in p.roles:
            roles |= Role[role]
        specs.append(
            MemberSpec(p.name, p.address, int(p.gln), roles, p.licence_expiry, tuple(p.prefixes))
        )
    return specs
