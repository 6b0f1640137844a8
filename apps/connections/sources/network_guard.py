"""Resolve a warehouse host once, optionally refuse non-public addresses, and hand back the address to
connect to.

In shared hosting (settings.HOSTING_MODE) a user must not be able to point a "warehouse" at the hosting
network's own services (loopback, private ranges, cloud metadata at 169.254.169.254). The check is made on
the address that the adapter then connects to, never on a name that could resolve differently a moment
later (DNS rebinding). Team hosting leaves the guard off: its warehouses live on private networks. What
counts as public is decided in one place, apps.common.addresses, shared with the webhook guard.
"""

from __future__ import annotations

import socket

from apps.common.addresses import is_public_address

from .errors import HostNotAllowed, UnknownHost

__all__ = ["is_public_address", "resolve_host"]


def resolve_host(host: str, port: int, *, block_private: bool) -> str:
    """Return the IP address (as text) to connect to for ``host``."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise UnknownHost(host) from None
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if block_private:
        # Refuse if ANY address is internal: a name that mixes public and private answers is an attack.
        for address in addresses:
            if not is_public_address(address):
                raise HostNotAllowed(host, address)
    return addresses[0]
