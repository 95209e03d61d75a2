"""The order list's side filters that need the user's stores to know their choices."""

from django.contrib import admin

from backoffice.scoping import member_store_ids, member_stores
from orders.models import ShippingMethod
from orders.selectors import order_countries


class StoreFilter(admin.SimpleListFilter):
    """Shown to people who work for more than one store, and to superusers: one store's
    list is an index scan, the list of every store's orders at once sorts them all."""

    title = "store"
    parameter_name = "store"

    def lookups(self, request, model_admin):
        stores = list(member_stores(request.user).values_list("pk", "name"))
        if len(stores) < 2 and not request.user.is_superuser:
            return []
        return [(str(pk), name) for pk, name in stores]

    def has_output(self) -> bool:
        # Hidden for one store, yet a ?store= in the URL still filters (to nothing, or to
        # the "invalid filters" flag) rather than being dropped without a word.
        return super().has_output() or self.value() is not None

    def queryset(self, request, queryset):
        return queryset.filter(store_id=self.value()) if self.value() else queryset


def _stores_in_view(request) -> list | None:
    """The stores the list shows: the one chosen in the store filter, else all of the
    user's; None for a superuser's every store."""
    chosen = request.GET.get(StoreFilter.parameter_name)
    ids = member_store_ids(request.user)
    if ids is None:
        return None if chosen is None else [chosen]
    return [store_id for store_id in ids if chosen in (None, str(store_id))]


class ChoiceFromDataFilter(admin.SimpleListFilter):
    """A filter whose choices come from the store's data. A value that is not among them
    still filters (to nothing), rather than being dropped without a word."""

    def has_output(self) -> bool:
        return super().has_output() or self.value() is not None


class CountryFilter(ChoiceFromDataFilter):
    title = "country"
    parameter_name = "country"

    def lookups(self, request, model_admin):
        return [(code, code) for code in order_countries(store_ids=_stores_in_view(request))]

    def queryset(self, request, queryset):
        return queryset.filter(country_code=self.value()) if self.value() else queryset


class ShippingMethodFilter(ChoiceFromDataFilter):
    title = "shipping method"
    parameter_name = "shipping"

    def lookups(self, request, model_admin):
        methods = ShippingMethod.objects.all()
        stores = _stores_in_view(request)
        if stores is not None:
            methods = methods.filter(store_id__in=stores)
        return sorted({(method.code, method.name) for method in methods})

    def queryset(self, request, queryset):
        return queryset.filter(shipping_method_code=self.value()) if self.value() else queryset
