from orders.api.events import register_event_object_shape
from orders.api.includes import register_include, rendered_by_order
from orders.services import register_event_renderer
from refunds.api.serializers import RefundSerializer
from refunds.models import Refund
from refunds.selectors import refunds_of


def _load_refunds(store, orders):
    return rendered_by_order(refunds_of(store=store, orders=orders), RefundSerializer)


def _render_refund(store, refund: Refund) -> dict:
    """The refund exactly as the order's refunds route renders it (its lines in id order)."""
    (loaded,) = (r for r in refunds_of(store=store, orders=[refund.order]) if r.pk == refund.pk)
    return dict(RefundSerializer(loaded).data)


def register() -> None:
    """Refunds as an order's include, and as the object of their events."""
    register_include("refunds", _load_refunds, shape=RefundSerializer)
    register_event_renderer(Refund, _render_refund)
    register_event_object_shape("refund", RefundSerializer)
