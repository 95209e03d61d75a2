"""Notes and refunds across a store's orders: read-only records (each is made, and only
made, from its order's page or the API)."""

from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from backoffice.admin.display import EstimatedCountPaginator, badge, money
from backoffice.scoping import StoreScopedAdmin
from notes.models import OrderNote
from refunds.models import Refund


class OrderRecordAdmin(StoreScopedAdmin):
    list_select_related = ["order"]
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    paginator = EstimatedCountPaginator
    search_fields = ["order__order_number"]
    search_help_text = "Order number"
    ordering = ["-created_at", "-id"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def get_search_results(self, request, queryset, search_term):
        number = search_term.strip().lstrip("#")
        if not number:
            return queryset, False
        if not number.isdigit() or len(number) > 18:
            return queryset.none(), False
        return queryset.filter(order__order_number=int(number)), False

    @admin.display(description="Order", ordering="order__order_number")
    def order_link(self, record):
        url = reverse("admin:orders_order_change", args=[record.order_id])
        return format_html('<a href="{}">#{}</a>', url, record.order.order_number)


@admin.register(OrderNote)
class OrderNoteAdmin(OrderRecordAdmin):
    list_display = ["order_link", "excerpt", "kind", "notification", "author", "created_at"]
    list_filter = ["is_internal", "notification_status"]
    fields = ["order_link", "content", "kind", "author", "notification", "notification_attempts",
              "notification_error", "notified_at", "created_at"]  # fmt: skip
    readonly_fields = fields

    @admin.display(description="Note")
    def excerpt(self, note: OrderNote) -> str:
        return note.content if len(note.content) <= 80 else f"{note.content[:79]}…"

    @admin.display(description="Kind", ordering="is_internal")
    def kind(self, note: OrderNote) -> str:
        return "Internal" if note.is_internal else "To the customer"

    @admin.display(description="Email", ordering="notification_status")
    def notification(self, note: OrderNote):
        if note.is_internal:
            return "—"
        return badge(note.notification_status, note.get_notification_status_display())


@admin.register(Refund)
class RefundAdmin(OrderRecordAdmin):
    list_display = ["order_link", "amount_display", "reason", "inventory_restored",
                    "created_by", "created_at"]  # fmt: skip
    list_filter = ["inventory_restored"]
    fields = ["order_link", "amount_display", "shipping_amount", "reason", "status",
              "inventory_restored", "created_by", "created_at"]  # fmt: skip
    readonly_fields = fields

    @admin.display(description="Amount", ordering="amount")
    def amount_display(self, refund: Refund) -> str:
        return money(refund.amount, refund.order.currency)
