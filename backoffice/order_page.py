"""Everything the order page shows, read in a fixed number of queries whatever the
order's size."""

from dataclasses import dataclass, field

from backoffice.forms import REASON_REQUIRED
from notes.models import OrderNote
from notes.selectors import notes_of
from orders.models import Fulfillment, LineItem, Order, OrderStatus, PaymentStatus
from orders.selectors import StatusChange, fulfillments_of, order_items, status_history
from orders.transitions import MONEY_HELD, allowed_payment_targets
from refunds.models import Refund
from refunds.selectors import refunds_of
from refunds.services import RefundQuote, refund_quote


@dataclass(frozen=True)
class TransitionButton:
    to_status: str
    label: str
    needs_shipment: bool
    needs_reason: bool


# How each target reads on its button.
TRANSITION_VERBS = {
    OrderStatus.CONFIRMED: "Confirm",
    OrderStatus.PROCESSING: "Start processing",
    OrderStatus.SHIPPED: "Ship",
    OrderStatus.DELIVERED: "Mark delivered",
    OrderStatus.COMPLETED: "Complete",
    OrderStatus.CANCELLED: "Cancel order",
    OrderStatus.RETURNED: "Mark returned",
}


@dataclass
class OrderPage:
    order: Order
    items: list[LineItem]
    fulfillments: list[Fulfillment]
    refunds: list[Refund]
    notes: list[OrderNote]
    history: list[StatusChange]
    transitions: list[TransitionButton] = field(default_factory=list)
    can_mark_paid: bool = False
    refundable: RefundQuote | None = None

    @property
    def can_refund(self) -> bool:
        return self.refundable is not None and self.refundable.balance > 0


def order_page(*, order: Order) -> OrderPage:
    """The order page of `order` (its store already checked by the caller)."""
    store = order.store
    items = list(order_items(store=store, order=order))
    page = OrderPage(
        order=order,
        items=items,
        fulfillments=list(fulfillments_of(store=store, orders=[order])),
        refunds=refunds_of(store=store, orders=[order]),
        notes=list(notes_of(store=store, orders=[order])),
        history=status_history(store=store, order_ids=[order.pk]).get(order.pk, []),
        transitions=[
            TransitionButton(
                to_status=target,
                label=TRANSITION_VERBS[target],
                needs_shipment=target == OrderStatus.SHIPPED,
                needs_reason=target in REASON_REQUIRED,
            )
            for target in order.allowed_transitions
        ],
        can_mark_paid=PaymentStatus.PAID
        in allowed_payment_targets(status=order.status, payment_status=order.payment_status),
    )
    if order.payment_status in MONEY_HELD:
        page.refundable = refund_quote(
            store=store,
            order=order,
            lines=None,
            refund_shipping=True,
            line_items={item.pk: item for item in items},
        )
    return page
