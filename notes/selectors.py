from collections.abc import Sequence

from django.db.models import QuerySet

from notes.models import OrderNote
from orders.exceptions import NotFound
from orders.ids import parse_public_id
from orders.models import Order, Store

NOTE_TYPES = ("all", "internal", "customer")


def notes_of(
    *, store: Store, orders: Sequence[Order], note_type: str = "all"
) -> QuerySet[OrderNote]:
    """Notes of `orders`, oldest first; `note_type` is internal, customer or all."""
    notes = OrderNote.objects.filter(store=store, order__in=[o.pk for o in orders])
    if note_type == "internal":
        notes = notes.filter(is_internal=True)
    elif note_type == "customer":
        notes = notes.filter(is_internal=False)
    return notes.order_by("order_id", "created_at", "id")


def note_get(*, store: Store, order: Order, note_id: str) -> OrderNote:
    """The note `note_id` (note_…) of `order`; NotFound for a malformed id or one of another
    order or store."""
    try:
        pk = parse_public_id(OrderNote.PUBLIC_ID_PREFIX, note_id)
    except ValueError:
        raise NotFound(f"No note '{note_id}' on this order.") from None
    note = OrderNote.objects.filter(store=store, order=order, pk=pk).first()
    if note is None:
        raise NotFound(f"No note '{note_id}' on this order.")
    return note
