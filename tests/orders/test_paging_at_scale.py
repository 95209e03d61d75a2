"""Paging that stays safe at scale (DESIGN.md "List parameters"): every page says has_more and
next_cursor, ?count= chooses how the total is counted, a cursor page does not count, OFFSET
paging stops 100,000 rows deep with a 400 that names the cursor, and a next page is linked."""

from urllib.parse import parse_qs, urlsplit

import pytest

from orders.api.pagination import MAX_OFFSET
from tests.factories import make_order
from tests.helpers import assert_rejected
from tests.orders.test_order_list_paging import get_page, make_timeline, numbers

pytestmark = pytest.mark.django_db

LIST = "/v1/orders"


def test_every_page_says_whether_more_follow_and_how_to_get_them(client, store):
    make_timeline(store, 5)

    first = get_page(client, {"per_page": 2})
    last = get_page(client, {"per_page": 2, "page": 3})

    assert first["pagination"]["has_more"] is True
    assert first["pagination"]["next_cursor"]
    assert last["pagination"]["has_more"] is False
    assert last["pagination"]["next_cursor"] is None


def test_an_exact_count_is_not_an_estimate(client, store):
    make_timeline(store, 3)

    pagination = get_page(client, {})["pagination"]

    assert (pagination["total"], pagination["total_is_estimate"]) == (3, False)


def test_count_none_gives_no_total_and_no_page_count(client, store):
    make_timeline(store, 3)

    body = get_page(client, {"count": "none", "per_page": 2})

    assert body["pagination"]["total"] is None
    assert body["pagination"]["total_pages"] is None
    assert body["pagination"]["has_more"] is True
    assert len(body["data"]) == 2


def test_count_estimate_says_so_on_postgresql_and_is_exact_elsewhere(client, store):
    from django.db import connection

    make_timeline(store, 4)

    pagination = get_page(client, {"count": "estimate", "city": "Portland"})["pagination"]

    if connection.vendor == "postgresql":
        assert pagination["total_is_estimate"] is True
        assert isinstance(pagination["total"], int)
        assert pagination["total"] >= 0
    else:
        assert (pagination["total"], pagination["total_is_estimate"]) == (4, False)


@pytest.mark.parametrize("params", [{}, {"status": "pending"}, {"payment_status": "paid"}])
def test_count_estimate_is_exact_where_the_kept_counts_answer(client, store, params):
    make_timeline(store, 4)
    make_order(store=store, status="shipped", payment_status="paid")

    pagination = get_page(client, {"count": "estimate", **params})["pagination"]

    expected = {(): 5, ("status",): 4, ("payment_status",): 1}[tuple(params)]
    assert (pagination["total"], pagination["total_is_estimate"]) == (expected, False)


@pytest.mark.parametrize("value", ["all", "EXACT", "1"])
def test_an_unknown_count_mode_is_rejected(client, value):
    assert_rejected(client.get(LIST, {"count": value}), "count")


def test_a_page_reached_by_cursor_does_not_count(client, store, django_assert_num_queries):
    newest_first = make_timeline(store, 5)
    cursor = get_page(client, {"per_page": 2})["pagination"]["next_cursor"]

    body = get_page(client, {"per_page": 2, "cursor": cursor})

    assert numbers(body) == newest_first[2:4]
    assert body["pagination"]["total"] is None
    assert body["pagination"]["total_pages"] is None
    assert body["pagination"]["page"] is None


def test_a_cursor_page_runs_no_count_query(client, store):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    make_timeline(store, 5)
    cursor = get_page(client, {"per_page": 2, "include": ""})["pagination"]["next_cursor"]

    with CaptureQueriesContext(connection) as queries:
        get_page(client, {"per_page": 2, "cursor": cursor, "include": ""})

    assert not [q for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]


def test_offset_paging_reaches_100000_rows_deep(client, store):
    make_timeline(store, 2)

    assert get_page(client, {"offset": str(MAX_OFFSET)})["data"] == []
    assert get_page(client, {"page": str(MAX_OFFSET // 25 + 1)})["data"] == []


def test_beyond_100000_rows_offset_paging_is_refused_naming_the_cursor(client):
    too_deep_offset = assert_rejected(client.get(LIST, {"offset": str(MAX_OFFSET + 1)}), "offset")
    too_deep_page = assert_rejected(
        client.get(LIST, {"page": str(MAX_OFFSET // 250 + 2), "per_page": "250"}), "page"
    )

    assert "cursor" in too_deep_page["details"][0]["message"]
    assert "100000" in too_deep_offset["details"][0]["message"].replace(",", "")


def test_seed_clients_iterating_pages_to_total_pages_see_every_order(client, store):
    newest_first = make_timeline(store, 7)

    first = get_page(client, {"per_page": 3})
    seen = numbers(first)
    for page in range(2, first["pagination"]["total_pages"] + 1):
        seen += numbers(get_page(client, {"per_page": 3, "page": page}))

    assert seen == newest_first


def _next_link(response) -> dict[str, list[str]]:
    link = response["Link"]
    url, rel = link.split(";", 1)
    assert rel.strip() == 'rel="next"'
    parts = urlsplit(url.strip().removeprefix("<").removesuffix(">"))
    assert parts.scheme == "http"
    assert parts.netloc
    assert parts.path == LIST
    return parse_qs(parts.query)


def test_a_page_with_a_next_page_links_it_in_the_clients_own_paging(client, store):
    newest_first = make_timeline(store, 5)

    by_page = _next_link(client.get(LIST, {"per_page": 2, "status": "pending"}))
    by_offset = _next_link(client.get(LIST, {"limit": 2, "offset": 1}))
    first = client.get(LIST, {"per_page": 2})
    by_cursor = _next_link(
        client.get(LIST, {"per_page": 2, "cursor": first.json()["pagination"]["next_cursor"]})
    )

    assert by_page == {"per_page": ["2"], "status": ["pending"], "page": ["2"]}
    assert by_offset == {"limit": ["2"], "offset": ["3"]}
    followed = get_page(client, {key: values[0] for key, values in by_cursor.items()})
    assert numbers(followed) == newest_first[4:]


def test_the_last_page_has_no_link(client, store):
    make_timeline(store, 2)

    response = client.get(LIST, {"per_page": 2})

    assert response.status_code == 200
    assert "Link" not in response


def test_the_next_link_never_repeats_an_api_key_sent_in_the_query(api_key, store):
    from tests.helpers import api_client

    make_timeline(store, 3)

    response = api_client().get(LIST, {"per_page": 1, "api_key": api_key})

    assert response.status_code == 200
    assert "api_key" not in response["Link"]
    assert api_key not in response["Link"]
    assert _next_link(response) == {"per_page": ["1"], "page": ["2"]}
