"""Sharing by right between gateways: a pack's history traced across partners' stores and
checked against the chain (:mod:`.tracer`), and the member's client of other gateways."""

from ledger_client.trace.chain import Anchor, ChainTrail, Custody, chain_trail
from ledger_client.trace.client import (
    GatewayClient,
    GatewayRefusedError,
    GatewayUnreachableError,
)
from ledger_client.trace.tracer import GatewayAnswer, Trace, TracedEvent, Verdict, trace

__all__ = [
    "Anchor",
    "ChainTrail",
    "Custody",
    "GatewayAnswer",
    "GatewayClient",
    "GatewayRefusedError",
    "GatewayUnreachableError",
    "Trace",
    "TracedEvent",
    "Verdict",
    "chain_trail",
    "trace",
]
