"""Refunds that are refused, and change nothing: more than was paid or bought, an order whose
payment is not held, a key without the scope, malformed input, another store's order."""

from decimal import Decimal

import pytest

from refunds.models import Refund
from tests.factories import make_api_key, make_order
from tests.helpers import (
    api_client,
    assert_error,
    assert_scope_refused,
    calculate,
    cancelled_order,
    create_order,
    created,
    detail_fields,
    fields_named,
    item_id,
    order_state,
    paid_order,
    payment_failed_order,
    refund,
    refund_line,
    refund_standing,
    refunded_order,
    refunded_quantities,
    stock_of,
    stored_order,
    unpaid_order,
    voided_order,
)

pytestmark = pytest.mark.django_db


# --- which orders can be refunded ----------------------------------------------------------


@pytest.mark.parametrize(
    ("build", "status", "payment_status"),
    [
        (unpaid_order, "pending", "pending"),
        (payment_failed_order, "pending", "failed"),
        (voided_order, "voided", "voided"),
        (cancelled_order, "cancelled", "pending"),
        (refunded_order, "pending", "refunded"),
    ],
    ids=["unpaid", "payment-failed", "voided", "cancelled", "fully-refunded"],
)
def test_an_order_not_paid_is_422_order_not_refundable_and_nothing_changes(
    client, store, catalog, build, status, payment_status
):
    # Given an order whose payment is not (or no longer) held
    order = build(client, store, catalog["mug"])
    before = order_state(order)

    # When a refund of one of its lines is asked for
    response = refund(client, order, {"line_items": [refund_line(order)], "amount": "1.00"})

    # Then it is refused, saying why, and nothing changed
    error = assert_error(response, 422, "ORDER_NOT_REFUNDABLE")
    assert (error["details"], error["context"]) == (
        [],
        {"status": status, "payment_status": payment_status},
    )
    assert "paid or partially refunded" in error["message"]
    assert order_state(order) == before


def test_refusing_an_unpaid_order_suggests_voiding_it(client, store, catalog):
    order = unpaid_order(client, store, catalog["mug"])

    error = assert_error(refund(client, order, {"amount": "1.00"}), 422, "ORDER_NOT_REFUNDABLE")

    assert "Void" in error["message"]


# --- what was paid and what was bought -----------------------------------------------------


def test_a_refund_above_what_is_left_is_422_with_the_refundable_figures(client, store, catalog):
    # Given a 32.63 order with 10.00 already refunded
    order = paid_order(client, store, [(catalog["mug"], 1)])
    created(refund(client, order, {"amount": "10.00"}))
    before = order_state(order)

    # When 22.64 (a cent more than is left) is asked for
    response = refund(client, order, {"amount": "22.64", "line_items": [refund_line(order)]})

    # Then it is refused with the figures, and nothing changed (no restock either)
    error = assert_error(response, 422, "REFUND_EXCEEDS_BALANCE")
    assert fields_named(error) == {"amount"}
    assert error["context"] == {
        "requested": 22.64,
        "refundable": 22.63,
        "total": 32.63,
        "refunded": 10.00,
    }
    assert response.content.count(b'"refunded":10.00') == 1  # money keeps its two decimals
    assert order_state(order) == before


def test_refunding_exactly_what_is_left_makes_the_order_refunded(client, store, catalog):
    order = paid_order(client, store, [(catalog["mug"], 1)])
    created(refund(client, order, {"amount": "10.00"}))

    created(refund(client, order, {"amount": "22.63"}))

    assert refund_standing(order) == (Decimal("32.63"), "refunded")
    error = assert_error(refund(client, order, {"amount": "0.01"}), 422, "ORDER_NOT_REFUNDABLE")
    assert error["context"] == {"status": "pending", "payment_status": "refunded"}


def test_line_quantity_limits_hold_across_several_refunds(client, store, catalog):
    # Given a paid order of 3 mugs
    order = paid_order(client, store, [(catalog["mug"], 3)])
    line_id = order["items"][0]["id"]

    # When 2 are refunded, then 2 more, then 1, then 1 more
    first = refund(client, order, {"line_items": [refund_line(order, quantity=2)]})
    second = refund(client, order, {"line_items": [refund_line(order, quantity=2)]})
    third = refund(client, order, {"line_items": [refund_line(order, quantity=1)]})
    fourth = refund(client, order, {"line_items": [refund_line(order, quantity=1)]})

    # Then only what was bought is ever refunded, and each refusal says what is left
    created(first)
    refused = assert_error(second, 422, "REFUND_EXCEEDS_QUANTITY")
    assert detail_fields(refused) == ["line_items[0].quantity"]
    assert refused["context"] == {
        "lines": [{"line_item_id": line_id, "requested": 2, "refundable_quantity": 1}]
    }
    created(third)
    refused = assert_error(fourth, 422, "REFUND_EXCEEDS_QUANTITY")
    assert detail_fields(refused) == ["line_items[0].quantity"]
    assert refused["context"] == {
        "lines": [{"line_item_id": line_id, "requested": 1, "refundable_quantity": 0}]
    }
    assert refunded_quantities(order) == [3]
    assert stock_of(catalog["mug"]) == 10
    assert Refund.objects.filter(order=stored_order(order)).count() == 2


@pytest.mark.parametrize("path", ["refund", "refunds/calculate"])
def test_a_quantity_no_line_could_hold_is_a_validation_error_not_a_500(
    client, store, catalog, path
):
    # Pricing 10^30 units would overflow the decimal arithmetic: the input is refused first.
    order = paid_order(client, store, [(catalog["mug"], 3)])
    before = order_state(order)

    response = client.post(
        f"/v1/orders/{order['id']}/{path}",
        {"line_items": [refund_line(order, quantity=10**30)]},
        format="json",
    )

    error = assert_error(response, 400, "VALIDATION_ERROR")
    assert detail_fields(error) == ["line_items[0].quantity"]
    assert order_state(order) == before


def test_one_line_named_twice_in_a_request_counts_both(client, store, catalog):
    order = paid_order(client, store, [(catalog["mug"], 3)])
    before = order_state(order)

    response = refund(
        client,
        order,
        {"line_items": [refund_line(order, quantity=2), refund_line(order, quantity=2)]},
    )

    error = assert_error(response, 422, "REFUND_EXCEEDS_QUANTITY")
    # Named where the request first asks for it
    assert detail_fields(error) == ["line_items[0].quantity"]
    assert error["context"] == {
        "lines": [
            {"line_item_id": order["items"][0]["id"], "requested": 4, "refundable_quantity": 3}
        ]
    }
    assert order_state(order) == before


def test_only_the_lines_over_their_quantity_are_named(client, store, catalog):
    order = paid_order(client, store, [(catalog["mug"], 1), (catalog["coaster"], 2)])
    before = order_state(order)

    mug, coaster = catalog["mug"], catalog["coaster"]
    body = {
        "line_items": [refund_line(order, mug, quantity=1), refund_line(order, coaster, quantity=3)]
    }

    response = refund(client, order, body)

    error = assert_error(response, 422, "REFUND_EXCEEDS_QUANTITY")
    assert detail_fields(error) == ["line_items[1].quantity"]
    assert error["context"] == {
        "lines": [
            {"line_item_id": item_id(order, coaster), "requested": 3, "refundable_quantity": 2}
        ]
    }
    assert order_state(order) == before


# --- scopes --------------------------------------------------------------------------------


def test_a_write_orders_key_cannot_refund(client, store, catalog):
    order = paid_order(client, store, [(catalog["mug"], 1)])
    writer = api_client(make_api_key(store=store, scopes=["read:orders", "write:orders"]))
    before = order_state(order)

    response = refund(writer, order, {"amount": "1.00"})

    assert_scope_refused(response, "write:refunds")
    assert order_state(order) == before


def test_a_write_orders_only_key_cannot_refund_either(client, store, catalog):
    order = paid_order(client, store, [(catalog["mug"], 1)])
    writer = api_client(make_api_key(store=store, scopes=["write:orders"]))

    assert_scope_refused(refund(writer, order, {"amount": "1.00"}), "write:refunds")
    assert Refund.objects.count() == 0


def test_a_read_orders_key_lists_and_previews_but_cannot_refund(client, store, catalog):
    order = paid_order(client, store, [(catalog["mug"], 1)])
    made = created(refund(client, order, {"amount": "1.00"}))
    reader = api_client(make_api_key(store=store, scopes=["read:orders"]))

    listed = reader.get(f"/v1/orders/{order['id']}/refunds")
    previewed = calculate(reader, order)
    refused = refund(reader, order, {"amount": "1.00"})

    assert listed.status_code == 200
    assert listed.json()["data"] == [made]
    assert previewed.status_code == 200
    assert previewed.json()["data"]["refundable"] == 31.63
    assert_scope_refused(refused, "write:refunds")


def test_a_write_refunds_key_refunds(client, store, catalog):
    order = paid_order(client, store, [(catalog["mug"], 1)])
    refunder = api_client(make_api_key(store=store, scopes=["write:refunds"]))

    assert refund(refunder, order, {"amount": "1.00"}).status_code == 201


def test_a_write_refunds_only_key_cannot_read_the_refunds(client, store, catalog):
    order = paid_order(client, store, [(catalog["mug"], 1)])
    refunder = api_client(make_api_key(store=store, scopes=["write:refunds"]))

    listed = refunder.get(f"/v1/orders/{order['id']}/refunds")
    previewed = calculate(refunder, order)

    assert_scope_refused(listed, "read:orders")
    assert_scope_refused(previewed, "read:orders")


# --- bad input -----------------------------------------------------------------------------


def test_an_empty_refund_is_422_asking_for_lines_an_amount_or_shipping(client, store, catalog):
    order = paid_order(client, store, [(catalog["mug"], 1)])
    before = order_state(order)

    error = assert_error(refund(client, order, {}), 422, "VALIDATION_ERROR")

    assert detail_fields(error) == ["line_items"]
    assert order_state(order) == before


def test_a_line_not_on_the_order_is_422_naming_it(client, store, catalog, other_store):
    # Given a paid order, another order of the store, and an order of another store
    order = paid_order(client, store, [(catalog["mug"], 1)])
    sibling = create_order(client, store, [(catalog["coaster"], 1)])
    foreign = make_order(store=other_store, payment_status="paid")
    foreign_line = foreign.items.get().public_id
    before = order_state(order)

    for line_item_id, status in (
        ("li_00000000-0000-7000-8000-000000000000", 422),  # never existed
        (sibling["items"][0]["id"], 422),
        (foreign_line, 422),
        ("li_nope", 400),  # not an id at all: the document refuses it
    ):
        # When a refund names it
        body = {"line_items": [{"line_item_id": line_item_id, "quantity": 1}]}
        error = assert_error(refund(client, order, body), status, "VALIDATION_ERROR")

        # Then the error names the field, and nothing changed
        assert detail_fields(error) == ["line_items[0].line_item_id"]
        assert order_state(order) == before


def test_the_second_bad_line_is_named_by_its_position(client, store, catalog):
    order = paid_order(client, store, [(catalog["mug"], 1)])
    unknown = {"line_item_id": "li_00000000-0000-7000-8000-000000000000", "quantity": 1}

    response = refund(client, order, {"line_items": [refund_line(order), unknown]})

    error = assert_error(response, 422, "VALIDATION_ERROR")
    assert detail_fields(error) == ["line_items[1].line_item_id"]
    assert refunded_quantities(order) == [0]


@pytest.mark.parametrize("quantity", [0, -1])
def test_a_quantity_below_one_is_400(client, store, catalog, quantity):
    order = paid_order(client, store, [(catalog["mug"], 2)])
    before = order_state(order)

    response = refund(client, order, {"line_items": [refund_line(order, quantity=quantity)]})

    error = assert_error(response, 400, "VALIDATION_ERROR")
    assert detail_fields(error) == ["line_items[0].quantity"]
    assert order_state(order) == before


@pytest.mark.parametrize("amount", ["0", "0.00", "-5.00", "1.001", "ten"])
def test_an_amount_that_is_not_a_positive_sum_of_cents_is_400(client, store, catalog, amount):
    order = paid_order(client, store, [(catalog["mug"], 2)])
    before = order_state(order)

    response = refund(client, order, {"amount": amount})

    error = assert_error(response, 400, "VALIDATION_ERROR")
    assert detail_fields(error) == ["amount"]
    assert order_state(order) == before


def test_an_unknown_field_is_400(client, store, catalog):
    order = paid_order(client, store, [(catalog["mug"], 2)])

    response = refund(client, order, {"amount": "1.00", "refund_tax": True})

    error = assert_error(response, 400, "VALIDATION_ERROR")
    assert detail_fields(error) == ["refund_tax"]
    assert Refund.objects.count() == 0


def test_another_stores_order_is_404_on_every_refund_route(client, store, other_store):
    foreign = make_order(store=other_store, payment_status="paid", unit_price="50.00")
    base = f"/v1/orders/{foreign.public_id}"

    responses = [
        client.post(f"{base}/refund", {"amount": "1.00"}, format="json"),
        client.post(f"{base}/refunds", {"amount": "1.00"}, format="json"),
        client.get(f"{base}/refunds"),
        client.post(f"{base}/refunds/calculate", {}, format="json"),
    ]

    assert [r.status_code for r in responses] == [404] * 4
    assert {r.json()["error"]["code"] for r in responses} == {"NOT_FOUND"}
    foreign.refresh_from_db()
    assert (foreign.refunded_amount, foreign.payment_status) == (Decimal("0.00"), "paid")
    assert Refund.objects.count() == 0
