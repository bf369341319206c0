"""A free TCP port on the loopback interface, for the nodes and servers the tests start."""

from ledger_client.dev.ports import free_port

__all__ = ["free_port"]
