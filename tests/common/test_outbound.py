"""The outbound URL guard: the URL read the way the HTTP client reads it, the name resolved once, and the
connection made to the address that was checked, with the name kept for the Host header, SNI and the
certificate check. Real servers on localhost (HTTP and HTTPS with a test certificate authority)."""

from __future__ import annotations

import datetime as dt
import socket
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from apps.common.outbound import OutboundUrlError, outbound_request, outbound_url_check

PUBLIC = "93.184.215.14"


def check(url, *, require_https=False, allow_private=True, allow_loopback=False):
    return outbound_url_check(
        url, require_https=require_https, allow_private=allow_private, allow_loopback=allow_loopback
    )


class FakeDns:
    """getaddrinfo for names under .test, answering from a script; each answer is used once, the last one
    repeats. Every other name resolves as usual."""

    def __init__(self, monkeypatch):
        self.answers: dict[str, list[list[str]]] = {}
        self.asked: list[str] = []
        real = socket.getaddrinfo

        def getaddrinfo(host, port, *args, **kwargs):
            if isinstance(host, str) and host.endswith(".test"):
                self.asked.append(host)
                script = self.answers[host]
                addresses = script.pop(0) if len(script) > 1 else script[0]
                return [
                    (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
                    for a in addresses
                ]
            return real(host, port, *args, **kwargs)

        monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.fixture
def dns(monkeypatch):
    return FakeDns(monkeypatch)


# --- reading the URL ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "words"),
    [
        # urlsplit reads the host after "@" (1.1.1.1); requests and urllib3 connect to 127.0.0.1:8460.
        ("https://127.0.0.1:8460\\@1.1.1.1/", "Remove the backslash"),
        ("https://1.1.1.1\\@127.0.0.1/", "Remove the backslash"),
        ("https://hooks.example.com/a\\b", "Remove the backslash"),
        ("https://user:secret@hooks.example.com/", "Remove the user name or password"),
        ("https://1.1.1.1@127.0.0.1/", "Remove the user name or password"),
        ("https://@hooks.example.com/", "Remove the user name or password"),
        ("http://[::1/", "This URL cannot be read"),
        ("http://[::1]x/", "This URL cannot be read"),
        ("https://hooks.example.com:99999/", "not a number between 1 and 65535"),
        ("https://hooks.example.com:0/", "not a number between 1 and 65535"),
        ("https://hooks.example.com:http/", "not a number between 1 and 65535"),
        ("https://hooks example.com/", "Remove the spaces"),
        ("https://hooks.example.com/\nX-Injected: 1", "Remove the spaces"),
        ("hooks.example.com/x", "Enter the full URL"),
        ("ftp://hooks.example.com/x", "Enter the full URL"),
        ("https:///x", "Enter the full URL"),
        ("", "Enter the full URL"),
    ],
)
def test_malformed_urls_are_refused_with_what_to_fix(url, words):
    with pytest.raises(OutboundUrlError, match=words):
        check(url)


def test_https_can_be_required():
    with pytest.raises(OutboundUrlError, match="Use an https:// URL"):
        check("http://8.8.8.8/", require_https=True)
    assert check("https://8.8.8.8/", require_https=True).address == "8.8.8.8"


# --- where it resolves to ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://127.0.0.1/", "127.0.0.1 is a loopback address"),
        ("http://[::1]/", "::1 is a loopback address"),
        ("http://[::127.0.0.1]/", "is a loopback address"),
        ("http://[::ffff:127.0.0.1]/", "is a loopback address"),
        ("http://[64:ff9b::7f00:1]/", "is a loopback address"),
        ("http://[2002:7f00:1::]/", "is a loopback address"),
        ("http://[2001::7f00:1]/", "is a link-local, multicast or reserved address"),
        ("http://[64:ff9b:1::7f00:1]/", "is a link-local, multicast or reserved address"),
        ("http://169.254.169.254/latest/meta-data/", "is a link-local, multicast or reserved address"),
        ("http://[::ffff:169.254.169.254]/", "is a link-local, multicast or reserved address"),
        ("http://0.0.0.0/", "is a link-local, multicast or reserved address"),
        ("http://0x7f.1/", "resolves to 127.0.0.1, a loopback address"),  # inet_aton spellings
        ("http://2130706433/", "resolves to 127.0.0.1, a loopback address"),
    ],
)
def test_loopback_and_local_addresses_are_refused_even_where_private_networks_are_allowed(url, words):
    with pytest.raises(OutboundUrlError, match=words):
        check(url, allow_private=True)


def test_private_networks_only_when_allowed():
    assert check("http://10.1.2.3/", allow_private=True).address == "10.1.2.3"
    with pytest.raises(OutboundUrlError, match="10.1.2.3 is an address on a private network"):
        check("http://10.1.2.3/", allow_private=False)
    with pytest.raises(OutboundUrlError, match="private network"):
        check("http://[::ffff:192.168.1.1]/", allow_private=False)


def test_loopback_only_with_the_unsafe_allowance():
    assert check("http://127.0.0.1:8000/", allow_loopback=True).address == "127.0.0.1"
    with pytest.raises(OutboundUrlError, match="169.254.169.254 is a link-local"):
        check("http://169.254.169.254/", allow_loopback=True)  # metadata never


def test_a_name_with_one_internal_answer_among_public_ones_is_refused(dns):
    dns.answers["mixed.test"] = [[PUBLIC, "127.0.0.1"]]
    with pytest.raises(OutboundUrlError, match='The host "mixed.test" resolves to 127.0.0.1, a loopback'):
        check("https://mixed.test/")
    with pytest.raises(OutboundUrlError, match='"nowhere.invalid" could not be found'):
        check("https://nowhere.invalid/")


def test_the_checked_url_is_what_the_client_parses(dns):
    dns.answers["hooks.test"] = [[PUBLIC]]
    checked = check("HTTPS://Hooks.TEST:8443/a/b?x=1&y=%20#fragment")
    assert (checked.url, checked.host, checked.port, checked.address) == (
        "https://hooks.test:8443/a/b?x=1&y=%20",
        "hooks.test",
        8443,
        PUBLIC,
    )
    assert dns.asked == ["hooks.test"]  # resolved once


# --- connecting to the checked address -----------------------------------------------------------------


class Server:
    def __init__(self, tls_context=None):
        self.requests: list[dict] = []
        self.sni: list[str | None] = []
        state = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                state.requests.append({"host": self.headers["Host"], "path": self.path, "body": body})
                status = 302 if self.path == "/redirect" else 200
                self.send_response(status)
                if status == 302:
                    self.send_header("Location", "http://127.0.0.1:9/elsewhere")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if tls_context is not None:
            tls_context.sni_callback = lambda sock, name, context: self.sni.append(name)
            self.httpd.socket = tls_context.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_port
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def http_server():
    server = Server()
    yield server
    server.close()


def _certificate_authority(tmp_path, name: str):
    """A throwaway CA and a certificate for ``name`` signed by it; returns (CA file, server context)."""
    now = dt.datetime.now(dt.UTC)

    def build(subject, issuer, key, signing_key, *, ca: bool, san: str | None = None):
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(hours=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if san:
            builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(san)]), critical=False)
        return builder.sign(signing_key, hashes.SHA256())

    ca_key, leaf_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Syncline test CA")])
    ca_cert = build(ca_name, ca_name, ca_key, ca_key, ca=True)
    leaf_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    leaf = build(leaf_name, ca_name, leaf_key, ca_key, ca=False, san=name)
    ca_file, chain, key_file = tmp_path / "ca.pem", tmp_path / "leaf.pem", tmp_path / "leaf.key"
    ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    chain.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        leaf_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(chain, key_file)
    return ca_file, context


def test_a_name_that_resolves_elsewhere_after_the_check_is_not_asked_again(dns, http_server):
    dns.answers["rebind.test"] = [["127.0.0.1"], ["10.255.255.1"]]  # rebinding: a new answer after the check
    checked = check(f"http://rebind.test:{http_server.port}/hook?a=1", allow_loopback=True)
    response = outbound_request(checked, "POST", timeout=5, data=b"event")
    assert response.status_code == 200
    assert http_server.requests == [
        {"host": f"rebind.test:{http_server.port}", "path": "/hook?a=1", "body": b"event"}
    ]
    assert dns.asked == ["rebind.test"]  # the client never resolved the name again


def test_https_verifies_the_certificate_of_the_name_while_connecting_to_the_checked_address(
    dns, tmp_path, monkeypatch
):
    ca_file, context = _certificate_authority(tmp_path, "hooks.test")
    server = Server(tls_context=context)
    try:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(ca_file))
        dns.answers["hooks.test"] = [["127.0.0.1"], ["10.255.255.1"]]
        checked = check(f"https://hooks.test:{server.port}/x", allow_loopback=True)
        assert outbound_request(checked, "POST", timeout=5, data=b"{}").status_code == 200
        assert server.sni == ["hooks.test"] and server.requests[0]["host"] == f"hooks.test:{server.port}"

        # The same server under a name its certificate does not carry: verification fails, nothing is sent.
        dns.answers["other.test"] = [["127.0.0.1"]]
        checked = check(f"https://other.test:{server.port}/x", allow_loopback=True)
        with pytest.raises(requests.exceptions.SSLError):
            outbound_request(checked, "POST", timeout=5, data=b"{}")
        assert len(server.requests) == 1
    finally:
        server.close()


def test_redirects_are_not_followed(http_server):
    checked = check(f"http://127.0.0.1:{http_server.port}/redirect", allow_loopback=True)
    response = outbound_request(checked, "POST", timeout=5, data=b"{}")
    assert response.status_code == 302 and len(http_server.requests) == 1


def test_a_proxy_from_the_environment_is_not_used(http_server, monkeypatch):
    """A proxy would resolve the name again, elsewhere; the request goes straight to the checked address."""
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    checked = check(f"http://127.0.0.1:{http_server.port}/", allow_loopback=True)
    assert outbound_request(checked, "POST", timeout=5, data=b"{}").status_code == 200
