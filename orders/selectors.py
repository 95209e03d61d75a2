"""Reads of orders. Every query here is scoped to one store and uses its indexes.

Views never build querysets: filters, sorting, keyset pages and the
prefetches that keep a page's query count flat all live here.
"""

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet

from orders.exceptions import InvalidParameters, NotFound
from orders.filters import OrderFilterSet
from orders.ids import parse_public_id
from orders.models import LineItem, Order, Store

# Public sort names and the column each orders by.
SORT_FIELDS = {
    "order_number": "order_number",
    "total": "total",
    "grand_total": "total",
    "created_at": "created_at",
    "updated_at": "updated_at",
    "placed_at": "placed_at",
    "customer_name": "customer_name",
    "status": "status",
}
DEFAULT_SORT = (("created_at", True),)


@dataclass(frozen=True)
class SortKey:
    """An ordering: (column, descending) pairs, always ending on `id` so it is total."""

    columns: tuple[tuple[str, bool], ...]

    def order_by(self) -> list[str]:
        return [f"-{column}" if desc else column for column, desc in self.with_tiebreak()]

    def with_tiebreak(self) -> tuple[tuple[str, bool], ...]:
        first_desc = self.columns[0][1]
        return (*self.columns, ("id", first_desc))

    @property
    def label(self) -> str:
        return ",".join(f"-{column}" if desc else column for column, desc in self.columns)


def orders_of(*, store: Store) -> QuerySet[Order]:
    return Order.objects.filter(store=store)


def order_filters(*, store: Store, params: Mapping[str, str]) -> OrderFilterSet:
    """The list's filters from query `params`, validated against the store's orders.

    Raises InvalidParameters naming each malformed filter.
    """
    filterset = OrderFilterSet(params, queryset=orders_of(store=store), store=store)
    if not filterset.is_valid():
        raise InvalidParameters(
            {name: [str(m) for m in messages] for name, messages in filterset.errors.items()}
        )
    return filterset


def order_list(
    *, filters: OrderFilterSet, sort: SortKey, after: list[Any] | None = None
) -> QuerySet[Order]:
    """The orders matching `filters` (from order_filters), in `sort` order.

    `after` holds the sort values (and id) of the last row already seen: the
    keyset continues strictly after it, so rows inserted meanwhile never shift
    a page the way an offset would.
    """
    queryset = filters.qs.order_by(*sort.order_by())
    if after is not None:
        queryset = queryset.filter(_after_keyset(sort, after))
    return queryset


def _after_keyset(sort: SortKey, values: list[Any]) -> Q:
    """Rows strictly after `values` in `sort` order, as (a > x) OR (a = x AND b > y) OR …

    The leading column is also bounded on its own (a >= x) so the database can
    start the index scan at the cursor instead of filtering from the top.
    """
    columns = sort.with_tiebreak()
    condition = Q()
    for position, (column, desc) in enumerate(columns):
        equal_before = {earlier: values[i] for i, (earlier, _) in enumerate(columns[:position])}
        condition |= Q(**equal_before, **{f"{column}__{'lt' if desc else 'gt'}": values[position]})
    first_column, first_desc = columns[0]
    bound = Q(**{f"{first_column}__{'lte' if first_desc else 'gte'}": values[0]})
    return bound & condition


def keyset_values(order: Order, sort: SortKey) -> list[Any]:
    return [getattr(order, column) for column, _ in sort.with_tiebreak()]


def order_count(*, filters: OrderFilterSet) -> int:
    return filters.qs.order_by().count()


def order_get(*, store: Store, order_id: str) -> Order:
    """The store's order with public id `order_id`; NotFound for a malformed or foreign id."""
    try:
        pk = parse_public_id(Order.PUBLIC_ID_PREFIX, order_id)
    except ValueError:
        raise NotFound(f"No order '{order_id}' in this store.") from None
    order = orders_of(store=store).filter(pk=pk).first()
    if order is None:
        raise NotFound(f"No order '{order_id}' in this store.")
    return order


def order_items(*, store: Store, order: Order) -> QuerySet[LineItem]:
    return LineItem.objects.filter(store=store, order=order).order_by("created_at", "id")


@dataclass(frozen=True)
class StatusChange:
    from_status: str | None
    to_status: str
    from_payment_status: str | None
    to_payment_status: str
    changed_by: str
    reason: str
    created_at: datetime


def status_history(*, store: Store, order_ids: Iterable[Any]) -> dict[Any, list[StatusChange]]:
    """Each order's status and payment-status changes, oldest first, creation included.

    One query for any number of orders. History rows where neither status
    changed (edits of other fields) are skipped.
    """
    rows = (
        Order.history.model.objects.filter(store=store, id__in=list(order_ids))
        .order_by("id", "history_date", "history_id")
        .values_list(
            "id", "status", "payment_status", "changed_by", "history_change_reason", "history_date"
        )
    )
    changes: dict[Any, list[StatusChange]] = defaultdict(list)
    previous: dict[Any, tuple[str, str]] = {}
    for order_id, status, payment_status, changed_by, reason, at in rows:
        before = previous.get(order_id)
        previous[order_id] = (status, payment_status)
        if before == (status, payment_status):
            continue
        changes[order_id].append(
            StatusChange(
                from_status=before[0] if before else None,
                to_status=status,
                from_payment_status=before[1] if before else None,
                to_payment_status=payment_status,
                changed_by=changed_by,
                reason=reason or "",
                created_at=at,
            )
        )
    return changes
