"""Webhook endpoints and their deliveries (DESIGN.md "Events and webhooks").

A delivery is one event owed to one endpoint. The dispatcher creates them in event
order (`sequence`), workers take due ones under a lease (`lease_token`,
`lease_expires_at`: a worker killed mid-send leaves a lease that simply runs out),
and each attempt's outcome is kept on the row for the delivery log.
"""

from django.db import models
from django.db.models import Q
from django.utils import timezone

from orders.models.base import StoreOwned

# Signing secrets: "whsec_" and 32 random bytes, url-safe.
SECRET_PREFIX = "whsec_"
# What the log keeps of a receiver's answer.
RESPONSE_BODY_LIMIT = 1024


class WebhookEndpoint(StoreOwned):
    PUBLIC_ID_PREFIX = "we_"

    class Status(models.TextChoices):
        ENABLED = "enabled", "Enabled"
        DISABLED = "disabled", "Disabled"

    url = models.URLField(max_length=2000)
    # Event types and wildcards: ["order.paid", "refund.*"], or ["*"] for every event.
    events = models.JSONField(default=list)
    description = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ENABLED)
    # Kept readable: signing needs the secret itself (as Stripe and Shopify keep theirs).
    secret = models.CharField(max_length=100)
    # After a rotation the old secret signs too, until it expires (both v1= are sent).
    previous_secret = models.CharField(max_length=100, blank=True)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    # The first failure since the last success: 3 days of nothing else disables the endpoint.
    failing_since = models.DateTimeField(null=True, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    # Why it is disabled, in the staff's words ("" when someone turned it off).
    disabled_reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["store", "created_at"], name="webhook_endpoint_store")]
        constraints = [
            models.CheckConstraint(
                condition=Q(secret__startswith=SECRET_PREFIX), name="webhook_secret_prefixed"
            )
        ]

    def __str__(self) -> str:
        return self.url

    def signing_secrets(self, *, at) -> list[str]:
        """The secrets that sign a delivery sent `at`: the current one, and the one it
        replaced while that is still within its grace period."""
        secrets = [self.secret]
        if (
            self.previous_secret
            and self.previous_secret_expires_at
            and at < self.previous_secret_expires_at
        ):
            secrets.append(self.previous_secret)
        return secrets


class WebhookDelivery(StoreOwned):
    PUBLIC_ID_PREFIX = "whd_"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.ForeignKey("orders.Event", on_delete=models.CASCADE, related_name="+")
    event_type = models.CharField(max_length=40)
    # The order the event is about: one order's deliveries to an endpoint go one at a time,
    # in `sequence` order.
    order_id = models.UUIDField()
    sequence = models.BigIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    first_attempt_at = models.DateTimeField(null=True, blank=True)
    lease_token = models.UUIDField(null=True, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_duration_ms = models.PositiveIntegerField(null=True, blank=True)
    last_response_body = models.TextField(blank=True)
    last_error = models.TextField(blank=True)
    succeeded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            # Workers look for due pending deliveries.
            models.Index(
                fields=["next_attempt_at"],
                name="webhook_delivery_due",
                condition=Q(status="pending"),
            ),
            # "Is an earlier delivery of this order to this endpoint still pending?"
            models.Index(
                fields=["endpoint", "order_id", "sequence"],
                name="webhook_delivery_order_line",
                condition=Q(status="pending"),
            ),
            # The log: an endpoint's deliveries, newest first.
            models.Index(fields=["store", "endpoint", "-sequence"], name="webhook_delivery_log"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["endpoint", "event"], name="webhook_delivery_once_per_endpoint"
            )
        ]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.endpoint_id}"


class DispatchCursor(models.Model):
    """How far the dispatcher has read the event stream: one row, locked while it reads, so
    one dispatcher runs at a time however many workers there are."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    position = models.BigIntegerField(default=0)
    event_id = models.UUIDField(null=True, blank=True)
    # The `sequence` the next delivery gets.
    next_sequence = models.BigIntegerField(default=1)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(id=1), name="dispatch_cursor_single_row")]

    def __str__(self) -> str:
        return f"events dispatched up to position {self.position}"
