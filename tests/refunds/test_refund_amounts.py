"""What a refund gives back: the lines' value with their tax share unless an amount is given,
the shipping only when asked for, and tax shares rounded so that the refunds of an order add
up to its total to the cent."""

from decimal import Decimal

import pytest

from tests.factories import make_variant
from tests.helpers import (
    assert_error,
    calculate,
    created,
    item_id,
    order_state,
    paid_order,
    refund,
    refund_line,
    refund_standing,
    refunded_quantities,
    stock_of,
    stored_order,
)

pytestmark = pytest.mark.django_db


# --- the amount ----------------------------------------------------------------------------


def test_the_amount_defaults_to_the_lines_value_with_their_tax_share(client, store, catalog):
    # Given 2 mugs (48.00, tax 5.28) and a coaster (10.00, tax 1.10) shipped for 5.99
    order = paid_order(client, store, [(catalog["mug"], 2), (catalog["coaster"], 1)])
    assert (order["tax_amount"], order["total"]) == (6.38, 70.37)

    # When one mug and the coaster are refunded without an amount
    mug, coaster = catalog["mug"], catalog["coaster"]
    body = {"line_items": [refund_line(order, mug), refund_line(order, coaster)]}
    data = created(refund(client, order, body))

    # Then the refund is their price plus their tax, and no shipping
    assert data["amount"] == 37.74  # 24.00 + 2.64 + 10.00 + 1.10
    assert data["shipping_amount"] == 0.00
    assert {li["line_item_id"]: (li["amount"], li["tax_amount"]) for li in data["line_items"]} == {
        item_id(order, mug): (24.00, 2.64),
        item_id(order, coaster): (10.00, 1.10),
    }
    assert stored_order(order).refunded_amount == Decimal("37.74")


def test_shipping_is_refunded_only_when_asked(client, store, catalog):
    order = paid_order(client, store, [(catalog["mug"], 1)])  # 24.00 + 2.64 tax + 5.99

    data = created(
        refund(client, order, {"line_items": [refund_line(order)], "refund_shipping": True})
    )

    assert data["amount"] == 32.63
    assert data["shipping_amount"] == 5.99
    assert refund_standing(order) == (Decimal("32.63"), "refunded")


def test_shipping_alone_is_refunded_once(client, store, catalog):
    # Given a paid order whose shipping was refunded on its own
    order = paid_order(client, store, [(catalog["mug"], 1)])
    data = created(refund(client, order, {"refund_shipping": True, "reason": "Late delivery"}))
    assert (data["amount"], data["shipping_amount"]) == (5.99, 5.99)
    assert (data["line_items"], data["inventory_restored"]) == ([], False)
    before = order_state(order)

    # When shipping is asked for again
    response = refund(client, order, {"refund_shipping": True})

    # Then it is refused with the figures in money, and nothing changed
    error = assert_error(response, 422, "REFUND_EXCEEDS_BALANCE")
    assert error["details"] == []  # the lines and shipping together, no one field
    assert error["context"] == {
        "requested": 0.00,
        "refundable": 26.64,
        "total": 32.63,
        "refunded": 5.99,
    }
    assert order_state(order) == before
    assert stored_order(order).refunded_amount == Decimal("5.99")


def test_a_refund_worth_nothing_says_there_is_nothing_to_refund(client, store, catalog):
    # Given a paid order whose shipping was already refunded
    order = paid_order(client, store, [(catalog["mug"], 1)])
    created(refund(client, order, {"refund_shipping": True}))

    # When shipping alone is asked for again
    error = assert_error(
        refund(client, order, {"refund_shipping": True}), 422, "REFUND_EXCEEDS_BALANCE"
    )

    # Then the message says there is nothing to refund (0.00 does not exceed 26.64)
    assert "nothing" in error["message"].lower()
    assert "is more than" not in error["message"]


def test_an_explicit_amount_with_lines_is_the_amount_refunded(client, store, catalog):
    order = paid_order(client, store, [(catalog["mug"], 2)])

    data = created(refund(client, order, {"amount": "20.00", "line_items": [refund_line(order)]}))

    assert data["amount"] == 20.00
    assert data["line_items"][0]["quantity"] == 1
    assert refunded_quantities(order) == [1]
    assert stored_order(order).refunded_amount == Decimal("20.00")


def test_a_goodwill_refund_of_an_amount_alone_restores_no_inventory(client, store, catalog):
    order = paid_order(client, store, [(catalog["mug"], 2)])

    data = created(refund(client, order, {"amount": "5.00", "reason": "Sorry for the wait"}))

    assert data["amount"] == 5.00
    assert data["inventory_restored"] is False
    assert data["line_items"] == []
    assert stock_of(catalog["mug"]) == 8
    assert refunded_quantities(order) == [0]
    assert refund_standing(order) == (Decimal("5.00"), "partially_refunded")


def test_a_goodwill_refund_asking_to_restock_still_restores_nothing(client, store, catalog):
    order = paid_order(client, store, [(catalog["mug"], 2)])

    data = created(refund(client, order, {"amount": "5.00", "restock": True}))

    assert data["inventory_restored"] is False
    assert stock_of(catalog["mug"]) == 8


# --- rounding ------------------------------------------------------------------------------


def test_unit_by_unit_refunds_then_shipping_add_up_to_the_order_total(client, store, catalog):
    # Given 3 coasters (30.00) in Texas: 2.48 tax, which does not divide by 3, plus 5.99
    order = paid_order(client, store, [(catalog["coaster"], 3)], state="TX")
    assert (order["tax_amount"], order["total"]) == (2.48, 38.47)

    # When the coasters are refunded one at a time, then the shipping
    unit_refunds = [
        created(refund(client, order, {"line_items": [refund_line(order)]})) for _ in range(3)
    ]
    shipping = created(refund(client, order, {"refund_shipping": True}))

    # Then the tax shares are rounded so the refunds add up to the total to the cent
    assert [r["line_items"][0]["tax_amount"] for r in unit_refunds] == [0.83, 0.82, 0.83]
    assert [r["amount"] for r in unit_refunds] == [10.83, 10.82, 10.83]
    assert shipping["amount"] == 5.99
    amounts = [Decimal(str(r["amount"])) for r in [*unit_refunds, shipping]]
    assert sum(amounts) == Decimal("38.47")
    assert refund_standing(order) == (Decimal("38.47"), "refunded")
    assert stock_of(catalog["coaster"]) == 10


def test_tax_shares_of_several_lines_add_up_to_the_order_tax(client, store, catalog):
    # Given 3 × 9.99 and 1 × 4.99 in Texas: tax 2.88 allocated 2.47 and 0.41 to the lines
    cup = make_variant(store=store, price="9.99", stock=5)
    lid = make_variant(store=store, price="4.99", stock=5)
    order = paid_order(client, store, [(cup, 3), (lid, 1)], state="TX")
    assert (order["tax_amount"], order["total"]) == (2.88, 43.83)

    # When every unit is refunded on its own, then the shipping
    amounts = [
        created(refund(client, order, {"line_items": [refund_line(order, variant)]}))["amount"]
        for variant in (cup, cup, cup, lid)
    ]
    amounts.append(created(refund(client, order, {"refund_shipping": True}))["amount"])

    # Then the refunds are the order, to the cent
    assert amounts == [10.81, 10.82, 10.81, 5.40, 5.99]
    assert sum(Decimal(str(a)) for a in amounts) == Decimal("43.83")
    assert stored_order(order).payment_status == "refunded"


def test_the_preview_of_everything_left_is_exactly_what_remains_unpaid_back(client, store, catalog):
    # Given the Texas coasters with one unit already refunded
    order = paid_order(client, store, [(catalog["coaster"], 3)], state="TX")
    created(refund(client, order, {"line_items": [refund_line(order)]}))

    # When the rest is previewed with shipping, then refunded as previewed
    preview = calculate(client, order, {"refund_shipping": True}).json()["data"]
    rest = created(
        refund(
            client, order, {"line_items": [refund_line(order, quantity=2)], "refund_shipping": True}
        )
    )

    # Then the preview, the refund and what was left all agree
    assert preview["total"] == preview["refundable"] == rest["amount"] == 27.64
    assert stored_order(order).payment_status == "refunded"
