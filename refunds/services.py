"""Refunds: what can be given back, and giving it back without ever exceeding what was paid."""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from uuid import UUID

from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone

from orders.exceptions import InvalidParameters, OrdoError
from orders.history import set_history_actor
from orders.models import LineItem, Order, PaymentStatus, Store, Variant
from orders.pricing import to_cents
from orders.services import check_etag
from orders.transitions import MONEY_HELD
from refunds.models import Refund, RefundLine

# No line holds more units than its quantity column can: a bigger number is a typo, and
# pricing it would overflow the decimal arithmetic. Inputs are checked against it.
MAX_LINE_QUANTITY = 2**31 - 1


class OrderNotRefundable(OrdoError):
    status_code = 422
    code = "ORDER_NOT_REFUNDABLE"


class RefundExceedsBalance(OrdoError):
    status_code = 422
    code = "REFUND_EXCEEDS_BALANCE"


class RefundExceedsQuantity(OrdoError):
    status_code = 422
    code = "REFUND_EXCEEDS_QUANTITY"


@dataclass(frozen=True)
class RefundLineRequest:
    line_item_id: UUID
    quantity: int


@dataclass
class LineQuote:
    line_item: LineItem
    quantity: int
    refundable_quantity: int
    amount: Decimal
    tax_amount: Decimal

    @property
    def total(self) -> Decimal:
        return self.amount + self.tax_amount


@dataclass
class RefundQuote:
    """What a refund of the given lines (and shipping) would give back, and what is left."""

    lines: list[LineQuote] = field(default_factory=list)
    shipping: Decimal = Decimal("0.00")
    shipping_refundable: Decimal = Decimal("0.00")
    balance: Decimal = Decimal("0.00")  # paid and not yet refunded: the most any refund may be

    @property
    def subtotal(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal("0.00"))

    @property
    def tax(self) -> Decimal:
        return sum((line.tax_amount for line in self.lines), Decimal("0.00"))

    @property
    def total(self) -> Decimal:
        return self.subtotal + self.tax + self.shipping

    def amount_to_refund(self, amount: Decimal | None) -> Decimal:
        """What a refund gives back: `amount` when given (a goodwill refund), else the
        value of the quoted lines and shipping."""
        return to_cents(amount) if amount is not None else self.total

    @property
    def over_quantity(self) -> list[LineQuote]:
        """Lines asking for more units than are left to refund."""
        return [line for line in self.lines if line.quantity > line.refundable_quantity]


def _tax_share(line: LineItem, *, units_before: int, units: int) -> Decimal:
    """The line's tax for `units` more refunded units.

    Cumulative rounding: the share of the first n units is round(tax × n / quantity),
    so the shares of all refunds of a line add up to exactly its tax.
    """

    def upto(n: int) -> Decimal:
        return to_cents(line.tax_amount * n / line.quantity)

    return upto(units_before + units) - upto(units_before)


def refund_quote(
    *,
    store: Store,
    order: Order,
    lines: Sequence[RefundLineRequest] | None,
    refund_shipping: bool = False,
    line_items: dict[UUID, LineItem] | None = None,
) -> RefundQuote:
    """Price a refund without making it. `lines=None` quotes everything still refundable.

    Raises InvalidParameters for line ids not on the order. Quantities above what
    is refundable are reported in the quote (refundable_quantity), not refused.
    """
    if line_items is None:
        line_items = {li.pk: li for li in LineItem.objects.filter(store=store, order=order)}
    if lines is None:
        lines = [
            RefundLineRequest(li.pk, li.quantity - li.refunded_quantity)
            for li in sorted(line_items.values(), key=lambda li: (li.created_at, li.pk))
            if li.quantity > li.refunded_quantity
        ]
    errors = {
        f"line_items[{i}].line_item_id": f"No line item 'li_{line.line_item_id}' on this order."
        for i, line in enumerate(lines)
        if line.line_item_id not in line_items
    }
    if errors:
        raise InvalidParameters(errors)

    wanted: dict[UUID, int] = defaultdict(int)
    for line in lines:
        wanted[line.line_item_id] += line.quantity
    # Only money the store holds can go back: an unpaid order has nothing refundable.
    paid = order.payment_status in MONEY_HELD
    quote = RefundQuote(balance=order.total - order.refunded_amount if paid else Decimal("0.00"))
    for line_item_id, quantity in wanted.items():
        item = line_items[line_item_id]
        quote.lines.append(
            LineQuote(
                line_item=item,
                quantity=quantity,
                refundable_quantity=item.quantity - item.refunded_quantity,
                amount=item.unit_price * quantity,
                tax_amount=_tax_share(item, units_before=item.refunded_quantity, units=quantity),
            )
        )
    shipping_refunded = to_cents(
        Refund.objects.filter(store=store, order=order).aggregate(total=Sum("shipping_amount"))[
            "total"
        ]
        or Decimal("0.00")
    )
    quote.shipping_refundable = order.shipping_cost - shipping_refunded
    if refund_shipping:
        quote.shipping = quote.shipping_refundable
    return quote


def _not_refundable(order: Order) -> OrderNotRefundable | None:
    if order.payment_status in MONEY_HELD:
        return None
    return OrderNotRefundable(
        f"Order #{order.order_number} is {order.status} with payment {order.payment_status}: "
        "only paid or partially refunded orders can be refunded."
        + (" Void an unpaid order instead." if order.is_voidable else ""),
        details={"status": order.status, "payment_status": order.payment_status},
    )


def refund_refusals(*, order: Order, quote: RefundQuote, amount: Decimal | None) -> list[OrdoError]:
    """Why refund_create would refuse a refund of `amount` (None: the quote's value) as
    quoted, in the order it checks; empty when it would go through. The admin's refund
    preview lists them, so what it promises is what the refund does."""
    if (not_refundable := _not_refundable(order)) is not None:
        return [not_refundable]
    refusals: list[OrdoError] = []
    if quote.over_quantity:
        refusals.append(
            RefundExceedsQuantity(
                "More units than are left to refund on some lines ("
                + "; ".join(
                    f"{line.quantity} asked, {line.refundable_quantity} left"
                    for line in quote.over_quantity
                )
                + ").",
                details=[
                    {
                        "line_item_id": line.line_item.public_id,
                        "requested": line.quantity,
                        "refundable_quantity": line.refundable_quantity,
                    }
                    for line in quote.over_quantity
                ],
            )
        )
    refund_amount = quote.amount_to_refund(amount)
    balance_details = {
        "requested": str(refund_amount),
        "refundable": str(quote.balance),
        "total": str(order.total),
        "refunded": str(order.refunded_amount),
    }
    if refund_amount <= 0:
        refusals.append(
            RefundExceedsBalance(
                "Nothing to refund: the lines and shipping asked for are worth 0.00 "
                f"{order.currency} (already refunded, or free).",
                details=balance_details,
            )
        )
    elif refund_amount > quote.balance:
        refusals.append(
            RefundExceedsBalance(
                f"A refund of {refund_amount} {order.currency} is more than the "
                f"{quote.balance} {order.currency} left to refund on order "
                f"#{order.order_number}.",
                details=balance_details,
            )
        )
    return refusals


@transaction.atomic
def refund_create(
    *,
    store: Store,
    order: Order,
    actor: str,
    lines: Sequence[RefundLineRequest] = (),
    amount: Decimal | None = None,
    reason: str = "",
    restock: bool | None = None,
    refund_shipping: bool = False,
    actor_user=None,
    expected_etag: str | None = None,
) -> Refund:
    """Refund part or all of a paid order.

    `amount` defaults to the lines' value (unit price × quantity plus their
    share of tax, and the shipping when `refund_shipping`); given alone it is a
    goodwill refund. Restocking defaults on when lines are given and returns
    their units to tracked variants.

    Locks the order row first, then the refunded line items and their variants
    (id order), so concurrent refunds of one order run one after the other and
    each sees what the previous gave back. Raises OrderNotRefundable,
    RefundExceedsQuantity, RefundExceedsBalance (with the refundable figures in
    details), InvalidParameters and PreconditionFailed (`expected_etag` given and the
    order changed since: a form submitted twice refunds once); a refusal changes
    nothing. The order's CHECK (refunded_amount <= total) is the last line of defence.
    """
    order = Order.objects.select_for_update().get(store=store, pk=order.pk)
    check_etag(order, expected_etag)
    if (not_refundable := _not_refundable(order)) is not None:
        raise not_refundable
    if not lines and amount is None and not refund_shipping:
        raise InvalidParameters(
            {"line_items": "Give line_items to refund, an amount, or refund_shipping."}
        )
    if amount is not None and amount <= 0:
        raise InvalidParameters({"amount": "A refund amount must be more than 0."})

    line_items = {
        li.pk: li
        for li in LineItem.objects.select_for_update()
        .filter(store=store, order=order, pk__in=[line.line_item_id for line in lines])
        .order_by("pk")
    }
    quote = refund_quote(
        store=store, order=order, lines=lines, refund_shipping=refund_shipping,
        line_items=line_items,
    )  # fmt: skip
    refusals = refund_refusals(order=order, quote=quote, amount=amount)
    if refusals:
        raise refusals[0]
    refund_amount = quote.amount_to_refund(amount)

    restock = bool(lines) if restock is None else restock
    restocked = _give_back_units(store=store, quote=quote, restock=restock)
    refund = Refund.objects.create(
        store=store,
        order=order,
        amount=refund_amount,
        shipping_amount=min(quote.shipping, refund_amount),
        reason=reason,
        inventory_restored=bool(restocked),
        created_by=actor,
        created_by_user=actor_user,
    )
    RefundLine.objects.bulk_create(
        RefundLine(
            store=store,
            refund=refund,
            line_item=line.line_item,
            quantity=line.quantity,
            amount=line.amount,
            tax_amount=line.tax_amount,
            restocked=line.line_item.pk in restocked,
        )
        for line in quote.lines
    )
    order.refunded_amount += refund_amount
    order.payment_status = (
        PaymentStatus.REFUNDED
        if order.refunded_amount == order.total
        else PaymentStatus.PARTIALLY_REFUNDED
    )
    order.updated_at = timezone.now()
    set_history_actor(order, actor=actor, reason=reason or f"Refund of {refund_amount}")
    order.save()
    return refund


def _give_back_units(*, store: Store, quote: RefundQuote, restock: bool) -> set[UUID]:
    """Count the refunded units on their lines and, if restocking, return them to stock.

    Returns the ids of the lines whose units went back on a tracked variant.
    """
    restocked: set[UUID] = set()
    # Variant id order, like order creation and cancellation, so they can never deadlock.
    for line in sorted(quote.lines, key=lambda line: str(line.line_item.variant_id or "")):
        LineItem.objects.filter(pk=line.line_item.pk).update(
            refunded_quantity=F("refunded_quantity") + line.quantity
        )
        variant_id = line.line_item.variant_id
        if (
            restock
            and variant_id is not None
            and Variant.objects.filter(store=store, pk=variant_id, track_inventory=True).update(
                stock=F("stock") + line.quantity
            )
        ):
            restocked.add(line.line_item.pk)
    return restocked
