"""Refunds under real concurrent requests: never more than was paid, never more units than
were bought, stock restored exactly once per successful refund, no deadlocks.

PostgreSQL only: each thread holds its own connection, so the order row lock taken by
refund_create (and the CHECK behind it) is what keeps the figures right.
"""

from collections import Counter
from decimal import Decimal

import pytest
from django.db.models import Sum

from orders.models import LineItem
from refunds.models import Refund, RefundLine
from tests.concurrency import ROUNDS, requires_postgresql, run_concurrently
from tests.factories import make_api_key, make_shipping_method, make_tax_rate, make_variant
from tests.helpers import (
    api_client,
    item_id,
    order_body,
    paid_order,
    refund,
    refund_line,
    stock_of,
    stored_order,
)

pytestmark = [requires_postgresql, pytest.mark.django_db(transaction=True)]

REFUSALS = {"REFUND_EXCEEDS_BALANCE", "REFUND_EXCEEDS_QUANTITY", "ORDER_NOT_REFUNDABLE"}


@pytest.fixture
def raw_key(store):
    """A full-scope key of a store selling with free pickup, standard shipping at 5.99 and
    Texas tax at 8.25 % (no tax elsewhere)."""
    make_shipping_method(store=store, code="pickup", price="0.00", requires_shipping=False)
    make_shipping_method(store=store, code="standard", price="5.99")
    make_tax_rate(store=store, country_code="US", province="TX", rate="0.0825")
    return make_api_key(store=store)


def _paid_order(raw_key, store, lines, *, shipping="pickup", **address) -> dict:
    """An order of `lines` [(variant, quantity)] created through the API, then marked paid."""
    return paid_order(api_client(raw_key), store, lines, shipping=shipping, **address)


def _refund(raw_key, order, body, **headers):
    def call():
        response = refund(api_client(raw_key), order, body, **headers)
        return response.status_code, response.content, response.json()

    return call


def _assert_clean_refusals(results, codes=REFUSALS) -> list[dict]:
    """Every request either made a refund (201) or was refused with a 422 error envelope."""
    assert {status for status, _, _ in results} <= {201, 422}
    errors = [data["error"] for status, _, data in results if status == 422]
    for error in errors:
        assert error["code"] in codes
        assert error["message"]
        assert error["request_id"]
    return errors


def test_16_parallel_refunds_of_30_on_a_100_order_never_refund_more_than_100(store, raw_key):
    for _ in range(ROUNDS):
        # Given a paid 100.00 order: 20 units at 5.00, all in stock
        variant = make_variant(store=store, price="5.00", stock=20)
        order = _paid_order(raw_key, store, [(variant, 20)])
        assert (order["total"], stock_of(variant)) == (100.00, 0)
        history_before = stored_order(order).history.count()
        body = {
            "line_items": [refund_line(order, variant)],
            "amount": "30.00",
            "reason": "Damaged in transit",
        }

        # When 16 clients each refund 30.00 (and one unit) at the same instant
        results = run_concurrently([_refund(raw_key, order, body) for _ in range(16)])

        # Then three refunds fit in the payment and every other request is a clean 422
        assert Counter(status for status, _, _ in results) == {201: 3, 422: 13}
        errors = _assert_clean_refusals(results, codes={"REFUND_EXCEEDS_BALANCE"})
        assert {(e["context"]["requested"], e["context"]["refundable"]) for e in errors} == {
            (30.00, 10.00)
        }
        fresh = stored_order(order)
        assert fresh.refunded_amount == Decimal("90.00") <= fresh.total
        assert fresh.payment_status == "partially_refunded"
        refunds = Refund.objects.filter(order=fresh)
        assert refunds.aggregate(total=Sum("amount"))["total"] == Decimal("90.00")
        # And stock came back once per refund that succeeded, and only for it
        assert stock_of(variant) == 3
        assert LineItem.objects.get(order=fresh).refunded_quantity == 3
        assert RefundLine.objects.filter(refund__order=fresh, restocked=True).count() == 3
        assert fresh.history.count() == history_before + 3


def test_parallel_refunds_of_one_line_never_exceed_its_quantity(store, raw_key):
    for _ in range(ROUNDS):
        # Given a paid order of 10 units at 10.00
        variant = make_variant(store=store, price="10.00", stock=10)
        order = _paid_order(raw_key, store, [(variant, 10)])
        line_item_id = item_id(order, variant)
        body = {"line_items": [{"line_item_id": line_item_id, "quantity": 3}]}

        # When 16 clients each refund 3 of them at once
        results = run_concurrently([_refund(raw_key, order, body) for _ in range(16)])

        # Then 9 units are refunded in three refunds of 30.00; the rest say 1 unit is left
        assert Counter(status for status, _, _ in results) == {201: 3, 422: 13}
        assert [data["data"]["amount"] for status, _, data in results if status == 201] == [
            30.0
        ] * 3
        errors = _assert_clean_refusals(results, codes={"REFUND_EXCEEDS_QUANTITY"})
        assert {e["context"]["lines"][0]["refundable_quantity"] for e in errors} == {1}
        assert {e["context"]["lines"][0]["line_item_id"] for e in errors} == {line_item_id}
        assert {e["details"][0]["field"] for e in errors} == {"line_items[0].quantity"}
        fresh = stored_order(order)
        assert (fresh.refunded_amount, fresh.payment_status) == (
            Decimal("90.00"),
            "partially_refunded",
        )
        assert LineItem.objects.get(order=fresh).refunded_quantity == 9
        assert stock_of(variant) == 9


def test_parallel_unit_and_shipping_refunds_add_up_to_the_order_total(store, raw_key):
    for _ in range(ROUNDS):
        # Given 3 coasters in Texas: 30.00 + 2.48 tax (not divisible by 3) + 5.99 shipping
        variant = make_variant(store=store, price="10.00", stock=3)
        order = _paid_order(raw_key, store, [(variant, 3)], shipping="standard", state="TX")
        assert order["total"] == 38.47
        unit = {"line_items": [refund_line(order, variant)]}

        # When 8 clients refund one coaster and 4 refund the shipping, all at once
        calls = [_refund(raw_key, order, unit) for _ in range(8)]
        calls += [_refund(raw_key, order, {"refund_shipping": True}) for _ in range(4)]
        results = run_concurrently(calls)

        # Then three unit refunds and one shipping refund went through, nothing more
        made = [data["data"] for status, _, data in results if status == 201]
        assert sorted(r["amount"] for r in made) == [5.99, 10.82, 10.83, 10.83]
        _assert_clean_refusals(results)
        # And they add up to the order total to the cent: the order is refunded
        fresh = stored_order(order)
        assert (fresh.refunded_amount, fresh.payment_status) == (Decimal("38.47"), "refunded")
        taxes = RefundLine.objects.filter(refund__order=fresh).values_list("tax_amount", flat=True)
        assert sorted(taxes) == [Decimal("0.82"), Decimal("0.83"), Decimal("0.83")]
        assert stock_of(variant) == 3


def test_16_parallel_refunds_with_one_idempotency_key_refund_once(store, raw_key):
    # Given a paid order of 4 units at 10.00
    variant = make_variant(store=store, price="10.00", stock=4)
    order = _paid_order(raw_key, store, [(variant, 4)])
    body = {"line_items": [refund_line(order, variant)]}
    send = _refund(raw_key, order, body, HTTP_IDEMPOTENCY_KEY="refund-sync-9")

    # When one client's retries of one refund race each other
    results = run_concurrently([send for _ in range(16)])

    # Then one refund was made; the others replayed it or were told the key is in use
    created = [content for status, content, _ in results if status == 201]
    in_use = [data for status, _, data in results if status == 409]
    assert len(created) + len(in_use) == 16
    assert len(set(created)) == 1
    assert {d["error"]["code"] for d in in_use} <= {"IDEMPOTENCY_KEY_IN_USE"}
    fresh = stored_order(order)
    assert Refund.objects.filter(order=fresh).count() == 1
    assert fresh.refunded_amount == Decimal("10.00")
    assert stock_of(variant) == 1
    status, replay, _ = send()
    assert (status, replay) == (201, created[0])


def test_refunds_of_orders_sharing_variants_run_beside_new_orders_without_deadlock(store, raw_key):
    # Given 8 paid orders, each of 2 mugs and 1 plate
    mug = make_variant(store=store, price="24.00", stock=100)
    plate = make_variant(store=store, price="12.00", stock=100)
    orders = [_paid_order(raw_key, store, [(mug, 2), (plate, 1)]) for _ in range(8)]
    assert (stock_of(mug), stock_of(plate)) == (84, 92)

    # When all of them are refunded in full (lines named in either order) while 8 new
    # orders take the same variants
    def full_refund(order, reverse):
        lines = [
            refund_line(order, mug, 2),
            refund_line(order, plate),
        ]
        return _refund(raw_key, order, {"line_items": lines[::-1] if reverse else lines})

    def new_order():
        body = order_body(store, [(plate, 1), (mug, 1)], shipping="pickup")
        response = api_client(raw_key).post("/v1/orders", body, format="json")
        return response.status_code, response.content, response.json()

    calls = [full_refund(order, reverse=i % 2 == 1) for i, order in enumerate(orders)]
    calls += [new_order for _ in range(8)]
    results = run_concurrently(calls)

    # Then every request succeeded and the stock is exact
    assert [status for status, _, _ in results] == [201] * 16
    for order in orders:
        fresh = stored_order(order)
        assert (fresh.refunded_amount, fresh.payment_status) == (fresh.total, "refunded")
    assert (stock_of(mug), stock_of(plate)) == (100 - 8, 100 - 8)
