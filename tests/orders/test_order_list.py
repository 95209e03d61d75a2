"""GET /v1/orders and /v1/orders/count: sorting, include, meta, the strictness of the query
string, and the request shapes of the seed APIs. Filters and paging have their own files
(test_order_list_filters.py, test_order_list_paging.py)."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from orders.ids import uuid7
from tests.factories import make_customer, make_fulfillment, make_order
from tests.helpers import assert_rejected

pytestmark = pytest.mark.django_db

LIST = "/v1/orders"
COUNT = "/v1/orders/count"
DAY = datetime(2026, 3, 1, tzinfo=UTC)
RELATED_KEYS = {"items", "fulfillments", "shipments", "status_history", "notes", "refunds"}


def numbers(response) -> list[int]:
    assert response.status_code == 200, response.json()
    return [order["order_number"] for order in response.json()["data"]]


# --- sorting -----------------------------------------------------------------------------


@pytest.fixture
def four_orders(store):
    """Orders A..D (numbers 1001..1004) whose values put them in a different order for every
    sortable field, ascending and descending alike."""
    rows = [  # total, created, updated, placed, customer, status
        ("30.00", 2, 4, 4, "Dave", "processing"),  # A 1001
        ("10.00", 4, 3, 2, "Bob", "confirmed"),  # B 1002
        ("20.00", 1, 1, 1, "Carol", "voided"),  # C 1003
        ("40.00", 3, 2, 3, "Alice", "shipped"),  # D 1004
    ]
    return [
        make_order(
            store=store,
            total=Decimal(total),
            created_at=DAY + timedelta(days=created),
            updated_at=DAY + timedelta(days=updated),
            placed_at=DAY + timedelta(days=placed),
            customer_name=name,
            status=status,
        ).order_number
        for total, created, updated, placed, name, status in rows
    ]


A, B, C, D = 1001, 1002, 1003, 1004
ASCENDING = {
    "order_number": [A, B, C, D],
    "total": [B, C, A, D],
    "grand_total": [B, C, A, D],
    "created_at": [C, A, D, B],
    "updated_at": [C, D, B, A],
    "placed_at": [C, B, D, A],
    "customer_name": [D, B, C, A],
    # confirmed < processing < shipped < voided, alphabetically and in the lifecycle alike
    "status": [B, A, D, C],
}
COLUMN = {"grand_total": "total"}


def test_default_sort_is_newest_first(client, four_orders):
    response = client.get(LIST)

    assert numbers(response) == [B, D, A, C]
    assert response.json()["meta"]["sort"] == "-created_at"


@pytest.mark.parametrize("field", ASCENDING)
def test_sort_field_ascending_seed_004_style(client, four_orders, field):
    response = client.get(LIST, {"sort": field})

    assert numbers(response) == ASCENDING[field]
    assert response.json()["meta"]["sort"] == COLUMN.get(field, field)


@pytest.mark.parametrize("field", ASCENDING)
def test_sort_field_descending_with_a_minus_seed_004_style(client, four_orders, field):
    response = client.get(LIST, {"sort": f"-{field}"})

    assert numbers(response) == ASCENDING[field][::-1]
    assert response.json()["meta"]["sort"] == f"-{COLUMN.get(field, field)}"


@pytest.mark.parametrize("field", ASCENDING)
@pytest.mark.parametrize("order", ["asc", "desc", "DESC"])
def test_sort_with_order_seed_002_style(client, four_orders, field, order):
    response = client.get(LIST, {"sort": field, "order": order})

    expected = ASCENDING[field] if order == "asc" else ASCENDING[field][::-1]
    assert numbers(response) == expected
    prefix = "" if order == "asc" else "-"
    assert response.json()["meta"]["sort"] == f"{prefix}{COLUMN.get(field, field)}"


def test_order_alone_sorts_by_created_at(client, four_orders):
    response = client.get(LIST, {"order": "asc"})

    assert numbers(response) == ASCENDING["created_at"]
    assert response.json()["meta"]["sort"] == "created_at"


def test_sort_by_several_fields_seed_004_style(client, store):
    early = DAY
    late = DAY + timedelta(days=1)
    make_order(store=store, order_number=1003, placed_at=late)
    make_order(store=store, order_number=1001, placed_at=early)
    make_order(store=store, order_number=1002, placed_at=late)
    make_order(store=store, order_number=1004, placed_at=early)

    response = client.get(LIST, {"sort": "-placed_at,order_number"})

    assert numbers(response) == [1002, 1003, 1001, 1004]
    assert response.json()["meta"]["sort"] == "-placed_at,order_number"


@pytest.mark.parametrize(
    ("params", "descending"),
    [
        ({}, True),
        ({"sort": "total"}, False),
        ({"sort": "-grand_total"}, True),
        ({"sort": "status", "order": "desc"}, True),
        ({"sort": "customer_name,created_at"}, False),
    ],
)
def test_ties_are_broken_by_id_in_the_sort_direction(client, store, params, descending):
    # Ids out of creation order, so only an id tie-break yields the expected order.
    tied = [
        make_order(
            store=store,
            id=uuid7(DAY + timedelta(seconds=second)),
            created_at=DAY,
            total=Decimal("10.00"),
            customer_name="Jane",
        )
        for second in (3, 1, 5, 0, 4, 2)
    ]

    response = client.get(LIST, params)

    by_id = sorted(tied, key=lambda order: order.id, reverse=descending)
    assert numbers(response) == [order.order_number for order in by_id]


@pytest.mark.parametrize(
    "value", ["price", "id", "-id", "created_at,bogus", "created", "", "total,-total"]
)
def test_unknown_sort_field_is_rejected(client, value):
    assert_rejected(client.get(LIST, {"sort": value}), "sort")


@pytest.mark.parametrize("value", ["up", "ascending", "1", ""])
def test_bad_order_value_is_rejected(client, value):
    assert_rejected(client.get(LIST, {"sort": "total", "order": value}), "order")


# --- include -----------------------------------------------------------------------------


@pytest.fixture
def shipped_order(store):
    order = make_order(store=store, status="shipped", items=2)
    make_fulfillment(order=order, carrier="UPS", tracking_number="1Z999")
    return order


def related_keys(response) -> set[str]:
    assert response.status_code == 200, response.json()
    (order,) = response.json()["data"]
    return set(order) & RELATED_KEYS


def test_list_carries_items_only_by_default(client, shipped_order):
    response = client.get(LIST)

    assert related_keys(response) == {"items"}
    items = response.json()["data"][0]["items"]
    assert [item["object"] for item in items] == ["line_item", "line_item"]


def test_empty_include_carries_no_related_lists(client, shipped_order):
    assert related_keys(client.get(LIST, {"include": ""})) == set()


def test_include_carries_exactly_what_is_asked_under_the_names_asked(client, shipped_order):
    response = client.get(LIST, {"include": "items,shipments,status_history"})

    assert related_keys(response) == {"items", "shipments", "status_history"}
    order = response.json()["data"][0]
    assert len(order["items"]) == 2
    assert [(s["carrier"], s["tracking_number"]) for s in order["shipments"]] == [("UPS", "1Z999")]
    assert [(h["from_status"], h["to_status"]) for h in order["status_history"]] == [
        (None, "shipped")
    ]


def test_include_fulfillments_without_items(client, shipped_order):
    response = client.get(LIST, {"include": "fulfillments"})

    assert related_keys(response) == {"fulfillments"}
    assert response.json()["data"][0]["fulfillments"][0]["tracking_number"] == "1Z999"


@pytest.mark.parametrize("value", ["bogus", "items,bogus", "line_items"])
def test_unknown_include_is_rejected(client, value):
    assert_rejected(client.get(LIST, {"include": value}), "include")


# --- meta.filters ------------------------------------------------------------------------


def test_meta_filters_echo_the_filters_and_nothing_else(client, store, api_key):
    make_order(store=store, status="pending")

    response = client.get(
        LIST,
        {
            "status": "pending",
            "city": "portland",
            "total[gte]": "5",
            "per_page": "10",
            "page": "1",
            "sort": "-total",
            "order": "desc",
            "include": "items",
            "api_key": api_key,
        },
    )

    assert response.status_code == 200, response.json()
    filters = response.json()["meta"]["filters"]
    assert set(filters) == {"status", "city", "total[gte]"}
    assert api_key not in str(response.json()["meta"])


def test_meta_filters_are_empty_without_filters(client, store):
    make_order(store=store)

    assert client.get(LIST, {"per_page": 5}).json()["meta"]["filters"] == {}


# --- strict query string -----------------------------------------------------------------


@pytest.mark.parametrize("path", [LIST, COUNT])
def test_unknown_parameters_are_rejected_naming_each(client, path):
    response = client.get(path, {"colour": "red", "statuses": "pending", "status": "pending"})

    assert_rejected(response, "colour", "statuses")


@pytest.mark.parametrize("path", [LIST, COUNT])
def test_a_repeated_parameter_is_rejected(client, path):
    response = client.get(f"{path}?status=pending&status=shipped")

    assert_rejected(response, "status")


def test_every_bad_parameter_is_named_in_one_response(client):
    response = client.get(
        LIST,
        {"status": "bogus", "min_total": "-1", "date_from": "soon", "sort": "nope", "page": "0"},
    )

    assert_rejected(response, "status", "min_total", "date_from", "sort", "page")


# --- count -------------------------------------------------------------------------------


@pytest.fixture
def mixed_orders(store, other_store):
    make_order(store=store, status="pending", total=Decimal("50.00"))
    make_order(store=store, status="pending", total=Decimal("150.00"), shipping_city="Seattle")
    make_order(store=store, status="shipped", total=Decimal("150.00"))
    make_order(store=store, status="processing", created_at=datetime(2026, 1, 15, tzinfo=UTC))
    make_order(store=other_store, status="pending", total=Decimal("150.00"))


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, 4),
        ({"status": "pending"}, 2),
        ({"status": "pending,in_progress"}, 3),
        ({"min_total": "100"}, 2),
        ({"status": "pending", "city": "SEATTLE"}, 1),
        ({"date_from": "2026-01-01", "date_to": "2026-01-31"}, 1),
        ({"status": "returned"}, 0),
    ],
)
def test_count_applies_the_list_filters(client, mixed_orders, params, expected):
    response = client.get(COUNT, params)

    assert response.status_code == 200, response.json()
    assert response.json() == {"data": {"count": expected}}
    assert client.get(LIST, params).json()["pagination"]["total"] == expected


@pytest.mark.parametrize("param", ["page", "per_page", "limit", "offset", "cursor"])
def test_count_rejects_paging_parameters(client, param):
    assert_rejected(client.get(COUNT, {param: "1"}), param)


@pytest.mark.parametrize(
    ("param", "value"), [("status", "bogus"), ("created_after", "soon"), ("max_total", "-1")]
)
def test_count_rejects_a_bad_filter_naming_it(client, param, value):
    assert_rejected(client.get(COUNT, {param: value}), param)


# --- the seeds' requests -----------------------------------------------------------------


def test_seed_000_dashboard_count_of_pending_orders(client, mixed_orders):
    assert client.get(f"{COUNT}?status=pending").json() == {"data": {"count": 2}}


def test_seed_002_list_request(client, store):
    make_order(store=store, status="pending", total=Decimal("52.00"), payment_status="paid")
    make_order(store=store, status="confirmed", total=Decimal("99.00"), payment_status="paid")
    make_order(store=store, status="shipped", total=Decimal("75.00"), payment_status="paid")
    make_order(store=store, status="pending", total=Decimal("10.00"), payment_status="pending")

    response = client.get(
        f"{LIST}?page=1&per_page=25&sort=total&order=desc&status=pending,confirmed"
        "&payment_status=paid&total%5Bgte%5D=50&city=portland"
    )

    assert numbers(response) == [1002, 1001]
    pagination = response.json()["pagination"]
    assert (pagination["page"], pagination["per_page"], pagination["total"]) == (1, 25, 2)
    assert pagination["total_pages"] == 1


def test_seed_003_date_range_with_limit_offset_on_the_store_path(client, store):
    customer = make_customer(store=store)
    inside = [
        make_order(store=store, customer=customer, created_at=datetime(2026, 3, d, tzinfo=UTC))
        for d in (3, 5, 10)
    ]
    make_order(store=store, customer=customer, created_at=datetime(2026, 3, 11, tzinfo=UTC))
    make_order(store=store, created_at=datetime(2026, 3, 5, tzinfo=UTC))

    response = client.get(
        f"/v1/stores/{store.public_id}/orders",
        {
            "customer_id": customer.public_id,
            "created_after": "2026-03-03T00:00:00Z",
            "created_before": "2026-03-10T23:59:59Z",
            "limit": 25,
            "offset": 0,
        },
    )

    assert numbers(response) == [order.order_number for order in reversed(inside)]
    assert response.json()["pagination"]["total"] == 3


def test_seed_004_report_request_on_the_api_path(client, store):
    january = datetime(2025, 1, 31, 23, 30, tzinfo=UTC)
    match = make_order(store=store, created_at=january, total=Decimal("250.00"))
    make_order(store=store, created_at=january, total=Decimal("600.00"))
    make_order(store=store, created_at=datetime(2025, 2, 1, tzinfo=UTC), total=Decimal("250.00"))

    response = client.get(
        "/api/orders/?filter_on=created_at&date_from=2025-01-01&date_to=2025-01-31"
        "&min_total=100&max_total=500&sort=-placed_at&page=1&per_page=50"
    )

    assert numbers(response) == [match.order_number]
    assert response.json()["meta"]["sort"] == "-placed_at"
