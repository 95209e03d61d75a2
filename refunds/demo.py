"""The refunds of seeded demo orders: `seed_demo` and `setup_demo` (orders.demo) give each
refunded order the Refund and RefundLine rows that refund_create would have written, so
the admin's refunds list, the order page's refund preview and GET /v1/orders/{id}/refunds
agree with the order's refunded_amount and its lines' refunded_quantity.

A seeded order is refunded by one lifecycle step, so it gets one refund, made by that
step's actor at its time for its reason, without restocking:
- refunded in full: every line and the shipping (the amount is the order's total);
- partially, with several lines: the first line, for its share of what was paid;
- partially, with one line: a goodwill amount, no lines.

Each refund made in the events window also gets the refund.created event refund_create
writes, its object the refund as the API renders it now.
"""

from collections.abc import Iterator, Sequence
from datetime import datetime

from orders.demo import OrderExtension, SeededEvent, SeededOrder, money_text
from orders.models import EventType, Order, Store
from refunds.api.serializers import RefundSerializer
from refunds.models import Refund, RefundLine
from refunds.selectors import refunds_of

# Refunded orders whose refunds are read and rendered per query round.
EVENTS_BATCH = 500

REFUND_COLUMNS = [
    "id", "store_id", "order_id", "amount", "shipping_amount", "reason", "status",
    "inventory_restored", "created_by", "created_at",
]  # fmt: skip
REFUND_LINE_COLUMNS = [
    "id", "store_id", "refund_id", "line_item_id", "quantity", "amount", "tax_amount",
    "restocked",
]  # fmt: skip


def seeded_refund_rows(order: SeededOrder) -> Sequence[list[str]]:
    """The order's refund and refund lines as COPY text, or nothing when not refunded.

    A line is refunded whole: its amount is unit price × quantity and its tax the line's
    tax, as refund_quote prices all of a line's units.
    """
    refund = order.refund
    if refund is None:
        return ()
    refund_id = order.new_id(refund.at)
    store_id = order.store_id
    lines = [
        f"{order.new_id(refund.at)}\t{store_id}\t{refund_id}\t{line.line_item_id}"
        f"\t{line.quantity}\t{money_text(line.unit_price * line.quantity)}"
        f"\t{money_text(line.tax_amount)}\tf\n"
        for line in refund.lines
    ]
    row = (
        f"{refund_id}\t{store_id}\t{order.order_id}\t{money_text(refund.amount)}"
        f"\t{money_text(refund.shipping)}\t{refund.reason}\t{Refund.Status.PROCESSED}\tf"
        f"\t{refund.actor}\t{refund.at_text}\n"
    )
    return [row], lines


def seeded_refund_events(store: Store, since: datetime) -> Iterator[SeededEvent]:
    """refund.created for each of `store`'s refunds made since `since`, read back and
    rendered EVENTS_BATCH orders at a time (refunds_of: three queries a round)."""
    order_ids = list(
        Refund.objects.filter(store=store, created_at__gte=since)
        .order_by("order_id")
        .values_list("order_id", flat=True)
        .distinct()
    )
    for start in range(0, len(order_ids), EVENTS_BATCH):
        orders = Order.objects.filter(store=store, pk__in=order_ids[start : start + EVENTS_BATCH])
        for refund in refunds_of(store=store, orders=list(orders.only("id", "currency"))):
            if refund.created_at >= since:
                yield SeededEvent(
                    at=refund.created_at,
                    type=EventType.REFUND_CREATED,
                    order_id=refund.order_id,
                    # Loaded by refunds_of as the refunds route loads them: render as is.
                    object=dict(RefundSerializer(refund).data),
                    previous_attributes={},
                )


SEEDED_REFUNDS = OrderExtension(
    name="refunds",
    tables=[(Refund, REFUND_COLUMNS), (RefundLine, REFUND_LINE_COLUMNS)],
    rows=seeded_refund_rows,
    events=seeded_refund_events,
)
