"""Idempotency-Key on POSTs: a retry replays the first response byte for byte, a reused
key with another body is refused, failures are not stored, old keys are pruned."""

import io
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from orders.idempotency import CLAIM_TIMEOUT, request_fingerprint
from orders.models import IdempotencyKey, Order
from tests.factories import make_api_key, make_shipping_method, make_variant
from tests.helpers import api_client, assert_error, order_body

pytestmark = pytest.mark.django_db


@pytest.fixture
def body(store):
    make_shipping_method(store=store)
    return order_body(store, [(make_variant(store=store, price="10.00", stock=10), 1)])


def _post(client, body, key="order-42", path="/v1/orders"):
    return client.post(path, body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def test_a_retry_replays_the_first_response_byte_for_byte(client, body):
    first = _post(client, body)
    retry = _post(client, body)

    assert first.status_code == retry.status_code == 201
    assert retry.content == first.content
    assert retry["Idempotent-Replayed"] == "true"
    assert retry["ETag"] == first["ETag"]
    assert retry["Location"] == first["Location"]
    assert Order.objects.count() == 1


def test_the_same_key_with_another_body_is_422_and_creates_nothing(client, body):
    _post(client, body)
    body["line_items"][0]["quantity"] = 2

    response = _post(client, body)

    assert_error(response, 422, "IDEMPOTENCY_KEY_REUSED")
    assert Order.objects.count() == 1


def test_keys_are_scoped_to_the_store(client, body, other_store):
    other = api_client(make_api_key(store=other_store))
    _post(client, body)

    response = _post(other, {"line_items": []})

    assert response.status_code == 400  # ran as a fresh request in the other store
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"


def test_a_request_that_failed_validation_is_not_stored(client, body):
    bad = dict(body, shipping_method="teleport")
    assert _post(client, bad).status_code == 422

    response = _post(client, body)

    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response


def test_a_refused_request_releases_the_key(client, store, body):
    body["line_items"][0]["quantity"] = 11  # more than in stock

    assert _post(client, body).status_code == 422
    assert not IdempotencyKey.objects.filter(store=store).exists()


def test_a_key_still_in_flight_is_409(client, store, body):
    IdempotencyKey.objects.create(
        store=store,
        key="order-42",
        request_fingerprint=request_fingerprint(method="POST", path="/v1/orders", body=body),
    )

    response = _post(client, body)

    assert_error(response, 409, "IDEMPOTENCY_KEY_IN_USE")
    assert Order.objects.count() == 0


def test_an_abandoned_claim_is_taken_over(client, store, body):
    IdempotencyKey.objects.create(
        store=store,
        key="order-42",
        request_fingerprint=request_fingerprint(method="POST", path="/v1/orders", body=body),
        locked_at=timezone.now() - CLAIM_TIMEOUT - timedelta(seconds=1),
    )

    response = _post(client, body)

    assert response.status_code == 201
    assert IdempotencyKey.objects.get(store=store).completed_at is not None


def test_void_honours_the_key(client, body):
    order_id = client.post("/v1/orders", body, format="json").json()["data"]["id"]

    first = _post(client, {}, key="void-1", path=f"/v1/orders/{order_id}/void")
    retry = _post(client, {}, key="void-1", path=f"/v1/orders/{order_id}/void")

    assert first.status_code == 200
    assert retry.content == first.content


@pytest.mark.parametrize("key", ["", "x" * 256, "tab\there"])
def test_a_malformed_key_is_400(client, body, key):
    response = _post(client, body, key=key)

    assert response.status_code == 400
    assert response.json()["error"]["details"][0]["field"] == "Idempotency-Key"


def test_prune_deletes_keys_older_than_a_day_and_keeps_the_rest(store):
    old = IdempotencyKey.objects.create(
        store=store, key="old", request_fingerprint="x",
        created_at=timezone.now() - timedelta(hours=25),
    )  # fmt: skip
    fresh = IdempotencyKey.objects.create(store=store, key="fresh", request_fingerprint="x")

    call_command("prune_idempotency_keys", stdout=io.StringIO())

    remaining = set(IdempotencyKey.objects.values_list("pk", flat=True))
    assert remaining == {fresh.pk}
    assert old.pk not in remaining


def test_prune_refuses_to_keep_keys_less_than_a_day():
    with pytest.raises(CommandError, match="24 hours"):
        call_command("prune_idempotency_keys", "--hours", "1")
