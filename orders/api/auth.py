"""API-key authentication and scope checks.

A key arrives as `X-API-Key: wk_live_…` or `?api_key=wk_live_…`. It is looked
up by its visible prefix (unique, indexed) and compared by hash in constant
time, so neither timing nor a database error reveals which keys exist.
"""

import hmac
from datetime import timedelta

from django.contrib.auth.models import AnonymousUser
from django.utils import timezone
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import BasePermission

from orders.exceptions import InsufficientScope
from orders.models import ApiKey
from orders.models.store import API_KEY_LOOKUP_LENGTH, API_KEY_PREFIX, hash_api_key

# last_used_at is for humans ("used 3 minutes ago"); one write a minute is plenty and keeps
# a busy sync job from turning every read into a write on the key's row.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class ApiKeyAuthentication(BaseAuthentication):
    keyword = "X-API-Key"

    def authenticate(self, request):
        raw_key = request.headers.get("X-API-Key") or request.query_params.get("api_key")
        if not raw_key:
            return None  # DRF answers 401 MISSING_API_KEY

        raw_key = raw_key.strip()
        if not raw_key.startswith(API_KEY_PREFIX) or len(raw_key) < API_KEY_LOOKUP_LENGTH + 16:
            raise AuthenticationFailed(
                "The API key is malformed: keys look like 'wk_live_' followed by 40 characters. "
                "Copy the whole key from the admin's API keys page."
            )
        api_key = (
            ApiKey.objects.select_related("store")
            .filter(prefix=raw_key[:API_KEY_LOOKUP_LENGTH])
            .first()
        )
        presented_hash = hash_api_key(raw_key)
        if api_key is None or not hmac.compare_digest(api_key.key_hash, presented_hash):
            raise AuthenticationFailed(
                "The API key is not valid. Check that it was copied completely, or create a new "
                "key in the admin."
            )
        now = timezone.now()
        if api_key.revoked_at is not None:
            raise AuthenticationFailed(
                "This API key was revoked. Create a new key in the admin and update your client."
            )
        if api_key.is_expired(now):
            raise AuthenticationFailed(
                "This API key has expired. Create a new key in the admin and update your client."
            )
        self._touch(api_key, now)
        # No Django user stands behind a key; request.auth carries the key (and its store).
        return (AnonymousUser(), api_key)

    def authenticate_header(self, request) -> str:
        # A non-empty challenge makes DRF answer 401 (not 403) when the key is missing.
        return self.keyword

    @staticmethod
    def _touch(api_key: ApiKey, now) -> None:
        stale_before = now - LAST_USED_RESOLUTION
        if api_key.last_used_at is not None and api_key.last_used_at > stale_before:
            return
        # Conditional, so concurrent requests of one key write the row at most once a minute.
        ApiKey.objects.filter(pk=api_key.pk).exclude(last_used_at__gt=stale_before).update(
            last_used_at=now
        )
        api_key.last_used_at = now


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
                details={"required_scope": needed},
            )
        return True
