"""Shapes of the API's objects (DESIGN.md "The order object"). Shapes only, no behaviour."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from orders.api.fields import MoneyField, PublicIdField, TimestampField
from orders.models import (
    Customer,
    Fulfillment,
    LineItem,
    Order,
    OrderStatus,
    PaymentMethod,
    PaymentStatus,
    Product,
    Store,
    Variant,
)


@extend_schema_field({"type": "string", "description": "The object's type, e.g. order"})
class ObjectTypeField(serializers.Field):
    def __init__(self, name: str):
        self.name_ = name
        super().__init__(read_only=True, source="*")

    def to_representation(self, value):
        return self.name_


class LineItemSerializer(serializers.Serializer):
    object = ObjectTypeField("line_item")
    id = PublicIdField(LineItem.PUBLIC_ID_PREFIX)
    # null once the catalog entry is deleted: the line keeps its sku and names.
    product_id = PublicIdField(Product.PUBLIC_ID_PREFIX, allow_null=True)
    variant_id = PublicIdField(Variant.PUBLIC_ID_PREFIX, allow_null=True)
    sku = serializers.CharField()
    product_name = serializers.CharField()
    variant_name = serializers.CharField()
    quantity = serializers.IntegerField()
    unit_price = MoneyField()
    total_price = MoneyField()
    tax_amount = MoneyField()
    refunded_quantity = serializers.IntegerField()
    created_at = TimestampField()


class FulfillmentSerializer(serializers.Serializer):
    object = ObjectTypeField("fulfillment")
    id = PublicIdField(Fulfillment.PUBLIC_ID_PREFIX)
    order_id = PublicIdField(Order.PUBLIC_ID_PREFIX)
    status = serializers.CharField()
    carrier = serializers.CharField()
    tracking_number = serializers.CharField()
    tracking_url = serializers.CharField()
    shipped_at = TimestampField()
    delivered_at = TimestampField(allow_null=True)
    created_at = TimestampField()


class StatusChangeSerializer(serializers.Serializer):
    object = ObjectTypeField("status_change")
    from_status = serializers.ChoiceField(choices=OrderStatus.choices, allow_null=True)
    to_status = serializers.ChoiceField(choices=OrderStatus.choices)
    from_payment_status = serializers.ChoiceField(choices=PaymentStatus.choices, allow_null=True)
    to_payment_status = serializers.ChoiceField(choices=PaymentStatus.choices)
    changed_by = serializers.CharField(help_text="api_key_<prefix>, a staff username, or system")
    reason = serializers.CharField()
    created_at = TimestampField()


class OrderCustomerSerializer(serializers.Serializer):
    id = PublicIdField(Customer.PUBLIC_ID_PREFIX, source="customer_id", allow_null=True)
    name = serializers.CharField(source="customer_name")
    email = serializers.CharField(source="customer_email")
    phone = serializers.CharField(source="customer_phone")
    code = serializers.CharField(source="customer_code")


class ShippingAddressSerializer(serializers.Serializer):
    name = serializers.CharField(source="shipping_name")
    phone = serializers.CharField(source="shipping_phone")
    address = serializers.CharField(source="shipping_line1")
    line2 = serializers.CharField(source="shipping_line2")
    city = serializers.CharField(source="shipping_city")
    province = serializers.CharField(source="shipping_province")
    postal_code = serializers.CharField(source="shipping_postal_code")
    country = serializers.CharField(source="shipping_country")
    country_code = serializers.CharField()
    notes = serializers.CharField(source="shipping_notes")


class PaymentSerializer(serializers.Serializer):
    method = serializers.ChoiceField(choices=PaymentMethod.choices, source="payment_method")
    status = serializers.ChoiceField(choices=PaymentStatus.choices, source="payment_status")
    amount = MoneyField(source="total")
    currency = serializers.CharField()


class OrderSerializer(serializers.Serializer):
    """The one order shape. Related lists (`items`, `fulfillments`, …) are added by the view
    from what the request includes, so this serializer never queries."""

    object = ObjectTypeField("order")
    id = PublicIdField(Order.PUBLIC_ID_PREFIX)
    order_number = serializers.IntegerField()
    store_id = PublicIdField(Store.PUBLIC_ID_PREFIX)
    status = serializers.ChoiceField(choices=OrderStatus.choices)
    payment_status = serializers.ChoiceField(choices=PaymentStatus.choices)
    payment_method = serializers.ChoiceField(choices=PaymentMethod.choices)
    shipping_method = serializers.CharField(source="shipping_method_code")
    requires_shipping = serializers.BooleanField()
    currency = serializers.CharField()
    customer_id = PublicIdField(Customer.PUBLIC_ID_PREFIX, allow_null=True)
    customer_name = serializers.CharField()
    customer_email = serializers.CharField()
    customer_phone = serializers.CharField()
    customer = OrderCustomerSerializer(source="*")
    po_number = serializers.CharField()
    subtotal = MoneyField()
    discount_amount = MoneyField()
    shipping_cost = MoneyField()
    tax_amount = MoneyField()
    total = MoneyField()
    refunded_amount = MoneyField()
    customer_notes = serializers.CharField()
    internal_notes = serializers.CharField()
    shipping_address = ShippingAddressSerializer(source="*")
    country_code = serializers.CharField()
    is_pending = serializers.BooleanField()
    is_completed = serializers.BooleanField()
    is_cancellable = serializers.BooleanField()
    is_fully_paid = serializers.BooleanField()
    item_count = serializers.IntegerField()
    allowed_transitions = serializers.ListField(
        child=serializers.ChoiceField(choices=OrderStatus.choices)
    )
    payment = PaymentSerializer(source="*")
    placed_at = TimestampField()
    confirmed_at = TimestampField(allow_null=True)
    processing_at = TimestampField(allow_null=True)
    shipped_at = TimestampField(allow_null=True)
    delivered_at = TimestampField(allow_null=True)
    completed_at = TimestampField(allow_null=True)
    cancelled_at = TimestampField(allow_null=True)
    returned_at = TimestampField(allow_null=True)
    voided_at = TimestampField(allow_null=True)
    created_at = TimestampField()
    updated_at = TimestampField()
