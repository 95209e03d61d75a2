"""Seeded demo data carries the events of its last 30 days (orders.demo.events): the feed of a
new demo store is populated, oldest first in time, each order step of the window has the
event the live change would have written, objects as the API renders them, and every live
change after the seed comes after them."""

import json
import math
from collections import Counter, defaultdict
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from orders import demo
from orders.demo import events as demo_events
from orders.models import Event, EventType, Fulfillment, LineItem, Order, OrderStatus
from orders.models.event import EVENT_RETENTION_DAYS
from orders.services import event_render
from refunds.models import Refund
from tests.factories import make_api_key
from tests.helpers import api_client, data_of, parse_timestamp

pytestmark = pytest.mark.django_db

FEED = "/v1/events"
PAID = "paid"
REFUNDED = ("refunded", "partially_refunded")
# Enough orders for every kind of step to fall in the window with the default seed.
ORDERS = 600


@pytest.fixture
def seeded():
    """One demo store of ORDERS orders, seeded now, with a full-scope client."""
    now = timezone.now()
    (store_demo,) = demo.demo_stores_create(stores=1, orders_per_store=ORDERS, now=now)
    store = store_demo.store
    return {
        "store": store,
        "now": now,
        "since": now - timedelta(days=EVENT_RETENTION_DAYS),
        "client": api_client(make_api_key(store=store)),
    }


def whole_feed(client, **params) -> list[dict]:
    """Every event of the feed, following next_cursor from the first page."""
    events, params = [], {"per_page": "250", **params}
    while True:
        response = client.get(FEED, params)
        events.extend(data_of(response))
        cursor = response.json()["pagination"]["next_cursor"]
        if cursor is None:
            return events
        params = {**params, "cursor": cursor}


def expected_type(before: tuple[str, str] | None, after: tuple[str, str]) -> str | None:
    """The event a live change from `before` to `after` (status, payment status) writes;
    None for a step that only refunds (its refund writes refund.created)."""
    if before is None:
        return EventType.ORDER_CREATED
    (old_status, old_payment), (status, payment) = before, after
    if status == OrderStatus.VOIDED and old_status != status:
        return EventType.ORDER_VOIDED
    if payment == PAID and old_payment != PAID:
        return EventType.ORDER_PAID
    if status == OrderStatus.SHIPPED and old_status != status:
        return EventType.FULFILLMENT_CREATED
    if status != old_status:
        return EventType.ORDER_STATUS_CHANGED
    if payment != old_payment and payment not in REFUNDED:
        return EventType.ORDER_UPDATED
    return None


def history_by_order(store) -> dict:
    """Each order's (status, payment status, at) history rows, oldest first."""
    rows = (
        Order.history.model.objects.filter(store=store)
        .order_by("id", "history_date", "history_id")
        .values_list("id", "status", "payment_status", "history_date")
    )
    history = defaultdict(list)
    for order_id, status, payment, at in rows:
        history[order_id].append((status, payment, at))
    return history


def stored_events(store) -> list[Event]:
    return list(Event.objects.filter(store=store).order_by("position", "id"))


def test_a_seeded_store_shows_30_days_of_events_oldest_first(seeded):
    events = whole_feed(seeded["client"], sort="created_at")

    times = [parse_timestamp(event["created_at"]) for event in events]
    assert len(events) == Event.objects.filter(store=seeded["store"]).count() > ORDERS // 5
    assert times == sorted(times)
    assert seeded["since"] <= times[0]
    assert times[-1] <= seeded["now"]
    assert {event["store_id"] for event in events} == {seeded["store"].public_id}
    assert set(Counter(event["type"] for event in events)) >= {
        EventType.ORDER_CREATED, EventType.ORDER_PAID, EventType.ORDER_STATUS_CHANGED,
        EventType.FULFILLMENT_CREATED, EventType.REFUND_CREATED,
    }  # fmt: skip


def test_each_history_step_of_the_window_has_the_event_its_change_writes(seeded):
    store, since = seeded["store"], seeded["since"]
    events = defaultdict(list)
    for event in stored_events(store):
        if event.type != EventType.REFUND_CREATED:
            events[event.order_id].append(event)
    expected = {}
    for order_id, rows in history_by_order(store).items():
        steps = []
        for index, (status, payment, at) in enumerate(rows):
            before = rows[index - 1][:2] if index else None
            type_ = expected_type(before, (status, payment))
            if at >= since and type_ is not None:
                steps.append((type_, at, before))
        if steps:
            expected[order_id] = steps

    assert set(events) == set(expected)
    for order_id, steps in expected.items():
        assert [(e.type, e.created_at) for e in events[order_id]] == [s[:2] for s in steps]
        for event, (type_, _, before) in zip(events[order_id], steps, strict=True):
            data = event.data
            if type_ == EventType.ORDER_CREATED:
                assert data["previous_attributes"] == {}
                assert data["object"]["status"] == OrderStatus.PENDING
            elif type_ == EventType.FULFILLMENT_CREATED:
                assert data["object"]["object"] == "fulfillment"
                assert data["object"]["order_id"] == Order(pk=order_id).public_id
            else:
                old_status, old_payment = before
                previous = data["previous_attributes"]
                assert previous.get("status", data["object"]["status"]) == old_status
                assert previous.get("payment_status", data["object"]["payment_status"]) == (
                    old_payment
                )
                assert parse_timestamp(data["object"]["updated_at"]) == event.created_at


def test_each_seeded_refund_of_the_window_has_its_refund_created_event(seeded):
    store, since, client = seeded["store"], seeded["since"], seeded["client"]
    refunds = {r.public_id: r for r in Refund.objects.filter(store=store, created_at__gte=since)}
    events = Event.objects.filter(store=store, type=EventType.REFUND_CREATED)

    assert refunds
    assert sorted(e.data["object"]["id"] for e in events) == sorted(refunds)
    for event in events:
        refund = refunds[event.data["object"]["id"]]
        assert event.created_at == refund.created_at
        assert event.order_id == refund.order_id
        assert event.data["previous_attributes"] == {}
        # The refund as the order's refunds route shows it.
        response = client.get(f"/v1/orders/{Order(pk=refund.order_id).public_id}/refunds")
        assert response.status_code == 200
        (listed,) = json.loads(response.content, parse_float=Decimal)["data"]
        assert event.data["object"] == listed


def test_an_orders_latest_event_shows_it_as_the_api_renders_it_now(seeded):
    store = seeded["store"]
    latest = {}
    for event in stored_events(store):
        latest[event.order_id] = event
    orders = Order.objects.in_bulk([i for i, e in latest.items() if e.type.startswith("order.")])
    fulfillments = {
        f.public_id: f for f in Fulfillment.objects.filter(store=store, order__in=list(latest))
    }

    checked = Counter()
    for order_id, event in latest.items():
        rendered = event.data["object"]
        if event.type.startswith("order."):
            now = event_render(store, orders[order_id])
            assert parse_timestamp(rendered.pop("updated_at")) == event.created_at
            now.pop("updated_at")
            assert rendered == now
        elif event.type == EventType.FULFILLMENT_CREATED:
            assert rendered == event_render(store, fulfillments[rendered["id"]])
        checked[event.type] += 1
    assert checked[EventType.ORDER_CREATED]
    assert checked[EventType.FULFILLMENT_CREATED]


def test_an_order_step_shows_the_order_as_it_stood_then(seeded):
    store = seeded["store"]
    created = Event.objects.filter(store=store, type=EventType.ORDER_CREATED)
    shipped_later = [e for e in created if Order.objects.get(pk=e.order_id).shipped_at is not None]

    assert shipped_later
    for event in shipped_later:
        order = event.data["object"]
        assert order["status"] == OrderStatus.PENDING
        assert order["payment"]["status"] == order["payment_status"]
        assert order["is_pending"] is True
        assert order["shipped_at"] is None
        assert order["confirmed_at"] is None
        assert order["fulfillments"] == []
        assert OrderStatus.CONFIRMED in order["allowed_transitions"]


def test_a_live_change_after_the_seed_comes_after_every_seeded_event(seeded):
    client = seeded["client"]
    pending = Order.objects.filter(store=seeded["store"], status=OrderStatus.PENDING).first()

    response = client.patch(
        f"/v1/orders/{pending.public_id}", {"status": "confirmed"}, format="json"
    )

    assert response.status_code == 200, response.content
    oldest_first = whole_feed(client, sort="created_at")
    assert oldest_first[-1]["type"] == EventType.ORDER_STATUS_CHANGED
    assert oldest_first[-1]["order_id"] == pending.public_id
    assert whole_feed(client)[0] == oldest_first[-1]


def test_seeded_events_share_one_position_and_their_ids_run_in_time_order(seeded):
    events = stored_events(seeded["store"])

    assert [e.created_at for e in events] == sorted(e.created_at for e in events)
    (position,) = {e.position for e in events}
    if connection.vendor == "postgresql":
        # The seeding transaction's id (the test's own), as TransactionPosition gives it.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_current_xact_id()::text::bigint")
            assert position == cursor.fetchone()[0]


def test_seeded_events_are_rendered_a_batch_of_orders_at_a_time(monkeypatch):
    monkeypatch.setattr(demo_events, "RENDER_BATCH", 40)
    items = LineItem._meta.db_table

    with CaptureQueriesContext(connection) as queries:
        (store_demo,) = demo.demo_stores_create(stores=1, orders_per_store=ORDERS)

    rendered = (
        Event.objects.filter(store=store_demo.store)
        .exclude(type=EventType.REFUND_CREATED)
        .values("order_id")
        .distinct()
        .count()
    )
    item_reads = [q for q in queries.captured_queries if f'FROM "{items}"' in q["sql"]]
    # One read of line items per batch of orders rendered (refunds_of reads none of them).
    assert len(item_reads) == math.ceil(rendered / 40)
