"""POST /orders/{id}/refunds/calculate: the preview of a refund lists what may still be
refunded and what the refund asked for would give back, and changes nothing."""

import pytest

from tests.helpers import (
    assert_error,
    calculate,
    cancelled_order,
    created,
    detail_fields,
    item_id,
    order_state,
    paid_order,
    refund,
    refund_line,
    unpaid_order,
    voided_order,
)

pytestmark = pytest.mark.django_db

QUOTED_LINE = [
    "line_item_id",
    "sku",
    "product_name",
    "quantity",
    "refundable_quantity",
    "amount",
    "tax_amount",
    "total",
]


def test_the_preview_of_an_untouched_order_lists_everything_refundable(client, store, catalog):
    mug, coaster = catalog["mug"], catalog["coaster"]
    order = paid_order(client, store, [(mug, 2), (coaster, 1)])

    response = calculate(client, order)

    assert response.status_code == 200, response.content
    data = response.json()["data"]
    data["line_items"].sort(key=lambda quoted: quoted["product_name"])  # lines of one instant
    assert data == {
        "object": "refund_quote",
        "line_items": [
            dict(zip(QUOTED_LINE, values, strict=True))
            for values in [
                (item_id(order, mug), mug.sku, "Ceramic Mug", 2, 2, 48.00, 5.28, 53.28),
                (item_id(order, coaster), coaster.sku, "Coaster", 1, 1, 10.00, 1.10, 11.10),
            ]
        ],
        "subtotal": 58.00,
        "tax": 6.38,
        "shipping": 0.00,
        "shipping_refundable": 5.99,
        "total": 64.38,
        "refundable": 70.37,
    }


def test_the_preview_adds_shipping_only_when_asked(client, store, catalog):
    order = paid_order(client, store, [(catalog["mug"], 2)])

    data = calculate(client, order, {"refund_shipping": True}).json()["data"]

    assert (data["shipping"], data["total"], data["refundable"]) == (5.99, 59.27, 59.27)


def test_the_preview_after_a_partial_refund_shows_what_is_left(client, store, catalog):
    # Given 2 mugs and a coaster, with one mug and the shipping refunded
    order = paid_order(client, store, [(catalog["mug"], 2), (catalog["coaster"], 1)])
    created(
        refund(
            client,
            order,
            {"line_items": [refund_line(order, catalog["mug"])], "refund_shipping": True},
        )
    )

    # When everything left is previewed
    data = calculate(client, order, {"refund_shipping": True}).json()["data"]

    # Then it holds one mug, the coaster, no shipping, and the balance of the payment
    quoted = {
        li["line_item_id"]: (li["quantity"], li["refundable_quantity"], li["total"])
        for li in data["line_items"]
    }
    assert quoted == {
        item_id(order, catalog["mug"]): (1, 1, 26.64),
        item_id(order, catalog["coaster"]): (1, 1, 11.10),
    }
    assert (data["shipping"], data["shipping_refundable"]) == (0.00, 0.00)
    assert (data["total"], data["refundable"]) == (37.74, 37.74)


def test_the_preview_leaves_out_fully_refunded_lines(client, store, catalog):
    order = paid_order(client, store, [(catalog["mug"], 1), (catalog["coaster"], 1)])
    created(refund(client, order, {"line_items": [refund_line(order, catalog["mug"])]}))

    data = calculate(client, order).json()["data"]

    assert [li["line_item_id"] for li in data["line_items"]] == [item_id(order, catalog["coaster"])]


def test_the_preview_of_given_lines_is_what_the_refund_then_gives_back(client, store, catalog):
    order = paid_order(client, store, [(catalog["coaster"], 3)], state="TX")
    body = {"line_items": [refund_line(order, quantity=2)], "refund_shipping": True}

    preview = calculate(client, order, body).json()["data"]
    made = created(refund(client, order, body))

    assert preview["line_items"][0]["quantity"] == 2
    assert preview["line_items"][0]["tax_amount"] == made["line_items"][0]["tax_amount"] == 1.65
    assert preview["total"] == made["amount"] == 27.64  # 20.00 + 1.65 + 5.99


def test_the_preview_reports_more_than_is_left_without_refusing(client, store, catalog):
    order = paid_order(client, store, [(catalog["mug"], 2)])
    created(refund(client, order, {"line_items": [refund_line(order)]}))

    response = calculate(client, order, {"line_items": [refund_line(order, quantity=2)]})

    assert response.status_code == 200, response.content
    quoted = response.json()["data"]["line_items"][0]
    assert (quoted["quantity"], quoted["refundable_quantity"]) == (2, 1)


def test_the_preview_changes_nothing(client, store, catalog):
    order = paid_order(client, store, [(catalog["mug"], 2), (catalog["coaster"], 1)])
    created(refund(client, order, {"line_items": [refund_line(order, catalog["mug"])]}))
    before = order_state(order)

    for body in (
        {},
        {"refund_shipping": True},
        {"line_items": [refund_line(order, catalog["coaster"])]},
    ):
        assert calculate(client, order, body).status_code == 200

    assert order_state(order) == before


@pytest.mark.parametrize(
    "build", [unpaid_order, voided_order, cancelled_order], ids=["unpaid", "voided", "cancelled"]
)
def test_the_preview_of_an_order_not_paid_has_nothing_refundable(client, store, catalog, build):
    # Given an order that was never paid
    order = build(client, store, catalog["mug"])

    # When its refund is previewed
    response = calculate(client, order, {"refund_shipping": True})

    # Then the most any refund may give back now is nothing, as a refund would be refused
    assert response.status_code == 200, response.content
    assert response.json()["data"]["refundable"] == 0.00


def test_the_preview_of_an_unknown_line_is_422_naming_it(client, store, catalog):
    order = paid_order(client, store, [(catalog["mug"], 1)])
    unknown = "li_00000000-0000-7000-8000-000000000000"

    response = calculate(client, order, {"line_items": [{"line_item_id": unknown, "quantity": 1}]})

    error = assert_error(response, 422, "VALIDATION_ERROR")
    assert detail_fields(error) == ["line_items[0].line_item_id"]
