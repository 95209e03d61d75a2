"""Refunds: POST /orders/{id}/refund(s), GET /orders/{id}/refunds, the refund preview
(POST /orders/{id}/refunds/calculate), include=refunds, and the rules behind them.

Orders are created through the API from a real catalog and then marked paid, so line
items carry the tax shares order creation allocated to them.
"""

import re
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from orders.exceptions import InvalidParameters
from orders.ids import parse_public_id
from orders.models import LineItem, Order, Variant
from orders.models.store import API_KEY_LOOKUP_LENGTH
from refunds import services
from refunds.models import Refund, RefundLine
from tests.factories import (
    make_api_key,
    make_customer,
    make_order,
    make_shipping_method,
    make_tax_rate,
    make_variant,
)

pytestmark = pytest.mark.django_db

SEED_003_REFUND_KEYS = [
    "object",
    "id",
    "order_id",
    "amount",
    "reason",
    "status",
    "inventory_restored",
    "created_at",
]
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


# --- builders ------------------------------------------------------------------------------


@pytest.fixture
def catalog(store):
    """Seed 003's catalog: a 24.00 mug and a 10.00 coaster, standard shipping 5.99, free
    pickup, Oregon at 11 % and Texas at 8.25 % (a rate whose tax rarely divides evenly)."""
    make_shipping_method(store=store, code="standard", price="5.99")
    make_shipping_method(store=store, code="pickup", price="0.00", requires_shipping=False)
    make_tax_rate(store=store, country_code="US", province="OR", rate="0.11")
    make_tax_rate(store=store, country_code="US", province="TX", rate="0.0825")
    return {
        "mug": make_variant(store=store, price="24.00", stock=10, product_name="Ceramic Mug"),
        "coaster": make_variant(store=store, price="10.00", stock=10, product_name="Coaster"),
    }


def create_order(client, store, lines, *, shipping="standard", state="OR"):
    """POST /v1/orders for `lines` [(variant, quantity)]; the created order's JSON."""
    body = {
        "customer_id": make_customer(store=store).public_id,
        "line_items": [{"variant_id": v.public_id, "quantity": q} for v, q in lines],
        "shipping_address": {
            "line1": "123 Main St",
            "city": "Portland",
            "state": state,
            "postal_code": "97201",
            "country": "US",
        },
        "shipping_method": shipping,
    }
    response = client.post("/v1/orders", body, format="json")
    assert response.status_code == 201, response.content
    return response.json()["data"]


def paid_order(client, store, lines, **options):
    """An order created through the API and then marked paid (PATCH payment_status)."""
    order = create_order(client, store, lines, **options)
    response = client.patch(f"/v1/orders/{order['id']}", {"payment_status": "paid"}, format="json")
    assert response.status_code == 200, response.content
    return response.json()["data"]


def refund(client, order, body, *, path="refund", **headers):
    return client.post(f"/v1/orders/{order['id']}/{path}", body, format="json", **headers)


def calculate(client, order, body=None):
    return client.post(f"/v1/orders/{order['id']}/refunds/calculate", body or {}, format="json")


def item_id(order, variant=None) -> str:
    """The id of `order`'s line for `variant` (its only line when no variant is named)."""
    if variant is None:
        (only,) = order["items"]
        return only["id"]
    return next(i["id"] for i in order["items"] if i["variant_id"] == variant.public_id)


def line(order, variant=None, quantity=1) -> dict:
    return {"line_item_id": item_id(order, variant), "quantity": quantity}


def created(response) -> dict:
    assert response.status_code == 201, response.content
    return response.json()["data"]


def error_of(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert error["code"] == code
    assert error["message"]
    return error


def row(order) -> Order:
    return Order.objects.get(pk=parse_public_id(Order.PUBLIC_ID_PREFIX, order["id"]))


def stock_of(variant) -> int:
    return Variant.objects.get(pk=variant.pk).stock


def refunded_quantities(order) -> list[int]:
    items = LineItem.objects.filter(order=row(order)).order_by("created_at", "id")
    return list(items.values_list("refunded_quantity", flat=True))


def state(order) -> dict:
    """Everything a refund could touch, to check that a refusal or a preview changed nothing."""
    fresh = row(order)
    return {
        "order": (fresh.status, fresh.payment_status, fresh.refunded_amount, fresh.updated_at),
        "refunded_quantities": refunded_quantities(order),
        "stock": sorted(Variant.objects.values_list("sku", "stock")),
        "refunds": Refund.objects.count(),
        "refund_lines": RefundLine.objects.count(),
        "history": fresh.history.count(),
    }


def history(client, order) -> list[dict]:
    return client.get(f"/v1/orders/{order['id']}/status-history").json()["data"]


def client_with(key: str) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_X_API_KEY=key)
    return api


# --- seed 003 and the response shape -------------------------------------------------------


def test_seed_003_refund_of_one_damaged_mug_answers_like_the_seed(client, store, catalog):
    # Given seed 003's paid order: two 24.00 mugs, 5.28 tax (11 %), total 53.28
    order = paid_order(client, store, [(catalog["mug"], 2)], shipping="pickup")
    assert (order["subtotal"], order["tax_amount"], order["total"]) == (48.0, 5.28, 53.28)
    assert stock_of(catalog["mug"]) == 8

    # When seed 003's refund is posted: 24.00 for one mug
    response = refund(
        client,
        order,
        {
            "amount": 24.00,
            "reason": "Customer received damaged item",
            "line_items": [{"line_item_id": order["items"][0]["id"], "quantity": 1}],
        },
    )

    # Then the refund reads as in seed 003, followed by its lines
    data = created(response)
    assert [key for key in data if key in SEED_003_REFUND_KEYS] == SEED_003_REFUND_KEYS
    assert set(data) - set(SEED_003_REFUND_KEYS) == {
        "line_items",
        "shipping_amount",
        "currency",
        "created_by",
    }
    assert data["object"] == "refund"
    assert re.fullmatch(r"ref_[0-9a-f-]{36}", data["id"])
    assert data["order_id"] == order["id"]
    assert data["amount"] == 24.00
    assert b'"amount":24.00,' in response.content  # money keeps its two decimals
    assert data["reason"] == "Customer received damaged item"
    assert data["status"] == "processed"
    assert data["inventory_restored"] is True
    assert TIMESTAMP.match(data["created_at"])
    assert data["line_items"] == [
        {
            "line_item_id": order["items"][0]["id"],
            "quantity": 1,
            "amount": 24.00,
            "tax_amount": 2.64,
            "restocked": True,
        }
    ]
    assert (data["shipping_amount"], data["currency"]) == (0.0, "USD")
    # And the mug is back in stock, the order partially refunded
    assert stock_of(catalog["mug"]) == 9
    assert refunded_quantities(order) == [1]
    fresh = row(order)
    assert (fresh.refunded_amount, fresh.payment_status) == (
        Decimal("24.00"),
        "partially_refunded",
    )


def test_the_order_shows_the_refunded_amount_and_quantity(client, store, catalog):
    order = paid_order(client, store, [(catalog["mug"], 2)], shipping="pickup")
    created(refund(client, order, {"line_items": [line(order)]}))

    data = client.get(f"/v1/orders/{order['id']}").json()["data"]

    assert data["refunded_amount"] == 26.64
    assert data["payment_status"] == "partially_refunded"
    assert data["items"][0]["refunded_quantity"] == 1


def test_a_refund_changes_the_orders_etag(client, store, catalog):
    order = paid_order(client, store, [(catalog["mug"], 2)])
    before = client.get(f"/v1/orders/{order['id']}")["ETag"]

    created(refund(client, order, {"amount": "1.00"}))

    assert client.get(f"/v1/orders/{order['id']}")["ETag"] != before


def test_refund_and_refunds_are_the_same_route(client, store, catalog):
    order = paid_order(client, store, [(catalog["mug"], 2)], shipping="pickup")

    first = created(refund(client, order, {"amount": "1.00"}, path="refund"))
    second = created(refund(client, order, {"amount": "2.00"}, path="refunds/"))

    listed = client.get(f"/v1/orders/{order['id']}/refund").json()["data"]
    assert [r["id"] for r in listed] == [first["id"], second["id"]]


# --- the amount ----------------------------------------------------------------------------


def test_the_amount_defaults_to_the_lines_value_with_their_tax_share(client, store, catalog):
    # Given 2 mugs (48.00, tax 5.28) and a coaster (10.00, tax 1.10) shipped for 5.99
    order = paid_order(client, store, [(catalog["mug"], 2), (catalog["coaster"], 1)])
    assert (order["tax_amount"], order["total"]) == (6.38, 70.37)

    # When one mug and the coaster are refunded without an amount
    mug, coaster = catalog["mug"], catalog["coaster"]
    body = {"line_items": [line(order, mug), line(order, coaster)]}
    data = created(refund(client, order, body))

    # Then the refund is their price plus their tax, and no shipping
    assert data["amount"] == 37.74  # 24.00 + 2.64 + 10.00 + 1.10
    assert data["shipping_amount"] == 0.00
    assert {li["line_item_id"]: (li["amount"], li["tax_amount"]) for li in data["line_items"]} == {
        item_id(order, mug): (24.00, 2.64),
        item_id(order, coaster): (10.00, 1.10),
    }
    assert row(order).refunded_amount == Decimal("37.74")


def test_shipping_is_refunded_only_when_asked(client, store, catalog):
    order = paid_order(client, store, [(catalog["mug"], 1)])  # 24.00 + 2.64 tax + 5.99

    data = created(refund(client, order, {"line_items": [line(order)], "refund_shipping": True}))

    assert data["amount"] == 32.63
    assert data["shipping_amount"] == 5.99
    fresh = row(order)
    assert (fresh.refunded_amount, fresh.payment_status) == (Decimal("32.63"), "refunded")


def test_shipping_alone_is_refunded_once(client, store, catalog):
    # Given a paid order whose shipping was refunded on its own
    order = paid_order(client, store, [(catalog["mug"], 1)])
    data = created(refund(client, order, {"refund_shipping": True, "reason": "Late delivery"}))
    assert (data["amount"], data["shipping_amount"]) == (5.99, 5.99)
    assert (data["line_items"], data["inventory_restored"]) == ([], False)
    before = state(order)

    # When shipping is asked for again
    response = refund(client, order, {"refund_shipping": True})

    # Then it is refused with the figures in money, and nothing changed
    error = error_of(response, 422, "REFUND_EXCEEDS_BALANCE")
    assert error["details"] == {
        "requested": "0.00",
        "refundable": "26.64",
        "total": "32.63",
        "refunded": "5.99",
    }
    assert state(order) == before
    assert row(order).refunded_amount == Decimal("5.99")


def test_a_refund_worth_nothing_says_there_is_nothing_to_refund(client, store, catalog):
    # Given a paid order whose shipping was already refunded
    order = paid_order(client, store, [(catalog["mug"], 1)])
    created(refund(client, order, {"refund_shipping": True}))

    # When shipping alone is asked for again
    error = error_of(
        refund(client, order, {"refund_shipping": True}), 422, "REFUND_EXCEEDS_BALANCE"
    )

    # Then the message says there is nothing to refund (0.00 does not exceed 26.64)
    assert "nothing" in error["message"].lower()
    assert "is more than" not in error["message"]


def test_an_explicit_amount_with_lines_is_the_amount_refunded(client, store, catalog):
    order = paid_order(client, store, [(catalog["mug"], 2)])

    data = created(refund(client, order, {"amount": "20.00", "line_items": [line(order)]}))

    assert data["amount"] == 20.00
    assert data["line_items"][0]["quantity"] == 1
    assert refunded_quantities(order) == [1]
    assert row(order).refunded_amount == Decimal("20.00")


def test_a_goodwill_refund_of_an_amount_alone_restores_no_inventory(client, store, catalog):
    order = paid_order(client, store, [(catalog["mug"], 2)])

    data = created(refund(client, order, {"amount": "5.00", "reason": "Sorry for the wait"}))

    assert data["amount"] == 5.00
    assert data["inventory_restored"] is False
    assert data["line_items"] == []
    assert stock_of(catalog["mug"]) == 8
    assert refunded_quantities(order) == [0]
    fresh = row(order)
    assert (fresh.refunded_amount, fresh.payment_status) == (
        Decimal("5.00"),
        "partially_refunded",
    )


def test_a_goodwill_refund_asking_to_restock_still_restores_nothing(client, store, catalog):
    order = paid_order(client, store, [(catalog["mug"], 2)])

    data = created(refund(client, order, {"amount": "5.00", "restock": True}))

    assert data["inventory_restored"] is False
    assert stock_of(catalog["mug"]) == 8


def test_an_empty_refund_is_400_asking_for_lines_an_amount_or_shipping(client, store, catalog):
    order = paid_order(client, store, [(catalog["mug"], 1)])
    before = state(order)

    error = error_of(refund(client, order, {}), 400, "VALIDATION_ERROR")

    assert [d["field"] for d in error["details"]] == ["line_items"]
    assert state(order) == before


# --- restocking ----------------------------------------------------------------------------


def test_restock_false_refunds_the_lines_but_leaves_the_stock(client, store, catalog):
    order = paid_order(client, store, [(catalog["mug"], 2)])

    data = created(refund(client, order, {"line_items": [line(order)], "restock": False}))

    assert data["inventory_restored"] is False
    assert data["line_items"][0]["restocked"] is False
    assert stock_of(catalog["mug"]) == 8
    assert refunded_quantities(order) == [1]


def test_only_tracked_variants_are_restocked(client, store, catalog):
    # Given an order of a tracked mug and an untracked gift card
    gift_card = make_variant(store=store, price="10.00", stock=0, track_inventory=False)
    order = paid_order(client, store, [(catalog["mug"], 1), (gift_card, 1)])

    # When the gift card alone is refunded, then nothing goes back in stock
    data = created(refund(client, order, {"line_items": [line(order, gift_card)]}))
    assert data["inventory_restored"] is False
    assert data["line_items"][0]["restocked"] is False
    assert stock_of(gift_card) == 0

    # When the mug is refunded, then its unit goes back
    data = created(refund(client, order, {"line_items": [line(order, catalog["mug"])]}))
    assert data["inventory_restored"] is True
    assert stock_of(catalog["mug"]) == 10


# --- what was paid and what was bought -----------------------------------------------------


def test_a_refund_above_what_is_left_is_422_with_the_refundable_figures(client, store, catalog):
    # Given a 32.63 order with 10.00 already refunded
    order = paid_order(client, store, [(catalog["mug"], 1)])
    created(refund(client, order, {"amount": "10.00"}))
    before = state(order)

    # When 22.64 (a cent more than is left) is asked for
    response = refund(client, order, {"amount": "22.64", "line_items": [line(order)]})

    # Then it is refused with the figures, and nothing changed (no restock either)
    error = error_of(response, 422, "REFUND_EXCEEDS_BALANCE")
    assert error["details"] == {
        "requested": "22.64",
        "refundable": "22.63",
        "total": "32.63",
        "refunded": "10.00",
    }
    assert state(order) == before


def test_refunding_exactly_what_is_left_makes_the_order_refunded(client, store, catalog):
    order = paid_order(client, store, [(catalog["mug"], 1)])
    created(refund(client, order, {"amount": "10.00"}))

    created(refund(client, order, {"amount": "22.63"}))

    fresh = row(order)
    assert (fresh.refunded_amount, fresh.payment_status) == (Decimal("32.63"), "refunded")
    error = error_of(refund(client, order, {"amount": "0.01"}), 422, "ORDER_NOT_REFUNDABLE")
    assert error["details"] == {"status": "pending", "payment_status": "refunded"}


def test_line_quantity_limits_hold_across_several_refunds(client, store, catalog):
    # Given a paid order of 3 mugs
    order = paid_order(client, store, [(catalog["mug"], 3)])
    line_id = order["items"][0]["id"]

    # When 2 are refunded, then 2 more, then 1, then 1 more
    first = refund(client, order, {"line_items": [line(order, quantity=2)]})
    second = refund(client, order, {"line_items": [line(order, quantity=2)]})
    third = refund(client, order, {"line_items": [line(order, quantity=1)]})
    fourth = refund(client, order, {"line_items": [line(order, quantity=1)]})

    # Then only what was bought is ever refunded, and each refusal says what is left
    created(first)
    assert error_of(second, 422, "REFUND_EXCEEDS_QUANTITY")["details"] == [
        {"line_item_id": line_id, "requested": 2, "refundable_quantity": 1}
    ]
    created(third)
    assert error_of(fourth, 422, "REFUND_EXCEEDS_QUANTITY")["details"] == [
        {"line_item_id": line_id, "requested": 1, "refundable_quantity": 0}
    ]
    assert refunded_quantities(order) == [3]
    assert stock_of(catalog["mug"]) == 10
    assert Refund.objects.filter(order=row(order)).count() == 2


@pytest.mark.parametrize("path", ["refund", "refunds/calculate"])
def test_a_quantity_no_line_could_hold_is_a_validation_error_not_a_500(
    client, store, catalog, path
):
    # Pricing 10^30 units would overflow the decimal arithmetic: the input is refused first.
    order = paid_order(client, store, [(catalog["mug"], 3)])
    before = state(order)

    response = client.post(
        f"/v1/orders/{order['id']}/{path}",
        {"line_items": [line(order, quantity=10**30)]},
        format="json",
    )

    error = error_of(response, 400, "VALIDATION_ERROR")
    assert [detail["field"] for detail in error["details"]] == ["line_items[0].quantity"]
    assert state(order) == before


def test_one_line_named_twice_in_a_request_counts_both(client, store, catalog):
    order = paid_order(client, store, [(catalog["mug"], 3)])
    before = state(order)

    response = refund(
        client, order, {"line_items": [line(order, quantity=2), line(order, quantity=2)]}
    )

    error = error_of(response, 422, "REFUND_EXCEEDS_QUANTITY")
    assert error["details"] == [
        {"line_item_id": order["items"][0]["id"], "requested": 4, "refundable_quantity": 3}
    ]
    assert state(order) == before


def test_only_the_lines_over_their_quantity_are_named(client, store, catalog):
    order = paid_order(client, store, [(catalog["mug"], 1), (catalog["coaster"], 2)])
    before = state(order)

    mug, coaster = catalog["mug"], catalog["coaster"]
    body = {"line_items": [line(order, mug, quantity=1), line(order, coaster, quantity=3)]}

    response = refund(client, order, body)

    error = error_of(response, 422, "REFUND_EXCEEDS_QUANTITY")
    assert error["details"] == [
        {"line_item_id": item_id(order, coaster), "requested": 3, "refundable_quantity": 2}
    ]
    assert state(order) == before


# --- which orders can be refunded ----------------------------------------------------------


def _unpaid(client, store, catalog):
    return create_order(client, store, [(catalog["mug"], 2)])


def _voided(client, store, catalog):
    order = _unpaid(client, store, catalog)
    response = client.post(f"/v1/orders/{order['id']}/void", {}, format="json")
    assert response.status_code == 200, response.content
    return response.json()["data"]


def _cancelled(client, store, catalog):
    order = _unpaid(client, store, catalog)
    response = client.patch(f"/v1/orders/{order['id']}", {"status": "cancelled"}, format="json")
    assert response.status_code == 200, response.content
    return response.json()["data"]


def _failed(client, store, catalog):
    order = _unpaid(client, store, catalog)
    response = client.patch(
        f"/v1/orders/{order['id']}", {"payment_status": "failed"}, format="json"
    )
    assert response.status_code == 200, response.content
    return response.json()["data"]


def _refunded(client, store, catalog):
    order = paid_order(client, store, [(catalog["mug"], 2)])
    created(
        refund(client, order, {"line_items": [line(order, quantity=2)], "refund_shipping": True})
    )
    return client.get(f"/v1/orders/{order['id']}").json()["data"]


@pytest.mark.parametrize(
    ("build", "status", "payment_status"),
    [
        (_unpaid, "pending", "pending"),
        (_failed, "pending", "failed"),
        (_voided, "voided", "voided"),
        (_cancelled, "cancelled", "pending"),
        (_refunded, "pending", "refunded"),
    ],
    ids=["unpaid", "payment-failed", "voided", "cancelled", "fully-refunded"],
)
def test_an_order_not_paid_is_422_order_not_refundable_and_nothing_changes(
    client, store, catalog, build, status, payment_status
):
    # Given an order whose payment is not (or no longer) held
    order = build(client, store, catalog)
    before = state(order)

    # When a refund of one of its lines is asked for
    response = refund(client, order, {"line_items": [line(order)], "amount": "1.00"})

    # Then it is refused, saying why, and nothing changed
    error = error_of(response, 422, "ORDER_NOT_REFUNDABLE")
    assert error["details"] == {"status": status, "payment_status": payment_status}
    assert "paid or partially refunded" in error["message"]
    assert state(order) == before


def test_refusing_an_unpaid_order_suggests_voiding_it(client, store, catalog):
    order = _unpaid(client, store, catalog)

    error = error_of(refund(client, order, {"amount": "1.00"}), 422, "ORDER_NOT_REFUNDABLE")

    assert "Void" in error["message"]


@pytest.mark.parametrize("status", ["shipped", "delivered", "completed", "returned"])
def test_a_paid_order_is_refundable_whatever_its_fulfillment_status(client, store, status):
    order = make_order(store=store, status=status, payment_status="paid", unit_price="30.00")

    response = client.post(
        f"/v1/orders/{order.public_id}/refund", {"amount": "30.00"}, format="json"
    )

    assert response.status_code == 201, response.content
    order.refresh_from_db()
    assert (order.status, order.payment_status) == (status, "refunded")


# --- rounding ------------------------------------------------------------------------------


def test_unit_by_unit_refunds_then_shipping_add_up_to_the_order_total(client, store, catalog):
    # Given 3 coasters (30.00) in Texas: 2.48 tax, which does not divide by 3, plus 5.99
    order = paid_order(client, store, [(catalog["coaster"], 3)], state="TX")
    assert (order["tax_amount"], order["total"]) == (2.48, 38.47)

    # When the coasters are refunded one at a time, then the shipping
    unit_refunds = [created(refund(client, order, {"line_items": [line(order)]})) for _ in range(3)]
    shipping = created(refund(client, order, {"refund_shipping": True}))

    # Then the tax shares are rounded so the refunds add up to the total to the cent
    assert [r["line_items"][0]["tax_amount"] for r in unit_refunds] == [0.83, 0.82, 0.83]
    assert [r["amount"] for r in unit_refunds] == [10.83, 10.82, 10.83]
    assert shipping["amount"] == 5.99
    amounts = [Decimal(str(r["amount"])) for r in [*unit_refunds, shipping]]
    assert sum(amounts) == Decimal("38.47")
    fresh = row(order)
    assert (fresh.refunded_amount, fresh.payment_status) == (Decimal("38.47"), "refunded")
    assert stock_of(catalog["coaster"]) == 10


def test_tax_shares_of_several_lines_add_up_to_the_order_tax(client, store, catalog):
    # Given 3 × 9.99 and 1 × 4.99 in Texas: tax 2.88 allocated 2.47 and 0.41 to the lines
    cup = make_variant(store=store, price="9.99", stock=5)
    lid = make_variant(store=store, price="4.99", stock=5)
    order = paid_order(client, store, [(cup, 3), (lid, 1)], state="TX")
    assert (order["tax_amount"], order["total"]) == (2.88, 43.83)

    # When every unit is refunded on its own, then the shipping
    amounts = [
        created(refund(client, order, {"line_items": [line(order, variant)]}))["amount"]
        for variant in (cup, cup, cup, lid)
    ]
    amounts.append(created(refund(client, order, {"refund_shipping": True}))["amount"])

    # Then the refunds are the order, to the cent
    assert amounts == [10.81, 10.82, 10.81, 5.40, 5.99]
    assert sum(Decimal(str(a)) for a in amounts) == Decimal("43.83")
    assert row(order).payment_status == "refunded"


def test_the_preview_of_everything_left_is_exactly_what_remains_unpaid_back(client, store, catalog):
    # Given the Texas coasters with one unit already refunded
    order = paid_order(client, store, [(catalog["coaster"], 3)], state="TX")
    created(refund(client, order, {"line_items": [line(order)]}))

    # When the rest is previewed with shipping, then refunded as previewed
    preview = calculate(client, order, {"refund_shipping": True}).json()["data"]
    rest = created(
        refund(client, order, {"line_items": [line(order, quantity=2)], "refund_shipping": True})
    )

    # Then the preview, the refund and what was left all agree
    assert preview["total"] == preview["refundable"] == rest["amount"] == 27.64
    assert row(order).payment_status == "refunded"


# --- the refund preview --------------------------------------------------------------------


def test_the_preview_of_an_untouched_order_lists_everything_refundable(client, store, catalog):
    order = paid_order(client, store, [(catalog["mug"], 2), (catalog["coaster"], 1)])

    response = calculate(client, order)

    assert response.status_code == 200, response.content
    data = response.json()["data"]
    data["line_items"].sort(key=lambda quoted: quoted["product_name"])  # lines of one instant
    assert data == {
        "object": "refund_quote",
        "line_items": [
            {
                "line_item_id": item_id(order, catalog["mug"]),
                "sku": catalog["mug"].sku,
                "product_name": "Ceramic Mug",
                "quantity": 2,
                "refundable_quantity": 2,
                "amount": 48.00,
                "tax_amount": 5.28,
                "total": 53.28,
            },
            {
                "line_item_id": item_id(order, catalog["coaster"]),
                "sku": catalog["coaster"].sku,
                "product_name": "Coaster",
                "quantity": 1,
                "refundable_quantity": 1,
                "amount": 10.00,
                "tax_amount": 1.10,
                "total": 11.10,
            },
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
            client, order, {"line_items": [line(order, catalog["mug"])], "refund_shipping": True}
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
    created(refund(client, order, {"line_items": [line(order, catalog["mug"])]}))

    data = calculate(client, order).json()["data"]

    assert [li["line_item_id"] for li in data["line_items"]] == [item_id(order, catalog["coaster"])]


def test_the_preview_of_given_lines_is_what_the_refund_then_gives_back(client, store, catalog):
    order = paid_order(client, store, [(catalog["coaster"], 3)], state="TX")
    body = {"line_items": [line(order, quantity=2)], "refund_shipping": True}

    preview = calculate(client, order, body).json()["data"]
    made = created(refund(client, order, body))

    assert preview["line_items"][0]["quantity"] == 2
    assert preview["line_items"][0]["tax_amount"] == made["line_items"][0]["tax_amount"] == 1.65
    assert preview["total"] == made["amount"] == 27.64  # 20.00 + 1.65 + 5.99


def test_the_preview_reports_more_than_is_left_without_refusing(client, store, catalog):
    order = paid_order(client, store, [(catalog["mug"], 2)])
    created(refund(client, order, {"line_items": [line(order)]}))

    response = calculate(client, order, {"line_items": [line(order, quantity=2)]})

    assert response.status_code == 200, response.content
    quoted = response.json()["data"]["line_items"][0]
    assert (quoted["quantity"], quoted["refundable_quantity"]) == (2, 1)


def test_the_preview_changes_nothing(client, store, catalog):
    order = paid_order(client, store, [(catalog["mug"], 2), (catalog["coaster"], 1)])
    created(refund(client, order, {"line_items": [line(order, catalog["mug"])]}))
    before = state(order)

    for body in ({}, {"refund_shipping": True}, {"line_items": [line(order, catalog["coaster"])]}):
        assert calculate(client, order, body).status_code == 200

    assert state(order) == before


@pytest.mark.parametrize(
    "build", [_unpaid, _voided, _cancelled], ids=["unpaid", "voided", "cancelled"]
)
def test_the_preview_of_an_order_not_paid_has_nothing_refundable(client, store, catalog, build):
    # Given an order that was never paid
    order = build(client, store, catalog)

    # When its refund is previewed
    response = calculate(client, order, {"refund_shipping": True})

    # Then the most any refund may give back now is nothing, as a refund would be refused
    assert response.status_code == 200, response.content
    assert response.json()["data"]["refundable"] == 0.00


def test_the_preview_of_an_unknown_line_is_400_naming_it(client, store, catalog):
    order = paid_order(client, store, [(catalog["mug"], 1)])
    unknown = "li_00000000-0000-7000-8000-000000000000"

    response = calculate(client, order, {"line_items": [{"line_item_id": unknown, "quantity": 1}]})

    error = error_of(response, 400, "VALIDATION_ERROR")
    assert [d["field"] for d in error["details"]] == ["line_items[0].line_item_id"]


# --- Idempotency-Key -----------------------------------------------------------------------


def test_a_refund_retried_with_its_idempotency_key_replays_the_bytes_and_refunds_once(
    client, store, catalog
):
    order = paid_order(client, store, [(catalog["mug"], 2)])
    body = {"line_items": [line(order)], "reason": "Damaged"}

    first = refund(client, order, body, HTTP_IDEMPOTENCY_KEY="refund-77")
    retry = refund(client, order, body, HTTP_IDEMPOTENCY_KEY="refund-77")

    assert first.status_code == retry.status_code == 201
    assert retry.content == first.content
    assert retry["Idempotent-Replayed"] == "true"
    assert Refund.objects.filter(order=row(order)).count() == 1
    assert row(order).refunded_amount == Decimal("26.64")
    assert refunded_quantities(order) == [1]
    assert stock_of(catalog["mug"]) == 9


def test_a_new_idempotency_key_makes_a_new_refund(client, store, catalog):
    order = paid_order(client, store, [(catalog["mug"], 2)])
    body = {"line_items": [line(order)]}

    created(refund(client, order, body, HTTP_IDEMPOTENCY_KEY="refund-1"))
    created(refund(client, order, body, HTTP_IDEMPOTENCY_KEY="refund-2"))

    assert refunded_quantities(order) == [2]


def test_a_refused_refund_does_not_keep_its_idempotency_key(client, store, catalog):
    # Given a refund refused for asking more than was bought
    order = paid_order(client, store, [(catalog["mug"], 2)])
    too_many = {"line_items": [line(order, quantity=3)]}
    error_of(
        refund(client, order, too_many, HTTP_IDEMPOTENCY_KEY="k"), 422, "REFUND_EXCEEDS_QUANTITY"
    )

    # When the same request is retried, then it is refused again, not replayed
    retried = refund(client, order, too_many, HTTP_IDEMPOTENCY_KEY="k")
    error_of(retried, 422, "REFUND_EXCEEDS_QUANTITY")
    assert "Idempotent-Replayed" not in retried
    assert Refund.objects.count() == 0


# --- listing and include=refunds -----------------------------------------------------------


def test_an_orders_refunds_are_listed_oldest_first(client, store, catalog):
    order = paid_order(client, store, [(catalog["mug"], 2), (catalog["coaster"], 1)])
    made = [
        created(refund(client, order, body))
        for body in (
            {"amount": "3.00", "reason": "Goodwill"},
            {"line_items": [line(order, catalog["coaster"])], "reason": "Coaster chipped"},
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
        created(refund(client, order, {"line_items": [line(order)]}))
        created(refund(client, order, {"amount": "1.00"}))

    refunded_order()
    one = queries_to_list()
    for _ in range(4):
        refunded_order()

    assert queries_to_list() == one


# --- status history ------------------------------------------------------------------------


def test_a_refund_is_recorded_in_the_status_history_with_its_reason(
    client, api_key, store, catalog
):
    order = paid_order(client, store, [(catalog["mug"], 2)])
    actor = f"api_key_{api_key[:API_KEY_LOOKUP_LENGTH]}"

    created(refund(client, order, {"line_items": [line(order)], "reason": "Damaged"}))
    created(refund(client, order, {"line_items": [line(order)], "refund_shipping": True}))

    trail = history(client, order)
    partial, full = trail[-2], trail[-1]
    assert {k: partial[k] for k in partial if k != "created_at"} == {
        "object": "status_change",
        "from_status": "pending",
        "to_status": "pending",
        "from_payment_status": "paid",
        "to_payment_status": "partially_refunded",
        "changed_by": actor,
        "reason": "Damaged",
    }
    assert (full["from_payment_status"], full["to_payment_status"]) == (
        "partially_refunded",
        "refunded",
    )
    assert (full["changed_by"], full["reason"]) == (actor, "Refund of 32.63")


# --- scopes --------------------------------------------------------------------------------


def test_a_write_orders_key_cannot_refund(client, store, catalog):
    order = paid_order(client, store, [(catalog["mug"], 1)])
    writer = client_with(make_api_key(store=store, scopes=["read:orders", "write:orders"]))
    before = state(order)

    response = refund(writer, order, {"amount": "1.00"})

    error = error_of(response, 403, "INSUFFICIENT_SCOPE")
    assert "write:refunds" in error["message"]
    assert error["details"] == {"required_scope": "write:refunds"}
    assert state(order) == before


def test_a_write_orders_only_key_cannot_refund_either(client, store, catalog):
    order = paid_order(client, store, [(catalog["mug"], 1)])
    writer = client_with(make_api_key(store=store, scopes=["write:orders"]))

    error = error_of(refund(writer, order, {"amount": "1.00"}), 403, "INSUFFICIENT_SCOPE")

    assert error["details"] == {"required_scope": "write:refunds"}
    assert Refund.objects.count() == 0


def test_a_read_orders_key_lists_and_previews_but_cannot_refund(client, store, catalog):
    order = paid_order(client, store, [(catalog["mug"], 1)])
    made = created(refund(client, order, {"amount": "1.00"}))
    reader = client_with(make_api_key(store=store, scopes=["read:orders"]))

    listed = reader.get(f"/v1/orders/{order['id']}/refunds")
    previewed = calculate(reader, order)
    refused = refund(reader, order, {"amount": "1.00"})

    assert listed.status_code == 200
    assert listed.json()["data"] == [made]
    assert previewed.status_code == 200
    assert previewed.json()["data"]["refundable"] == 31.63
    assert error_of(refused, 403, "INSUFFICIENT_SCOPE")["details"] == {
        "required_scope": "write:refunds"
    }


def test_a_write_refunds_key_refunds(client, store, catalog):
    order = paid_order(client, store, [(catalog["mug"], 1)])
    refunder = client_with(make_api_key(store=store, scopes=["write:refunds"]))

    assert refund(refunder, order, {"amount": "1.00"}).status_code == 201


def test_a_write_refunds_only_key_cannot_read_the_refunds(client, store, catalog):
    order = paid_order(client, store, [(catalog["mug"], 1)])
    refunder = client_with(make_api_key(store=store, scopes=["write:refunds"]))

    listed = refunder.get(f"/v1/orders/{order['id']}/refunds")
    previewed = calculate(refunder, order)

    assert error_of(listed, 403, "INSUFFICIENT_SCOPE")["details"] == {
        "required_scope": "read:orders"
    }
    assert error_of(previewed, 403, "INSUFFICIENT_SCOPE")["details"] == {
        "required_scope": "read:orders"
    }


# --- bad input -----------------------------------------------------------------------------


def test_a_line_not_on_the_order_is_400_naming_it(client, store, catalog, other_store):
    # Given a paid order, another order of the store, and an order of another store
    order = paid_order(client, store, [(catalog["mug"], 1)])
    sibling = create_order(client, store, [(catalog["coaster"], 1)])
    foreign = make_order(store=other_store, payment_status="paid")
    foreign_line = foreign.items.get().public_id
    before = state(order)

    for line_item_id in (
        "li_00000000-0000-7000-8000-000000000000",  # never existed
        sibling["items"][0]["id"],
        foreign_line,
        "li_nope",  # not an id at all
    ):
        # When a refund names it
        body = {"line_items": [{"line_item_id": line_item_id, "quantity": 1}]}
        error = error_of(refund(client, order, body), 400, "VALIDATION_ERROR")

        # Then the error names the field, and nothing changed
        assert [d["field"] for d in error["details"]] == ["line_items[0].line_item_id"]
        assert state(order) == before


def test_the_second_bad_line_is_named_by_its_position(client, store, catalog):
    order = paid_order(client, store, [(catalog["mug"], 1)])
    unknown = {"line_item_id": "li_00000000-0000-7000-8000-000000000000", "quantity": 1}

    response = refund(client, order, {"line_items": [line(order), unknown]})

    error = error_of(response, 400, "VALIDATION_ERROR")
    assert [d["field"] for d in error["details"]] == ["line_items[1].line_item_id"]
    assert refunded_quantities(order) == [0]


@pytest.mark.parametrize("quantity", [0, -1])
def test_a_quantity_below_one_is_400(client, store, catalog, quantity):
    order = paid_order(client, store, [(catalog["mug"], 2)])
    before = state(order)

    response = refund(client, order, {"line_items": [line(order, quantity=quantity)]})

    error = error_of(response, 400, "VALIDATION_ERROR")
    assert [d["field"] for d in error["details"]] == ["line_items[0].quantity"]
    assert state(order) == before


@pytest.mark.parametrize("amount", ["0", "0.00", "-5.00", "1.001", "ten"])
def test_an_amount_that_is_not_a_positive_sum_of_cents_is_400(client, store, catalog, amount):
    order = paid_order(client, store, [(catalog["mug"], 2)])
    before = state(order)

    response = refund(client, order, {"amount": amount})

    error = error_of(response, 400, "VALIDATION_ERROR")
    assert [d["field"] for d in error["details"]] == ["amount"]
    assert state(order) == before


def test_an_unknown_field_is_400(client, store, catalog):
    order = paid_order(client, store, [(catalog["mug"], 2)])

    response = refund(client, order, {"amount": "1.00", "refund_tax": True})

    error = error_of(response, 400, "VALIDATION_ERROR")
    assert [d["field"] for d in error["details"]] == ["refund_tax"]
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


# --- the services and the database's last defence ------------------------------------------


def test_refund_create_without_lines_amount_or_shipping_raises(store):
    order = make_order(store=store, payment_status="paid")

    with pytest.raises(InvalidParameters):
        services.refund_create(store=store, order=order, actor="system")

    assert Refund.objects.count() == 0


@pytest.mark.parametrize("amount", [Decimal("0"), Decimal("-1.00")])
def test_refund_create_refuses_an_amount_below_a_cent(store, amount):
    order = make_order(store=store, payment_status="paid")

    with pytest.raises(InvalidParameters):
        services.refund_create(store=store, order=order, actor="system", amount=amount)

    order.refresh_from_db()
    assert order.refunded_amount == Decimal("0.00")


def test_refund_create_rounds_an_amount_to_the_cent_half_up(store):
    order = make_order(store=store, payment_status="paid", unit_price="10.00")

    made = services.refund_create(
        store=store, order=order, actor="staff_jane", amount=Decimal("2.005")
    )

    assert made.amount == Decimal("2.01")
    assert made.created_by == "staff_jane"
    order.refresh_from_db()
    assert order.refunded_amount == Decimal("2.01")


def test_refund_quote_without_lines_quotes_everything_left(store):
    order = make_order(store=store, payment_status="paid", items=3, unit_price="5.00")

    quote = services.refund_quote(store=store, order=order, lines=None)

    assert [line.quantity for line in quote.lines] == [1, 1, 1]
    assert (quote.subtotal, quote.tax, quote.total, quote.balance) == (
        Decimal("15.00"),
        Decimal("0.00"),
        Decimal("15.00"),
        Decimal("15.00"),
    )


def test_the_database_refuses_a_refunded_amount_above_the_total(store):
    order = make_order(store=store, payment_status="paid", unit_price="10.00")

    with pytest.raises(IntegrityError), transaction.atomic():
        Order.objects.filter(pk=order.pk).update(refunded_amount=F("total") + Decimal("0.01"))

    order.refresh_from_db()
    assert order.refunded_amount == Decimal("0.00")


def test_the_database_refuses_refunding_more_units_than_were_bought(store):
    order = make_order(store=store, payment_status="paid")

    with pytest.raises(IntegrityError), transaction.atomic():
        LineItem.objects.filter(order=order).update(refunded_quantity=F("quantity") + 1)


def test_the_database_refuses_a_refund_of_nothing(store):
    order = make_order(store=store, payment_status="paid")

    with pytest.raises(IntegrityError), transaction.atomic():
        Refund.objects.create(store=store, order=order, amount=Decimal("0.00"), created_by="x")
