"""Placing an order: priced from the catalog, taxed by the store's rates, stock reserved."""

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import timedelta
from decimal import Decimal
from uuid import UUID

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from orders.exceptions import InvalidParameters, UnacceptableValues
from orders.history import set_history_actor
from orders.models import (
    Customer,
    EventType,
    LineItem,
    Order,
    PaymentMethod,
    Product,
    ShippingMethod,
    Store,
    Variant,
)
from orders.pricing import allocate, tax_rate_for, to_cents
from orders.services.addresses import AddressInput, address_set
from orders.services.events import event_record
from orders.services.figures import figures_apply, order_figures
from orders.services.stock import stock_reserve


@dataclass(frozen=True)
class LineRequest:
    variant_id: UUID
    quantity: int
    product_id: UUID | None = None


@dataclass(frozen=True)
class CustomerInput:
    name: str
    email: str
    phone: str = ""


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
    """Create a pending order priced from the catalog, reserving stock for tracked variants
    when the store's plan includes inventory control (each line records whether it did).

    Prices come from the variants, tax from the store's rate for the shipping
    country and province (on the subtotal after discount), shipping from the
    method. Locks: the ordered variants' rows (conditional UPDATEs, id order),
    then the store row for the order number. Raises InvalidParameters for
    unknown or foreign ids, InsufficientStock (nothing reserved) when short.
    """
    if not lines:
        raise InvalidParameters({"line_items": "Give at least one line item."})
    method = _shipping_method(store=store, code=shipping_method)
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

    reserved = stock_reserve(store=store, lines=lines, variants=variants)
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
        placed_at=now,
        created_at=now,
        updated_at=now,
    )
    address_set(order, asdict(shipping_address))
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
            stock_reserved=line.variant_id in reserved,
            # A microsecond apart, so lines keep the order the client sent them in.
            created_at=now + timedelta(microseconds=position),
        )
        for position, (line, line_total, line_tax) in enumerate(
            zip(lines, line_totals, line_taxes, strict=True)
        )
    )
    event_record(store=store, type=EventType.ORDER_CREATED, subject=order, order_id=order.pk)
    figures_apply(store=store, before=None, after=order_figures(order))
    return order


def _shipping_method(*, store: Store, code: str) -> ShippingMethod:
    method = ShippingMethod.objects.filter(store=store, code=code, is_active=True).first()
    if method is None:
        codes = ", ".join(
            ShippingMethod.objects.filter(store=store, is_active=True).values_list(
                "code", flat=True
            )
        )
        raise UnacceptableValues(
            {"shipping_method": f"Unknown shipping method '{code}'. Use one of: {codes}."}
        )
    return method


def _resolve_customer(
    *, store: Store, customer_id: UUID | None, customer: CustomerInput | None
) -> Customer:
    if customer_id is not None:
        found = Customer.objects.filter(store=store, pk=customer_id).first()
        if found is None:
            raise UnacceptableValues(
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
        raise UnacceptableValues(errors)
    return variants


def _take_order_number(*, store: Store) -> int:
    """The store's next order number. Locks the store row until commit, so numbers are
    consecutive and a rolled-back order never burns one. The lock is FOR NO KEY UPDATE
    (what the UPDATE takes anyway): rows that merely reference the store (its kept
    counts, inserted by other changes) do not wait for it, and cannot deadlock with it."""
    locked = Store.objects.select_for_update(no_key=True).only("next_order_number").get(pk=store.pk)
    Store.objects.filter(pk=store.pk).update(next_order_number=F("next_order_number") + 1)
    return locked.next_order_number
