"""The back office's pages read in a fixed number of queries, whatever the number of rows
they show; the list's date drill-down costs one MIN/MAX, never a DISTINCT, and reads days
in the store's time zone."""

import html
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from notes.services import note_create
from orders.history import set_history_actor
from orders.models import Order
from refunds.services import RefundLineRequest, refund_create
from tests.factories import make_fulfillment, make_order, make_store, staff_client
from tests.helpers import at

pytestmark = pytest.mark.django_db


def queries_of(client: Client, url: str, params=None) -> list[str]:
    """The SQL of one page view (the page must answer 200)."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params or {})
    assert response.status_code == 200
    if getattr(response, "streaming", False):
        with CaptureQueriesContext(connection) as streamed:
            b"".join(response.streaming_content)
        return [query["sql"] for query in [*captured.captured_queries, *streamed]]
    return [query["sql"] for query in captured.captured_queries]


def make_orders(store, count: int, **fields) -> list[Order]:
    start = at(2026, 3, 1, 12)
    return [
        make_order(store=store, created_at=start + timedelta(hours=n), **fields)
        for n in range(count)
    ]


# --- query counts --------------------------------------------------------------------------


def test_the_order_list_runs_as_many_queries_for_30_orders_as_for_3(browser, store):
    make_orders(store, 3)
    browser.get("/admin/orders/order/")  # warms per-process caches (content types)
    few = queries_of(browser, "/admin/orders/order/")
    make_orders(store, 27)

    many = queries_of(browser, "/admin/orders/order/")

    assert len(many) == len(few)
    assert len(few) <= 13


def test_the_filtered_order_list_runs_as_many_queries_for_30_orders_as_for_3(browser, store):
    params = {"status__exact": "pending", "created_at__year": "2026", "q": "Walk"}
    make_orders(store, 3)
    browser.get("/admin/orders/order/", params)
    few = queries_of(browser, "/admin/orders/order/", params)
    make_orders(store, 27)

    many = queries_of(browser, "/admin/orders/order/", params)

    assert len(many) == len(few)


def test_the_export_runs_as_many_queries_for_30_orders_as_for_3(browser, store):
    make_orders(store, 3)
    browser.get("/admin/orders/order/export/")
    few = queries_of(browser, "/admin/orders/order/export/")
    make_orders(store, 27)

    many = queries_of(browser, "/admin/orders/order/export/")

    assert len(many) == len(few)
    assert len(few) <= 10


def big_order(store) -> Order:
    """10 lines, 5 notes (internal and to the customer), 3 refunds with lines, 2 shipments
    and a status trail of 5 steps."""
    order = make_order(store=store, items=10, payment_status="paid", customer_email="c@x.example")
    for status in ["confirmed", "processing", "shipped", "delivered"]:
        order.status = status
        set_history_actor(order, actor="ana@a.example", reason=f"Now {status}")
        order.save()
    make_fulfillment(order=order, tracking_number="1Z1")
    make_fulfillment(order=order, tracking_number="1Z2")
    for n in range(5):
        note_create(
            store=store, order=order, content=f"Note {n}", is_internal=n % 2 == 0, author="ana"
        )
    items = list(order.items.order_by("created_at", "id"))
    for item in items[:3]:
        refund_create(
            store=store, order=order, actor="ana", lines=[RefundLineRequest(item.pk, 1)],
            restock=False, reason="Damaged",
        )  # fmt: skip
    return order


def small_order(store, *, with_records: bool) -> Order:
    """One line, paid and delivered; with one note, one goodwill refund and one shipment
    when `with_records` (refunding its only line would close it to further refunds, and
    the page of a fully refunded order reads no refund quote)."""
    order = make_order(store=store, items=1, payment_status="paid", status="delivered")
    if with_records:
        make_fulfillment(order=order)
        note_create(store=store, order=order, content="Memo", is_internal=True, author="ana")
        refund_create(store=store, order=order, actor="ana", amount=Decimal("1.00"))
    return order


def order_pages_queries(client: Client, *orders: Order) -> list[list[str]]:
    """The SQL of each order's page, once a first view has warmed the per-process caches."""
    client.get(f"/admin/orders/order/{orders[0].pk}/change/")
    return [queries_of(client, f"/admin/orders/order/{order.pk}/change/") for order in orders]


def test_the_order_page_runs_as_many_queries_for_a_big_order_as_for_a_small_one(browser, store):
    small = small_order(store, with_records=True)
    big = big_order(store)

    few, many = order_pages_queries(browser, small, big)

    assert Order.objects.get(pk=big.pk).refunded_amount == Decimal("30.00")
    assert len(many) == len(few)
    assert len(few) <= 14


def test_an_order_page_without_refunds_skips_only_the_refund_lines_query(browser, store):
    bare = small_order(store, with_records=False)
    big = big_order(store)

    few, many = order_pages_queries(browser, bare, big)

    extra = [sql for sql in many if "refunds_refundline" in sql]
    assert len(extra) == 1
    assert len(many) == len(few) + 1
    assert not any("refunds_refundline" in sql for sql in few)


def test_the_notes_list_runs_as_many_queries_for_many_notes_as_for_few(browser, store):
    orders = make_orders(store, 10)
    note_create(store=store, order=orders[0], content="First", is_internal=True, author="ana")
    browser.get("/admin/notes/ordernote/")
    few = queries_of(browser, "/admin/notes/ordernote/")
    for order in orders:
        note_create(store=store, order=order, content="Hi", is_internal=False, author="ana")
        note_create(store=store, order=order, content="Memo", is_internal=True, author="ana")

    many = queries_of(browser, "/admin/notes/ordernote/")

    assert len(many) == len(few)
    assert len(few) <= 9  # with the planner's estimate, asked before any count


def test_the_refunds_list_runs_as_many_queries_for_many_refunds_as_for_few(browser, store):
    orders = make_orders(store, 10, payment_status="paid", items=2)
    refund_create(store=store, order=orders[0], actor="ana", amount=Decimal("1.00"))
    browser.get("/admin/refunds/refund/")
    few = queries_of(browser, "/admin/refunds/refund/")
    for order in orders[1:]:
        item = order.items.first()
        refund_create(
            store=store, order=order, actor="ana", lines=[RefundLineRequest(item.pk, 1)],
            restock=False,
        )  # fmt: skip

    many = queries_of(browser, "/admin/refunds/refund/")

    assert len(many) == len(few)
    assert len(few) <= 9  # with the planner's estimate, asked before any count


def test_the_dashboard_runs_as_many_queries_for_many_orders_as_for_few(browser, store):
    now = timezone.now()
    make_order(store=store, created_at=now - timedelta(days=1))
    browser.get("/admin/")
    few = queries_of(browser, "/admin/")
    for n in range(40):
        make_order(
            store=store, created_at=now - timedelta(days=n % 30, minutes=n),
            status=["pending", "confirmed", "cancelled", "completed"][n % 4],
            payment_status="paid" if n % 4 == 3 else "pending",
        )  # fmt: skip

    many = queries_of(browser, "/admin/")

    assert len(many) == len(few)
    assert len(few) <= 30


# --- the date drill-down -------------------------------------------------------------------


def drilldown(response) -> list[tuple[str, str | None]]:
    """(title, link) of each entry of the date drill-down, the back link first; a link
    is None for an entry shown as plain text."""
    nav = re.search(r'<nav class="toplinks".*?</nav>', response.content.decode(), re.S)
    if nav is None:
        return []
    inner = re.sub(r"<span[^>]*>.*?</span>", "", nav.group(0), flags=re.S)
    inner = re.sub(r"</?nav[^>]*>", "", inner)
    entries = []
    for link, title, text in re.findall(r'<a href="([^"]*)"[^>]*>([^<]*)</a>|([^<>]+)', inner):
        if link or title:
            entries.append((html.unescape(title).strip(), html.unescape(link)))
        elif text.strip():
            entries.append((html.unescape(text).strip(), None))
    return entries


def test_the_drilldown_offers_every_year_with_orders(browser, store):
    make_order(store=store, created_at=at(2024, 6, 1, 12))
    make_order(store=store, created_at=at(2026, 2, 1, 12))

    response = browser.get("/admin/orders/order/")

    assert drilldown(response) == [
        ("2024", "?created_at__year=2024"),
        ("2025", "?created_at__year=2025"),
        ("2026", "?created_at__year=2026"),
    ]


def test_a_year_shows_its_months_from_the_first_order_to_the_last(browser, store):
    make_order(store=store, created_at=at(2025, 12, 31, 12))
    make_order(store=store, created_at=at(2026, 2, 10, 12))
    make_order(store=store, created_at=at(2026, 5, 20, 12))

    response = browser.get("/admin/orders/order/", {"created_at__year": "2026"})

    assert drilldown(response) == [
        ("‹ All dates", "?"),
        ("February 2026", "?created_at__month=2&created_at__year=2026"),
        ("March 2026", "?created_at__month=3&created_at__year=2026"),
        ("April 2026", "?created_at__month=4&created_at__year=2026"),
        ("May 2026", "?created_at__month=5&created_at__year=2026"),
    ]


def test_a_month_shows_its_days_from_the_first_order_to_the_last(browser, store):
    make_order(store=store, created_at=at(2026, 2, 28, 23))
    make_order(store=store, created_at=at(2026, 3, 5, 0, 1))
    make_order(store=store, created_at=at(2026, 3, 8, 23, 59))
    make_order(store=store, created_at=at(2026, 4, 1, 0))

    response = browser.get(
        "/admin/orders/order/", {"created_at__year": "2026", "created_at__month": "3"}
    )

    assert drilldown(response) == [
        ("‹ 2026", "?created_at__year=2026"),
        ("March 5", "?created_at__day=5&created_at__month=3&created_at__year=2026"),
        ("March 6", "?created_at__day=6&created_at__month=3&created_at__year=2026"),
        ("March 7", "?created_at__day=7&created_at__month=3&created_at__year=2026"),
        ("March 8", "?created_at__day=8&created_at__month=3&created_at__year=2026"),
    ]
    assert len(response.context["cl"].result_list) == 2


def test_a_day_shows_itself_and_the_way_back_to_its_month(browser, store):
    order = make_order(store=store, created_at=at(2026, 3, 9, 12))
    make_order(store=store, created_at=at(2026, 3, 10, 12))

    response = browser.get(
        "/admin/orders/order/",
        {"created_at__year": "2026", "created_at__month": "3", "created_at__day": "9"},
    )

    assert drilldown(response) == [
        ("‹ March 2026", "?created_at__month=3&created_at__year=2026"),
        ("March 9", None),
    ]
    assert list(response.context["cl"].result_list) == [order]


def test_the_drilldowns_links_keep_the_other_filters(browser, store):
    make_order(store=store, created_at=at(2025, 6, 1, 12))
    make_order(store=store, created_at=at(2026, 2, 1, 12))

    response = browser.get("/admin/orders/order/", {"status__exact": "pending", "q": "Walk"})

    assert drilldown(response) == [
        ("2025", "?created_at__year=2025&q=Walk&status__exact=pending"),
        ("2026", "?created_at__year=2026&q=Walk&status__exact=pending"),
    ]


def test_orders_of_one_year_go_straight_to_its_months(browser, store):
    make_order(store=store, created_at=at(2026, 1, 15, 12))
    make_order(store=store, created_at=at(2026, 2, 15, 12))

    response = browser.get("/admin/orders/order/")

    assert [title for title, _ in drilldown(response)] == ["‹ All dates", "January 2026",
                                                           "February 2026"]  # fmt: skip


def test_orders_of_one_month_go_straight_to_its_days(browser, store):
    make_order(store=store, created_at=at(2026, 1, 15, 12))
    make_order(store=store, created_at=at(2026, 1, 16, 12))

    response = browser.get("/admin/orders/order/")

    assert [title for title, _ in drilldown(response)] == ["‹ 2026", "January 15", "January 16"]


def test_a_store_without_orders_shows_no_drilldown(browser, store, other_store):
    make_order(store=other_store, created_at=at(2026, 1, 15, 12))

    response = browser.get("/admin/orders/order/")

    assert response.status_code == 200
    assert drilldown(response) == []


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"created_at__year": "2026"},
        {"created_at__year": "2026", "created_at__month": "3"},
        {"created_at__year": "2026", "created_at__month": "3", "created_at__day": "9"},
        {"q": "Walk", "status__exact": "pending", "country": "US"},
    ],
    ids=["all", "year", "month", "day", "filtered"],
)
def test_the_order_list_never_runs_a_distinct_query(browser, store, params):
    make_order(store=store, created_at=at(2025, 11, 3, 12))
    make_order(store=store, created_at=at(2026, 3, 9, 12), country_code="FR")
    make_order(store=store, created_at=at(2026, 3, 9, 18))

    sql = queries_of(browser, "/admin/orders/order/", params)

    assert [query for query in sql if "DISTINCT" in query.upper()] == []
    assert sum("MIN(" in query.upper() and "MAX(" in query.upper() for query in sql) == (
        0 if "created_at__day" in params else 1
    )


# --- days and times in the store's time zone ----------------------------------------------


@pytest.fixture
def late_order(los_angeles):
    """23:30 on 9 March in Los Angeles (PDT, UTC-7): already 10 March in UTC."""
    return make_order(store=los_angeles, created_at=at(2026, 3, 10, 6, 30))


MARCH_2026 = {"created_at__year": "2026", "created_at__month": "3"}


def test_a_members_drilldown_puts_an_order_on_the_stores_day(los_angeles, late_order):
    client = staff_client(los_angeles)

    response = client.get("/admin/orders/order/", MARCH_2026)

    assert drilldown(response)[1:] == [
        ("March 9", "?created_at__day=9&created_at__month=3&created_at__year=2026")
    ]


@pytest.mark.parametrize(("day", "shown"), [("9", True), ("10", False)])
def test_the_day_filter_selects_the_stores_day(los_angeles, late_order, day, shown):
    client = staff_client(los_angeles)

    response = client.get("/admin/orders/order/", {**MARCH_2026, "created_at__day": day})

    assert list(response.context["cl"].result_list) == ([late_order] if shown else [])


def test_the_list_shows_the_order_time_in_the_stores_zone(los_angeles, late_order):
    client = staff_client(los_angeles)

    body = client.get("/admin/orders/order/").content.decode()

    assert "March 9, 2026, 11:30 p.m." in body
    assert "March 10, 2026, 6:30 a.m." not in body


def test_a_superusers_admin_stays_in_utc(los_angeles, late_order):
    client = staff_client(username="root", superuser=True)

    response = client.get("/admin/orders/order/", MARCH_2026)

    assert drilldown(response)[1:] == [
        ("March 10", "?created_at__day=10&created_at__month=3&created_at__year=2026")
    ]
    assert "March 10, 2026, 6:30 a.m." in response.content.decode()


def test_a_member_of_stores_in_two_zones_works_in_utc(los_angeles, late_order, store):
    client = staff_client(los_angeles, store)

    response = client.get("/admin/orders/order/", {**MARCH_2026, "created_at__day": "10"})

    assert list(response.context["cl"].result_list) == [late_order]


def test_a_superusers_order_list_runs_as_many_queries_for_six_stores_as_for_two(store):
    client = staff_client(username="root", superuser=True)
    stores = [store, make_store(name="Second")]
    for each in stores:
        make_orders(each, 3)
    client.get("/admin/orders/order/")
    few = queries_of(client, "/admin/orders/order/")
    for n in range(4):
        make_orders(make_store(name=f"Store {n}"), 3)

    many = queries_of(client, "/admin/orders/order/")

    assert len(many) == len(few)
