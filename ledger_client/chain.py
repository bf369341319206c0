"""Connect to a chain: the in-process eth-tester chain, or any node over JSON-RPC."""

from __future__ import annotations

from collections.abc import Iterable

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from web3 import Web3
from web3.exceptions import BlockNotFound
from web3.middleware import ExtraDataToPOAMiddleware
from web3.providers.eth_tester import EthereumTesterProvider
from web3.types import Wei

from ledger_client.errors import ConfigurationError

EMBEDDED = "eth-tester"
#: Block gas limit of the embedded chain; permissioned networks run high limits too.
EMBEDDED_GAS_LIMIT = 60_000_000


def connect(url: str = EMBEDDED, timeout: float = 30.0) -> Web3:
    """Return a Web3 connected to ``url``: ``"eth-tester"`` for an in-process chain, or an
    HTTP(S) JSON-RPC endpoint (anvil, Besu, any EVM node).

    The HTTP provider does not retry: web3's default resends ``eth_sendRawTransaction``
    blindly after a timeout. The one retry layer is :class:`~ledger_client.ledger.Ledger`'s
    batches, which check what already landed before they send again.
    """
    if url == EMBEDDED:
        from eth_tester import EthereumTester, PyEVMBackend

        params = PyEVMBackend.generate_genesis_params({"gas_limit": EMBEDDED_GAS_LIMIT})
        backend = PyEVMBackend(genesis_parameters=params)
        return Web3(EthereumTesterProvider(EthereumTester(backend)))
    if not url.startswith(("http://", "https://")):
        raise ConfigurationError(f"chain URL must be {EMBEDDED!r} or http(s)://..., got {url!r}")
    provider = Web3.HTTPProvider(
        url, request_kwargs={"timeout": timeout}, exception_retry_configuration=None
    )
    w3 = Web3(provider)
    # Proof-of-authority blocks (Clique, QBFT) carry their signers' seals in a longer extraData.
    w3.middleware_onion.inject(ExtraDataToPOAMiddleware, layer=0)
    if not w3.is_connected():
        raise ConfigurationError(f"no JSON-RPC node answers at {url}")
    return w3


def block_hash(w3: Web3, number: int) -> bytes | None:
    """The hash of the chain's block at height ``number``; None when the chain is shorter."""
    try:
        return bytes(w3.eth.get_block(number)["hash"])
    except BlockNotFound:
        return None


def dev_account(name: str) -> LocalAccount:
    """Return a deterministic account for ``name``: for tests and the demo network only."""
    return Account.from_key(keccak(text=f"rxledger-dev:{name}"))


def fund(w3: Web3, addresses: Iterable[str], wei: int = 10**21) -> None:
    """Send ``wei`` to each address from the node's first unlocked account (dev chains only)."""
    funder = w3.eth.accounts[0]
    for address in addresses:
        account = Web3.to_checksum_address(address)
        if w3.eth.get_balance(account) >= wei:
            continue
        tx = w3.eth.send_transaction({"from": funder, "to": account, "value": Wei(wei)})
        w3.eth.wait_for_transaction_receipt(tx)
