"""Writes of the orders app. Each function is one transaction and says what it locks."""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from uuid import UUID

import pycountry
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from orders.exceptions import (
    InsufficientStock,
    InvalidParameters,
    InvalidTransition,
    NotFound,
    OrderNotVoidable,
    OrderPaid,
    PreconditionFailed,
)
from orders.history import set_history_actor
from orders.models import (
    ApiKey,
    Customer,
    Fulfillment,
    LineItem,
    Order,
    OrderStatus,
    PaymentMethod,
    PaymentStatus,
    Product,
    Scope,
    ShippingMethod,
    Store,
    TaxRate,
    Variant,
)
from orders.models.order import MONEY_HELD, UNPAID
from orders.models.store import API_KEY_LOOKUP_LENGTH, generate_api_key, hash_api_key
from orders.pricing import allocate, to_cents
from orders.transitions import (
    HOLDS_STOCK,
    STATUS_TIMESTAMPS,
    allowed_payment_targets,
    allowed_targets,
)


@transaction.atomic
def api_key_create(
    *,
    store: Store,
    scopes: Iterable[str],
    name: str = "",
    expires_at: datetime | None = None,
    created_by=None,
) -> tuple[ApiKey, str]:
    """Create a key and return it with the raw secret, which is never stored or shown again.

    Locks nothing: the prefix's unique index settles the (astronomically rare) collision.
    """
    scopes = list(dict.fromkeys(scope.strip() for scope in scopes if scope.strip()))
    unknown = [scope for scope in scopes if scope not in Scope.values]
    if unknown or not scopes:
        raise InvalidParameters(
            {
                "scopes": (
                    f"Use one or more of {', '.join(Scope.values)}; "
                    f"got {', '.join(unknown) or 'none'}."
                )
            }
        )
    while True:
        raw_key = generate_api_key()
        prefix = raw_key[:API_KEY_LOOKUP_LENGTH]
        if not ApiKey.objects.filter(prefix=prefix).exists():
            break
    api_key = ApiKey.objects.create(
        store=store,
        name=name,
        prefix=prefix,
        key_hash=hash_api_key(raw_key),
        scopes=scopes,
        expires_at=expires_at,
        created_by=created_by,
    )
    return api_key, raw_key


@transaction.atomic
def api_key_revoke(*, api_key: ApiKey, now: datetime) -> ApiKey:
    """Revoke a key; later requests with it answer 401. Locks the key's row."""
    api_key = ApiKey.objects.select_for_update().get(pk=api_key.pk)
    if api_key.revoked_at is None:
        api_key.revoked_at = now
        api_key.save(update_fields=["revoked_at"])
    return api_key


# --- catalog -------------------------------------------------------------------------


@transaction.atomic
def variant_adjust_stock(*, store: Store, variant: Variant, change: int) -> int:
    """Add (or with a negative `change`, remove) units of a variant; returns the new stock.

    A conditional UPDATE (`stock + change >= 0`), so a count typed in while orders are
    reserving units is added to what is there now, never written over it. Raises
    NotFound for another store's variant and InsufficientStock when fewer than
    `-change` units are left; either way nothing changes.
    """
    moved = change == 0 or Variant.objects.filter(
        store=store, pk=variant.pk, stock__gte=-change
    ).update(stock=F("stock") + change)
    stock = (
        Variant.objects.filter(store=store, pk=variant.pk).values_list("stock", flat=True).first()
    )
    if stock is None:
        raise NotFound(f"No variant '{variant.public_id}' in this store.")
    if not moved:
        raise InsufficientStock(
            f"Cannot remove {-change} units of {variant.sku}: only {stock} are in stock.",
            details=[{"field": "stock", "sku": variant.sku, "requested": change}],
        )
    return stock


# --- orders --------------------------------------------------------------------------


@dataclass(frozen=True)
class LineRequest:
    variant_id: UUID
    quantity: int
    product_id: UUID | None = None


@dataclass(frozen=True)
class AddressInput:
    line1: str = ""
    city: str = ""
    country_code: str = ""
    name: str = ""
    phone: str = ""
    line2: str = ""
    province: str = ""
    postal_code: str = ""
    notes: str = ""


@dataclass(frozen=True)
class CustomerInput:
    name: str
    email: str
    phone: str = ""


@dataclass(frozen=True)
class ShipmentInput:
    carrier: str
    tracking_number: str
    tracking_url: str = ""


ORDER_ADDRESS_FIELDS = {
    "name": "shipping_name",
    "phone": "shipping_phone",
    "line1": "shipping_line1",
    "line2": "shipping_line2",
    "city": "shipping_city",
    "province": "shipping_province",
    "postal_code": "shipping_postal_code",
    "notes": "shipping_notes",
}


def country_name(code: str) -> str:
    country = pycountry.countries.get(alpha_2=code.upper())
    if country is None:
        return code
    return getattr(country, "common_name", None) or country.name


def tax_rate_for(*, store: Store, country_code: str, province: str) -> Decimal:
    """The store's rate for the province, else for the whole country, else zero."""
    rates = {
        rate.province.upper(): rate.rate
        for rate in TaxRate.objects.filter(store=store, country_code=country_code.upper())
    }
    if province and province.upper() in rates:
        return rates[province.upper()]
    return rates.get("", Decimal(0))


def _resolve_customer(
    *, store: Store, customer_id: UUID | None, customer: CustomerInput | None
) -> Customer:
    if customer_id is not None:
        found = Customer.objects.filter(store=store, pk=customer_id).first()
        if found is None:
            raise InvalidParameters(
                {
                    "customer_id": (
                        f"No customer '{Customer.PUBLIC_ID_PREFIX}{customer_id}' in this store."
                    )
                }
            )
        return found
    if customer is None:
        raise InvalidParameters({"customer": "Give customer_id or a customer with name and email."})
    email = customer.email.strip().lower()
    existing = Customer.objects.filter(store=store, email=email).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return Customer.objects.create(
                store=store, name=customer.name.strip(), email=email, phone=customer.phone.strip()
            )
    except IntegrityError:
        # A concurrent order created the same customer first: use theirs.
        return Customer.objects.get(store=store, email=email)


def _resolve_variants(*, store: Store, lines: Sequence[LineRequest]) -> dict[UUID, Variant]:
    wanted = {line.variant_id for line in lines}
    variants = {
        v.pk: v
        for v in Variant.objects.filter(store=store, pk__in=wanted).select_related("product")
    }
    errors: dict[str, str] = {}
    for index, line in enumerate(lines):
        variant = variants.get(line.variant_id)
        if variant is None:
            errors[f"line_items[{index}].variant_id"] = (
                f"No variant '{Variant.PUBLIC_ID_PREFIX}{line.variant_id}' in this store."
            )
        elif line.product_id is not None and variant.product_id != line.product_id:
            errors[f"line_items[{index}].product_id"] = (
                f"Variant '{variant.public_id}' belongs to product '{variant.product.public_id}', "
                f"not '{Product.PUBLIC_ID_PREFIX}{line.product_id}'."
            )
    if errors:
        raise InvalidParameters(errors)
    return variants


def _reserve_stock(*, store: Store, lines: Sequence[LineRequest], variants: dict[UUID, Variant]):
    """Take the ordered units off tracked variants, or raise InsufficientStock for every short line.

    Each reservation is a conditional UPDATE (`stock >= wanted`), which row-locks the
    variant and re-checks the stock after any concurrent order commits; variants are
    taken in id order so two orders can never deadlock.
    """
    wanted: dict[UUID, int] = defaultdict(int)
    for line in lines:
        if variants[line.variant_id].track_inventory:
            wanted[line.variant_id] += line.quantity
    short: set[UUID] = set()
    for variant_id in sorted(wanted):
        taken = Variant.objects.filter(
            store=store, pk=variant_id, stock__gte=wanted[variant_id]
        ).update(stock=F("stock") - wanted[variant_id])
        if not taken:
            short.add(variant_id)
    if short:
        available = dict(Variant.objects.filter(pk__in=short).values_list("pk", "stock"))
        raise InsufficientStock(
            "Not enough stock for some lines; nothing was reserved. Lower the quantities or "
            "remove the lines listed in details.",
            details=[
                {
                    "field": f"line_items[{index}].quantity",
                    "variant_id": variants[line.variant_id].public_id,
                    "sku": variants[line.variant_id].sku,
                    "requested": wanted[line.variant_id],
                    "available": available[line.variant_id],
                }
                for index, line in enumerate(lines)
                if line.variant_id in short
            ],
        )


def _release_stock(*, order: Order) -> None:
    """Put back the units an order still holds (cancel, void). Conditional UPDATEs, id order."""
    returned: dict[UUID, int] = defaultdict(int)
    for variant_id, quantity, refunded in LineItem.objects.filter(
        store_id=order.store_id, order=order, variant__isnull=False
    ).values_list("variant_id", "quantity", "refunded_quantity"):
        returned[variant_id] += quantity - refunded
    for variant_id in sorted(returned):
        if returned[variant_id]:
            Variant.objects.filter(
                store_id=order.store_id, pk=variant_id, track_inventory=True
            ).update(stock=F("stock") + returned[variant_id])


def _take_order_number(*, store: Store) -> int:
    """The store's next order number. Locks the store row until commit, so numbers are
    consecutive and a rolled-back order never burns one."""
    locked = Store.objects.select_for_update().only("next_order_number").get(pk=store.pk)
    Store.objects.filter(pk=store.pk).update(next_order_number=F("next_order_number") + 1)
    return locked.next_order_number


@transaction.atomic
def order_create(
    *,
    store: Store,
    actor: str,
    lines: Sequence[LineRequest],
    shipping_address: AddressInput,
    shipping_method: str,
    customer_id: UUID | None = None,
    customer: CustomerInput | None = None,
    customer_notes: str = "",
    po_number: str = "",
    payment_method: str = PaymentMethod.CARD,
    reason: str = "Order created via API",
) -> Order:
    """Create a pending order priced from the catalog, reserving stock for tracked variants.

    Prices come from the variants, tax from the store's rate for the shipping
    country and province (on the subtotal after discount), shipping from the
    method. Locks: the ordered variants' rows (conditional UPDATEs, id order),
    then the store row for the order number. Raises InvalidParameters for
    unknown or foreign ids, InsufficientStock (nothing reserved) when short.
    """
    if not lines:
        raise InvalidParameters({"line_items": "Give at least one line item."})
    method = ShippingMethod.objects.filter(
        store=store, code=shipping_method, is_active=True
    ).first()
    if method is None:
        codes = ", ".join(
            ShippingMethod.objects.filter(store=store, is_active=True).values_list(
                "code", flat=True
            )
        )
        raise InvalidParameters(
            {
                "shipping_method": (
                    f"Unknown shipping method '{shipping_method}'. Use one of: {codes}."
                )
            }
        )
    buyer = _resolve_customer(store=store, customer_id=customer_id, customer=customer)
    variants = _resolve_variants(store=store, lines=lines)

    line_totals = [to_cents(variants[line.variant_id].price * line.quantity) for line in lines]
    subtotal = sum(line_totals, Decimal("0.00"))
    discount = Decimal("0.00")
    rate = tax_rate_for(
        store=store, country_code=shipping_address.country_code, province=shipping_address.province
    )
    tax = to_cents((subtotal - discount) * rate)
    line_taxes = allocate(tax, line_totals)
    shipping_cost = method.price

    _reserve_stock(store=store, lines=lines, variants=variants)
    now = timezone.now()
    order = Order(
        store=store,
        order_number=_take_order_number(store=store),
        payment_method=payment_method,
        shipping_method=method,
        shipping_method_code=method.code,
        requires_shipping=method.requires_shipping,
        currency=store.currency,
        customer=buyer,
        customer_name=buyer.name,
        customer_email=buyer.email,
        customer_phone=buyer.phone,
        customer_code=buyer.code,
        po_number=po_number,
        subtotal=subtotal,
        discount_amount=discount,
        shipping_cost=shipping_cost,
        tax_amount=tax,
        total=subtotal - discount + shipping_cost + tax,
        item_count=sum(line.quantity for line in lines),
        customer_notes=customer_notes,
        country_code=shipping_address.country_code.upper(),
        shipping_country=country_name(shipping_address.country_code),
        placed_at=now,
        created_at=now,
        updated_at=now,
        **{
            column: getattr(shipping_address, field)
            for field, column in ORDER_ADDRESS_FIELDS.items()
        },
    )
    order.shipping_name = order.shipping_name or buyer.name
    order.shipping_phone = order.shipping_phone or buyer.phone
    set_history_actor(order, actor=actor, reason=reason)
    order.save()
    LineItem.objects.bulk_create(
        LineItem(
            store=store,
            order=order,
            product_id=variants[line.variant_id].product_id,
            variant=variants[line.variant_id],
            sku=variants[line.variant_id].sku,
            product_name=variants[line.variant_id].product.name,
            variant_name=variants[line.variant_id].name,
            quantity=line.quantity,
            unit_price=variants[line.variant_id].price,
            total_price=line_total,
            tax_amount=line_tax,
            # A microsecond apart, so lines keep the order the client sent them in.
            created_at=now + timedelta(microseconds=position),
        )
        for position, (line, line_total, line_tax) in enumerate(
            zip(lines, line_totals, line_taxes, strict=True)
        )
    )
    return order


def _lock_order(*, store: Store, order: Order) -> Order:
    return Order.objects.select_for_update().get(store=store, pk=order.pk)


def check_etag(order: Order, expected_etag: str | None) -> None:
    """If-Match: one ETag, a comma list of them, or `*`; raises PreconditionFailed when the
    order (read under its row lock) has changed since."""
    if expected_etag is None:
        return
    offered = {tag.strip().removeprefix("W/") for tag in expected_etag.split(",")}
    if not offered & {order.etag, "*"}:
        raise PreconditionFailed(
            "The order changed since you read it (If-Match does not match its ETag). "
            "GET it again, re-apply your change, and retry with the new ETag.",
            details={"current_etag": order.etag},
        )


def _apply_status(
    order: Order, *, to_status: str, now: datetime, shipment: ShipmentInput | None
) -> bool:
    """Move `order` (locked, unsaved) to `to_status` with side effects; False if already there."""
    if to_status == order.status:
        return False
    # The table decides what is a transition at all; payment rules come after, so a paid
    # order asked to cancel hears "refund first" (409), not "impossible" (422).
    allowed = allowed_targets(status=order.status, requires_shipping=order.requires_shipping)
    if to_status not in allowed:
        hint = " Void it with POST /orders/{id}/void." if to_status == OrderStatus.VOIDED else ""
        raise InvalidTransition(
            f"An order cannot go from '{order.status}' to '{to_status}'. "
            f"Allowed next: {', '.join(order.allowed_transitions) or 'none'}.{hint}",
            details={
                "from": order.status,
                "to": to_status,
                "allowed_transitions": order.allowed_transitions,
            },
        )
    if to_status == OrderStatus.CANCELLED and order.payment_status in MONEY_HELD:
        raise OrderPaid(
            f"Order #{order.order_number} is {order.payment_status}: refund the payment before "
            "cancelling it.",
            details={"payment_status": order.payment_status},
        )
    if to_status == OrderStatus.SHIPPED:
        if shipment is None or not shipment.carrier or not shipment.tracking_number:
            raise InvalidParameters(
                {
                    "tracking_number": "Shipping an order needs carrier and tracking_number.",
                    "carrier": "Shipping an order needs carrier and tracking_number.",
                }
            )
        Fulfillment.objects.create(
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
    if to_status == OrderStatus.CANCELLED and order.status in HOLDS_STOCK:
        _release_stock(order=order)
    order.status = to_status
    setattr(order, STATUS_TIMESTAMPS[to_status], now)
    return True


def _apply_payment_status(order: Order, *, to_status: str) -> bool:
    if to_status == order.payment_status:
        return False
    allowed = allowed_payment_targets(status=order.status, payment_status=order.payment_status)
    if to_status not in allowed:
        raise InvalidTransition(
            f"Payment status cannot go from '{order.payment_status}' to '{to_status}' on a "
            f"{order.status} order. Allowed: {', '.join(allowed) or 'none'} (refunds change it "
            "through POST /orders/{id}/refund).",
            details={
                "field": "payment_status",
                "from": order.payment_status,
                "to": to_status,
                "allowed_transitions": allowed,
            },
        )
    order.payment_status = to_status
    return True


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
    without tracking), PreconditionFailed (stale If-Match). A refusal changes
    nothing and writes no history.
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


# Once the parcel left, a new address would only be a lie in the records.
ADDRESS_EDITABLE_STATUSES = HOLDS_STOCK


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
    """
    order = _lock_order(store=store, order=order)
    check_etag(order, expected_etag)
    now = timezone.now()
    changed = False
    if address:
        if order.status not in ADDRESS_EDITABLE_STATUSES:
            raise InvalidTransition(
                f"The shipping address cannot change once an order is {order.status}.",
                details={"field": "shipping_address", "status": order.status},
            )
        for field, value in address.items():
            if field == "country_code":
                order.country_code = value.upper()
                order.shipping_country = country_name(value)
            else:
                setattr(order, ORDER_ADDRESS_FIELDS[field], value)
        changed = True
    for field, value in (details or {}).items():
        setattr(order, field, value)
        changed = True
    if payment_status is not None:
        changed |= _apply_payment_status(order, to_status=payment_status)
    if status is not None:
        changed |= _apply_status(order, to_status=status, now=now, shipment=shipment)
    if changed:
        order.updated_at = now
        set_history_actor(order, actor=actor, reason=reason)
        order.save()
    return order


@transaction.atomic
def order_void(*, store: Store, order: Order, actor: str, reason: str = "") -> Order:
    """Void an unpaid pending or confirmed order: status and payment `voided`, stock released.

    Locks the order row, then its variants. Raises OrderNotVoidable saying why.
    """
    order = _lock_order(store=store, order=order)
    if order.status not in {OrderStatus.PENDING, OrderStatus.CONFIRMED}:
        raise OrderNotVoidable(
            f"Only pending or confirmed orders can be voided; order #{order.order_number} is "
            f"{order.status}."
            + (" Cancel or refund it instead." if order.status != OrderStatus.VOIDED else ""),
            details={"status": order.status, "payment_status": order.payment_status},
        )
    if order.payment_status not in UNPAID:
        raise OrderNotVoidable(
            f"Order #{order.order_number} is {order.payment_status}: a void is for unpaid "
            "orders. Refund it instead.",
            details={"status": order.status, "payment_status": order.payment_status},
        )
    now = timezone.now()
    _release_stock(order=order)
    order.status = OrderStatus.VOIDED
    order.payment_status = PaymentStatus.VOIDED
    order.voided_at = order.updated_at = now
    set_history_actor(order, actor=actor, reason=reason or "Order voided")
    order.save()
    return order
