from collections import defaultdict

from notes.api.serializers import NoteSerializer
from notes.selectors import notes_of
from orders.api.includes import register_include


def _load_notes(store, orders):
    grouped = defaultdict(list)
    for note in notes_of(store=store, orders=orders):
        grouped[note.order_id].append(NoteSerializer(note).data)
    return grouped


def register() -> None:
    register_include("notes", _load_notes)
