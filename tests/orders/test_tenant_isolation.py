"""Tenant isolation matrix: a key of store A never reads or learns anything of store B.

Every API route is listed in ROUTES with each method it serves; the last test fails
when a route or method is added without being added here.
"""

import pytest
from django.urls import resolve

from config.urls import api_routes
from orders.models import Order
from tests.factories import make_api_key, make_customer, make_fulfillment, make_order
from tests.helpers import api_client

pytestmark = pytest.mark.django_db

# route name -> (path under a route prefix, {method: request body})
ROUTES = {
    "order-list": ("orders", {"GET": None, "POST": {"line_items": []}}),
    "order-count": ("orders/count", {"GET": None}),
    "order-detail": ("orders/{order_id}", {"GET": None, "PATCH": {"status": "confirmed"}}),
    "order-items": ("orders/{order_id}/items", {"GET": None}),
    "order-void": ("orders/{order_id}/void", {"POST": {}}),
    "order-status-history": ("orders/{order_id}/status-history", {"GET": None}),
    "order-notes": ("orders/{order_id}/notes", {"GET": None, "POST": {"content": "hi"}}),
    "order-refunds": ("orders/{order_id}/refunds", {"GET": None, "POST": {"amount": "1.00"}}),
    "order-refunds-calculate": ("orders/{order_id}/refunds/calculate", {"POST": {}}),
    "order-refund": ("orders/{order_id}/refund", {"POST": {"amount": "1.00"}}),
}
ORDER_ROUTES = [name for name, (path, _) in ROUTES.items() if "{order_id}" in path]
PREFIXES = ["/v1/", "/v1/stores/{store_id}/", "/api/"]


@pytest.fixture
def tenants(store, other_store):
    """Store A (the caller) and store B, each with a customer, an order and a fulfillment."""
    key_a = make_api_key(store=store)
    customer_b = make_customer(store=other_store, name="Bertha Secret", email="bertha@b.example")
    order_b = make_order(
        store=other_store, customer=customer_b, po_number="PO-SECRET-B", payment_status="paid"
    )
    make_fulfillment(order=order_b, tracking_number="TRACK-SECRET-B")
    order_a = make_order(store=store, customer=make_customer(store=store, name="Alice Own"))
    return {
        "client": api_client(key_a),
        "a": store,
        "b": other_store,
        "order_a": order_a,
        "order_b": order_b,
    }


def _assert_unchanged(order) -> None:
    fresh = Order.objects.get(pk=order.pk)
    assert (fresh.status, fresh.payment_status, fresh.updated_at) == (
        order.status,
        order.payment_status,
        order.updated_at,
    )
    assert Order.objects.filter(store_id=order.store_id).count() == 1
    assert not fresh.notes.exists()
    assert not fresh.refunds.exists()


def _url(prefix: str, path: str, *, store_id: str, order_id: str = "") -> str:
    return (prefix + path).format(store_id=store_id, order_id=order_id)


def _assert_learns_nothing(response, tenants) -> None:
    body = response.content.decode()
    assert response.status_code == 404, body
    assert response.json()["error"]["code"] == "NOT_FOUND"
    # The 404 may echo the id the caller sent, and nothing else of store B.
    for secret in ("Bertha", "bertha@b.example", "PO-SECRET-B", "TRACK-SECRET-B"):
        assert secret not in body
    assert response.json()["error"]["details"] == []


@pytest.mark.parametrize("prefix", PREFIXES)
@pytest.mark.parametrize("route", ORDER_ROUTES)
def test_another_stores_order_id_is_404(tenants, route, prefix):
    path, methods = ROUTES[route]
    url = _url(prefix, path, store_id=tenants["a"].public_id, order_id=tenants["order_b"].public_id)
    for method, body in methods.items():
        response = getattr(tenants["client"], method.lower())(url, body, format="json")
        _assert_learns_nothing(response, tenants)
    _assert_unchanged(tenants["order_b"])


@pytest.mark.parametrize("route", list(ROUTES))
def test_another_stores_path_is_404_even_for_own_order(tenants, route):
    path, methods = ROUTES[route]
    url = _url(
        "/v1/stores/{store_id}/",
        path,
        store_id=tenants["b"].public_id,
        order_id=tenants["order_a"].public_id,
    )
    for method, body in methods.items():
        response = getattr(tenants["client"], method.lower())(url, body, format="json")
        _assert_learns_nothing(response, tenants)
    _assert_unchanged(tenants["order_a"])


@pytest.mark.parametrize("store_id", ["str_nope", "str_00000000-0000-0000-0000-000000000000"])
def test_unknown_store_path_is_404_like_a_foreign_one(tenants, store_id):
    _assert_learns_nothing(tenants["client"].get(f"/v1/stores/{store_id}/orders"), tenants)


@pytest.mark.parametrize("prefix", PREFIXES)
def test_list_and_count_hold_only_the_callers_orders(tenants, prefix):
    client, store_id = tenants["client"], tenants["a"].public_id

    listed = client.get(_url(prefix, "orders", store_id=store_id)).json()
    counted = client.get(_url(prefix, "orders/count", store_id=store_id)).json()

    assert [o["id"] for o in listed["data"]] == [tenants["order_a"].public_id]
    assert listed["pagination"]["total"] == 1
    assert counted == {"data": {"count": 1}}


def test_filtering_by_another_stores_customer_finds_nothing(tenants):
    customer_b_id = tenants["order_b"].customer.public_id

    response = tenants["client"].get("/v1/orders", {"customer_id": customer_b_id})

    assert response.status_code == 200
    assert response.json()["data"] == []


def test_searching_for_another_stores_data_finds_nothing(tenants):
    for term in ("Bertha", "PO-SECRET-B", str(tenants["order_b"].order_number)):
        response = tenants["client"].get("/v1/orders", {"search": term, "include": ""})
        assert all(o["id"] != tenants["order_b"].public_id for o in response.json()["data"])


def test_every_api_route_and_method_is_in_the_matrix():
    served = {}
    for pattern in api_routes:
        view = pattern.callback.view_class
        allowed = pattern.callback.view_initkwargs.get("http_method_names", view.http_method_names)
        methods = {
            m.upper()
            for m in ("get", "post", "patch", "put", "delete")
            if hasattr(view, m) and m in allowed
        }
        served[pattern.name] = methods
    assert served == {name: set(methods) for name, (_, methods) in ROUTES.items()}


# The store routes (GET /v1/store, /v1/stores/{store_id}, /api/store) stand outside the
# prefixed matrix above: they are the store itself, not a route under it.
OWN_STORE_ROUTES = ["/v1/store", "/v1/store/", "/api/store", "/v1/stores/{store_id}"]


@pytest.mark.parametrize("route", OWN_STORE_ROUTES)
def test_the_store_route_shows_only_the_callers_store(tenants, route):
    response = tenants["client"].get(route.format(store_id=tenants["a"].public_id))

    assert response.status_code == 200
    assert response.json()["data"]["id"] == tenants["a"].public_id
    assert tenants["b"].public_id not in response.content.decode()
    assert tenants["b"].name not in response.content.decode()


@pytest.mark.parametrize("suffix", ["", "/"])
def test_another_stores_id_on_the_store_route_is_404(tenants, suffix):
    response = tenants["client"].get(f"/v1/stores/{tenants['b'].public_id}{suffix}")

    _assert_learns_nothing(response, tenants)
    assert tenants["b"].name not in response.content.decode()


@pytest.mark.parametrize("store_id", ["str_nope", "str_00000000-0000-0000-0000-000000000000"])
def test_an_unknown_store_id_on_the_store_route_is_404_like_a_foreign_one(tenants, store_id):
    _assert_learns_nothing(tenants["client"].get(f"/v1/stores/{store_id}"), tenants)


def test_the_store_routes_serve_only_get():
    for path in ("/v1/store", "/v1/stores/str_x", "/api/store"):
        view = resolve(path).func.view_class
        methods = {m.upper() for m in ("get", "post", "patch", "put", "delete") if hasattr(view, m)}
        assert methods == {"GET"}, path
