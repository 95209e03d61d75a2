"""The store an API key acts on (DESIGN.md "The store"): GET /v1/store and
/v1/stores/{store_id}, and the UTC instants `meta.filters` states for a bare date, which is
a whole day in the store's time zone."""

from datetime import date, timedelta

import pytest

from orders.models import ApiKey, Scope, Store
from orders.services.api_keys import api_key_forget
from tests.factories import make_api_key, make_order, make_store
from tests.helpers import api_client, assert_error, assert_rejected, at, data_of, local

pytestmark = pytest.mark.django_db

ROUTES = ["/v1/store", "/v1/store/", "/v1/stores/{store_id}", "/v1/stores/{store_id}/"]
SEED_004_ROUTES = ["/api/store", "/api/store/"]
MICROSECOND = timedelta(microseconds=1)
DST_DAY = date(2026, 3, 8)  # Los Angeles moves from UTC-8 to UTC-7 at 02:00


def store_json(store: Store) -> dict:
    created = store.created_at.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return {
        "object": "store",
        "id": store.public_id,
        "name": store.name,
        "currency": store.currency,
        "timezone": store.timezone,
        "plan": store.plan,
        "created_at": created,
    }


@pytest.fixture
def la_client(los_angeles):
    return api_client(make_api_key(store=los_angeles))


# --- GET /v1/store ---------------------------------------------------------------------------


@pytest.mark.parametrize("route", ROUTES + SEED_004_ROUTES)
def test_the_store_is_the_keys_own_on_every_route(client, store, route):
    response = client.get(route.format(store_id=store.public_id))

    assert response.status_code == 200
    assert response.json() == {"data": store_json(store)}
    assert response["Cache-Control"] == "no-store"


def test_the_store_states_its_time_zone_plan_and_currency(los_angeles, la_client):
    Store.objects.filter(pk=los_angeles.pk).update(plan=Store.Plan.PREMIUM, currency="EUR")

    data = data_of(la_client.get("/v1/store"))

    assert (data["timezone"], data["plan"], data["currency"]) == (
        "America/Los_Angeles",
        "premium",
        "EUR",
    )
    assert data["created_at"].endswith("Z")


def test_the_store_carries_an_etag_that_answers_304(client, store):
    etag = client.get("/v1/store")["ETag"]

    response = client.get(f"/v1/stores/{store.public_id}", HTTP_IF_NONE_MATCH=etag)

    assert etag.startswith('"')
    assert response.status_code == 304
    assert response.content == b""
    assert response["ETag"] == etag


@pytest.mark.parametrize(
    "change", [{"name": "Acme Renamed"}, {"plan": "premium"}, {"timezone": "Europe/Madrid"}]
)
def test_the_etag_changes_when_the_store_does(change):
    free_store = make_store(name="Acme", plan=Store.Plan.FREE, timezone="UTC")
    client = api_client(make_api_key(store=free_store))
    before = client.get("/v1/store")["ETag"]
    Store.objects.filter(pk=free_store.pk).update(**change)
    # As every process sees it a second later at most, when the key's cached copy is gone.
    api_key_forget(ApiKey.objects.get(store=free_store).prefix)

    response = client.get("/v1/store", HTTP_IF_NONE_MATCH=before)

    assert response.status_code == 200
    assert response["ETag"] != before
    assert set(change.items()) <= set(response.json()["data"].items())


def test_the_key_may_come_as_a_query_parameter(api_key, store):
    response = api_client().get("/v1/store", {"api_key": api_key})

    assert data_of(response)["id"] == store.public_id


def test_the_store_needs_an_api_key(anonymous_client):
    assert_error(anonymous_client.get("/v1/store"), 401, "MISSING_API_KEY")


def test_the_store_needs_the_read_orders_scope(store):
    client = api_client(make_api_key(store=store, scopes=[Scope.WRITE_ORDERS]))

    error = assert_error(client.get("/v1/store"), 403, "INSUFFICIENT_SCOPE")

    assert "read:orders" in error["message"]


@pytest.mark.parametrize("params", [{"expand": "plan"}, {"include": "orders"}])
def test_an_unknown_parameter_is_refused(client, params):
    assert_rejected(client.get("/v1/store", params), *params)


@pytest.mark.parametrize("method", ["post", "patch", "put", "delete"])
def test_the_store_is_read_only_through_the_api(client, store, method):
    response = getattr(client, method)("/v1/store", {"name": "Hijacked"}, format="json")

    assert_error(response, 405, "METHOD_NOT_ALLOWED")
    assert Store.objects.get(pk=store.pk).name == "Acme Outfitters"


def test_the_store_endpoint_is_documented(anonymous_client):
    schema = anonymous_client.get("/v1/openapi.json").json()
    paths = {path.rstrip("/"): item for path, item in schema["paths"].items()}

    own, canonical = paths["/v1/store"]["get"], paths["/v1/stores/{store_id}"]["get"]

    assert own["operationId"] == "store_retrieve"
    assert canonical["operationId"] != own["operationId"]
    for operation in (own, canonical):
        assert operation["summary"]
        assert {"200", "401", "403", "404"} <= set(operation["responses"])
    assert not any(path.startswith("/api/") for path in schema["paths"])
    fields = schema["components"]["schemas"]["Store"]["properties"]
    assert set(fields) == {"object", "id", "name", "currency", "timezone", "plan", "created_at"}


# --- meta.filters: a bare date is a day in the store's time zone -----------------------------


def meta_filters(client, params: dict) -> dict:
    response = client.get("/v1/orders", {"include": "", **params})
    assert response.status_code == 200, response.content
    return response.json()["meta"]["filters"]


def test_a_bare_date_states_the_utc_instants_of_its_day(la_client):
    filters = meta_filters(la_client, {"date_from": "2026-12-01", "date_to": "2026-12-01"})

    assert filters == {
        "date_from": "2026-12-01",
        "date_to": "2026-12-01",
        "created_at": {"gte": "2026-12-01T08:00:00.000Z", "lt": "2026-12-02T08:00:00.000Z"},
    }


def test_the_day_the_clocks_change_is_23_hours_and_says_so(la_client):
    filters = meta_filters(la_client, {"date_from": "2026-03-08", "date_to": "2026-03-08"})

    # Midnight is still UTC-8; the next midnight is already UTC-7.
    assert filters["created_at"] == {
        "gte": "2026-03-08T08:00:00.000Z",
        "lt": "2026-03-09T07:00:00.000Z",
    }


def test_the_stated_instants_are_exactly_the_orders_listed(los_angeles, la_client):
    start, end = local(DST_DAY, 0), local(DST_DAY + timedelta(days=1), 0)
    before = make_order(store=los_angeles, created_at=start - MICROSECOND)
    first = make_order(store=los_angeles, created_at=start)
    last = make_order(store=los_angeles, created_at=end - MICROSECOND)
    after = make_order(store=los_angeles, created_at=end)

    response = la_client.get("/v1/orders", {"date_from": "2026-03-08", "date_to": "2026-03-08"})

    assert response.status_code == 200
    listed = {order["id"] for order in response.json()["data"]}
    assert listed == {first.public_id, last.public_id}
    assert not listed & {before.public_id, after.public_id}
    stated = response.json()["meta"]["filters"]["created_at"]
    assert stated == {"gte": "2026-03-08T08:00:00.000Z", "lt": "2026-03-09T07:00:00.000Z"}
    assert (start, end) == (at(2026, 3, 8, 8), at(2026, 3, 9, 7))


def test_a_summer_day_is_resolved_at_utc_minus_7(la_client):
    filters = meta_filters(la_client, {"placed_from": "2026-07-01"})

    assert filters == {
        "placed_from": "2026-07-01",
        "placed_at": {"gte": "2026-07-01T07:00:00.000Z"},
    }


def test_filter_on_names_the_column_the_instants_bound(la_client):
    filters = meta_filters(la_client, {"filter_on": "updated_at", "date_to": "2026-01-15"})

    assert filters == {
        "filter_on": "updated_at",
        "date_to": "2026-01-15",
        "updated_at": {"lt": "2026-01-16T08:00:00.000Z"},
    }


def test_several_bounds_on_one_column_state_the_tightest_pair(la_client):
    filters = meta_filters(
        la_client,
        {
            "created_after": "2026-03-01",
            "date_from": "2026-03-05",
            "created_before": "2026-03-10",
            "date_to": "2026-03-20",
        },
    )

    assert filters["created_at"] == {
        "gte": "2026-03-05T08:00:00.000Z",
        "lt": "2026-03-11T07:00:00.000Z",
    }
    assert filters["created_after"] == "2026-03-01"
    assert filters["date_to"] == "2026-03-20"


def test_a_date_time_bound_is_stated_in_utc_and_inclusive(la_client):
    filters = meta_filters(
        la_client,
        {"updated_since": "2026-03-10T09:00:00Z", "updated_at[lte]": "2026-03-10T09:00:00"},
    )

    # A time without an offset is the store's wall clock (UTC-7 on 10 March).
    assert filters["updated_at"] == {
        "gte": "2026-03-10T09:00:00.000Z",
        "lte": "2026-03-10T16:00:00.000Z",
    }
    assert filters["updated_at[lte]"] == "2026-03-10T09:00:00"


def test_a_utc_store_states_midnight_utc(client):
    filters = meta_filters(client, {"date_from": "2026-03-10"})

    assert filters == {"date_from": "2026-03-10", "created_at": {"gte": "2026-03-10T00:00:00.000Z"}}


def test_filters_without_dates_state_no_instants(client):
    assert meta_filters(client, {"status": "pending"}) == {"status": ["pending"]}
