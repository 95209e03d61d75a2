"""Per-store scoping for the staff admin.

A staff user sees and changes only the stores they are a member of; superusers see
all. Membership is the permission: a member may use every scoped page of their
stores, a non-member sees nothing, whatever Django model permissions say.
"""

import zoneinfo

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from orders.models import Store, StoreMembership


def _memberships(user) -> dict:
    """{store id: store time zone} of the user's memberships, read once per request."""
    cached = getattr(user, "_ordo_memberships", None)
    if cached is None:
        cached = dict(
            StoreMembership.objects.filter(user=user).values_list("store_id", "store__timezone")
        )
        user._ordo_memberships = cached
    return cached


def member_store_ids(user) -> set | None:
    """The ids of the stores `user` may work on; None means every store (superuser)."""
    if not (user.is_active and user.is_staff):
        return set()
    if user.is_superuser:
        return None
    return set(_memberships(user))


def member_stores(user) -> QuerySet[Store]:
    """The stores `user` may work on, by name."""
    ids = member_store_ids(user)
    stores = Store.objects.order_by("name", "created_at")
    return stores if ids is None else stores.filter(pk__in=ids)


def working_time_zone(user) -> zoneinfo.ZoneInfo | None:
    """The zone the admin shows times and days in: the store's, for a member of exactly one
    store (so "today" in a filter is the store's today); None (UTC) otherwise."""
    if not (user.is_authenticated and user.is_active and user.is_staff) or user.is_superuser:
        return None
    zones = set(_memberships(user).values())
    if len(zones) != 1:
        return None
    try:
        return zoneinfo.ZoneInfo(zones.pop())
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


def member_choices(db_field, user) -> QuerySet | None:
    """The choices of a foreign key in `user`'s forms: stores, or a store's rows, of the
    user's stores only; None (Django's default) for anything else or a superuser."""
    ids = member_store_ids(user)
    related = db_field.related_model
    if ids is None:
        return None
    if related is Store:
        return Store.objects.filter(pk__in=ids)
    if any(field.name == "store" for field in related._meta.fields):
        return related._default_manager.filter(store_id__in=ids)
    return None


class StoreScopedAdmin(admin.ModelAdmin):
    """A ModelAdmin whose rows, choices and permissions follow store membership.

    `store_path` is the lookup from the model to its store ("store" for tenant-owned
    rows, "pk" for the Store itself).
    """

    store_path = "store"
    # Orders, refunds and notes are records: nobody deletes them from the admin.
    allow_delete = False

    def _store_ids(self, request: HttpRequest):
        return member_store_ids(request.user)

    def get_queryset(self, request: HttpRequest):
        queryset = super().get_queryset(request)
        ids = self._store_ids(request)
        if ids is None:
            return queryset
        return queryset.filter(**{f"{self.store_path}__in": ids})

    def _is_member(self, request: HttpRequest, obj=None) -> bool:
        ids = self._store_ids(request)
        if ids is None:
            return request.user.is_active and request.user.is_staff
        if not ids:
            return False
        if obj is None:
            return True
        store_id = obj.pk if self.store_path == "pk" else getattr(obj, f"{self.store_path}_id")
        return store_id in ids

    def get_changeform_initial_data(self, request: HttpRequest) -> dict:
        initial = super().get_changeform_initial_data(request)
        ids = self._store_ids(request)
        if self.store_path == "store" and ids is not None and len(ids) == 1:
            initial.setdefault("store", next(iter(ids)))  # someone with one store adds to it
        return initial

    def get_form(self, request: HttpRequest, obj=None, change: bool = False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        if obj is not None and self.store_path == "store" and "store" in form.base_fields:
            # A row never moves to another store: its orders, variants and keys would stay
            # behind. Disabled (not read-only), the field stays in the form, so the
            # per-store unique constraints are still checked and a duplicate is a form error.
            form.base_fields["store"].disabled = True
        return form

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._is_member(request)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return self._is_member(request, obj)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return self._is_member(request, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._is_member(request)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return self.allow_delete and self._is_member(request, obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        choices = member_choices(db_field, request.user)
        if choices is not None:
            kwargs["queryset"] = choices
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class StoreScopedInline(admin.TabularInline):
    """Inline rows follow the parent's store; permissions follow membership."""

    extra = 0
    allow_delete = False

    def _is_member(self, request, obj=None) -> bool:
        ids = member_store_ids(request.user)
        if ids is None:
            return request.user.is_active and request.user.is_staff
        return bool(ids) and (obj is None or obj.store_id in ids)

    def has_view_permission(self, request, obj=None) -> bool:
        return self._is_member(request, obj)

    def has_change_permission(self, request, obj=None) -> bool:
        return self._is_member(request, obj)

    def has_add_permission(self, request, obj=None) -> bool:
        return self._is_member(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return self.allow_delete and self._is_member(request, obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        choices = member_choices(db_field, request.user)
        if choices is not None:
            kwargs["queryset"] = choices
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
