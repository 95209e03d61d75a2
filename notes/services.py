"""Writes of order notes. A customer-facing note is its own email's outbox entry, sent by
the delivery worker (notes.delivery)."""

import logging

from django.db import transaction
from django.utils import timezone

from notes.exceptions import NoteEmailPending
from notes.models import MAX_NOTE_LENGTH, OrderNote
from orders.exceptions import InvalidParameters, NotFound, UnacceptableValues
from orders.models import EventType, Order, Store
from orders.services import event_record

__all__ = ["note_create", "note_resend"]

logger = logging.getLogger("ordo.notes")


@transaction.atomic
def note_create(
    *, store: Store, order: Order, content: str, is_internal: bool, author: str, author_user=None
) -> OrderNote:
    """Add a note. A customer-facing one is `pending`, due now: the note row is its email's
    outbox entry, so a rollback sends nothing and, once committed, a worker sends it even
    after a crash. Locks nothing."""
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
        notification_next_attempt_at=None if is_internal else timezone.now(),
    )
    event_record(store=store, type=EventType.NOTE_CREATED, subject=note, order_id=order.pk)
    return note


@transaction.atomic
def note_resend(*, store: Store, order: Order, note: OrderNote, actor: str) -> OrderNote:
    """Email a customer-facing note again: one that failed, or one that was sent and the
    customer lost. It goes back to `pending`, due now, with a fresh retry window.

    Locks the note's row. Raises NotFound for a note not of `order` in `store`,
    UnacceptableValues (422) for an internal note (never emailed) or an order without a
    customer email address, and NoteEmailPending (409) when it is queued already.
    """
    locked = (
        OrderNote.objects.select_for_update(of=("self",))
        .select_related("order")
        .filter(store=store, order=order, pk=note.pk)
        .first()
    )
    if locked is None:
        raise NotFound(f"No note '{note.public_id}' on order #{order.order_number}.")
    if locked.is_internal:
        raise UnacceptableValues(
            {"note_id": "This is an internal note: internal notes are never emailed to the "
             "customer, so there is nothing to resend. Add a customer-facing note instead."}
        )  # fmt: skip
    if locked.notification_status == OrderNote.Notification.PENDING:
        raise NoteEmailPending(
            "This note's email is already queued: the worker sends it, and retries it by "
            "itself if the mail server fails. Resend it once it is sent or has failed.",
            context={"notification_status": locked.notification_status,
                     "notification_attempts": locked.notification_attempts},
        )  # fmt: skip
    if not locked.order.customer_email:
        raise UnacceptableValues(
            {"note_id": f"Order #{locked.order.order_number} has no customer email address: "
             "add one to the order, then resend the note."}
        )  # fmt: skip
    locked.notification_status = OrderNote.Notification.PENDING
    locked.notification_attempts = 0
    locked.notification_error = ""
    locked.notification_next_attempt_at = timezone.now()
    locked.notification_first_attempt_at = None
    # A worker still holding an old lease on the note records nothing over the resend.
    locked.lease_token = None
    locked.lease_expires_at = None
    locked.save(
        update_fields=[
            "notification_status", "notification_attempts", "notification_error",
            "notification_next_attempt_at", "notification_first_attempt_at", "lease_token",
            "lease_expires_at",
        ]
    )  # fmt: skip
    logger.info("Note %s of order #%s queued again by %s", locked.public_id,
                locked.order.order_number, actor)  # fmt: skip
    return locked
