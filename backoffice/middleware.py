from django.urls import reverse
from django.utils import timezone

from backoffice.scoping import working_time_zone


class StoreTimeZoneMiddleware:
    """Admin pages show times, and read dates typed into filters, in the store's own zone
    for a member of one store, as the API reads YYYY-MM-DD in the store's zone. API
    requests are left alone: they never touch the session."""

    def __init__(self, get_response):
        self.get_response = get_response
        self._admin_prefix = None

    def __call__(self, request):
        if self._admin_prefix is None:
            self._admin_prefix = reverse("admin:index")
        zone = None
        if request.path.startswith(self._admin_prefix):
            zone = working_time_zone(request.user)
        if zone is None:
            return self.get_response(request)
        with timezone.override(zone):
            return self.get_response(request)
