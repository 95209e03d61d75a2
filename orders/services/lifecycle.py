"""An order's life after it is placed: status steps, payment, details, and voids.

The rules of what may follow what are orders.transitions'; these functions apply
them under the order's row lock, with the side effects each step has.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from orders import transitions
from orders.exceptions import InvalidParameters, InvalidTransition, field_problem
from orders.history import set_history_actor
from orders.models import EventType, Fulfillment, Order, OrderStatus, PaymentStatus, Store
from orders.services.addresses import ORDER_ADDRESS_FIELDS, address_set
from orders.services.events import changed_attributes, event_record, event_render
from orders.services.figures import figures_apply, order_figures
from orders.services.preconditions import check_etag
from orders.services.stock import stock_release


@dataclass(frozen=True)
class ShipmentInput:
    carrier: str
    tracking_number: str
    tracking_url: str = ""


def _lock_order(*, store: Store, order: Order) -> Order:
    return Order.objects.select_for_update().get(store=store, pk=order.pk)


@transaction.atomic
def order_transition(
    *,
    store: Store,
    order: Order,
    to_status: str,
    actor: str,
    reason: str = "",
    shipment: ShipmentInput | None = None,
    expected_etag: str | None = None,
) -> Order:
    """Move an order to `to_status` along the transition table, with its side effects.

    Locks the order row (then variants on cancel). Raises InvalidTransition,
    OrderPaid (cancelling money the store holds), InvalidParameters (shipping
    without tracking), PreconditionFailed (stale `expected_etag`). A refusal
    changes nothing and writes no history; moving to the status it has already
    returns the order untouched.
    """
    return order_update(
        store=store,
        order=order,
        actor=actor,
        reason=reason,
        status=to_status,
        shipment=shipment,
        expected_etag=expected_etag,
    )


@transaction.atomic
def order_update(
    *,
    store: Store,
    order: Order,
    actor: str,
    reason: str = "",
    status: str | None = None,
    shipment: ShipmentInput | None = None,
    payment_status: str | None = None,
    address: dict[str, str] | None = None,
    details: dict[str, str] | None = None,
    expected_etag: str | None = None,
) -> Order:
    """Apply a PATCH: status, payment status, shipping address and editable details at once.

    One transaction under the order's row lock; all or nothing, one history row.
    `address` holds AddressInput field names (country as `country_code`);
    `details` any of customer_notes, internal_notes, po_number. Totals are never
    recomputed here: what the customer was charged changes only through refunds.
    Raises what order_transition raises, and InvalidTransition for a payment step
    the rules refuse or an address change after the order left the warehouse.
    """
    order = _lock_order(store=store, order=order)
    check_etag(order, expected_etag)
    before = event_render(store, order)
    figures_before = order_figures(order)
    now = timezone.now()
    changed = False
    fulfillment = None
    paid = False
    if address:
        if order.status not in transitions.ADDRESS_EDITABLE:
            message = f"The shipping address cannot change once an order is {order.status}."
            raise InvalidTransition(
                message,
                details=[field_problem("shipping_address", message)],
                context={"status": order.status},
            )
        columns = [*ORDER_ADDRESS_FIELDS.values(), "country_code", "shipping_country"]
        was = [getattr(order, column) for column in columns]
        address_set(order, address)
        changed = was != [getattr(order, column) for column in columns]
    for field, value in (details or {}).items():
        if getattr(order, field) != value:
            setattr(order, field, value)
            changed = True
    if payment_status is not None and payment_status != order.payment_status:
        transitions.check_payment_transition(order, payment_status)
        order.payment_status = payment_status
        paid = payment_status == PaymentStatus.PAID
        changed = True
    status_changed = status is not None and status != order.status
    if status_changed:
        fulfillment = _enter_status(store, order, to_status=status, now=now, shipment=shipment)
        changed = True
    if changed:
        order.updated_at = now
        set_history_actor(order, actor=actor, reason=reason)
        order.save()
        _record_update_event(
            store, order, before=before, paid=paid, status_changed=status_changed,
            fulfillment=fulfillment,
        )  # fmt: skip
        figures_apply(store=store, before=figures_before, after=order_figures(order))
    return order


def _record_update_event(
    store: Store,
    order: Order,
    *,
    before: dict,
    paid: bool,
    status_changed: bool,
    fulfillment: Fulfillment | None,
) -> None:
    """The one event of a PATCH, of its most specific type: paid, then shipped (the new
    fulfillment is the event's object), then a status step, then any other change."""
    after = event_render(store, order)
    previous = changed_attributes(before, after)
    if fulfillment is not None and not paid:
        event_record(
            store=store,
            type=EventType.FULFILLMENT_CREATED,
            subject=fulfillment,
            order_id=order.pk,
        )
        return
    if paid:
        type_ = EventType.ORDER_PAID
    elif status_changed:
        type_ = EventType.ORDER_STATUS_CHANGED
    else:
        type_ = EventType.ORDER_UPDATED
    event_record(
        store=store,
        type=type_,
        subject=order,
        order_id=order.pk,
        previous_attributes=previous,
        rendered=after,
    )


def _enter_status(
    store: Store, order: Order, *, to_status: str, now: datetime, shipment: ShipmentInput | None
) -> Fulfillment | None:
    """Move `order` (locked, unsaved) to `to_status` with the step's side effects; the
    fulfillment shipping creates, if it did."""
    transitions.check_transition(order, to_status)
    fulfillment = None
    if to_status == OrderStatus.SHIPPED:
        if shipment is None or not shipment.carrier or not shipment.tracking_number:
            needs = "Shipping an order needs a carrier and a tracking number."
            raise InvalidParameters({"tracking_number": needs, "carrier": needs})
        fulfillment = Fulfillment.objects.create(
            store_id=order.store_id,
            order=order,
            carrier=shipment.carrier,
            tracking_number=shipment.tracking_number,
            tracking_url=shipment.tracking_url,
            shipped_at=now,
            created_at=now,
        )
    elif to_status == OrderStatus.DELIVERED:
        Fulfillment.objects.filter(
            store_id=order.store_id, order=order, status=Fulfillment.Status.IN_TRANSIT
        ).update(status=Fulfillment.Status.DELIVERED, delivered_at=now)
    if to_status == OrderStatus.CANCELLED and order.status in transitions.HOLDS_STOCK:
        stock_release(store=store, order=order)
    order.status = to_status
    setattr(order, transitions.STATUS_TIMESTAMPS[to_status], now)
    return fulfillment


@transaction.atomic
def order_void(*, store: Store, order: Order, actor: str, reason: str = "") -> Order:
    """Void an unpaid pending or confirmed order: status and payment `voided`, the stock it
    took released (see stock_release).

    Locks the order row, then its variants. Raises OrderNotVoidable saying why.
    """
    order = _lock_order(store=store, order=order)
    transitions.check_voidable(order)
    before = event_render(store, order)
    figures_before = order_figures(order)
    now = timezone.now()
    stock_release(store=store, order=order)
    order.status = OrderStatus.VOIDED
    order.payment_status = PaymentStatus.VOIDED
    order.voided_at = order.updated_at = now
    set_history_actor(order, actor=actor, reason=reason or "Order voided")
    order.save()
    after = event_render(store, order)
    event_record(
        store=store,
        type=EventType.ORDER_VOIDED,
        subject=order,
        order_id=order.pk,
        previous_attributes=changed_attributes(before, after),
        rendered=after,
    )
    figures_apply(store=store, before=figures_before, after=order_figures(order))
    return order
