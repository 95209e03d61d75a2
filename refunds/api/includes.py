from orders.api.events import register_event_object_shape
from orders.api.includes import register_include, rendered_by_order
from orders.services import register_event_renderer
from refunds.api.serializers import RefundSerializer
from refunds.models import Refund
from refunds.selectors import refunds_of


def _load_refunds(store, orders):
    return rendered_by_order(refunds_of(store=store, orders=orders), RefundSerializer)


def register() -> None:
    """Refunds as an order's include, and as the object of their events."""
    register_include("refunds", _load_refunds, shape=RefundSerializer)
    register_event_renderer(Refund, lambda store, refund: dict(RefundSerializer(refund).data))
    register_event_object_shape("refund", RefundSerializer)
