from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest
from django.utils import timezone

from backoffice.dashboard import dashboard
from backoffice.scoping import member_stores


class BadFiltersFlagged:
    """Bad filter values in a list's URL (`?created_at__year=0`, a year past 9999, an id
    that is not one) send staff back to the list with Django's "invalid filters" flag,
    never a 500: the admin checks the lookups, not the values the lookups get."""

    def get_changelist_instance(self, request: HttpRequest):
        try:
            return super().get_changelist_instance(request)
        except (ValueError, OverflowError, ValidationError) as error:
            raise IncorrectLookupParameters(error) from error


class OrdoAdminSite(admin.AdminSite):
    """The admin site, whose index is the dashboard of one of the user's stores
    (`?store=str_…` picks another)."""

    site_header = "Ordo back office"
    site_title = "Ordo"
    index_title = "Dashboard"
    index_template = "backoffice/index.html"

    def register(self, model_or_iterable, admin_class=None, **options):
        # Every list, Ordo's and those other apps register (users, tasks), flags bad filters.
        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, BadFiltersFlagged):
            admin_class = type(admin_class.__name__, (BadFiltersFlagged, admin_class), {})
        super().register(model_or_iterable, admin_class, **options)

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
