from typing import Any

from notes.api.serializers import NoteSerializer
from notes.models import OrderNote
from notes.selectors import notes_of
from orders.api.events import register_event_object_shape
from orders.api.fields import timestamp
from orders.api.includes import register_include, rendered_by_order
from orders.models import Order
from orders.services import register_event_renderer


def render_note(note: OrderNote) -> dict[str, Any]:
    """The note exactly as NoteSerializer renders it (tests/orders/test_rendering.py)."""
    return {
        "object": "note",
        "id": f"{OrderNote.PUBLIC_ID_PREFIX}{note.id}",
        "order_id": f"{Order.PUBLIC_ID_PREFIX}{note.order_id}",
        "content": note.content,
        "is_internal": note.is_internal,
        "author": note.author,
        "notification_status": note.notification_status or None,
        "notification_attempts": note.notification_attempts,
        "notification_error": note.notification_error,
        "notified_at": timestamp(note.notified_at),
        "notification_next_attempt_at": timestamp(note.notification_next_attempt_at),
        "created_at": timestamp(note.created_at),
    }


def _load_notes(store, orders):
    return rendered_by_order(notes_of(store=store, orders=orders), render_note)


def register() -> None:
    """Notes as an order's include, and as the object of their events."""
    register_include("notes", _load_notes, shape=NoteSerializer)
    register_event_renderer(OrderNote, lambda store, note: render_note(note))
    register_event_object_shape("note", NoteSerializer)
