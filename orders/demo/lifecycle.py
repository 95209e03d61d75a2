"""How a demo order lives: its planned outcome, the status machine steps that lead there
(who takes each and why, after a plausible delay) and the carrier it ships with."""

import random

from orders.demo.arithmetic import cumulative, pick
from orders.demo.copy_text import DAY, HOUR, MINUTE
from orders.models import OrderStatus, PaymentMethod, PaymentStatus

S = OrderStatus
P = PaymentStatus

STAFF = ["staff_jane", "staff_marcus", "staff_priya", "staff_tom"]
SYSTEM = "system"

# (carrier, tracking number format, tracking URL prefix)
CARRIERS_DOMESTIC = [
    ("UPS", "1Z{:016d}", "https://www.ups.com/track?tracknum="),
    ("USPS", "9400{:018d}", "https://tools.usps.com/go/TrackConfirmAction?tLabels="),
    ("FedEx", "{:012d}", "https://www.fedex.com/fedextrack/?trknbr="),
]
CARRIERS_INTERNATIONAL = [
    ("DHL", "{:010d}", "https://www.dhl.com/global-en/home/tracking.html?tracking-id="),
    ("UPS", "1Z{:016d}", "https://www.ups.com/track?tracknum="),
]

# How orders are paid, and the share of orders paid each way.
PAYMENT_METHODS = [
    (PaymentMethod.CARD, 0.60),
    (PaymentMethod.PAYPAL, 0.18),
    (PaymentMethod.BANK_TRANSFER, 0.08),
    (PaymentMethod.CASH_ON_DELIVERY, 0.11),
    (PaymentMethod.OTHER, 0.03),
]
CANCEL_REASONS = [
    "Customer requested cancellation",
    "Item out of stock",
    "Customer ordered the wrong size",
    "Duplicate order",
]
VOID_REASONS = [
    "Duplicate order",
    "Suspected fraud: billing and shipping countries differ",
    "Test order",
]
RETURN_REASONS = [
    "Returned: wrong size",
    "Returned: damaged in transit",
    "Returned: no longer needed",
    "Returned: not as described",
]
PARTIAL_REFUND_REASONS = [
    "Partial refund: item arrived damaged",
    "Partial refund: goodwill for late delivery",
]

# Planned outcomes of an order's lifecycle and their shares; the plan is then cut at now,
# so recent orders are still on their way (pending, confirmed, processing, shipped).
OUTCOMES = [
    ("complete", 0.720),
    ("deliver", 0.045),
    ("cancel", 0.080),
    ("return", 0.045),
    ("partial_refund", 0.035),
    ("void", 0.025),
    ("stall_pending", 0.015),
    ("stall_confirmed", 0.010),
    ("stall_processing", 0.010),
    ("stall_shipped", 0.015),
]
PAYMENT_FAILURE_SHARE = 0.04

Step = tuple[int, str, str, str, str]  # at (epoch ms), status, payment status, actor, reason
Carrier = tuple[str, str, str]  # as in CARRIERS_DOMESTIC


class Lifecycles:
    """Plans a store's orders' lives, drawing from the store's seeded generator."""

    def __init__(self, *, rng: random.Random, integration: str) -> None:
        self.rng = rng
        self.integration = integration  # the actor label of the store's integration key
        self.outcomes = [outcome for outcome, _ in OUTCOMES]
        self.outcome_bounds = cumulative(share for _, share in OUTCOMES)

    def plan(
        self,
        *,
        created: int,
        payment_method: str,
        requires_shipping: bool,
        express: bool,
        domestic: bool,
        creator: str,
    ) -> tuple[list[Step], Carrier | None]:
        """Plan an order's whole life along the status machine, creation first; the caller
        cuts it at now. Returns the steps and the carrier when it ships.

        Money rules follow the API's: online payments are captured on confirmation, cash on
        delivery is collected on delivery (or pickup), a paid order is refunded before it is
        cancelled, and only an unpaid order is voided.
        """
        rng = self.rng
        random_ = rng.random
        staff = STAFF[int(random_() * len(STAFF))]
        steps: list[Step] = [(created, S.PENDING, P.PENDING, creator, "Order created")]
        at, status, payment = created, S.PENDING, P.PENDING

        def step(low: int, high: int, new_status: str, new_payment: str, actor: str, reason: str):
            nonlocal at, status, payment
            at += low + int(random_() * (high - low))
            status, payment = new_status, new_payment
            steps.append((at, status, payment, actor, reason))

        def cancel() -> None:
            if payment == P.PAID:
                step(10 * MINUTE, DAY, status, P.REFUNDED, staff, "Refunded before cancellation")
            step(MINUTE, HOUR, S.CANCELLED, payment, staff, rng.choice(CANCEL_REASONS))

        def refund_return() -> None:
            step(10 * MINUTE, 2 * DAY, S.RETURNED, P.REFUNDED, staff, "Refund issued for return")

        outcome = self.outcomes[pick(self.outcome_bounds, random_())]
        pays_online = payment_method in (PaymentMethod.CARD, PaymentMethod.PAYPAL)
        cash_on_delivery = payment_method == PaymentMethod.CASH_ON_DELIVERY

        if pays_online and random_() < PAYMENT_FAILURE_SHARE:
            declined = "card declined" if payment_method == PaymentMethod.CARD else "PayPal error"
            step(MINUTE, 10 * MINUTE, S.PENDING, P.FAILED, SYSTEM, f"Payment failed: {declined}")
            if random_() < 0.5:
                step(HOUR, 3 * DAY, S.CANCELLED, P.FAILED, staff, "Payment not completed")
                return steps, None
        if outcome == "stall_pending":
            return steps, None
        if outcome == "void" and (not cash_on_delivery or random_() < 0.5):
            step(10 * MINUTE, DAY, S.VOIDED, P.VOIDED, staff, rng.choice(VOID_REASONS))
            return steps, None
        if outcome == "cancel" and random_() < 0.5:
            step(30 * MINUTE, 2 * DAY, S.CANCELLED, payment, staff, rng.choice(CANCEL_REASONS))
            return steps, None

        if payment == P.FAILED:
            step(10 * MINUTE, DAY, S.CONFIRMED, P.PAID, SYSTEM, "Payment captured on retry")
        elif pays_online:
            step(MINUTE, 2 * HOUR, S.CONFIRMED, P.PAID, SYSTEM, "Payment captured")
        elif payment_method == PaymentMethod.BANK_TRANSFER:
            step(2 * HOUR, 3 * DAY, S.CONFIRMED, P.PAID, staff, "Bank transfer received")
        elif cash_on_delivery:
            step(30 * MINUTE, DAY, S.CONFIRMED, P.PENDING, staff, "Confirmed, cash on delivery")
        else:
            step(HOUR, DAY, S.CONFIRMED, P.PAID, staff, "Payment received")
        if outcome == "void":  # cash on delivery, confirmed but not paid: still voidable
            step(10 * MINUTE, DAY, S.VOIDED, P.VOIDED, staff, rng.choice(VOID_REASONS))
            return steps, None
        if outcome == "stall_confirmed":
            return steps, None
        if outcome == "cancel" and random_() < 0.6:
            cancel()
            return steps, None

        actor = self.integration if random_() < 0.7 else staff
        step(2 * HOUR, DAY, S.PROCESSING, payment, actor, "Sent to the warehouse")
        if outcome == "cancel":
            cancel()
            return steps, None
        if outcome == "stall_processing":
            return steps, None

        collected = P.PAID if payment == P.PENDING else payment
        if not requires_shipping:
            reason = "Paid and picked up in store" if cash_on_delivery else "Picked up in store"
            step(2 * HOUR, 3 * DAY, S.COMPLETED, collected, staff, reason)
            if outcome == "return":
                step(DAY, 14 * DAY, S.RETURNED, P.PAID, staff, rng.choice(RETURN_REASONS))
                refund_return()
            elif outcome == "partial_refund":
                reason = rng.choice(PARTIAL_REFUND_REASONS)
                step(DAY, 10 * DAY, S.COMPLETED, P.PARTIALLY_REFUNDED, staff, reason)
            return steps, None

        carriers = CARRIERS_DOMESTIC if domestic else CARRIERS_INTERNATIONAL
        carrier = carriers[int(random_() * len(carriers))]
        step(4 * HOUR, 2 * DAY, S.SHIPPED, payment, self.integration, f"Shipped with {carrier[0]}")
        if outcome == "stall_shipped":
            return steps, carrier
        if outcome == "return" and payment == P.PAID and random_() < 0.2:
            step(3 * DAY, 10 * DAY, S.RETURNED, payment, SYSTEM, "Delivery refused, returned")
            refund_return()
            return steps, carrier

        low, high = (DAY, 2 * DAY) if express else (2 * DAY, 7 * DAY)
        reason = "Delivered, cash collected" if cash_on_delivery else "Delivered"
        step(low, high, S.DELIVERED, collected, SYSTEM, reason)
        if outcome == "return" and random_() < 0.75:
            step(2 * DAY, 20 * DAY, S.RETURNED, P.PAID, staff, rng.choice(RETURN_REASONS))
            refund_return()
            return steps, carrier
        if outcome == "partial_refund":
            reason = rng.choice(PARTIAL_REFUND_REASONS)
            step(DAY, 10 * DAY, S.DELIVERED, P.PARTIALLY_REFUNDED, staff, reason)
        if outcome == "deliver":
            return steps, carrier
        step(7 * DAY, 14 * DAY, S.COMPLETED, payment, SYSTEM, "Return window closed")
        if outcome == "return":
            step(5 * DAY, 60 * DAY, S.RETURNED, P.PAID, staff, "Returned under warranty")
            refund_return()
        return steps, carrier
