"""API-key authentication and scopes: every way a key can be wrong answers 401/403 in the
envelope, and a good key is recorded as used at most once a minute."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from orders.api import auth
from orders.models import ApiKey
from orders.models import store as store_models
from orders.models.store import hash_api_key
from orders.services import api_key_revoke
from tests.factories import make_api_key
from tests.helpers import api_client, assert_error

pytestmark = pytest.mark.django_db


def _forged(raw_key: str) -> str:
    """`raw_key` with its first secret character changed: the real prefix, a wrong secret."""
    return raw_key[:16] + ("A" if raw_key[16] != "A" else "B") + raw_key[17:]


def test_request_without_a_key_is_401_missing_api_key(anonymous_client):
    response = anonymous_client.get("/v1/orders")

    error = assert_error(response, 401, "MISSING_API_KEY")
    assert "X-API-Key" in error["message"]
    assert response["WWW-Authenticate"] == "X-API-Key"


@pytest.mark.parametrize(
    "bad_key",
    ["not-a-key", "wk_live_short", "Bearer wk_live_" + "a" * 40, "wk_test_" + "a" * 40],
)
def test_malformed_key_is_401_invalid_api_key(store, bad_key):
    assert_error(api_client(bad_key).get("/v1/orders"), 401, "INVALID_API_KEY")


def test_wrong_secret_with_a_real_prefix_is_401(api_key):
    assert_error(api_client(_forged(api_key)).get("/v1/orders"), 401, "INVALID_API_KEY")


def test_unknown_key_is_401(store):
    assert_error(api_client("wk_live_" + "x" * 40).get("/v1/orders"), 401, "INVALID_API_KEY")


def test_expired_key_is_401_and_says_it_expired(store):
    key = make_api_key(store=store, expires_at=timezone.now() - timedelta(seconds=1))

    error = assert_error(api_client(key).get("/v1/orders"), 401, "INVALID_API_KEY")
    assert "expired" in error["message"]


def test_key_expiring_in_the_future_works(store):
    key = make_api_key(store=store, expires_at=timezone.now() + timedelta(days=1))

    assert api_client(key).get("/v1/orders").status_code == 200


EXPIRY = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


def _freeze_now(monkeypatch, instant: datetime) -> None:
    """Make it `instant` wherever Ordo asks Django what time it is (the key model holds its
    own reference to `now`)."""
    monkeypatch.setattr(timezone, "now", lambda: instant)
    monkeypatch.setattr(store_models, "now", lambda: instant, raising=False)


def test_a_key_is_expired_from_the_instant_it_expires(store, monkeypatch):
    # Given a key that expires at 09:00 sharp
    key = make_api_key(store=store, expires_at=EXPIRY)

    # When it is used at 09:00 exactly
    _freeze_now(monkeypatch, EXPIRY)
    response = api_client(key).get("/v1/orders")

    # Then it is refused as expired
    error = assert_error(response, 401, "INVALID_API_KEY")
    assert "expired" in error["message"]


def test_a_key_works_until_a_microsecond_before_it_expires(store, monkeypatch):
    key = make_api_key(store=store, expires_at=EXPIRY)

    _freeze_now(monkeypatch, EXPIRY - timedelta(microseconds=1))
    response = api_client(key).get("/v1/orders")

    assert response.status_code == 200, response.content


def _spy_on_the_hash_comparison(monkeypatch) -> list[tuple[str, str]]:
    """The (a, b) of every hmac.compare_digest call from here on; each still compares."""
    calls = []
    compare = auth.hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return compare(a, b)

    monkeypatch.setattr(auth.hmac, "compare_digest", spy)
    return calls


@pytest.mark.parametrize(
    ("presented", "status"), [(str, 200), (_forged, 401)], ids=["valid", "wrong-secret"]
)
def test_the_key_hash_is_compared_in_constant_time(store, api_key, monkeypatch, presented, status):
    # Given the stored hash of the store's key, and a key presented with its prefix
    stored_hash = ApiKey.objects.get(store=store).key_hash
    raw_key = presented(api_key)
    calls = _spy_on_the_hash_comparison(monkeypatch)

    # When it authenticates a request
    response = api_client(raw_key).get("/v1/orders")

    # Then the stored hash and the presented key's hash went through hmac.compare_digest
    assert response.status_code == status, response.content
    assert sorted([stored_hash, hash_api_key(raw_key)]) in [sorted(call) for call in calls]


def test_revoked_key_is_401_and_says_it_was_revoked(store, api_key):
    api_key_revoke(api_key=ApiKey.objects.get(store=store), now=timezone.now())

    error = assert_error(api_client(api_key).get("/v1/orders"), 401, "INVALID_API_KEY")
    assert "revoked" in error["message"]


def test_key_in_the_api_key_query_parameter_authenticates(api_key):
    response = api_client().get("/v1/orders", {"api_key": api_key})

    assert response.status_code == 200


def test_key_without_read_scope_is_403_naming_the_scope(store):
    key = make_api_key(store=store, scopes=["write:orders"])

    error = assert_error(api_client(key).get("/v1/orders"), 403, "INSUFFICIENT_SCOPE")
    assert "read:orders" in error["message"]
    assert error["details"] == []
    assert error["context"] == {"required_scope": "read:orders", "granted_scopes": ["write:orders"]}


def test_read_only_key_reads(store):
    key = make_api_key(store=store, scopes=["read:orders"])

    assert api_client(key).get("/v1/orders/count").status_code == 200


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
    client = api_client(api_key)

    with CaptureQueriesContext(connection) as first:
        client.get("/v1/orders/count")
    with CaptureQueriesContext(connection) as second:
        client.get("/v1/orders/count")

    assert _updates_of_api_keys(first) == 1
    assert _updates_of_api_keys(second) == 0
    assert ApiKey.objects.get(store=store).last_used_at is not None


def test_last_used_at_is_refreshed_after_a_minute(store, api_key, monkeypatch):
    client = api_client(api_key)
    client.get("/v1/orders/count")
    two_minutes_later = timezone.now() + timedelta(minutes=2)
    _freeze_now(monkeypatch, two_minutes_later)

    with CaptureQueriesContext(connection) as captured:
        client.get("/v1/orders/count")

    assert _updates_of_api_keys(captured) == 1
    assert ApiKey.objects.get(store=store).last_used_at == two_minutes_later


# --- Authorization: Bearer -------------------------------------------------------------------


def _bearer(value: str):
    """A client sending `Authorization: <value>` and nothing else."""
    client = api_client()
    client.credentials(HTTP_AUTHORIZATION=value)
    return client


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER"])
def test_a_bearer_key_authenticates_like_x_api_key(store, api_key, scheme):
    response = _bearer(f"{scheme} {api_key}").get("/v1/orders")

    assert response.status_code == 200, response.content
    assert ApiKey.objects.get(store=store).last_used_at is not None


def test_a_bearer_key_is_checked_like_any_key(store, api_key):
    api_key_revoke(api_key=ApiKey.objects.get(store=store), now=timezone.now())

    error = assert_error(_bearer(f"Bearer {api_key}").get("/v1/orders"), 401, "INVALID_API_KEY")

    assert "revoked" in error["message"]


def test_a_bearer_key_carries_its_scopes(store):
    key = make_api_key(store=store, scopes=["write:orders"])

    error = assert_error(_bearer(f"Bearer {key}").get("/v1/orders"), 403, "INSUFFICIENT_SCOPE")

    assert error["context"]["required_scope"] == "read:orders"


def test_bearer_without_a_key_is_401_saying_so(store):
    error = assert_error(_bearer("Bearer ").get("/v1/orders"), 401, "INVALID_API_KEY")

    assert "carries no key" in error["message"]


def test_a_malformed_bearer_key_is_401(store):
    assert_error(_bearer("Bearer not-a-key").get("/v1/orders"), 401, "INVALID_API_KEY")


def test_another_authorization_scheme_alone_is_401_pointing_to_bearer(store, api_key):
    error = assert_error(_bearer("Basic YW5hOnB3").get("/v1/orders"), 401, "INVALID_API_KEY")

    assert "'Basic'" in error["message"]
    assert "Bearer" in error["message"]


def test_another_authorization_scheme_is_ignored_beside_an_x_api_key(api_key):
    client = api_client(api_key)
    client.credentials(HTTP_X_API_KEY=api_key, HTTP_AUTHORIZATION="Basic YW5hOnB3")

    assert client.get("/v1/orders").status_code == 200


@pytest.mark.parametrize(
    "places",
    [
        {"HTTP_X_API_KEY": "{key}", "HTTP_AUTHORIZATION": "Bearer {key}"},
        {"HTTP_AUTHORIZATION": "Bearer {key}", "query": "{key}"},
    ],
    ids=["header-and-bearer", "bearer-and-query"],
)
def test_the_same_key_in_two_places_is_one_key(api_key, places):
    client = api_client()
    query = places.get("query")
    client.credentials(
        **{name: value.format(key=api_key) for name, value in places.items() if name != "query"}
    )

    response = client.get("/v1/orders", {"api_key": api_key} if query else {})

    assert response.status_code == 200, response.content


@pytest.mark.parametrize(
    ("credentials", "query", "named"),
    [
        ({"HTTP_X_API_KEY": "first", "HTTP_AUTHORIZATION": "Bearer second"}, None,
         ["X-API-Key header", "Authorization header"]),
        ({"HTTP_AUTHORIZATION": "Bearer first"}, "second",
         ["Authorization header", "api_key query parameter"]),
        ({"HTTP_X_API_KEY": "first"}, "second", ["X-API-Key header", "api_key query parameter"]),
    ],
    ids=["header-and-bearer", "bearer-and-query", "header-and-query"],
)  # fmt: skip
def test_two_different_keys_are_401_naming_where_each_came_from(
    store, api_key, credentials, query, named
):
    # Given two valid keys of the store, sent in two different places
    keys = {"first": api_key, "second": make_api_key(store=store)}
    client = api_client()
    client.credentials(
        **{
            name: value.replace("first", keys["first"]).replace("second", keys["second"])
            for name, value in credentials.items()
        }
    )

    # When the request is made
    response = client.get("/v1/orders", {"api_key": keys[query]} if query else {})

    # Then neither is guessed at: 401, saying which places disagree, and no key marked used
    error = assert_error(response, 401, "INVALID_API_KEY")
    assert "different API keys" in error["message"]
    for place in named:
        assert place in error["message"]
    assert not ApiKey.objects.filter(store=store, last_used_at__isnull=False).exists()


def test_the_missing_key_message_names_every_way_to_send_one(anonymous_client):
    error = assert_error(anonymous_client.get("/v1/orders"), 401, "MISSING_API_KEY")

    for way in ("X-API-Key", "Authorization: Bearer", "api_key"):
        assert way in error["message"]
