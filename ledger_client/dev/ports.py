"""A free TCP port on the loopback interface, for the dev nodes, servers and tests.

Ports come from below the kernel's ephemeral range: a port the kernel hands out (port 0) is
free when asked, but the kernel may give it again, as the local end of any outgoing
connection (a web3 client, a geth node dialling its peers), before the server meant for it
binds it, and that server then fails with "address already in use". Below the range only
another listener can take it; this process never hands out the same port twice.
"""

from __future__ import annotations

import random
import socket
from pathlib import Path

#: The lowest port handed out: above the well-known and most registered services' ports.
LOWEST_PORT = 20000
_EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")
_handed_out: set[int] = set()


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on now, outside the ephemeral range, not
    handed out before by this process."""
    candidates = list(range(LOWEST_PORT, _ephemeral_low()))
    random.shuffle(candidates)
    for port in candidates:
        if port not in _handed_out and _bindable(port):
            _handed_out.add(port)
            return port
    raise OSError(f"no free port on 127.0.0.1 from {LOWEST_PORT} to the ephemeral range")


def _ephemeral_low() -> int:
    """The first port of the kernel's ephemeral range (32768 where it cannot be read)."""
    try:
        return int(_EPHEMERAL_RANGE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def _bindable(port: int) -> bool:
    """True if a listener could bind ``port`` on 127.0.0.1 now."""
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True
