"""Stock, order numbers, transitions and idempotency under real concurrent requests.

PostgreSQL only: each thread holds its own connection, so the row locks and
conditional updates are what keeps the data right.
"""

from collections import Counter

import pytest
from rest_framework.test import APIClient

from orders.models import Fulfillment, Order, Variant
from tests.concurrency import requires_postgresql, run_concurrently
from tests.factories import (
    make_api_key,
    make_customer,
    make_order,
    make_shipping_method,
    make_variant,
)

pytestmark = [requires_postgresql, pytest.mark.django_db(transaction=True)]

ROUNDS = 5


def _client(raw_key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=raw_key)
    return client


def _order_body(store, variant, quantity=1):
    return {
        "customer_id": make_customer(store=store).public_id,
        "line_items": [{"variant_id": variant.public_id, "quantity": quantity}],
        "shipping_address": {"line1": "1 Main St", "city": "Portland", "country": "US"},
        "shipping_method": "standard",
    }


def _create(raw_key, body, **headers):
    def call():
        response = _client(raw_key).post("/v1/orders", body, format="json", **headers)
        return response.status_code, response.content, response.json()

    return call


def test_the_last_unit_ordered_by_16_clients_goes_to_exactly_one(store):
    raw_key = make_api_key(store=store)
    make_shipping_method(store=store)
    for _ in range(ROUNDS):
        variant = make_variant(store=store, stock=1)
        body = _order_body(store, variant)

        results = run_concurrently([_create(raw_key, body) for _ in range(16)])

        statuses = Counter(status for status, _, _ in results)
        assert statuses == {201: 1, 422: 15}
        refused = [data["error"]["code"] for status, _, data in results if status == 422]
        assert set(refused) == {"INSUFFICIENT_STOCK"}
        assert Variant.objects.get(pk=variant.pk).stock == 0
        assert Order.objects.filter(items__variant=variant).count() == 1


def test_16_parallel_creates_get_16_consecutive_order_numbers(store):
    raw_key = make_api_key(store=store)
    make_shipping_method(store=store)
    variant = make_variant(store=store, stock=1000)
    body = _order_body(store, variant)

    results = run_concurrently([_create(raw_key, body) for _ in range(16)])

    assert [status for status, _, _ in results] == [201] * 16
    numbers = sorted(data["data"]["order_number"] for _, _, data in results)
    assert numbers == list(range(1001, 1017))
    assert Variant.objects.get(pk=variant.pk).stock == 1000 - 16


def test_two_conflicting_transitions_let_exactly_one_win(store):
    raw_key = make_api_key(store=store)
    for _ in range(ROUNDS):
        variant = make_variant(store=store, stock=5)
        order = make_order(store=store, status="processing")
        order.items.update(variant=variant)
        url = f"/v1/orders/{order.public_id}"
        ship = {"status": "shipped", "carrier": "UPS", "tracking_number": "1Z1"}
        cancel = {"status": "cancelled", "reason": "Customer changed their mind"}

        results = run_concurrently(
            [
                lambda body=body, url=url: _client(raw_key).patch(url, body, format="json")
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
        assert Variant.objects.get(pk=variant.pk).stock == (5 if shipped else 6)
        history = _client(raw_key).get(f"{url}/status-history").json()["data"]
        assert [h["to_status"] for h in history] == ["processing", final.status]


def test_50_parallel_requests_with_one_idempotency_key_create_one_order(store):
    raw_key = make_api_key(store=store)
    make_shipping_method(store=store)
    variant = make_variant(store=store, stock=100)
    body = _order_body(store, variant)
    create = _create(raw_key, body, HTTP_IDEMPOTENCY_KEY="sync-job-7")

    results = run_concurrently([create for _ in range(50)])

    assert Order.objects.count() == 1
    assert Variant.objects.get(pk=variant.pk).stock == 99
    created = [content for status, content, _ in results if status == 201]
    in_use = [data for status, _, data in results if status == 409]
    assert len(created) + len(in_use) == 50
    assert len(set(created)) == 1
    assert {d["error"]["code"] for d in in_use} <= {"IDEMPOTENCY_KEY_IN_USE"}
    status, replay, _ = create()
    assert (status, replay) == (201, created[0])
