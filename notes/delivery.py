"""Emailing a customer-facing note: one attempt at a time, each recorded on the note.

The background task (notes.tasks) calls `note_deliver` and schedules the retry it
asks for; this module knows nothing of the queue, so the dependency runs one way:
services → tasks → delivery.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from notes.models import OrderNote

logger = logging.getLogger("ordo.notes")

# Attempts at sending one note; the waits between them grow 1, 2, 4, 8 minutes.
MAX_DELIVERY_ATTEMPTS = 5


def retry_delay(attempt: int) -> timedelta:
    base = getattr(settings, "NOTE_EMAIL_RETRY_BASE_SECONDS", 60)
    return timedelta(seconds=base * 2 ** (attempt - 1))


@dataclass(frozen=True)
class DeliveryAttempt:
    """How one attempt went: the note's notification status afterwards, and when to try
    again (None: never, it was sent or has failed for good)."""

    status: str
    retry_at: datetime | None = None


@transaction.atomic
def note_deliver(*, note_id: str) -> DeliveryAttempt:
    """Email a customer-facing note once, recording the attempt on the note.

    Locks the note row while sending so two workers never send it twice; a note
    that is not pending any more (sent, failed, or gone) is left alone. A failure
    is recorded with its reason and asks for a retry after a growing delay; after
    MAX_DELIVERY_ATTEMPTS the note is `failed`. An order without an email address
    fails at once with that reason: there is nobody to retry for. The caller
    schedules the retry inside this same transaction (it is atomic with the
    caller's), so a recorded failure always has its retry queued.
    """
    note = (
        OrderNote.objects.select_for_update()
        .select_related("order", "store")
        .filter(pk=note_id, is_internal=False)
        .first()
    )
    if note is None:
        return DeliveryAttempt("missing")
    if note.notification_status != OrderNote.Notification.PENDING:
        return DeliveryAttempt(note.notification_status)
    note.notification_attempts += 1
    recipient = note.order.customer_email
    retry_at = None
    if not recipient:
        note.notification_status = OrderNote.Notification.FAILED
        note.notification_error = (
            "The order has no customer email address; add one to the order and post the note again."
        )
    else:
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
                retry_at = timezone.now() + retry_delay(note.notification_attempts)
        else:
            note.notification_status = OrderNote.Notification.SENT
            note.notified_at = timezone.now()
            note.notification_error = ""
    note.save(
        update_fields=[
            "notification_status", "notification_error", "notification_attempts", "notified_at",
        ]
    )  # fmt: skip
    return DeliveryAttempt(note.notification_status, retry_at)


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
