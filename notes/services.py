"""Writes of order notes, and the delivery of customer-facing notes by email."""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from notes.models import MAX_NOTE_LENGTH, OrderNote
from orders.exceptions import InvalidParameters
from orders.models import Order, Store

logger = logging.getLogger("ordo.notes")

# Attempts at sending one note; the waits between them grow 1, 2, 4, 8 minutes.
MAX_DELIVERY_ATTEMPTS = 5


def retry_delay(attempt: int) -> timedelta:
    base = getattr(settings, "NOTE_EMAIL_RETRY_BASE_SECONDS", 60)
    return timedelta(seconds=base * 2 ** (attempt - 1))


@transaction.atomic
def note_create(
    *, store: Store, order: Order, content: str, is_internal: bool, author: str, author_user=None
) -> OrderNote:
    """Add a note. A customer-facing one enqueues its email in this same transaction.

    The task row is written by the database-backed queue inside the
    transaction: a rollback sends nothing, and once committed the email cannot
    be lost — the worker picks it up even after a crash. Locks nothing.
    """
    from notes.tasks import send_customer_note  # the task module imports this one

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
    return note


def note_deliver(*, note_id: str) -> str:
    """Email a customer-facing note; returns the note's notification status afterwards.

    Locks the note row while sending so two workers never send it twice. A
    failure is recorded on the note and retried with growing delays; after
    MAX_DELIVERY_ATTEMPTS the note is `failed`. An order without an email
    address fails at once with that reason: there is nobody to retry for.
    """
    from notes.tasks import send_customer_note

    with transaction.atomic():
        note = (
            OrderNote.objects.select_for_update()
            .select_related("order", "store")
            .filter(pk=note_id, is_internal=False)
            .first()
        )
        if note is None or note.notification_status != OrderNote.Notification.PENDING:
            return note.notification_status if note else "missing"
        note.notification_attempts += 1
        recipient = note.order.customer_email
        if not recipient:
            note.notification_status = OrderNote.Notification.FAILED
            note.notification_error = (
                "The order has no customer email address; add one to the order and post the "
                "note again."
            )
            note.save(
                update_fields=["notification_status", "notification_error", "notification_attempts"]
            )
            return note.notification_status
        try:
            _send_note_email(note, recipient)
        except Exception as error:  # any mail failure: record it and retry later
            logger.warning(
                "Sending note %s failed (attempt %s): %s",
                note.pk,
                note.notification_attempts,
                error,
            )
            note.notification_error = f"{type(error).__name__}: {error}"[:2000]
            if note.notification_attempts >= MAX_DELIVERY_ATTEMPTS:
                note.notification_status = OrderNote.Notification.FAILED
            else:
                delay = retry_delay(note.notification_attempts)
                send_customer_note.using(run_after=timezone.now() + delay).enqueue(
                    note_id=str(note.pk)
                )
        else:
            note.notification_status = OrderNote.Notification.SENT
            note.notified_at = timezone.now()
            note.notification_error = ""
        note.save(
            update_fields=[
                "notification_status", "notification_error", "notification_attempts", "notified_at",
            ]
        )  # fmt: skip
        return note.notification_status


def _send_note_email(note: OrderNote, recipient: str) -> None:
    context = {"note": note, "order": note.order, "store": note.store}
    message = EmailMultiAlternatives(
        subject=f"Update on your order #{note.order.order_number} from {note.store.name}",
        body=render_to_string("notes/email/customer_note.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[recipient],
    )
    message.attach_alternative(
        render_to_string("notes/email/customer_note.html", context), "text/html"
    )
    message.send()
