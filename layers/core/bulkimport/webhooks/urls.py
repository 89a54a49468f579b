"""Which URLs a webhook may call (no server-side request forgery): `https` to a host whose every
address is public. The addresses are checked when the webhook is saved and again at each delivery,
which then connects to the address it checked (a name that resolves elsewhere the second time, DNS
rebinding, gains nothing). Loopback, private, link-local (169.254.169.254, the instance metadata
service), carrier-grade NAT, multicast and reserved addresses are refused: `ipaddress` knows the
registries' lists, and an IPv4 address written as IPv6 (::ffff:10.0.0.1) is judged as IPv4."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from bulkimport.adapters import webhook_http
from bulkimport.config import WebhookDelivery, section
from bulkimport.errors import InvalidInput

_LOCAL_RECEIVER = "127.0.0.1"


@dataclass(frozen=True)
class Target:
    """Where a delivery goes: the URL's parts and the one address it connects to."""

    scheme: str
    host: str
    port: int
    path: str  # with its query
    address: str


def not_allowed(url: str, reason: str) -> InvalidInput:
    return InvalidInput("WEBHOOK_URL_NOT_ALLOWED", url=url, reason=reason)


def public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # an IPv6 zone (fe80::1%eth0) is link-local anyway
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def _local_receiver(scheme: str, host: str) -> bool:
    return scheme == "http" and host == _LOCAL_RECEIVER and section(WebhookDelivery).webhook_local_receivers == "true"


def check(url: str) -> Target:
    """The URL's target, resolved and checked; WEBHOOK_URL_NOT_ALLOWED says why not."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise not_allowed(url, f"not a URL: {error}") from None
    scheme, host = parts.scheme.lower(), (parts.hostname or "")
    if parts.username is not None or parts.password is not None:
        raise not_allowed(url, "credentials in the URL are not taken; authenticate by the signature")
    if not host:
        raise not_allowed(url, "the URL names no host")
    if parts.fragment:
        raise not_allowed(url, "a URL with a #fragment (it is never sent)")
    local = _local_receiver(scheme, host)
    if scheme != "https" and not local:
        raise not_allowed(url, "only https URLs")
    port = port or (443 if scheme == "https" else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    if local:
        return Target(scheme, host, port, path, host)
    addresses = webhook_http.resolve(host, port)
    if not addresses:
        raise not_allowed(url, f"{host} does not resolve")
    refused = [address for address in addresses if not public(address)]
    if refused:
        raise not_allowed(url, f"{host} resolves to {refused[0]}, not a public address")
    return Target(scheme, host, port, path, addresses[0])
