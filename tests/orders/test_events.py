"""Events are written with the change: one per committed change, of the most specific type,
from every path that changes an order (the API, the order page, the bulk move), carrying the
object exactly as the API renders it and the old values of what changed. A refused or
rolled-back change writes none, and writing one costs the change a single INSERT.

No management command changes orders (the demo seed writes its own events: its tests live
with the demo's).
"""

import re
from collections import Counter
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from notes.services import note_create
from orders.models import Event, Order
from orders.services import (
    LineRequest,
    ShipmentInput,
    order_create,
    order_transition,
    order_update,
    order_void,
)
from refunds.services import refund_create
from tests.factories import (
    make_customer,
    make_order,
    make_shipping_method,
    make_tax_rate,
    make_variant,
    staff_client,
)
from tests.helpers import (
    assert_error,
    create_order,
    data_of,
    order_body,
    paid_order,
    patch_order,
    refund,
    refund_line,
    seed_003_address,
    submitted_form,
    void_order,
)

pytestmark = pytest.mark.django_db

SHIPMENT = {"carrier": "UPS", "tracking_number": "1Z999AA10123456784"}


@pytest.fixture
def mug(store):
    """A 24.00 mug with 10 in stock, standard shipping at 5.99, Oregon taxed at 11 %."""
    make_shipping_method(store=store, code="standard", price="5.99")
    make_tax_rate(store=store, country_code="US", province="OR", rate="0.11")
    return make_variant(store=store, price="24.00", stock=10, product_name="Ceramic Mug")


@pytest.fixture
def browser(store):
    """Ana, a staff member of `store`, logged in to the admin."""
    return staff_client(store, username="ana")


# --- reading what was written --------------------------------------------------------------


def events_of(client, change: Callable[[], object]) -> list[dict]:
    """Run `change`; the events it wrote, oldest first, as GET /v1/events/{id} shows them."""
    before = set(Event.objects.values_list("pk", flat=True))
    change()
    written = Event.objects.exclude(pk__in=before).order_by("position", "id")
    return [data_of(client.get(f"/v1/events/{event.public_id}")) for event in written]


def the_event_of(client, change: Callable[[], object]) -> dict:
    """The one event `change` wrote (it must write exactly one)."""
    events = events_of(client, change)
    assert len(events) == 1, [event["type"] for event in events]
    return events[0]


def order_json(client, order) -> dict:
    order_id = order["id"] if isinstance(order, dict) else order.public_id
    return data_of(client.get(f"/v1/orders/{order_id}"))


def listed(client, order, what: str) -> list[dict]:
    """GET /v1/orders/{id}/{what} (refunds, notes)."""
    order_id = order["id"] if isinstance(order, dict) else order.public_id
    return data_of(client.get(f"/v1/orders/{order_id}/{what}"))


def assert_order_event(event: dict, type_: str, *, before: dict | None, after: dict) -> None:
    """`event` is `type_` about the order `after` (its GET now), and its previous_attributes
    hold the old values of exactly the fields that differ from `before` (its GET before the
    change; None when the change created it)."""
    assert event["type"] == type_
    assert event["id"].startswith("evt_")
    assert (event["order_id"], event["store_id"]) == (after["id"], after["store_id"])
    assert event["data"]["object"] == after
    changed = {k: v for k, v in (before or {}).items() if after.get(k) != v}
    assert event["data"]["previous_attributes"] == changed


def assert_created_event(event: dict, type_: str, order, obj: dict) -> None:
    """`event` is `type_`, about `order`, carrying the new `obj` as the API shows it."""
    assert event["type"] == type_
    assert event["order_id"] == (order["id"] if isinstance(order, dict) else order.public_id)
    assert event["data"] == {"object": obj, "previous_attributes": {}}


# --- orders to start from --------------------------------------------------------------------


def unpaid(client, store, mug) -> dict:
    return create_order(client, store, [(mug, 2)])


def paid(client, store, mug) -> dict:
    return paid_order(client, store, [(mug, 2)])


def processing(client, store, mug) -> dict:
    order = paid(client, store, mug)
    for step in ("confirmed", "processing"):
        data_of(patch_order(client, order, {"status": step}))
    return order


def shipped(client, store, mug) -> dict:
    order = processing(client, store, mug)
    return data_of(patch_order(client, order, {"status": "shipped", **SHIPMENT}))


def notes_url(order) -> str:
    return f"/v1/orders/{order['id']}/notes"


# --- every type, through the API -----------------------------------------------------------

# (the order it starts from, the PATCH or void, the event's type, some old values it keeps)
ORDER_CHANGES = {
    "po number": (unpaid, {"po_number": "PO-7"}, "order.updated", {"po_number": ""}),
    "notes": (
        unpaid, {"customer_notes": "Ring twice", "internal_notes": "VIP"}, "order.updated",
        {"customer_notes": "", "internal_notes": ""},
    ),
    "status step": (
        unpaid, {"status": "confirmed"}, "order.status_changed",
        {"status": "pending", "confirmed_at": None},
    ),
    "paid": (unpaid, {"payment_status": "paid"}, "order.paid", {"payment_status": "pending"}),
    "paid with a step and details": (
        unpaid, {"status": "confirmed", "payment_status": "paid", "po_number": "PO-9"},
        "order.paid", {"status": "pending", "payment_status": "pending", "po_number": ""},
    ),
    "void": (unpaid, None, "order.voided", {"status": "pending", "payment_status": "pending"}),
}  # fmt: skip


@pytest.mark.parametrize("case", list(ORDER_CHANGES))
def test_an_order_change_writes_one_event_with_the_order_and_its_old_values(
    client, store, mug, case
):
    start, body, type_, old_values = ORDER_CHANGES[case]
    order = start(client, store, mug)
    before = order_json(client, order)
    if body is None:
        change = lambda: data_of(void_order(client, order))  # noqa: E731
    else:
        change = lambda: data_of(patch_order(client, order, body))  # noqa: E731

    event = the_event_of(client, change)

    assert_order_event(event, type_, before=before, after=order_json(client, order))
    previous = event["data"]["previous_attributes"]
    assert {key: previous[key] for key in old_values} == old_values


def test_changing_the_address_keeps_the_old_address_in_previous_attributes(client, store, mug):
    order = unpaid(client, store, mug)
    old_address = order_json(client, order)["shipping_address"]
    change = {"shipping_address": {"postal_code": "97202"}}

    event = the_event_of(client, lambda: data_of(patch_order(client, order, change)))

    assert event["data"]["previous_attributes"]["shipping_address"] == old_address
    assert old_address["postal_code"] == "97201"


def test_creating_an_order_writes_order_created_with_the_order_as_get_shows_it(client, store, mug):
    made = {}

    event = the_event_of(client, lambda: made.update(unpaid(client, store, mug)))

    assert_order_event(event, "order.created", before=None, after=order_json(client, made))


def _note(is_internal: bool):
    body = {"content": "Gift wrap, please", "is_internal": is_internal}
    return lambda c, o: c.post(notes_url(o), body, format="json")


# (the order it starts from, the request, where the order shows what it made, the type)
CREATIONS = {
    "shipment": (
        processing, lambda c, o: patch_order(c, o, {"status": "shipped", **SHIPMENT}),
        lambda c, o: order_json(c, o)["fulfillments"], "fulfillment.created",
    ),
    "refund": (
        paid, lambda c, o: refund(c, o, {"line_items": [refund_line(o, quantity=1)]}),
        lambda c, o: listed(c, o, "refunds"), "refund.created",
    ),
    "internal note": (
        unpaid, _note(True), lambda c, o: listed(c, o, "notes"), "note.created",
    ),
    "note to the customer": (
        unpaid, _note(False), lambda c, o: listed(c, o, "notes"), "note.created",
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", list(CREATIONS))
def test_what_a_change_creates_is_the_object_of_its_event_as_the_api_shows_it(
    client, store, mug, case
):
    start, request, shown, type_ = CREATIONS[case]
    order = start(client, store, mug)

    event = the_event_of(client, lambda: request(client, order))

    (made,) = shown(client, order)
    assert_created_event(event, type_, order, made)


def test_a_patch_to_the_status_the_order_has_writes_no_event(client, store, mug):
    order = unpaid(client, store, mug)

    written = events_of(client, lambda: data_of(patch_order(client, order, {"status": "pending"})))

    assert written == []


# --- every type, through the admin ---------------------------------------------------------


def placed(store, mug, *, paid=False, status=None) -> Order:
    """An order of two mugs placed through order_create, optionally paid and moved on."""
    order = order_create(
        store=store,
        actor="system",
        lines=[LineRequest(variant_id=mug.pk, quantity=2)],
        shipping_address=seed_003_address(),
        shipping_method="standard",
        customer_id=make_customer(store=store).pk,
    )
    if paid:
        order = order_update(store=store, order=order, actor="system", payment_status="paid")
    for step in {"processing": ["confirmed", "processing"]}.get(status, []):
        order = order_transition(store=store, order=order, to_status=step, actor="system")
    return order


def action(order: Order, name: str) -> str:
    return f"/admin/orders/order/{order.pk}/{name}/"


def fresh_etag(order: Order) -> str:
    return Order.objects.get(pk=order.pk).etag


# (the order's state, the button, what it posts, the event's type)
PAGE_ACTIONS = {
    "status step": ({}, "transition", {"to_status": "confirmed"}, "order.status_changed"),
    "mark paid": ({}, "mark-paid", {}, "order.paid"),
    "void": ({}, "void", {"reason": "Duplicate"}, "order.voided"),
}


@pytest.mark.parametrize("case", list(PAGE_ACTIONS))
def test_an_order_page_action_writes_one_event_with_the_order_and_its_old_values(
    client, store, mug, browser, case
):
    state, name, post, type_ = PAGE_ACTIONS[case]
    order = placed(store, mug, **state)
    before = order_json(client, order)

    event = the_event_of(
        client, lambda: browser.post(action(order, name), {**post, "etag": order.etag})
    )

    assert_order_event(event, type_, before=before, after=order_json(client, order))


def test_shipping_on_the_order_page_writes_fulfillment_created(client, store, mug, browser):
    order = placed(store, mug, paid=True, status="processing")
    post = {"to_status": "shipped", **SHIPMENT, "etag": fresh_etag(order)}

    event = the_event_of(client, lambda: browser.post(action(order, "transition"), post))

    (fulfillment,) = order_json(client, order)["fulfillments"]
    assert_created_event(event, "fulfillment.created", order, fulfillment)


def test_a_note_on_the_order_page_writes_note_created(client, store, mug, browser):
    order = placed(store, mug)
    post = {"content": "Called the customer", "visibility": "customer"}

    event = the_event_of(client, lambda: browser.post(action(order, "notes"), post))

    (note,) = listed(client, order, "notes")
    assert_created_event(event, "note.created", order, note)


def test_a_refund_confirmed_on_the_order_page_writes_refund_created(client, store, mug, browser):
    order = placed(store, mug, paid=True)
    (item,) = order.items.all()
    post = {"etag": fresh_etag(order), "reason": "Damaged", f"quantity_{item.pk}": 1}
    count = Event.objects.count()
    preview = browser.post(action(order, "refund"), post)
    assert Event.objects.count() == count  # the preview writes nothing; the confirm does
    confirm = {**submitted_form(preview, "refund-confirm"), "confirm": "1"}

    event = the_event_of(client, lambda: browser.post(action(order, "refund"), confirm))

    (made,) = listed(client, order, "refunds")
    assert_created_event(event, "refund.created", order, made)


def bulk_move(orders: list[Order], to_status: str) -> dict:
    """The order list's "Move the selected orders to a status" form, as its page posts it."""
    return {
        "action": "move_to_status",
        "select_across": "0",
        "_selected_action": [str(order.pk) for order in orders],
        "to_status": to_status,
        "reason": "Payment verified",
        "apply": "1",
    }


def test_a_bulk_move_writes_one_event_per_order_moved_and_none_for_the_refused(
    client, store, mug, browser
):
    first, second = placed(store, mug), placed(store, mug)
    completed = placed(store, mug, paid=True)
    Order.objects.filter(pk=completed.pk).update(status="completed")
    befores = [order_json(client, order) for order in (first, second)]
    move = bulk_move([first, second, completed], "confirmed")

    events = events_of(client, lambda: browser.post("/admin/orders/order/", move))

    assert [event["order_id"] for event in events] == [first.public_id, second.public_id]
    for event, before in zip(events, befores, strict=True):
        after = order_json(client, before)
        assert_order_event(event, "order.status_changed", before=before, after=after)
    assert Order.objects.get(pk=completed.pk).status == "completed"


# --- refused and rolled-back changes write nothing ------------------------------------------

# (the order it starts from, the refused request, its status and code)
REFUSED_REQUESTS = {
    "stale If-Match": (
        unpaid, lambda c, o: patch_order(c, o, {"status": "confirmed"}, HTTP_IF_MATCH='"stale"'),
        412, "PRECONDITION_FAILED",
    ),
    "invalid transition": (
        unpaid, lambda c, o: patch_order(c, o, {"status": "shipped", **SHIPMENT}),
        422, "INVALID_TRANSITION",
    ),
    "shipping without tracking": (
        processing, lambda c, o: patch_order(c, o, {"status": "shipped", "carrier": "UPS"}),
        400, "VALIDATION_ERROR",
    ),
    "cancelling a paid order": (
        paid, lambda c, o: patch_order(c, o, {"status": "cancelled", "reason": "Oops"}),
        409, "ORDER_PAID",
    ),
    "address after shipping": (
        shipped, lambda c, o: patch_order(c, o, {"shipping_address": {"postal_code": "97202"}}),
        422, "INVALID_TRANSITION",
    ),
    "refund over the balance": (
        paid, lambda c, o: refund(c, o, {"amount": "1000.00"}), 422, "REFUND_EXCEEDS_BALANCE",
    ),
    "refund of an unpaid order": (
        unpaid, lambda c, o: refund(c, o, {"amount": "1.00"}), 422, "ORDER_NOT_REFUNDABLE",
    ),
    "void of a paid order": (paid, void_order, 422, "ORDER_NOT_VOIDABLE"),
    "note without content": (
        unpaid, lambda c, o: c.post(notes_url(o), {"content": "  "}, format="json"),
        400, "VALIDATION_ERROR",
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", list(REFUSED_REQUESTS))
def test_a_change_the_api_refuses_writes_no_event(client, store, mug, case):
    start, request, status, code = REFUSED_REQUESTS[case]
    order = start(client, store, mug)
    count = Event.objects.count()

    assert_error(request(client, order), status, code)

    assert Event.objects.count() == count


def test_an_order_refused_for_want_of_stock_writes_no_event(client, store, mug):
    response = client.post("/v1/orders", order_body(store, [(mug, 11)]), format="json")

    assert_error(response, 422, "INSUFFICIENT_STOCK")
    assert Event.objects.count() == 0


def test_what_the_order_page_refuses_writes_no_event(client, store, mug, browser):
    order = placed(store, mug, paid=True)
    count = Event.objects.count()

    browser.post(action(order, "void"), {"reason": "Oops"})
    browser.post(action(order, "transition"), {"to_status": "confirmed", "etag": '"stale"'})
    browser.post(action(order, "notes"), {"content": "  ", "visibility": "internal"})
    browser.post(action(order, "mark-paid"), {"etag": fresh_etag(order)})  # already paid

    assert Event.objects.count() == count
    assert Order.objects.get(pk=order.pk).status == "pending"


class RolledBack(Exception):
    """Raised after a service call to roll its transaction back."""


def service_calls(store, mug) -> dict[str, Callable[[], object]]:
    """One call of each service that writes an event, on orders made beforehand."""
    order = placed(store, mug)
    confirmed = placed(store, mug, paid=True)
    in_processing = placed(store, mug, paid=True, status="processing")
    actor = {"store": store, "actor": "system"}
    return {
        "order_create": lambda: placed(store, mug),
        "details": lambda: order_update(**actor, order=order, details={"po_number": "PO-1"}),
        "status": lambda: order_transition(**actor, order=order, to_status="confirmed"),
        "paid": lambda: order_update(**actor, order=order, payment_status="paid"),
        "shipped": lambda: order_transition(
            **actor, order=in_processing, to_status="shipped", shipment=ShipmentInput(**SHIPMENT)
        ),
        "void": lambda: order_void(**actor, order=order),
        "refund": lambda: refund_create(**actor, order=confirmed, amount=Decimal("5.00")),
        "note": lambda: note_create(
            store=store, order=order, content="Hi", is_internal=False, author="system"
        ),
    }


def written_then_rolled_back(call: Callable[[], object]) -> int:
    """Run `call` in a transaction rolled back after it returned; the events it had written."""
    count = Event.objects.count()
    try:
        with transaction.atomic():
            call()
            written = Event.objects.count() - count
            raise RolledBack
    except RolledBack:
        return written


@pytest.mark.parametrize(
    "change", ["order_create", "details", "status", "paid", "shipped", "void", "refund", "note"]
)
def test_a_change_rolled_back_after_the_service_returned_leaves_no_event(store, mug, change):
    call = service_calls(store, mug)[change]
    count = Event.objects.count()

    # The service wrote its event in the caller's transaction...
    assert written_then_rolled_back(call) == 1

    # ...so the rollback took it away with the change.
    assert Event.objects.count() == count


# --- the cost: one INSERT per change --------------------------------------------------------

_INSERT_INTO = re.compile(r'^\s*INSERT INTO "?(\w+)"?', re.IGNORECASE)


def inserts_of(change: Callable[[], object]) -> Counter:
    """How many INSERT statements `change` ran, per table."""
    with CaptureQueriesContext(connection) as queries:
        change()
    return Counter(
        match.group(1)
        for query in queries.captured_queries
        if (match := _INSERT_INTO.match(query["sql"]))
    )


HISTORY = {"orders_historicalorder": 1}
# (the order it starts from, the request, the INSERTs the change made before it had events)
API_CHANGES = {
    "create": (
        None, lambda c, body: c.post("/v1/orders", body, format="json"),
        {"orders_order": 1, "orders_lineitem": 1, **HISTORY},
    ),
    "details": (unpaid, lambda c, o: patch_order(c, o, {"po_number": "PO-2"}), HISTORY),
    "status": (unpaid, lambda c, o: patch_order(c, o, {"status": "confirmed"}), HISTORY),
    "paid": (unpaid, lambda c, o: patch_order(c, o, {"payment_status": "paid"}), HISTORY),
    "shipped": (
        processing, lambda c, o: patch_order(c, o, {"status": "shipped", **SHIPMENT}),
        {"orders_fulfillment": 1, **HISTORY},
    ),
    "void": (unpaid, void_order, HISTORY),
    "refund": (
        paid, lambda c, o: refund(c, o, {"line_items": [refund_line(o, quantity=1)]}),
        {"refunds_refund": 1, "refunds_refundline": 1, **HISTORY},
    ),
    "note": (unpaid, lambda c, o: c.post(notes_url(o), {"content": "Hi"}, format="json"),
             {"notes_ordernote": 1}),
}  # fmt: skip

FIGURE_TABLES = ("orders_ordercount", "orders_salesperiod")


@pytest.mark.parametrize("change", list(API_CHANGES))
def test_writing_the_event_adds_exactly_one_insert_to_a_change(client, store, mug, change):
    start, request, inserts_before_events = API_CHANGES[change]
    # Made beforehand, so that only the change's own statements are counted.
    subject = order_body(store, [(mug, 1)]) if start is None else start(client, store, mug)

    inserted = inserts_of(lambda: request(client, subject))

    # The store's kept figures are upserts of their own (tests/orders/test_figures.py).
    for table in FIGURE_TABLES:
        assert inserted.pop(table, 0) <= 1
    assert inserted == Counter({**inserts_before_events, "orders_event": 1})


def test_a_bulk_move_of_three_orders_inserts_three_events(client, store, mug, browser):
    orders = [placed(store, mug) for _ in range(3)]

    inserted = inserts_of(
        lambda: browser.post("/admin/orders/order/", bulk_move(orders, "confirmed"))
    )

    assert (inserted["orders_event"], inserted["orders_historicalorder"]) == (3, 3)


def test_a_patch_that_changes_nothing_saves_nothing_and_writes_no_event(client, store):
    order = make_order(store=store, po_number="PO-1")
    history_rows = order.history.count()

    response = client.patch(f"/v1/orders/{order.public_id}", {"po_number": "PO-1"}, format="json")

    data_of(response)
    assert not Event.objects.filter(order_id=order.pk).exists()
    assert Order.objects.get(pk=order.pk).updated_at == order.updated_at
    assert order.history.count() == history_rows
