"""The plain renderers (orders.api.rendering and the notes and refunds includes) print
exactly what the documented serializers print, for model instances and for the rows
the list reads; and orjson prints exactly what the stdlib encoder printed."""

import json
import random
import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone as django_timezone
from django.utils.translation import gettext_lazy

from notes.api.includes import render_note
from notes.api.serializers import NoteSerializer
from notes.models import OrderNote
from notes.services import note_create
from orders.api.fields import MoneyField, money, timestamp
from orders.api.includes import load_includes
from orders.api.renderers import _json_dumps, dumps, dumps_bytes
from orders.api.rendering import (
    FulfillmentRow,
    LineItemRow,
    OrderRow,
    order_rows,
    render_fulfillment,
    render_line_item,
    render_order,
    render_status_change,
    rows_of,
)
from orders.api.serializers import (
    FulfillmentSerializer,
    LineItemSerializer,
    OrderSerializer,
    StatusChangeSerializer,
)
from orders.history import set_history_actor
from orders.models import Fulfillment, LineItem, Order, OrderStatus, PaymentStatus
from orders.selectors import status_history
from refunds.api.includes import render_refund
from refunds.api.serializers import RefundSerializer
from refunds.selectors import refunds_of
from refunds.services import RefundLineRequest, refund_create
from tests.factories import (
    make_customer,
    make_fulfillment,
    make_order,
    make_stocked_line,
    make_variant,
)

ALL_INCLUDES = [(name, name) for name in ("items", "fulfillments", "status_history")] + [
    ("notes", "notes"),
    ("refunds", "refunds"),
]
LOS_ANGELES = ZoneInfo("America/Los_Angeles")


def same_rendering(plain: dict, serialized: dict) -> bool:
    """Equal values and equal bytes: Decimal("53.2") == Decimal("53.20"), the bytes not."""
    return plain == serialized and dumps_bytes(plain) == dumps_bytes(serialized)


@pytest.fixture
def varied_orders(store) -> list[Order]:
    """Orders in every status and payment status, with and without a customer, items with
    and without a catalog entry, shipments, a status trail, notes of every notification
    state and refunds with lines; odd text and instants on the edges."""
    customer = make_customer(store=store, name='Zoë "Q" O\'Brien', phone="+1 503 555 0100")
    variant = make_variant(store=store, price="19.99")
    orders = []
    statuses = list(OrderStatus.values)
    payments = list(PaymentStatus.values)
    start = datetime(2026, 3, 8, 9, 59, 59, 999999, tzinfo=UTC)
    for n, status in enumerate(statuses * 2):
        at = start + timedelta(hours=n, microseconds=-(n * 137_001) % 1_000_000)
        order = make_order(
            store=store,
            status=status,
            payment_status=payments[n % len(payments)],
            customer=customer if n % 3 else None,
            created_at=at.replace(microsecond=0) if n % 4 == 0 else at,
            items=n % 3,
            unit_price="7.10",
            requires_shipping=n % 5 != 0,
            po_number="PO-\u2028-\x7f" if n == 3 else "",
            customer_notes='Leave at the door "please"\n\ttab' if n % 2 else "",
            internal_notes="日本語 memo 😀" if n == 5 else "",
            shipping_notes="\\back\\slash",
            shipping_method_code="pickup" if n % 5 == 0 else "standard",
            discount_amount=Decimal("1.00") if n % 2 else Decimal("0"),
            confirmed_at=at + timedelta(minutes=1) if n % 2 else None,
            shipped_at=at + timedelta(days=1) if status in {"shipped", "delivered"} else None,
        )
        if n % 4 == 1:
            make_stocked_line(order=order, variant=variant, quantity=3, refunded=1)
        if status in {"shipped", "delivered", "completed"}:
            shipment = make_fulfillment(order=order, tracking_number=f"1Z{n}")
            if n % 2:
                Fulfillment.objects.filter(pk=shipment.pk).update(delivered_at=at)
        orders.append(order)

    traveller = orders[0]
    for to_status, payment in [
        ("confirmed", "pending"),
        ("confirmed", "paid"),
        ("processing", "paid"),
    ]:
        traveller.status, traveller.payment_status = to_status, payment
        set_history_actor(traveller, actor="api_key_abc123", reason=f"now {to_status}, {payment}")
        traveller.save()
    traveller.internal_notes = "an edit that changes no status: no history entry"
    traveller.save()

    noted = orders[1]
    note_create(store=store, order=noted, content="Internal memo", is_internal=True, author="ana")
    note_create(store=store, order=noted, content="Your parcel", is_internal=False, author="ana")
    sent = note_create(store=store, order=noted, content="Sent", is_internal=False, author="bo")
    OrderNote.objects.filter(pk=sent.pk).update(
        notification_status="sent",
        notified_at=start,
        notification_attempts=2,
        notification_next_attempt_at=None,
    )

    paid = make_order(store=store, status="delivered", payment_status="paid", items=3)
    line = paid.items.order_by("created_at", "id").first()
    refund_create(
        store=store, order=paid, actor="ana", lines=[RefundLineRequest(line.pk, 1)],
        restock=False, reason="Damaged",
    )  # fmt: skip
    refund_create(store=store, order=paid, actor="ana", amount=Decimal("0.5"), reason="Goodwill")
    orders.append(paid)
    # What the services leave on an instance before it is read again: amounts without
    # their two decimals, times in another zone, statuses as enum members.
    fresh = make_order(store=store, status="pending", payment_status="pending", items=1)
    fresh.total = Decimal("17.1")
    fresh.shipping_cost = Decimal("5")
    fresh.placed_at = fresh.placed_at.astimezone(LOS_ANGELES)
    fresh.status = OrderStatus.CONFIRMED
    orders.append(fresh)
    return orders


def test_an_order_renders_as_the_order_serializer_renders_it_in_every_state(varied_orders):
    for order in varied_orders:
        assert same_rendering(render_order(order), OrderSerializer(order).data), order


def test_an_order_row_renders_as_its_instance_does(store, varied_orders):
    ids = [order.pk for order in varied_orders[:-1]]  # the last was changed unsaved
    rows = [OrderRow._make(r) for r in order_rows(Order.objects.filter(pk__in=ids))]
    instances = Order.objects.in_bulk(ids)
    assert len(rows) == len(ids)
    for row in rows:
        assert row.pk == row.id
        assert same_rendering(render_order(row), OrderSerializer(instances[row.id]).data)


def test_line_items_and_fulfillments_render_as_their_serializers_do(store, varied_orders):
    items = LineItem.objects.filter(store=store).order_by("id")
    fulfillments = Fulfillment.objects.filter(store=store).order_by("id")
    assert {item.product_id is None for item in items} == {True, False}
    assert {f.delivered_at is None for f in fulfillments} == {True, False}
    for instances, row, render, serializer in [
        (items, LineItemRow, render_line_item, LineItemSerializer),
        (fulfillments, FulfillmentRow, render_fulfillment, FulfillmentSerializer),
    ]:
        rows = rows_of(instances, row)
        assert len(rows) == len(instances) > 0
        for instance, row in zip(instances, rows, strict=True):
            expected = serializer(instance).data
            assert same_rendering(render(instance), expected)
            assert same_rendering(render(row), expected)


def test_status_changes_render_as_the_status_change_serializer_renders_them(store, varied_orders):
    history = status_history(store=store, order_ids=[order.pk for order in varied_orders])
    changes = [change for entries in history.values() for change in entries]
    assert len(history[varied_orders[0].pk]) == 4  # created, confirmed, paid, processing
    assert {change.from_status is None for change in changes} == {True, False}
    for change in changes:
        assert same_rendering(render_status_change(change), StatusChangeSerializer(change).data)


def test_notes_and_refunds_render_as_their_serializers_do(store, varied_orders):
    notes = list(OrderNote.objects.filter(store=store).order_by("id"))
    assert {note.notification_status for note in notes} >= {"", "sent"}
    for note in notes:
        assert same_rendering(render_note(note), NoteSerializer(note).data)
    refunds = refunds_of(store=store, orders=varied_orders)
    assert len(refunds) == 2
    for refund in refunds:
        assert same_rendering(render_refund(refund), RefundSerializer(refund).data)


def test_every_include_renders_a_page_of_rows_as_of_instances(store, varied_orders):
    ids = [order.pk for order in varied_orders[:-1]]
    instances = list(Order.objects.filter(pk__in=ids).order_by("id"))
    rows = [OrderRow._make(r) for r in order_rows(Order.objects.filter(pk__in=ids).order_by("id"))]
    by_instances = load_includes(ALL_INCLUDES, store=store, orders=instances)
    by_rows = load_includes(ALL_INCLUDES, store=store, orders=rows)

    def printed(loaded):
        return {key: {str(k): v for k, v in rows.items()} for key, rows in loaded.items()}

    assert dumps(printed(by_rows)) == dumps(printed(by_instances))
    assert all(by_rows[key] for key, _ in ALL_INCLUDES)


def test_the_list_sends_each_order_with_its_includes_as_the_serializers_render_them(
    client, store, varied_orders
):
    response = client.get(
        "/v1/orders",
        {"per_page": 50, "include": "items,fulfillments,status_history,notes,refunds"},
    )
    assert response.status_code == 200
    orders = Order.objects.filter(store=store).order_by("-created_at", "-id")
    history = status_history(store=store, order_ids=[order.pk for order in orders])
    expected = []
    for order in orders:
        rendered = dict(OrderSerializer(order).data)
        items = order.items.order_by("created_at", "id")
        shipments = order.fulfillments.order_by("created_at", "id")
        rendered["items"] = LineItemSerializer(items, many=True).data
        rendered["fulfillments"] = FulfillmentSerializer(shipments, many=True).data
        rendered["status_history"] = StatusChangeSerializer(
            history.get(order.pk, []), many=True
        ).data
        notes = OrderNote.objects.filter(order=order).order_by("created_at", "id")
        rendered["notes"] = NoteSerializer(notes, many=True).data
        refunds = [r for r in refunds_of(store=store, orders=[order]) if r.order_id == order.pk]
        rendered["refunds"] = RefundSerializer(refunds, many=True).data
        expected.append(rendered)
    assert b'"data":' + dumps_bytes(expected) + b',"pagination":' in response.content


def test_timestamps_print_as_isoformat_with_milliseconds_does():
    def reference(value):
        return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")

    rng = random.Random(12)
    zones = [UTC, LOS_ANGELES, ZoneInfo("Asia/Kathmandu"), timezone(timedelta(hours=-3))]
    edges = [0, 999, 1000, 999_999, 500_500]
    for n in range(5000):
        instant = datetime(2000, 1, 1, tzinfo=UTC) + timedelta(
            seconds=rng.randint(0, 60 * 365 * 86400),
            microseconds=edges[n % 5] if n % 2 else rng.randint(0, 999_999),
        )
        value = instant.astimezone(zones[n % len(zones)])
        assert timestamp(value) == reference(value)
    assert timestamp(None) is None
    assert timestamp(django_timezone.now()).endswith("Z")


def test_money_has_the_two_decimals_the_money_field_gives_it():
    field = MoneyField()
    for value in ["53.2", "5", "0", "0.00", "1234567.89", "-1.5", "0.10", 12, "7.1E+1"]:
        amount = value if isinstance(value, int) else Decimal(value)
        assert str(money(amount)) == str(field.to_representation(amount))


def test_orjson_prints_every_body_as_the_stdlib_encoder_did():
    body = {
        "text": "".join(map(chr, range(0x80))) + '\u2028\u2029 é 日本 😀 "q" \\',
        "money": [Decimal("53.20"), Decimal("-0.00"), Decimal("1E+2"), Decimal("0.0000001")],
        "numbers": [0, -1, 2**63 - 1, 1.5, 12.34, 0.1, True, False, None],
        "when": datetime(2026, 3, 10, 9, 0, 0, 123456, tzinfo=UTC),
        "when_there": datetime(2026, 3, 10, 1, 0, tzinfo=LOS_ANGELES),
        "day": date(2026, 3, 10),
        "id": uuid.UUID("0193a5b2-7c1e-7d4f-9a0b-1c2d3e4f5a6b"),
        "lazy": gettext_lazy("This field is required."),
        "status": OrderStatus.SHIPPED,
        "nested": [{"a": (1, 2)}, [], {}],
    }
    assert dumps(body) == _json_dumps(body)
    # What orjson refuses is printed the old way, not refused.
    odd = {"keys": {1: "one", None: "none"}, "big": 2**70, "money": Decimal("1.10")}
    assert (
        dumps(odd)
        == _json_dumps(odd)
        == json.dumps(
            {"keys": {"1": "one", "null": "none"}, "big": 2**70, "money": 0}, separators=(",", ":")
        ).replace('"money":0', '"money":1.10')
    )
