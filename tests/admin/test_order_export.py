"""The orders list as CSV (/admin/orders/order/export/ with the list's query string): the
rows the list shows, with its filters, search and date drill-down, streamed, values in the
API's formats, safe to open in a spreadsheet."""

import html
import re
from decimal import Decimal

import pytest
from django.test import Client

from tests.factories import make_order, make_shipping_method, staff_client
from tests.helpers import at, csv_rows

pytestmark = pytest.mark.django_db

EXPORT = "/admin/orders/order/export/"
HEADER = [
    "order_number", "id", "created_at", "status", "payment_status", "payment_method",
    "customer_name", "customer_email", "customer_phone", "po_number", "currency", "subtotal",
    "discount_amount", "shipping_cost", "tax_amount", "total", "refunded_amount", "item_count",
    "shipping_method", "city", "province", "postal_code", "country_code",
]  # fmt: skip


def exported_ids(client: Client, params: dict) -> list[str]:
    response = client.get(EXPORT, params)
    assert response.status_code == 200
    return [row[1] for row in csv_rows(response)[1:]]


def listed_ids(client: Client, params: dict) -> list[str]:
    return [
        order.public_id
        for order in client.get("/admin/orders/order/", params).context["cl"].result_list
    ]


@pytest.fixture
def orders(store, other_store):
    """Four orders of the store, oldest first, and one of another store."""
    make_shipping_method(store=store, code="standard")
    make_shipping_method(store=store, code="express", price="15.00")
    make_order(store=other_store, created_at=at(2026, 3, 10, 8), customer_name="Carla Other")
    return {
        "jane": make_order(
            store=store, created_at=at(2025, 12, 31, 23), status="completed",
            payment_status="paid", customer_name="Jane Cooper", customer_email="jane@example.com",
            customer_phone="555-0101", po_number="PO-1", subtotal=Decimal("48.00"),
            shipping_cost=Decimal("5.99"), tax_amount=Decimal("5.21"), total=Decimal("59.20"),
            refunded_amount=Decimal("6.00"), shipping_method_code="standard",
            shipping_postal_code="97201",
        ),
        "bob": make_order(
            store=store, created_at=at(2026, 3, 9, 12), customer_name="Bob Stone",
            country_code="CA", shipping_country="Canada", shipping_method_code="express",
        ),
        "carla": make_order(
            store=store, created_at=at(2026, 3, 10, 7, 30), status="shipped",
            payment_status="paid", customer_name="Carla Diaz", po_number="ERP-77",
            shipping_method_code="standard",
        ),
        "dan": make_order(
            store=store, created_at=at(2026, 4, 2, 10), status="cancelled", customer_name="Dan Wu",
            country_code="FR", shipping_country="France", shipping_method_code="express",
        ),
    }  # fmt: skip


def test_the_export_is_a_streamed_csv_attachment(browser, orders):
    response = browser.get(EXPORT)

    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert re.fullmatch(
        r'attachment; filename="orders-\d{8}-\d{4}\.csv"', response["Content-Disposition"]
    )


def test_the_export_starts_with_a_header_row(browser, orders):
    rows = csv_rows(browser.get(EXPORT))

    assert rows[0] == HEADER


def test_an_empty_list_exports_the_header_alone(browser):
    assert csv_rows(browser.get(EXPORT)) == [HEADER]


def test_the_export_writes_values_in_the_apis_formats(browser, orders):
    jane = orders["jane"]

    rows = {row[1]: row for row in csv_rows(browser.get(EXPORT))[1:]}

    assert rows[jane.public_id] == [
        "1001", f"ord_{jane.pk}", "2025-12-31T23:00:00.000Z", "completed", "paid", "card",
        "Jane Cooper", "jane@example.com", "555-0101", "PO-1", "USD", "48.00", "0.00", "5.99",
        "5.21", "59.20", "6.00", "1", "standard", "Portland", "OR", "97201", "US",
    ]  # fmt: skip


def test_the_export_has_the_lists_orders_in_the_lists_order(browser, orders):
    expected = [orders[name].public_id for name in ("dan", "carla", "bob", "jane")]

    assert exported_ids(browser, {}) == expected
    assert listed_ids(browser, {}) == expected


MARCH = {"created_at__year": "2026", "created_at__month": "3"}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status__exact": "pending"}, ["bob"]),
        ({"status__exact": "shipped", "payment_status__exact": "paid"}, ["carla"]),
        ({"payment_status__exact": "paid"}, ["carla", "jane"]),
        ({"q": "carla"}, ["carla"]),
        ({"q": "ERP-77"}, ["carla"]),
        ({"q": "jane@example"}, ["jane"]),
        ({"q": "1002"}, ["bob"]),
        ({"created_at__year": "2026"}, ["dan", "carla", "bob"]),
        ({"created_at__year": "2025"}, ["jane"]),
        (MARCH, ["carla", "bob"]),
        ({**MARCH, "created_at__day": "10"}, ["carla"]),
        ({**MARCH, "created_at__day": "11"}, []),
        ({"country": "US"}, ["carla", "jane"]),
        ({"country": "FR"}, ["dan"]),
        ({"shipping": "express"}, ["dan", "bob"]),
        ({"shipping": "express", "created_at__year": "2026", "q": "Dan"}, ["dan"]),
    ],
    ids=lambda value: (
        "&".join(f"{k}={v}" for k, v in value.items()) if isinstance(value, dict) else None
    ),
)
def test_the_export_has_one_row_per_order_the_filtered_list_shows(
    browser, orders, params, expected
):
    expected_ids = [orders[name].public_id for name in expected]

    assert exported_ids(browser, params) == expected_ids
    assert listed_ids(browser, params) == expected_ids


def test_the_lists_export_link_carries_the_lists_query_string(browser, orders):
    params = {"status__exact": "pending", "q": "Bob", "created_at__year": "2026"}
    body = browser.get("/admin/orders/order/", params).content.decode()

    link = html.unescape(re.search(r'<a href="([^"]+)" class="ordo-export">', body).group(1))

    assert link == "/admin/orders/order/export/?created_at__year=2026&q=Bob&status__exact=pending"
    assert [row[1] for row in csv_rows(browser.get(link))[1:]] == [orders["bob"].public_id]


def test_the_unfiltered_lists_export_link_has_no_query_string(browser, orders):
    body = browser.get("/admin/orders/order/").content.decode()

    assert '<a href="/admin/orders/order/export/" class="ordo-export">' in body


def test_the_export_reads_days_in_the_stores_time_zone(los_angeles):
    # 23:30 on 9 March in Los Angeles, 10 March in UTC.
    late = make_order(store=los_angeles, created_at=at(2026, 3, 10, 6, 30))
    client = staff_client(los_angeles)

    rows = csv_rows(client.get(EXPORT, {**MARCH, "created_at__day": "9"}))

    assert [(row[1], row[2]) for row in rows[1:]] == [(late.public_id, "2026-03-10T06:30:00.000Z")]
    assert csv_rows(client.get(EXPORT, {**MARCH, "created_at__day": "10"})) == [HEADER]


def test_a_member_of_two_stores_exports_the_store_they_filter_on(store, other_store, orders):
    client = staff_client(store, other_store, username="two@stores.example")

    ids = exported_ids(client, {"store": str(store.pk)})

    assert ids == [orders[name].public_id for name in ("dan", "carla", "bob", "jane")]
    assert len(exported_ids(client, {})) == 5


@pytest.mark.parametrize(
    ("column", "value", "written"),
    [
        ("customer_name", '=HYPERLINK("http://evil.example","Click")', '\'=HYPERLINK("http://evil.example","Click")'),
        ("po_number", "+31 20 555", "'+31 20 555"),
        ("customer_phone", "-1+1", "'-1+1"),
        ("shipping_city", "@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("customer_name", "Ann = Bob", "Ann = Bob"),
        ("po_number", "PO-=1", "PO-=1"),
    ],
)  # fmt: skip
def test_cells_that_would_run_as_formulas_are_quoted(browser, store, column, value, written):
    make_order(store=store, **{column: value})
    position = {"customer_name": 6, "customer_phone": 8, "po_number": 9, "shipping_city": 19}

    rows = csv_rows(browser.get(EXPORT))

    assert rows[1][position[column]] == written


def test_money_and_numbers_are_never_quoted(browser, store):
    make_order(store=store, total=Decimal("0.00"), subtotal=Decimal("0.00"), items=1)

    row = csv_rows(browser.get(EXPORT))[1]

    assert row[HEADER.index("total")] == "0.00"
    assert row[HEADER.index("order_number")] == "1001"


@pytest.mark.parametrize(
    "params",
    [
        {"created_at__year": "abc"},
        {"created_at__year": "2026", "created_at__month": "13"},
        {"created_at__year": "2026", "created_at__month": "2", "created_at__day": "30"},
        {"created_at__gte": "not-a-date"},
        {"no_such_column": "1"},
        {"created_at__year": "9999"},
        {"created_at__year": "9999", "created_at__month": "12"},
    ],
    ids=["year-abc", "month-13", "feb-30", "gte-garbage", "unknown-column", "year-9999",
         "dec-9999"],
)  # fmt: skip
def test_bad_filters_send_staff_back_to_the_list_with_a_message(browser, orders, params):
    response = browser.get(EXPORT, params)

    assert (response.status_code, response["Location"]) == (302, "/admin/orders/order/")
    shown = browser.get(response["Location"]).content.decode()
    assert "Those filters are not valid; clear them and try again." in shown


def test_a_store_filter_that_is_not_a_store_sends_staff_back_to_the_list(store, other_store):
    make_order(store=store)
    client = staff_client(store, other_store, username="two@stores.example")

    response = client.get(EXPORT, {"store": "not-a-store"})

    assert (response.status_code, response["Location"]) == (302, "/admin/orders/order/")


@pytest.mark.parametrize(
    "params",
    [{"store": "not-a-store"}, {"created_at__year": "9999"}],
    ids=["store-not-a-store", "year-9999"],
)
def test_the_order_list_answers_bad_filters_with_a_redirect_not_a_500(store, other_store, params):
    make_order(store=store)
    client = staff_client(store, other_store, username="two@stores.example")

    response = client.get("/admin/orders/order/", params)

    assert (response.status_code, response["Location"]) == (302, "/admin/orders/order/?e=1")


def test_an_anonymous_visitor_is_sent_to_the_login_page(orders):
    response = Client().get(EXPORT)

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
