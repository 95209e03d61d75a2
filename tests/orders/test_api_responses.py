"""The wire format: envelopes on success and on every error, money and time rendering,
the single-order shape, and query counts that do not grow with the page."""

import re
from datetime import UTC, datetime
from decimal import Decimal
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from notes.services import note_create
from orders.models import Order
from refunds.services import RefundLineRequest, refund_create
from tests.factories import make_customer, make_fulfillment, make_order
from tests.helpers import api_client, assert_error

pytestmark = pytest.mark.django_db


def test_money_is_a_json_number_with_exactly_two_decimals(client, store):
    make_order(store=store, unit_price="53.20", tax_amount=Decimal("5.28"))

    body = client.get("/v1/orders").content.decode()

    assert '"subtotal":53.20' in body
    assert '"tax_amount":5.28' in body
    assert '"discount_amount":0.00' in body
    assert client.get("/v1/orders").json()["data"][0]["total"] == 53.2


def test_timestamps_are_utc_with_milliseconds_and_z(client, store):
    created = datetime(2026, 3, 10, 9, 0, 0, 123456, tzinfo=UTC)
    make_order(store=store, created_at=created)

    order = client.get("/v1/orders").json()["data"][0]

    assert order["created_at"] == "2026-03-10T09:00:00.123Z"
    assert order["confirmed_at"] is None


def test_one_order_carries_items_fulfillments_and_the_contract_fields(client, store):
    customer = make_customer(store=store, name="Jane Cooper", email="jane@example.com")
    order = make_order(
        store=store,
        customer=customer,
        items=2,
        status="shipped",
        payment_status="paid",
        shipped_at=datetime(2026, 3, 11, tzinfo=UTC),
    )
    make_fulfillment(order=order, carrier="UPS", tracking_number="1Z999")

    response = client.get(f"/v1/orders/{order.public_id}")

    assert response.status_code == 200
    data = response.json()["data"]
    assert data["object"] == "order"
    assert data["id"] == order.public_id
    assert data["id"].startswith("ord_")
    assert data["store_id"] == store.public_id
    assert data["customer"] == {
        "id": customer.public_id,
        "name": "Jane Cooper",
        "email": "jane@example.com",
        "phone": "",
        "code": "",
    }
    assert data["customer_id"] == customer.public_id
    assert [item["object"] for item in data["items"]] == ["line_item", "line_item"]
    assert data["fulfillments"][0]["tracking_number"] == "1Z999"
    assert data["fulfillments"][0]["id"].startswith("ful_")
    assert data["allowed_transitions"] == ["delivered", "returned"]
    assert data["payment"] == {
        "method": "card",
        "status": "paid",
        "amount": 20.0,
        "currency": "USD",
    }
    assert data["is_fully_paid"] is True
    assert data["is_cancellable"] is False
    assert data["item_count"] == 2
    assert set(data["shipping_address"]) == {
        "name",
        "phone",
        "address",
        "line2",
        "city",
        "province",
        "postal_code",
        "country",
        "country_code",
        "notes",
    }


def test_one_order_accepts_include_status_history(client, store):
    order = make_order(store=store)

    data = client.get(f"/v1/orders/{order.public_id}", {"include": "status_history"}).json()["data"]

    assert data["status_history"][0]["from_status"] is None
    assert data["status_history"][0]["to_status"] == "pending"
    assert "items" in data
    assert "fulfillments" in data


def test_status_history_lists_each_change_with_actor_and_reason(client, store):
    order = make_order(store=store)
    order.status = "confirmed"
    order.payment_status = "paid"
    order._history_actor, order._change_reason = "staff_jane", "Payment captured"
    order.save()
    order.internal_notes = "no status change here"
    order.save()

    history = client.get(f"/v1/orders/{order.public_id}/status-history").json()

    assert history["object"] == "list"
    assert [(h["from_status"], h["to_status"]) for h in history["data"]] == [
        (None, "pending"),
        ("pending", "confirmed"),
    ]
    change = history["data"][1]
    assert change["from_payment_status"] == "pending"
    assert change["to_payment_status"] == "paid"
    assert change["changed_by"] == "staff_jane"
    assert change["reason"] == "Payment captured"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", change["created_at"])


def test_list_envelope_has_data_pagination_and_meta(client, store):
    make_order(store=store)

    body = client.get(
        "/v1/orders", {"status": "in_progress,pending", "date_from": "2026-03-10", "q": "Jane"}
    ).json()

    assert body["object"] == "list"
    assert {"page", "per_page", "total", "total_pages"} <= set(body["pagination"])
    assert body["meta"]["filters"] == {
        "status": ["processing", "pending"],
        "date_from": "2026-03-10",
        "q": "Jane",
        # The bare date as the UTC instant it was resolved to (the store keeps UTC).
        "created_at": {"gte": "2026-03-10T00:00:00.000Z"},
    }
    assert body["meta"]["sort"] == "-created_at"
    assert body["meta"]["timings_ms"]["total"] >= 0


@pytest.mark.parametrize(
    "path", ["/v1/nothing-here", "/v1/stores", "/api/unknown", "/v1/orders/ord_x/unknown-thing"]
)
def test_unknown_route_is_404_in_the_envelope(client, path):
    response = client.get(path)

    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "NOT_FOUND"
    assert error["request_id"] == response["X-Request-Id"]


def test_malformed_order_id_is_404_not_500(client):
    for order_id in ("ord_not-a-uuid", "123", "cust_00000000-0000-0000-0000-000000000000"):
        response = client.get(f"/v1/orders/{order_id}")
        assert_error(response, 404, "NOT_FOUND")


def test_unsupported_method_is_405_naming_the_allowed_ones(client):
    response = client.delete("/v1/orders/count")

    assert response.status_code == 405
    error = response.json()["error"]
    assert error["code"] == "METHOD_NOT_ALLOWED"
    assert "GET" in error["message"]


def test_unhandled_error_is_500_in_the_envelope_with_the_request_id(api_key, store):
    client = api_client(api_key, raise_request_exception=False)

    with mock.patch("orders.selectors.order_count_matching", side_effect=RuntimeError("boom")):
        response = client.get("/v1/orders/count", HTTP_X_REQUEST_ID="client-req-12345")

    assert response.status_code == 500
    error = response.json()["error"]
    assert error["code"] == "INTERNAL_ERROR"
    assert error["request_id"] == "client-req-12345" == response["X-Request-Id"]
    assert "boom" not in response.content.decode()


def test_nul_in_a_parameter_is_400_not_a_database_error(client):
    response = client.get("/v1/orders", {"search": "abc\x00def"})

    assert response.status_code == 400
    assert response.json()["error"]["details"][0]["field"] == "search"


def test_all_bad_parameters_are_reported_together(client):
    response = client.get("/v1/orders", {"per_page": "0", "status": "bogus", "sort": "nope"})

    fields = {d["field"] for d in response.json()["error"]["details"]}
    assert response.status_code == 400
    assert fields == {"per_page", "status", "sort"}


def _queries_for_list(client, per_page: int) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(
            "/v1/orders",
            {"per_page": per_page, "include": "items,fulfillments,status_history,notes,refunds"},
        )
    assert response.status_code == 200
    assert len(response.json()["data"]) == min(per_page, Order.objects.count())
    return len(captured.captured_queries)


def test_list_with_every_include_runs_the_same_queries_at_any_page_size(client, store):
    customer = make_customer(store=store)
    for _ in range(260):
        order = make_order(store=store, customer=customer, items=2, payment_status="paid")
        make_fulfillment(order=order)
    # The newest order (on every page size's first page) has a note and a refund with a line.
    note_create(store=store, order=order, content="memo", is_internal=True, author="x")
    refund_create(
        store=store,
        order=order,
        actor="x",
        lines=[RefundLineRequest(order.items.first().pk, 1)],
    )
    client.get("/v1/orders/count")  # settle last_used_at so it is not written below

    counts = {per_page: _queries_for_list(client, per_page) for per_page in (1, 25, 250)}

    assert counts[1] == counts[25] == counts[250], counts
    # count, page, items, fulfillments, status history, notes, refunds + lines (the key is
    # warm: no lookup, orders.services.api_keys)
    assert counts[250] == 8


def test_openapi_schema_documents_every_route_and_list_parameter(anonymous_client):
    response = anonymous_client.get("/v1/openapi.json")

    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    paths = set(schema["paths"])
    for suffix in ("", "/count", "/{order_id}", "/{order_id}/items", "/{order_id}/status-history"):
        assert f"/v1/orders{suffix}" in paths
        assert f"/v1/stores/{{store_id}}/orders{suffix}" in paths
    list_params = {p["name"] for p in schema["paths"]["/v1/orders"]["get"]["parameters"]}
    for name in (
        "status",
        "payment_status",
        "q",
        "cursor",
        "limit",
        "offset",
        "total[gte]",
        "min_total",
        "updated_since",
        "filter_on",
        "include",
        "sort",
        "order",
        "country_code",
        "city",
    ):
        assert name in list_params
    assert {"ApiKeyHeader", "ApiKeyQuery"} <= set(schema["components"]["securitySchemes"])


def test_swagger_ui_is_served_without_any_cdn(anonymous_client):
    response = anonymous_client.get("/v1/docs")

    html = response.content.decode()
    assert response.status_code == 200
    assert "swagger-ui" in html
    assert "cdn." not in html
    assert "unpkg" not in html
    assert "jsdelivr" not in html
