"""Refunds: what can be given back, and giving it back without ever exceeding what was paid."""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from uuid import UUID

from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone

from orders.exceptions import InvalidParameters, OrdoError, UnacceptableValues, field_problem
from orders.history import set_history_actor
from orders.models import EventType, LineItem, Order, PaymentStatus, Store, Variant
from orders.plans import INVENTORY, feature_denied, require_feature, store_has_feature
from orders.pricing import to_cents
from orders.services import check_etag, event_record
from orders.services.figures import figures_apply, order_figures
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
    # The position of the request's (first) line for this line item, so a refusal can
    # name `line_items[i]`; None when the quote was of everything still refundable.
    request_index: int | None = None

    @property
    def total(self) -> Decimal:
        return self.amount + self.tax_amount

    @property
    def field(self) -> str:
        """The request field asking for this line's units."""
        if self.request_index is None:
            return "line_items"
        return f"line_items[{self.request_index}].quantity"


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
    lines_given = lines
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
        raise UnacceptableValues(errors)

    wanted: dict[UUID, int] = defaultdict(int)
    first_index: dict[UUID, int] = {}
    for index, line in enumerate(lines):
        wanted[line.line_item_id] += line.quantity
        first_index.setdefault(line.line_item_id, index)
    quoting_everything = lines_given is None
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
                request_index=None if quoting_everything else first_index[line_item_id],
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
        # The order's state is at fault, not a field of the request.
        context={"status": order.status, "payment_status": order.payment_status},
    )


def refund_refusals(
    *, order: Order, quote: RefundQuote, amount: Decimal | None, restock: bool | None = None
) -> list[OrdoError]:
    """Why refund_create would refuse a refund of `amount` (None: the quote's value) as
    quoted, restocking when `restock` is true, in the order it checks; empty when it
    would go through. The admin's refund preview lists them, so what it promises is what
    the refund does."""
    if restock and not store_has_feature(order.store, INVENTORY):
        return [feature_denied(store=order.store, feature=INVENTORY)]
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
                    field_problem(
                        line.field,
                        f"{line.quantity} units of {line.line_item.product_name} asked, "
                        f"{line.refundable_quantity} left to refund.",
                    )
                    for line in quote.over_quantity
                ],
                context={
                    "lines": [
                        {
                            "line_item_id": line.line_item.public_id,
                            "requested": line.quantity,
                            "refundable_quantity": line.refundable_quantity,
                        }
                        for line in quote.over_quantity
                    ]
                },
            )
        )
    refund_amount = quote.amount_to_refund(amount)
    # Money, so the API renders these as numbers with two decimals like every amount.
    figures = {
        "requested": refund_amount,
        "refundable": quote.balance,
        "total": order.total,
        "refunded": order.refunded_amount,
    }
    if refund_amount <= 0:
        message = (
            "Nothing to refund: the lines and shipping asked for are worth 0.00 "
            f"{order.currency} (already refunded, or free)."
        )
        refusals.append(RefundExceedsBalance(message, context=figures))
    elif refund_amount > quote.balance:
        message = (
            f"A refund of {refund_amount} {order.currency} is more than the "
            f"{quote.balance} {order.currency} left to refund on order #{order.order_number}."
        )
        # A given amount is the field at fault; a value worked out from the lines and the
        # shipping together is no one field's.
        details = [field_problem("amount", message)] if amount is not None else []
        refusals.append(RefundExceedsBalance(message, details=details, context=figures))
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
    goodwill refund. Restocking defaults on when lines are given and the store's plan
    includes inventory control (orders.plans), and returns the units their lines took
    when the order was placed (LineItem.stock_reserved), nothing more.

    Locks the order row first, then the refunded line items and their variants
    (id order), so concurrent refunds of one order run one after the other and
    each sees what the previous gave back. Raises FeatureAccessDenied (`restock`
    true on a store without inventory control), OrderNotRefundable,
    RefundExceedsQuantity, RefundExceedsBalance (with the refundable figures in
    context), InvalidParameters and PreconditionFailed (`expected_etag` given and the
    order changed since: a form submitted twice refunds once); a refusal changes
    nothing. The order's CHECK (refunded_amount <= total) is the last line of defence.
    """
    if restock:
        require_feature(store=store, feature=INVENTORY)
    order = Order.objects.select_for_update().get(store=store, pk=order.pk)
    figures_before = order_figures(order)
    check_etag(order, expected_etag)
    if (not_refundable := _not_refundable(order)) is not None:
        raise not_refundable
    if not lines and amount is None and not refund_shipping:
        raise UnacceptableValues(
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

    if restock is None:
        # Unasked, a free store's refund simply restocks nothing (it counts no stock).
        restock = bool(lines) and store_has_feature(store, INVENTORY)
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
    event_record(store=store, type=EventType.REFUND_CREATED, subject=refund, order_id=order.pk)
    figures_apply(store=store, before=figures_before, after=order_figures(order))
    return refund


def _give_back_units(*, store: Store, quote: RefundQuote, restock: bool) -> set[UUID]:
    """Count the refunded units on their lines and, if restocking, return them to stock.

    Returns the ids of the lines whose units went back: only lines that took units when
    the order was placed, so a store that moved plans since never gains units it never
    gave out.
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
            and line.line_item.stock_reserved
            and Variant.objects.filter(store=store, pk=variant_id).update(
                stock=F("stock") + line.quantity
            )
        ):
            restocked.add(line.line_item.pk)
    return restocked
