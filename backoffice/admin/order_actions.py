"""The order page's buttons: each posts here, calls one service, and comes back to the
page with what happened (or why not) as a message. Nothing here decides what is
allowed: the services do, for the admin exactly as for the API."""

from collections.abc import Callable

from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from backoffice.forms import NoteForm, ReasonForm, RefundForm, TransitionForm
from backoffice.once import spend_form_token
from notes.selectors import note_get
from notes.services import note_create, note_resend
from orders.exceptions import OrdoError, PreconditionFailed
from orders.models import Order, OrderStatus, PaymentStatus
from orders.plans import INVENTORY, store_has_feature
from orders.selectors import order_items
from orders.services import check_etag, order_transition, order_update, order_void
from refunds.services import refund_create, refund_quote, refund_refusals

# What staff can do about a refusal, where that depends on the page rather than on the
# order: the services say what was wrong (the API adds its own next step, "GET it again").
NEXT_STEPS = {
    PreconditionFailed.code: "The page now shows the order as it is: check it and try again.",
}


def refusal_message(error: OrdoError) -> str:
    """A service's refusal as staff read it: its own words, and the page's next step."""
    next_step = NEXT_STEPS.get(error.code)
    return f"{error.message} {next_step}" if next_step else error.message


def form_errors(form) -> str:
    parts = []
    for field, errors in form.errors.items():
        label = "" if field == "__all__" else f"{form[field].label}: "
        parts.extend(f"{label}{error}" for error in errors)
    return " ".join(parts)


class OrderActions:
    """Views behind the order page's buttons, mixed into OrderAdmin."""

    def get_urls(self):
        action_views = [
            ("transition", self.transition_view),
            ("void", self.void_view),
            ("mark-paid", self.mark_paid_view),
            ("refund", self.refund_view),
            ("notes", self.note_view),
            ("resend-note", self.resend_note_view),
        ]
        return [
            path(
                f"<path:object_id>/{name}/",
                self.admin_site.admin_view(require_POST(view)),
                name=f"orders_order_{name.replace('-', '_')}",
            )
            for name, view in action_views
        ] + super().get_urls()

    def _order(self, request: HttpRequest, object_id: str) -> Order:
        """The user's order, or 404 (another store's order is as unknown as a missing one)."""
        order = self.get_object(request, unquote(object_id))
        if order is None or not self.has_act_permission(request, order):
            raise Http404("No such order among your stores.")
        return order

    def _succeeded(self, request: HttpRequest, order: Order, text: str) -> None:
        """Tell the user, and keep it in the admin's log (the order's History, the
        dashboard's recent actions)."""
        messages.success(request, text)
        self.log_change(request, order, text)

    def _back_to(self, order: Order, anchor: str = "") -> HttpResponseRedirect:
        url = reverse("admin:orders_order_change", args=[order.pk])
        return HttpResponseRedirect(f"{url}#{anchor}" if anchor else url)

    def _unless_valid(self, request: HttpRequest, order: Order, form) -> HttpResponse | None:
        """Back to the page with the form's errors as a message; None when it is valid."""
        if form.is_valid():
            return None
        messages.error(request, form_errors(form))
        return self._back_to(order)

    def _attempt(
        self, request: HttpRequest, order: Order, change: Callable[[], object], *, done: str,
        anchor: str, unchanged: str = "",
    ) -> HttpResponseRedirect:  # fmt: skip
        """Run one service call: a refusal becomes an error message (shown at the top of the
        page), a success `done` (and the page opens at `anchor`). A service that found
        nothing to do returns the order untouched: `unchanged` says so."""
        try:
            result = change()
        except OrdoError as error:
            messages.error(request, refusal_message(error))
            return self._back_to(order)
        if unchanged and isinstance(result, Order) and result.updated_at == order.updated_at:
            messages.error(request, unchanged)
            return self._back_to(order)
        self._succeeded(request, order, done)
        return self._back_to(order, anchor)

    def transition_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        order = self._order(request, object_id)
        form = TransitionForm(request.POST)
        if (invalid := self._unless_valid(request, order, form)) is not None:
            return invalid
        data = form.cleaned_data
        return self._attempt(
            request,
            order,
            lambda: order_transition(
                store=order.store,
                order=order,
                to_status=data["to_status"],
                actor=request.user.get_username(),
                reason=data["reason"].strip(),
                shipment=form.shipment(),
                expected_etag=data["etag"] or None,
            ),
            done=f"Order #{order.order_number} is now {OrderStatus(data['to_status']).label}.",
            anchor="history",
            unchanged=f"Order #{order.order_number} is already {order.get_status_display()}; "
            "nothing was done.",
        )

    def void_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        order = self._order(request, object_id)
        form = ReasonForm(request.POST)
        if (invalid := self._unless_valid(request, order, form)) is not None:
            return invalid
        return self._attempt(
            request,
            order,
            lambda: order_void(
                store=order.store,
                order=order,
                actor=request.user.get_username(),
                reason=form.cleaned_data["reason"].strip(),
            ),
            done=f"Order #{order.order_number} is voided; its units are back in stock."
            if store_has_feature(order.store, INVENTORY)
            else f"Order #{order.order_number} is voided.",
            anchor="history",
        )

    def mark_paid_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        order = self._order(request, object_id)
        form = ReasonForm(request.POST)
        if (invalid := self._unless_valid(request, order, form)) is not None:
            return invalid
        return self._attempt(
            request,
            order,
            lambda: order_update(
                store=order.store,
                order=order,
                actor=request.user.get_username(),
                reason=form.cleaned_data["reason"].strip() or "Payment received",
                payment_status=PaymentStatus.PAID,
                expected_etag=form.cleaned_data["etag"] or None,
            ),
            done=f"Order #{order.order_number} is marked paid.",
            anchor="history",
            unchanged=f"Order #{order.order_number} is already paid; nothing was done.",
        )

    def note_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        order = self._order(request, object_id)
        form = NoteForm(request.POST)
        if (invalid := self._unless_valid(request, order, form)) is not None:
            return invalid
        if not spend_form_token(store=order.store, token=form.cleaned_data["form_token"]):
            messages.error(request, "This note was already sent once; it was not added again.")
            return self._back_to(order, "notes")
        recipient = order.customer_email or "the customer"
        return self._attempt(
            request,
            order,
            lambda: note_create(
                store=order.store,
                order=order,
                content=form.cleaned_data["content"],
                is_internal=form.is_internal,
                author=request.user.get_username(),
                author_user=request.user,
            ),
            done="Internal note added."
            if form.is_internal
            else f"Note added; it is being emailed to {recipient}.",
            anchor="notes",
        )

    def resend_note_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Email a failed (or sent, and lost) customer note again; the note is named by the
        form's `note_id`."""
        order = self._order(request, object_id)
        try:
            note = note_get(store=order.store, order=order, note_id=request.POST.get("note_id", ""))
        except OrdoError as error:
            messages.error(request, refusal_message(error))
            return self._back_to(order, "notes")
        return self._attempt(
            request,
            order,
            lambda: note_resend(
                store=order.store, order=order, note=note, actor=request.user.get_username()
            ),
            done=f"The note is queued again; it is being emailed to {order.customer_email}.",
            anchor="notes",
        )

    def refund_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Step one ("preview") shows what the refund gives back and changes nothing;
        step two ("confirm") makes it. The ETag carried through both refuses a refund
        confirmed twice, or confirmed after the order changed."""
        order = self._order(request, object_id)
        items = list(order_items(store=order.store, order=order))
        form = RefundForm(request.POST, line_items=items)
        if (invalid := self._unless_valid(request, order, form)) is not None:
            return invalid
        data = form.cleaned_data
        try:
            if "confirm" not in request.POST:
                # A preview of a page that is out of date would promise what the confirm
                # then refuses: say so now.
                check_etag(order, data["etag"] or None)
                quote = refund_quote(
                    store=order.store,
                    order=order,
                    lines=form.lines(),
                    refund_shipping=data["refund_shipping"],
                    line_items={item.pk: item for item in items},
                )
                return self._refund_preview(request, order, form, quote)
            refund = refund_create(
                store=order.store,
                order=order,
                actor=request.user.get_username(),
                actor_user=request.user,
                lines=form.lines(),
                amount=data["amount"],
                reason=data["reason"].strip(),
                restock=data["restock"],
                refund_shipping=data["refund_shipping"],
                expected_etag=data["etag"] or None,
            )
        except OrdoError as error:
            messages.error(request, refusal_message(error))
            return self._back_to(order)
        restocked = " Its units are back in stock." if refund.inventory_restored else ""
        self._succeeded(
            request,
            order,
            f"Refunded {refund.amount} {order.currency} on order #{order.order_number}.{restocked}",
        )
        return self._back_to(order, "refunds")

    def _refund_preview(self, request, order: Order, form: RefundForm, quote) -> HttpResponse:
        amount = form.cleaned_data["amount"]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Refund on order #{order.order_number}",
            "order": order,
            "form": form,
            "quote": quote,
            "amount": quote.amount_to_refund(amount),
            # The service's own refusals, so the preview never promises what it refuses.
            "problems": [
                refusal_message(refusal)
                for refusal in refund_refusals(
                    order=order, quote=quote, amount=amount, restock=form.cleaned_data["restock"]
                )
            ],
        }
        return TemplateResponse(request, "admin/orders/order/refund_preview.html", context)
