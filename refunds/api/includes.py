from orders.api.includes import register_include, rendered_by_order
from refunds.api.serializers import RefundSerializer
from refunds.selectors import refunds_of


def _load_refunds(store, orders):
    return rendered_by_order(refunds_of(store=store, orders=orders), RefundSerializer)


def register() -> None:
    register_include("refunds", _load_refunds, shape=RefundSerializer)
