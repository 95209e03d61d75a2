"""Moving many orders at once: each through order_transition, each on its own, so one
refusal stops nothing else, and staff see which moved and which did not, and why."""

from dataclasses import dataclass

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.http import HttpRequest
from django.template.response import TemplateResponse

from backoffice.forms import BulkStatusForm
from orders.exceptions import OrdoError
from orders.models import Order, OrderStatus
from orders.services import order_transition

# Beyond this a bulk move belongs in a script over the API, not in one web request.
BULK_LIMIT = 500


@dataclass(frozen=True)
class BulkOutcome:
    order: Order
    from_status: str
    moved: bool
    message: str


class BulkStatusAction:
    """The list's "Move the selected orders to a status" action, mixed into OrderAdmin."""

    @admin.action(description="Move the selected orders to a status…", permissions=["act"])
    def move_to_status(self, request: HttpRequest, queryset):
        orders = list(queryset.select_related("store").order_by("order_number")[: BULK_LIMIT + 1])
        if len(orders) > BULK_LIMIT:
            self.message_user(
                request,
                f"Select at most {BULK_LIMIT} orders at a time (filter the list first).",
                messages.ERROR,
            )
            return None
        form = BulkStatusForm(request.POST if "apply" in request.POST else None)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "orders": orders,
            "form": form,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
            "select_across": request.POST.get("select_across", "0"),
        }
        if not (form.is_bound and form.is_valid()):
            context["title"] = f"Move {len(orders)} order(s) to a status"
            return TemplateResponse(request, "admin/orders/order/bulk_status.html", context)

        to_status = form.cleaned_data["to_status"]
        outcomes = [
            self._move(request, order, to_status, form.cleaned_data["reason"].strip())
            for order in orders
        ]
        moved = sum(outcome.moved for outcome in outcomes)
        label = OrderStatus(to_status).label
        self.message_user(
            request,
            f"{moved} of {len(outcomes)} order(s) moved to {label}; "
            f"{len(outcomes) - moved} refused (see below).",
            messages.SUCCESS if moved == len(outcomes) else messages.WARNING,
        )
        context.update(title=f"Moved to {label}", outcomes=outcomes, to_status=to_status)
        return TemplateResponse(request, "admin/orders/order/bulk_status_done.html", context)

    def _move(self, request, order: Order, to_status: str, reason: str) -> BulkOutcome:
        from_status = order.status
        if from_status == to_status:
            return BulkOutcome(order, from_status, False, f"Already {order.get_status_display()}.")
        try:
            order_transition(
                store=order.store,
                order=order,
                to_status=to_status,
                actor=request.user.get_username(),
                reason=reason,
            )
        except OrdoError as error:
            return BulkOutcome(order, from_status, False, error.message)
        self.log_change(request, order, f"Moved from {from_status} to {to_status} (bulk).")
        return BulkOutcome(order, from_status, True, "Moved.")
