"""The order status machine: which status may follow which.

The table is the single source of truth; services enforce it, serializers
and the admin read `allowed_targets` so nobody offers an impossible step.
"""

from orders.models.order import OrderStatus, PaymentStatus

S = OrderStatus
P = PaymentStatus

# Voiding is not a PATCH target: it has its own endpoint and rules (unpaid only).
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


def normalize_status(value: str) -> str | None:
    """The canonical status for a client's spelling, or None if it is not a status."""
    value = value.strip().lower()
    if value in STATUS_ALIASES:
        return STATUS_ALIASES[value].value
    return value if value in S.values else None


def allowed_targets(*, status: str, requires_shipping: bool = True) -> list[str]:
    """Statuses an order in `status` may move to next (void excluded), in lifecycle order."""
    targets = set(TRANSITIONS[status])
    if status == S.PROCESSING and requires_shipping:
        # Only pickup / digital orders may skip shipping and complete straight away.
        targets.discard(S.COMPLETED)
    return sorted(targets, key=_LIFECYCLE.index)


# Payment changes a client may make directly (a cash-on-delivery order marked paid, a
# failed card retried). Refund states are reached only through refunds, `voided` only
# through the void endpoint.
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

# Orders in these statuses still hold the stock reserved when they were created.
HOLDS_STOCK = frozenset({S.PENDING, S.CONFIRMED, S.PROCESSING})
