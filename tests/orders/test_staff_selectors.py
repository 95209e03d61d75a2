"""The reads behind the staff pages: the country filter's choices, orders per status, the
dashboard's daily figures and its latest orders."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from orders import selectors
from orders.models import Order, OrderStatus
from orders.selectors import (
    DailySales,
    RowCount,
    daily_sales,
    estimated_count,
    latest_orders,
    order_countries,
    order_status_counts,
)
from tests.concurrency import requires_postgresql
from tests.factories import make_order, make_store
from tests.helpers import at, local

pytestmark = pytest.mark.django_db

# --- order_countries ------------------------------------------------------------------------


def test_countries_are_distinct_sorted_and_never_empty(store):
    for code in ["US", "FR", "US", "", "DE", "FR", "", "CA"]:
        make_order(store=store, country_code=code)

    assert order_countries(store_ids=[store.pk]) == ["CA", "DE", "FR", "US"]


def test_countries_are_only_the_given_stores(store, other_store):
    make_order(store=store, country_code="US")
    make_order(store=other_store, country_code="JP")

    assert order_countries(store_ids=[store.pk]) == ["US"]
    assert order_countries(store_ids=[other_store.pk]) == ["JP"]


def test_countries_of_several_stores_are_merged(store, other_store):
    third = make_store(name="Third")
    make_order(store=store, country_code="US")
    make_order(store=store, country_code="FR")
    make_order(store=other_store, country_code="FR")
    make_order(store=other_store, country_code="AT")
    make_order(store=third, country_code="ZA")

    assert order_countries(store_ids=[store.pk, other_store.pk]) == ["AT", "FR", "US"]


@pytest.mark.parametrize("codes", [[], [""], ["", ""]], ids=["no-orders", "one-blank", "blanks"])
def test_a_store_without_country_codes_has_no_countries(store, codes):
    for code in codes:
        make_order(store=store, country_code=code)

    assert order_countries(store_ids=[store.pk]) == []


def test_no_stores_have_no_countries(store):
    make_order(store=store, country_code="US")

    assert order_countries(store_ids=[]) == []


def test_countries_never_read_with_distinct(store):
    for code in ["US", "FR", "DE"]:
        make_order(store=store, country_code=code)

    with CaptureQueriesContext(connection) as captured:
        order_countries(store_ids=[store.pk])

    assert len(captured.captured_queries) == 1
    assert "DISTINCT" not in captured.captured_queries[0]["sql"].upper()


# --- order_status_counts --------------------------------------------------------------------


def test_every_status_is_counted_zeros_included(store, other_store):
    for status in ["pending", "pending", "shipped", "cancelled", "voided", "voided", "voided"]:
        make_order(store=store, status=status)
    make_order(store=other_store, status="pending")

    counts = order_status_counts(store=store)

    assert counts == {
        "pending": 2, "confirmed": 0, "processing": 0, "shipped": 1, "delivered": 0,
        "completed": 0, "cancelled": 1, "returned": 0, "voided": 3,
    }  # fmt: skip
    assert list(counts) == OrderStatus.values


def test_a_store_without_orders_counts_zero_everywhere(store, other_store):
    make_order(store=other_store)

    assert order_status_counts(store=store) == dict.fromkeys(OrderStatus.values, 0)


# --- daily_sales ----------------------------------------------------------------------------


def nonzero(days: list[DailySales]) -> dict[date, tuple[int, Decimal]]:
    return {day.day: (day.orders, day.net_sales) for day in days if day.orders or day.net_sales}


def test_every_day_is_there_and_days_without_orders_are_zero(store):
    make_order(store=store, created_at=at(2026, 3, 5, 12), total=Decimal("12.50"))

    days = daily_sales(store=store, days=7, today=date(2026, 3, 7))

    assert days == [
        DailySales(date(2026, 3, 1), 0, Decimal("0.00")),
        DailySales(date(2026, 3, 2), 0, Decimal("0.00")),
        DailySales(date(2026, 3, 3), 0, Decimal("0.00")),
        DailySales(date(2026, 3, 4), 0, Decimal("0.00")),
        DailySales(date(2026, 3, 5), 1, Decimal("12.50")),
        DailySales(date(2026, 3, 6), 0, Decimal("0.00")),
        DailySales(date(2026, 3, 7), 0, Decimal("0.00")),
    ]


def test_net_sales_are_totals_less_refunds(store):
    make_order(store=store, created_at=at(2026, 3, 5, 9), total=Decimal("53.20"))
    make_order(
        store=store, created_at=at(2026, 3, 5, 10), total=Decimal("100.00"),
        refunded_amount=Decimal("30.05"), payment_status="partially_refunded",
    )  # fmt: skip
    make_order(
        store=store, created_at=at(2026, 3, 5, 11), total=Decimal("20.00"),
        refunded_amount=Decimal("20.00"), payment_status="refunded", status="returned",
    )  # fmt: skip

    days = daily_sales(store=store, days=1, today=date(2026, 3, 5))

    assert days == [DailySales(date(2026, 3, 5), 3, Decimal("123.15"))]


@pytest.mark.parametrize("status", ["cancelled", "voided"])
def test_cancelled_and_voided_orders_count_as_orders_but_not_as_sales(store, status):
    make_order(store=store, created_at=at(2026, 3, 5, 9), total=Decimal("40.00"))
    make_order(store=store, created_at=at(2026, 3, 5, 10), total=Decimal("60.00"), status=status)
    make_order(store=store, created_at=at(2026, 3, 6, 10), total=Decimal("70.00"), status=status)

    days = daily_sales(store=store, days=2, today=date(2026, 3, 6))

    assert days == [
        DailySales(date(2026, 3, 5), 2, Decimal("40.00")),
        DailySales(date(2026, 3, 6), 1, Decimal("0.00")),
    ]


def test_days_are_the_stores_calendar_days(los_angeles):
    # 17:30 and 23:59:59 on 4 March in Los Angeles (PST, UTC-8) are 5 March in UTC.
    make_order(store=los_angeles, created_at=at(2026, 3, 5, 1, 30), total=Decimal("10.00"))
    make_order(store=los_angeles, created_at=at(2026, 3, 5, 7, 59, 59), total=Decimal("1.00"))
    # Midnight in Los Angeles starts 5 March.
    make_order(store=los_angeles, created_at=at(2026, 3, 5, 8), total=Decimal("2.00"))

    days = daily_sales(store=los_angeles, days=2, today=date(2026, 3, 5))

    assert days == [
        DailySales(date(2026, 3, 4), 2, Decimal("11.00")),
        DailySales(date(2026, 3, 5), 1, Decimal("2.00")),
    ]


def test_the_period_runs_from_the_first_days_midnight_to_the_end_of_today(los_angeles):
    today = date(2026, 3, 20)
    first_day = today - timedelta(days=29)
    for moment, total in [
        (local(first_day, 0) - timedelta(microseconds=1), "1.00"),  # before the period
        (local(first_day, 0), "2.00"),
        (local(today, 23, 59, 59), "4.00"),
        (local(today + timedelta(days=1), 0), "8.00"),  # tomorrow
    ]:
        make_order(store=los_angeles, created_at=moment, total=Decimal(total))

    days = daily_sales(store=los_angeles, days=30, today=today)

    assert len(days) == 30
    assert nonzero(days) == {first_day: (1, Decimal("2.00")), today: (1, Decimal("4.00"))}


def test_days_across_a_daylight_saving_change_are_whole_store_days(los_angeles):
    # Clocks went forward on 8 March 2026: that day had 23 hours.
    make_order(store=los_angeles, created_at=local(date(2026, 3, 7), 23, 59), total=Decimal("1.00"))
    make_order(store=los_angeles, created_at=local(date(2026, 3, 8), 0, 0), total=Decimal("2.00"))
    make_order(store=los_angeles, created_at=local(date(2026, 3, 8), 23, 59), total=Decimal("4.00"))
    make_order(store=los_angeles, created_at=local(date(2026, 3, 9), 0, 0), total=Decimal("8.00"))

    days = daily_sales(store=los_angeles, days=3, today=date(2026, 3, 9))

    assert days == [
        DailySales(date(2026, 3, 7), 1, Decimal("1.00")),
        DailySales(date(2026, 3, 8), 2, Decimal("6.00")),
        DailySales(date(2026, 3, 9), 1, Decimal("8.00")),
    ]


def test_days_are_counted_by_when_the_order_was_placed(store):
    make_order(
        store=store, created_at=at(2026, 3, 6, 9), placed_at=at(2026, 3, 5, 9),
        total=Decimal("5.00"),
    )  # fmt: skip

    days = daily_sales(store=store, days=2, today=date(2026, 3, 6))

    assert nonzero(days) == {date(2026, 3, 5): (1, Decimal("5.00"))}


def test_daily_sales_are_the_stores_own(store, other_store):
    make_order(store=store, created_at=at(2026, 3, 5, 9), total=Decimal("5.00"))
    make_order(store=other_store, created_at=at(2026, 3, 5, 9), total=Decimal("500.00"))

    days = daily_sales(store=store, days=1, today=date(2026, 3, 5))

    assert days == [DailySales(date(2026, 3, 5), 1, Decimal("5.00"))]


def test_daily_sales_read_in_one_query(store):
    for n in range(10):
        make_order(store=store, created_at=at(2026, 3, 1 + n, 9))

    with CaptureQueriesContext(connection) as captured:
        daily_sales(store=store, days=30, today=date(2026, 3, 30))

    assert len(captured.captured_queries) == 1


# --- latest_orders --------------------------------------------------------------------------


def test_latest_orders_are_the_newest_first(store, other_store):
    start = at(2026, 3, 1, 12)
    orders = [make_order(store=store, created_at=start + timedelta(minutes=n)) for n in range(5)]
    make_order(store=other_store, created_at=start + timedelta(days=1))

    assert list(latest_orders(store=store, limit=3)) == [orders[4], orders[3], orders[2]]
    assert list(latest_orders(store=store)) == orders[::-1]


def test_latest_orders_default_to_ten(store):
    start = at(2026, 3, 1, 12)
    orders = [make_order(store=store, created_at=start + timedelta(minutes=n)) for n in range(12)]

    assert list(latest_orders(store=store)) == orders[::-1][:10]


def test_latest_orders_placed_at_the_same_moment_keep_a_stable_order(store):
    moment = at(2026, 3, 1, 12)
    orders = [make_order(store=store, created_at=moment) for _ in range(3)]

    latest = list(latest_orders(store=store))

    assert latest == sorted(orders, key=lambda order: order.pk, reverse=True)
    assert list(latest_orders(store=store)) == latest


# --- estimated_count ------------------------------------------------------------------------


def test_a_count_up_to_the_limit_is_exact(store):
    for _ in range(3):
        make_order(store=store)

    assert estimated_count(Order.objects.filter(store=store), exact_up_to=3) == RowCount(3)


def test_beyond_the_limit_postgresql_estimates_and_never_says_less_than_it_counted(store):
    for _ in range(7):
        make_order(store=store)

    counted = estimated_count(Order.objects.filter(store=store), exact_up_to=5)

    # PostgreSQL's planner guesses (and says so); SQLite has no guess and counts.
    assert counted.is_estimate == (connection.vendor == "postgresql")
    assert counted.value >= 6 if counted.is_estimate else counted.value == 7


@requires_postgresql
def test_a_big_estimate_is_given_without_counting(store, monkeypatch):
    """A search's bounded count still reads every match first; past the trusted size the
    planner's word stands alone."""
    for _ in range(3):
        make_order(store=store)
    monkeypatch.setattr(selectors, "TRUSTED_ESTIMATE_ABOVE", -1)

    with CaptureQueriesContext(connection) as queries:
        counted = estimated_count(Order.objects.filter(store=store), exact_up_to=5)

    assert counted.is_estimate
    assert [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()] == []
