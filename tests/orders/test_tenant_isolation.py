"""Tenant isolation matrix: a key of store A never reads or learns anything of store B.

Every API route is listed in ROUTES with each method it serves; the last test fails
when a route or method is added without being added here. A route naming one of B's
objects by id (order, note, event, webhook endpoint or delivery) is a 404 that changes
nothing.
"""

import re

import pytest
from django.urls import resolve

from config.urls import api_routes
from notes.models import OrderNote
from orders.models import Event, Order
from orders.services import order_update
from tests.factories import make_api_key, make_customer, make_fulfillment, make_order
from tests.helpers import api_client
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.signing import generate_secret

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
    "order-note-resend": ("orders/{order_id}/notes/{note_id}/resend", {"POST": None}),
    "order-refunds": ("orders/{order_id}/refunds", {"GET": None, "POST": {"amount": "1.00"}}),
    "order-refunds-calculate": ("orders/{order_id}/refunds/calculate", {"POST": {}}),
    "order-refund": ("orders/{order_id}/refund", {"POST": {"amount": "1.00"}}),
    "event-list": ("events", {"GET": None}),
    "event-detail": ("events/{event_id}", {"GET": None}),
    "webhook-endpoint-list": (
        "webhook-endpoints",
        {"GET": None, "POST": {"url": "https://hooks.a.example/in", "events": ["*"]}},
    ),
    "webhook-endpoint-detail": (
        "webhook-endpoints/{endpoint_id}",
        {
            "GET": None,
            "PATCH": {"url": "https://hooks.a.example/stolen", "status": "disabled"},
            "DELETE": None,
        },
    ),
    "webhook-endpoint-rotate-secret": (
        "webhook-endpoints/{endpoint_id}/rotate-secret",
        {"POST": None},
    ),
    "webhook-endpoint-deliveries": ("webhook-endpoints/{endpoint_id}/deliveries", {"GET": None}),
    "webhook-endpoint-replay": (
        "webhook-endpoints/{endpoint_id}/replay",
        {"POST": {"since": "2000-01-01", "status": "all"}},
    ),
    "webhook-delivery-detail": ("webhook-deliveries/{delivery_id}", {"GET": None}),
    "webhook-delivery-retry": ("webhook-deliveries/{delivery_id}/retry", {"POST": None}),
}
# Routes that name an object by id: with another store's id they must be a 404.
ID_ROUTES = [name for name, (path, _) in ROUTES.items() if "{" in path]
PREFIXES = ["/v1/", "/v1/stores/{store_id}/", "/api/"]


@pytest.fixture
def tenants(store, other_store):
    """Store A (the caller, premium) and store B (free), each with a customer, an order
    (B's shipped), a note, an event, a webhook endpoint and a delivery."""
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
        **_events_and_webhooks("a", store, order_a),
        **_events_and_webhooks("b", other_store, order_b),
    }


def _events_and_webhooks(name: str, store, order) -> dict:
    """The store's order after a real change (so it has an event), a failed customer note,
    a webhook endpoint and a failed delivery of the event to it, keyed `order_<name>`,
    `note_<name>`, `event_<name>`, `endpoint_<name>` and `delivery_<name>`."""
    order_update(store=store, order=order, actor="staff", details={"internal_notes": "NOTE-SECRET"})
    event = Event.objects.get(store=store, order_id=order.pk)
    endpoint = WebhookEndpoint.objects.create(
        store=store,
        url=f"https://hooks.{name}.example/HOOK-SECRET",
        events=["*"],
        description="HOOK-SECRET",
        secret=generate_secret(),
    )
    # A customer note whose email failed: the one kind a resend acts on.
    note = OrderNote.objects.create(
        store=store,
        order=order,
        content="NOTE-BODY-SECRET",
        is_internal=False,
        author="staff",
        notification_status=OrderNote.Notification.FAILED,
        notification_attempts=5,
    )
    delivery = WebhookDelivery.objects.create(
        store=store,
        endpoint=endpoint,
        event=event,
        event_type=event.type,
        order_id=order.pk,
        sequence=1,
        status=WebhookDelivery.Status.FAILED,
        last_response_body="RECEIVER-SECRET",
    )
    return {
        f"order_{name}": Order.objects.get(pk=order.pk),
        f"event_{name}": event,
        f"endpoint_{name}": endpoint,
        f"delivery_{name}": delivery,
        f"note_{name}": note,
    }


def _assert_unchanged(tenants, name: str) -> None:
    """Store `name`'s order, note, endpoint and delivery are as the fixture left them, and
    no order, note, refund, event, endpoint or delivery was added."""
    order, note, endpoint, delivery = (
        tenants[f"{kind}_{name}"] for kind in ("order", "note", "endpoint", "delivery")
    )
    fresh = Order.objects.get(pk=order.pk)
    assert (fresh.status, fresh.payment_status, fresh.updated_at) == (
        order.status,
        order.payment_status,
        order.updated_at,
    )
    assert Order.objects.filter(store_id=order.store_id).count() == 1
    assert list(fresh.notes.values_list("pk", "notification_status", "notification_attempts")) == [
        (note.pk, note.notification_status, note.notification_attempts)
    ]
    assert not fresh.refunds.exists()
    assert Event.objects.filter(store_id=order.store_id).count() == 1
    stored = WebhookEndpoint.objects.get(pk=endpoint.pk)
    assert (stored.url, stored.status, stored.secret, stored.previous_secret) == (
        endpoint.url,
        endpoint.status,
        endpoint.secret,
        "",
    )
    assert WebhookEndpoint.objects.count() == 2
    stored = WebhookDelivery.objects.get(pk=delivery.pk)
    assert (stored.status, stored.next_attempt_at) == (delivery.status, delivery.next_attempt_at)
    assert WebhookDelivery.objects.count() == 2


def _url(prefix: str, path: str, tenants, *, store: str, objects: str) -> str:
    """`prefix + path` under store `store` ("a" or "b"), naming the objects of `objects`."""
    return (prefix + path).format(
        store_id=tenants[store].public_id,
        **{
            f"{kind}_id": tenants[f"{kind}_{objects}"].public_id
            for kind in ("order", "event", "endpoint", "delivery", "note")
        },
    )


# What of store B a response could leak: its customer, order, fulfillment, webhook receiver
# and what the receiver answered.
B_SECRETS = (
    "Bertha",
    "bertha@b.example",
    "PO-SECRET-B",
    "TRACK-SECRET-B",
    "NOTE-SECRET",
    "HOOK-SECRET",
    "hooks.b.example",
    "RECEIVER-SECRET",
    "NOTE-BODY-SECRET",
    "whsec_",
)


def _assert_learns_nothing(response, tenants) -> None:
    body = response.content.decode()
    assert response.status_code == 404, body
    assert response.json()["error"]["code"] == "NOT_FOUND"
    # The 404 may echo the id the caller sent, and nothing else of store B.
    for secret in B_SECRETS:
        assert secret not in body
    assert response.json()["error"]["details"] == []


def _call(tenants, method: str, url: str, body):
    return getattr(tenants["client"], method.lower())(url, body, format="json")


@pytest.mark.parametrize("prefix", PREFIXES)
@pytest.mark.parametrize("route", ID_ROUTES)
def test_another_stores_ids_are_404(tenants, route, prefix):
    path, methods = ROUTES[route]
    url = _url(prefix, path, tenants, store="a", objects="b")
    for method, body in methods.items():
        _assert_learns_nothing(_call(tenants, method, url, body), tenants)
    _assert_unchanged(tenants, "b")


@pytest.mark.parametrize("route", list(ROUTES))
def test_another_stores_path_is_404_even_for_own_ids(tenants, route):
    path, methods = ROUTES[route]
    url = _url("/v1/stores/{store_id}/", path, tenants, store="b", objects="a")
    for method, body in methods.items():
        _assert_learns_nothing(_call(tenants, method, url, body), tenants)
    _assert_unchanged(tenants, "a")
    _assert_unchanged(tenants, "b")


@pytest.mark.parametrize("store_id", ["str_nope", "str_00000000-0000-0000-0000-000000000000"])
def test_unknown_store_path_is_404_like_a_foreign_one(tenants, store_id):
    _assert_learns_nothing(tenants["client"].get(f"/v1/stores/{store_id}/orders"), tenants)


@pytest.mark.parametrize("prefix", PREFIXES)
def test_list_and_count_hold_only_the_callers_orders(tenants, prefix):
    client = tenants["client"]

    listed = client.get(_url(prefix, "orders", tenants, store="a", objects="a")).json()
    counted = client.get(_url(prefix, "orders/count", tenants, store="a", objects="a")).json()

    assert [o["id"] for o in listed["data"]] == [tenants["order_a"].public_id]
    assert listed["pagination"]["total"] == 1
    assert counted == {"data": {"count": 1}}


@pytest.mark.parametrize("prefix", PREFIXES)
@pytest.mark.parametrize(
    ("path", "own"),
    [
        ("events", "event"),
        ("webhook-endpoints", "endpoint"),
        ("webhook-endpoints/{endpoint_id}/deliveries", "delivery"),
    ],
)
def test_event_and_webhook_lists_hold_only_the_callers(tenants, prefix, path, own):
    response = tenants["client"].get(_url(prefix, path, tenants, store="a", objects="a"))

    assert [item["id"] for item in response.json()["data"]] == [tenants[f"{own}_a"].public_id]
    assert response.json()["pagination"]["total"] == 1
    body = response.content.decode()
    assert not any(secret in body for secret in ("Bertha", "hooks.b.example", "whsec_"))


@pytest.mark.parametrize("kind", ["order", "event", "endpoint", "delivery"])
def test_another_stores_id_is_answered_like_an_id_naming_nothing(tenants, kind):
    """A foreign id and a well-formed id naming nothing get the same answer but for the
    id echoed: no status, code or wording tells the caller the object exists elsewhere."""
    placeholder = "{" + kind + "_id}"
    path = next("/v1/" + path for path, _ in ROUTES.values() if path.endswith(placeholder))
    foreign_id = tenants[f"{kind}_b"].public_id
    nothing = re.sub(r"_[0-9a-f]{8}-", "_00000000-", foreign_id, count=1)

    foreign = tenants["client"].get(path.replace(placeholder, foreign_id)).json()["error"]
    missing = tenants["client"].get(path.replace(placeholder, nothing)).json()["error"]

    assert foreign["code"] == missing["code"] == "NOT_FOUND"
    assert foreign["message"].replace(foreign_id, "…") == missing["message"].replace(nothing, "…")


def test_another_stores_note_on_an_own_order_is_404(tenants):
    order_a, note_b = tenants["order_a"].public_id, tenants["note_b"].public_id

    response = tenants["client"].post(f"/v1/orders/{order_a}/notes/{note_b}/resend")

    _assert_learns_nothing(response, tenants)
    _assert_unchanged(tenants, "b")


def test_filtering_events_by_another_stores_order_finds_nothing(tenants):
    response = tenants["client"].get("/v1/events", {"order_id": tenants["order_b"].public_id})

    assert response.status_code == 200
    assert response.json()["data"] == []


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
