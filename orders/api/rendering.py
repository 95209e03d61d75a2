"""The API's objects rendered by plain functions: an order, a line item, a fulfillment, a
status change.

The serializers (orders.api.serializers) are the documented shapes; building one per
object costs ten times what printing the object does, so responses are rendered here
instead, key for key and value for value as those serializers render them
(tests/orders/test_rendering.py compares the two on varied orders, so they cannot
drift). Each function reads its object's attributes, so it renders a model instance
and a row read with `values_list` (`OrderRow`, `LineItemRow`, …) alike.
"""

from collections import namedtuple
from functools import cache, lru_cache
from typing import Any

from django.db.models import QuerySet

from orders.api.fields import money, timestamp
from orders.ids import format_public_id
from orders.models import Customer, Fulfillment, LineItem, Order, Product, Store, Variant

ORDER_PREFIX = Order.PUBLIC_ID_PREFIX
CUSTOMER_PREFIX = Customer.PUBLIC_ID_PREFIX

# What an order's rendering reads, by the model's attribute names.
ORDER_COLUMNS = (
    "id", "order_number", "store_id", "status", "payment_status", "payment_method",
    "shipping_method_code", "requires_shipping", "currency", "customer_id", "customer_name",
    "customer_email", "customer_phone", "customer_code", "po_number", "subtotal",
    "discount_amount", "shipping_cost", "tax_amount", "total", "refunded_amount",
    "customer_notes", "internal_notes", "shipping_name", "shipping_phone", "shipping_line1",
    "shipping_line2", "shipping_city", "shipping_province", "shipping_postal_code",
    "shipping_country", "country_code", "shipping_notes", "item_count", "placed_at",
    "confirmed_at", "processing_at", "shipped_at", "delivered_at", "completed_at",
    "cancelled_at", "returned_at", "voided_at", "created_at", "updated_at",
)  # fmt: skip


class OrderRow(namedtuple("OrderRow", ORDER_COLUMNS)):
    """An order as the list reads it (order_rows): no model instance is built per row. It
    answers what the include loaders and the keyset cursor read of an order: `pk`, `id`,
    the sort columns."""

    __slots__ = ()

    @property
    def pk(self):
        return self.id


LINE_ITEM_COLUMNS = (
    "order_id", "id", "product_id", "variant_id", "sku", "product_name", "variant_name",
    "quantity", "unit_price", "total_price", "tax_amount", "refunded_quantity", "created_at",
)  # fmt: skip
FULFILLMENT_COLUMNS = (
    "order_id", "id", "status", "carrier", "tracking_number", "tracking_url", "shipped_at",
    "delivered_at", "created_at",
)  # fmt: skip
LineItemRow = namedtuple("LineItemRow", LINE_ITEM_COLUMNS)
FulfillmentRow = namedtuple("FulfillmentRow", FULFILLMENT_COLUMNS)


def order_rows(orders: QuerySet[Order]) -> QuerySet:
    """`orders` as tuples of ORDER_COLUMNS (each made an OrderRow by `OrderRow._make`): no
    model instance is built per row."""
    return orders.values_list(*ORDER_COLUMNS)


def rows_of(queryset: QuerySet, row: type) -> list:
    """`queryset`'s rows as `row`s (LineItemRow, FulfillmentRow): what the render functions
    read, without a model instance per row."""
    return list(map(row._make, queryset.values_list(*row._fields)))


@cache
def _state(status: str, payment_status: str, requires_shipping: bool) -> tuple:
    """What an order in this state may do next, read from the model's own properties (the
    rules stay in orders.transitions): a few dozen states, computed once each."""
    order = Order(status=status, payment_status=payment_status, requires_shipping=requires_shipping)
    return (
        tuple(order.allowed_transitions),
        order.is_pending,
        order.is_completed,
        order.is_cancellable,
        order.is_fully_paid,
    )


@lru_cache(maxsize=256)
def _store_id(pk: Any) -> str:
    return f"{Store.PUBLIC_ID_PREFIX}{pk}"


def render_order(order: Order | OrderRow) -> dict[str, Any]:
    """The order as OrderSerializer renders it (without the related lists)."""
    o = order
    allowed, is_pending, is_completed, is_cancellable, is_fully_paid = _state(
        o.status, o.payment_status, o.requires_shipping
    )
    customer_id = format_public_id(CUSTOMER_PREFIX, o.customer_id)
    total = money(o.total)
    return {
        "object": "order",
        "id": f"{ORDER_PREFIX}{o.id}",
        "order_number": o.order_number,
        "store_id": _store_id(o.store_id),
        "status": o.status,
        "payment_status": o.payment_status,
        "payment_method": o.payment_method,
        "shipping_method": o.shipping_method_code,
        "requires_shipping": o.requires_shipping,
        "currency": o.currency,
        "customer_id": customer_id,
        "customer_name": o.customer_name,
        "customer_email": o.customer_email,
        "customer_phone": o.customer_phone,
        "customer": {
            "id": customer_id,
            "name": o.customer_name,
            "email": o.customer_email,
            "phone": o.customer_phone,
            "code": o.customer_code,
        },
        "po_number": o.po_number,
        "subtotal": money(o.subtotal),
        "discount_amount": money(o.discount_amount),
        "shipping_cost": money(o.shipping_cost),
        "tax_amount": money(o.tax_amount),
        "total": total,
        "refunded_amount": money(o.refunded_amount),
        "customer_notes": o.customer_notes,
        "internal_notes": o.internal_notes,
        "shipping_address": {
            "name": o.shipping_name,
            "phone": o.shipping_phone,
            "address": o.shipping_line1,
            "line2": o.shipping_line2,
            "city": o.shipping_city,
            "province": o.shipping_province,
            "postal_code": o.shipping_postal_code,
            "country": o.shipping_country,
            "country_code": o.country_code,
            "notes": o.shipping_notes,
        },
        "country_code": o.country_code,
        "is_pending": is_pending,
        "is_completed": is_completed,
        "is_cancellable": is_cancellable,
        "is_fully_paid": is_fully_paid,
        "item_count": o.item_count,
        "allowed_transitions": list(allowed),
        "payment": {
            "method": o.payment_method,
            "status": o.payment_status,
            "amount": total,
            "currency": o.currency,
        },
        "placed_at": timestamp(o.placed_at),
        "confirmed_at": timestamp(o.confirmed_at),
        "processing_at": timestamp(o.processing_at),
        "shipped_at": timestamp(o.shipped_at),
        "delivered_at": timestamp(o.delivered_at),
        "completed_at": timestamp(o.completed_at),
        "cancelled_at": timestamp(o.cancelled_at),
        "returned_at": timestamp(o.returned_at),
        "voided_at": timestamp(o.voided_at),
        "created_at": timestamp(o.created_at),
        "updated_at": timestamp(o.updated_at),
    }


def render_line_item(item: Any) -> dict[str, Any]:
    """A line item (a LineItem, or a LineItemRow) as LineItemSerializer renders it."""
    return {
        "object": "line_item",
        "id": f"{LineItem.PUBLIC_ID_PREFIX}{item.id}",
        "product_id": format_public_id(Product.PUBLIC_ID_PREFIX, item.product_id),
        "variant_id": format_public_id(Variant.PUBLIC_ID_PREFIX, item.variant_id),
        "sku": item.sku,
        "product_name": item.product_name,
        "variant_name": item.variant_name,
        "quantity": item.quantity,
        "unit_price": money(item.unit_price),
        "total_price": money(item.total_price),
        "tax_amount": money(item.tax_amount),
        "refunded_quantity": item.refunded_quantity,
        "created_at": timestamp(item.created_at),
    }


def render_fulfillment(fulfillment: Any) -> dict[str, Any]:
    """A fulfillment (a Fulfillment, or a FulfillmentRow) as FulfillmentSerializer renders it."""
    f = fulfillment
    return {
        "object": "fulfillment",
        "id": f"{Fulfillment.PUBLIC_ID_PREFIX}{f.id}",
        "order_id": f"{ORDER_PREFIX}{f.order_id}",
        "status": f.status,
        "carrier": f.carrier,
        "tracking_number": f.tracking_number,
        "tracking_url": f.tracking_url,
        "shipped_at": timestamp(f.shipped_at),
        "delivered_at": timestamp(f.delivered_at),
        "created_at": timestamp(f.created_at),
    }


def render_status_change(change: Any) -> dict[str, Any]:
    """A StatusChange (orders.selectors.status_history) as StatusChangeSerializer renders it."""
    return {
        "object": "status_change",
        "from_status": change.from_status,
        "to_status": change.to_status,
        "from_payment_status": change.from_payment_status,
        "to_payment_status": change.to_payment_status,
        "changed_by": change.changed_by,
        "reason": change.reason,
        "created_at": timestamp(change.created_at),
    }
