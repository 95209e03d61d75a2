from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.timezone import now

from orders.models.base import StoreOwned

# Long enough for a detailed customer message, short enough to stay an email, not a letter.
MAX_NOTE_LENGTH = 5000


class OrderNote(StoreOwned):
    """A note on an order: internal (staff only) or customer-facing (emailed to the customer)."""

    PUBLIC_ID_PREFIX = "note_"

    class Notification(models.TextChoices):
        NOT_APPLICABLE = "", "Internal note, never emailed"
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    order = models.ForeignKey("orders.Order", on_delete=models.CASCADE, related_name="notes")
    content = models.TextField()
    is_internal = models.BooleanField(default=True)
    # How the API shows the author: api_key_<prefix>, a staff username, or system.
    author = models.CharField(max_length=150)
    author_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=now)

    notification_status = models.CharField(
        max_length=10, choices=Notification.choices, blank=True, default=""
    )
    notification_attempts = models.PositiveSmallIntegerField(default=0)
    notification_error = models.TextField(blank=True)
    notified_at = models.DateTimeField(null=True, blank=True)
    # The email's place in the outbox the delivery worker drains (notes.delivery): when it
    # is next due (set only while pending), and when this round of attempts began, which
    # bounds its retry window (a resend starts a new round).
    notification_next_attempt_at = models.DateTimeField(null=True, blank=True)
    notification_first_attempt_at = models.DateTimeField(null=True, blank=True)
    # The worker sending it now, until lease_expires_at (orders.leases).
    lease_token = models.UUIDField(null=True, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(content__regex=r"\S"), name="note_content_not_blank"
            ),
            models.CheckConstraint(
                condition=Q(is_internal=True, notification_status="")
                | Q(is_internal=False, notification_status__in=["pending", "sent", "failed"]),
                name="note_only_customer_notes_are_emailed",
            ),
            # A pending email the worker would never find (no next attempt) is lost.
            models.CheckConstraint(
                condition=Q(
                    notification_status="pending", notification_next_attempt_at__isnull=False
                )
                | (
                    ~Q(notification_status="pending") & Q(notification_next_attempt_at__isnull=True)
                ),
                name="note_pending_email_has_next_attempt",
            ),
        ]
        indexes = [
            models.Index(fields=["store", "order", "created_at"], name="note_store_order"),
            # The worker's one query: due emails; sent and failed ones stay out of the index.
            models.Index(
                fields=["notification_next_attempt_at"],
                name="note_email_due",
                condition=Q(notification_status="pending"),
            ),
        ]

    def __str__(self) -> str:
        return self.content[:60]

    @property
    def email_resendable(self) -> bool:
        """A customer note whose email is not queued: it failed, or was sent and lost."""
        return not self.is_internal and self.notification_status in RESENDABLE


RESENDABLE = frozenset({OrderNote.Notification.SENT, OrderNote.Notification.FAILED})
