"""The orders list and the order page.

Orders are records: no form on the page writes a column. Every change (a status
step, a void, marking paid, a refund, a note) is a button that posts to one of the
views in order_actions, which call the same services as the API.
"""

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from backoffice.admin.display import EstimatedCountPaginator, badge, money
from backoffice.admin.order_actions import OrderActions
from backoffice.admin.order_bulk import BulkStatusAction
from backoffice.admin.order_export import OrderCsvExport
from backoffice.admin.order_filters import CountryFilter, ShippingMethodFilter, StoreFilter
from backoffice.forms import NoteForm, ReasonForm, RefundForm, TransitionForm
from backoffice.order_page import order_page
from backoffice.scoping import StoreScopedAdmin
from orders.filters import search_condition
from orders.models import Order
from orders.plans import INVENTORY, store_has_feature


@admin.register(Order)
class OrderAdmin(OrderActions, OrderCsvExport, BulkStatusAction, StoreScopedAdmin):
    list_display = ["number", "customer_display", "status_badge", "payment_badge", "total_display",
                    "item_count", "created_at"]  # fmt: skip
    list_display_links = ["number"]
    # Columns with an index that leads with the store; sorting by units would read them all.
    sortable_by = ["number", "customer_display", "status_badge", "payment_badge", "total_display",
                   "created_at"]  # fmt: skip
    list_filter = [StoreFilter, "status", "payment_status", "created_at", CountryFilter,
                   ShippingMethodFilter]  # fmt: skip
    date_hierarchy = "created_at"
    search_fields = ["order_number"]  # the real search is get_search_results below
    search_help_text = "Order number, customer name, email, phone or code, or PO number"
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER  # counts per filter choice would scan the store
    paginator = EstimatedCountPaginator
    list_per_page = 50
    ordering = ["-created_at", "-id"]
    actions = ["move_to_status"]

    # --- permissions: orders change only through the actions, never through a form

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # orders are created through the API (prices come from the catalog)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_act_permission(self, request: HttpRequest, obj=None) -> bool:
        """May this user move, void, refund or annotate orders (of obj's store)?"""
        return self._is_member(request, obj)

    # --- the list

    def get_changelist_instance(self, request: HttpRequest):
        """Bad filter values (a store id that is not one, a year past 9999) send staff back
        to the list with Django's "invalid filters" flag (IncorrectLookupParameters),
        never a 500: the admin checks lookups, not the values the list filters get."""
        try:
            return super().get_changelist_instance(request)
        except (ValueError, OverflowError, ValidationError) as error:
            raise IncorrectLookupParameters(error) from error

    def get_search_results(self, request, queryset, search_term):
        matches = search_condition(search_term)
        return (queryset if matches is None else queryset.filter(matches)), False

    @admin.display(description="Order", ordering="order_number")
    def number(self, order: Order) -> str:
        return f"#{order.order_number}"

    @admin.display(description="Customer", ordering="customer_name")
    def customer_display(self, order: Order) -> str:
        return order.customer_name or order.customer_email

    @admin.display(description="Status", ordering="status")
    def status_badge(self, order: Order):
        return badge(order.status, order.get_status_display())

    @admin.display(description="Payment", ordering="payment_status")
    def payment_badge(self, order: Order):
        return badge(order.payment_status, order.get_payment_status_display())

    @admin.display(description="Total", ordering="total")
    def total_display(self, order: Order) -> str:
        return money(order.total, order.currency)

    # --- the order page

    def get_object(self, request: HttpRequest, object_id: str, from_field=None):
        """The user's order with this (unquoted) id and its store; None for a foreign,
        missing or malformed id."""
        try:
            return self.get_queryset(request).select_related("store").get(pk=object_id)
        except (Order.DoesNotExist, ValidationError, ValueError):
            return None

    def render_change_form(self, request, context, add=False, change=False, form_url="",
                           obj=None):  # fmt: skip
        if obj is not None:
            page = order_page(order=obj)
            context.update(
                page=page,
                can_act=self.has_act_permission(request, obj),
                etag=obj.etag,
                transition_form=TransitionForm(),
                reason_form=ReasonForm(),
                note_form=NoteForm(),
                refund_form=RefundForm(
                    line_items=page.items, counts_stock=store_has_feature(obj.store, INVENTORY)
                )
                if page.can_refund
                else None,
                title=f"Order #{obj.order_number}",
                subtitle=None,
            )
        return super().render_change_form(request, context, add, change, form_url, obj)
