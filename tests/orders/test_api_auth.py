"""API-key authentication and scopes: every way a key can be wrong answers 401/403 in the
envelope, and a good key is recorded as used at most once a minute."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from orders.models import ApiKey
from orders.services import api_key_revoke
from tests.factories import make_api_key

pytestmark = pytest.mark.django_db


def _client_with(key: str | None = None, **headers) -> APIClient:
    api = APIClient()
    if key is not None:
        api.credentials(HTTP_X_API_KEY=key)
    return api


def _assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert error["code"] == code
    assert error["message"]
    assert error["request_id"] == response["X-Request-Id"]
    return error


def test_request_without_a_key_is_401_missing_api_key(anonymous_client):
    response = anonymous_client.get("/v1/orders")

    error = _assert_error(response, 401, "MISSING_API_KEY")
    assert "X-API-Key" in error["message"]
    assert response["WWW-Authenticate"] == "X-API-Key"


@pytest.mark.parametrize(
    "bad_key",
    ["not-a-key", "wk_live_short", "Bearer wk_live_" + "a" * 40, "wk_test_" + "a" * 40],
)
def test_malformed_key_is_401_invalid_api_key(store, bad_key):
    _assert_error(_client_with(bad_key).get("/v1/orders"), 401, "INVALID_API_KEY")


def test_wrong_secret_with_a_real_prefix_is_401(api_key):
    forged = api_key[:16] + ("A" if api_key[16] != "A" else "B") + api_key[17:]

    _assert_error(_client_with(forged).get("/v1/orders"), 401, "INVALID_API_KEY")


def test_unknown_key_is_401(store):
    _assert_error(_client_with("wk_live_" + "x" * 40).get("/v1/orders"), 401, "INVALID_API_KEY")


def test_expired_key_is_401_and_says_it_expired(store):
    key = make_api_key(store=store, expires_at=timezone.now() - timedelta(seconds=1))

    error = _assert_error(_client_with(key).get("/v1/orders"), 401, "INVALID_API_KEY")
    assert "expired" in error["message"]


def test_key_expiring_in_the_future_works(store):
    key = make_api_key(store=store, expires_at=timezone.now() + timedelta(days=1))

    assert _client_with(key).get("/v1/orders").status_code == 200


def test_revoked_key_is_401_and_says_it_was_revoked(store, api_key):
    api_key_revoke(api_key=ApiKey.objects.get(store=store), now=timezone.now())

    error = _assert_error(_client_with(api_key).get("/v1/orders"), 401, "INVALID_API_KEY")
    assert "revoked" in error["message"]


def test_key_in_the_api_key_query_parameter_authenticates(api_key):
    response = APIClient().get("/v1/orders", {"api_key": api_key})

    assert response.status_code == 200


def test_key_without_read_scope_is_403_naming_the_scope(store):
    key = make_api_key(store=store, scopes=["write:orders"])

    error = _assert_error(_client_with(key).get("/v1/orders"), 403, "INSUFFICIENT_SCOPE")
    assert "read:orders" in error["message"]
    assert error["details"] == {"required_scope": "read:orders"}


def test_read_only_key_reads(store):
    key = make_api_key(store=store, scopes=["read:orders"])

    assert _client_with(key).get("/v1/orders/count").status_code == 200


def test_only_the_hash_and_prefix_of_a_key_are_stored(store, api_key):
    stored = ApiKey.objects.get(store=store)

    assert api_key.startswith(stored.prefix)
    assert len(api_key) >= len("wk_live_") + 32
    assert api_key not in {stored.key_hash, stored.prefix, stored.name}


def _updates_of_api_keys(captured) -> int:
    return sum(
        1 for q in captured.captured_queries if q["sql"].startswith('UPDATE "orders_apikey"')
    )


def test_last_used_at_is_written_at_most_once_a_minute(store, api_key):
    client = _client_with(api_key)

    with CaptureQueriesContext(connection) as first:
        client.get("/v1/orders/count")
    with CaptureQueriesContext(connection) as second:
        client.get("/v1/orders/count")

    assert _updates_of_api_keys(first) == 1
    assert _updates_of_api_keys(second) == 0
    assert ApiKey.objects.get(store=store).last_used_at is not None


def test_last_used_at_is_refreshed_after_a_minute(store, api_key):
    client = _client_with(api_key)
    client.get("/v1/orders/count")
    two_minutes_ago = timezone.now() - timedelta(minutes=2)
    ApiKey.objects.filter(store=store).update(last_used_at=two_minutes_ago)

    with CaptureQueriesContext(connection) as captured:
        client.get("/v1/orders/count")

    assert _updates_of_api_keys(captured) == 1
    assert ApiKey.objects.get(store=store).last_used_at > two_minutes_ago
