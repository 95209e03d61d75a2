from decimal import Decimal

from rest_framework import serializers

from orders.api.fields import MoneyField, PublicIdField, TimestampField
from orders.api.inputs import (
    MoneyInput,
    PublicIdInput,
    StrictBooleanInput,
    StrictIntegerInput,
    StrictSerializer,
)
from orders.api.serializers import ObjectTypeField
from orders.models import LineItem, Order
from refunds.services import MAX_LINE_QUANTITY


class RefundLineSerializer(serializers.Serializer):
    line_item_id = PublicIdField(LineItem.PUBLIC_ID_PREFIX)
    quantity = serializers.IntegerField()
    amount = MoneyField()
    tax_amount = MoneyField()
    restocked = serializers.BooleanField()


class RefundSerializer(serializers.Serializer):
    object = ObjectTypeField("refund")
    id = PublicIdField("ref_")
    order_id = PublicIdField(Order.PUBLIC_ID_PREFIX)
    amount = MoneyField()
    shipping_amount = MoneyField()
    currency = serializers.CharField(source="order.currency")
    reason = serializers.CharField()
    status = serializers.CharField()
    inventory_restored = serializers.BooleanField()
    created_by = serializers.CharField()
    created_at = TimestampField()
    line_items = RefundLineSerializer(source="lines", many=True)


class RefundLineInputSerializer(StrictSerializer):
    line_item_id = PublicIdInput(LineItem.PUBLIC_ID_PREFIX)
    quantity = StrictIntegerInput(min_value=1, max_value=MAX_LINE_QUANTITY)


class RefundCreateSerializer(StrictSerializer):
    line_items = RefundLineInputSerializer(many=True, required=False, max_length=250)
    amount = MoneyInput(min_value=Decimal("0.01"), required=False)
    reason = serializers.CharField(max_length=1000, required=False, allow_blank=True)
    restock = StrictBooleanInput(required=False)
    refund_shipping = StrictBooleanInput(default=False)


class RefundQuoteInputSerializer(StrictSerializer):
    line_items = RefundLineInputSerializer(many=True, required=False, max_length=250)
    refund_shipping = StrictBooleanInput(default=False)


class LineQuoteSerializer(serializers.Serializer):
    line_item_id = PublicIdField(LineItem.PUBLIC_ID_PREFIX, source="line_item.id")
    sku = serializers.CharField(source="line_item.sku")
    product_name = serializers.CharField(source="line_item.product_name")
    quantity = serializers.IntegerField()
    refundable_quantity = serializers.IntegerField()
    amount = MoneyField()
    tax_amount = MoneyField()
    total = MoneyField()


class RefundQuoteSerializer(serializers.Serializer):
    object = ObjectTypeField("refund_quote")
    line_items = LineQuoteSerializer(source="lines", many=True)
    subtotal = MoneyField()
    tax = MoneyField()
    shipping = MoneyField()
    shipping_refundable = MoneyField()
    total = MoneyField(help_text="What this refund would give back")
    refundable = MoneyField(source="balance", help_text="The most any refund may give back now")
