"""Events: what changed in a store, written in the transaction that changed it.

The feed and webhooks read events in `position` order, not by time: on PostgreSQL the
position is the writing transaction's id, so a reader can hold back every event a
still-open transaction might yet place before the ones it has seen (orders.selectors
.events_settled). Within one transaction, the time-ordered id breaks the tie.
"""

import json
from decimal import Decimal

from django.db import models
from django.db.models import Func
from django.utils import timezone

from orders.ids import uuid7_monotonic
from orders.models.base import StoreOwned

# Events are kept this long (DESIGN.md, `manage.py prune_events`).
EVENT_RETENTION_DAYS = 30


class EventType(models.TextChoices):
    ORDER_CREATED = "order.created", "Order created"
    ORDER_UPDATED = "order.updated", "Order details changed"
    ORDER_STATUS_CHANGED = "order.status_changed", "Order status changed"
    ORDER_PAID = "order.paid", "Order paid"
    ORDER_VOIDED = "order.voided", "Order voided"
    FULFILLMENT_CREATED = "fulfillment.created", "Fulfillment created (order shipped)"
    REFUND_CREATED = "refund.created", "Refund created"
    NOTE_CREATED = "note.created", "Note added"


# The kinds of object events are about: `order.*` names every order event.
EVENT_FAMILIES = sorted({value.split(".")[0] for value in EventType.values})
EVENT_TYPE_PATTERNS = ["*", *EventType.values, *(f"{family}.*" for family in EVENT_FAMILIES)]


def event_types_matching(patterns: list[str]) -> set[str]:
    """The event types named by `patterns` (types, `order.*`-style wildcards, or `*`);
    ValueError naming a pattern that names none."""
    matched: set[str] = set()
    for pattern in patterns:
        if pattern == "*":
            matched.update(EventType.values)
        elif pattern.endswith(".*") and pattern[:-2] in EVENT_FAMILIES:
            matched.update(t for t in EventType.values if t.startswith(pattern[:-1]))
        elif pattern in EventType.values:
            matched.add(pattern)
        else:
            raise ValueError(
                f"Unknown event type '{pattern}'. Use one of {', '.join(EVENT_TYPE_PATTERNS)}."
            )
    return matched


class TransactionPosition(Func):
    """The position of a new event: where its transaction stands in commit order.

    PostgreSQL: the transaction's own 64-bit id (it never wraps), shared by every
    event the transaction writes. SQLite runs one writing transaction at a time, so
    one more than the highest position is already in commit order. Computed in the
    INSERT itself: recording an event costs that one statement.
    """

    output_field = models.BigIntegerField()

    def as_sql(self, compiler, connection, **extra_context):
        return "(SELECT COALESCE(MAX(position), 0) + 1 FROM orders_event)", []

    def as_postgresql(self, compiler, connection, **extra_context):
        return "pg_current_xact_id()::text::bigint", []


class Event(StoreOwned):
    PUBLIC_ID_PREFIX = "evt_"

    id = models.UUIDField(primary_key=True, default=uuid7_monotonic, editable=False)
    type = models.CharField(max_length=40, choices=EventType.choices)
    # Every event is about one order (or a fulfillment, refund or note of it). Not a
    # foreign key: the event is history, and its insert should not take a lock.
    order_id = models.UUIDField()
    position = models.BigIntegerField(editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    # The event's `data` as JSON text: {"object": {...as the API renders it...},
    # "previous_attributes": {...}}. Text, not jsonb: money keeps its two decimals
    # (53.20) exactly as the API printed it, and a delivery sends these bytes unchanged.
    data_json = models.TextField()

    class Meta:
        indexes = [
            models.Index(fields=["store", "position", "id"], name="event_store_position"),
            models.Index(fields=["store", "order_id", "position"], name="event_store_order"),
            # The webhook dispatcher reads every store's events in this order.
            models.Index(fields=["position", "id"], name="event_position"),
            models.Index(fields=["created_at"], name="event_created_at"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.public_id}"

    @property
    def data(self) -> dict:
        return json.loads(self.data_json, parse_float=Decimal)
