"""What kind of network an IP address belongs to: the one answer that the warehouse guard and the outbound
URL guard (webhooks) both decide on.

An IPv6 address can carry an IPv4 address inside it (IPv4-mapped ``::ffff:a.b.c.d``, IPv4-compatible
``::a.b.c.d``, NAT64 ``64:ff9b::a.b.c.d``, 6to4 ``2002:AABB:CCDD::``), and the operating system or a
gateway on the way may deliver it to that IPv4 address, so such an address is judged by the IPv4 address
inside it: ``64:ff9b::7f00:1`` is loopback, not a public IPv6 address.
"""

from __future__ import annotations

import enum
import ipaddress

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class AddressKind(enum.Enum):
    PUBLIC = "public"  # the internet
    PRIVATE = "private"  # an organisation's own network: RFC 1918, unique-local IPv6, shared 100.64/10 …
    LOOPBACK = "loopback"  # this very machine: Syncline's own services listen here
    LOCAL = "local"  # never a destination: link-local (cloud metadata), unspecified, multicast, reserved


_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # RFC 6052: the last 32 bits are the IPv4 address
_LOCAL_NAT64 = ipaddress.ip_network("64:ff9b:1::/48")  # RFC 8215: where the IPv4 part sits is local policy
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")  # deprecated, still routed to IPv4 by some stacks
_TEREDO = ipaddress.ip_network("2001::/32")  # an IPv4 tunnel whose client address is hidden (obfuscated)
_THIS_NETWORK = ipaddress.ip_network("0.0.0.0/8")
# Cloud metadata services that are not on link-local addresses (169.254.169.254 already is).
_METADATA = {
    ipaddress.ip_address("100.100.100.200"),  # Alibaba Cloud
    ipaddress.ip_address("fd00:ec2::254"),  # AWS over IPv6
}


def address_kind(address: str | IPAddress) -> AddressKind:
    """Classify an IP address (text such as "10.0.0.1", "::1" or "fe80::1%eth0", or an ip_address)."""
    ip = address if not isinstance(address, str) else ipaddress.ip_address(address.split("%", 1)[0])
    if ip in _METADATA:
        return AddressKind.LOCAL
    if isinstance(ip, ipaddress.IPv6Address):
        return _ipv6_kind(ip)
    if ip.is_loopback:
        return AddressKind.LOOPBACK
    if ip.is_unspecified or ip in _THIS_NETWORK or ip.is_link_local or ip.is_multicast or ip.is_reserved:
        return AddressKind.LOCAL
    if ip == ipaddress.IPv4Address("255.255.255.255"):
        return AddressKind.LOCAL
    return AddressKind.PUBLIC if ip.is_global else AddressKind.PRIVATE


def _ipv6_kind(ip: ipaddress.IPv6Address) -> AddressKind:
    if ip.is_loopback:  # ::1, before the IPv4-compatible range that contains it
        return AddressKind.LOOPBACK
    if ip.is_unspecified:
        return AddressKind.LOCAL
    embedded = _embedded_ipv4(ip)
    if embedded is not None:
        return address_kind(embedded)
    if ip in _LOCAL_NAT64 or ip in _TEREDO:
        return AddressKind.LOCAL  # the IPv4 address they lead to cannot be told from the address alone
    if ip.is_link_local or ip.is_site_local or ip.is_multicast or ip.is_reserved:
        return AddressKind.LOCAL
    return AddressKind.PUBLIC if ip.is_global else AddressKind.PRIVATE


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64 or ip in _IPV4_COMPATIBLE:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def is_public_address(address: str | IPAddress) -> bool:
    return address_kind(address) is AddressKind.PUBLIC
