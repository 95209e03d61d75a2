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

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import BooleanField, QuerySet, Sum
from django.db.models.expressions import RawSQL
from django.db.models.functions import TruncDate

from orders.exceptions import InvalidParameters, NotFound
from orders.filters import FILTER_PARAMETERS, OrderFilterSet
from orders.ids import parse_public_id
from orders.models import (
    Event,
    Fulfillment,
    LineItem,
    Order,
    OrderCount,
    OrderStatus,
    SalesPeriod,
    Store,
)
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


# Filters the store's kept counts answer without reading orders (orders.models.figures);
# filter_on only names the column dates bound.
_KEPT_COUNT_FILTERS = ("status", "payment_status")
_COUNTED_FILTERS = frozenset({*_KEPT_COUNT_FILTERS, "filter_on"})


def order_count(*, filters: OrderFilterSet) -> int:
    """How many orders match `filters`: exactly, and for no filters or only status and
    payment status (what dashboards poll) from the store's kept counts, whatever its size;
    other filters count the matching rows."""
    kept = _kept_count_of(filters)
    return filters.qs.order_by().count() if kept is None else kept


def _kept_count_of(filters: OrderFilterSet) -> int | None:
    """What the store's kept counts say matches `filters`; None when they cannot say."""
    given = filters.understood()
    if not set(given) <= _COUNTED_FILTERS:
        return None
    return kept_order_count(
        store=filters.store,
        statuses=_listed(given.get("status")),
        payment_statuses=_listed(given.get("payment_status")),
    )


def _listed(values: list[str] | None) -> list[str] | None:
    return None if not values or "all" in values else values


def order_count_matching(*, store: Store, params: Mapping[str, str]) -> int:
    """How many of the store's orders match the list's filters in `params` (the count
    endpoint). No filters, or only status and payment status (what dashboards poll many
    times a minute), are read from the kept counts without building the filter set: the
    same fields check the values, so a bad one is the same 400."""
    given = {name for name in params if name in FILTER_PARAMETERS}
    if not given <= set(_KEPT_COUNT_FILTERS):
        return order_count(filters=order_filters(store=store, params=params))
    cleaned, errors = {}, {}
    for name in _KEPT_COUNT_FILTERS:  # the filter set's order, for the same 400
        if name not in given:
            continue
        try:
            cleaned[name] = OrderFilterSet.base_filters[name].field.clean(params[name])
        except ValidationError as error:
            errors[name] = list(error.messages)
    if errors:
        raise InvalidParameters.naming_fields(errors)
    return kept_order_count(
        store=store,
        statuses=_listed(cleaned.get("status")),
        payment_statuses=_listed(cleaned.get("payment_status")),
    )


def kept_order_count(
    *, store: Store, statuses: list[str] | None = None, payment_statuses: list[str] | None = None
) -> int:
    """The store's orders in any of `statuses` and of `payment_statuses` (None: any), from
    its kept counts: one read of a few dozen rows. In SQL: it is read far more often than
    any other figure, and the ORM's compiling would cost more than the read."""
    table = connection.ops.quote_name(OrderCount._meta.db_table)
    store_id = OrderCount._meta.get_field("store").get_db_prep_value(store.pk, connection)
    conditions, params = ["store_id = %s"], [store_id]
    for column, values in (("status", statuses), ("payment_status", payment_statuses)):
        if values is not None:
            conditions.append(f"{column} IN ({', '.join(['%s'] * len(values))})")
            params.extend(values)
    # The table name is the model's own and every value is a parameter.
    sql = f"SELECT COALESCE(SUM(orders), 0) FROM {table} WHERE {' AND '.join(conditions)}"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return int(cursor.fetchone()[0])


def order_count_estimate(*, filters: OrderFilterSet) -> tuple[int, bool]:
    """(how many orders match, whether that is an estimate): PostgreSQL's planner estimate
    for the filtered query (no rows read: constant time on any store), the exact count on
    databases that cannot estimate. What the store's kept counts answer is exact."""
    kept = _kept_count_of(filters)
    if kept is not None:
        return kept, False
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


def _among(rows: QuerySet, column: str, values: list[Any]) -> QuerySet:
    """`rows` whose `column` is one of `values`. On PostgreSQL that is one array parameter
    (`= ANY(%s)`), not a placeholder per value: for a page of 250 orders the query is
    about a millisecond cheaper to build, quote and parse."""
    if connection.vendor != "postgresql":
        return rows.filter(**{f"{column}__in": values})
    quote = connection.ops.quote_name
    condition = f"{quote(rows.model._meta.db_table)}.{quote(column)} = ANY(%s)"
    return rows.filter(RawSQL(condition, [values], output_field=BooleanField()))


def line_items_of(*, store: Store, orders: Iterable[Order]) -> QuerySet[LineItem]:
    """The line items of `orders`, each order's in the order they were bought."""
    items = LineItem.objects.filter(store=store)
    return _among(items, "order_id", [o.pk for o in orders]).order_by(
        "order_id", "created_at", "id"
    )


def fulfillments_of(*, store: Store, orders: Iterable[Order]) -> QuerySet[Fulfillment]:
    """The shipments of `orders`, each order's oldest first."""
    fulfillments = Fulfillment.objects.filter(store=store)
    return _among(fulfillments, "order_id", [o.pk for o in orders]).order_by(
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
        _among(Order.history.model.objects.filter(store=store), "id", list(order_ids))
        .order_by("id", "history_date", "history_id")
        .values_list(
            "id", "status", "payment_status", "changed_by", "history_change_reason", "history_date"
        )
    )
    changes: dict[Any, list[StatusChange]] = defaultdict(list)
    current, before, entries = None, None, []
    for order_id, status, payment_status, changed_by, reason, at in rows:
        state = (status, payment_status)
        # Rows come order by order, so each needs only the one before it; orders are told
        # apart by the UUID's int (a UUID compares in Python code, an int in C).
        if order_id.int != current:
            current, before, entries = order_id.int, None, changes[order_id]
        elif state == before:
            continue
        entries.append(
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
        before = state
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


# Planner estimates above this many rows are trusted without counting at all: a count that
# stops at EXACT_COUNT_UP_TO still reads every match of a search first (its indexes answer
# with all of them), which grows with the store.
TRUSTED_ESTIMATE_ABOVE = 100_000


def estimated_count(queryset: QuerySet, *, exact_up_to: int = EXACT_COUNT_UP_TO) -> RowCount:
    """The rows of `queryset`: exact up to `exact_up_to` (a count that stops reading
    there), beyond it PostgreSQL's planner estimate (never below what was counted). An
    estimate far above that (TRUSTED_ESTIMATE_ABOVE) is given without counting. SQLite has
    no estimate and counts everything."""
    queryset = queryset.order_by()
    if connection.vendor != "postgresql":
        return RowCount(queryset.count())
    plan = json.loads(queryset.explain(format="json"))
    estimate = int(plan[0]["Plan"]["Plan Rows"])
    if estimate > TRUSTED_ESTIMATE_ABOVE:
        return RowCount(estimate, is_estimate=True)
    counted = queryset[: exact_up_to + 1].count()
    if counted <= exact_up_to:
        return RowCount(counted)
    return RowCount(max(estimate, counted), is_estimate=True)


def order_status_counts(*, store: Store) -> dict[str, int]:
    """How many of the store's orders are in each status (every status, zeros included),
    exactly, from its kept counts."""
    rows = (
        OrderCount.objects.filter(store=store)
        .values("status")
        .annotate(orders=Sum("orders"))
        .values_list("status", "orders")
    )
    counted = dict(rows)
    return {status: counted.get(status, 0) for status in OrderStatus.values}


@dataclass(frozen=True)
class DailySales:
    day: date
    orders: int
    net_sales: Decimal


def daily_sales(*, store: Store, days: int, today: date) -> list[DailySales]:
    """Orders placed and net sales for each of the `days` store-local days up to `today`.

    Net sales are order totals less refunds, cancelled and voided orders left out.
    Days are the store's calendar days; days without orders are zero. Read from the
    store's quarter-hourly sales (orders.models.figures): at most 96 rows a day, whatever
    the number of orders.
    """
    zone = store.tzinfo
    first_day = today - timedelta(days=days - 1)
    since = datetime.combine(first_day, time.min, tzinfo=zone)
    until = datetime.combine(today + timedelta(days=1), time.min, tzinfo=zone)
    rows = (
        SalesPeriod.objects.filter(store=store, starts_at__gte=since, starts_at__lt=until)
        .annotate(day=TruncDate("starts_at", tzinfo=zone))
        .order_by()
        .values("day")
        .annotate(placed=Sum("orders"), net=Sum("net_sales"))
    )
    by_day = {row["day"]: (row["placed"], to_cents(Decimal(row["net"]))) for row in rows}
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
