"""Which network an address belongs to, IPv4 hidden inside IPv6 included: the one answer the warehouse guard
and the webhook guard share."""

import pytest

from apps.common.addresses import AddressKind, address_kind, is_public_address

PUBLIC, PRIVATE, LOOPBACK, LOCAL = AddressKind


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("8.8.8.8", PUBLIC),
        ("2606:4700:4700::1111", PUBLIC),
        ("10.0.0.5", PRIVATE),
        ("172.16.3.4", PRIVATE),
        ("192.168.1.1", PRIVATE),
        ("100.64.0.1", PRIVATE),  # shared address space (carrier NAT, Tailscale)
        ("fd12:3456::1", PRIVATE),  # unique-local IPv6
        ("127.0.0.1", LOOPBACK),
        ("127.8.9.10", LOOPBACK),
        ("::1", LOOPBACK),
        ("169.254.169.254", LOCAL),  # cloud metadata
        ("100.100.100.200", LOCAL),  # metadata in the shared 100.64/10 range
        ("fd00:ec2::254", LOCAL),  # metadata over IPv6, in unique-local space
        ("0.0.0.0", LOCAL),  # noqa: S104
        ("0.1.2.3", LOCAL),
        ("224.0.0.1", LOCAL),
        ("255.255.255.255", LOCAL),
        ("240.0.0.1", LOCAL),
        ("::", LOCAL),
        ("fe80::1", LOCAL),
        ("fe80::1%eth0", LOCAL),
        ("ff02::1", LOCAL),
    ],
)
def test_plain_addresses(address, kind):
    assert address_kind(address) is kind


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        # IPv4-mapped
        ("::ffff:127.0.0.1", LOOPBACK),
        ("::ffff:10.1.2.3", PRIVATE),
        ("::ffff:169.254.169.254", LOCAL),
        ("::ffff:8.8.8.8", PUBLIC),
        # IPv4-compatible (deprecated; some stacks still hand it to IPv4)
        ("::127.0.0.1", LOOPBACK),
        ("::169.254.169.254", LOCAL),
        ("::10.0.0.1", PRIVATE),
        # NAT64, the well-known prefix: a gateway connects to the IPv4 address in the last 32 bits
        ("64:ff9b::7f00:1", LOOPBACK),
        ("64:ff9b::a9fe:a9fe", LOCAL),
        ("64:ff9b::808:808", PUBLIC),
        # NAT64 for local use: where the IPv4 address sits is the network's own choice
        ("64:ff9b:1::7f00:1", LOCAL),
        ("64:ff9b:1:7f00:1::", LOCAL),
        # 6to4: bits 16–48
        ("2002:7f00:1::", LOOPBACK),
        ("2002:a9fe:a9fe::1", LOCAL),
        ("2002:c0a8:101::1", PRIVATE),
        ("2002:808:808::1", PUBLIC),
        # Teredo: the client's IPv4 address is obfuscated; never a destination
        ("2001::1", LOCAL),
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", LOCAL),
    ],
)
def test_ipv4_inside_ipv6_is_judged_by_the_ipv4_address(address, kind):
    assert address_kind(address) is kind


def test_only_public_is_public():
    assert is_public_address("8.8.8.8")
    assert not any(is_public_address(a) for a in ("10.0.0.1", "127.0.0.1", "169.254.169.254", "::127.0.0.1"))
