"""The member acting and its chain, from a command's common options, opened on first use.

A command takes a :class:`Session` through one of the aliases at the end (see
:mod:`ledger_client.cli.options`); nothing connects or reads a key before the command asks,
so its own input is checked first.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Annotated

from eth_account.signers.local import LocalAccount
from web3 import Web3

from ledger_client.chain import connect, dev_account
from ledger_client.cli.options import (
    DEFAULT_DEPLOYMENT,
    DEFAULT_RPC,
    DEFAULT_STORE,
    AsOpt,
    Common,
    DeploymentOpt,
    KeyOpt,
    LotKeysOpt,
    RpcOpt,
    StoreOpt,
)
from ledger_client.cli.reporting import remember
from ledger_client.contracts import Deployment
from ledger_client.devnet import DEMO_MEMBERS
from ledger_client.errors import ConfigurationError, InvalidInputError
from ledger_client.inputs import account_from_key, read_text, resolve_member
from ledger_client.keystore import load_keystore
from ledger_client.ledger import Ledger
from ledger_client.lot_keys import keys_by_index, ledger_keys, read_lot_keys


def keystore_password_file(keystore: Path) -> Path:
    """The password file of an encrypted ``--key-file``: ``RXLEDGER_PASSWORD_FILE``, else the
    ``password`` file beside it (as ``rxledger network init`` writes them)."""
    named = os.environ.get("RXLEDGER_PASSWORD_FILE")
    return Path(named) if named else keystore.parent / "password"


@dataclass
class Session:
    """The common options a command was given; its account, chain and ledger when used."""

    rpc: RpcOpt = DEFAULT_RPC
    deployment: DeploymentOpt = DEFAULT_DEPLOYMENT
    member: AsOpt = None
    key_file: KeyOpt = None
    lot_keys: LotKeysOpt = None
    store: StoreOpt = DEFAULT_STORE

    @cached_property
    def account(self) -> LocalAccount:
        """The acting member's key: ``--key-file``, else ``RXLEDGER_KEY``, else ``--as``."""
        if self.key_file is not None:
            text = read_text(self.key_file, "--key-file")
            if text.lstrip().startswith("{"):
                return load_keystore(self.key_file, keystore_password_file(self.key_file))
            return account_from_key(text, f"--key-file {self.key_file}")
        if os.environ.get("RXLEDGER_KEY"):
            return account_from_key(os.environ["RXLEDGER_KEY"], "RXLEDGER_KEY")
        if self.member is not None:
            if self.member not in DEMO_MEMBERS:
                raise InvalidInputError(
                    f"--as {self.member!r} is not a demo member: one of {', '.join(DEMO_MEMBERS)}"
                )
            return dev_account(self.member)
        raise InvalidInputError(
            "say who acts: --key-file, RXLEDGER_KEY, or --as MEMBER on the demo network"
        )

    @cached_property
    def chain(self) -> tuple[Web3, Deployment]:
        """The node and the deployment on it (see :func:`open_deployment`)."""
        return open_deployment(self.rpc, self.deployment)

    @cached_property
    def names(self) -> dict[str, str]:
        """Member name -> address: the deployment file's, else the demo network's."""
        _, deployment = self.chain
        return dict(deployment.members) or {n: dev_account(n).address for n in DEMO_MEMBERS}

    @cached_property
    def ledger(self) -> Ledger:
        """The acting member's ledger: its key picked first, then the chain opened."""
        account = self.account
        w3, deployment = self.chain
        remember(members={address: name for name, address in self.names.items()})
        consortium = deployment.contract(w3, "Consortium")
        own, others = ledger_keys(self.lot_keys, account.address, consortium)
        return Ledger(w3, deployment, account, lot_key=own, lot_keys=others)

    @cached_property
    def held_lot_keys(self) -> dict[int, bytes]:
        """The lot keys of ``--lot-keys``, by member index (none without the option)."""
        if self.lot_keys is None:
            return {}
        w3, deployment = self.chain
        return keys_by_index(read_lot_keys(self.lot_keys), deployment.contract(w3, "Consortium"))

    def address_of(self, text: str, what: str = "--to") -> str:
        """The address of a member given by name or address."""
        return resolve_member(text, self.names, what)


def open_deployment(rpc: str, path: Path) -> tuple[Web3, Deployment]:
    """Connect to ``rpc`` and load deployment file ``path``; raise a
    :class:`ConfigurationError` saying what to fix when they do not belong together."""
    if not path.is_file():
        where = "" if path.is_absolute() else f" (in {Path.cwd()})"
        raise ConfigurationError(
            f"no deployment file at {path}{where}: give --deployment or RXLEDGER_DEPLOYMENT "
            "(`make run` writes .rxledger/deployment.json in the repository)"
        )
    deployment = Deployment.load(path)
    w3 = connect(rpc)
    chain_id = w3.eth.chain_id
    if chain_id != deployment.chain_id:
        raise ConfigurationError(
            f"{path} is a deployment on chain {deployment.chain_id}, but the node at {rpc} runs "
            f"chain {chain_id}: give the --rpc of its chain, or its --deployment"
        )
    if not deployment.is_live(w3):
        raise ConfigurationError(
            f"the node at {rpc} has no RxLedger contracts at {deployment.registry} of {path}: "
            "the chain was reset, or the file is of another network (deploy again, or give "
            "the right --deployment)"
        )
    return w3, deployment


#: What a command takes: the chain; with the owner's store; as a member; both; as deployer.
ChainOpts = Annotated[Session, Common("rpc", "deployment")]
StoreOpts = Annotated[Session, Common("rpc", "deployment", "store")]
StoreLotKeysOpts = Annotated[Session, Common("rpc", "deployment", "lot_keys", "store")]
ChainLotKeysOpts = Annotated[Session, Common("rpc", "deployment", "lot_keys")]
MemberOpts = Annotated[Session, Common("rpc", "deployment", "member", "key_file", "lot_keys")]
MemberStoreOpts = Annotated[
    Session, Common("rpc", "deployment", "member", "key_file", "lot_keys", "store")
]
DeployerOpts = Annotated[Session, Common("rpc", "deployment", "key_file")]
KeyOpts = Annotated[Session, Common("member", "key_file")]
