"""Request bodies of the orders API: strict shapes (unknown or read-only fields are refused)
and strict values (money, booleans and whole numbers as DESIGN.md "HTTP conventions" says)."""

import json
import math
import re
from decimal import Decimal
from typing import Any

import pycountry
from django.core.validators import RegexValidator
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from orders.api.errors import validation_details
from orders.api.patterns import one_of_pattern
from orders.exceptions import UnacceptableValues
from orders.ids import parse_public_id, public_id_pattern
from orders.models import Customer, OrderStatus, PaymentMethod, PaymentStatus, Product, Variant
from orders.transitions import STATUS_ALIASES, normalize_status

MAX_LINES = 250
MAX_NOTE_LENGTH = 5000


class StrictSerializer(serializers.Serializer):
    """Refuses fields it does not know, so a typo or a read-only field is never silently
    dropped. `read_only_names` get a message saying they cannot be set."""

    read_only_names: frozenset[str] = frozenset()
    # The least number of fields a body must carry (the document's minProperties), and what
    # to say to a body with fewer.
    min_properties = 0
    empty_message = "Send at least one field."

    def to_internal_value(self, data):
        if isinstance(data, dict):
            errors = {}
            for name, value in data.items():
                field = self.fields.get(name)
                if field is not None:
                    # DRF would turn 42 into "42": a number where text belongs is a mistake.
                    if isinstance(field, serializers.CharField) and not isinstance(
                        value, str | type(None)
                    ):
                        errors[name] = ["Must be a string (text in double quotes)."]
                    continue
                if name in self.read_only_names:
                    errors[name] = ["This field is read-only: it is computed by Ordo."]
                else:
                    errors[name] = [
                        f"Unknown field. Accepted fields: {', '.join(sorted(self.fields))}."
                    ]
            if errors:
                raise serializers.ValidationError(errors)
            if len(data) < self.min_properties:
                raise serializers.ValidationError({"non_field_errors": [self.empty_message]})
        return super().to_internal_value(data)

    def validate(self, attrs):
        """The rules across fields (check_combinations): a body that breaks one is well
        formed but cannot be acted on, a 422 naming the fields."""
        try:
            return self.check_combinations(attrs)
        except serializers.ValidationError as error:
            path = body_path(self)
            errors: dict[str, list[str]] = {}
            for detail in validation_details(error.detail):
                field = ".".join(part for part in (path, detail["field"]) if part) or "body"
                errors.setdefault(field, []).append(detail["message"])
            raise UnacceptableValues(errors) from None

    def check_combinations(self, attrs: dict) -> dict:
        return attrs


def body_path(field: serializers.Field) -> str:
    """Where `field` sits in the request body ("shipping_address.country")."""
    names = []
    while field is not None and field.parent is not None:
        if field.field_name:
            names.append(field.field_name)
        field = field.parent
    return ".".join(reversed(names))


def _shown(data: Any) -> str:
    """A value as the client wrote it, shortened, for an error message."""
    if hasattr(data, "text"):  # a JSON number, as written (1e400, not Infinity)
        return data.text
    try:
        text = json.dumps(data, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(data)
    return text if len(text) <= 40 else f"{text[:37]}..."


def _exact_number(data: float) -> Decimal:
    """A JSON number's exact value: its text as written when the parser kept it
    (orders.api.parsers.JSONNumber), else the float's shortest repr."""
    return Decimal(getattr(data, "text", None) or repr(data))


# ASCII digits only (`\d` would take "١٠", Arabic-Indic ten), no leading zeros, at most
# ten before the point: exactly the amounts the 12-digit, 2-decimal columns hold. The
# document states these same patterns (MoneyInputSchema), so it and the parser agree.
MONEY_PATTERN = r"^(?:0|[1-9][0-9]{0,9})(?:\.[0-9]{1,2})?$"
POSITIVE_MONEY_PATTERN = r"^(?:[1-9][0-9]{0,9}(?:\.[0-9]{1,2})?|0\.(?:[1-9][0-9]?|0[1-9]))$"
CENT = Decimal("0.01")
MONEY_MAX = Decimal("9999999999.99")  # what the 12-digit, 2-decimal columns hold


class MoneyInput(serializers.Field):
    """An amount of money in a request body, exact, as a Decimal with two places.

    Takes a JSON number (read from its exact text, never through float arithmetic) that
    is a whole number of cents, or a string matching MONEY_PATTERN. Everything else is
    refused with a message saying what to send: booleans, unicode digits, exponents or
    whitespace in a string, a third decimal, a value below `min_value`."""

    default_error_messages = {
        "invalid": (
            "Give an amount as a JSON number (19.99) or a string of digits with at most "
            'two decimals ("19.99"); got {value}.'
        ),
        "cents": "An amount has at most two decimals (whole cents); got {value}.",
        "min_value": "The amount must be at least {limit}.",
        "max_value": "The amount must be at most {limit}.",
    }

    def __init__(self, *, min_value: Decimal = Decimal("0"), **kwargs):
        self.min_value = min_value
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> Decimal:
        if isinstance(data, float) and math.isfinite(data):
            value = _exact_number(data)
        elif (isinstance(data, int) and not isinstance(data, bool)) or (
            isinstance(data, str) and re.fullmatch(MONEY_PATTERN, data)
        ):
            value = Decimal(data)
        else:
            self.fail("invalid", value=_shown(data))
        # Both bounds before rounding: quantizing -1e300 to the cent needs more digits
        # than the decimal context holds.
        if value > MONEY_MAX:
            self.fail("max_value", limit=MONEY_MAX)
        if value < self.min_value:
            self.fail("min_value", limit=self.min_value)
        if value != value.quantize(CENT):
            self.fail("cents", value=_shown(data))
        return value.quantize(CENT)

    def to_representation(self, value: Decimal) -> Decimal:
        return value


class MoneyInputSchema(OpenApiSerializerFieldExtension):
    """A money input as the document states it: a number of whole cents, or a string of
    digits, within the field's bounds."""

    target_class = MoneyInput

    def map_serializer_field(self, auto_schema, direction):
        positive = self.target.min_value > 0
        return {
            "oneOf": [
                {
                    "type": "number",
                    "multipleOf": 0.01,
                    "minimum": float(self.target.min_value),
                    "maximum": float(MONEY_MAX),
                },
                {
                    "type": "string",
                    "pattern": POSITIVE_MONEY_PATTERN if positive else MONEY_PATTERN,
                    "example": "19.99",
                },
            ],
            "description": (
                "An amount in the store's currency: a JSON number of whole cents (19.99), or "
                'a string of ASCII digits with at most two decimals ("19.99"), up to '
                f"{MONEY_MAX}. No sign, exponent, spaces or leading zeros in a string."
            ),
        }


class StrictBooleanInput(serializers.BooleanField):
    """A JSON `true` or `false`, nothing else: 0, 1, "yes", "true" and "on" are refused,
    so a client's mistake never flips a flag such as `restock`."""

    default_error_messages = {"invalid": "Give true or false (a JSON boolean); got {value}."}

    def to_internal_value(self, data: Any) -> bool:
        if isinstance(data, bool):
            return data
        self.fail("invalid", value=_shown(data))


class StrictIntegerInput(serializers.IntegerField):
    """A whole number: a JSON integer (2, or 2.0), or a string of ASCII digits ("2").
    JSON booleans (which DRF takes as 1 and 0), fractions, unicode digits and spaces are
    refused. `min_value` and `max_value` work as on DRF's IntegerField."""

    default_error_messages = {"invalid": "Give a whole number (such as 2); got {value}."}

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool):
            self.fail("invalid", value=_shown(data))
        if isinstance(data, int):
            return data
        if isinstance(data, str) and re.fullmatch(r"-?[0-9]{1,18}", data):
            return int(data)
        if isinstance(data, float) and math.isfinite(data):
            value = _exact_number(data)
            if value == value.to_integral_value():
                return int(value)
        self.fail("invalid", value=_shown(data))


class PublicIdInput(serializers.CharField):
    """A prefixed id (`var_0193…`); documented with its prefix's pattern (PublicIdInputSchema)."""

    def __init__(self, prefix: str, **kwargs):
        self.prefix = prefix
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        try:
            return parse_public_id(self.prefix, value)
        except ValueError:
            raise serializers.ValidationError(
                f"'{value}' is not an id of the form {self.prefix}…"
            ) from None


class PublicIdInputSchema(OpenApiSerializerFieldExtension):
    target_class = PublicIdInput

    def map_serializer_field(self, auto_schema, direction):
        prefix = self.target.prefix
        return {"type": "string", "pattern": public_id_pattern(prefix), "example": f"{prefix}…"}


class CountryInput(serializers.CharField):
    """A country as an ISO 3166-1 alpha-2 code ('US') or its name ('United States')."""

    def __init__(self, **kwargs):
        kwargs.setdefault(
            "help_text", "An ISO 3166-1 alpha-2 code (US) or the country's name (United States)."
        )
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data).strip()
        try:
            return pycountry.countries.lookup(value).alpha_2
        except LookupError:
            raise UnacceptableValues(
                {
                    body_path(self): (
                        f"Unknown country '{value}': use an ISO 3166-1 code such as US, or "
                        "its name."
                    )
                }
            ) from None


class AddressInputSerializer(StrictSerializer):
    """Seed 001 names (`address`, `province`) and seed 003 names (`line1`, `state`) alike."""

    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True)
    address = serializers.CharField(max_length=255, required=False)
    line1 = serializers.CharField(max_length=255, required=False)
    line2 = serializers.CharField(max_length=255, required=False, allow_blank=True)
    city = serializers.CharField(max_length=100, required=False)
    province = serializers.CharField(max_length=100, required=False, allow_blank=True)
    state = serializers.CharField(max_length=100, required=False, allow_blank=True)
    postal_code = serializers.CharField(max_length=20, required=False, allow_blank=True)
    country = CountryInput(required=False)
    country_code = CountryInput(required=False)
    notes = serializers.CharField(max_length=1000, required=False, allow_blank=True)

    ALIASES = {"address": "line1", "state": "province", "country": "country_code"}

    def check_combinations(self, attrs):
        for alias, canonical in self.ALIASES.items():
            if alias in attrs and canonical in attrs and attrs[alias] != attrs[canonical]:
                raise serializers.ValidationError(
                    {alias: f"Give {alias} or {canonical}, not both with different values."}
                )
            if alias in attrs:
                attrs[canonical] = attrs.pop(alias)
        if not self.partial:
            missing = {
                "line1": "address (or line1)",
                "city": "city",
                "country_code": "country (or country_code)",
            }
            errors = {
                name: f"{label} is required."
                for name, label in missing.items()
                if not attrs.get(name)
            }
            if errors:
                raise serializers.ValidationError(errors)
        return attrs


class CustomerInputSerializer(StrictSerializer):
    name = serializers.CharField(max_length=200)
    email = serializers.EmailField(max_length=254)
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True)


class LineItemInputSerializer(StrictSerializer):
    variant_id = PublicIdInput(Variant.PUBLIC_ID_PREFIX)
    product_id = PublicIdInput(Product.PUBLIC_ID_PREFIX, required=False)
    quantity = StrictIntegerInput(min_value=1, max_value=10_000)


ORDER_READ_ONLY = frozenset(
    {
        "object", "id", "order_number", "store_id", "store", "currency", "subtotal",
        "discount_amount", "shipping_cost", "tax_amount", "total", "refunded_amount",
        "item_count", "is_pending", "is_completed", "is_cancellable", "is_fully_paid",
        "allowed_transitions", "payment", "items", "line_items", "fulfillments", "customer_name",
        "customer_email", "customer_phone", "created_at", "updated_at", "placed_at",
        "confirmed_at", "processing_at", "shipped_at", "delivered_at", "completed_at",
        "cancelled_at", "returned_at", "voided_at", "tax", "shipping", "status_history",
    }
)  # fmt: skip


class OrderCreateSerializer(StrictSerializer):
    read_only_names = ORDER_READ_ONLY - {"line_items"}

    customer_id = PublicIdInput(Customer.PUBLIC_ID_PREFIX, required=False)
    customer = CustomerInputSerializer(required=False)
    line_items = LineItemInputSerializer(many=True, allow_empty=False, max_length=MAX_LINES)
    shipping_address = AddressInputSerializer()
    shipping_method = serializers.CharField(max_length=40)
    notes = serializers.CharField(max_length=MAX_NOTE_LENGTH, required=False, allow_blank=True)
    customer_notes = serializers.CharField(
        max_length=MAX_NOTE_LENGTH, required=False, allow_blank=True
    )
    po_number = serializers.CharField(max_length=64, required=False, allow_blank=True)
    payment_method = serializers.ChoiceField(choices=PaymentMethod.choices, required=False)

    def check_combinations(self, attrs):
        if "customer_id" in attrs and "customer" in attrs:
            raise serializers.ValidationError(
                {"customer": "Give customer_id or customer, not both."}
            )
        if "customer_id" not in attrs and "customer" not in attrs:
            raise serializers.ValidationError(
                {"customer_id": "Give customer_id, or customer with name and email."}
            )
        if "notes" in attrs and "customer_notes" in attrs:
            raise serializers.ValidationError({"notes": "Give notes or customer_notes, not both."})
        return attrs


@extend_schema_field(
    {
        "type": "string",
        "pattern": one_of_pattern([*OrderStatus.values, *STATUS_ALIASES]),
        "description": "A status (any case); aliases in_progress = processing, "
        "canceled = cancelled.",
    }
)
class StatusInput(serializers.CharField):
    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        status = normalize_status(value)
        if status is None:
            raise serializers.ValidationError(
                f"Unknown status '{value}'. Use one of: {', '.join(OrderStatus.values)} "
                "(or in_progress, canceled)."
            )
        return status


# Spaces and control characters spelled as a range: engines disagree on what \s covers.
TRACKING_URL = r"^https?://[^\u0000-\u0020/?#]+(?:[/?#][^\u0000-\u0020]*)?$"


@extend_schema_field({"type": "string", "pattern": TRACKING_URL, "maxLength": 500})
class TrackingUrlInput(serializers.CharField):
    """The carrier's tracking page: an http(s) URL, checked by the one pattern the document
    states (Django's URLValidator takes and refuses things no schema can say)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.validators.append(
            RegexValidator(
                TRACKING_URL,
                message="Enter an http:// or https:// URL with a host, without spaces.",
            )
        )


class OrderUpdateSerializer(StrictSerializer):
    min_properties = 1
    read_only_names = ORDER_READ_ONLY | {
        "customer_id",
        "customer",
        "shipping_method",
        "payment_method",
    }

    status = StatusInput(required=False)
    reason = serializers.CharField(max_length=1000, required=False, allow_blank=True)
    carrier = serializers.CharField(max_length=100, required=False)
    tracking_number = serializers.CharField(max_length=100, required=False)
    tracking_url = TrackingUrlInput(max_length=500, required=False, allow_blank=True)
    payment_status = serializers.ChoiceField(choices=PaymentStatus.choices, required=False)
    shipping_address = AddressInputSerializer(required=False, partial=True)
    notes = serializers.CharField(max_length=MAX_NOTE_LENGTH, required=False, allow_blank=True)
    customer_notes = serializers.CharField(
        max_length=MAX_NOTE_LENGTH, required=False, allow_blank=True
    )
    internal_notes = serializers.CharField(
        max_length=MAX_NOTE_LENGTH, required=False, allow_blank=True
    )
    po_number = serializers.CharField(max_length=64, required=False, allow_blank=True)

    empty_message = (
        "Nothing to change: send status, payment_status, shipping_address, "
        "customer_notes, internal_notes or po_number."
    )

    def check_combinations(self, attrs):
        shipment_fields = {"carrier", "tracking_number", "tracking_url"} & set(attrs)
        if shipment_fields and attrs.get("status") != "shipped":
            raise serializers.ValidationError(
                dict.fromkeys(sorted(shipment_fields), "Only with status 'shipped'.")
            )
        if "reason" in attrs and "status" not in attrs and "payment_status" not in attrs:
            raise serializers.ValidationError({"reason": "A reason goes with a status change."})
        if "notes" in attrs:
            if "customer_notes" in attrs:
                raise serializers.ValidationError(
                    {"notes": "Give notes or customer_notes, not both."}
                )
            attrs["customer_notes"] = attrs.pop("notes")
        return attrs


class OrderVoidSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=1000, required=False, allow_blank=True)
