"""Writes of order notes. Emailing a customer-facing one is notes.delivery's, run by the
task in notes.tasks."""

from django.db import transaction

from notes.delivery import MAX_DELIVERY_ATTEMPTS
from notes.models import MAX_NOTE_LENGTH, OrderNote
from notes.tasks import send_customer_note
from orders.exceptions import InvalidParameters
from orders.models import EventType, Order, Store
from orders.services import event_record

__all__ = ["MAX_DELIVERY_ATTEMPTS", "note_create"]


@transaction.atomic
def note_create(
    *, store: Store, order: Order, content: str, is_internal: bool, author: str, author_user=None
) -> OrderNote:
    """Add a note. A customer-facing one enqueues its email in this same transaction.

    The task row is written by the database-backed queue inside the
    transaction: a rollback sends nothing, and once committed the email cannot
    be lost — the worker picks it up even after a crash. Locks nothing.
    """
    content = content.strip()
    if not content:
        raise InvalidParameters({"content": "A note needs some text."})
    if len(content) > MAX_NOTE_LENGTH:
        raise InvalidParameters(
            {"content": f"Notes are at most {MAX_NOTE_LENGTH} characters, not {len(content)}."}
        )
    note = OrderNote.objects.create(
        store=store,
        order=order,
        content=content,
        is_internal=is_internal,
        author=author,
        author_user=author_user,
        notification_status=(
            OrderNote.Notification.NOT_APPLICABLE if is_internal else OrderNote.Notification.PENDING
        ),
    )
    if not is_internal:
        send_customer_note.enqueue(note_id=str(note.pk))
    event_record(store=store, type=EventType.NOTE_CREATED, subject=note, order_id=order.pk)
    return note
