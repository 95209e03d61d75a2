"""The store's figures (orders.models.figures), kept exact as orders change.

Every service that creates an order or changes its status, payment status or
money takes `order_figures(order)` before and after and hands both to
`figures_apply`, in its own transaction: the counts by status and payment status
and the quarter-hourly sales move with the order or not at all. Bulk loads (the
demo data) rebuild them instead with `figures_rebuild`.

Locks: `figures_apply` upserts its rows last, in key order, after every other
lock the service takes, so it cannot deadlock with another change; a count takes
one of ORDER_COUNT_SLOTS rows at random, so concurrent changes rarely meet.
"""

import random
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection, models, transaction
from django.db.models import Count, DecimalField, F, Func, Q, Sum

from orders.models import Order, OrderCount, OrderStatus, SalesPeriod, Store
from orders.models.base import MONEY
from orders.models.figures import ORDER_COUNT_SLOTS, SALES_PERIOD_MINUTES

# Orders whose money never changed hands: they count as orders, not as sales.
NO_SALE_STATUSES = frozenset({OrderStatus.CANCELLED, OrderStatus.VOIDED})
_PERIOD = timedelta(minutes=SALES_PERIOD_MINUTES)
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class OrderFigures:
    """What one order adds to its store's figures."""

    status: str
    payment_status: str
    period: datetime
    net_sales: Decimal


def order_figures(order: Order) -> OrderFigures:
    no_sale = order.status in NO_SALE_STATUSES
    return OrderFigures(
        status=order.status,
        payment_status=order.payment_status,
        period=period_start(order.placed_at),
        net_sales=Decimal("0.00") if no_sale else order.total - order.refunded_amount,
    )


def period_start(moment: datetime) -> datetime:
    """The start of the quarter hour (UTC) `moment` falls in."""
    return _EPOCH + (moment - _EPOCH) // _PERIOD * _PERIOD


def figures_apply(*, store: Store, before: OrderFigures | None, after: OrderFigures | None) -> None:
    """Move the store's figures from what an order added `before` a change (None: it is
    new) to what it adds `after`. Call it last in the change's transaction."""
    counts: Counter[tuple[str, str]] = Counter()
    sales: dict[datetime, tuple[int, Decimal]] = {}
    for figures, sign in ((before, -1), (after, 1)):
        if figures is None:
            continue
        counts[(figures.status, figures.payment_status)] += sign
        orders, net = sales.get(figures.period, (0, Decimal("0.00")))
        sales[figures.period] = (orders + sign, net + sign * figures.net_sales)
    figures_add(store=store, counts=counts, sales=sales)


def count_slot() -> int:
    """The slot a change's counts go to: any, at random."""
    return random.randrange(ORDER_COUNT_SLOTS)


def figures_add(
    *,
    store: Store,
    counts: Mapping[tuple[str, str], int],
    sales: Mapping[datetime, tuple[int, Decimal]],
    slot: int | None = None,
) -> None:
    """Add `counts` ({(status, payment status): orders}) to one slot of the store's counts
    (at random unless given) and `sales` ({period start: (orders, net sales)}) to its
    periods, as upserts in key order; zero changes are skipped."""
    slot = count_slot() if slot is None else slot
    count_rows = [
        (store.pk, status, payment_status, slot, change)
        for (status, payment_status), change in sorted(counts.items())
        if change
    ]
    sales_rows = [
        (store.pk, period, orders, net)
        for period, (orders, net) in sorted(sales.items())
        if orders or net
    ]
    _upsert(OrderCount, ["store", "status", "payment_status", "slot"], ["orders"], count_rows)
    _upsert(SalesPeriod, ["store", "starts_at"], ["orders", "net_sales"], sales_rows)


def _upsert(
    model: type[models.Model], keys: list[str], added: list[str], rows: list[tuple[Any, ...]]
) -> None:
    """INSERT the rows, or add their `added` columns to the row already there: one
    statement (PostgreSQL and SQLite share the syntax). The ORM's update_conflicts
    overwrites the columns; a counter must add to them."""
    if not rows:
        return
    fields = [model._meta.get_field(name) for name in (*keys, *added)]
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    columns = ", ".join(quote(field.column) for field in fields)
    key_columns = ", ".join(quote(model._meta.get_field(name).column) for name in keys)
    updates = ", ".join(
        f"{quote(column)} = {table}.{quote(column)} + EXCLUDED.{quote(column)}"
        for column in (model._meta.get_field(name).column for name in added)
    )
    placeholders = ", ".join(["(" + ", ".join(["%s"] * len(fields)) + ")"] * len(rows))
    params = [
        field.get_db_prep_save(value, connection)
        for row in rows
        for field, value in zip(fields, row, strict=True)
    ]
    # Names are the models' own, values are parameters: nothing here is input.
    sql = (
        f"INSERT INTO {table} ({columns}) VALUES {placeholders} "
        f"ON CONFLICT ({key_columns}) DO UPDATE SET {updates}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


class _QuarterHour(Func):
    """The start of the quarter hour (UTC) a timestamp falls in, in SQL."""

    output_field = models.DateTimeField()

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(
            compiler,
            connection,
            template=(
                f"date_bin('{SALES_PERIOD_MINUTES} minutes', %(expressions)s, "
                "TIMESTAMPTZ '2000-01-01 00:00:00+00')"
            ),
            **extra,
        )

    def as_sqlite(self, compiler, connection, **extra):
        seconds = SALES_PERIOD_MINUTES * 60
        return self.as_sql(
            compiler,
            connection,
            template=(
                # %%%%s: the template is %-formatted, then the SQL with its parameters.
                f"datetime(CAST(strftime('%%%%s', %(expressions)s) AS INTEGER) / {seconds} "
                f"* {seconds}, 'unixepoch')"
            ),
            **extra,
        )


@transaction.atomic
def figures_rebuild(*, store: Store) -> None:
    """Recompute the store's figures from its orders (after a bulk load, or to repair):
    two grouped reads of the orders. Locks the store row, so no order is created
    meanwhile; run it when the store is quiet (changes to existing orders during the
    rebuild would be lost)."""
    Store.objects.select_for_update().only("pk").get(pk=store.pk)
    orders = Order.objects.filter(store=store).order_by()
    OrderCount.objects.filter(store=store).delete()
    SalesPeriod.objects.filter(store=store).delete()
    OrderCount.objects.bulk_create(
        OrderCount(store=store, slot=0, **row)
        for row in orders.values("status", "payment_status").annotate(orders=Count("id"))
    )
    periods = (
        orders.annotate(period=_QuarterHour("placed_at"))
        .values("period")
        .annotate(
            placed=Count("id"),
            net=Sum(
                F("total") - F("refunded_amount"),
                filter=~Q(status__in=NO_SALE_STATUSES),
                output_field=DecimalField(**MONEY),
                default=Decimal("0.00"),
            ),
        )
    )
    SalesPeriod.objects.bulk_create(
        (
            SalesPeriod(
                store=store, starts_at=row["period"], orders=row["placed"], net_sales=row["net"]
            )
            for row in periods.iterator(chunk_size=10_000)
        ),
        batch_size=5_000,
    )
