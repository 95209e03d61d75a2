"""Idempotency-Key handling for every POST of the API.

A key is claimed by inserting its row (committed at once, so concurrent
duplicates see it), the request runs, and its response is saved in the same
transaction as the request's own writes: either both commit or neither, so a
crash can never leave an order without its replayable response. A claim older
than CLAIM_TIMEOUT belongs to a request that died and may be taken over.
"""

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from orders.exceptions import IdempotencyKeyInUse, IdempotencyKeyReused, InvalidParameters
from orders.models import IdempotencyKey, Store

CLAIM_TIMEOUT = timedelta(minutes=2)
RETENTION = timedelta(hours=24)
MAX_KEY_LENGTH = 255
# Visible ASCII: what every HTTP stack carries unchanged (the document states this pattern).
KEY_PATTERN = rf"^[\x21-\x7e]{{1,{MAX_KEY_LENGTH}}}$"


def request_fingerprint(*, method: str, path: str, body: Any) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{method} {path}\n{canonical}".encode()).hexdigest()


@dataclass(frozen=True)
class Claim:
    """Either a fresh claim to run the request under, or a stored response to replay."""

    record: IdempotencyKey
    replay: bool


def idempotency_claim(*, store: Store, key: str, fingerprint: str) -> Claim:
    """Claim `key` for this request, or return the stored response to replay.

    Raises IdempotencyKeyReused (same key, different request) and
    IdempotencyKeyInUse (the first request with this key is still running).
    """
    if not re.fullmatch(KEY_PATTERN, key):
        raise InvalidParameters(
            {
                "Idempotency-Key": (
                    f"An Idempotency-Key is 1 to {MAX_KEY_LENGTH} visible ASCII characters, no "
                    "spaces (a UUID is ideal)."
                )
            }
        )
    for _ in range(3):  # the row may vanish between our insert and read (an abandoned claim)
        now = timezone.now()
        try:
            with transaction.atomic():
                record = IdempotencyKey.objects.create(
                    store=store, key=key, request_fingerprint=fingerprint, locked_at=now
                )
            return Claim(record=record, replay=False)
        except IntegrityError:
            record = IdempotencyKey.objects.filter(store=store, key=key).first()
        if record is None:
            continue
        if record.request_fingerprint != fingerprint:
            raise IdempotencyKeyReused(
                "This Idempotency-Key was already used for a different request. Use a new key "
                "for a new request; reuse a key only to retry the very same request."
            )
        if record.completed_at is not None:
            return Claim(record=record, replay=True)
        taken_over = IdempotencyKey.objects.filter(
            pk=record.pk, completed_at__isnull=True, locked_at=record.locked_at,
            locked_at__lt=now - CLAIM_TIMEOUT,
        ).update(locked_at=now)  # fmt: skip
        if taken_over:
            record.locked_at = now
            return Claim(record=record, replay=False)
        raise IdempotencyKeyInUse(
            "A request with this Idempotency-Key is still being processed. Retry in a moment "
            "to receive its result."
        )
    raise IdempotencyKeyInUse("This Idempotency-Key is busy. Retry in a moment.")


def idempotency_complete(
    *, record: IdempotencyKey, status: int, body: bytes, headers: dict[str, str]
) -> None:
    """Save the response; call inside the request's own transaction."""
    IdempotencyKey.objects.filter(pk=record.pk).update(
        completed_at=timezone.now(),
        response_status=status,
        response_body=body,
        response_headers=headers,
    )


def idempotency_release(*, record: IdempotencyKey) -> None:
    """Forget a claim whose request failed, so the client may retry with the same key."""
    IdempotencyKey.objects.filter(pk=record.pk, completed_at__isnull=True).delete()


def idempotency_prune(*, older_than: timedelta = RETENTION) -> int:
    """Delete keys older than `older_than` (never less than 24 hours). Returns how many."""
    older_than = max(older_than, RETENTION)
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=timezone.now() - older_than).delete()
    return deleted
