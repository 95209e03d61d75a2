"""How the demo generator writes values: integers (cents, epoch milliseconds, random bits)
rendered straight to PostgreSQL's COPY text format, which the ORM loader parses back
through the model fields.

No Decimal, datetime or UUID object on the way: a million orders need four million ids and
tens of millions of fields, and going through the objects costs several times as much.
"""

from datetime import UTC, datetime
from decimal import Decimal

NULL = "\\N"  # NULL in COPY text format

# Every demo time is an integer in epoch milliseconds.
SECOND = 1_000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR

_UUID7_VERSION_AND_VARIANT = (0x7 << 76) | (0b10 << 62)
_RAND_B_MASK = (1 << 62) - 1


def money_text(cents: int) -> str:
    """Whole cents as a decimal amount: 1234 → "12.34"."""
    return f"{cents // 100}.{cents % 100:02d}"


def cents(amount: Decimal) -> int:
    """A price with at most two decimals in whole cents."""
    return int(amount * 100)


def uuid7_hex(millis: int, bits: int) -> str:
    """orders.ids.uuid7(at=…)'s layout (48-bit ms timestamp, version 7, 74 random bits) as
    32 hex digits, which PostgreSQL and UUIDField both read; no UUID object, because a
    million orders need four million ids."""
    value = millis << 80 | _UUID7_VERSION_AND_VARIANT | (bits >> 62) << 64 | bits & _RAND_B_MASK
    return f"{value:032x}"


class Timestamps:
    """Formats epoch milliseconds as COPY text (`2025-03-30 01:43:15.701+00`), caching the
    date-and-hour prefix; going through a datetime costs three times as much."""

    _MINUTES_SECONDS = [f"{m:02d}:{s:02d}" for m in range(60) for s in range(60)]
    _MILLIS = [f"{ms:03d}" for ms in range(1000)]

    def __init__(self) -> None:
        self._hours: dict[int, str] = {}

    def __call__(self, millis: int) -> str:
        hour, rest = divmod(millis, HOUR)
        prefix = self._hours.get(hour)
        if prefix is None:
            prefix = datetime.fromtimestamp(hour * 3600, UTC).strftime("%Y-%m-%d %H:")
            self._hours[hour] = prefix
        seconds, millis = divmod(rest, SECOND)
        return f"{prefix}{self._MINUTES_SECONDS[seconds]}.{self._MILLIS[millis]}+00"
