"""Every error an integrator can provoke has one shape (DESIGN.md "API", "Errors"):
`{"error": {"code", "message", "details", "context", "request_id"}}`, `details` a list of
exactly {field, message} (empty when no one field is at fault; FEATURE_ACCESS_DENIED alone
keeps seed 001's object), and `context` an object holding the refusal's specifics.

One test per code family, through the API. The shape itself is assert_error's
(tests/helpers.py); each test pins what its family puts in details and context, and that
the refusal changed nothing.
"""

from datetime import timedelta
from uuid import uuid4

import pytest
from django.utils import timezone
from rest_framework.exceptions import Throttled
from rest_framework.test import APIRequestFactory

from orders.api.errors import exception_handler
from orders.idempotency import request_fingerprint
from orders.models import IdempotencyKey, Order
from tests.factories import (
    make_api_key,
    make_order,
    make_shipping_method,
    make_tax_rate,
    make_variant,
)
from tests.helpers import (
    api_client,
    assert_error,
    assert_scope_refused,
    create_order,
    detail_fields,
    order_body,
    order_state,
    paid_order,
    patch_order,
    refund,
    refund_line,
    row_and_history,
    stock_of,
    void_order,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def mug(store):
    """A 24.00 mug, 10 in stock, in `store` (premium, standard shipping, Oregon tax)."""
    make_shipping_method(store=store, code="standard", price="5.99")
    make_tax_rate(store=store, country_code="US", province="OR", rate="0.11")
    return make_variant(store=store, price="24.00", stock=10, product_name="Ceramic Mug")


def test_validation_error_names_each_field_and_has_no_context(client, store, mug):
    body = order_body(store, [(mug, 0)])
    body["shipping_method"] = ""

    response = client.post("/v1/orders", body, format="json")

    error = assert_error(response, 400, "VALIDATION_ERROR")
    assert set(detail_fields(error)) == {"line_items[0].quantity", "shipping_method"}
    assert error["context"] == {}
    assert (Order.objects.count(), stock_of(mug)) == (0, 10)


def test_malformed_json_is_an_error_of_the_same_shape(client):
    response = client.post("/v1/orders", data="{nope", content_type="application/json")

    error = assert_error(response, 400, "MALFORMED_REQUEST")
    assert error["context"] == {}
    assert Order.objects.count() == 0


def test_not_found_has_no_field_and_no_context(client):
    response = client.get(f"/v1/orders/ord_{uuid4()}")

    error = assert_error(response, 404, "NOT_FOUND")
    assert (error["details"], error["context"]) == ([], {})


@pytest.mark.parametrize(
    ("key", "code"),
    [(None, "MISSING_API_KEY"), ("wk_live_" + "x" * 40, "INVALID_API_KEY")],
    ids=["missing", "invalid"],
)
def test_authentication_errors_have_no_field_and_no_context(store, key, code):
    response = api_client(key).get("/v1/orders")

    error = assert_error(response, 401, code)
    assert (error["details"], error["context"]) == ([], {})


def test_insufficient_scope_puts_the_scope_needed_in_context(store):
    key = make_api_key(store=store, scopes=["read:orders", "write:refunds"])
    order = make_order(store=store)
    before = row_and_history(order)

    response = patch_order(api_client(key), order, {"status": "confirmed"})

    error = assert_scope_refused(response, "write:orders")
    assert error["context"] == {
        "required_scope": "write:orders",
        "granted_scopes": ["read:orders", "write:refunds"],
    }
    assert row_and_history(order) == before


def test_invalid_transition_names_status_and_puts_the_steps_in_context(client, store):
    order = make_order(store=store, status="pending")
    before = row_and_history(order)

    response = patch_order(client, order, {"status": "shipped"})

    error = assert_error(response, 422, "INVALID_TRANSITION")
    assert detail_fields(error) == ["status"]
    assert error["context"] == {
        "from": "pending",
        "to": "shipped",
        "allowed_transitions": ["confirmed", "cancelled"],
    }
    assert row_and_history(order) == before


def test_invalid_payment_transition_names_payment_status(client, store):
    order = make_order(store=store, status="confirmed", payment_status="paid")
    before = row_and_history(order)

    response = patch_order(client, order, {"payment_status": "pending"})

    error = assert_error(response, 422, "INVALID_TRANSITION")
    assert detail_fields(error) == ["payment_status"]
    assert error["context"] == {"from": "paid", "to": "pending", "allowed_transitions": []}
    # The API's next step is read from details: refund states come from refunds.
    assert error["message"].endswith("Refunds go through POST /orders/{id}/refunds.")
    assert row_and_history(order) == before


def test_a_shipping_address_change_too_late_names_shipping_address(client, store):
    order = make_order(store=store, status="shipped")
    before = row_and_history(order)

    response = patch_order(client, order, {"shipping_address": {"city": "Salem"}})

    error = assert_error(response, 422, "INVALID_TRANSITION")
    assert detail_fields(error) == ["shipping_address"]
    assert error["context"] == {"status": "shipped"}
    assert row_and_history(order) == before


def test_order_paid_names_status_and_puts_the_payment_in_context(client, store, mug):
    order = paid_order(client, store, [(mug, 2)])
    before = order_state(order)

    response = patch_order(client, order, {"status": "cancelled"})

    error = assert_error(response, 409, "ORDER_PAID")
    assert detail_fields(error) == ["status"]
    assert error["context"] == {"status": "pending", "payment_status": "paid"}
    assert order_state(order) == before


def test_order_not_voidable_has_no_field_and_puts_the_order_state_in_context(client, store, mug):
    order = paid_order(client, store, [(mug, 2)])
    before = order_state(order)

    response = void_order(client, order)

    error = assert_error(response, 422, "ORDER_NOT_VOIDABLE")
    assert error["details"] == []
    assert error["context"] == {"status": "pending", "payment_status": "paid"}
    assert order_state(order) == before


def test_insufficient_stock_names_the_line_and_puts_the_figures_in_context(client, store, mug):
    response = client.post("/v1/orders", order_body(store, [(mug, 11)]), format="json")

    error = assert_error(response, 422, "INSUFFICIENT_STOCK")
    assert error["details"] == [
        {"field": "line_items[0].quantity", "message": f"{mug.sku} has 10 left, 11 wanted."}
    ]
    assert error["context"] == {
        "shortages": [
            {
                "field": "line_items[0].quantity",
                "variant_id": mug.public_id,
                "sku": mug.sku,
                "requested": 11,
                "available": 10,
            }
        ]
    }
    assert (Order.objects.count(), stock_of(mug)) == (0, 10)


def test_precondition_failed_puts_the_current_etag_in_context(client, store):
    order = make_order(store=store)
    before = row_and_history(order)

    response = patch_order(client, order, {"status": "confirmed"}, HTTP_IF_MATCH='"stale"')

    error = assert_error(response, 412, "PRECONDITION_FAILED")
    assert (error["details"], error["context"]) == ([], {"current_etag": order.etag})
    assert row_and_history(order) == before


def test_order_not_refundable_has_no_field_and_puts_the_order_state_in_context(client, store, mug):
    order = create_order(client, store, [(mug, 1)])
    before = order_state(order)

    response = refund(client, order, {"amount": "1.00"})

    error = assert_error(response, 422, "ORDER_NOT_REFUNDABLE")
    assert error["details"] == []
    assert error["context"] == {"status": "pending", "payment_status": "pending"}
    assert order_state(order) == before


def test_refund_exceeds_balance_names_the_amount_and_puts_the_figures_in_context(
    client, store, mug
):
    order = paid_order(client, store, [(mug, 1)])  # 24.00 + 2.64 tax + 5.99 shipping
    before = order_state(order)

    response = refund(client, order, {"amount": "40.00"})

    error = assert_error(response, 422, "REFUND_EXCEEDS_BALANCE")
    assert detail_fields(error) == ["amount"]
    assert error["context"] == {
        "requested": 40.00,
        "refundable": 32.63,
        "total": 32.63,
        "refunded": 0.00,
    }
    assert order_state(order) == before


def test_refund_exceeds_quantity_names_the_line_and_puts_the_units_in_context(client, store, mug):
    order = paid_order(client, store, [(mug, 1)])
    before = order_state(order)

    response = refund(client, order, {"line_items": [refund_line(order, quantity=2)]})

    error = assert_error(response, 422, "REFUND_EXCEEDS_QUANTITY")
    assert detail_fields(error) == ["line_items[0].quantity"]
    assert error["context"] == {
        "lines": [
            {"line_item_id": order["items"][0]["id"], "requested": 2, "refundable_quantity": 1}
        ]
    }
    assert order_state(order) == before


def test_idempotency_key_reused_is_an_error_of_the_same_shape(client, store, mug):
    body = order_body(store, [(mug, 1)])
    client.post("/v1/orders", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    body["line_items"][0]["quantity"] = 2

    response = client.post("/v1/orders", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")

    error = assert_error(response, 422, "IDEMPOTENCY_KEY_REUSED")
    assert (error["details"], error["context"]) == ([], {})
    assert (Order.objects.count(), stock_of(mug)) == (1, 9)


def test_idempotency_key_in_use_is_an_error_of_the_same_shape(client, store, mug):
    # Given a void with this key still running (claimed a moment ago, not completed)
    order = create_order(client, store, [(mug, 1)])
    path = f"/v1/orders/{order['id']}/void"
    IdempotencyKey.objects.create(
        store=store,
        key="void-1",
        request_fingerprint=request_fingerprint(method="POST", path=path, body={}),
        locked_at=timezone.now() - timedelta(seconds=1),
    )
    before = order_state(order)

    response = client.post(path, {}, format="json", HTTP_IDEMPOTENCY_KEY="void-1")

    error = assert_error(response, 409, "IDEMPOTENCY_KEY_IN_USE")
    assert (error["details"], error["context"]) == ([], {})
    assert order_state(order) == before


def test_feature_access_denied_keeps_seed_001s_details_object(free_store):
    # Given a paid order of a free store
    free = api_client(make_api_key(store=free_store))
    make_shipping_method(store=free_store, code="standard", price="5.99")
    variant = make_variant(store=free_store, price="24.00", stock=10)
    order = paid_order(free, free_store, [(variant, 1)])
    before = order_state(order)

    # When a refund asks for its units back in stock
    response = refund(free, order, {"line_items": [refund_line(order)], "restock": True})

    # Then seed 001's shape, with the plan's figures in context, and nothing changed
    error = assert_error(response, 403, "FEATURE_ACCESS_DENIED")
    assert error["message"] == (
        "Inventory control requires the premium plan. Upgrade your plan to use it."
    )
    assert error["details"] == {"feature": "inventory"}
    assert error["context"] == {"feature": "inventory", "required_plan": "premium", "plan": "free"}
    assert order_state(order) == before


def test_method_not_allowed_puts_the_allowed_methods_in_context(client):
    response = client.delete("/v1/orders")

    error = assert_error(response, 405, "METHOD_NOT_ALLOWED")
    assert error["details"] == []
    assert error["context"] == {"allowed_methods": ["GET", "POST"]}


@pytest.mark.parametrize(("wait", "retry_after"), [(12, 12), (0.2, 1)])
def test_rate_limited_puts_retry_after_in_context_and_the_header(wait, retry_after):
    # DRF raises Throttled with the wait its throttle computed; the handler renders it.
    request = APIRequestFactory().get("/v1/orders")
    request.request_id = "req_test"

    response = exception_handler(Throttled(wait=wait), {"request": request})

    assert response.status_code == 429
    error = response.data["error"]
    assert set(error) == {"code", "message", "details", "context", "request_id"}
    assert (error["code"], error["details"]) == ("RATE_LIMITED", [])
    assert error["context"] == {"retry_after": retry_after}
    assert response["Retry-After"] == str(retry_after)
