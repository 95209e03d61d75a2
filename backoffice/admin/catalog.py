"""Customers, products with their variants and stock, shipping methods and tax rates."""

from functools import cached_property

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, Sum
from django.http import HttpRequest

from backoffice.once import new_form_token, spend_form_token
from backoffice.scoping import StoreScopedAdmin, StoreScopedInline
from orders.exceptions import OrdoError
from orders.models import Customer, Product, ShippingMethod, Store, TaxRate, Variant
from orders.plans import INVENTORY, feature_denied, store_has_feature
from orders.services import variant_adjust_stock


@admin.register(Customer)
class CustomerAdmin(StoreScopedAdmin):
    list_display = ["name", "email", "phone", "code", "store", "created_at"]
    list_select_related = ["store"]
    search_fields = ["name", "email", "phone", "code"]
    readonly_fields = ["public_id", "created_at"]
    show_full_result_count = False


# A delivery or a write-off of more than a million units at once is a typo.
MAX_STOCK_CHANGE = 1_000_000


class VariantForm(forms.ModelForm):
    stock_change = forms.IntegerField(
        required=False,
        min_value=-MAX_STOCK_CHANGE,
        max_value=MAX_STOCK_CHANGE,
        label="Add to stock",
        help_text="Units received (5) or written off (-2); added to the stock as it is then.",
    )

    class Meta:
        model = Variant
        fields = ["name", "sku", "price", "track_inventory"]

    def clean_stock_change(self) -> int:
        change = self.cleaned_data.get("stock_change") or 0
        if self.instance.stock + change < 0:
            raise forms.ValidationError(f"Only {self.instance.stock} in stock to remove.")
        return change


class VariantFormSet(forms.BaseInlineFormSet):
    """What the variant form cannot check by itself, because it depends on the store (the
    product's, not a field of the variant's form):
    - SKUs are unique per store, against the store's other variants and its own rows;
    - stock is the premium plan's (orders.plans): on a free store a stock change or a
      variant made tracked is refused with the plan's own words."""

    @cached_property
    def _store(self) -> Store | None:
        # Read once per formset: every row's form asks (get_form_kwargs), then clean.
        store_id = self.instance.store_id
        return Store.objects.filter(pk=store_id).first() if store_id else None

    def get_form_kwargs(self, index):
        kwargs = super().get_form_kwargs(index)
        # A new row of an existing free store's product starts untracked, so saving it as
        # offered is never refused. Only an existing product's: on the add page the store
        # is chosen in the same form, and a default that changed between showing the page
        # and saving it would make an untouched row look filled in.
        adding_row = index is None or index >= self.initial_form_count()
        if adding_row and self.instance.pk and not self.instance._state.adding:
            store = self._store
            if store is not None and not store_has_feature(store, INVENTORY):
                kwargs["initial"] = {**kwargs.get("initial", {}), "track_inventory": False}
        return kwargs

    def clean(self) -> None:
        super().clean()
        kept = [
            form
            for form in self.forms
            if not self._should_delete_form(form) and form.cleaned_data.get("sku")
        ]
        self._refuse_stock_on_a_free_store(kept)
        taken = set(
            Variant.objects.filter(
                store_id=self.instance.store_id, sku__in=[f.cleaned_data["sku"] for f in kept]
            )
            .exclude(pk__in=[f.instance.pk for f in kept if not f.instance._state.adding])
            .values_list("sku", flat=True)
        )
        seen: set[str] = set()
        for form in kept:
            sku = form.cleaned_data["sku"]
            if sku in taken or sku in seen:
                form.add_error("sku", f"SKU {sku} is already used in this store.")
            seen.add(sku)

    def _refuse_stock_on_a_free_store(self, kept: list[forms.Form]) -> None:
        store = self._store
        if store is None or store_has_feature(store, INVENTORY):
            return
        refusal = feature_denied(store=store, feature=INVENTORY).message
        for form in kept:
            if form.cleaned_data.get("stock_change"):
                form.add_error("stock_change", refusal)
            # Making a variant tracked is refused; one tracked already (from before a move
            # to the free plan) may keep its setting while other fields change.
            was_tracked = not form.instance._state.adding and "track_inventory" not in (
                form.changed_data
            )
            if form.cleaned_data.get("track_inventory") and not was_tracked:
                form.add_error("track_inventory", refusal)


class VariantInline(StoreScopedInline):
    """Stock is never typed over: staff add or remove units, and the change is applied to
    the stock as it is at that moment (orders reserve units meanwhile)."""

    model = Variant
    form = VariantForm
    formset = VariantFormSet
    fields = ["name", "sku", "price", "track_inventory", "stock", "stock_change"]
    readonly_fields = ["stock"]


class ProductForm(forms.ModelForm):
    form_token = forms.CharField(widget=forms.HiddenInput, required=False, initial=new_form_token)

    class Meta:
        model = Product
        fields = ["store", "name"]


@admin.register(Product)
class ProductAdmin(StoreScopedAdmin):
    list_display = ["name", "variant_count", "units_in_stock", "store", "created_at"]
    list_select_related = ["store"]
    search_fields = ["name", "variants__sku"]
    form = ProductForm
    inlines = [VariantInline]
    allow_delete = True

    def get_queryset(self, request: HttpRequest):
        return (
            super()
            .get_queryset(request)
            .annotate(variant_total=Count("variants"), stock_total=Sum("variants__stock"))
        )

    @admin.display(description="Variants", ordering="variant_total")
    def variant_count(self, product: Product) -> int:
        return product.variant_total

    @admin.display(description="In stock", ordering="stock_total")
    def units_in_stock(self, product: Product) -> int:
        return product.stock_total or 0

    def save_formset(self, request, form, formset, change) -> None:
        if formset.model is not Variant:
            return super().save_formset(request, form, formset, change)
        for variant in formset.save(commit=False):
            # New variants belong to their product's store.
            variant.store_id = form.instance.store_id
            if variant._state.adding:
                variant.save()
            else:
                # Never `stock`: it only moves through variant_adjust_stock.
                variant.save(update_fields=VariantForm.Meta.fields)
        changes = [(f.instance, f.cleaned_data.get("stock_change")) for f in formset.forms]
        if any(change_by for _, change_by in changes) and not spend_form_token(
            store=form.instance.store, token=form.cleaned_data.get("form_token", "")
        ):
            messages.error(
                request, "This page was already saved once: its stock changes were not added again."
            )
            return
        for variant, change_by in changes:
            if not change_by or variant._state.adding:
                continue
            try:
                variant_adjust_stock(store=form.instance.store, variant=variant, change=change_by)
            except OrdoError as error:  # short of stock, or (changed plan meanwhile) no stock
                messages.error(request, error.message)


@admin.register(ShippingMethod)
class ShippingMethodAdmin(StoreScopedAdmin):
    list_display = ["code", "name", "price", "requires_shipping", "is_active", "store"]
    list_select_related = ["store"]


@admin.register(TaxRate)
class TaxRateAdmin(StoreScopedAdmin):
    list_display = ["country_code", "province", "rate", "store"]
    list_select_related = ["store"]
    allow_delete = True
