"""POST /orders/{id}/refund: the refund as seed 003 shows it, what it does to the order (the
amount refunded, the payment status, the ETag, the status history), which units go back in
stock, and Idempotency-Key.

Orders are created through the API from a real catalog (tests/refunds/conftest.py) and then
marked paid, so line items carry the tax shares order creation allocated to them.
"""

import re
from decimal import Decimal

import pytest

from orders.models.store import API_KEY_LOOKUP_LENGTH
from refunds.models import Refund
from tests.factories import make_order, make_variant
from tests.helpers import (
    assert_error,
    created,
    paid_order,
    refund,
    refund_line,
    refund_standing,
    refunded_quantities,
    status_history,
    stock_of,
    stored_order,
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
    assert refund_standing(order) == (Decimal("24.00"), "partially_refunded")


def test_the_order_shows_the_refunded_amount_and_quantity(client, store, catalog):
    order = paid_order(client, store, [(catalog["mug"], 2)], shipping="pickup")
    created(refund(client, order, {"line_items": [refund_line(order)]}))

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

    listed = client.get(f"/v1/orders/{order['id']}/refunds").json()["data"]
    assert [r["id"] for r in listed] == [first["id"], second["id"]]


def test_the_refund_alias_only_creates(client, store):
    """POST …/refund is the seeds' spelling of POST …/refunds; listing is …/refunds only, as
    the document says (an Allow header naming GET there would contradict it)."""
    order = make_order(store=store, payment_status="paid")

    response = client.get(f"/v1/orders/{order.public_id}/refund")

    assert response.status_code == 405
    assert response.json()["error"]["code"] == "METHOD_NOT_ALLOWED"
    assert "GET" not in response["Allow"]
    assert "POST" in response["Allow"]


@pytest.mark.parametrize("status", ["shipped", "delivered", "completed", "returned"])
def test_a_paid_order_is_refundable_whatever_its_fulfillment_status(client, store, status):
    order = make_order(store=store, status=status, payment_status="paid", unit_price="30.00")

    response = client.post(
        f"/v1/orders/{order.public_id}/refund", {"amount": "30.00"}, format="json"
    )

    assert response.status_code == 201, response.content
    order.refresh_from_db()
    assert (order.status, order.payment_status) == (status, "refunded")


# --- restocking ----------------------------------------------------------------------------


def test_restock_false_refunds_the_lines_but_leaves_the_stock(client, store, catalog):
    order = paid_order(client, store, [(catalog["mug"], 2)])

    data = created(refund(client, order, {"line_items": [refund_line(order)], "restock": False}))

    assert data["inventory_restored"] is False
    assert data["line_items"][0]["restocked"] is False
    assert stock_of(catalog["mug"]) == 8
    assert refunded_quantities(order) == [1]


def test_only_tracked_variants_are_restocked(client, store, catalog):
    # Given an order of a tracked mug and an untracked gift card
    gift_card = make_variant(store=store, price="10.00", stock=0, track_inventory=False)
    order = paid_order(client, store, [(catalog["mug"], 1), (gift_card, 1)])

    # When the gift card alone is refunded, then nothing goes back in stock
    data = created(refund(client, order, {"line_items": [refund_line(order, gift_card)]}))
    assert data["inventory_restored"] is False
    assert data["line_items"][0]["restocked"] is False
    assert stock_of(gift_card) == 0

    # When the mug is refunded, then its unit goes back
    data = created(refund(client, order, {"line_items": [refund_line(order, catalog["mug"])]}))
    assert data["inventory_restored"] is True
    assert stock_of(catalog["mug"]) == 10


# --- status history ------------------------------------------------------------------------


def test_a_refund_is_recorded_in_the_status_history_with_its_reason(
    client, api_key, store, catalog
):
    order = paid_order(client, store, [(catalog["mug"], 2)])
    actor = f"api_key_{api_key[:API_KEY_LOOKUP_LENGTH]}"

    created(refund(client, order, {"line_items": [refund_line(order)], "reason": "Damaged"}))
    created(refund(client, order, {"line_items": [refund_line(order)], "refund_shipping": True}))

    trail = status_history(client, order)
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


# --- Idempotency-Key -----------------------------------------------------------------------


def test_a_refund_retried_with_its_idempotency_key_replays_the_bytes_and_refunds_once(
    client, store, catalog
):
    order = paid_order(client, store, [(catalog["mug"], 2)])
    body = {"line_items": [refund_line(order)], "reason": "Damaged"}

    first = refund(client, order, body, HTTP_IDEMPOTENCY_KEY="refund-77")
    retry = refund(client, order, body, HTTP_IDEMPOTENCY_KEY="refund-77")

    assert first.status_code == retry.status_code == 201
    assert retry.content == first.content
    assert retry["Idempotent-Replayed"] == "true"
    assert Refund.objects.filter(order=stored_order(order)).count() == 1
    assert stored_order(order).refunded_amount == Decimal("26.64")
    assert refunded_quantities(order) == [1]
    assert stock_of(catalog["mug"]) == 9


def test_a_new_idempotency_key_makes_a_new_refund(client, store, catalog):
    order = paid_order(client, store, [(catalog["mug"], 2)])
    body = {"line_items": [refund_line(order)]}

    created(refund(client, order, body, HTTP_IDEMPOTENCY_KEY="refund-1"))
    created(refund(client, order, body, HTTP_IDEMPOTENCY_KEY="refund-2"))

    assert refunded_quantities(order) == [2]


def test_a_refused_refund_does_not_keep_its_idempotency_key(client, store, catalog):
    # Given a refund refused for asking more than was bought
    order = paid_order(client, store, [(catalog["mug"], 2)])
    too_many = {"line_items": [refund_line(order, quantity=3)]}
    assert_error(
        refund(client, order, too_many, HTTP_IDEMPOTENCY_KEY="k"), 422, "REFUND_EXCEEDS_QUANTITY"
    )

    # When the same request is retried, then it is refused again, not replayed
    retried = refund(client, order, too_many, HTTP_IDEMPOTENCY_KEY="k")
    assert_error(retried, 422, "REFUND_EXCEEDS_QUANTITY")
    assert "Idempotent-Replayed" not in retried
    assert Refund.objects.count() == 0
