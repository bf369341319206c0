"""Dev ports come from outside the kernel's ephemeral range and are never handed out twice."""

import socket

from ledger_client.dev import ports
from ledger_client.dev.ports import LOWEST_PORT, free_port


def test_ports_are_below_the_ephemeral_range_and_distinct() -> None:
    low = ports._ephemeral_low()
    handed = [free_port() for _ in range(200)]
    assert all(LOWEST_PORT <= p < low for p in handed)
    assert len(set(handed)) == len(handed)


def test_a_port_someone_listens_on_is_not_bindable() -> None:
    port = free_port()
    assert ports._bindable(port)
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", port))
        listener.listen()
        assert not ports._bindable(port)
