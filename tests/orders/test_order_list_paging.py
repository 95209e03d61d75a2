"""GET /v1/orders paging: page/per_page, limit/offset (seed 003) and the keyset cursor that
sync jobs follow through large stores."""

import base64
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from orders.ids import uuid7
from tests.factories import make_order
from tests.helpers import assert_rejected

pytestmark = pytest.mark.django_db

LIST = "/v1/orders"
START = datetime(2026, 3, 10, 9, tzinfo=UTC)


def make_timeline(store, count: int, **fields) -> list[int]:
    """`count` orders a minute apart; their numbers newest first (the default list order)."""
    orders = [
        make_order(store=store, created_at=START + timedelta(minutes=i), items=0, **fields)
        for i in range(count)
    ]
    return [order.order_number for order in reversed(orders)]


def get_page(client, params: dict) -> dict:
    response = client.get(LIST, params)
    assert response.status_code == 200, response.json()
    return response.json()


def numbers(body: dict) -> list[int]:
    return [order["order_number"] for order in body["data"]]


def counts(body: dict) -> dict:
    pagination = body["pagination"]
    return {key: pagination[key] for key in ("page", "per_page", "total", "total_pages")}


def follow_cursor(client, params: dict, *, max_pages: int = 50) -> list[list[int]]:
    """Every page's order numbers, from the first page to the one whose next_cursor is null."""
    body = get_page(client, params)
    pages = [numbers(body)]
    while body["pagination"]["next_cursor"] is not None:
        assert len(pages) < max_pages, "next_cursor never ran out"
        body = get_page(client, {**params, "cursor": body["pagination"]["next_cursor"]})
        pages.append(numbers(body))
    return pages


def token(payload) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


# --- page / per_page ---------------------------------------------------------------------


def test_default_page_is_the_newest_25_orders(client, store):
    newest_first = make_timeline(store, 30)

    body = get_page(client, {})

    assert numbers(body) == newest_first[:25]
    assert counts(body) == {"page": 1, "per_page": 25, "total": 30, "total_pages": 2}


def test_pages_list_every_order_once_in_order(client, store):
    newest_first = make_timeline(store, 51)

    pages = [get_page(client, {"page": page, "per_page": 25}) for page in (1, 2, 3)]

    assert [len(page["data"]) for page in pages] == [25, 25, 1]
    assert [n for page in pages for n in numbers(page)] == newest_first
    assert counts(pages[2]) == {"page": 3, "per_page": 25, "total": 51, "total_pages": 3}


def test_no_orders_is_an_empty_first_page_of_zero_pages(client, store, other_store):
    make_timeline(other_store, 2)

    body = get_page(client, {})

    assert body["data"] == []
    assert counts(body) == {"page": 1, "per_page": 25, "total": 0, "total_pages": 0}
    assert body["pagination"]["next_cursor"] is None


def test_a_page_beyond_the_end_is_empty_with_the_true_total(client, store):
    make_timeline(store, 30)

    body = get_page(client, {"page": 3})

    assert body["data"] == []
    assert counts(body) == {"page": 3, "per_page": 25, "total": 30, "total_pages": 2}
    assert body["pagination"]["next_cursor"] is None


def test_per_page_of_250_is_allowed(client, store):
    newest_first = make_timeline(store, 3)

    body = get_page(client, {"per_page": 250})

    assert numbers(body) == newest_first
    assert counts(body) == {"page": 1, "per_page": 250, "total": 3, "total_pages": 1}


def test_total_pages_rounds_up(client, store):
    make_timeline(store, 7)

    body = get_page(client, {"per_page": 3, "page": 2})

    assert counts(body) == {"page": 2, "per_page": 3, "total": 7, "total_pages": 3}


@pytest.mark.parametrize("value", ["0", "251", "-1", "abc", "2.5", ""])
def test_per_page_outside_1_to_250_is_rejected(client, value):
    assert_rejected(client.get(LIST, {"per_page": value}), "per_page")


@pytest.mark.parametrize("value", ["0", "-1", "abc", "1.5", ""])
def test_page_below_1_or_not_a_number_is_rejected(client, value):
    assert_rejected(client.get(LIST, {"page": value}), "page")


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"page": str(10**20)}, "page"),
        ({"page": str(10**17), "per_page": "250"}, "page"),  # its offset passes 2**63
        ({"offset": str(10**20)}, "offset"),
    ],
)
def test_a_page_too_far_to_address_is_rejected_not_a_server_error(client, store, params, named):
    make_timeline(store, 1)

    assert_rejected(client.get(LIST, params), named)


# --- limit / offset (seed 003) -----------------------------------------------------------


def test_limit_and_offset_select_a_window(client, store):
    newest_first = make_timeline(store, 25)

    body = get_page(client, {"limit": 10, "offset": 20})

    assert numbers(body) == newest_first[20:25]
    pagination = body["pagination"]
    assert (pagination["limit"], pagination["offset"], pagination["total"]) == (10, 20, 25)
    assert pagination["per_page"] == 10


def test_limit_alone_sets_the_page_size(client, store):
    newest_first = make_timeline(store, 5)

    body = get_page(client, {"limit": 2})

    assert numbers(body) == newest_first[:2]
    assert body["pagination"]["per_page"] == 2
    assert body["pagination"]["total_pages"] == 3


@pytest.mark.parametrize(
    ("param", "value"), [("limit", "0"), ("limit", "251"), ("offset", "-1"), ("offset", "x")]
)
def test_limit_or_offset_out_of_range_is_rejected(client, param, value):
    assert_rejected(client.get(LIST, {param: value}), param)


@pytest.mark.parametrize(
    "params",
    [
        {"page": "2", "offset": "25"},
        {"page": "2", "cursor": "abc"},
        {"offset": "25", "cursor": "abc"},
        {"per_page": "10", "limit": "20"},
    ],
)
def test_two_ways_of_paging_at_once_are_rejected(client, params):
    response = client.get(LIST, params)

    assert response.status_code == 400, response.json()
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    fields = {detail["field"] for detail in error["details"]}
    assert fields
    assert fields <= set(params)


# --- keyset cursor -----------------------------------------------------------------------


def test_cursor_pages_cover_every_order_once_in_order(client, store):
    newest_first = make_timeline(store, 10)

    pages = follow_cursor(client, {"per_page": 4})

    assert pages == [newest_first[:4], newest_first[4:8], newest_first[8:]]


def test_cursor_pages_cover_every_order_once_when_timestamps_tie(client, store):
    tied_at = START + timedelta(hours=1)
    before = make_order(store=store, created_at=START, items=0)
    # Ids out of creation order, so only an id tie-break yields the expected order.
    tied = [
        make_order(store=store, id=uuid7(START + timedelta(seconds=s)), created_at=tied_at, items=0)
        for s in (4, 1, 6, 0, 3, 5, 2)
    ]
    after = make_order(store=store, created_at=tied_at + timedelta(seconds=1), items=0)
    # Newest first; orders created at the same instant follow their ids, also descending.
    expected = [
        after.order_number,
        *[o.order_number for o in sorted(tied, key=lambda o: o.id, reverse=True)],
        before.order_number,
    ]

    pages = follow_cursor(client, {"per_page": 3})

    assert [n for page in pages for n in page] == expected
    assert [len(page) for page in pages] == [3, 3, 3]


def _ascending_by(*keys):
    """Sort key pieces: (attribute, descending) applied most significant first."""

    def order(orders):
        for attribute, descending in reversed(keys):
            orders = sorted(orders, key=lambda o: getattr(o, attribute), reverse=descending)
        return [o.order_number for o in orders]

    return order


@pytest.mark.parametrize(
    ("sort", "expected_order"),
    [
        ("total", _ascending_by(("total", False), ("id", False))),
        ("-total", _ascending_by(("total", True), ("id", True))),
        (
            "-placed_at,order_number",
            _ascending_by(("placed_at", True), ("order_number", False)),
        ),
        (
            "customer_name,-total",
            _ascending_by(("customer_name", False), ("total", True), ("id", False)),
        ),
    ],
)
def test_cursor_pages_follow_a_non_default_sort_through_ties(client, store, sort, expected_order):
    orders = [
        make_order(
            store=store,
            id=uuid7(START + timedelta(seconds=second)),
            items=0,
            total=Decimal(total),
            customer_name=name,
            placed_at=START + timedelta(days=day),
        )
        for total, name, day, second in [
            ("10.00", "Alice", 1, 5), ("20.00", "Bob", 2, 1), ("10.00", "Alice", 2, 8),
            ("30.00", "Carol", 1, 0), ("20.00", "Alice", 3, 7), ("10.00", "Bob", 2, 2),
            ("20.00", "Bob", 1, 6), ("30.00", "Alice", 3, 3), ("10.00", "Carol", 3, 4),
        ]
    ]  # fmt: skip

    pages = follow_cursor(client, {"sort": sort, "per_page": 2})

    assert [n for page in pages for n in page] == expected_order(orders)
    assert [len(page) for page in pages] == [2, 2, 2, 2, 1]


def test_cursor_pages_keep_the_filters(client, store):
    pending_newest_first = make_timeline(store, 5, status="pending")
    make_timeline(store, 3, status="shipped")

    pages = follow_cursor(client, {"status": "pending", "per_page": 2})

    assert [n for page in pages for n in page] == pending_newest_first


def test_next_cursor_is_null_on_the_last_page(client, store):
    newest_first = make_timeline(store, 4)

    first = get_page(client, {"per_page": 2})
    last = get_page(client, {"per_page": 2, "cursor": first["pagination"]["next_cursor"]})

    assert first["pagination"]["next_cursor"] is not None
    assert numbers(last) == newest_first[2:]
    assert last["pagination"]["next_cursor"] is None


def test_next_cursor_is_null_when_everything_fits_on_one_page(client, store):
    make_timeline(store, 3)

    assert get_page(client, {"per_page": 3})["pagination"]["next_cursor"] is None


def test_an_order_created_after_the_first_page_does_not_shift_the_next_page(client, store):
    newest_first = make_timeline(store, 5)
    first = get_page(client, {"per_page": 2})

    newer = make_order(store=store, created_at=START + timedelta(days=1), items=0)
    second = get_page(client, {"per_page": 2, "cursor": first["pagination"]["next_cursor"]})

    assert numbers(first) == newest_first[:2]
    assert numbers(second) == newest_first[2:4]
    assert newer.order_number not in numbers(second)


def test_a_cursor_used_with_another_sort_is_rejected(client, store):
    make_timeline(store, 3)
    cursor = get_page(client, {"per_page": 1})["pagination"]["next_cursor"]

    response = client.get(LIST, {"per_page": 1, "cursor": cursor, "sort": "total"})

    assert_rejected(response, "cursor")


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "!!!!",
        token([1, 2]),
        token({"s": "-created_at"}),
        token({"s": "-created_at", "v": ["2026-03-10T09:00:00+00:00"]}),
        token({"s": "-created_at", "v": ["yesterday", "0193a5b2-7c1e-7d4f-9a0b-1c2d3e4f5a6b"]}),
        token({"s": "-created_at", "v": ["2026-03-10T09:00:00+00:00", "not-a-uuid"]}),
        token({"s": "-created_at", "v": [12, "0193a5b2-7c1e-7d4f-9a0b-1c2d3e4f5a6b"]}),
    ],
)
def test_a_garbage_cursor_is_rejected(client, store, cursor):
    make_timeline(store, 2)

    assert_rejected(client.get(LIST, {"cursor": cursor}), "cursor")
