"""Leases: how a worker takes rows of an outbox so that no other worker sends them at the
same time, and so that a worker that dies simply lets go of them.

A row is taken by writing a fresh `lease_token` and a `lease_expires_at` in the
future; it is free again once that time has passed. The worker records the outcome
with a conditional UPDATE on its token (`held_by`): a worker that outlived its lease,
while another took the row over, changes nothing. A worker must therefore finish with
a row before its lease runs out (webhooks.delivery sizes its batches and timeouts so).
"""

import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from django.db import models, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone


def lease_free(now: datetime) -> Q:
    return Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=now)


def lease_take(
    queryset: QuerySet,
    *,
    limit: int,
    lease: timedelta,
    order_by: tuple[str, ...],
    related: tuple[str, ...] = (),
    also: Mapping[str, Any] | None = None,
) -> tuple[uuid.UUID, list]:
    """Lease up to `limit` rows of `queryset` (already filtered to due work) that nobody
    holds: (the lease's token, the rows, with `related` loaded). Rows another worker is
    taking at this moment are skipped (SKIP LOCKED), not waited for. `also` are more
    changes made with the taking (an attempt counted: a worker may die before it can
    record one)."""
    token = uuid.uuid4()
    model = queryset.model
    with transaction.atomic():
        now = timezone.now()
        candidates = list(
            queryset.filter(lease_free(now))
            .select_for_update(skip_locked=True, of=("self",))
            .order_by(*order_by)
            .values_list("pk", flat=True)[:limit]
        )
        if not candidates:
            return token, []
        # Conditional again: SQLite has no row locks, and there two workers may pick the
        # same candidates; only one UPDATE finds each row still free.
        taken = model.objects.filter(lease_free(now), pk__in=candidates).update(
            lease_token=token, lease_expires_at=now + lease, **(also or {})
        )
    if not taken:
        return token, []
    # Read back by token alone: a row leased is this worker's to finish, even if it stopped
    # matching `queryset` in between (left out, it would sit unsent until the lease ran out).
    rows = model.objects.filter(held_by(token)).order_by(*order_by)
    if related:
        rows = rows.select_related(*related)
    return token, list(rows)


def held_by(token: uuid.UUID) -> Q:
    """The rows still leased under `token`: the condition of every outcome's UPDATE."""
    return Q(lease_token=token)


def lease_release(
    model: type[models.Model],
    *,
    token: uuid.UUID,
    pks: Iterable,
    also: Mapping[str, Any] | None = None,
) -> int:
    """Give back rows leased under `token` without an outcome, for any worker to take at
    once (`also`: undoing what lease_take's `also` did); how many were still held."""
    return model.objects.filter(held_by(token), pk__in=list(pks)).update(
        lease_token=None, lease_expires_at=None, **(also or {})
    )
