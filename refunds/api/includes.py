from collections import defaultdict

from orders.api.includes import register_include
from refunds.api.serializers import RefundSerializer
from refunds.selectors import refunds_of


def _load_refunds(store, orders):
    by_id = {order.pk: order for order in orders}
    grouped = defaultdict(list)
    for refund in refunds_of(store=store, orders=orders):
        refund.order = by_id[refund.order_id]  # the currency comes from the order in hand
        grouped[refund.order_id].append(RefundSerializer(refund).data)
    return grouped


def register() -> None:
    register_include("refunds", _load_refunds)
