"""One-time tokens for the admin forms that a second submit would repeat (a note, and
its email; a stock delivery), where no ETag can tell a repeat from a new request.

A token is claimed in the idempotency-key table the API uses for its POSTs (a unique
row per store and key, pruned with them after 24 hours), so a double click, sent as
two requests at once, still applies once.
"""

import uuid

from django.db import IntegrityError, transaction

from orders.models import IdempotencyKey, Store

TOKEN_FIELD = "form_token"


def new_form_token() -> str:
    return uuid.uuid4().hex


def spend_form_token(*, store: Store, token: str) -> bool:
    """True the first time `token` is spent for `store`, False ever after. A form sent
    without a token (not from our pages) is not guarded."""
    if not token:
        return True
    try:
        with transaction.atomic():
            IdempotencyKey.objects.create(
                store=store, key=f"admin-form:{token}", request_fingerprint="admin-form"
            )
    except IntegrityError:
        return False
    return True
