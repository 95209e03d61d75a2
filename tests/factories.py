"""Builders for test data. Orders are built directly here (not through services) so read
tests can set any status, timestamp or amount they need."""

import itertools
from datetime import datetime
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from orders.history import set_history_actor
from orders.models import (
    Customer,
    Fulfillment,
    LineItem,
    Order,
    Product,
    Scope,
    ShippingMethod,
    Store,
    StoreMembership,
    TaxRate,
    Variant,
)
from orders.plans import INVENTORY, store_has_feature
from orders.services import api_key_create
from orders.services.figures import figures_apply, order_figures

_sequence = itertools.count(1)


def make_store(*, name: str = "Store", currency: str = "USD", **fields) -> Store:
    return Store.objects.create(name=name, currency=currency, **fields)


def make_api_key(*, store: Store, scopes=tuple(Scope.values), **fields) -> str:
    _, raw_key = api_key_create(store=store, scopes=scopes, name="test", **fields)
    return raw_key


def make_customer(*, store: Store, name: str = "Jane Cooper", email: str | None = None, **fields):
    email = email if email is not None else f"customer{next(_sequence)}@example.com"
    return Customer.objects.create(store=store, name=name, email=email, **fields)


def make_variant(*, store: Store, price: str = "24.00", stock: int = 100, **fields) -> Variant:
    n = next(_sequence)
    product = Product.objects.create(store=store, name=fields.pop("product_name", f"Mug {n}"))
    return Variant.objects.create(
        store=store,
        product=product,
        name=fields.pop("name", "Ocean Blue"),
        sku=fields.pop("sku", f"SKU-{n}"),
        price=Decimal(price),
        stock=stock,
        **fields,
    )


def make_shipping_method(*, store: Store, code: str = "standard", price: str = "5.99", **fields):
    return ShippingMethod.objects.create(
        store=store,
        code=code,
        name=fields.pop("name", code.title()),
        price=Decimal(price),
        **fields,
    )


def make_tax_rate(*, store: Store, country_code: str = "US", province: str = "OR", rate="0.11"):
    return TaxRate.objects.create(
        store=store, country_code=country_code, province=province, rate=Decimal(rate)
    )


def make_order(
    *,
    store: Store,
    status: str = "pending",
    payment_status: str = "pending",
    customer: Customer | None = None,
    created_at: datetime | None = None,
    items: int = 1,
    unit_price: str = "10.00",
    **fields,
) -> Order:
    """An order with `items` line items of one unit each; totals add up."""
    created_at = created_at or timezone.now()
    number = fields.pop("order_number", None)
    if number is None:
        number = store.next_order_number
        Store.objects.filter(pk=store.pk).update(next_order_number=number + 1)
        store.next_order_number = number + 1
    subtotal = Decimal(unit_price) * items
    defaults = {
        "currency": store.currency,
        "customer_name": customer.name if customer else "Walk-in Customer",
        "customer_email": customer.email if customer else "",
        "subtotal": subtotal,
        "total": subtotal,
        "item_count": items,
        "placed_at": created_at,
        "updated_at": created_at,
        "shipping_city": "Portland",
        "shipping_province": "OR",
        "shipping_country": "United States",
        "country_code": "US",
    }
    defaults.update(fields)
    order = Order(
        store=store,
        order_number=number,
        status=status,
        payment_status=payment_status,
        customer=customer,
        created_at=created_at,
        **defaults,
    )
    set_history_actor(order, actor="system", reason="Order created")
    order.save()
    # As order_create does: the store's kept counts and sales include the order.
    figures_apply(store=store, before=None, after=order_figures(order))
    for index in range(items):
        LineItem.objects.create(
            store=store,
            order=order,
            sku=f"SKU-{index}",
            product_name=f"Product {index}",
            quantity=1,
            unit_price=Decimal(unit_price),
            total_price=Decimal(unit_price),
            created_at=created_at,
        )
    return order


def make_fulfillment(
    *, order: Order, carrier: str = "UPS", tracking_number: str = "1Z999"
) -> Fulfillment:
    return Fulfillment.objects.create(
        store_id=order.store_id, order=order, carrier=carrier, tracking_number=tracking_number
    )


def make_stocked_line(
    *, order: Order, variant: Variant, quantity: int, refunded: int = 0, reserved=None
):
    """A line of `quantity` units of `variant` (`refunded` of them refunded) added to `order`;
    the order's totals are left as they were. `reserved` says whether the line took its
    units off stock; by default it did exactly when order_create would have (a tracked
    variant, a store with inventory control)."""
    if reserved is None:
        reserved = variant.track_inventory and store_has_feature(order.store, INVENTORY)
    return LineItem.objects.create(
        stock_reserved=reserved,
        store=order.store,
        order=order,
        product=variant.product,
        variant=variant,
        sku=variant.sku,
        product_name=variant.product.name,
        quantity=quantity,
        refunded_quantity=refunded,
        unit_price=variant.price,
        total_price=variant.price * quantity,
    )


def make_order_holding(*, store: Store, units: int, **fields) -> tuple[Order, Variant]:
    """An order (`fields` as make_order takes them) with a line holding `units` of a tracked
    variant that has 10 more in stock; the order and the variant."""
    variant = make_variant(store=store, stock=10)
    order = make_order(store=store, **fields)
    make_stocked_line(order=order, variant=variant, quantity=units)
    return order, variant


def make_staff_user(
    *stores: Store,
    username: str = "ana@a.example",
    password: str = "pw",
    superuser: bool = False,
    role: str = StoreMembership.Role.STAFF,
):
    """A staff user who works for `stores` as `role`; a superuser works for every store
    without a membership."""
    users = get_user_model().objects
    if superuser:
        user = users.create_superuser(username, password=password)
    else:
        user = users.create_user(username, password=password, is_staff=True)
    for store in stores:
        StoreMembership.objects.create(store=store, user=user, role=role)
    return user


def staff_client(
    *stores: Store,
    username: str = "ana@a.example",
    superuser: bool = False,
    role: str = StoreMembership.Role.STAFF,
    user=None,
) -> Client:
    """An admin client logged in as a new staff user who works for `stores` (see
    make_staff_user), or as `user` when one is given."""
    if user is None:
        user = make_staff_user(*stores, username=username, superuser=superuser, role=role)
    client = Client()
    client.force_login(user)
    return client
