"""Issuing and revoking a store's API keys."""

from collections.abc import Iterable
from datetime import datetime

from django.db import transaction

from orders.exceptions import InvalidParameters
from orders.models import ApiKey, Scope, Store
from orders.models.store import API_KEY_LOOKUP_LENGTH, generate_api_key, hash_api_key


@transaction.atomic
def api_key_create(
    *,
    store: Store,
    scopes: Iterable[str],
    name: str = "",
    expires_at: datetime | None = None,
    created_by=None,
) -> tuple[ApiKey, str]:
    """Create a key and return it with the raw secret, which is never stored or shown again.

    Locks nothing: the prefix's unique index settles the (astronomically rare) collision.
    Raises InvalidParameters for no scope or an unknown one.
    """
    scopes = list(dict.fromkeys(scope.strip() for scope in scopes if scope.strip()))
    unknown = [scope for scope in scopes if scope not in Scope.values]
    if unknown or not scopes:
        raise InvalidParameters(
            {
                "scopes": (
                    f"Use one or more of {', '.join(Scope.values)}; "
                    f"got {', '.join(unknown) or 'none'}."
                )
            }
        )
    while True:
        raw_key = generate_api_key()
        prefix = raw_key[:API_KEY_LOOKUP_LENGTH]
        if not ApiKey.objects.filter(prefix=prefix).exists():
            break
    api_key = ApiKey.objects.create(
        store=store,
        name=name,
        prefix=prefix,
        key_hash=hash_api_key(raw_key),
        scopes=scopes,
        expires_at=expires_at,
        created_by=created_by,
    )
    return api_key, raw_key


@transaction.atomic
def api_key_revoke(*, api_key: ApiKey, now: datetime) -> ApiKey:
    """Revoke a key; later requests with it answer 401. Locks the key's row."""
    api_key = ApiKey.objects.select_for_update().get(pk=api_key.pk)
    if api_key.revoked_at is None:
        api_key.revoked_at = now
        api_key.save(update_fields=["revoked_at"])
    return api_key
