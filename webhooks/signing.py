"""Signatures of webhook deliveries (DESIGN.md): `Ordo-Signature: t=<unix seconds>,v1=<hex>`,
one `v1=` per active secret, each HMAC-SHA256(secret, "<t>.<raw body>").

A receiver verifies with `verify_signature` (or its own three lines of HMAC) and
refuses a timestamp older than a few minutes, so a captured delivery cannot be
replayed to it later.
"""

import hashlib
import hmac
import secrets as random_secrets
import time

from webhooks.models import SECRET_PREFIX

SIGNATURE_HEADER = "Ordo-Signature"
# How old a signed timestamp a receiver should still accept.
DEFAULT_TOLERANCE_SECONDS = 300


def generate_secret() -> str:
    return SECRET_PREFIX + random_secrets.token_urlsafe(32)


def sign(*, body: bytes, secrets: list[str], timestamp: int) -> str:
    """The Ordo-Signature value of `body` sent at `timestamp`, signed with each secret."""
    signed = f"{timestamp}.".encode() + body
    parts = [f"t={timestamp}"]
    for secret in secrets:
        parts.append("v1=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest())
    return ",".join(parts)


def verify_signature(
    *,
    body: bytes,
    header: str,
    secret: str,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> bool:
    """Whether `header` signs `body` with `secret`, at a time within `tolerance` seconds."""
    timestamp, signatures = None, []
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1":
            signatures.append(value)
    now = time.time() if now is None else now
    if timestamp is None or abs(now - timestamp) > tolerance:
        return False
    expected = sign(body=body, secrets=[secret], timestamp=timestamp).split("v1=", 1)[1]
    return any(hmac.compare_digest(expected, candidate) for candidate in signatures)
