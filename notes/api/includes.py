from notes.api.serializers import NoteSerializer
from notes.models import OrderNote
from notes.selectors import notes_of
from orders.api.events import register_event_object_shape
from orders.api.includes import register_include, rendered_by_order
from orders.services import register_event_renderer


def _load_notes(store, orders):
    return rendered_by_order(notes_of(store=store, orders=orders), NoteSerializer)


def register() -> None:
    """Notes as an order's include, and as the object of their events."""
    register_include("notes", _load_notes, shape=NoteSerializer)
    register_event_renderer(OrderNote, lambda store, note: dict(NoteSerializer(note).data))
    register_event_object_shape("note", NoteSerializer)
