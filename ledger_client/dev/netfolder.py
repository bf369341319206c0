"""The folder ``rxledger network init`` writes for a consortium network, and reads back.

::

    network.json        what was set up, no secret: partners, addresses, ports (this module)
    genesis.json        Clique genesis: the partners' signers, every member and the deployer funded
    members.json        the bootstrap members, for ``rxledger deploy``
    deployer/           keystore.json + password: the account that pays for deployment
    <partner>/member/   keystore.json + password: the member's key, its gateway's operator key
    <partner>/node/     geth datadir: keystore/signer.json + password (sealing key), nodekey,
                        config.toml (static peers)
    <partner>/gateway/  gateway.env (the gateway's settings and secrets), its SQLite files

Every key file, password and ``gateway.env`` is created with mode 0600; no secret is
printed or logged.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount

from ledger_client.dev.clique import GethNode, clique_genesis
from ledger_client.dev.netconfig import NetworkConfig
from ledger_client.dev.ports import free_port
from ledger_client.errors import ConfigurationError, InvalidInputError
from ledger_client.keystore import STANDARD_SCRYPT_N, write_keystore, write_secret
from ledger_client.lot_keys import new_lot_key, write_lot_keys

MANIFEST = "network.json"
YEAR = 365 * 24 * 3600


@dataclass(frozen=True)
class PartnerSite:
    """One partner as set up: its member, its node's signer and ports, its gateway's port."""

    name: str
    roles: list[str]
    gln: str
    prefixes: list[str]
    database: str
    licence_expiry: int
    address: str
    signer: str
    enode: str
    http_port: int
    p2p_port: int
    auth_port: int
    gateway_port: int

    @property
    def chain_url(self) -> str:
        """Its node's JSON-RPC URL."""
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def gateway_url(self) -> str:
        """Its gateway's URL."""
        return f"http://127.0.0.1:{self.gateway_port}"


@dataclass(frozen=True)
class NetworkFolder:
    """A network folder: the chain's parameters and the partners, with where each file is."""

    root: Path
    chain_id: int
    period: int
    gas_limit: int
    threshold: int
    deployer: str
    #: The loopback port of the network's PostgreSQL server (None when no partner uses it).
    postgres_port: int | None
    partners: list[PartnerSite]

    @classmethod
    def load(cls, root: Path) -> NetworkFolder:
        """Read the folder ``root`` that ``rxledger network init`` wrote."""
        path = root / MANIFEST
        if not path.is_file():
            raise ConfigurationError(
                f"{root} is not a network folder (no {MANIFEST}): run `rxledger network init`"
            )
        data = json.loads(path.read_text())
        partners = [PartnerSite(**p) for p in data.pop("partners")]
        return cls(root=root.resolve(), partners=partners, **data)

    def save(self) -> None:
        """Write ``network.json``."""
        data = asdict(self)
        del data["root"]
        (self.root / MANIFEST).write_text(json.dumps(data, indent=2) + "\n")

    def partner(self, name: str) -> PartnerSite:
        """The partner called ``name``."""
        for p in self.partners:
            if p.name == name:
                return p
        raise InvalidInputError(
            f"no partner {name!r} in {self.root}: one of {', '.join(p.name for p in self.partners)}"
        )

    @property
    def genesis(self) -> Path:
        return self.root / "genesis.json"

    @property
    def members_file(self) -> Path:
        return self.root / "members.json"

    @property
    def deployment_file(self) -> Path:
        """Where the deployment is written once the contracts are deployed."""
        return self.root / "deployment.json"

    def keystore(self, owner: str) -> tuple[Path, Path]:
        """The keystore and password file of ``owner``: ``deployer`` or a partner's member."""
        folder = self.root / owner if owner == "deployer" else self.root / owner / "member"
        return folder / "keystore.json", folder / "password"

    def lot_keys(self, owner: str) -> Path:
        """The lot key file of partner ``owner``'s member: a producer's own key, a
        regulator's every producer's (docs/privacy.md)."""
        return self.root / owner / "member" / "lot.keys"

    def node_dir(self, name: str) -> Path:
        return self.root / name / "node"

    def gateway_dir(self, name: str) -> Path:
        return self.root / name / "gateway"

    def gateway_env(self, name: str) -> Path:
        return self.gateway_dir(name) / "gateway.env"


#: The roles whose members register lots, and so have a lot key of their own.
PRODUCER_ROLES = frozenset({"MANUFACTURER", "REPACKAGER"})


def init_network(
    config: NetworkConfig,
    root: Path,
    password: str | None = None,
    scrypt_n: int = STANDARD_SCRYPT_N,
) -> NetworkFolder:
    """Write the network folder ``root`` for ``config`` (it must not exist, or be empty):
    new keys for every member, signer and the deployer, encrypted with ``password`` (a new
    random one per keystore when None), a lot key for every producer (given to the
    regulators too), free loopback ports for every node and gateway."""
    if root.exists() and any(root.iterdir()):
        raise InvalidInputError(f"{root} exists and is not empty: remove it or give another --out")
    root = root.resolve()
    root.mkdir(parents=True, exist_ok=True)
    now = int(time.time())
    members = {p.name: Account.create() for p in config.partners}
    nodes = {
        p.name: GethNode(p.name, root / p.name / "node", Account.create(), config.chain.chain_id)
        for p in config.partners
    }
    deployer = Account.create()
    uses_postgres = any(p.database == "postgresql" for p in config.partners)
    folder = NetworkFolder(
        root=root,
        chain_id=config.chain.chain_id,
        period=config.chain.period,
        gas_limit=config.chain.gas_limit,
        threshold=config.chain.threshold,
        deployer=deployer.address,
        postgres_port=free_port() if uses_postgres else None,
        partners=[
            PartnerSite(
                name=p.name,
                roles=p.roles,
                gln=p.gln,
                prefixes=p.prefixes,
                database=p.database,
                licence_expiry=now + p.licence_years * YEAR,
                address=members[p.name].address,
                signer=nodes[p.name].signer.address,
                enode=nodes[p.name].enode,
                http_port=nodes[p.name].http_port,
                p2p_port=nodes[p.name].p2p_port,
                auth_port=nodes[p.name].auth_port,
                gateway_port=free_port(),
            )
            for p in config.partners
        ],
    )

    def keystore(paths: tuple[Path, Path], account: LocalAccount) -> None:
        secret = password if password is not None else secrets.token_urlsafe(24)
        write_keystore(paths[0], account, secret, scrypt_n)
        write_secret(paths[1], secret)

    keystore(folder.keystore("deployer"), deployer)
    producers = {p.name for p in folder.partners if PRODUCER_ROLES & set(p.roles)}
    lot_keys = {name: new_lot_key() for name in producers}
    for site in folder.partners:
        keystore(folder.keystore(site.name), members[site.name])
        held = {
            members[name].address: key
            for name, key in lot_keys.items()
            if name == site.name or "REGULATOR" in site.roles
        }
        if held:
            write_lot_keys(folder.lot_keys(site.name), held)
        node = nodes[site.name]
        keystore(
            (node.datadir / "keystore" / "signer.json", node.datadir / "password"), node.signer
        )
        write_secret(node.datadir / "nodekey", node.node_key.hex())
        peers = ", ".join(f'"{p.enode}"' for p in folder.partners if p is not site)
        (node.datadir / "config.toml").write_text(f"[Node.P2P]\nStaticNodes = [{peers}]\n")
        write_secret(folder.gateway_env(site.name), gateway_env(folder, site))
    genesis = clique_genesis(
        folder.chain_id,
        [p.signer for p in folder.partners],
        folder.period,
        [deployer.address, *(p.address for p in folder.partners)],
        folder.gas_limit,
    )
    folder.genesis.write_text(json.dumps(genesis, indent=1) + "\n")
    folder.members_file.write_text(json.dumps(members_entries(folder), indent=2) + "\n")
    folder.save()
    return folder


def members_entries(folder: NetworkFolder) -> list[dict[str, object]]:
    """The members file ``rxledger deploy`` takes (docs/deployment.md §2)."""
    return [
        {
            "name": p.name,
            "address": p.address,
            "gln": int(p.gln),
            "roles": p.roles,
            "licence_expiry": p.licence_expiry,
            "prefixes": p.prefixes,
        }
        for p in folder.partners
    ]


def database_url(folder: NetworkFolder, site: PartnerSite) -> str:
    """The partner's gateway database: a SQLite file in its gateway folder, or its own
    database (and role) on the network's PostgreSQL server."""
    if site.database == "postgresql":
        return f"postgresql+psycopg://{site.name}@127.0.0.1:{folder.postgres_port}/{site.name}"
    return f"sqlite:///{folder.gateway_dir(site.name) / 'gateway.db'}"


def gateway_env(folder: NetworkFolder, site: PartnerSite) -> str:
    """The partner's gateway settings (``gateway/core/config.py``) as an env file: its own
    node, its database, the operator key from the member's keystore, new secrets."""
    keystore, password = folder.keystore(site.name)
    held_keys = folder.lot_keys(site.name).exists()
    settings = {
        "ENVIRONMENT": "staging",
        "CHAIN_URL": site.chain_url,
        "DEPLOYMENT_FILE": folder.deployment_file,
        "DATABASE_URL": database_url(folder, site),
        "EPCIS_STORE": folder.gateway_dir(site.name) / "epcis.sqlite",
        "OPERATOR_KEYSTORE": keystore,
        "OPERATOR_PASSWORD_FILE": password,
        **({"LOT_KEYS_FILE": folder.lot_keys(site.name)} if held_keys else {}),
        "CONSOLE_KEY": secrets.token_urlsafe(32),
        "TOKEN_SECRET": secrets.token_urlsafe(32),
        "HOST": "127.0.0.1",
        "PORT": site.gateway_port,
        "PUBLIC_URL": site.gateway_url,
    }
    lines = [f"# {site.name}'s gateway: `set -a; . ./gateway.env; set +a; python -m gateway`"]
    return "\n".join([*lines, *(f"RXLEDGER_{k}={v}" for k, v in settings.items())]) + "\n"
