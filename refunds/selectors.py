from collections.abc import Sequence

from django.db.models import Prefetch, QuerySet

from orders.models import Order, Store
from refunds.models import Refund, RefundLine


def refunds_of(*, store: Store, orders: Sequence[Order]) -> QuerySet[Refund]:
    """Refunds of `orders` with their lines and the lines' items (two queries in all),
    oldest first."""
    lines = RefundLine.objects.filter(store=store).select_related("line_item").order_by("id")
    return (
        Refund.objects.filter(store=store, order__in=[o.pk for o in orders])
        .prefetch_related(Prefetch("lines", queryset=lines))
        .order_by("order_id", "created_at", "id")
    )
