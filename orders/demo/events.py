"""The events of a seeded store's last EVENT_RETENTION_DAYS days: what its feed would hold had
its orders lived through the API (orders.services.events), so a new user sees a populated
feed and webhooks have a history to replay from.

Each lifecycle step in the window writes the event the live change writes: the first step
order.created; then order.voided, order.paid (payment becomes paid), fulfillment.created
(shipping, the fulfillment its object), order.status_changed, or order.updated (another
payment step). A step that only refunds writes nothing here: its refund's refund.created
comes from the refunds extension (OrderExtension.events), as refund_create writes only that.

An order step's object is the order as the API renders it now, with the step's status,
payment status and updated_at, and without the status times still to come; its
`previous_attributes` are what changed since the step before, as the live diff has them.
Orders are rendered in batches once all rows are loaded (and, for a large load, indexed).

Events sort by (position, id) in the feed. Every seeded event gets the id uuid7(at=its
time) and one position for them all: on PostgreSQL the seeding transaction's id, on SQLite
one above the highest, as TransactionPosition gives live events. So they run in time order
and every live event (a later transaction) comes after them. They go in by COPY or
bulk_create, a batch of orders at a time.
"""

import uuid
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from itertools import batched
from typing import Any, NamedTuple

from django.db import connection
from django.db.models import Max

from orders.api.fields import TimestampField
from orders.api.renderers import dumps
from orders.api.views import DETAIL_INCLUDES, render_orders
from orders.demo.copy_text import DAY
from orders.demo.extensions import OrderExtension, SeededEvent
from orders.demo.lifecycle import Step
from orders.ids import format_public_id, uuid7
from orders.models import Event, EventType, Fulfillment, Order, OrderStatus, PaymentStatus, Store
from orders.models.event import EVENT_RETENTION_DAYS
from orders.services import changed_attributes
from orders.transitions import STATUS_TIMESTAMPS

S = OrderStatus
P = PaymentStatus

# The seeded feed covers as much as the live one keeps.
EVENT_WINDOW = EVENT_RETENTION_DAYS * DAY
# Orders rendered per query round (their items and fulfillments: two queries each round).
RENDER_BATCH = 500
REFUNDED = (P.REFUNDED, P.PARTIALLY_REFUNDED)
# The order's rendering as the order routes give it (what the registered event renderer of
# orders.api.events renders, one order at a time).
ORDER_INCLUDES = [(name, name) for name in DETAIL_INCLUDES]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EVENT_COLUMNS = ["id", "store_id", "type", "order_id", "position", "created_at", "data_json"]


class RecentOrder(NamedTuple):
    """A generated order with lifecycle steps in the events window."""

    order_id: str  # 32 hex digits
    fulfillment_id: str | None  # its fulfillment's, when it shipped
    steps: list[Step]  # its whole life, oldest first


def step_event_type(before: Step | None, step: Step) -> str | None:
    """The event type of lifecycle `step` after `before` (None: it created the order), or
    None when the step writes no order event (a refund's own event is refund.created)."""
    if before is None:
        return EventType.ORDER_CREATED
    status, payment = step[1], step[2]
    status_changed, payment_changed = status != before[1], payment != before[2]
    if status == S.VOIDED and status_changed:
        return EventType.ORDER_VOIDED
    if payment == P.PAID and payment_changed:
        return EventType.ORDER_PAID
    if status == S.SHIPPED and status_changed:
        return EventType.FULFILLMENT_CREATED
    if status_changed:
        return EventType.ORDER_STATUS_CHANGED
    if payment_changed and payment not in REFUNDED:
        return EventType.ORDER_UPDATED
    return None


def _datetime(millis: int) -> datetime:
    # Integer arithmetic: a float of seconds can come out a millisecond short.
    return _EPOCH + timedelta(milliseconds=millis)


class _StepRenderer:
    """An order's rendering as of each of its steps: the current one with the step's
    status, payment status and updated_at, what the model derives from them (one home:
    Order's properties), no status times or fulfillment still to come."""

    _timestamp = TimestampField().to_representation
    # What OrderSerializer reads from the order's properties that follow its status.
    _DERIVED = ("is_pending", "is_completed", "is_cancellable", "is_fully_paid")

    def __init__(self, order: Order, rendered: dict[str, Any]) -> None:
        self.order = order
        self.rendered = rendered

    def at(self, step: Step) -> dict[str, Any]:
        at = self._timestamp(_datetime(step[0]))
        order = self.order
        order.status, order.payment_status = step[1], step[2]
        state = {
            **self.rendered,
            "status": step[1],
            "payment_status": step[2],
            "payment": {**self.rendered["payment"], "status": step[2]},
            "allowed_transitions": order.allowed_transitions,
            "updated_at": at,
        }
        for name in self._DERIVED:
            state[name] = getattr(order, name)
        # The same format throughout, so the strings compare as the times do.
        for field in STATUS_TIMESTAMPS.values():
            if state[field] is not None and state[field] > at:
                state[field] = None
        if state["shipped_at"] is None:
            state["fulfillments"] = []
        return state


def order_step_events(
    *, store: Store, recent: Sequence[RecentOrder], since_ms: int
) -> Iterator[list[SeededEvent]]:
    """The events of `recent` orders' steps from `since_ms` on, a list per RENDER_BATCH
    orders (two queries each)."""
    for start in range(0, len(recent), RENDER_BATCH):
        batch = recent[start : start + RENDER_BATCH]
        orders = list(Order.objects.filter(store=store, pk__in=[o.order_id for o in batch]))
        renderings = render_orders(store, orders, ORDER_INCLUDES)
        by_id = {
            order.pk.hex: (order, dict(data))
            for order, data in zip(orders, renderings, strict=True)
        }
        events: list[SeededEvent] = []
        for seeded in batch:
            order, rendered = by_id[seeded.order_id]
            events.extend(_step_events(seeded, since_ms=since_ms, order=order, rendered=rendered))
        yield events


def _step_events(
    seeded: RecentOrder, *, since_ms: int, order: Order, rendered: dict[str, Any]
) -> Iterable[SeededEvent]:
    renderer = _StepRenderer(order, rendered)
    steps = seeded.steps
    first = next(index for index, step in enumerate(steps) if step[0] >= since_ms)
    # The diff of the window's first event starts from the step before it.
    before = renderer.at(steps[first - 1]) if first else None
    for index in range(first, len(steps)):
        step = steps[index]
        state = renderer.at(step)
        type_ = step_event_type(steps[index - 1] if index else None, step)
        if type_ == EventType.FULFILLMENT_CREATED:
            # As order_update records it: the new fulfillment, nothing before it. The
            # order's rendering holds it, rendered as the fulfillment's event renderer does.
            fulfillment_id = format_public_id(
                Fulfillment.PUBLIC_ID_PREFIX, uuid.UUID(seeded.fulfillment_id)
            )
            (fulfillment,) = (f for f in rendered["fulfillments"] if f["id"] == fulfillment_id)
            yield SeededEvent(_datetime(step[0]), type_, order.pk, fulfillment, {})
        elif type_ is not None:
            previous = {} if before is None else changed_attributes(before, state)
            yield SeededEvent(_datetime(step[0]), type_, order.pk, state, previous)
        before = state


def seeded_events_write(
    *,
    store: Store,
    recent: Sequence[RecentOrder],
    since_ms: int,
    extensions: Iterable[OrderExtension] = (),
) -> int:
    """Write the events of `store`'s seeded rows from `since_ms` on (the orders' steps and
    the extensions' rows), in the caller's transaction, a batch at a time (a million-order
    seed has most of a million events: never all in memory at once); how many."""
    writer = _EventWriter(store)
    for events in order_step_events(store=store, recent=recent, since_ms=since_ms):
        writer.write(events)
    since = _datetime(since_ms)
    for extension in extensions:
        if extension.events is not None:
            for events in batched(extension.events(store, since), RENDER_BATCH):
                writer.write(list(events))
    return writer.written


class _EventWriter:
    """Writes seeded events, all at one position: the feed orders them by (position, id),
    and their ids are time-ordered (uuid7 of their time), so they come out in time order
    whatever order they were written in.

    PostgreSQL: the seeding transaction's id (what TransactionPosition gives its live
    events, so every later transaction's come after), by COPY. SQLite: one above the
    highest position (as TransactionPosition does there), by bulk_create.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self.written = 0
        self.position: int | None = None

    def write(self, events: list[SeededEvent]) -> None:
        if not events:
            return
        if self.position is None:
            self.position = _seed_position()
        if connection.vendor == "postgresql":
            self._copy(events)
        else:
            Event.objects.bulk_create(
                Event(
                    id=uuid7(at=event.at), store=self.store, type=event.type,
                    order_id=event.order_id, position=self.position, created_at=event.at,
                    data_json=_data_json(event),
                )
                for event in events
            )  # fmt: skip
        self.written += len(events)

    def _copy(self, events: list[SeededEvent]) -> None:
        quote = connection.ops.quote_name
        columns = ", ".join(quote(Event._meta.get_field(name).column) for name in _EVENT_COLUMNS)
        statement = f"COPY {quote(Event._meta.db_table)} ({columns}) FROM STDIN"
        store_id, position = self.store.pk, self.position
        with connection.cursor() as cursor, cursor.copy(statement) as copy:
            for event in events:
                copy.write_row(
                    (
                        uuid7(at=event.at), store_id, event.type, event.order_id, position,
                        event.at, _data_json(event),
                    )
                )  # fmt: skip


def _seed_position() -> int:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_current_xact_id()::text::bigint")
            return cursor.fetchone()[0]
    # One writing transaction at a time on SQLite: one above the highest is in commit order.
    return (Event.objects.aggregate(last=Max("position"))["last"] or 0) + 1


def _data_json(event: SeededEvent) -> str:
    return dumps({"object": event.object, "previous_attributes": event.previous_attributes})
