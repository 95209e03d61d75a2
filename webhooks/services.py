"""Writes of webhooks: endpoints and their secrets, retrying and replaying deliveries.

Used alike by the API (webhooks.api), the admin (backoffice) and the worker. Every
function is one transaction; each names what it locks and raises.
"""

from collections.abc import Sequence
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from orders.exceptions import InvalidParameters, OrdoError, UnacceptableValues
from orders.leases import lease_free
from orders.models import Store
from orders.models.event import EVENT_TYPE_PATTERNS, event_types_matching
from orders.plans import WEBHOOKS, require_feature
from webhooks.addresses import UnsafeUrl, resolve_target
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.signing import generate_secret


class DeliveryInProgress(OrdoError):
    """409: a worker is sending the delivery at this moment."""

    status_code = 409
    code = "DELIVERY_IN_PROGRESS"


# Stripe's limit: more endpoints than this is a misconfiguration, not an integration.
MAX_ENDPOINTS_PER_STORE = 16
# How long a rotated-out secret keeps signing, so receivers can switch without a gap.
ROTATION_GRACE = timedelta(hours=24)
MAX_URL_LENGTH = 2000
# What a replay may queue again (deliveries_replay).
REPLAY_STATUSES = ("failed", "succeeded", "pending", "all")


def check_endpoint_url(url: str) -> str:
    """`url` stripped, if webhooks may go there; UnacceptableValues (422) saying why not."""
    url = url.strip()
    if len(url) > MAX_URL_LENGTH:
        raise UnacceptableValues({"url": f"Webhook URLs are at most {MAX_URL_LENGTH} characters."})
    try:
        resolve_target(url)
    except UnsafeUrl as error:
        raise UnacceptableValues({"url": str(error)}) from None
    return url


def check_event_patterns(events: Sequence[str]) -> list[str]:
    """The endpoint's event patterns, deduplicated in the order given; InvalidParameters
    for an unknown one or none at all."""
    if not events:
        raise InvalidParameters(
            {"events": "Give at least one event type, a wildcard such as order.*, or *."}
        )
    patterns = list(dict.fromkeys(pattern.strip().lower() for pattern in events))
    try:
        event_types_matching(patterns)
    except ValueError as error:
        raise InvalidParameters({"events": str(error)}) from None
    return patterns


@transaction.atomic
def endpoint_create(
    *, store: Store, url: str, events: Sequence[str], description: str = ""
) -> tuple[WebhookEndpoint, str]:
    """Register a receiver; returns it and its signing secret (shown to the caller once).

    Locks the store row, so two concurrent creates cannot pass the limit. Raises
    FeatureAccessDenied (free plan), UnacceptableValues (URL refused, too many
    endpoints), InvalidParameters (event patterns).
    """
    require_feature(store=store, feature=WEBHOOKS)
    url = check_endpoint_url(url)
    patterns = check_event_patterns(events)
    Store.objects.select_for_update().filter(pk=store.pk).first()
    if WebhookEndpoint.objects.filter(store=store).count() >= MAX_ENDPOINTS_PER_STORE:
        raise UnacceptableValues(
            {
                "url": (
                    f"A store has at most {MAX_ENDPOINTS_PER_STORE} webhook endpoints. Delete "
                    "one you no longer use, or subscribe one endpoint to more events."
                )
            }
        )
    secret = generate_secret()
    endpoint = WebhookEndpoint.objects.create(
        store=store, url=url, events=patterns, description=description.strip(), secret=secret
    )
    return endpoint, secret


@transaction.atomic
def endpoint_update(
    *,
    store: Store,
    endpoint: WebhookEndpoint,
    url: str | None = None,
    events: Sequence[str] | None = None,
    description: str | None = None,
    status: str | None = None,
) -> WebhookEndpoint:
    """Change what PATCH may change. Enabling an endpoint clears its failure record, so it
    gets a fresh 3 days; its waiting deliveries go out in order.

    Locks the endpoint row. Raises what endpoint_create raises for url and events.
    """
    require_feature(store=store, feature=WEBHOOKS)
    endpoint = WebhookEndpoint.objects.select_for_update().get(store=store, pk=endpoint.pk)
    if url is not None:
        endpoint.url = check_endpoint_url(url)
    if events is not None:
        endpoint.events = check_event_patterns(events)
    if description is not None:
        endpoint.description = description.strip()
    if status is not None and status != endpoint.status:
        if status not in WebhookEndpoint.Status.values:
            raise InvalidParameters({"status": "status must be enabled or disabled."})
        endpoint.status = status
        if status == WebhookEndpoint.Status.ENABLED:
            endpoint.failing_since = endpoint.disabled_at = None
            endpoint.disabled_reason = ""
            # What waited goes out now, each with a whole retry window again: a delivery
            # that was failing when the endpoint was disabled would otherwise give up at
            # its first new failure.
            WebhookDelivery.objects.filter(
                store=store, endpoint=endpoint, status=WebhookDelivery.Status.PENDING
            ).update(first_attempt_at=None, next_attempt_at=timezone.now())
        else:
            endpoint.disabled_at = timezone.now()
    endpoint.updated_at = timezone.now()
    endpoint.save()
    return endpoint


def endpoint_enable(*, store: Store, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """The admin banner's one click: enable a disabled endpoint again."""
    return endpoint_update(store=store, endpoint=endpoint, status=WebhookEndpoint.Status.ENABLED)


@transaction.atomic
def endpoint_delete(*, store: Store, endpoint: WebhookEndpoint) -> None:
    """Delete an endpoint and its delivery log. Events stay in the feed."""
    WebhookEndpoint.objects.filter(store=store, pk=endpoint.pk).delete()


@transaction.atomic
def endpoint_rotate_secret(
    *, store: Store, endpoint: WebhookEndpoint, grace: timedelta = ROTATION_GRACE
) -> tuple[WebhookEndpoint, str]:
    """A new signing secret; the current one keeps signing (a second `v1=`) for `grace`.
    Locks the endpoint row. Raises FeatureAccessDenied on the free plan."""
    require_feature(store=store, feature=WEBHOOKS)
    endpoint = WebhookEndpoint.objects.select_for_update().get(store=store, pk=endpoint.pk)
    now = timezone.now()
    secret = generate_secret()
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_expires_at = now + grace
    endpoint.secret = secret
    endpoint.updated_at = now
    endpoint.save()
    return endpoint, secret


@transaction.atomic
def delivery_retry(*, store: Store, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a delivery again now, whatever became of it, with a fresh retry window.

    Locks the delivery row. Raises DeliveryInProgress (409) while a worker is sending
    it. Its place in its order's line is kept: it goes out once any earlier delivery of
    the same order to the endpoint has.
    """
    delivery = WebhookDelivery.objects.select_for_update().get(store=store, pk=delivery.pk)
    now = timezone.now()
    if _being_sent(delivery, now=now):
        raise DeliveryInProgress(
            "A worker is sending this delivery right now; its outcome will be in the log "
            "within seconds. Retry it then if it failed."
        )
    _requeue(delivery, now=now)
    delivery.save()
    return delivery


@transaction.atomic
def deliveries_replay(
    *, store: Store, endpoint: WebhookEndpoint, since: datetime, status: str = "failed"
) -> int:
    """Queue again, to go now, the endpoint's deliveries of events since `since` that are
    `status`: failed (given up on), succeeded (to send again), pending (waiting for a
    retry: send them now instead), or all; returns how many. Locks those rows."""
    S = WebhookDelivery.Status
    statuses = {
        "failed": [S.FAILED],
        "succeeded": [S.SUCCEEDED],
        "pending": [S.PENDING],
        "all": [S.FAILED, S.SUCCEEDED, S.PENDING],
    }.get(status)
    if statuses is None:
        raise InvalidParameters({"status": "status must be failed, succeeded, pending or all."})
    now = timezone.now()
    # One UPDATE, no rows read into memory; those being sent at this moment are left to
    # the worker sending them.
    return (
        WebhookDelivery.objects.filter(
            store=store, endpoint=endpoint, created_at__gte=since, status__in=statuses
        )
        .filter(lease_free(now))
        .update(**_REQUEUED, next_attempt_at=now)
    )


def _being_sent(delivery: WebhookDelivery, *, now: datetime) -> bool:
    return delivery.lease_expires_at is not None and delivery.lease_expires_at > now


# A requeued delivery starts over: a fresh retry window and backoff from its first wait.
_REQUEUED = {"status": WebhookDelivery.Status.PENDING, "first_attempt_at": None, "attempts": 0}


def _requeue(delivery: WebhookDelivery, *, now: datetime) -> None:
    for field, value in _REQUEUED.items():
        setattr(delivery, field, value)
    delivery.next_attempt_at = now


__all__ = [
    "EVENT_TYPE_PATTERNS",
    "MAX_ENDPOINTS_PER_STORE",
    "REPLAY_STATUSES",
    "DeliveryInProgress",
    "check_endpoint_url",
    "check_event_patterns",
    "deliveries_replay",
    "delivery_retry",
    "endpoint_create",
    "endpoint_delete",
    "endpoint_enable",
    "endpoint_rotate_secret",
    "endpoint_update",
]
