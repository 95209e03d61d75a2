"""PATCH /orders/{id} beyond the status machine: payment status changes, strict input (no
mass assignment), shipping address and detail edits, If-Match / ETag, all-or-nothing writes,
the scopes PATCH needs and another store's orders. The void endpoint is in
test_order_transitions.py."""

import pytest
from django.utils import timezone

from orders.models import Order
from tests.contract import PAYMENT_PATCH_TARGETS, PAYMENT_STATUSES
from tests.factories import make_api_key, make_order
from tests.helpers import (
    actor_of,
    api_client,
    assert_error,
    fields_named,
    order_row,
    patch_order,
    row_and_history,
    status_history,
)

pytestmark = pytest.mark.django_db

# A change of each kind PATCH makes: a status step, a payment change, a detail edit.
ONE_CHANGE_OF_EACH_KIND = [
    pytest.param({"status": "confirmed"}, id="status"),
    pytest.param({"payment_status": "paid"}, id="payment"),
    pytest.param({"po_number": "PO-1"}, id="detail"),
]


def _payment_pairs():
    for from_status in PAYMENT_STATUSES:
        for to_status in PAYMENT_STATUSES:
            yield pytest.param(from_status, to_status, id=f"{from_status}->{to_status}")


ALLOWED_PAYMENT = [p for p in _payment_pairs() if p.values[1] in PAYMENT_PATCH_TARGETS[p.values[0]]]
SAME_PAYMENT = [p for p in _payment_pairs() if p.values[0] == p.values[1]]
REFUSED_PAYMENT = [
    p
    for p in _payment_pairs()
    if p.values[1] not in PAYMENT_PATCH_TARGETS[p.values[0]] and p.values[0] != p.values[1]
]


# --- payment_status ------------------------------------------------------------------------


def test_the_payment_table_covers_every_pair_of_the_six_payment_statuses():
    assert len(ALLOWED_PAYMENT) + len(SAME_PAYMENT) + len(REFUSED_PAYMENT) == 6 * 6
    assert len(ALLOWED_PAYMENT) == 4


@pytest.mark.parametrize(("from_payment", "to_payment"), ALLOWED_PAYMENT)
def test_allowed_payment_change_is_applied_and_recorded(client, store, from_payment, to_payment):
    # Given a confirmed order whose payment is `from_payment`
    order = make_order(store=store, status="confirmed", payment_status=from_payment)

    # When its payment status is PATCHed
    started = timezone.now()
    response = patch_order(
        client, order, {"payment_status": to_payment, "reason": "Gateway webhook"}
    )

    # Then it is applied, the status stays, and the history records the payment change
    assert response.status_code == 200, response.content
    data = response.json()["data"]
    assert data["payment_status"] == to_payment
    assert data["payment"]["status"] == to_payment
    assert data["status"] == "confirmed"
    after = order_row(order)
    assert after["payment_status"] == to_payment
    assert after["status"] == "confirmed"
    assert after["updated_at"] >= started
    assert response["ETag"] == Order.objects.get(pk=order.pk).etag
    history = status_history(client, order)
    assert len(history) == 2
    assert {k: history[-1][k] for k in history[-1] if k != "created_at"} == {
        "object": "status_change",
        "from_status": "confirmed",
        "to_status": "confirmed",
        "from_payment_status": from_payment,
        "to_payment_status": to_payment,
        "changed_by": actor_of(store),
        "reason": "Gateway webhook",
    }


@pytest.mark.parametrize(("from_payment", "to_payment"), REFUSED_PAYMENT)
def test_refused_payment_change_is_422_and_changes_nothing(client, store, from_payment, to_payment):
    order = make_order(store=store, status="confirmed", payment_status=from_payment)
    before = row_and_history(order)

    response = patch_order(client, order, {"payment_status": to_payment})

    error = assert_error(response, 422, "INVALID_TRANSITION")
    assert fields_named(error) == {"payment_status"}
    assert error["context"] == {
        "from": from_payment,
        "to": to_payment,
        "allowed_transitions": sorted(PAYMENT_PATCH_TARGETS[from_payment]),
    }
    assert row_and_history(order) == before


@pytest.mark.parametrize(("from_payment", "to_payment"), SAME_PAYMENT)
def test_patch_to_the_current_payment_status_is_a_no_op(client, store, from_payment, to_payment):
    order = make_order(store=store, status="confirmed", payment_status=from_payment)
    before = row_and_history(order)

    response = patch_order(client, order, {"payment_status": to_payment})

    assert response.status_code == 200, response.content
    assert row_and_history(order) == before


def test_cash_on_delivery_order_marked_paid_is_recorded_in_the_history(client, store):
    # Given a delivered cash-on-delivery order not paid yet
    order = make_order(
        store=store, status="delivered", payment_status="pending", payment_method="cod"
    )

    # When the courier's cash is recorded
    response = patch_order(client, order, {"payment_status": "paid", "reason": "Cash collected"})

    # Then the order is fully paid and the history says who marked it and why
    assert response.status_code == 200, response.content
    data = response.json()["data"]
    assert data["payment_status"] == "paid"
    assert data["is_fully_paid"] is True
    assert data["payment"] == {"method": "cod", "status": "paid", "amount": 10.0, "currency": "USD"}
    entry = status_history(client, order)[-1]
    assert (entry["from_payment_status"], entry["to_payment_status"]) == ("pending", "paid")
    assert (entry["from_status"], entry["to_status"]) == ("delivered", "delivered")
    assert entry["changed_by"] == actor_of(store)
    assert entry["reason"] == "Cash collected"


def test_refunded_is_not_a_payment_status_a_client_can_set(client, store):
    order = make_order(store=store, status="delivered", payment_status="paid")
    before_row = order_row(order)

    response = patch_order(client, order, {"payment_status": "refunded"})

    error = assert_error(response, 422, "INVALID_TRANSITION")
    assert error["context"]["to"] == "refunded"
    assert "refund" in error["message"]
    assert order_row(order) == before_row


@pytest.mark.parametrize(
    ("status", "payment_status"), [("cancelled", "pending"), ("cancelled", "failed")]
)
def test_payment_of_a_cancelled_order_cannot_change(client, store, status, payment_status):
    order = make_order(store=store, status=status, payment_status=payment_status)
    before = row_and_history(order)

    response = patch_order(client, order, {"payment_status": "paid"})

    error = assert_error(response, 422, "INVALID_TRANSITION")
    assert error["context"]["allowed_transitions"] == []
    assert row_and_history(order) == before


@pytest.mark.parametrize("to_payment", ["pending", "paid", "failed"])
def test_payment_of_a_voided_order_cannot_change(client, store, to_payment):
    order = make_order(store=store, status="voided", payment_status="voided")
    before_row = order_row(order)

    response = patch_order(client, order, {"payment_status": to_payment})

    error = assert_error(response, 422, "INVALID_TRANSITION")
    assert error["context"]["allowed_transitions"] == []
    assert order_row(order) == before_row


def test_unknown_payment_status_is_400(client, store):
    order = make_order(store=store, status="confirmed")
    before_row = order_row(order)

    response = patch_order(client, order, {"payment_status": "captured"})

    error = assert_error(response, 400, "VALIDATION_ERROR")
    assert fields_named(error) == {"payment_status"}
    assert order_row(order) == before_row


def test_status_and_payment_change_together_in_one_history_entry(client, store):
    order = make_order(store=store, status="pending", payment_status="pending")

    response = patch_order(
        client,
        order,
        {"status": "confirmed", "payment_status": "paid", "reason": "Payment captured"},
    )

    assert response.status_code == 200, response.content
    history = status_history(client, order)
    assert len(history) == 2
    entry = history[-1]
    assert (entry["from_status"], entry["to_status"]) == ("pending", "confirmed")
    assert (entry["from_payment_status"], entry["to_payment_status"]) == ("pending", "paid")
    assert entry["reason"] == "Payment captured"


def test_marking_paid_and_cancelling_at_once_is_409_and_changes_nothing(client, store):
    order = make_order(store=store, status="confirmed", payment_status="pending")
    before = row_and_history(order)

    response = patch_order(client, order, {"payment_status": "paid", "status": "cancelled"})

    assert_error(response, 409, "ORDER_PAID")
    assert row_and_history(order) == before


# --- strict input: no mass assignment ------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("total", 0.01),
        ("subtotal", 0),
        ("id", "ord_00000000-0000-0000-0000-000000000000"),
        ("store_id", "str_00000000-0000-0000-0000-000000000000"),
        ("order_number", 1),
        ("customer_name", "Mallory"),
        ("items", []),
        ("line_items", []),
        ("refunded_amount", 0),
        ("created_at", "2020-01-01T00:00:00Z"),
        ("confirmed_at", "2020-01-01T00:00:00Z"),
        ("allowed_transitions", ["completed"]),
        ("customer_id", "cust_00000000-0000-0000-0000-000000000000"),
    ],
)
def test_read_only_field_is_400_naming_it_and_changes_nothing(client, store, field, value):
    # Given a pending order
    order = make_order(store=store, status="pending")
    before = row_and_history(order)

    # When a client tries to set a read-only field alongside a valid change
    response = patch_order(client, order, {"status": "confirmed", field: value})

    # Then the whole request is refused, naming the field, and nothing changes
    error = assert_error(response, 400, "VALIDATION_ERROR")
    assert fields_named(error) == {field}
    assert "read-only" in error["details"][0]["message"]
    assert row_and_history(order) == before


def test_unknown_field_is_400_naming_it_and_changes_nothing(client, store):
    order = make_order(store=store, status="pending")
    before_row = order_row(order)

    response = patch_order(client, order, {"po_number": "PO-9", "priority": "high"})

    error = assert_error(response, 400, "VALIDATION_ERROR")
    assert fields_named(error) == {"priority"}
    assert "Unknown field" in error["details"][0]["message"]
    assert order_row(order) == before_row


def test_every_bad_field_is_named_in_one_answer(client, store):
    order = make_order(store=store)

    response = patch_order(client, order, {"total": 1, "store_id": "str_x", "colour": "red"})

    error = assert_error(response, 400, "VALIDATION_ERROR")
    assert fields_named(error) == {"total", "store_id", "colour"}


def test_empty_body_is_400(client, store):
    order = make_order(store=store)

    assert_error(patch_order(client, order, {}), 400, "VALIDATION_ERROR")


def test_reason_without_a_status_change_is_422(client, store):
    order = make_order(store=store)
    before_row = order_row(order)

    response = patch_order(client, order, {"reason": "just because", "po_number": "PO-1"})

    error = assert_error(response, 422, "VALIDATION_ERROR")
    assert fields_named(error) == {"reason"}
    assert order_row(order) == before_row


def test_a_refused_status_undoes_the_detail_edits_of_the_same_request(client, store):
    order = make_order(store=store, status="pending", po_number="PO-OLD")
    before = row_and_history(order)

    response = patch_order(
        client,
        order,
        {"po_number": "PO-NEW", "shipping_address": {"city": "Salem"}, "status": "delivered"},
    )

    assert_error(response, 422, "INVALID_TRANSITION")
    assert row_and_history(order) == before


# --- shipping address ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("country", "expected_name", "expected_code"),
    [
        ("CA", "Canada", "CA"),
        ("Canada", "Canada", "CA"),
        ("ca", "Canada", "CA"),
        ("US", "United States", "US"),
        ("United States", "United States", "US"),
    ],
)
@pytest.mark.parametrize("status", ["pending", "confirmed", "processing"])
def test_shipping_address_takes_seed_003_names_and_a_country_name_or_code(
    client, store, status, country, expected_name, expected_code
):
    # Given an order not shipped yet
    order = make_order(store=store, status=status)
    before_history = len(status_history(client, order))

    # When its address is changed with seed 003's names
    response = patch_order(
        client,
        order,
        {
            "shipping_address": {
                "line1": "500 Queen St",
                "line2": "Apt 4",
                "city": "Fredericton",
                "state": "NB",
                "postal_code": "E3B 1B7",
                "country": country,
            }
        },
    )

    # Then the order ships there, and the status trail is untouched
    assert response.status_code == 200, response.content
    address = response.json()["data"]["shipping_address"]
    assert {k: address[k] for k in ("address", "line2", "city", "province", "postal_code")} == {
        "address": "500 Queen St",
        "line2": "Apt 4",
        "city": "Fredericton",
        "province": "NB",
        "postal_code": "E3B 1B7",
    }
    assert address["country"] == expected_name
    assert address["country_code"] == expected_code
    assert response.json()["data"]["country_code"] == expected_code
    saved = Order.objects.get(pk=order.pk)
    assert (saved.shipping_line1, saved.shipping_province, saved.country_code) == (
        "500 Queen St",
        "NB",
        expected_code,
    )
    assert saved.status == status
    assert len(status_history(client, order)) == before_history


def test_shipping_address_also_takes_seed_001_names(client, store):
    order = make_order(store=store, status="confirmed")

    response = patch_order(
        client,
        order,
        {"shipping_address": {"address": "12 Elm St", "province": "WA", "country_code": "US"}},
    )

    assert response.status_code == 200, response.content
    address = response.json()["data"]["shipping_address"]
    assert (address["address"], address["province"], address["country_code"]) == (
        "12 Elm St",
        "WA",
        "US",
    )
    assert address["city"] == "Portland"


def test_partial_shipping_address_edit_keeps_the_other_lines(client, store):
    order = make_order(store=store, status="pending", shipping_line1="1 Old Rd")

    response = patch_order(client, order, {"shipping_address": {"postal_code": "97202"}})

    assert response.status_code == 200, response.content
    address = response.json()["data"]["shipping_address"]
    assert address["postal_code"] == "97202"
    assert address["address"] == "1 Old Rd"
    assert address["city"] == "Portland"
    assert address["country_code"] == "US"


@pytest.mark.parametrize(
    ("address", "field", "status"),
    [
        ({"street": "1 Main St"}, "shipping_address.street", 400),
        ({"country": "Atlantis"}, "shipping_address.country", 422),
    ],
    ids=["unknown-field", "unknown-country"],
)
def test_a_bad_shipping_address_is_refused_naming_the_field_and_changes_nothing(
    client, store, address, field, status
):
    order = make_order(store=store, status="pending")
    before_row = order_row(order)

    response = patch_order(client, order, {"shipping_address": address})

    error = assert_error(response, status, "VALIDATION_ERROR")
    assert fields_named(error) == {field}
    assert order_row(order) == before_row


@pytest.mark.parametrize("status", ["shipped", "delivered", "completed", "returned"])
def test_shipping_address_cannot_change_once_the_order_has_shipped(client, store, status):
    order = make_order(store=store, status=status)
    before = row_and_history(order)

    response = patch_order(
        client, order, {"shipping_address": {"line1": "1 New St", "city": "Salem"}}
    )

    error = assert_error(response, 422, "INVALID_TRANSITION")
    assert fields_named(error) == {"shipping_address"}
    assert error["context"] == {"status": status}
    assert status in error["message"]
    assert row_and_history(order) == before


# --- notes and po_number -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "column", "expected"),
    [
        ({"customer_notes": "Leave at the door"}, "customer_notes", "Leave at the door"),
        ({"notes": "Gift wrap requested"}, "customer_notes", "Gift wrap requested"),
        ({"internal_notes": "VIP customer"}, "internal_notes", "VIP customer"),
        ({"po_number": "PO-2026-0042"}, "po_number", "PO-2026-0042"),
        ({"po_number": ""}, "po_number", ""),
    ],
    ids=["customer_notes", "notes-alias", "internal_notes", "po_number", "po_number-cleared"],
)
@pytest.mark.parametrize("status", ["pending", "shipped", "completed"])
def test_notes_and_po_number_are_editable(client, store, status, body, column, expected):
    # Given an order with earlier details
    order = make_order(
        store=store,
        status=status,
        customer_notes="old note",
        internal_notes="old memo",
        po_number="PO-OLD",
    )
    before_etag = client.get(f"/v1/orders/{order.public_id}")["ETag"]
    before_history = len(status_history(client, order))

    # When one detail is PATCHed
    started = timezone.now()
    response = patch_order(client, order, body)

    # Then only it changes, updated_at moves, the ETag changes, no status entry is written
    assert response.status_code == 200, response.content
    assert response.json()["data"][column] == expected
    saved = Order.objects.get(pk=order.pk)
    assert getattr(saved, column) == expected
    others = {"customer_notes": "old note", "internal_notes": "old memo", "po_number": "PO-OLD"}
    del others[column]
    assert {name: getattr(saved, name) for name in others} == others
    assert saved.status == status
    assert saved.updated_at >= started
    assert response["ETag"] == saved.etag != before_etag
    assert len(status_history(client, order)) == before_history


def test_notes_and_customer_notes_together_is_422(client, store):
    order = make_order(store=store)

    response = patch_order(client, order, {"notes": "a", "customer_notes": "b"})

    error = assert_error(response, 422, "VALIDATION_ERROR")
    assert fields_named(error) == {"notes"}


# --- ETag and If-Match ---------------------------------------------------------------------


def test_order_responses_carry_an_etag_that_changes_with_each_change(client, store):
    order = make_order(store=store, status="pending")
    url = f"/v1/orders/{order.public_id}"

    first = client.get(url)["ETag"]
    confirmed = patch_order(client, order, {"status": "confirmed"})
    second = client.get(url)["ETag"]
    noted = patch_order(client, order, {"po_number": "PO-1"})
    third = client.get(url)["ETag"]

    assert first.startswith('"')
    assert first.endswith('"')
    assert confirmed["ETag"] == second
    assert noted["ETag"] == third
    assert len({first, second, third}) == 3


def test_if_match_with_the_current_etag_applies_the_change(client, store):
    order = make_order(store=store, status="pending")
    etag = client.get(f"/v1/orders/{order.public_id}")["ETag"]

    response = patch_order(client, order, {"status": "confirmed"}, HTTP_IF_MATCH=etag)

    assert response.status_code == 200, response.content
    assert response.json()["data"]["status"] == "confirmed"
    assert response["ETag"] != etag


def test_if_match_star_applies_the_change(client, store):
    order = make_order(store=store, status="pending")

    response = patch_order(client, order, {"status": "confirmed"}, HTTP_IF_MATCH="*")

    assert response.status_code == 200, response.content
    assert order_row(order)["status"] == "confirmed"


@pytest.mark.parametrize("body", ONE_CHANGE_OF_EACH_KIND)
def test_if_match_with_a_stale_etag_is_412_and_changes_nothing(client, store, body):
    # Given a client that read the order, and a change made by someone else since
    order = make_order(store=store, status="pending")
    stale = client.get(f"/v1/orders/{order.public_id}")["ETag"]
    assert patch_order(client, order, {"internal_notes": "someone else"}).status_code == 200
    current = client.get(f"/v1/orders/{order.public_id}")["ETag"]
    before = row_and_history(order)

    # When the first client PATCHes with what it read
    response = patch_order(client, order, body, HTTP_IF_MATCH=stale)

    # Then it is told to re-read, and nothing changes
    error = assert_error(response, 412, "PRECONDITION_FAILED")
    assert (error["details"], error["context"]) == ([], {"current_etag": current})
    assert row_and_history(order) == before


def test_if_match_with_a_made_up_etag_is_412(client, store):
    order = make_order(store=store, status="pending")

    response = patch_order(client, order, {"status": "confirmed"}, HTTP_IF_MATCH='"not-the-etag"')

    assert_error(response, 412, "PRECONDITION_FAILED")
    assert order_row(order)["status"] == "pending"


# --- scopes --------------------------------------------------------------------------------


@pytest.fixture
def read_only_client(store):
    return api_client(make_api_key(store=store, scopes=["read:orders"]))


def test_a_read_only_key_can_read_an_order(read_only_client, store):
    order = make_order(store=store)

    assert read_only_client.get(f"/v1/orders/{order.public_id}").status_code == 200


@pytest.mark.parametrize("body", ONE_CHANGE_OF_EACH_KIND)
def test_a_read_only_key_cannot_patch(read_only_client, store, body):
    order = make_order(store=store, status="pending")
    before = row_and_history(order)

    response = patch_order(read_only_client, order, body)

    error = assert_error(response, 403, "INSUFFICIENT_SCOPE")
    assert "write:orders" in error["message"]
    assert error["details"] == []
    assert error["context"]["required_scope"] == "write:orders"
    assert row_and_history(order) == before


def test_a_refunds_only_key_cannot_patch(store):
    api = api_client(make_api_key(store=store, scopes=["write:refunds"]))
    order = make_order(store=store, status="pending")

    assert_error(patch_order(api, order, {"status": "confirmed"}), 403, "INSUFFICIENT_SCOPE")
    assert order_row(order)["status"] == "pending"


# --- tenancy -------------------------------------------------------------------------------


def test_patching_another_stores_order_is_404_and_changes_nothing(client, other_store):
    foreign = make_order(store=other_store, status="pending")
    before_row = order_row(foreign)

    response = patch_order(client, foreign, {"status": "confirmed"})

    assert_error(response, 404, "NOT_FOUND")
    assert order_row(foreign) == before_row


def test_patch_works_on_the_store_scoped_route(client, store):
    order = make_order(store=store, status="pending")

    response = client.patch(
        f"/v1/stores/{store.public_id}/orders/{order.public_id}",
        {"status": "confirmed", "reason": "Payment verified"},
        format="json",
    )

    assert response.status_code == 200, response.content
    assert response.json()["data"]["status"] == "confirmed"
    assert status_history(client, order)[-1]["reason"] == "Payment verified"
