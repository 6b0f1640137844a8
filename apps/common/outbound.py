"""The one guard for HTTP requests to URLs that users typed (webhook endpoints, and any later ones).

Three rules close the ways around an address check:
1. The URL is read by the parser of the HTTP client that sends it (urllib3's ``parse_url``, which requests
   uses), so the host that is checked is the host that is requested. Backslashes and a user name
   (``user@``) are refused outright: other parsers read the host elsewhere in such URLs.
2. The name is resolved once, and every address it resolves to must be allowed.
3. The connection goes to that checked address (pinned below the HTTP client), while the host name is kept
   for the Host header, TLS SNI and certificate verification; a DNS answer that changes after the check
   (rebinding) is never asked for.
"""

from __future__ import annotations

import os
import re
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

import idna
import requests
from requests.adapters import HTTPAdapter
from urllib3 import HTTPConnectionPool, HTTPSConnectionPool, PoolManager
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.exceptions import ConnectTimeoutError, LocationParseError, NewConnectionError
from urllib3.util import Url, parse_url
from urllib3.util.connection import create_connection

from apps.common.addresses import AddressKind, address_kind

FULL_URL_EXAMPLE = "https://example.com/hooks/syncline"


class OutboundUrlError(ValueError):
    """The URL cannot be sent to; the message says why, in words for the field it was typed in."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class CheckedUrl:
    url: str  # rebuilt from the parsed parts: exactly what is requested
    scheme: str
    host: str  # as resolved: lower case, ASCII (IDNA), an IPv6 address without brackets
    port: int
    address: str  # the checked IP address that the connection goes to


def outbound_url_check(
    url: str, *, require_https: bool, allow_private: bool, allow_loopback: bool = False
) -> CheckedUrl:
    """Parse, resolve and check ``url``. Public addresses are always allowed; private networks when
    ``allow_private``; this machine (loopback) only when ``allow_loopback``; link-local (cloud metadata),
    multicast and reserved addresses never. Raises OutboundUrlError."""
    url = url.strip()
    parts = _parsed(url)
    scheme = parts.scheme
    if scheme not in ("http", "https") or not parts.host:
        raise OutboundUrlError(f"Enter the full URL of your endpoint, such as {FULL_URL_EXAMPLE}.")
    if parts.auth is not None or "@" in _authority(url):  # "https://@host/" has an empty user name
        raise OutboundUrlError(
            "Remove the user name or password (the part before @) from the URL: Syncline signs every "
            "request instead, so your endpoint can check that it came from Syncline."
        )
    port = parts.port if parts.port is not None else (443 if scheme == "https" else 80)
    if not 1 <= port <= 65535:
        raise OutboundUrlError("The port in this URL is not a number between 1 and 65535.")
    if require_https and scheme != "https":
        raise OutboundUrlError(
            "Use an https:// URL: events carry your sync names, counts and errors, which http would send "
            "unencrypted."
        )
    host = _ascii_host(parts.host)
    address = _checked_address(host, port, allow_private=allow_private, allow_loopback=allow_loopback)
    bracketed = f"[{host}]" if ":" in host else host
    rebuilt = Url(scheme=scheme, host=bracketed, port=parts.port, path=parts.path, query=parts.query).url
    return CheckedUrl(url=rebuilt, scheme=scheme, host=host, port=port, address=address)


def outbound_request(checked: CheckedUrl, method: str, *, timeout: float, **kwargs) -> requests.Response:
    """One request to a checked URL, connected to its checked address; redirects are not followed (their
    target was never checked). Raises requests' exceptions like ``requests.request``."""
    with requests.Session() as session:
        # No proxy from the environment: a proxy would resolve the name again, elsewhere. A CA bundle set
        # for requests (an internal receiver's certificate authority) is still honoured.
        session.trust_env = False
        session.verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
        adapter = _PinnedAdapter(checked)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        return session.request(method, checked.url, timeout=timeout, allow_redirects=False, **kwargs)


# --- reading the URL ---------------------------------------------------------------------------------


def _parsed(url: str) -> Url:
    if not url:
        raise OutboundUrlError(f"Enter the full URL of your endpoint, such as {FULL_URL_EXAMPLE}.")
    if "\\" in url:
        raise OutboundUrlError(
            "Remove the backslash (\\) from the URL: use forward slashes (/) between the parts of a path."
        )
    if any(ord(character) <= 32 or ord(character) == 127 for character in url):
        raise OutboundUrlError("Remove the spaces and line breaks from the URL (write a space as %20).")
    try:
        return parse_url(url)
    except LocationParseError:
        pass
    if _port_out_of_range(url):  # only to say which part is wrong
        raise OutboundUrlError("The port in this URL is not a number between 1 and 65535.")
    raise OutboundUrlError(
        "This URL cannot be read: check the host name and the port. An IPv6 address goes in square "
        "brackets, such as https://[2001:db8::1]/hooks."
    )


def _authority(url: str) -> str:
    return re.match(r"[^/?#]*", url.split("://", 1)[-1]).group()


def _port_out_of_range(url: str) -> bool:
    try:
        port = urlsplit(url).port
    except ValueError as error:  # "Port out of range 0-65535", "Port could not be cast to integer value"
        return "port" in str(error).lower()
    return port is not None and not 1 <= port <= 65535


def _ascii_host(host: str) -> str:
    host = host.strip("[]").lower()
    if host.isascii():
        return host
    try:  # the form requests sends for an international name
        return idna.encode(host, uts46=True).decode("ascii")
    except idna.IDNAError:
        raise OutboundUrlError(f'"{host}" is not a valid host name. Check its spelling.') from None


# --- resolving it once ---------------------------------------------------------------------------------

_REFUSAL = {  # after "<address> is" or "<host> resolves to <address>,"
    AddressKind.LOOPBACK: "a loopback address (this server itself), which Syncline does not send to",
    AddressKind.LOCAL: (
        "a link-local, multicast or reserved address (cloud metadata services live there), which Syncline "
        "never sends to"
    ),
    AddressKind.PRIVATE: (
        "an address on a private network; this Syncline installation is shared by several organisations "
        "and sends only to public addresses"
    ),
}


def _checked_address(host: str, port: int, *, allow_private: bool, allow_loopback: bool) -> str:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise OutboundUrlError(
            f'The host name "{host}" could not be found. Check the spelling of the host.'
        ) from None
    allowed = {AddressKind.PUBLIC}
    allowed |= {AddressKind.PRIVATE} if allow_private else set()
    allowed |= {AddressKind.LOOPBACK} if allow_loopback else set()
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    # Every answer must be allowed: a name that mixes public and internal answers is an attack.
    for address in addresses:
        kind = address_kind(address)
        if kind not in allowed:
            where = f"{address} is" if host == address else f'The host "{host}" resolves to {address},'
            raise OutboundUrlError(f"{where} {_REFUSAL[kind]}.")
    return addresses[0]


# --- connecting to the checked address -------------------------------------------------------------------


class _ConnectsToCheckedAddress:
    """A urllib3 connection whose socket goes to ``checked_address``; everything above the socket (Host
    header, SNI, certificate check) still uses the host name."""

    def __init__(self, *args, checked_address: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.checked_address = checked_address

    def _new_conn(self) -> socket.socket:
        try:
            return create_connection(
                (self.checked_address, self.port),
                self.timeout,
                source_address=self.source_address,
                socket_options=self.socket_options,
            )
        except TimeoutError as error:
            raise ConnectTimeoutError(
                self, f"Connection to {self.host} timed out. (connect timeout={self.timeout})"
            ) from error
        except OSError as error:
            raise NewConnectionError(self, f"Failed to establish a new connection: {error}") from error


class _PinnedHTTPConnection(_ConnectsToCheckedAddress, HTTPConnection):
    pass


class _PinnedHTTPSConnection(_ConnectsToCheckedAddress, HTTPSConnection):
    pass


class _PinnedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _PinnedHTTPConnection


class _PinnedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _PinnedHTTPSConnection


class _PinnedPoolManager(PoolManager):
    def __init__(self, *args, checked: CheckedUrl, **kwargs):
        super().__init__(*args, **kwargs)
        self.checked = checked
        self.pool_classes_by_scheme = {"http": _PinnedHTTPPool, "https": _PinnedHTTPSPool}

    def _new_pool(self, scheme, host, port, request_context=None):
        if (scheme, host.strip("[]"), port) != (self.checked.scheme, self.checked.host, self.checked.port):
            # Only the checked URL is ever requested through this manager (no redirects are followed).
            raise requests.exceptions.InvalidURL(f"{host}:{port} was not checked; not connecting to it.")
        pool = super()._new_pool(scheme, host, port, request_context)
        pool.conn_kw["checked_address"] = self.checked.address
        return pool


class _PinnedAdapter(HTTPAdapter):
    def __init__(self, checked: CheckedUrl):
        self.checked = checked  # before HTTPAdapter's __init__, which builds the pool manager
        super().__init__(max_retries=0)

    def init_poolmanager(self, connections, maxsize, block=False, **pool_kwargs):
        self._pool_connections, self._pool_maxsize, self._pool_block = connections, maxsize, block
        self.poolmanager = _PinnedPoolManager(
            num_pools=connections, maxsize=maxsize, block=block, checked=self.checked, **pool_kwargs
        )
