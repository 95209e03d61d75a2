from notes.api.serializers import NoteSerializer
from notes.selectors import notes_of
from orders.api.includes import register_include, rendered_by_order


def _load_notes(store, orders):
    return rendered_by_order(notes_of(store=store, orders=orders), NoteSerializer)


def register() -> None:
    register_include("notes", _load_notes, shape=NoteSerializer)
