"""Issuing, finding and revoking a store's API keys.

Finding a key (api_key_for_prefix) costs no query while the key is warm: every API request
needs its key and store, and asking the database each time made authentication the one
query no page could shed. The copies are kept briefly, in two tiers:

- this process's memory, for at most KEY_CACHE_SECONDS from the moment the database was
  read (not from when the copy reached this process, so the tiers' ages never add up);
- the shared cache (Redis when REDIS_URL is set, so N app processes read the database
  about once a second per busy key between them; else a per-process memory cache).

So a key revoked, expired early or otherwise changed, or its store changed, anywhere (the
admin, a service, SQL by hand) is seen by every process within KEY_CACHE_SECONDS, with no
invalidation protocol to get wrong; api_key_revoke also drops the shared copy, so processes
that have no local copy yet see a revocation at once. Expiry is checked against the
request's clock on every request (orders.api.auth), and so is the secret's hash: nothing
here says a raw key is valid. A prefix no key has is not cached at all, so a key created a
moment ago works on its first request.
"""

import hashlib
import logging
import pickle
import re
import time
from collections.abc import Iterable
from datetime import datetime, timedelta
from functools import cache as memoized

from django.core.cache import cache
from django.db import transaction

from orders.exceptions import InvalidParameters
from orders.models import ApiKey, Scope, Store
from orders.models.store import (
    API_KEY_LOOKUP_LENGTH,
    API_KEY_PREFIX,
    generate_api_key,
    hash_api_key,
)

logger = logging.getLogger(__name__)

# How stale a key (and its store) may be anywhere: the promise is that a revoked or
# expired key is refused on every process within one second.
KEY_CACHE_SECONDS = 1.0
# After the shared cache fails, this process asks the database alone for this long, so an
# unreachable Redis costs one timeout now and then rather than one per request.
SHARED_CACHE_PAUSE_SECONDS = 5.0
# Copies kept by one process at most: far above any real number of keys in use, and a
# bound all the same (only prefixes of existing keys get here).
LOCAL_CACHE_MAX_KEYS = 10_000

# last_used_at is for humans ("used 3 minutes ago"); one write a minute is plenty and keeps
# a busy sync job from turning every read into a write on the key's row.
LAST_USED_RESOLUTION = timedelta(minutes=1)

# The characters generate_api_key uses (secrets.token_urlsafe): a prefix with any other
# cannot belong to a key, so it is neither looked up nor used in a cache key.
_PREFIX_SHAPE = re.compile(re.escape(API_KEY_PREFIX) + r"[A-Za-z0-9_-]+")

# prefix -> (loaded_at, pickled rows). Bytes, not instances: each request unpickles its own
# ApiKey and Store, so no two threads ever share (and mutate) one instance.
_local_copies: dict[str, tuple[float, bytes]] = {}
# key id -> when this process last wrote its last_used_at: the cached copy still holds the
# value read from the database, and reading it again is what the cache is there to avoid.
_marked_used: dict[int, datetime] = {}
_shared_paused_until = 0.0


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
    """Revoke a key; later requests with it answer 401 (on other processes within
    KEY_CACHE_SECONDS at most). Locks the key's row."""
    api_key = ApiKey.objects.select_for_update().get(pk=api_key.pk)
    if api_key.revoked_at is None:
        api_key.revoked_at = now
        api_key.save(update_fields=["revoked_at"])
    prefix = api_key.prefix
    api_key_forget(prefix)
    # Again once committed: a request that read the row before the commit may have put the
    # unrevoked key back meanwhile.
    transaction.on_commit(lambda: api_key_forget(prefix), robust=True)
    return api_key


def copy_clock() -> float:
    """The clock (Unix seconds) copies' ages are told by, in every process alike. Not the
    request's clock that expiry is read against: the test suite stops this one, so a key
    stays warm through a test however long it runs (query counts do not depend on it)."""
    return time.time()


def api_key_for_prefix(prefix: str) -> ApiKey | None:
    """The key with this visible prefix, its store loaded, as the database held it at most
    KEY_CACHE_SECONDS ago; None when no key has it. A new instance on every call.

    Whether the presented secret matches, and whether the key is revoked or expired, is the
    caller's to check (orders.api.auth)."""
    if not _PREFIX_SHAPE.fullmatch(prefix):
        return None
    at = copy_clock()
    copy = _local_copies.get(prefix)
    if copy is None or not _fresh(copy, at):
        copy = _shared_copy(prefix, at)
        if copy is None:
            copy = _read(prefix, at)
            if copy is None:
                _local_copies.pop(prefix, None)
                return None
            _share(prefix, copy)
        if len(_local_copies) >= LOCAL_CACHE_MAX_KEYS:
            _local_copies.clear()
        _local_copies[prefix] = copy
    return _rebuilt(copy[1])


def api_key_mark_used(api_key: ApiKey, *, now: datetime) -> None:
    """Record that the key was used: one write a minute at most, and no read to find out."""
    stale_before = now - LAST_USED_RESOLUTION
    seen = [at for at in (api_key.last_used_at, _marked_used.get(api_key.pk)) if at is not None]
    if seen and max(seen) > stale_before:
        return
    # Conditional, so the processes and threads that use one key write its row at most once
    # a minute between them.
    ApiKey.objects.filter(pk=api_key.pk).exclude(last_used_at__gt=stale_before).update(
        last_used_at=now
    )
    _marked_used[api_key.pk] = now
    api_key.last_used_at = now


def api_key_forget(prefix: str) -> None:
    """Drop the key's copy from this process and from the shared cache. Other processes'
    own copies live on for KEY_CACHE_SECONDS at most."""
    _local_copies.pop(prefix, None)
    if not _PREFIX_SHAPE.fullmatch(prefix):
        return
    try:
        cache.delete(_shared_key(prefix))
    except Exception:  # a cache outage must not fail a revocation; the copy expires anyway
        logger.warning("Could not drop API key %s from the shared cache", prefix, exc_info=True)


def api_keys_forget_local_copies() -> None:
    """Forget every key this process holds, and when it last marked each used (the test
    suite starts every test with none)."""
    global _shared_paused_until
    _local_copies.clear()
    _marked_used.clear()
    _shared_paused_until = 0.0


# --- the copies -----------------------------------------------------------------------------


def _fresh(copy: tuple[float, bytes], at: float) -> bool:
    # A copy read "after" now (a clock that stepped back, another host's fast clock) is not
    # trusted either: it might be older than it says.
    return 0 <= at - copy[0] < KEY_CACHE_SECONDS


def _read(prefix: str, at: float) -> tuple[float, bytes] | None:
    # `at` was taken before the query: the copy is at least as fresh as it claims.
    api_key = ApiKey.objects.select_related("store").filter(prefix=prefix).first()
    if api_key is None:
        return None
    key_row = [getattr(api_key, name) for name in _fields(ApiKey)]
    store_row = [getattr(api_key.store, name) for name in _fields(Store)]
    return at, pickle.dumps((api_key._state.db, key_row, store_row), pickle.HIGHEST_PROTOCOL)


def _rebuilt(rows: bytes) -> ApiKey:
    db, key_row, store_row = pickle.loads(rows)
    api_key = ApiKey.from_db(db, _fields(ApiKey), key_row)
    api_key.store = Store.from_db(db, _fields(Store), store_row)
    return api_key


@memoized
def _fields(model) -> tuple[str, ...]:
    return tuple(field.attname for field in model._meta.concrete_fields)


@memoized
def _shared_key_version() -> str:
    # Rows are stored by position: processes of another release (a field added or removed)
    # use other cache keys instead of misreading each other's rows during a deploy.
    names = "|".join(",".join(_fields(model)) for model in (ApiKey, Store))
    return hashlib.sha256(names.encode()).hexdigest()[:12]


def _shared_key(prefix: str) -> str:
    return f"ordo:api-key:{_shared_key_version()}:{prefix}"


def _shared_copy(prefix: str, at: float) -> tuple[float, bytes] | None:
    if not _shared_cache_usable(at):
        return None
    try:
        copy = cache.get(_shared_key(prefix))
    except Exception:
        _pause_shared_cache(at)
        return None
    if not (isinstance(copy, tuple) and len(copy) == 2 and _fresh(copy, at)):
        return None
    return copy


def _share(prefix: str, copy: tuple[float, bytes]) -> None:
    if not _shared_cache_usable(copy[0]):
        return
    try:
        # Redis counts whole seconds; the copy's own loaded_at is what bounds its age.
        cache.set(_shared_key(prefix), copy, timeout=max(1, round(KEY_CACHE_SECONDS)))
    except Exception:
        _pause_shared_cache(copy[0])


def _shared_cache_usable(at: float) -> bool:
    return at >= _shared_paused_until


def _pause_shared_cache(at: float) -> None:
    global _shared_paused_until
    _shared_paused_until = at + SHARED_CACHE_PAUSE_SECONDS
    logger.warning(
        "The shared cache failed; API keys are read from the database for %ss",
        SHARED_CACHE_PAUSE_SECONDS,
        exc_info=True,
    )
