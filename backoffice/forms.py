"""The forms of the order page and the bulk action. They check shape only: what may
happen to an order is the services' to decide, and their refusals reach staff as
messages."""

from decimal import Decimal

from django import forms

from backoffice.once import new_form_token
from notes.models import MAX_NOTE_LENGTH
from orders.models import LineItem, OrderStatus
from orders.services import ShipmentInput
from orders.transitions import TRANSITIONS
from refunds.services import MAX_LINE_QUANTITY, RefundLineRequest

# Undoing a sale deserves a word in the audit trail. The admin asks staff for it; the API
# does not, and must not: seed 000 clients cancel with {"status": "cancelled"} alone, so this
# is a rule of these forms, not of the status machine (orders.transitions).
REASON_REQUIRED = frozenset({OrderStatus.CANCELLED, OrderStatus.RETURNED})
# Statuses a bulk move may aim at: any the transition table leads to, but shipping (every
# order would need its own tracking number) and voiding (its own button, unpaid orders only).
BULK_TARGETS = [
    (value, label)
    for value, label in OrderStatus.choices
    if any(value in targets for targets in TRANSITIONS.values())
    and value not in {OrderStatus.SHIPPED, OrderStatus.VOIDED}
]


class OrderChangeForm(forms.Form):
    """Carries the ETag of the order as the page showed it: a change made on a stale page
    (someone else changed the order meanwhile) is refused instead of applied blindly."""

    etag = forms.CharField(widget=forms.HiddenInput, required=False)


class TransitionForm(OrderChangeForm):
    to_status = forms.ChoiceField(choices=OrderStatus.choices, widget=forms.HiddenInput)
    reason = forms.CharField(
        max_length=1000, required=False, widget=forms.Textarea(attrs={"rows": 2, "cols": 50})
    )
    carrier = forms.CharField(max_length=100, required=False)
    tracking_number = forms.CharField(max_length=100, required=False)
    tracking_url = forms.URLField(max_length=500, required=False, assume_scheme="https")

    def clean(self):
        data = super().clean()
        to_status = data.get("to_status")
        if to_status in REASON_REQUIRED and not data.get("reason", "").strip():
            self.add_error("reason", f"Say why the order is {to_status}.")
        if to_status == OrderStatus.SHIPPED:
            for field in ("carrier", "tracking_number"):
                if not data.get(field, "").strip():
                    self.add_error(
                        field, "Shipping an order needs a carrier and a tracking number."
                    )
        return data

    def shipment(self) -> ShipmentInput | None:
        data = self.cleaned_data
        if data["to_status"] != OrderStatus.SHIPPED:
            return None
        return ShipmentInput(
            carrier=data["carrier"].strip(),
            tracking_number=data["tracking_number"].strip(),
            tracking_url=data["tracking_url"],
        )


class ReasonForm(OrderChangeForm):
    reason = forms.CharField(
        max_length=1000, required=False, widget=forms.Textarea(attrs={"rows": 2, "cols": 50})
    )


class NoteForm(forms.Form):
    form_token = forms.CharField(widget=forms.HiddenInput, required=False, initial=new_form_token)
    content = forms.CharField(
        max_length=MAX_NOTE_LENGTH, widget=forms.Textarea(attrs={"rows": 3, "cols": 60})
    )
    visibility = forms.ChoiceField(
        choices=[
            ("internal", "Internal: staff only"),
            ("customer", "To the customer: emailed to them"),
        ],
        initial="internal",
        widget=forms.RadioSelect,
    )

    @property
    def is_internal(self) -> bool:
        return self.cleaned_data["visibility"] == "internal"


class RefundForm(OrderChangeForm):
    """Quantities per line (`quantity_<line id>`), restock, shipping, an optional amount."""

    restock = forms.BooleanField(required=False, initial=True, label="Put the units back in stock")
    refund_shipping = forms.BooleanField(required=False, label="Refund the shipping too")
    amount = forms.DecimalField(
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0.01"),
        required=False,
        help_text="Leave empty to refund the value of the lines (and shipping). An amount "
        "alone is a goodwill refund.",
    )
    reason = forms.CharField(
        max_length=1000, required=False, widget=forms.Textarea(attrs={"rows": 2, "cols": 50})
    )

    def __init__(self, *args, line_items: list[LineItem], counts_stock: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.line_items = line_items
        if not counts_stock:
            # A store without inventory control (orders.plans) has no stock to put units
            # back in: the box starts unticked, and ticked anyway the refund is refused.
            self.fields["restock"].initial = False
            self.fields["restock"].help_text = "Inventory control is part of the premium plan."
        for item in line_items:
            left = item.quantity - item.refunded_quantity
            self.fields[self.quantity_field(item)] = forms.IntegerField(
                min_value=0, max_value=MAX_LINE_QUANTITY, initial=0, required=False,
                label=item.product_name,
                widget=forms.NumberInput(attrs={"max": left, "size": 4}),
            )  # fmt: skip

    @staticmethod
    def quantity_field(item: LineItem) -> str:
        return f"quantity_{item.pk}"

    def clean(self):
        data = super().clean()
        if not self.errors and not (
            self.lines() or data.get("amount") or data.get("refund_shipping")
        ):
            raise forms.ValidationError(
                "Choose the units to refund, tick 'Refund the shipping too', or give an amount."
            )
        return data

    def lines(self) -> list[RefundLineRequest]:
        return [
            RefundLineRequest(item.pk, self.cleaned_data[self.quantity_field(item)])
            for item in self.line_items
            if self.cleaned_data.get(self.quantity_field(item))
        ]

    def quantity_fields(self):
        """(line item, bound field, units left to refund) for the template."""
        return [
            (item, self[self.quantity_field(item)], item.quantity - item.refunded_quantity)
            for item in self.line_items
        ]


class BulkStatusForm(forms.Form):
    to_status = forms.ChoiceField(
        choices=[("", "— choose a status —"), *BULK_TARGETS],
        label="Move to",
        help_text="Shipping needs a tracking number per order: ship orders from their own page.",
    )
    reason = forms.CharField(
        max_length=1000, required=False, widget=forms.Textarea(attrs={"rows": 2, "cols": 50})
    )

    def clean(self):
        data = super().clean()
        if data.get("to_status") in REASON_REQUIRED and not data.get("reason", "").strip():
            self.add_error("reason", f"Say why the orders are {data['to_status']}.")
        return data
