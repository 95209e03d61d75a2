"""Where a webhook may be sent: https, to a public address (DESIGN.md).

A receiver's URL is checked when it is registered and again when each delivery is
sent: a name that resolved to a public address yesterday may point at the store's
own network today (DNS rebinding), so the sender connects to an address checked
here, never to one the HTTP library resolves again afterwards.
"""

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
DEFAULT_PORTS = {"https": 443, "http": 80}
# IPv6 prefixes that carry an IPv4 address a gateway forwards to (NAT64, RFC 6052/8215):
# 64:ff9b::10.0.0.1 reaches 10.0.0.1.
_NAT64 = [ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48")]


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

    @property
    def host_header(self) -> str:
        """The Host header the URL implies (the connection itself goes to `address`)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == DEFAULT_PORTS[self.scheme] else f"{host}:{self.port}"

    @property
    def connection_key(self) -> tuple[str, str, int, str]:
        """What a kept connection can serve: the same address, port, scheme and TLS host."""
        return (self.scheme, self.address, self.port, self.host)


# What may stand as it is in a path or query (RFC 3986), "%" included: it starts an escape.
_PATH_SAFE = "/%:@!$&'()*+,;=-._~"


def private_urls_allowed() -> bool:
    return bool(getattr(settings, "WEBHOOK_ALLOW_PRIVATE_URLS", False))


def check_url_form(url: str) -> None:
    """Refuse what is wrong with the URL itself, without resolving it."""
    try:
        parts = urlsplit(url)
    except ValueError:  # an unclosed "[" of an IPv6 host, for one
        raise UnsafeUrl("The webhook URL is malformed; give it as https://host/path.") from None
    allowed = {"https", "http"} if private_urls_allowed() else {"https"}
    if parts.scheme not in allowed:
        raise UnsafeUrl("Webhook URLs must start with https://.")
    if not parts.hostname:
        raise UnsafeUrl("The webhook URL has no host name.")
    if parts.username or parts.password:
        raise UnsafeUrl("Leave user names and passwords out of the webhook URL.")
    try:
        port = parts.port  # urlsplit checks the port only when asked for it
    except ValueError:
        port = 0
    if port == 0:
        raise UnsafeUrl("The webhook URL's port is not a number from 1 to 65535.")


def _is_public(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        # An IPv6 address that stands for an IPv4 one is as public as that one.
        if address.ipv4_mapped is not None:
            return _is_public(address.ipv4_mapped)
        if address.sixtofour is not None:
            return _is_public(address.sixtofour)
        if address.teredo is not None:
            return _is_public(address.teredo[1])
        if any(address in network for network in _NAT64):
            return _is_public(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return address.is_global and not address.is_multicast


def resolve_target(url: str) -> Target:
    """The URL's target, connected to by address; UnsafeUrl when it is malformed, cannot be
    resolved, or resolves to a private, loopback or link-local address (unless
    WEBHOOK_ALLOW_PRIVATE_URLS allows those). Every address the name has is checked,
    not only the one used: the next lookup may well return another."""
    check_url_form(url)
    parts = urlsplit(url)
    try:
        # The name as DNS and the Host header know it: "bücher.example" is xn--bcher-kva.
        host = parts.hostname.encode("idna").decode("ascii")
    except UnicodeError:
        raise UnsafeUrl(f"The host name {parts.hostname} is not a valid domain name.") from None
    port = parts.port or DEFAULT_PORTS[parts.scheme]
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as error:
        raise UnsafeUrl(
            f"The host name {host} could not be resolved ({error}). Check the URL's spelling "
            "and that its DNS record exists."
        ) from None
    addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
    if not addresses:
        raise UnsafeUrl(f"The host name {host} has no address.")
    if not private_urls_allowed():
        private = [a for a in addresses if not _is_public(a)]
        if private:
            raise UnsafeUrl(
                f"{host} resolves to {private[0]}, a private, loopback or link-local "
                "address; webhooks go to public addresses only."
            )
    # Percent-encoded as HTTP needs it: a space or "café" in a path cannot go on the wire as
    # it is. What is already encoded stays as it is.
    path = quote(parts.path or "/", safe=_PATH_SAFE)
    if parts.query:
        path = f"{path}?{quote(parts.query, safe=_PATH_SAFE + '?')}"
    return Target(scheme=parts.scheme, host=host, port=port, path=path, address=str(addresses[0]))
