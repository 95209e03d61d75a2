"""A demo store and what it sells: its catalog, shipping methods, tax rates, customers
and integration key (a few hundred rows each: plain ORM)."""

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from orders.demo.catalog import CATALOG, SHIPPING_METHODS, TAX_RATES
from orders.demo.copy_text import DAY
from orders.demo.people import Address, random_people
from orders.models import (
    ApiKey,
    Customer,
    Product,
    Scope,
    ShippingMethod,
    Store,
    TaxRate,
    Variant,
)
from orders.services import api_key_create

DEMO_STORE_NAMES = [
    "Northwind Home Goods",
    "Blue Harbor Ceramics",
    "Cascade Kitchen Supply",
    "Juniper Lane Market",
    "Evergreen Trading Co.",
]
DEMO_TIMEZONES = ["America/Los_Angeles", "UTC", "America/New_York"]
INTEGRATION_KEY_NAME = "Fulfillment integration"
# The demo covers two years: each store opens a little before them, its orders fill them.
HISTORY_SPAN = 730 * DAY


@dataclass
class DemoStore:
    """A seeded store and what a client needs to use it (the raw key is set by the caller)."""

    store: Store
    customers: list[Customer]
    variants: list[Variant]
    shipping_methods: list[ShippingMethod]
    tax_rates: list[TaxRate]
    integration_key: ApiKey
    order_count: int = 0
    api_key: str = ""
    # Where each customer's orders ship to, parallel to `customers`.
    addresses: list[Address] = field(default_factory=list, repr=False)

    def as_json(self) -> dict:
        """The store as `seed_demo --json` prints it (see DESIGN.md, Management commands)."""
        return {
            "id": self.store.public_id,
            "name": self.store.name,
            "currency": self.store.currency,
            "api_key": self.api_key,
            "customers": [{"id": c.public_id, "email": c.email} for c in self.customers],
            "variants": [
                {
                    "id": v.public_id,
                    "product_id": f"{Product.PUBLIC_ID_PREFIX}{v.product_id}",
                    "price": float(v.price),
                    "stock": v.stock,
                }
                for v in self.variants
            ],
            "shipping_methods": [
                {"code": m.code, "price": float(m.price)} for m in self.shipping_methods
            ],
            "tax_rates": [
                {"country_code": r.country_code, "province": r.province, "rate": float(r.rate)}
                for r in self.tax_rates
            ],
        }


def store_name(index: int) -> str:
    """The index-th demo store's name: DEMO_STORE_NAMES, then numbered rounds of them."""
    name = DEMO_STORE_NAMES[index % len(DEMO_STORE_NAMES)]
    rounds = index // len(DEMO_STORE_NAMES)
    return f"{name} {rounds + 1}" if rounds else name


def store_create(*, name: str, zone: str, rng: random.Random, now: datetime) -> DemoStore:
    """Create a store opened shortly before HISTORY_SPAN ago, with the catalog, shipping
    methods, tax rates, 50-200 customers and an integration key; no orders yet."""
    opened = now - timedelta(milliseconds=HISTORY_SPAN, days=rng.randint(5, 30))
    store = Store.objects.create(
        name=name, currency="USD", timezone=zone, plan=Store.Plan.PREMIUM, created_at=opened
    )
    variants = []
    for product_name, stem, options in CATALOG:
        product = Product.objects.create(store=store, name=product_name, created_at=opened)
        for variant_name, suffix, price, stock in options:
            variants.append(
                Variant(
                    store=store,
                    product=product,
                    name=variant_name,
                    sku=f"{stem}-{suffix}",
                    price=Decimal(price),
                    stock=stock or 0,
                    track_inventory=stock is not None,
                    created_at=opened,
                )
            )
    Variant.objects.bulk_create(variants)
    shipping_methods = ShippingMethod.objects.bulk_create(
        ShippingMethod(
            store=store,
            code=code,
            name=method_name,
            price=Decimal(price),
            requires_shipping=requires_shipping,
        )
        for code, method_name, price, requires_shipping, _ in SHIPPING_METHODS
    )
    tax_rates = TaxRate.objects.bulk_create(
        TaxRate(store=store, country_code=country_code, province=province, rate=Decimal(rate))
        for country_code, province, rate in TAX_RATES
    )
    people = random_people(rng=rng, count=rng.randint(50, 200))
    customers = Customer.objects.bulk_create(
        Customer(
            store=store,
            name=person.name,
            email=person.email,
            phone=person.phone,
            code=f"C-{10001 + number}",
            created_at=opened + timedelta(minutes=rng.randint(0, 60 * 24 * 30)),
        )
        for number, person in enumerate(people)
    )
    integration_key, _ = api_key_create(
        store=store, scopes=[Scope.READ_ORDERS, Scope.WRITE_ORDERS], name=INTEGRATION_KEY_NAME
    )
    return DemoStore(
        store=store,
        customers=customers,
        variants=variants,
        shipping_methods=shipping_methods,
        tax_rates=tax_rates,
        integration_key=integration_key,
        addresses=[person.address for person in people],
    )
