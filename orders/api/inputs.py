"""Request bodies of the orders API: strict shapes (unknown or read-only fields are refused)."""

import pycountry
from rest_framework import serializers

from orders.ids import parse_public_id
from orders.models import Customer, OrderStatus, PaymentMethod, PaymentStatus, Product, Variant
from orders.transitions import normalize_status

MAX_LINES = 250
MAX_NOTE_LENGTH = 5000


class StrictSerializer(serializers.Serializer):
    """Refuses fields it does not know, so a typo or a read-only field is never silently
    dropped. `read_only_names` get a message saying they cannot be set."""

    read_only_names: frozenset[str] = frozenset()

    def to_internal_value(self, data):
        if isinstance(data, dict):
            errors = {}
            for name in data:
                if name in self.fields:
                    continue
                if name in self.read_only_names:
                    errors[name] = ["This field is read-only: it is computed by Ordo."]
                else:
                    errors[name] = [
                        f"Unknown field. Accepted fields: {', '.join(sorted(self.fields))}."
                    ]
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


class PublicIdInput(serializers.CharField):
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


class CountryInput(serializers.CharField):
    """A country as an ISO 3166-1 alpha-2 code ('US') or its name ('United States')."""

    def to_internal_value(self, data):
        value = super().to_internal_value(data).strip()
        try:
            return pycountry.countries.lookup(value).alpha_2
        except LookupError:
            raise serializers.ValidationError(
                f"Unknown country '{value}': use an ISO 3166-1 code such as US, or its name."
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

    def validate(self, attrs):
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
    quantity = serializers.IntegerField(min_value=1, max_value=10_000)


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

    def validate(self, attrs):
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


class OrderUpdateSerializer(StrictSerializer):
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
    tracking_url = serializers.URLField(max_length=500, required=False, allow_blank=True)
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

    def validate(self, attrs):
        if not attrs:
            raise serializers.ValidationError(
                "Nothing to change: send status, payment_status, shipping_address, "
                "customer_notes, internal_notes or po_number."
            )
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
