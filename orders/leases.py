"""Leases: how a worker takes rows of an outbox so that no other worker sends them at the
same time, and so that a worker that dies simply lets go of them.

A row is taken by writing a fresh `lease_token` and a `lease_expires_at` in the
future; it is free again once that time has passed. The worker records the outcome
with a conditional UPDATE on its token (`release_filter`): a worker that outlived
its lease, while another took the row over, changes nothing.
"""

import uuid
from datetime import timedelta

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone


def lease_free(now) -> Q:
    return Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=now)


def lease_take(
    queryset: QuerySet, *, limit: int, lease: timedelta, order_by: tuple[str, ...]
) -> tuple[uuid.UUID, list]:
    """Lease up to `limit` rows of `queryset` (already filtered to due work) that nobody
    holds: (the lease's token, the rows). Rows another worker is taking at this moment
    are skipped (SKIP LOCKED), not waited for."""
    token = uuid.uuid4()
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
        model = queryset.model
        model.objects.filter(lease_free(now), pk__in=candidates).update(
            lease_token=token, lease_expires_at=now + lease
        )
    return token, list(queryset.filter(held_by(token)).order_by(*order_by))


def held_by(token: uuid.UUID) -> Q:
    """The rows still leased under `token`: the condition of every outcome's UPDATE."""
    return Q(lease_token=token)
