"""Emailing customer-facing notes: the delivery worker's "customer emails" channel.

A pending note is its own outbox entry (the row note_create wrote with the note, so a
rollback sends nothing and a commit cannot lose it). `send_due_notes` takes due notes
under a lease (orders.leases), sends each, and records the outcome with a conditional
UPDATE on its lease token: a worker killed mid-send holds its notes only until the
lease runs out, and one that outlived its lease changes nothing. At least once: a
worker killed after the mail server accepted a message, before recording it, means
the customer may get that email twice.

A failed send is retried after a delay doubling from NOTE_EMAIL_RETRY_BASE_SECONDS up
to 15 minutes, for NOTE_EMAIL_RETRY_WINDOW_SECONDS (24 h) from the first attempt; then
the note is `failed` with the last error, and staff can resend it (note_resend).
"""

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import F, QuerySet
from django.template.loader import render_to_string
from django.utils import timezone

from notes.models import OrderNote
from orders.leases import held_by, lease_release, lease_take

logger = logging.getLogger("ordo.notes")

MAX_RETRY_DELAY = timedelta(minutes=15)
# The SMTP backend's timeout (config/settings.py EMAIL_URL): a hung server holds one send
# this long at most.
SEND_TIMEOUT = timedelta(seconds=15)
# One send is about ten exchanges with the server (connect, EHLO, STARTTLS, AUTH, MAIL,
# RCPT, DATA, …), each allowed SEND_TIMEOUT: the longest a send can take when the server
# answers each one at the last moment.
LONGEST_SEND = SEND_TIMEOUT * 10
# Notes one worker takes at once. A note is started only with LONGEST_SEND of its lease
# left (send_due_notes), so the default 600 s lease holds any batch.
NOTES_PER_BATCH = 5

NO_RECIPIENT = (
    "The order has no customer email address: add one to the order, then resend the note."
)


def retry_delay(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failure: the base (60 s) doubling to 15 minutes, so a
    mail server coming back is tried again within a quarter of an hour."""
    base = getattr(settings, "NOTE_EMAIL_RETRY_BASE_SECONDS", 60)
    # In whole seconds: a timedelta would overflow long before a day of attempts is over.
    seconds = min(base * 2 ** max(attempts - 1, 0), MAX_RETRY_DELAY.total_seconds())
    return timedelta(seconds=seconds)


def retry_window() -> timedelta:
    return timedelta(seconds=getattr(settings, "NOTE_EMAIL_RETRY_WINDOW_SECONDS", 24 * 3600))


def lease_duration() -> timedelta:
    return timedelta(seconds=getattr(settings, "NOTE_EMAIL_LEASE_SECONDS", 600))


def due_notes() -> QuerySet[OrderNote]:
    """Pending customer emails whose time has come (the note_email_due index)."""
    return OrderNote.objects.filter(
        notification_status=OrderNote.Notification.PENDING,
        notification_next_attempt_at__lte=timezone.now(),
    )


@dataclass(frozen=True)
class SendOutcome:
    """How one attempt went: `error` empty when the mail server took the message;
    `final` when retrying cannot help (there is nobody to send it to)."""

    at: datetime
    error: str = ""
    final: bool = False


def send_due_notes() -> int:
    """Take a batch of due notes, email each, record each outcome; how many were taken."""
    token, notes = lease_take(
        due_notes(),
        limit=NOTES_PER_BATCH,
        lease=lease_duration(),
        order_by=("notification_next_attempt_at", "id"),
        related=("order", "store"),
    )
    # A send started with less of the lease left than this could outlive it, and another
    # worker could then send the same note (a lease shorter than a send, as tests use,
    # keeps half of it).
    margin = min(LONGEST_SEND, lease_duration() / 2)
    for position, note in enumerate(notes):
        if timezone.now() + margin > note.lease_expires_at:
            # Hand the rest back rather than race their next owner.
            lease_release(OrderNote, token=token, pks=[n.pk for n in notes[position:]])
            break
        record_outcome(note=note, outcome=send_note(note), token=token)
    return len(notes)


def send_note(note: OrderNote) -> SendOutcome:
    """One attempt at emailing `note` to its order's customer."""
    at = timezone.now()
    recipient = note.order.customer_email
    if not recipient:
        return SendOutcome(at=at, error=NO_RECIPIENT, final=True)
    try:
        _send_note_email(note, recipient)
    except Exception as error:  # any mail failure: recorded on the note, retried later
        return SendOutcome(at=at, error=f"{type(error).__name__}: {error}"[:2000])
    return SendOutcome(at=at)


def record_outcome(*, note: OrderNote, outcome: SendOutcome, token: uuid.UUID) -> bool:
    """Record one attempt at `note`, taken under lease `token`: sent, retried later, or
    failed once its retry window is over (or at once when retrying cannot help). False,
    and nothing changed, when the lease was lost meanwhile: another worker owns the note.
    One conditional UPDATE; locks nothing else."""
    now = timezone.now()
    first_attempt_at = note.notification_first_attempt_at or outcome.at
    changes = {
        "notification_attempts": F("notification_attempts") + 1,
        "notification_first_attempt_at": first_attempt_at,
        "notification_error": outcome.error,
        "notification_next_attempt_at": None,
        "lease_token": None,
        "lease_expires_at": None,
    }
    if not outcome.error:
        changes |= {"notification_status": OrderNote.Notification.SENT, "notified_at": now}
    elif outcome.final or now - first_attempt_at >= retry_window():
        changes["notification_status"] = OrderNote.Notification.FAILED
    else:
        changes["notification_next_attempt_at"] = now + retry_delay(note.notification_attempts + 1)
    updated = OrderNote.objects.filter(
        held_by(token), pk=note.pk, notification_status=OrderNote.Notification.PENDING
    ).update(**changes)
    if updated and outcome.error:
        logger.warning(
            "Emailing note %s failed (attempt %s, %s): %s",
            note.public_id,
            note.notification_attempts + 1,
            changes.get("notification_status", "will retry"),
            outcome.error,
        )
    return bool(updated)


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
