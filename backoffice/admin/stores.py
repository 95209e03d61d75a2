"""Stores, who works for them, and their API keys."""

import zoneinfo

import pycountry
from django import forms
from django.contrib import admin
from django.db import transaction
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers

from backoffice.admin.display import badge
from backoffice.scoping import StoreScopedAdmin
from orders.models import ApiKey, Order, Scope, Store, StoreMembership
from orders.services import api_key_create, api_key_revoke
from orders.services.api_keys import api_key_forget


class StoreForm(forms.ModelForm):
    timezone = forms.TypedChoiceField(
        choices=[(zone, zone) for zone in sorted(zoneinfo.available_timezones())],
        help_text="The store's own time zone: its days in filters, the dashboard and exports.",
    )

    class Meta:
        model = Store
        fields = ["name", "currency", "timezone", "plan"]

    def clean_currency(self) -> str:
        code = self.cleaned_data["currency"].strip().upper()
        if pycountry.currencies.get(alpha_3=code) is None:
            raise forms.ValidationError(f"'{code}' is not an ISO 4217 currency code (USD, EUR…).")
        return code


@admin.register(Store)
class StoreAdmin(StoreScopedAdmin):
    store_path = "pk"
    form = StoreForm
    list_display = ["name", "public_id", "currency", "plan", "timezone", "created_at"]
    fields = ["name", "public_id", "currency", "timezone", "plan", "next_order_number",
              "created_at"]  # fmt: skip
    search_fields = ["name"]

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        readonly = ["public_id", "next_order_number", "created_at"]
        if not request.user.is_superuser:
            readonly.append("plan")  # what the store pays for is Ordo's to set
        if obj is not None and Order.objects.filter(store=obj).exists():
            # Every price, total and refund of its orders is in this currency.
            readonly.append("currency")
        return readonly

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser


@admin.register(StoreMembership)
class StoreMembershipAdmin(StoreScopedAdmin):
    list_display = ["user", "store", "role", "created_at"]
    list_select_related = ["user", "store"]
    allow_delete = True

    # Who works for which store is for superusers to decide.
    def _is_member(self, request: HttpRequest, obj=None) -> bool:
        return request.user.is_active and request.user.is_superuser


class ApiKeyChangeForm(forms.ModelForm):
    class Meta:
        model = ApiKey
        fields = ["name", "expires_at"]
        help_texts = {
            "name": "Who uses the key, e.g. 'ERP sync' or 'Warehouse'.",
            "expires_at": "Leave empty for a key that never expires.",
        }

    def clean_expires_at(self):
        expires_at = self.cleaned_data.get("expires_at")
        if "expires_at" not in self.changed_data:
            return expires_at  # an expired key may still be renamed
        if expires_at is not None and expires_at <= timezone.now():
            raise forms.ValidationError(
                "Choose a moment in the future, or leave it empty. To stop a key now, revoke it."
            )
        return expires_at


class ApiKeyCreateForm(ApiKeyChangeForm):
    scopes = forms.MultipleChoiceField(
        choices=Scope.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text="What the key may do. A key's scopes never change: issue a new key instead.",
    )

    class Meta(ApiKeyChangeForm.Meta):
        fields = ["store", "name", "scopes", "expires_at"]


@admin.register(ApiKey)
class ApiKeyAdmin(StoreScopedAdmin):
    """Create (the full key is shown once, then only its prefix), scopes, expiry, revoke,
    last used."""

    form = ApiKeyCreateForm
    list_display = ["name", "prefix", "store", "scope_list", "state", "expires_at",
                    "last_used_at", "created_at"]  # fmt: skip
    list_select_related = ["store"]
    list_filter = ["revoked_at"]
    search_fields = ["name", "prefix"]
    ordering = ["-created_at"]
    readonly_fields = ["prefix", "state", "revoked_at", "last_used_at", "created_at"]
    actions = ["revoke_keys"]

    def get_fields(self, request: HttpRequest, obj=None):
        if obj is None:
            return ["store", "name", "scopes", "expires_at"]
        return ["store", "name", "prefix", "scope_list", "state", "expires_at", "revoked_at",
                "last_used_at", "created_at"]  # fmt: skip

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        if obj is None:
            return []
        # A key's store and scopes are fixed once issued: make a new key instead.
        return [*self.readonly_fields, "store", "scope_list"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = ApiKeyCreateForm if obj is None else ApiKeyChangeForm
        return super().get_form(request, obj, change, **kwargs)

    def save_model(self, request: HttpRequest, obj: ApiKey, form, change: bool) -> None:
        if change:
            obj.save(update_fields=["name", "expires_at"])
            # A new expiry holds at once here; other processes see it within the second.
            transaction.on_commit(lambda: api_key_forget(obj.prefix))
            return
        api_key, raw_key = api_key_create(
            store=obj.store,
            scopes=form.cleaned_data["scopes"],
            name=obj.name,
            expires_at=obj.expires_at,
            created_by=request.user,
        )
        obj.pk = api_key.pk
        obj.refresh_from_db()  # the page and the admin log name the key by its prefix
        obj.raw_key_shown_once = raw_key

    def response_add(self, request: HttpRequest, obj: ApiKey, post_url_continue=None):
        """The new key, on a page of its own that is never cached. Not in a message:
        messages may travel in a cookie, and the raw key must not."""
        response = TemplateResponse(
            request,
            "admin/orders/apikey/issued.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": f"API key {obj} created",
                "api_key": obj,
                "raw_key": obj.raw_key_shown_once,
            },
        )
        add_never_cache_headers(response)
        return response

    @admin.display(description="Scopes")
    def scope_list(self, api_key: ApiKey) -> str:
        return ", ".join(api_key.scopes)

    @admin.display(description="State")
    def state(self, api_key: ApiKey):
        if api_key.revoked_at is not None:
            return badge("revoked", "Revoked")
        if api_key.is_expired():
            return badge("expired", "Expired")
        return badge("active", "Active")

    @admin.action(description="Revoke the selected keys")
    def revoke_keys(self, request: HttpRequest, queryset) -> None:
        now = timezone.now()
        revoked = 0
        for api_key in queryset:
            revoked += api_key.revoked_at is None
            api_key_revoke(api_key=api_key, now=now)
        self.message_user(
            request, f"Revoked {revoked} key(s); requests with them now answer 401 INVALID_API_KEY."
        )
