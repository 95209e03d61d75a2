"""The store's kept figures (counts by status and payment status, quarter-hourly sales) stay
equal to what counting its orders gives, whatever happens to them, concurrently included."""

import importlib
import random
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from io import StringIO
from types import SimpleNamespace

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext

from orders.exceptions import OrdoError
from orders.models import Order, OrderCount, SalesPeriod
from orders.selectors import daily_sales, kept_order_count
from orders.services import (
    CustomerInput,
    LineRequest,
    ShipmentInput,
    order_create,
    order_update,
    order_void,
)
from orders.services.figures import NO_SALE_STATUSES, figures_rebuild, period_start
from orders.transitions import allowed_payment_targets, allowed_transitions
from refunds.services import refund_create
from tests.concurrency import requires_postgresql, run_concurrently
from tests.factories import make_order, make_shipping_method, make_tax_rate, make_variant
from tests.helpers import seed_003_address


@pytest.fixture
def mug(store):
    make_shipping_method(store=store, code="standard", price="5.99")
    make_tax_rate(store=store, country_code="US", province="OR", rate="0.11")
    return make_variant(store=store, price="24.00", stock=100_000, product_name="Mug")


def counted(store) -> Counter:
    """(status, payment status) → orders, by reading every order."""
    return Counter(Order.objects.filter(store=store).values_list("status", "payment_status"))


def kept(store) -> Counter:
    rows = (
        OrderCount.objects.filter(store=store)
        .values_list("status", "payment_status")
        .annotate(total=Sum("orders"))
    )
    return Counter({(status, payment): total for status, payment, total in rows if total})


def sales_counted(store) -> dict:
    periods: dict = {}
    for placed_at, status, total, refunded in Order.objects.filter(store=store).values_list(
        "placed_at", "status", "total", "refunded_amount"
    ):
        orders, net = periods.get(period_start(placed_at), (0, Decimal("0.00")))
        sale = Decimal("0.00") if status in NO_SALE_STATUSES else total - refunded
        periods[period_start(placed_at)] = (orders + 1, net + sale)
    return periods


def sales_kept(store) -> dict:
    return {
        starts_at: (orders, net)
        for starts_at, orders, net in SalesPeriod.objects.filter(store=store).values_list(
            "starts_at", "orders", "net_sales"
        )
        if orders or net
    }


def assert_figures_true(store) -> None:
    assert kept(store) == counted(store)
    assert sales_kept(store) == sales_counted(store)


def create(store, mug, rng) -> Order:
    return order_create(
        store=store,
        actor="system",
        lines=[LineRequest(variant_id=mug.pk, quantity=rng.randint(1, 3))],
        shipping_address=seed_003_address(),
        shipping_method="standard",
        customer=CustomerInput(name="Jane Cooper", email="jane@example.com"),
    )


def random_change(store, order: Order, rng: random.Random) -> None:
    """One change the rules may allow (a refusal changes nothing and is fine)."""
    order = Order.objects.get(pk=order.pk)
    kind = rng.choice(["status", "status", "payment", "void", "refund"])
    try:
        if kind == "status" and (targets := allowed_transitions(order)):
            target = rng.choice(targets)
            shipment = (
                ShipmentInput(carrier="UPS", tracking_number="1Z") if target == "shipped" else None
            )
            order_update(store=store, order=order, actor="system", status=target,
                         shipment=shipment, reason="test")  # fmt: skip
        elif kind == "payment" and (
            targets := allowed_payment_targets(
                status=order.status, payment_status=order.payment_status
            )
        ):
            order_update(
                store=store, order=order, actor="system", payment_status=rng.choice(targets)
            )
        elif kind == "void":
            order_void(store=store, order=order, actor="system")
        elif kind == "refund":
            refundable = order.total - order.refunded_amount
            amount = rng.choice(
                [refundable, Decimal("1.00"), (refundable / 3).quantize(Decimal("0.01"))]
            )
            refund_create(store=store, order=order, actor="system", amount=amount, restock=False)
    except OrdoError:
        pass


def test_the_kept_figures_equal_counting_after_a_random_run(store, mug):
    rng = random.Random(12)
    start = datetime(2026, 3, 8, 9, 0, tzinfo=UTC)
    orders = [
        make_order(store=store, status=status, payment_status=payment, created_at=start + gap)
        for status, payment, gap in [
            ("pending", "pending", timedelta(minutes=7)),
            ("processing", "paid", timedelta(minutes=14, seconds=59)),
            ("shipped", "paid", timedelta(minutes=15)),
            ("delivered", "paid", timedelta(days=1, hours=3)),
        ]
    ]
    for step in range(300):
        if step % 4 == 0:
            orders.append(create(store, mug, rng))
        else:
            random_change(store, rng.choice(orders), rng)
        if step % 50 == 0:
            assert_figures_true(store)
    assert_figures_true(store)
    statuses = {status for status, _ in counted(store)}
    assert {"pending", "cancelled", "voided", "shipped"} <= statuses  # the run went places
    assert Order.objects.filter(store=store, refunded_amount__gt=0).exists()


def test_the_counts_of_a_store_leave_other_stores_alone(store, other_store):
    make_order(store=store, status="pending")
    make_order(store=other_store, status="pending")
    make_order(store=other_store, status="shipped", payment_status="paid")

    assert kept_order_count(store=store) == 1
    assert kept_order_count(store=other_store, statuses=["pending", "shipped"]) == 2
    assert kept_order_count(store=other_store, payment_statuses=["paid"]) == 1


def test_a_rebuild_gives_what_the_changes_kept(store, mug):
    rng = random.Random(3)
    orders = [create(store, mug, rng) for _ in range(12)]
    for _ in range(40):
        random_change(store, rng.choice(orders), rng)
    before = (kept(store), sales_kept(store))

    figures_rebuild(store=store)

    assert (kept(store), sales_kept(store)) == before
    assert OrderCount.objects.filter(store=store).exclude(slot=0).count() == 0


def test_the_migration_backfills_the_figures_of_existing_orders(store, other_store):
    make_order(store=store, status="cancelled", created_at=datetime(2026, 1, 5, 10, 20, tzinfo=UTC))
    make_order(
        store=store, payment_status="paid", created_at=datetime(2026, 1, 5, 10, 44, tzinfo=UTC)
    )
    make_order(store=other_store, status="shipped", payment_status="paid")
    expected = {s: (kept(s), sales_kept(s)) for s in (store, other_store)}
    OrderCount.objects.all().delete()
    SalesPeriod.objects.all().delete()
    migration = importlib.import_module("orders.migrations.0008_figures")

    # The part of a schema editor the migration uses (SQLite's cannot open in a test's
    # transaction).
    with connection.cursor() as cursor:
        migration.backfill(None, SimpleNamespace(connection=connection, execute=cursor.execute))

    assert {s: (kept(s), sales_kept(s)) for s in (store, other_store)} == expected


def test_the_daily_sales_are_the_store_days_of_its_quarter_hours(los_angeles):
    store = los_angeles
    # 23:50 on Jan 4 in Los Angeles is 07:50 UTC on Jan 5: it belongs to Jan 4 there.
    make_order(store=store, created_at=datetime(2026, 1, 5, 7, 50, tzinfo=UTC), unit_price="10.00")
    make_order(store=store, created_at=datetime(2026, 1, 5, 8, 0, tzinfo=UTC), unit_price="7.00")
    make_order(store=store, status="cancelled", created_at=datetime(2026, 1, 5, 9, 0, tzinfo=UTC))

    days = daily_sales(store=store, days=2, today=date(2026, 1, 5))

    assert [(d.day.isoformat(), d.orders, d.net_sales) for d in days] == [
        ("2026-01-04", 1, Decimal("10.00")),
        ("2026-01-05", 2, Decimal("7.00")),
    ]


def test_counting_by_status_reads_no_order(client, store):
    make_order(store=store, status="pending")
    make_order(store=store, status="pending", payment_status="paid")
    make_order(store=store, status="shipped", payment_status="paid")

    with CaptureQueriesContext(connection) as queries:
        counts = [
            client.get(f"/v1/orders/count{query}").json()["data"]["count"]
            for query in ("", "?status=pending", "?payment_status=paid",
                          "?status=pending&payment_status=paid", "?payment_status=all")
        ]  # fmt: skip

    assert counts == [3, 2, 2, 1, 3]
    assert not [q for q in queries.captured_queries if '"orders_order"' in q["sql"]]


def test_other_filters_still_count_the_matching_orders(client, store):
    make_order(store=store, status="pending", shipping_city="Portland")
    make_order(store=store, status="pending", shipping_city="Salem")

    response = client.get("/v1/orders/count?status=pending&city=portland")

    assert response.json()["data"]["count"] == 1


def test_a_refused_change_leaves_the_figures_alone(store, mug):
    order = create(store, mug, random.Random(1))
    before = (kept(store), sales_kept(store))

    with pytest.raises(OrdoError):
        order_update(store=store, order=order, actor="system", status="delivered")
    with pytest.raises(OrdoError):
        refund_create(store=store, order=order, actor="system", amount=Decimal("1.00"))

    assert (kept(store), sales_kept(store)) == before


@requires_postgresql
@pytest.mark.django_db(transaction=True)
def test_the_kept_figures_equal_counting_after_concurrent_changes(store, mug):
    """16 clients at once, creating and changing a shared pool of orders (so some meet on
    the same order and its row lock, and all on the same counts): no deadlock, no lost
    update."""
    seed_rng = random.Random(7)
    pool = [create(store, mug, seed_rng) for _ in range(24)]

    def client_run(index: int):
        def run():
            rng = random.Random(index)
            for step in range(12):
                if step % 3 == 0:
                    create(store, mug, rng)
                else:
                    random_change(store, rng.choice(pool), rng)

        return run

    run_concurrently([client_run(index) for index in range(16)])

    assert_figures_true(store)
    assert sum(counted(store).values()) == 24 + 16 * 4


@pytest.mark.parametrize(
    "bad",
    [{"status": "lost"}, {"payment_status": "owed"}, {"status": "lost", "payment_status": "x"}],
)
def test_a_bad_status_is_the_same_400_with_or_without_the_filter_set(client, bad):
    """Counts the kept figures answer skip the filter set; other filters go through it.
    Both must refuse a bad value in the same words."""
    kept_path = client.get("/v1/orders/count", bad)
    filter_set_path = client.get("/v1/orders/count", {**bad, "city": "Portland"})

    assert kept_path.status_code == filter_set_path.status_code == 400
    errors = [response.json()["error"] for response in (kept_path, filter_set_path)]
    for error in errors:
        error.pop("request_id")
    assert errors[0] == errors[1]
    assert {detail["field"] for detail in errors[0]["details"]} == set(bad)


def test_the_rebuild_command_mends_figures_changed_by_hand(store, other_store):
    order = make_order(store=store, status="pending")
    make_order(store=other_store)
    Order.objects.filter(pk=order.pk).update(status="cancelled")  # past the services
    assert kept(store) != counted(store)

    out = StringIO()
    call_command("rebuild_figures", "--store", store.public_id, stdout=out)

    assert_figures_true(store)
    assert_figures_true(other_store)
    assert "figures rebuilt" in out.getvalue()
    with pytest.raises(CommandError, match="No store 'str_nope'"):
        call_command("rebuild_figures", "--store", "str_nope")
