from collections.abc import Sequence

from django.db.models import QuerySet

from notes.models import OrderNote
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
