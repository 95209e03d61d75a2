"""The order status machine: which status may follow which, and what money allows.

Every rule about an order's next state lives here, once: the transition table,
the payment statuses in which the store holds the customer's money (no cancel
before a refund), the unpaid statuses (only those may be voided), which
statuses may be voided at all, and the raising checks the services call
(`check_transition`, `check_voidable`, `check_payment_transition`). The model,
the serializers and the admin read `allowed_transitions` so nobody offers an
impossible step.

It knows the status vocabularies (orders.models.statuses), not the Order model:
the functions take anything with an order's state (`OrderState`).
"""

from typing import Protocol

from orders.exceptions import InvalidTransition, OrderNotVoidable, OrderPaid, field_problem
from orders.models.statuses import OrderStatus, PaymentStatus

S = OrderStatus
P = PaymentStatus


class OrderState(Protocol):
    """What the rules read of an order."""

    order_number: int
    status: str
    payment_status: str
    requires_shipping: bool


# Voiding is not a PATCH target: it has its own endpoint and rules (VOIDABLE, UNPAID).
TRANSITIONS: dict[str, frozenset[str]] = {
    S.PENDING: frozenset({S.CONFIRMED, S.CANCELLED}),
    S.CONFIRMED: frozenset({S.PROCESSING, S.CANCELLED}),
    S.PROCESSING: frozenset({S.SHIPPED, S.CANCELLED, S.COMPLETED}),
    S.SHIPPED: frozenset({S.DELIVERED, S.RETURNED}),
    S.DELIVERED: frozenset({S.COMPLETED, S.RETURNED}),
    S.COMPLETED: frozenset({S.RETURNED}),
    S.CANCELLED: frozenset(),
    S.RETURNED: frozenset(),
    S.VOIDED: frozenset(),
}

# Statuses a client may send that mean a canonical one (seed 000 and seed 004 spellings).
STATUS_ALIASES = {"in_progress": S.PROCESSING, "canceled": S.CANCELLED}

# The order in which targets are listed to clients: the lifecycle's own order.
_LIFECYCLE = [s.value for s in S]

# Payment states in which the store holds the customer's money: such an order can be
# refunded, and must be refunded before it may be cancelled.
MONEY_HELD = frozenset({P.PAID, P.PARTIALLY_REFUNDED})
# Payment states in which nothing was ever captured: only these allow a void.
UNPAID = frozenset({P.PENDING, P.FAILED})
# Statuses from which an (unpaid) order may be voided: nothing has left the warehouse.
VOIDABLE = frozenset({S.PENDING, S.CONFIRMED})

# Orders in these statuses still hold the stock reserved when they were created.
HOLDS_STOCK = frozenset({S.PENDING, S.CONFIRMED, S.PROCESSING})
# Once the parcel left, a new shipping address would only be a lie in the records.
ADDRESS_EDITABLE = HOLDS_STOCK

# The timestamp each status sets when an order enters it.
STATUS_TIMESTAMPS = {
    S.CONFIRMED: "confirmed_at",
    S.PROCESSING: "processing_at",
    S.SHIPPED: "shipped_at",
    S.DELIVERED: "delivered_at",
    S.COMPLETED: "completed_at",
    S.CANCELLED: "cancelled_at",
    S.RETURNED: "returned_at",
    S.VOIDED: "voided_at",
}


def normalize_status(value: str) -> str | None:
    """The canonical status for a client's spelling, or None if it is not a status."""
    value = value.strip().lower()
    if value in STATUS_ALIASES:
        return STATUS_ALIASES[value].value
    return value if value in S.values else None


def allowed_targets(*, status: str, requires_shipping: bool = True) -> list[str]:
    """Statuses the table lets an order in `status` move to (void excluded), in lifecycle
    order, before any payment rule."""
    targets = set(TRANSITIONS[status])
    if status == S.PROCESSING and requires_shipping:
        # Only pickup / digital orders may skip shipping and complete straight away.
        targets.discard(S.COMPLETED)
    return sorted(targets, key=_LIFECYCLE.index)


def allowed_transitions(order: OrderState) -> list[str]:
    """The statuses `order` may move to now: the table's targets, less `cancelled` while
    the store holds the customer's money (refund first)."""
    targets = allowed_targets(status=order.status, requires_shipping=order.requires_shipping)
    if order.payment_status in MONEY_HELD:
        targets = [target for target in targets if target != S.CANCELLED]
    return targets


def check_transition(order: OrderState, to_status: str) -> None:
    """Raise unless `order` may move to `to_status` now (a no-op move is the caller's).

    The table decides what is a transition at all; the payment rule comes after, so a
    paid order asked to cancel hears "refund first" (OrderPaid, 409), not "impossible"
    (InvalidTransition, 422).
    """
    table_allows = allowed_targets(status=order.status, requires_shipping=order.requires_shipping)
    if to_status not in table_allows:
        allowed = allowed_transitions(order)
        message = (
            f"An order cannot go from '{order.status}' to '{to_status}'. "
            f"Allowed next: {', '.join(allowed) or 'none'}."
        )
        raise InvalidTransition(
            message,
            details=[field_problem("status", message)],
            context={"from": order.status, "to": to_status, "allowed_transitions": allowed},
        )
    if to_status == S.CANCELLED and order.payment_status in MONEY_HELD:
        message = (
            f"Order #{order.order_number} is {order.payment_status}: refund the payment before "
            "cancelling it."
        )
        raise OrderPaid(
            message,
            details=[field_problem("status", message)],
            context={"status": order.status, "payment_status": order.payment_status},
        )


def is_voidable(order: OrderState) -> bool:
    return voidable(status=order.status, payment_status=order.payment_status)


def voidable(*, status: str, payment_status: str) -> bool:
    """Whether an order in `status` and `payment_status` may be voided: unpaid, and pending
    or confirmed."""
    return status in VOIDABLE and payment_status in UNPAID


def check_voidable(order: OrderState) -> None:
    """Raise OrderNotVoidable, saying why, unless `order` is unpaid and pending or confirmed."""
    # No field of the request is at fault (a void names none): the order's state is.
    context = {"status": order.status, "payment_status": order.payment_status}
    if order.status not in VOIDABLE:
        instead = "" if order.status == S.VOIDED else " Cancel or refund it instead."
        raise OrderNotVoidable(
            f"Only pending or confirmed orders can be voided; order #{order.order_number} is "
            f"{order.status}.{instead}",
            context=context,
        )
    if order.payment_status not in UNPAID:
        raise OrderNotVoidable(
            f"Order #{order.order_number} is {order.payment_status}: a void is for unpaid "
            "orders. Refund it instead.",
            context=context,
        )


# Payment changes a client may make directly (a cash-on-delivery order marked paid, a
# failed card retried). Refund states are reached only through refunds, `voided` only
# through a void.
PAYMENT_TRANSITIONS: dict[str, frozenset[str]] = {
    P.PENDING: frozenset({P.PAID, P.FAILED}),
    P.FAILED: frozenset({P.PENDING, P.PAID}),
    P.PAID: frozenset(),
    P.PARTIALLY_REFUNDED: frozenset(),
    P.REFUNDED: frozenset(),
    P.VOIDED: frozenset(),
}


def allowed_payment_targets(*, status: str, payment_status: str) -> list[str]:
    """Payment statuses an order may be moved to directly; none once it is cancelled or
    voided (there is nothing left to pay for)."""
    if status in {S.CANCELLED, S.VOIDED}:
        return []
    return sorted(PAYMENT_TRANSITIONS[payment_status])


def check_payment_transition(order: OrderState, to_status: str) -> None:
    """Raise InvalidTransition unless `order`'s payment status may be set to `to_status`."""
    allowed = allowed_payment_targets(status=order.status, payment_status=order.payment_status)
    if to_status not in allowed:
        message = (
            f"Payment status cannot go from '{order.payment_status}' to '{to_status}' on a "
            f"{order.status} order. Allowed: {', '.join(allowed) or 'none'}. The refunded "
            "statuses are set by refunds alone."
        )
        raise InvalidTransition(
            message,
            details=[field_problem("payment_status", message)],
            context={"from": order.payment_status, "to": to_status, "allowed_transitions": allowed},
        )
