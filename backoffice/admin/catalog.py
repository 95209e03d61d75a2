"""Customers, products with their variants and stock, shipping methods and tax rates."""

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, Sum
from django.http import HttpRequest

from backoffice.once import new_form_token, spend_form_token
from backoffice.scoping import StoreScopedAdmin, StoreScopedInline
from orders.exceptions import InsufficientStock
from orders.models import Customer, Product, ShippingMethod, TaxRate, Variant
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
    """SKUs are unique per store. The form cannot check that by itself (the store is the
    product's, not a field of the variant's form), so the formset does, against the
    store's other variants and against its own rows."""

    def clean(self) -> None:
        super().clean()
        kept = [
            form
            for form in self.forms
            if not self._should_delete_form(form) and form.cleaned_data.get("sku")
        ]
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
            except InsufficientStock as error:
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
