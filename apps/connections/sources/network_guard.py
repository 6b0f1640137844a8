"""Resolve a warehouse host once, optionally refuse non-public addresses, and hand back the address to
connect to.

For multi-tenant hosting a user must not be able to point a "warehouse" at the hosting network's own
services (loopback, private ranges, cloud metadata at 169.254.169.254). The check is made on the address
that the adapter then connects to, never on a name that could resolve differently a moment later (DNS
rebinding). Self-hosted installations leave the guard off: their warehouses live on private networks.
"""

from __future__ import annotations

import ipaddress
import socket

from .errors import HostNotAllowed, UnknownHost


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


def is_public_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone id
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    # is_global is False for loopback, RFC 1918, link-local (cloud metadata), CGNAT (100.64/10, where
    # some clouds put metadata), unique-local IPv6, documentation and reserved ranges.
    return ip.is_global and not ip.is_multicast
