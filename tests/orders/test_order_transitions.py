"""The order status machine through the API (DESIGN.md "Order status machine", "Status
history"): every (from, to) pair of the table by PATCH, the side effects of each status, the
void endpoint, and `allowed_transitions` on every order response. Concurrent cancels and
voids are in test_concurrency.py.

The expected table is the contract's (tests/contract.py), not imported from the application,
so a change to orders/transitions.py that breaks the contract fails these tests.
"""

import pytest
from django.utils import timezone

from orders.models import Fulfillment, Order
from tests.contract import STATUS_TIMESTAMPS, STATUSES, patch_targets
from tests.factories import (
    make_api_key,
    make_fulfillment,
    make_order,
    make_order_holding,
    make_stocked_line,
    make_variant,
)
from tests.helpers import (
    actor_of,
    api_client,
    assert_error,
    detail_fields,
    fields_named,
    order_row,
    parse_timestamp,
    patch_order,
    row_and_history,
    status_history,
    stock_of,
    void_order,
)

pytestmark = pytest.mark.django_db

SHIPMENT = {"carrier": "UPS", "tracking_number": "1Z999AA10123456784"}


def _pairs():
    for from_status in STATUSES:
        for to_status in STATUSES:
            for requires_shipping in [True, False] if from_status == "processing" else [True]:
                label = f"{from_status}->{to_status}" + ("" if requires_shipping else "-pickup")
                yield pytest.param(from_status, to_status, requires_shipping, id=label)


def _is_allowed(param) -> bool:
    from_status, to_status, requires_shipping = param.values
    return to_status in patch_targets(from_status, requires_shipping=requires_shipping)


ALL_PAIRS = list(_pairs())
ALLOWED_PAIRS = [p for p in ALL_PAIRS if _is_allowed(p)]
SAME_STATUS_PAIRS = [p for p in ALL_PAIRS if p.values[0] == p.values[1]]
REFUSED_PAIRS = [p for p in ALL_PAIRS if not _is_allowed(p) and p.values[0] != p.values[1]]


# --- the whole table -----------------------------------------------------------------------


@pytest.fixture
def order(store, from_status, requires_shipping):
    """The order a (from, to) pair starts from: an unpaid order in `from_status`."""
    return make_order(store=store, status=from_status, requires_shipping=requires_shipping)


def test_the_parametrised_table_covers_every_pair_of_the_nine_statuses():
    assert len(STATUSES) == 9
    assert len(ALL_PAIRS) == 9 * 9 + 9  # processing is tried with and without shipping
    assert len(ALLOWED_PAIRS) + len(SAME_STATUS_PAIRS) + len(REFUSED_PAIRS) == len(ALL_PAIRS)
    assert len(ALLOWED_PAIRS) == 2 + 2 + 2 + 3 + 2 + 2 + 1


@pytest.mark.parametrize(("from_status", "to_status", "requires_shipping"), ALLOWED_PAIRS)
def test_allowed_transition_moves_the_order_stamps_it_and_records_who_and_why(
    client, store, order, from_status, to_status, requires_shipping
):
    # Given an unpaid order in `from_status`
    before_row = order_row(order)
    reason = f"Moving {from_status} to {to_status}"
    body = {"status": to_status, "reason": reason}
    if to_status == "shipped":
        body |= SHIPMENT

    # When it is PATCHed to an allowed target
    started = timezone.now()
    response = patch_order(client, order, body)
    finished = timezone.now()

    # Then it answers 200 with the new status and what may follow it
    assert response.status_code == 200, response.content
    data = response.json()["data"]
    assert data["status"] == to_status
    assert data["allowed_transitions"] == patch_targets(
        to_status, requires_shipping=requires_shipping
    )
    # and the row has the status, its timestamp and a new updated_at, nothing else moved
    after_row = order_row(order)
    stamp = STATUS_TIMESTAMPS[to_status]
    assert after_row["status"] == to_status
    assert started <= after_row[stamp] <= finished
    assert after_row["updated_at"] == after_row[stamp]
    assert parse_timestamp(data[stamp]) == after_row[stamp].replace(
        microsecond=after_row[stamp].microsecond // 1000 * 1000
    )
    unchanged = {k: v for k, v in before_row.items() if k not in {"status", stamp, "updated_at"}}
    assert {k: after_row[k] for k in unchanged} == unchanged
    # and the ETag is the changed order's
    assert response["ETag"] == Order.objects.get(pk=order.pk).etag
    # and exactly one history entry names the key and the reason
    history = status_history(client, order)
    assert len(history) == 2
    assert history[0]["from_status"] is None
    assert history[0]["to_status"] == from_status
    assert {k: history[1][k] for k in ("from_status", "to_status", "changed_by", "reason")} == {
        "from_status": from_status,
        "to_status": to_status,
        "changed_by": actor_of(store),
        "reason": reason,
    }
    assert history[1]["changed_by"].startswith("api_key_wk_live_")


@pytest.mark.parametrize(("from_status", "to_status", "requires_shipping"), REFUSED_PAIRS)
def test_refused_transition_changes_nothing_and_writes_no_history(
    client, order, from_status, to_status, requires_shipping
):
    # Given an unpaid order in `from_status`, and a body asking for a step it may not take
    before = row_and_history(order)
    body = {"status": to_status, "reason": "Trying my luck"}
    if to_status == "shipped":
        body |= SHIPMENT

    # When it is PATCHed to a target the table does not allow
    response = patch_order(client, order, body)

    # Then it is 422 INVALID_TRANSITION naming from, to and the allowed targets
    error = assert_error(response, 422, "INVALID_TRANSITION")
    assert error["context"] == {
        "from": from_status,
        "to": to_status,
        "allowed_transitions": patch_targets(from_status, requires_shipping=requires_shipping),
    }
    # the field at fault is `status`, in the service's own words (the API may add a next step)
    (detail,) = error["details"]
    assert detail["field"] == "status"
    assert error["message"].startswith(detail["message"])
    assert f"'{from_status}'" in error["message"]
    assert f"'{to_status}'" in error["message"]
    # and the order, its history and its fulfillments are exactly as before
    assert row_and_history(order) == before
    assert len(status_history(client, order)) == 1
    assert not Fulfillment.objects.filter(order=order).exists()


@pytest.mark.parametrize(("from_status", "to_status", "requires_shipping"), SAME_STATUS_PAIRS)
def test_patch_to_the_current_status_is_a_no_op_without_history(client, order, to_status):
    before = row_and_history(order)

    response = patch_order(client, order, {"status": to_status})

    assert response.status_code == 200, response.content
    assert response.json()["data"]["status"] == order.status
    assert response["ETag"] == order.etag
    assert row_and_history(order) == before


def test_processing_order_that_needs_shipping_cannot_skip_to_completed(client, store):
    order = make_order(store=store, status="processing", requires_shipping=True)

    response = patch_order(client, order, {"status": "completed"})

    error = assert_error(response, 422, "INVALID_TRANSITION")
    assert error["context"]["allowed_transitions"] == ["shipped", "cancelled"]
    assert order_row(order)["status"] == "processing"


def test_processing_pickup_order_completes_without_shipping(client, store):
    order = make_order(store=store, status="processing", requires_shipping=False)

    response = patch_order(client, order, {"status": "completed", "reason": "Collected in store"})

    assert response.status_code == 200, response.content
    assert response.json()["data"]["status"] == "completed"
    assert response.json()["data"]["is_completed"] is True
    assert not Fulfillment.objects.filter(order=order).exists()


@pytest.mark.parametrize("from_status", ["pending", "confirmed"])
def test_voided_is_never_a_patch_target_and_points_to_the_void_endpoint(client, store, from_status):
    order = make_order(store=store, status=from_status)
    before_row = order_row(order)

    response = patch_order(client, order, {"status": "voided"})

    error = assert_error(response, 422, "INVALID_TRANSITION")
    assert "voided" not in error["context"]["allowed_transitions"]
    assert "/void" in error["message"]
    assert order_row(order) == before_row


# --- aliases and unknown statuses ----------------------------------------------------------


def test_in_progress_is_accepted_as_processing(client, store):
    order = make_order(store=store, status="confirmed")

    response = patch_order(client, order, {"status": "in_progress", "reason": "Picked up by WMS"})

    assert response.status_code == 200, response.content
    assert response.json()["data"]["status"] == "processing"
    assert order_row(order)["status"] == "processing"
    assert status_history(client, order)[-1]["to_status"] == "processing"


def test_canceled_is_accepted_as_cancelled(client, store):
    order = make_order(store=store, status="pending")

    response = patch_order(client, order, {"status": "canceled"})

    assert response.status_code == 200, response.content
    assert response.json()["data"]["status"] == "cancelled"
    assert order_row(order)["status"] == "cancelled"
    assert order_row(order)["cancelled_at"] is not None


@pytest.mark.parametrize("unknown", ["archived", "refunded", "", "in progress"])
def test_unknown_status_is_400_and_changes_nothing(client, store, unknown):
    order = make_order(store=store, status="pending")
    before = row_and_history(order)

    response = patch_order(client, order, {"status": unknown})

    error = assert_error(response, 400, "VALIDATION_ERROR")
    assert detail_fields(error) == ["status"]
    assert row_and_history(order) == before


# --- the seed 000 flow ---------------------------------------------------------------------


def test_seed_000_lifecycle_by_patch_from_pending_to_completed(client, store):
    # Given a new order, as a fulfillment system sees it in seed 000
    order = make_order(store=store, status="pending")
    steps = [
        ({"status": "confirmed"}, "confirmed"),
        ({"status": "in_progress"}, "processing"),
        ({"status": "shipped", **SHIPMENT}, "shipped"),
        ({"status": "delivered"}, "delivered"),
        ({"status": "completed"}, "completed"),
    ]
    etags = [client.get(f"/v1/orders/{order.public_id}")["ETag"]]

    # When it is PATCHed step by step
    for body, expected in steps:
        response = patch_order(client, order, body)
        # Then each step answers with the canonical status and a fresh ETag
        assert response.status_code == 200, response.content
        assert response.json()["data"]["status"] == expected
        etags.append(response["ETag"])

    assert len(set(etags)) == len(etags)
    final = Order.objects.get(pk=order.pk)
    assert final.status == "completed"
    stamps = [
        final.confirmed_at,
        final.processing_at,
        final.shipped_at,
        final.delivered_at,
        final.completed_at,
    ]
    assert None not in stamps
    assert stamps == sorted(stamps)
    history = status_history(client, order)
    assert [(h["from_status"], h["to_status"]) for h in history] == [
        (None, "pending"),
        ("pending", "confirmed"),
        ("confirmed", "processing"),
        ("processing", "shipped"),
        ("shipped", "delivered"),
        ("delivered", "completed"),
    ]
    assert {h["changed_by"] for h in history[1:]} == {actor_of(store)}
    assert Fulfillment.objects.get(order=order).status == "delivered"


def test_seed_000_pickup_order_goes_from_in_progress_straight_to_completed(client, store):
    order = make_order(store=store, status="confirmed", requires_shipping=False)

    assert patch_order(client, order, {"status": "in_progress"}).status_code == 200
    response = patch_order(client, order, {"status": "completed"})

    assert response.status_code == 200, response.content
    assert [(h["from_status"], h["to_status"]) for h in status_history(client, order)[1:]] == [
        ("confirmed", "processing"),
        ("processing", "completed"),
    ]


# --- what each status does -----------------------------------------------------------------


def test_shipping_creates_a_fulfillment_with_carrier_and_tracking(client, store):
    order = make_order(store=store, status="processing")

    response = patch_order(
        client,
        order,
        {
            "status": "shipped",
            "carrier": "UPS",
            "tracking_number": "1Z999AA10123456784",
            "tracking_url": "https://www.ups.com/track?tracknum=1Z999AA10123456784",
            "reason": "Label printed",
        },
    )

    assert response.status_code == 200, response.content
    fulfillment = Fulfillment.objects.get(order=order)
    shipped = Order.objects.get(pk=order.pk)
    assert fulfillment.store_id == store.pk
    assert fulfillment.carrier == "UPS"
    assert fulfillment.tracking_number == "1Z999AA10123456784"
    assert fulfillment.tracking_url == "https://www.ups.com/track?tracknum=1Z999AA10123456784"
    assert fulfillment.status == "in_transit"
    assert fulfillment.shipped_at == shipped.shipped_at
    data = response.json()["data"]
    assert data["shipped_at"] is not None
    assert [f["id"] for f in data["fulfillments"]] == [fulfillment.public_id]
    assert data["fulfillments"][0]["carrier"] == "UPS"
    assert data["fulfillments"][0]["tracking_number"] == "1Z999AA10123456784"
    assert data["fulfillments"][0]["status"] == "in_transit"


@pytest.mark.parametrize(
    "shipment",
    [{}, {"carrier": "UPS"}, {"tracking_number": "1Z999"}],
    ids=["nothing", "carrier-only", "tracking-only"],
)
def test_shipping_without_carrier_and_tracking_number_is_400_and_changes_nothing(
    client, store, shipment
):
    order = make_order(store=store, status="processing")
    before = row_and_history(order)

    response = patch_order(client, order, {"status": "shipped", **shipment})

    error = assert_error(response, 400, "VALIDATION_ERROR")
    assert fields_named(error) == {"carrier", "tracking_number"}
    assert row_and_history(order) == before
    assert not Fulfillment.objects.filter(order=order).exists()


def test_tracking_without_shipping_is_422(client, store):
    order = make_order(store=store, status="confirmed")

    response = patch_order(client, order, {"status": "processing", **SHIPMENT})

    error = assert_error(response, 422, "VALIDATION_ERROR")
    assert fields_named(error) == {"carrier", "tracking_number"}
    assert order_row(order)["status"] == "confirmed"


def test_delivering_marks_the_in_transit_fulfillments_delivered(client, store):
    order = make_order(store=store, status="shipped")
    fulfillment = make_fulfillment(order=order)

    response = patch_order(client, order, {"status": "delivered"})

    assert response.status_code == 200, response.content
    fulfillment.refresh_from_db()
    delivered = Order.objects.get(pk=order.pk)
    assert fulfillment.status == "delivered"
    assert fulfillment.delivered_at == delivered.delivered_at
    assert response.json()["data"]["fulfillments"][0]["status"] == "delivered"


def test_completing_a_delivered_order_stamps_completed_at(client, store):
    order = make_order(store=store, status="delivered")

    response = patch_order(client, order, {"status": "completed"})

    assert response.status_code == 200, response.content
    data = response.json()["data"]
    assert data["is_completed"] is True
    assert data["completed_at"] is not None
    assert data["allowed_transitions"] == ["returned"]


@pytest.mark.parametrize("from_status", ["pending", "confirmed", "processing"])
def test_cancelling_releases_the_stock_the_order_still_holds(client, store, from_status):
    # Given an order holding 3 units (1 already refunded) of a tracked variant,
    # 2 of an untracked one, and a line without a variant
    tracked = make_variant(store=store, stock=10)
    untracked = make_variant(store=store, stock=5, track_inventory=False)
    order = make_order(store=store, status=from_status, items=1)
    make_stocked_line(order=order, variant=tracked, quantity=3, refunded=1)
    make_stocked_line(order=order, variant=untracked, quantity=2)

    # When it is cancelled
    response = patch_order(
        client, order, {"status": "cancelled", "reason": "Customer changed mind"}
    )

    # Then the units it still holds go back on the tracked variant only
    assert response.status_code == 200, response.content
    assert stock_of(tracked) == 12
    assert stock_of(untracked) == 5
    data = response.json()["data"]
    assert data["status"] == "cancelled"
    assert data["cancelled_at"] is not None
    assert data["is_cancellable"] is False
    assert data["allowed_transitions"] == []
    assert status_history(client, order)[-1]["reason"] == "Customer changed mind"


def test_cancelling_twice_releases_stock_once(client, store):
    order, variant = make_order_holding(store=store, units=4, status="confirmed", items=0)

    assert patch_order(client, order, {"status": "cancelled"}).status_code == 200
    assert patch_order(client, order, {"status": "cancelled"}).status_code == 200

    assert stock_of(variant) == 14
    assert len(status_history(client, order)) == 2


@pytest.mark.parametrize("payment_status", ["paid", "partially_refunded"])
@pytest.mark.parametrize("from_status", ["pending", "confirmed", "processing"])
def test_cancelling_an_order_holding_money_is_409_order_paid_and_changes_nothing(
    client, store, from_status, payment_status
):
    order, variant = make_order_holding(
        store=store, units=2, status=from_status, payment_status=payment_status
    )
    before = row_and_history(order)

    response = patch_order(client, order, {"status": "cancelled"})

    error = assert_error(response, 409, "ORDER_PAID")
    assert "refund" in error["message"].lower()
    assert fields_named(error) == {"status"}
    assert error["context"] == {"status": from_status, "payment_status": payment_status}
    assert row_and_history(order) == before
    assert stock_of(variant) == 10


def test_a_fully_refunded_order_can_be_cancelled_without_restocking_twice(client, store):
    # Given an order whose payment was refunded and whose units were restocked by the refund
    variant = make_variant(store=store, stock=10)
    order = make_order(store=store, status="processing", payment_status="refunded", items=0)
    make_stocked_line(order=order, variant=variant, quantity=2, refunded=2)

    # When it is cancelled
    response = patch_order(client, order, {"status": "cancelled", "reason": "Refunded, cancelling"})

    # Then it is cancelled and no unit goes back a second time
    assert response.status_code == 200, response.content
    assert response.json()["data"]["status"] == "cancelled"
    assert stock_of(variant) == 10


@pytest.mark.parametrize("payment_status", ["paid", "partially_refunded"])
def test_an_order_holding_money_is_not_offered_as_cancellable(client, store, payment_status):
    order = make_order(store=store, status="confirmed", payment_status=payment_status)

    data = client.get(f"/v1/orders/{order.public_id}").json()["data"]

    assert data["is_cancellable"] is False


@pytest.mark.parametrize("from_status", ["shipped", "delivered", "completed"])
def test_returning_a_paid_order_stamps_returned_at_and_is_final(client, store, from_status):
    order = make_order(store=store, status=from_status, payment_status="paid")

    response = patch_order(client, order, {"status": "returned"})

    assert response.status_code == 200, response.content
    data = response.json()["data"]
    assert data["status"] == "returned"
    assert data["returned_at"] is not None
    assert data["allowed_transitions"] == []


# --- void ----------------------------------------------------------------------------------


@pytest.mark.parametrize("payment_status", ["pending", "failed"])
@pytest.mark.parametrize("from_status", ["pending", "confirmed"])
def test_voiding_an_unpaid_order_voids_it_and_releases_its_stock(
    client, store, from_status, payment_status
):
    # Given an unpaid order holding stock
    tracked = make_variant(store=store, stock=7)
    untracked = make_variant(store=store, stock=5, track_inventory=False)
    order = make_order(store=store, status=from_status, payment_status=payment_status)
    make_stocked_line(order=order, variant=tracked, quantity=3, refunded=1)
    make_stocked_line(order=order, variant=untracked, quantity=1)

    # When it is voided
    started = timezone.now()
    response = void_order(client, order, {"reason": "Duplicate order"})
    finished = timezone.now()

    # Then it answers the voided order and put the held units back
    assert response.status_code == 200, response.content
    voided = Order.objects.get(pk=order.pk)
    assert voided.status == "voided"
    assert voided.payment_status == "voided"
    assert started <= voided.voided_at <= finished
    assert voided.updated_at == voided.voided_at
    assert stock_of(tracked) == 9
    assert stock_of(untracked) == 5
    assert response["ETag"] == voided.etag
    history = status_history(client, order)
    assert len(history) == 2
    assert {k: history[-1][k] for k in history[-1] if k != "created_at"} == {
        "object": "status_change",
        "from_status": from_status,
        "to_status": "voided",
        "from_payment_status": payment_status,
        "to_payment_status": "voided",
        "changed_by": actor_of(store),
        "reason": "Duplicate order",
    }


def test_void_response_is_the_order_with_voided_status_and_timestamp(client, store):
    order = make_order(store=store, status="pending", items=2)

    response = void_order(client, order)

    assert response.status_code == 200, response.content
    data = response.json()["data"]
    assert data["object"] == "order"
    assert data["id"] == order.public_id
    assert data["status"] == "voided"
    assert data["payment_status"] == "voided"
    assert data["payment"]["status"] == "voided"
    assert data["voided_at"].endswith("Z")
    assert parse_timestamp(data["voided_at"]) <= timezone.now()
    assert data["allowed_transitions"] == []
    assert data["is_cancellable"] is False
    assert len(data["items"]) == 2
    assert data["fulfillments"] == []
    assert status_history(client, order)[-1]["reason"] == "Order voided"


@pytest.mark.parametrize("payment_status", ["paid", "partially_refunded", "refunded"])
@pytest.mark.parametrize("from_status", ["pending", "confirmed"])
def test_voiding_a_paid_order_is_422_and_says_to_refund_it(
    client, store, from_status, payment_status
):
    order, variant = make_order_holding(
        store=store, units=2, status=from_status, payment_status=payment_status
    )
    before = row_and_history(order)

    response = void_order(client, order)

    error = assert_error(response, 422, "ORDER_NOT_VOIDABLE")
    assert "refund" in error["message"].lower()
    assert (error["details"], error["context"]) == (
        [],
        {"status": from_status, "payment_status": payment_status},
    )
    assert row_and_history(order) == before
    assert stock_of(variant) == 10


@pytest.mark.parametrize(
    "from_status", ["processing", "shipped", "delivered", "completed", "cancelled", "returned"]
)
def test_voiding_an_order_past_confirmed_is_422_and_says_why(client, store, from_status):
    order, variant = make_order_holding(store=store, units=2, status=from_status)
    before = row_and_history(order)

    response = void_order(client, order)

    error = assert_error(response, 422, "ORDER_NOT_VOIDABLE")
    assert "pending or confirmed" in error["message"]
    assert from_status in error["message"]
    assert (error["details"], error["context"]) == (
        [],
        {"status": from_status, "payment_status": "pending"},
    )
    assert row_and_history(order) == before
    assert stock_of(variant) == 10


def test_voiding_an_already_voided_order_is_422_and_releases_nothing_again(client, store):
    order, variant = make_order_holding(store=store, units=2, status="pending")
    assert void_order(client, order).status_code == 200
    before_row = order_row(order)

    response = void_order(client, order)

    error = assert_error(response, 422, "ORDER_NOT_VOIDABLE")
    assert "voided" in error["message"]
    assert (error["details"], error["context"]) == (
        [],
        {"status": "voided", "payment_status": "voided"},
    )
    assert order_row(order) == before_row
    assert stock_of(variant) == 12
    assert len(status_history(client, order)) == 2


def test_a_read_only_key_cannot_void(store):
    read_only_client = api_client(make_api_key(store=store, scopes=["read:orders"]))
    order, variant = make_order_holding(store=store, units=2, status="pending", items=0)
    before_row = order_row(order)

    response = void_order(read_only_client, order)

    error = assert_error(response, 403, "INSUFFICIENT_SCOPE")
    assert error["details"] == []
    assert error["context"] == {"required_scope": "write:orders", "granted_scopes": ["read:orders"]}
    assert order_row(order) == before_row
    assert stock_of(variant) == 10


def test_voiding_another_stores_order_is_404_and_changes_nothing(client, other_store):
    foreign = make_order(store=other_store, status="pending")
    before_row = order_row(foreign)

    response = void_order(client, foreign)

    assert_error(response, 404, "NOT_FOUND")
    assert order_row(foreign) == before_row


# --- allowed_transitions on every response -------------------------------------------------


def _status_shipping_params():
    for status in STATUSES:
        yield pytest.param(status, True, id=status)
    yield pytest.param("processing", False, id="processing-pickup")


@pytest.mark.parametrize(("status", "requires_shipping"), list(_status_shipping_params()))
def test_every_order_response_carries_the_tables_allowed_transitions(
    client, store, status, requires_shipping
):
    order = make_order(store=store, status=status, requires_shipping=requires_shipping)
    expected = patch_targets(status, requires_shipping=requires_shipping)

    one = client.get(f"/v1/orders/{order.public_id}").json()["data"]
    listed = client.get("/v1/orders").json()["data"]
    scoped = client.get(f"/v1/stores/{store.public_id}/orders/{order.public_id}").json()["data"]
    patched = patch_order(client, order, {"po_number": "PO-1"}).json()["data"]

    assert one["allowed_transitions"] == expected
    assert [o["allowed_transitions"] for o in listed] == [expected]
    assert scoped["allowed_transitions"] == expected
    assert patched["allowed_transitions"] == expected
