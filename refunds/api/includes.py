from typing import Any

from orders.api.events import register_event_object_shape
from orders.api.fields import money, timestamp
from orders.api.includes import register_include, rendered_by_order
from orders.models import LineItem, Order
from orders.services import register_event_renderer
from refunds.api.serializers import RefundSerializer
from refunds.models import Refund
from refunds.selectors import refunds_of


def render_refund(refund: Refund) -> dict[str, Any]:
    """The refund exactly as RefundSerializer renders it (tests/orders/test_rendering.py),
    its lines as loaded (refunds_of loads them in id order)."""
    return {
        "object": "refund",
        "id": f"{Refund.PUBLIC_ID_PREFIX}{refund.id}",
        "order_id": f"{Order.PUBLIC_ID_PREFIX}{refund.order_id}",
        "amount": money(refund.amount),
        "shipping_amount": money(refund.shipping_amount),
        "currency": refund.order.currency,
        "reason": refund.reason,
        "status": refund.status,
        "inventory_restored": refund.inventory_restored,
        "created_by": refund.created_by,
        "created_at": timestamp(refund.created_at),
        "line_items": [
            {
                "line_item_id": f"{LineItem.PUBLIC_ID_PREFIX}{line.line_item_id}",
                "quantity": line.quantity,
                "amount": money(line.amount),
                "tax_amount": money(line.tax_amount),
                "restocked": line.restocked,
            }
            for line in refund.lines.all()
        ],
    }


def _as_order(order) -> Order:
    """refunds_of hangs each refund on its Order (for its currency); the list's rows are
    not instances, so each becomes one holding just what is read (id and currency)."""
    if isinstance(order, Order):
        return order
    return Order.from_db(None, ["id", "currency"], [order.id, order.currency])


def _load_refunds(store, orders):
    return rendered_by_order(
        refunds_of(store=store, orders=[_as_order(order) for order in orders]), render_refund
    )


def _render_refund(store, refund: Refund) -> dict:
    """The refund exactly as the order's refunds route renders it (its lines in id order)."""
    (loaded,) = (r for r in refunds_of(store=store, orders=[refund.order]) if r.pk == refund.pk)
    return render_refund(loaded)


def register() -> None:
    """Refunds as an order's include, and as the object of their events."""
    register_include("refunds", _load_refunds, shape=RefundSerializer)
    register_event_renderer(Refund, _render_refund)
    register_event_object_shape("refund", RefundSerializer)
