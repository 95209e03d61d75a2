"""Reads of orders. Every query here is scoped to one store and uses its indexes.

Views never build querysets: filters, sorting, keyset pages and the
prefetches that keep a page's query count flat all live here.
"""

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import BooleanField, Count, DecimalField, F, Q, QuerySet, Sum
from django.db.models.expressions import RawSQL
from django.db.models.functions import TruncDate

from orders.exceptions import InvalidParameters, NotFound
from orders.filters import OrderFilterSet
from orders.ids import parse_public_id
from orders.models import Event, Fulfillment, LineItem, Order, OrderStatus, Store
from orders.models.base import MONEY
from orders.pricing import to_cents

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
        errors = {name: [str(m) for m in messages] for name, messages in filterset.errors.items()}
        raise InvalidParameters.naming_fields(errors)
    return filterset


def order_list(*, filters: OrderFilterSet, sort: SortKey) -> QuerySet[Order]:
    """The orders matching `filters` (from order_filters), in `sort` order (paging, keyset
    included, is orders.api.pagination's)."""
    return filters.qs.order_by(*sort.order_by())


def order_count(*, filters: OrderFilterSet) -> int:
    return filters.qs.order_by().count()


def order_count_estimate(*, filters: OrderFilterSet) -> tuple[int, bool]:
    """(how many orders match, whether that is an estimate): PostgreSQL's planner estimate
    for the filtered query (no rows read: constant time on any store), the exact count on
    databases that cannot estimate."""
    queryset = filters.qs.order_by()
    if connection.vendor != "postgresql":
        return queryset.count(), False
    plan = json.loads(queryset.explain(format="json"))
    return max(int(plan[0]["Plan"]["Plan Rows"]), 0), True


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


def line_items_of(*, store: Store, orders: Iterable[Order]) -> QuerySet[LineItem]:
    """The line items of `orders`, each order's in the order they were bought."""
    return LineItem.objects.filter(store=store, order__in=[o.pk for o in orders]).order_by(
        "order_id", "created_at", "id"
    )


def fulfillments_of(*, store: Store, orders: Iterable[Order]) -> QuerySet[Fulfillment]:
    """The shipments of `orders`, each order's oldest first."""
    return Fulfillment.objects.filter(store=store, order__in=[o.pk for o in orders]).order_by(
        "order_id", "created_at", "id"
    )


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


# --- figures for staff pages -----------------------------------------------------------


def order_countries(*, store_ids: Iterable[Any] | None) -> list[str]:
    """The distinct shipping country codes of the stores' orders (None: every store), sorted.

    A plain DISTINCT reads every order (about 100 ms at a million); this walks the
    (store, country_code) index instead, one probe per store and country: the "loose
    index scan" PostgreSQL does not do by itself. One statement for any number of
    stores. Plain SQL because the ORM has no recursive queries; it runs on SQLite too.
    """
    orders = connection.ops.quote_name(Order._meta.db_table)
    stores = connection.ops.quote_name(Store._meta.db_table)
    where, params = "", []
    if store_ids is not None:
        store_field = Store._meta.pk
        params = [store_field.get_db_prep_value(pk, connection) for pk in store_ids]
        if not params:
            return []
        where = f"WHERE id IN ({', '.join(['%s'] * len(params))})"
    # Table names are the models' own and the ids are parameters: nothing here is input.
    sql = f"""
        WITH RECURSIVE codes(store_id, code) AS (
            SELECT id, (SELECT country_code FROM {orders} WHERE store_id = {stores}.id
                        ORDER BY country_code LIMIT 1)
            FROM {stores} {where}
            UNION ALL
            SELECT store_id, (SELECT country_code FROM {orders} AS o
                              WHERE o.store_id = codes.store_id AND o.country_code > codes.code
                              ORDER BY o.country_code LIMIT 1)
            FROM codes WHERE code IS NOT NULL
        )
        SELECT code FROM codes WHERE code IS NOT NULL AND code <> ''
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return sorted({code for (code,) in cursor.fetchall()})


# Above this many rows a count is PostgreSQL's planner estimate: counting a million orders
# exactly reads them all (half a second), and "about 712,000" says as much to a person.
EXACT_COUNT_UP_TO = 10_000


@dataclass(frozen=True)
class RowCount:
    value: int
    is_estimate: bool = False


def estimated_count(queryset: QuerySet, *, exact_up_to: int = EXACT_COUNT_UP_TO) -> RowCount:
    """The rows of `queryset`: exact up to `exact_up_to` (a count that stops reading
    there), beyond it PostgreSQL's planner estimate (never below what was counted).
    SQLite has no estimate and counts everything."""
    queryset = queryset.order_by()
    counted = queryset[: exact_up_to + 1].count()
    if counted <= exact_up_to:
        return RowCount(counted)
    if connection.vendor != "postgresql":
        return RowCount(queryset.count())
    plan = json.loads(queryset.explain(format="json"))
    return RowCount(max(int(plan[0]["Plan"]["Plan Rows"]), counted), is_estimate=True)


def order_status_counts(*, store: Store) -> dict[str, RowCount]:
    """How many of the store's orders are in each status (every status, zeros included),
    the big ones estimated (see estimated_count)."""
    orders = orders_of(store=store)
    return {status: estimated_count(orders.filter(status=status)) for status in OrderStatus.values}


@dataclass(frozen=True)
class DailySales:
    day: date
    orders: int
    net_sales: Decimal


# Orders whose money never changed hands: they count as orders, not as sales.
NO_SALE_STATUSES = (OrderStatus.CANCELLED, OrderStatus.VOIDED)


def daily_sales(*, store: Store, days: int, today: date) -> list[DailySales]:
    """Orders placed and net sales for each of the `days` store-local days up to `today`.

    Net sales are order totals less refunds, cancelled and voided orders left out.
    Days are the store's calendar days; days without orders are zero. One query, a
    range scan of the (store, placed_at) index.
    """
    zone = store.tzinfo
    first_day = today - timedelta(days=days - 1)
    since = datetime.combine(first_day, time.min, tzinfo=zone)
    until = datetime.combine(today + timedelta(days=1), time.min, tzinfo=zone)
    rows = (
        orders_of(store=store)
        .filter(placed_at__gte=since, placed_at__lt=until)
        .annotate(day=TruncDate("placed_at", tzinfo=zone))
        .order_by()
        .values("day")
        .annotate(
            orders=Count("id"),
            net_sales=Sum(
                F("total") - F("refunded_amount"),
                filter=~Q(status__in=NO_SALE_STATUSES),
                output_field=DecimalField(**MONEY),
                default=Decimal("0.00"),
            ),
        )
    )
    by_day = {row["day"]: (row["orders"], to_cents(Decimal(row["net_sales"]))) for row in rows}
    return [
        DailySales(day, *by_day.get(day, (0, Decimal("0.00"))))
        for day in (first_day + timedelta(days=n) for n in range(days))
    ]


def latest_orders(*, store: Store, limit: int = 10) -> QuerySet[Order]:
    return orders_of(store=store).order_by("-created_at", "-id")[:limit]


# Events a reader may see without ever missing one that commits later. PostgreSQL: only
# events of transactions older than every transaction still open (whose events would
# otherwise land before the reader's cursor once they commit), plus the reader's own.
# SQLite runs one writer at a time: whatever is visible is final.
_SETTLED_EVENTS = RawSQL(
    "(orders_event.position < pg_snapshot_xmin(pg_current_snapshot())::text::bigint"
    " OR orders_event.position = pg_current_xact_id_if_assigned()::text::bigint)",
    [],
    output_field=BooleanField(),
)


def events_settled(*, store: Store | None = None) -> QuerySet[Event]:
    """The events (of `store`, or of every store) that no open transaction can precede."""
    events = Event.objects.all() if store is None else Event.objects.filter(store=store)
    if connection.vendor == "postgresql":
        events = events.filter(_SETTLED_EVENTS)
    return events


def event_get(*, store: Store, event_id: str) -> Event:
    """The store's event with public id `event_id`; NotFound for a malformed or foreign id."""
    try:
        pk = parse_public_id(Event.PUBLIC_ID_PREFIX, event_id)
    except ValueError:
        raise NotFound(f"No event '{event_id}' in this store.") from None
    event = Event.objects.filter(store=store, pk=pk).first()
    if event is None:
        raise NotFound(f"No event '{event_id}' in this store.")
    return event
