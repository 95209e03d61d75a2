"""Public identifiers: a type prefix and a time-ordered UUID (`ord_0193…`).

UUIDv7 keeps primary keys roughly in creation order, so the B-tree stays
append-mostly and a keyset cursor can break ties on `id` cheaply.
"""

import os
import re
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

_RAND_A_MASK = (1 << 12) - 1
_RAND_B_MASK = (1 << 62) - 1
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND = timedelta(milliseconds=1)


def uuid7(at: datetime | None = None) -> uuid.UUID:
    """A version 7 UUID whose timestamp is `at` (default: now)."""
    # Integer arithmetic: a float of seconds × 1000 comes out a millisecond short for some
    # instants from 2036 on.
    millis = (
        (at.astimezone(UTC) - _EPOCH) // _MILLISECOND
        if at is not None
        else time.time_ns() // 1_000_000
    )
    rand = int.from_bytes(os.urandom(10), "big")
    value = (
        (millis & ((1 << 48) - 1)) << 80
        | 0x7 << 76
        | ((rand >> 62) & _RAND_A_MASK) << 64
        | 0b10 << 62
        | (rand & _RAND_B_MASK)
    )
    return uuid.UUID(int=value)


_last_monotonic = 0
_monotonic_lock = threading.Lock()


def uuid7_monotonic() -> uuid.UUID:
    """A version 7 UUID greater than any this process made before: rows written one after
    another in a transaction sort in that order even within one millisecond."""
    global _last_monotonic
    with _monotonic_lock:
        value = max(uuid7().int, _last_monotonic + 1)
        _last_monotonic = value
    return uuid.UUID(int=value)


def format_public_id(prefix: str, value: uuid.UUID | None) -> str | None:
    if value is None:
        return None
    return f"{prefix}{value}"


# The one spelling of the UUID inside a public id (hex in either case). uuid.UUID alone
# would also take braces, "urn:uuid:" and missing hyphens, which the document cannot say.
_UUID = "[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"
_CANONICAL_UUID = re.compile(f"^{_UUID}$")


def public_id_pattern(prefix: str) -> str:
    """The JSON Schema pattern of a public id with `prefix`, exactly as parse_public_id
    accepts it."""
    return f"^{re.escape(prefix)}{_UUID}$"


def parse_public_id(prefix: str, public_id: str) -> uuid.UUID:
    """The UUID inside `prefix + uuid`; ValueError when it is not one."""
    if not isinstance(public_id, str) or not public_id.startswith(prefix):
        raise ValueError(f"expected an id starting with '{prefix}'")
    value = public_id.removeprefix(prefix)
    if not _CANONICAL_UUID.fullmatch(value):
        raise ValueError(f"expected '{prefix}' followed by a UUID")
    return uuid.UUID(value)
