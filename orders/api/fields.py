"""Field types for the API's wire format: prefixed ids, exact money, UTC milliseconds.

The plain renderers (orders.api.rendering) format values with `money` and `timestamp`,
exactly as the fields here (the documented shapes) do; TimestampField calls `timestamp`
itself.
"""

from datetime import UTC, datetime
from decimal import Decimal

import orjson
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from orders.ids import format_public_id, public_id_pattern

EXAMPLE_UUID = "0193a5b2-7c1e-7d4f-9a0b-1c2d3e4f5a6b"
CENT = Decimal("0.01")


def money(value: Decimal) -> Decimal:
    """An amount with exactly its two decimals (53.2 becomes 53.20), as MoneyField (DRF's
    DecimalField) quantizes it; values read from the database already have them."""
    if not isinstance(value, Decimal):
        value = Decimal(str(value).strip())
    return value.quantize(CENT)


def timestamp(value: datetime | None) -> str | None:
    """UTC ISO 8601 with milliseconds and Z: 2026-03-10T09:00:00.000Z (None stays None).

    orjson prints a UTC datetime about four times faster than isoformat() does, as
    `"2026-03-10T09:00:00.123456Z"`, or without the fraction when it is zero; the
    milliseconds are cut from that (truncated, as isoformat(timespec="milliseconds")
    does).
    """
    if value is None:
        return None
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    text = orjson.dumps(value, option=orjson.OPT_UTC_Z)
    if len(text) == 29:  # quotes, 19 characters to the second, 7 of fraction, Z
        return (text[1:24] + b"Z").decode()
    return (text[1:20] + b".000Z").decode()


class PublicIdField(serializers.Field):
    """A prefixed public id (`ord_0193…`); documented with its own prefix (PublicIdFieldSchema)."""

    def __init__(self, prefix: str, **kwargs):
        self.prefix = prefix
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def to_representation(self, value):
        return format_public_id(self.prefix, value)


@extend_schema_field({"type": "number", "format": "decimal", "example": 53.28})
class MoneyField(serializers.DecimalField):
    """Exact decimal, two places, rendered as a JSON number (53.20, never "53.20" or 53.2)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("read_only", True)
        super().__init__(max_digits=12, decimal_places=2, coerce_to_string=False, **kwargs)


@extend_schema_field(OpenApiTypes.DATETIME)
class TimestampField(serializers.DateTimeField):
    """UTC ISO 8601 with milliseconds and Z: 2026-03-10T09:00:00.000Z."""

    def __init__(self, **kwargs):
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def to_representation(self, value):
        return timestamp(value)


class PublicIdFieldSchema(OpenApiSerializerFieldExtension):
    """Each id documented with its own prefix, as a pattern and an example (`cust_…` for a
    customer, not `ord_…`)."""

    target_class = PublicIdField

    def map_serializer_field(self, auto_schema, direction):
        prefix = self.target.prefix
        return {
            "type": "string",
            "pattern": public_id_pattern(prefix),
            "example": f"{prefix}{EXAMPLE_UUID}",
        }
