"""The tables a seed loads and a batch of their rows, as COPY text lines."""

from collections.abc import Sequence

from orders.demo.extensions import OrderExtension, Table
from orders.models import Fulfillment, LineItem, Order, OrderStatus

HISTORY_MODEL = Order.history.model
S = OrderStatus

# Columns in the order the generator renders them.
ORDER_COLUMNS = [
    "id", "store_id", "order_number", "status", "payment_status", "payment_method",
    "shipping_method_id", "shipping_method_code", "requires_shipping", "currency",
    "customer_id", "customer_name", "customer_email", "customer_phone", "customer_code",
    "shipping_name", "shipping_phone", "shipping_line1", "shipping_line2", "shipping_city",
    "shipping_province", "shipping_postal_code", "shipping_country", "country_code",
    "po_number", "subtotal", "discount_amount", "shipping_cost", "tax_amount", "total",
    "refunded_amount", "item_count", "customer_notes", "internal_notes", "shipping_notes",
    "placed_at", "confirmed_at", "processing_at", "shipped_at", "delivered_at", "completed_at",
    "cancelled_at", "returned_at", "voided_at", "created_at", "updated_at",
]  # fmt: skip
ITEM_COLUMNS = [
    "id", "store_id", "order_id", "product_id", "variant_id", "sku", "product_name",
    "variant_name", "quantity", "unit_price", "total_price", "tax_amount", "refunded_quantity",
    "created_at",
]  # fmt: skip
FULFILLMENT_COLUMNS = [
    "id", "store_id", "order_id", "status", "carrier", "tracking_number", "tracking_url",
    "shipped_at", "delivered_at", "created_at",
]  # fmt: skip
HISTORY_COLUMNS = [
    "id", "store_id", "order_number", "status", "payment_status", "history_date",
    "history_change_reason", "history_type", "changed_by",
]  # fmt: skip
# The statuses with a timestamp column on the order, in ORDER_COLUMNS' order.
TIMESTAMPED_STATUSES = [
    S.CONFIRMED, S.PROCESSING, S.SHIPPED, S.DELIVERED, S.COMPLETED, S.CANCELLED, S.RETURNED,
    S.VOIDED,
]  # fmt: skip


ORDER_TABLES: list[Table] = [
    (Order, ORDER_COLUMNS),
    (LineItem, ITEM_COLUMNS),
    (Fulfillment, FULFILLMENT_COLUMNS),
    (HISTORY_MODEL, HISTORY_COLUMNS),
]


def loaded_tables(extensions: Sequence[OrderExtension]) -> list[Table]:
    """Every table a seed writes, in load order: the order tables, then the extensions'."""
    return [*ORDER_TABLES, *(table for extension in extensions for table in extension.tables)]


class RowBatch:
    """One batch of orders: each loaded table's rows as COPY text lines."""

    def __init__(self, extension_tables: int = 0) -> None:
        self.orders: list[str] = []
        self.items: list[str] = []
        self.fulfillments: list[str] = []
        self.history: list[str] = []
        # One list per extension table, in loaded_tables' order.
        self.extensions: list[list[str]] = [[] for _ in range(extension_tables)]

    def lines(self) -> list[list[str]]:
        """Each table's lines, parallel to loaded_tables()."""
        return [self.orders, self.items, self.fulfillments, self.history, *self.extensions]
