"""Staff admin for stores, catalog, customers, API keys and orders, scoped per store.

Every change to an order goes through orders.services; the order pages are
read-only records here (money only ever changes through services).
"""

import json
from functools import cached_property

from django.contrib import admin, messages
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Q
from django.utils import timezone
from django.utils.html import format_html

from orders.admin_scoping import StoreScopedAdmin, StoreScopedInline, member_store_ids
from orders.models import (
    ApiKey,
    Customer,
    Fulfillment,
    LineItem,
    Order,
    Product,
    ShippingMethod,
    Store,
    StoreMembership,
    TaxRate,
    Variant,
)
from orders.services import api_key_create, api_key_revoke

STATUS_COLOURS = {
    "pending": "#8a6d00", "confirmed": "#1f5fa8", "processing": "#6b3fa0", "shipped": "#0b7a75",
    "delivered": "#2e7d32", "completed": "#1b5e20", "cancelled": "#7a7a7a", "returned": "#a84300",
    "voided": "#7a7a7a", "paid": "#2e7d32", "partially_refunded": "#a84300", "refunded": "#7a7a7a",
    "failed": "#b00020",
}  # fmt: skip


def badge(value: str, label: str):
    return format_html(
        '<span style="background:{};color:#fff;padding:1px 6px;border-radius:8px;'
        'font-size:11px;white-space:nowrap">{}</span>',
        STATUS_COLOURS.get(value, "#555"),
        label,
    )


class EstimatedCountPaginator(Paginator):
    """Counts exactly up to EXACT_UP_TO rows; beyond, PostgreSQL's planner estimate
    stands in, so a page of a million-order store never waits for COUNT(*)."""

    EXACT_UP_TO = 10_000

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        if connection.vendor == "postgresql" and hasattr(queryset, "explain"):
            plan = json.loads(queryset.order_by().explain(format="json"))
            estimate = int(plan[0]["Plan"]["Plan Rows"])
            if estimate > self.EXACT_UP_TO:
                self.is_estimate = True
                return estimate
        self.is_estimate = False
        return super().count


@admin.register(Store)
class StoreAdmin(StoreScopedAdmin):
    store_path = "pk"
    list_display = ["name", "public_id", "currency", "plan", "timezone", "created_at"]
    readonly_fields = ["public_id", "next_order_number", "created_at"]
    fields = [
        "name",
        "public_id",
        "currency",
        "timezone",
        "plan",
        "next_order_number",
        "created_at",
    ]
    search_fields = ["name"]

    def has_add_permission(self, request) -> bool:
        return request.user.is_superuser


@admin.register(StoreMembership)
class StoreMembershipAdmin(StoreScopedAdmin):
    list_display = ["user", "store", "role", "created_at"]
    list_select_related = ["user", "store"]
    allow_delete = True

    # Who works for which store is for superusers to decide.
    def _is_member(self, request, obj=None) -> bool:
        return request.user.is_active and request.user.is_superuser


@admin.register(Customer)
class CustomerAdmin(StoreScopedAdmin):
    list_display = ["name", "email", "phone", "code", "store", "created_at"]
    list_select_related = ["store"]
    search_fields = ["name", "email", "phone", "code"]
    readonly_fields = ["public_id", "created_at"]
    show_full_result_count = False


class VariantInline(StoreScopedInline):
    model = Variant
    fields = ["name", "sku", "price", "stock", "track_inventory"]


@admin.register(Product)
class ProductAdmin(StoreScopedAdmin):
    list_display = ["name", "store", "created_at"]
    list_select_related = ["store"]
    search_fields = ["name", "variants__sku"]
    inlines = [VariantInline]
    allow_delete = True

    def save_formset(self, request, form, formset, change):
        # New variants belong to their product's store.
        for variant in formset.save(commit=False):
            variant.store_id = form.instance.store_id
            variant.save()
        for deleted in formset.deleted_objects:
            deleted.delete()


@admin.register(ShippingMethod)
class ShippingMethodAdmin(StoreScopedAdmin):
    list_display = ["code", "name", "price", "requires_shipping", "is_active", "store"]
    list_select_related = ["store"]


@admin.register(TaxRate)
class TaxRateAdmin(StoreScopedAdmin):
    list_display = ["country_code", "province", "rate", "store"]
    list_select_related = ["store"]
    allow_delete = True


@admin.register(ApiKey)
class ApiKeyAdmin(StoreScopedAdmin):
    """Create (the full key is shown once), scopes, expiry, revoke, last used."""

    list_display = ["name", "prefix", "store", "scopes", "expires_at", "revoked_at", "last_used_at"]
    list_select_related = ["store"]
    fields = ["store", "name", "scopes", "expires_at", "prefix", "revoked_at", "last_used_at"]
    readonly_fields = ["prefix", "revoked_at", "last_used_at"]
    actions = ["revoke_keys"]

    def get_readonly_fields(self, request, obj=None):
        # A key's store and scopes are fixed once issued: make a new key instead.
        return [*self.readonly_fields, "store", "scopes"] if obj else self.readonly_fields

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        api_key, raw_key = api_key_create(
            store=obj.store,
            scopes=obj.scopes,
            name=obj.name,
            expires_at=obj.expires_at,
            created_by=request.user,
        )
        obj.pk = api_key.pk
        messages.warning(
            request,
            f"Copy this key now; it is shown only once: {raw_key}",
        )

    @admin.action(description="Revoke the selected keys")
    def revoke_keys(self, request, queryset):
        now = timezone.now()
        for api_key in queryset:
            api_key_revoke(api_key=api_key, now=now)
        self.message_user(request, f"Revoked {queryset.count()} key(s).")


class LineItemInline(StoreScopedInline):
    model = LineItem
    fields = ["sku", "product_name", "variant_name", "quantity", "unit_price", "total_price",
              "tax_amount", "refunded_quantity"]  # fmt: skip
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class FulfillmentInline(StoreScopedInline):
    model = Fulfillment
    fields = ["carrier", "tracking_number", "tracking_url", "status", "shipped_at", "delivered_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class ShippingMethodFilter(admin.SimpleListFilter):
    title = "shipping method"
    parameter_name = "shipping"

    def lookups(self, request, model_admin):
        ids = member_store_ids(request.user)
        methods = ShippingMethod.objects.all()
        if ids is not None:
            methods = methods.filter(store_id__in=ids)
        return sorted({(m.code, m.name) for m in methods})

    def queryset(self, request, queryset):
        return queryset.filter(shipping_method_code=self.value()) if self.value() else queryset


class CountryFilter(admin.SimpleListFilter):
    title = "country"
    parameter_name = "country"

    def lookups(self, request, model_admin):
        codes = (
            model_admin.get_queryset(request)
            .order_by()
            .values_list("country_code", flat=True)
            .distinct()
        )
        return [(code, code) for code in sorted(codes) if code]

    def queryset(self, request, queryset):
        return queryset.filter(country_code=self.value()) if self.value() else queryset


@admin.register(Order)
class OrderAdmin(StoreScopedAdmin):
    list_display = ["number", "customer_name", "status_badge", "payment_badge", "total_display",
                    "item_count", "created_at"]  # fmt: skip
    list_display_links = ["number"]
    list_filter = ["status", "payment_status", CountryFilter, ShippingMethodFilter]
    date_hierarchy = "created_at"
    search_fields = ["customer_name"]  # the real search is get_search_results below
    search_help_text = "Order number, customer name, email or phone, or PO number"
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    list_per_page = 50
    ordering = ["-created_at", "-id"]
    inlines = [LineItemInline, FulfillmentInline]
    fieldsets = [
        ("Order", {"fields": ["order_number", "store", "status", "payment_status",
                              "payment_method", "allowed_transitions", "created_at",
                              "updated_at"]}),
        ("Customer", {"fields": ["customer_name", "customer_email", "customer_phone",
                                 "po_number", "customer_notes", "internal_notes"]}),
        ("Shipping", {"fields": ["shipping_method_code", "shipping_name", "shipping_line1",
                                 "shipping_line2", "shipping_city", "shipping_province",
                                 "shipping_postal_code", "shipping_country", "country_code"]}),
        ("Money", {"fields": ["currency", "subtotal", "discount_amount", "shipping_cost",
                              "tax_amount", "total", "refunded_amount"]}),
    ]  # fmt: skip

    def get_readonly_fields(self, request, obj=None):
        # Totals, status and customer snapshot only change through orders.services.
        return [f for fieldset in self.fieldsets for f in fieldset[1]["fields"]]

    def has_add_permission(self, request) -> bool:
        return False  # orders are created through the API (prices come from the catalog)

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        matches = (
            Q(customer_name__icontains=term)
            | Q(customer_email__icontains=term)
            | Q(customer_phone__icontains=term)
            | Q(po_number__icontains=term)
        )
        number = term.lstrip("#")
        if number.isdigit() and len(number) < 19:
            matches |= Q(order_number=int(number))
        return queryset.filter(matches), False

    @admin.display(description="Order", ordering="order_number")
    def number(self, order: Order) -> str:
        return f"#{order.order_number}"

    @admin.display(description="Status", ordering="status")
    def status_badge(self, order: Order):
        return badge(order.status, order.get_status_display())

    @admin.display(description="Payment", ordering="payment_status")
    def payment_badge(self, order: Order):
        return badge(order.payment_status, order.get_payment_status_display())

    @admin.display(description="Total", ordering="total")
    def total_display(self, order: Order) -> str:
        return f"{order.total} {order.currency}"
