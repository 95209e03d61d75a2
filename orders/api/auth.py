"""API-key authentication and scope checks.

A key arrives as `X-API-Key: wk_live_…`, `Authorization: Bearer wk_live_…` (the
scheme in any case) or `?api_key=wk_live_…`. It is looked up by its visible
prefix (unique, indexed) and compared by hash in constant time, so neither
timing nor a database error reveals which keys exist.

Where a key may be, and what is refused (ApiKeyAuthentication.presented_key):
- the same key in several places is one key;
- two different keys are a 401 naming where each came from: which one the client
  meant is not ours to guess;
- an Authorization header of another scheme (Basic, set by a proxy in front of
  the client) is ignored when a key comes in X-API-Key or api_key; alone, it is a
  401 INVALID_API_KEY saying to use Bearer (the client did send a credential, so
  "missing" would mislead it);
- `Authorization: Bearer` with nothing after it is a malformed key.
"""

import hmac
from datetime import datetime

from django.contrib.auth.models import AnonymousUser
from django.utils import timezone
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import BasePermission

from orders.exceptions import InsufficientScope
from orders.models import ApiKey
from orders.models.store import API_KEY_LOOKUP_LENGTH, API_KEY_PREFIX, hash_api_key
from orders.services.api_keys import api_key_for_prefix, api_key_mark_used

SEND_KEY_AS = "Send the key as 'Authorization: Bearer wk_live_…' or in the X-API-Key header."

MALFORMED_KEY_MESSAGE = (
    "The API key is malformed: keys look like 'wk_live_' followed by 40 characters. "
    "Copy the whole key from the admin's API keys page."
)


def request_time() -> datetime:
    """The clock a key's expiry (and last use) is read against; one place for the tests to
    move it."""
    return timezone.now()


class ApiKeyAuthentication(BaseAuthentication):
    keyword = "X-API-Key"

    @staticmethod
    def presented_key(request) -> str | None:
        """The one key the request carries (see the module's docstring), or None when it
        carries none; raises AuthenticationFailed for conflicting or unusable credentials."""
        found: dict[str, str] = {}
        if header := request.headers.get("X-API-Key", "").strip():
            found["the X-API-Key header"] = header
        authorization = request.headers.get("Authorization", "").strip()
        scheme, _, credentials = authorization.partition(" ")
        if scheme.lower() == "bearer":
            credentials = credentials.strip()
            if not credentials:
                raise AuthenticationFailed(
                    f"The Authorization header says Bearer but carries no key. {SEND_KEY_AS}"
                )
            found["the Authorization header"] = credentials
        if query := request.query_params.get("api_key", "").strip():
            found["the api_key query parameter"] = query
        if len(set(found.values())) > 1:
            raise AuthenticationFailed(
                f"The request carries different API keys in {' and '.join(found)}. "
                "Send one key, in one place."
            )
        if found:
            return next(iter(found.values()))
        if authorization:
            raise AuthenticationFailed(
                f"The Authorization header uses the '{scheme[:20]}' scheme, which this API does "
                f"not accept. {SEND_KEY_AS}"
            )
        return None

    def authenticate(self, request):
        raw_key = self.presented_key(request)
        if raw_key is None:
            return None  # DRF answers 401 MISSING_API_KEY

        if not raw_key.startswith(API_KEY_PREFIX) or len(raw_key) < API_KEY_LOOKUP_LENGTH + 16:
            raise AuthenticationFailed(MALFORMED_KEY_MESSAGE)
        now = request_time()
        # A warm key comes from memory (orders.services.api_keys): no query, and at most a
        # second stale. What it says is checked below on every request all the same.
        api_key = api_key_for_prefix(raw_key[:API_KEY_LOOKUP_LENGTH])
        presented_hash = hash_api_key(raw_key)
        if api_key is None or not hmac.compare_digest(api_key.key_hash, presented_hash):
            raise AuthenticationFailed(
                "The API key is not valid. Check that it was copied completely, or create a new "
                "key in the admin."
            )
        if api_key.revoked_at is not None:
            raise AuthenticationFailed(
                "This API key was revoked. Create a new key in the admin and update your client."
            )
        if api_key.is_expired(now):
            raise AuthenticationFailed(
                "This API key has expired. Create a new key in the admin and update your client."
            )
        api_key_mark_used(api_key, now=now)
        # No Django user stands behind a key; request.auth carries the key (and its store),
        # this request's own instances.
        return (AnonymousUser(), api_key)

    def authenticate_header(self, request) -> str:
        # A non-empty challenge makes DRF answer 401 (not 403) when the key is missing.
        return self.keyword


class HasApiKeyScope(BasePermission):
    """Allows the request when its key carries the view's scope for this method.

    Views declare `required_scopes = {"GET": "read:orders", "POST": "write:orders"}`.
    """

    def has_permission(self, request, view) -> bool:
        api_key = request.auth
        if not isinstance(api_key, ApiKey):
            return False
        needed = getattr(view, "required_scopes", {}).get(request.method)
        if needed is None and request.method in {"HEAD", "OPTIONS"}:
            needed = getattr(view, "required_scopes", {}).get("GET")
        if needed is None:
            return True  # method not served: DRF answers 405 after this
        if not api_key.has_scope(needed):
            granted = ", ".join(api_key.scopes) or "none"
            raise InsufficientScope(
                f"This API key lacks the '{needed}' scope needed here (it has: {granted}). "
                "Create a key with that scope in the admin.",
                context={"required_scope": needed, "granted_scopes": list(api_key.scopes)},
            )
        return True
