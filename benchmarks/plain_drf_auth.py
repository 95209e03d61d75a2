"""The plain DRF app's authentication: an API key looked up in the database on every
request, the plain DRF way. Its own module: DRF imports the authentication classes while
rest_framework.views is still loading, so they may not import the views."""

from django.db.models import Q
from django.utils import timezone
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import BasePermission

from orders.models import ApiKey
from orders.models.store import API_KEY_LOOKUP_LENGTH, hash_api_key


class ApiKeyAuthentication(BaseAuthentication):
    """`X-API-Key`, found by its prefix and hash, not revoked, not expired: one query."""

    def authenticate(self, request):
        raw_key = request.headers.get("X-API-Key")
        if not raw_key:
            return None
        api_key = (
            ApiKey.objects.select_related("store")
            .filter(
                Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()),
                prefix=raw_key[:API_KEY_LOOKUP_LENGTH],
                key_hash=hash_api_key(raw_key),
                revoked_at__isnull=True,
            )
            .first()
        )
        if api_key is None:
            raise AuthenticationFailed("Invalid API key.")
        return (None, api_key)

    def authenticate_header(self, request) -> str:
        return "X-API-Key"


class HasApiKey(BasePermission):
    def has_permission(self, request, view) -> bool:
        return request.auth is not None
