"""Where a webhook may be sent: https, to a public address (DESIGN.md).

A receiver's URL is checked when it is registered and again when each delivery is
sent: a name that resolved to a public address yesterday may point at the store's
own network today (DNS rebinding), so the sender connects to an address checked
here, never to one the HTTP library resolves again afterwards.
"""

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings


class UnsafeUrl(ValueError):
    """The URL may not receive webhooks; the message says why, for staff and integrators."""


@dataclass(frozen=True)
class Target:
    """A URL's parts and the address, already checked, to connect to."""

    scheme: str
    host: str
    port: int
    path: str  # with its query string
    address: str


def private_urls_allowed() -> bool:
    return bool(getattr(settings, "WEBHOOK_ALLOW_PRIVATE_URLS", False))


def check_url_form(url: str) -> None:
    """Refuse what is wrong with the URL itself, without resolving it."""
    parts = urlsplit(url)
    allowed = {"https", "http"} if private_urls_allowed() else {"https"}
    if parts.scheme not in allowed:
        raise UnsafeUrl("Webhook URLs must start with https://.")
    if not parts.hostname:
        raise UnsafeUrl("The webhook URL has no host name.")
    if parts.username or parts.password:
        raise UnsafeUrl("Leave user names and passwords out of the webhook URL.")
    try:
        _ = parts.port  # urlsplit checks the port only when asked for it
    except ValueError:
        raise UnsafeUrl("The webhook URL's port is not a number from 1 to 65535.") from None


def _is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def resolve_target(url: str) -> Target:
    """The URL's target, connected to by address; UnsafeUrl when it is malformed, cannot be
    resolved, or resolves to a private, loopback or link-local address (unless
    WEBHOOK_ALLOW_PRIVATE_URLS allows those)."""
    check_url_form(url)
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise UnsafeUrl(
            f"The host name {parts.hostname} could not be resolved ({error})."
        ) from None
    addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
    if not private_urls_allowed():
        private = [a for a in addresses if not _is_public(a)]
        if private:
            raise UnsafeUrl(
                f"{parts.hostname} resolves to {private[0]}, a private, loopback or link-local "
                "address; webhooks go to public addresses only."
            )
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return Target(
        scheme=parts.scheme, host=parts.hostname, port=port, path=path, address=str(addresses[0])
    )
