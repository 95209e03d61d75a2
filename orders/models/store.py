import hashlib
import secrets
import zoneinfo
from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils.timezone import now

from orders.models.base import PublicIdModel

API_KEY_PREFIX = "wk_live_"
# Visible part of a key kept for lookup and display: "wk_live_" and 8 random characters.
API_KEY_LOOKUP_LENGTH = len(API_KEY_PREFIX) + 8


class Store(PublicIdModel):
    PUBLIC_ID_PREFIX = "str_"

    class Plan(models.TextChoices):
        FREE = "free", "Free"
        PREMIUM = "premium", "Premium"

    name = models.CharField(max_length=200)
    currency = models.CharField(max_length=3, default="USD", help_text="ISO 4217 code")
    timezone = models.CharField(
        max_length=64,
        default="UTC",
        help_text="IANA zone used to expand YYYY-MM-DD dates in filters to whole days.",
    )
    plan = models.CharField(max_length=20, choices=Plan.choices, default=Plan.FREE)
    # The next order number to hand out; taken under a row lock so numbers are never reused.
    next_order_number = models.PositiveBigIntegerField(default=1001)
    created_at = models.DateTimeField(default=now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(next_order_number__gte=1),
                name="store_next_order_number_positive",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def tzinfo(self) -> zoneinfo.ZoneInfo:
        try:
            return zoneinfo.ZoneInfo(self.timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return zoneinfo.ZoneInfo("UTC")


class StoreMembership(models.Model):
    """Gives a staff user access to one store in the admin."""

    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        STAFF = "staff", "Staff"

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="store_memberships"
    )
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.STAFF)
    created_at = models.DateTimeField(default=now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["store", "user"], name="membership_unique_store_user")
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.store}"


class Scope(models.TextChoices):
    READ_ORDERS = "read:orders", "Read orders"
    WRITE_ORDERS = "write:orders", "Create and change orders"
    WRITE_REFUNDS = "write:refunds", "Issue refunds"
    MANAGE_WEBHOOKS = "manage:webhooks", "Manage webhook endpoints"


def hash_api_key(raw_key: str) -> str:
    # Keys carry 240 random bits, so a fast hash is safe; a slow KDF would only cost latency.
    return hashlib.sha256(raw_key.encode()).hexdigest()


def generate_api_key() -> str:
    return API_KEY_PREFIX + secrets.token_urlsafe(30)


class ApiKey(PublicIdModel):
    """A per-store API credential. Only the hash and a short visible prefix are stored."""

    PUBLIC_ID_PREFIX = "key_"

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(max_length=API_KEY_LOOKUP_LENGTH, unique=True, editable=False)
    key_hash = models.CharField(max_length=64, editable=False)
    scopes = models.JSONField(default=list)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=now, editable=False)

    class Meta:
        verbose_name = "API key"
        indexes = [models.Index(fields=["store", "created_at"], name="apikey_store_created")]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name or 'unnamed'})"

    @property
    def actor_label(self) -> str:
        """How history and notes name this key: `api_key_wk_live_ab12cd34`."""
        return f"api_key_{self.prefix}"

    def is_expired(self, at: datetime | None = None) -> bool:
        return self.expires_at is not None and self.expires_at <= (at or now())

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes
