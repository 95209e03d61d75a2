"""The order status contract of DESIGN.md ("Order status machine"), written out here apart
from orders/transitions.py: the tests check the code against the contract, so a change to
the application's table that breaks the contract fails them instead of moving with it.
"""

# The canonical statuses, in lifecycle order (the order `allowed_transitions` lists them in).
STATUSES = [
    "pending",
    "confirmed",
    "processing",
    "shipped",
    "delivered",
    "completed",
    "cancelled",
    "returned",
    "voided",
]
PAYMENT_STATUSES = ["pending", "paid", "partially_refunded", "refunded", "failed", "voided"]

# DESIGN.md's table, as PATCH applies it. `completed` from `processing` only for orders that
# need no shipping (see `patch_targets`); `voided` is never a PATCH target (it has its own
# endpoint, for the VOIDABLE statuses).
PATCH_TARGETS = {
    "pending": {"confirmed", "cancelled"},
    "confirmed": {"processing", "cancelled"},
    "processing": {"shipped", "cancelled"},
    "shipped": {"delivered", "returned"},
    "delivered": {"completed", "returned"},
    "completed": {"returned"},
    "cancelled": set(),
    "returned": set(),
    "voided": set(),
}
VOIDABLE = {"pending", "confirmed"}

# The timestamp an order gets when it enters each status.
STATUS_TIMESTAMPS = {
    "confirmed": "confirmed_at",
    "processing": "processing_at",
    "shipped": "shipped_at",
    "delivered": "delivered_at",
    "completed": "completed_at",
    "cancelled": "cancelled_at",
    "returned": "returned_at",
    "voided": "voided_at",
}

# What a client may change `payment_status` to directly. Refund states come only from refunds,
# `voided` only from the void endpoint.
PAYMENT_PATCH_TARGETS = {
    "pending": {"paid", "failed"},
    "failed": {"pending", "paid"},
    "paid": set(),
    "partially_refunded": set(),
    "refunded": set(),
    "voided": set(),
}


def patch_targets(status: str, *, requires_shipping: bool = True) -> list[str]:
    """The statuses PATCH may move an order in `status` to, in lifecycle order."""
    targets = set(PATCH_TARGETS[status])
    if status == "processing" and not requires_shipping:
        targets.add("completed")
    return [s for s in STATUSES if s in targets]


def next_statuses(status: str) -> set[str]:
    """Every status an order in `status` may enter next by any route: PATCH (a pickup order
    completing from processing included) or the void endpoint."""
    targets = set(patch_targets(status, requires_shipping=False))
    if status in VOIDABLE:
        targets.add("voided")
    return targets
