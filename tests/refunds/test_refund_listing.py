"""GET /orders/{id}/refunds and include=refunds on one order and on the list."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.helpers import created, paid_order, refund, refund_line

pytestmark = pytest.mark.django_db


def test_an_orders_refunds_are_listed_oldest_first(client, store, catalog):
    order = paid_order(client, store, [(catalog["mug"], 2), (catalog["coaster"], 1)])
    made = [
        created(refund(client, order, body))
        for body in (
            {"amount": "3.00", "reason": "Goodwill"},
            {"line_items": [refund_line(order, catalog["coaster"])], "reason": "Coaster chipped"},
            {"refund_shipping": True, "reason": "Late"},
        )
    ]

    response = client.get(f"/v1/orders/{order['id']}/refunds")

    assert response.status_code == 200, response.content
    assert response.json() == {"object": "list", "data": made}


def test_an_order_without_refunds_lists_none(client, store, catalog):
    order = paid_order(client, store, [(catalog["mug"], 1)])

    assert client.get(f"/v1/orders/{order['id']}/refunds").json() == {"object": "list", "data": []}


def test_include_refunds_adds_them_to_the_order(client, store, catalog):
    order = paid_order(client, store, [(catalog["mug"], 2)])
    made = [created(refund(client, order, {"amount": a})) for a in ("1.00", "2.00")]

    plain = client.get(f"/v1/orders/{order['id']}").json()["data"]
    included = client.get(f"/v1/orders/{order['id']}", {"include": "refunds"}).json()["data"]

    assert "refunds" not in plain
    assert included["refunds"] == made
    assert included["items"] == plain["items"]  # the detail's own lists stay


def test_include_refunds_on_the_list_gives_each_order_its_own(client, store, catalog):
    refunded = paid_order(client, store, [(catalog["mug"], 1)])
    untouched = paid_order(client, store, [(catalog["mug"], 1)])
    made = created(refund(client, refunded, {"amount": "4.00"}))

    data = client.get("/v1/orders", {"include": "refunds"}).json()["data"]

    by_id = {o["id"]: o["refunds"] for o in data}
    assert by_id == {refunded["id"]: [made], untouched["id"]: []}


def test_include_refunds_costs_as_many_queries_for_one_order_as_for_many(client, store, catalog):
    def queries_to_list() -> int:
        with CaptureQueriesContext(connection) as captured:
            response = client.get("/v1/orders", {"include": "refunds"})
        assert response.status_code == 200
        return len(captured)

    def refunded_order() -> None:
        order = paid_order(client, store, [(catalog["mug"], 1)])
        created(refund(client, order, {"line_items": [refund_line(order)]}))
        created(refund(client, order, {"amount": "1.00"}))

    refunded_order()
    one = queries_to_list()
    for _ in range(4):
        refunded_order()

    assert queries_to_list() == one
