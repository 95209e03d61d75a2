from collections.abc import Sequence

from django.db.models import Prefetch

from orders.models import Order, Store
from refunds.models import Refund, RefundLine


def refunds_of(*, store: Store, orders: Sequence[Order]) -> list[Refund]:
    """Refunds of `orders` with their lines and the lines' items (two queries in all),
    oldest first. Each refund's `order` is the one passed in (its currency is the
    refund's), so rendering them queries nothing more."""
    by_id = {order.pk: order for order in orders}
    lines = RefundLine.objects.filter(store=store).select_related("line_item").order_by("id")
    refunds = list(
        Refund.objects.filter(store=store, order__in=list(by_id))
        .prefetch_related(Prefetch("lines", queryset=lines))
        .order_by("order_id", "created_at", "id")
    )
    for refund in refunds:
        refund.order = by_id[refund.order_id]
    return refunds
