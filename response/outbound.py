"""Requests the console makes to addresses its users give it (webhooks), guarded against
server-side request forgery.

A URL's host is resolved once, every address it resolves to is checked, and the request
goes to the checked address (the Host header and TLS name stay the URL's host), so DNS
that answers differently a second later cannot send it elsewhere. Redirects are never
followed: a 3xx is a failed delivery that names where it pointed. Private, loopback,
link-local, multicast and other non-global addresses are refused unless an admin
explicitly allowed them for this endpoint.
"""

import hashlib
import hmac
import ipaddress
import socket
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import urllib3

CONNECT_TIMEOUT = 3.0
READ_TIMEOUT = 10.0
MAX_ANSWER = 2000  # characters of a failed answer's body kept for the log


class OutboundError(Exception):
    """A request refused before it was sent; the message is fit for the user."""


@dataclass(frozen=True)
class Answer:
    status: int | None
    latency_ms: float
    error: str = ""

    @property
    def ok(self):
        return self.status is not None and 200 <= self.status < 300


def check_url(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, path) of an http(s) URL without credentials."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise OutboundError(f"That is not a URL: {exc}.") from None
    if parts.scheme not in ("http", "https"):
        raise OutboundError("A webhook URL is http:// or https://.")
    if not parts.hostname:
        raise OutboundError("A webhook URL needs a host.")
    if parts.username or parts.password:
        raise OutboundError("Put no credentials in a webhook URL: the delivery is signed.")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80), path


def _why_not_global(address) -> str | None:
    if address.version == 6 and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    for test, name in (("is_loopback", "loopback"), ("is_link_local", "link-local"),
                       ("is_multicast", "multicast"), ("is_private", "private"),
                       ("is_reserved", "reserved"), ("is_unspecified", "unspecified")):
        if getattr(address, test):
            return name
    return None if address.is_global else "not a public"


def resolve(host: str, port: int, allow_private: bool) -> str:
    """The address to connect to for `host`; OutboundError when any address it resolves to
    is not public (unless allowed), so a name with one private answer is refused."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise OutboundError(f"{host} does not resolve: {exc.strerror}.") from None
    addresses = []
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%")[0])
        why = _why_not_global(address)
        if why and not allow_private:
            raise OutboundError(f"{host} resolves to {address}, a {why} address: refused "
                                "(an admin may allow private addresses for this endpoint).")
        addresses.append(str(address))
    if not addresses:
        raise OutboundError(f"{host} does not resolve.")
    return addresses[0]


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The value of X-Soc-Signature: `t=<unix time>,v1=<hex HMAC-SHA256 of "t." + body>`."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def post_json(url: str, body: bytes, headers: dict, *, allow_private: bool) -> Answer:
    """POST `body` to `url` through the guard; the answer's status, or why it failed."""
    started = time.monotonic()
    scheme, host, port, path = check_url(url)
    address = resolve(host, port, allow_private)
    headers = {**headers, "Host": host if port in (80, 443) else f"{host}:{port}",
               "Content-Type": "application/json", "User-Agent": "soc-console-webhook/1"}
    timeout = urllib3.Timeout(connect=CONNECT_TIMEOUT, read=READ_TIMEOUT)
    if scheme == "https":
        pool = urllib3.HTTPSConnectionPool(address, port, timeout=timeout, retries=False,
                                           server_hostname=host, assert_hostname=host,
                                           cert_reqs="CERT_REQUIRED")
    else:
        pool = urllib3.HTTPConnectionPool(address, port, timeout=timeout, retries=False)
    try:
        response = pool.urlopen("POST", path, body=body, headers=headers, redirect=False,
                                preload_content=True, assert_same_host=False)
    except urllib3.exceptions.HTTPError as exc:
        return Answer(None, (time.monotonic() - started) * 1000, f"{type(exc).__name__}: {exc}")
    finally:
        pool.close()
    latency = (time.monotonic() - started) * 1000
    if 300 <= response.status < 400:
        return Answer(response.status, latency,
                      f"Redirects are not followed (to {response.headers.get('Location', '?')})")
    if response.status >= 300 or response.status < 200:
        text = response.data[:MAX_ANSWER].decode("utf-8", "replace")
        return Answer(response.status, latency, f"HTTP {response.status}: {text}")
    return Answer(response.status, latency)
