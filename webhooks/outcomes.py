"""What an attempt's outcome changes: the delivery's state, its next try, and the endpoint's
health (3 days of nothing but failures disables it and tells the store's staff)."""

import logging
import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from orders.leases import held_by
from orders.models import StoreMembership
from webhooks.models import WebhookDelivery, WebhookEndpoint

logger = logging.getLogger("ordo.webhooks")


def retry_window() -> timedelta:
    """How long a delivery is retried, and how long an endpoint may fail before it is
    disabled (DESIGN.md: 3 days)."""
    return timedelta(seconds=getattr(settings, "WEBHOOK_RETRY_WINDOW_SECONDS", 3 * 24 * 3600))


def retry_delay(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failure: 30 s doubling to at most 6 hours, with ±25 %
    jitter so a receiver coming back is not met by every retry at once. Over 3 days
    that is about 20 attempts."""
    base = getattr(settings, "WEBHOOK_RETRY_BASE_SECONDS", 30)
    seconds = min(base * 2 ** max(attempts - 1, 0), 6 * 3600)
    return timedelta(seconds=seconds * random.uniform(0.75, 1.25))


@dataclass(frozen=True)
class Outcome:
    """How one attempt went: the receiver's status code (None when none answered)."""

    at: datetime
    status_code: int | None
    duration_ms: int
    response_body: str = ""
    error: str = ""

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def record_outcome(*, delivery: WebhookDelivery, outcome: Outcome, token: UUID) -> bool:
    """Record one attempt of `delivery` (see record_outcomes); False (nothing changed) when
    the lease was lost meanwhile and another worker owns the delivery now."""
    return record_outcomes([(delivery, outcome)], token=token) == 1


def record_outcomes(results: Sequence[tuple[WebhookDelivery, Outcome]], *, token: UUID) -> int:
    """Record attempts of deliveries taken under lease `token` (which counted them:
    `delivery.attempts` includes this one); how many were recorded. A delivery whose
    lease was lost meanwhile, to another worker that owns it now, is left as it is.

    One transaction, so one commit however many there are (at hundreds of deliveries a
    second the commits are the cost); per delivery one conditional UPDATE, and per
    endpoint its health: a success clears its failure record, failures start one, and a
    whole retry window of nothing but failures disables it.
    """
    now = timezone.now()
    recorded: dict[object, list[Outcome]] = defaultdict(list)
    with transaction.atomic():
        for delivery, outcome in results:
            held = WebhookDelivery.objects.filter(held_by(token), pk=delivery.pk)
            if held.update(**_changes(delivery, outcome, now=now)):
                recorded[delivery.endpoint_id].append(outcome)
            else:
                logger.warning(
                    "Webhook delivery %s outlived its lease: another worker took it over, "
                    "so this attempt's outcome is not recorded.",
                    delivery.public_id,
                )
        for endpoint_id, outcomes in recorded.items():
            _record_endpoint_health(endpoint_id, sorted(outcomes, key=lambda o: o.at))
    for delivery, outcome in results:
        if not outcome.succeeded:
            logger.info(
                "Webhook delivery %s of %s to %s failed (attempt %s): %s",
                delivery.public_id, delivery.event_type, delivery.endpoint.url,
                delivery.attempts, outcome.error,
            )  # fmt: skip
    return sum(len(outcomes) for outcomes in recorded.values())


def _changes(delivery: WebhookDelivery, outcome: Outcome, *, now: datetime) -> dict:
    first_attempt_at = delivery.first_attempt_at or outcome.at
    changes = {
        "first_attempt_at": first_attempt_at,
        "last_attempt_at": outcome.at,
        "last_status_code": outcome.status_code,
        "last_duration_ms": outcome.duration_ms,
        "last_response_body": _storable(outcome.response_body),
        "last_error": _storable(outcome.error),
        "lease_token": None,
        "lease_expires_at": None,
    }
    window_ends = first_attempt_at + retry_window()
    if outcome.succeeded:
        changes |= {"status": WebhookDelivery.Status.SUCCEEDED, "succeeded_at": now}
    elif now >= window_ends:
        changes["status"] = WebhookDelivery.Status.FAILED
    else:
        # The last retry falls on the window's end, not up to a backoff step past it.
        changes["next_attempt_at"] = min(now + retry_delay(delivery.attempts), window_ends)
    return changes


def _record_endpoint_health(endpoint_id, outcomes: list[Outcome]) -> None:
    """`outcomes`: an endpoint's recorded ones, oldest first."""
    successes = [index for index, outcome in enumerate(outcomes) if outcome.succeeded]
    if successes:
        WebhookEndpoint.objects.filter(pk=endpoint_id, failing_since__isnull=False).update(
            failing_since=None
        )
    failures = outcomes[successes[-1] + 1 :] if successes else outcomes
    if failures:
        _record_endpoint_failure(
            endpoint_id, first=failures[0].at, last=failures[-1].at, reason=failures[-1].error
        )


def _storable(text: str) -> str:
    """`text` as PostgreSQL can store it: a receiver's answer may hold NUL characters, and
    one the database refuses would fail the outcome again at every retry."""
    return text.replace("\x00", "\ufffd")


def _record_endpoint_failure(endpoint_id, *, first: datetime, last: datetime, reason: str):
    """Failures from `first` to `last` (no success between): the endpoint is failing since
    `first` unless it already was, and disabled once that is a retry window before `last`."""
    WebhookEndpoint.objects.filter(pk=endpoint_id, failing_since__isnull=True).update(
        failing_since=first
    )
    endpoint = (
        WebhookEndpoint.objects.select_for_update()
        .filter(
            pk=endpoint_id,
            status=WebhookEndpoint.Status.ENABLED,
            failing_since__lte=last - retry_window(),
        )
        .first()
    )
    if endpoint is None:
        return
    days = retry_window().total_seconds() / 86400
    endpoint.status = WebhookEndpoint.Status.DISABLED
    endpoint.disabled_at = timezone.now()
    endpoint.disabled_reason = (
        f"Every delivery failed for {days:g} days (last: {reason or 'no answer'}). "
        "Fix the receiver, then enable the endpoint: its waiting deliveries go out in order."
    )[:500]
    endpoint.save(update_fields=["status", "disabled_at", "disabled_reason"])
    transaction.on_commit(lambda: _tell_staff_endpoint_disabled(endpoint))


def _tell_staff_endpoint_disabled(endpoint: WebhookEndpoint) -> None:
    """Email the store's staff that an endpoint was disabled. Best effort: the admin banner
    says the same to whoever signs in next."""
    emails = StoreMembership.objects.filter(
        store_id=endpoint.store_id, user__is_active=True
    ).exclude(user__email="")
    recipients = sorted(set(emails.values_list("user__email", flat=True)))
    if not recipients:
        return
    try:
        send_mail(
            subject=f"Ordo disabled a webhook endpoint of {endpoint.store.name}",
            message=(
                f"Deliveries to {endpoint.url} have failed for "
                f"{retry_window().total_seconds() / 86400:g} days, so Ordo stopped sending to "
                f"it.\n\n{endpoint.disabled_reason}\n\nIn the admin, open Webhooks → "
                f"{endpoint.url} and press Enable once the receiver answers again. Events "
                "keep being recorded, and the feed (GET /v1/events) has them all."
            ),
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=recipients,
        )
    except Exception:  # a mail outage must not stop the worker; the banner remains
        logger.exception("Could not email staff that endpoint %s was disabled", endpoint.pk)
