from django.contrib import admin
from django.http import Http404, HttpRequest
from django.utils import timezone

from backoffice.dashboard import dashboard
from backoffice.scoping import member_stores


class OrdoAdminSite(admin.AdminSite):
    """The admin site, whose index is the dashboard of one of the user's stores
    (`?store=str_…` picks another)."""

    site_header = "Ordo back office"
    site_title = "Ordo"
    index_title = "Dashboard"
    index_template = "backoffice/index.html"

    def index(self, request: HttpRequest, extra_context=None):
        stores = list(member_stores(request.user))
        context = {"stores": stores}
        if stores:
            chosen = request.GET.get("store")
            store = (
                stores[0]
                if not chosen
                else next((store for store in stores if store.public_id == chosen), None)
            )
            if store is None:
                raise Http404(f"No store '{chosen}' among yours.")
            today = timezone.localdate(timezone=store.tzinfo)
            context["dashboard"] = dashboard(store=store, stores=stores, today=today)
        return super().index(request, {**context, **(extra_context or {})})
