"""Stock, order numbers, transitions and idempotency under real concurrent requests.

PostgreSQL only: each thread holds its own connection, so the row locks and
conditional updates are what keeps the data right.
"""

from collections import Counter

import pytest

from orders.models import Fulfillment, Order, Store
from tests.concurrency import ROUNDS, requires_postgresql, run_concurrently
from tests.factories import (
    make_api_key,
    make_order,
    make_order_holding,
    make_shipping_method,
    make_variant,
)
from tests.helpers import api_client, order_body, patch_order, status_history, stock_of, void_order

pytestmark = [requires_postgresql, pytest.mark.django_db(transaction=True)]


def _create(raw_key, body, **headers):
    def call():
        response = api_client(raw_key).post("/v1/orders", body, format="json", **headers)
        return response.status_code, response.content, response.json()

    return call


def test_the_last_unit_ordered_by_16_clients_goes_to_exactly_one(store):
    raw_key = make_api_key(store=store)
    make_shipping_method(store=store)
    for _ in range(ROUNDS):
        variant = make_variant(store=store, stock=1)
        body = order_body(store, [(variant, 1)])

        results = run_concurrently([_create(raw_key, body) for _ in range(16)])

        statuses = Counter(status for status, _, _ in results)
        assert statuses == {201: 1, 422: 15}
        refused = [data["error"]["code"] for status, _, data in results if status == 422]
        assert set(refused) == {"INSUFFICIENT_STOCK"}
        assert stock_of(variant) == 0
        assert Order.objects.filter(items__variant=variant).count() == 1


def test_16_parallel_creates_of_different_variants_take_the_numbers_1001_to_1016(store):
    # Given 16 clients each buying a variant of their own, so that no stock lock lines
    # them up and only the store's row lock stands between them and one order number
    raw_key = make_api_key(store=store)
    make_shipping_method(store=store)
    for round_ in range(ROUNDS):
        bodies = [order_body(store, [(make_variant(store=store, stock=1), 1)]) for _ in range(16)]

        # When they all create their order at the same instant
        results = run_concurrently([_create(raw_key, body) for body in bodies])

        # Then every order is made, none with a number another one took: 1001 to 1016 in
        # the first round, the next 16 in the next
        assert [status for status, _, _ in results] == [201] * 16, [
            data for status, _, data in results if status != 201
        ]
        first = 1001 + 16 * round_
        numbers = sorted(data["data"]["order_number"] for _, _, data in results)
        assert numbers == list(range(first, first + 16))
        assert Store.objects.get(pk=store.pk).next_order_number == first + 16


def test_16_parallel_creates_get_16_consecutive_order_numbers(store):
    raw_key = make_api_key(store=store)
    make_shipping_method(store=store)
    variant = make_variant(store=store, stock=1000)
    body = order_body(store, [(variant, 1)])

    results = run_concurrently([_create(raw_key, body) for _ in range(16)])

    assert [status for status, _, _ in results] == [201] * 16
    numbers = sorted(data["data"]["order_number"] for _, _, data in results)
    assert numbers == list(range(1001, 1017))
    assert stock_of(variant) == 1000 - 16


def test_two_conflicting_transitions_let_exactly_one_win(store):
    raw_key = make_api_key(store=store)
    for _ in range(ROUNDS):
        variant = make_variant(store=store, stock=5)
        order = make_order(store=store, status="processing")
        order.items.update(variant=variant, stock_reserved=True)  # its unit taken when placed
        ship = {"status": "shipped", "carrier": "UPS", "tracking_number": "1Z1"}
        cancel = {"status": "cancelled", "reason": "Customer changed their mind"}

        results = run_concurrently(
            [
                lambda body=body, order=order: patch_order(api_client(raw_key), order, body)
                for body in (ship, cancel)
            ]
        )

        codes = sorted(r.status_code for r in results)
        assert codes == [200, 422]
        loser = next(r for r in results if r.status_code == 422)
        assert loser.json()["error"]["code"] == "INVALID_TRANSITION"
        final = Order.objects.get(pk=order.pk)
        shipped = final.status == "shipped"
        assert final.status in {"shipped", "cancelled"}
        assert Fulfillment.objects.filter(order=order).count() == (1 if shipped else 0)
        assert stock_of(variant) == (5 if shipped else 6)
        history = status_history(api_client(raw_key), order)
        assert [h["to_status"] for h in history] == ["processing", final.status]


def _times_entered(order, status: str) -> int:
    """How many entries of the order's history record it entering `status`."""
    return Order.history.filter(id=order.pk, status=status).count()


@pytest.mark.postgres
def test_concurrent_cancels_release_stock_exactly_once(store):
    # Given a confirmed order holding 4 units
    key = make_api_key(store=store)
    order, variant = make_order_holding(store=store, units=4, status="confirmed", items=0)

    # When six clients cancel it at the same moment
    cancel = {"status": "cancelled"}
    results = run_concurrently([lambda: patch_order(api_client(key), order, cancel)] * 6)

    # Then each is told it is cancelled, yet the units go back once, in one history entry
    assert [response.status_code for response in results] == [200] * 6
    assert stock_of(variant) == 14
    assert _times_entered(order, "cancelled") == 1


@pytest.mark.postgres
def test_concurrent_voids_void_once_and_release_stock_once(store):
    # Given a pending order holding 3 units
    key = make_api_key(store=store)
    order, variant = make_order_holding(store=store, units=3, status="pending", items=0)

    # When six clients void it at the same moment
    statuses = run_concurrently([lambda: void_order(api_client(key), order).status_code] * 6)

    # Then exactly one void wins, the others are told it is no longer voidable
    assert sorted(statuses) == [200, 422, 422, 422, 422, 422]
    assert stock_of(variant) == 13
    assert _times_entered(order, "voided") == 1


def test_50_parallel_requests_with_one_idempotency_key_create_one_order(store):
    raw_key = make_api_key(store=store)
    make_shipping_method(store=store)
    variant = make_variant(store=store, stock=100)
    body = order_body(store, [(variant, 1)])
    create = _create(raw_key, body, HTTP_IDEMPOTENCY_KEY="sync-job-7")

    results = run_concurrently([create for _ in range(50)])

    assert Order.objects.count() == 1
    assert stock_of(variant) == 99
    created = [content for status, content, _ in results if status == 201]
    in_use = [data for status, _, data in results if status == 409]
    assert len(created) + len(in_use) == 50
    assert len(set(created)) == 1
    assert {d["error"]["code"] for d in in_use} <= {"IDEMPOTENCY_KEY_IN_USE"}
    status, replay, _ = create()
    assert (status, replay) == (201, created[0])
