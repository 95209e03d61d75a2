"""Demo data for `seed_demo` and `setup_demo`: stores with a catalog, customers, shipping
methods, tax rates and two years of orders with line items, fulfillments and status history.

Orders are generated once, as rows in PostgreSQL's COPY text format, from a seeded
`random.Random`: the same seed gives the same catalog, customers and orders (ids, key
secrets and dates, which are relative to now, aside). On PostgreSQL the rows stream into the
tables with COPY from a writer thread, so generating (this process) and loading (the server)
use both cores at once; other databases parse the same rows through the model fields and
`bulk_create` them. Either way each order's lifecycle is planned first (pending → confirmed →
… with plausible delays), cut at "now", and written as the order row, its timestamps and one
history row per step, so the order, its fulfillment and its audit trail always agree.
"""

import queue
import random
import threading
import time
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.core.management.base import OutputWrapper
from django.db import connection, models, transaction
from django.utils import timezone

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
from orders.services import api_key_create, country_name

DEFAULT_SEED = 20240501
DEMO_STORE_NAMES = [
    "Northwind Home Goods",
    "Blue Harbor Ceramics",
    "Cascade Kitchen Supply",
    "Juniper Lane Market",
    "Evergreen Trading Co.",
]
DEMO_TIMEZONES = ["America/Los_Angeles", "UTC", "America/New_York"]
INTEGRATION_KEY_NAME = "Fulfillment integration"
# From this many new orders on (when the order table holds fewer), PostgreSQL loads run
# without the order tables' foreign keys and secondary indexes and restore them after: one
# sorted build per index and one join per foreign key beat millions of single-row updates
# and checks. One million orders on two cores: 155 s with everything in place, 88 s without.
INDEX_REBUILD_MIN_ORDERS = 100_000

HISTORY_MODEL = Order.history.model
ORDERS_PER_BATCH = 5_000

SECOND = 1_000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR
HISTORY_SPAN = 730 * DAY
# A store's order volume grows over the years; the last two weeks hold a larger share so the
# demo has pending, confirmed, processing and shipped orders to work with.
RECENT_SPAN = 14 * DAY
RECENT_SHARE = 0.15

S = OrderStatus
P = PaymentStatus
NULL = "\\N"  # NULL in COPY text format

# ---------------------------------------------------------------------------------------
# Reference data. Every string here goes into COPY text as is, so none may hold a tab,
# newline or backslash.

# (product, SKU stem, [(variant, SKU suffix, price, stock or None when not tracked)])
CATALOG = [
    (
        "Ceramic Mug",
        "MUG",
        [
            ("Ocean Blue", "OCEAN", "24.00", 100),
            ("Forest Green", "FOREST", "24.00", 80),
            ("Sand", "SAND", "24.00", 65),
        ],
    ),
    (
        "Stoneware Dinner Plate",
        "PLATE",
        [("Set of 4", "SET4", "48.00", 40), ("Set of 8", "SET8", "89.00", 25)],
    ),
    ("Linen Apron", "APRON", [("Natural", "NAT", "32.00", 120), ("Charcoal", "CHAR", "32.00", 90)]),
    (
        "Cast Iron Skillet",
        "SKILLET",
        [("10 inch", "10", "45.00", 60), ("12 inch", "12", "59.00", 45)],
    ),
    ("Pour-Over Coffee Set", "POUR", [("Glass", "GLASS", "39.50", 70)]),
    (
        "Organic Coffee Beans",
        "BEANS",
        [("250 g", "250", "14.50", 400), ("1 kg", "1000", "42.00", 150)],
    ),
    ("Teak Cutting Board", "BOARD", [("Small", "S", "28.00", 75), ("Large", "L", "46.00", 50)]),
    ("Glass Carafe", "CARAFE", [("1 litre", "1L", "22.00", 110)]),
    (
        "Wool Throw Blanket",
        "THROW",
        [("Grey", "GREY", "89.00", 30), ("Mustard", "MUSTARD", "89.00", 20)],
    ),
    ("Beeswax Candles", "CANDLE", [("Set of 2", "SET2", "18.00", 300)]),
    ("Enamel Dutch Oven", "DUTCH", [("5.5 qt", "55", "129.00", 15)]),
    ("Gift Card", "GIFT", [("$25", "25", "25.00", None), ("$50", "50", "50.00", None)]),
    ("Seasonal Recipes E-Book", "EBOOK", [("PDF", "PDF", "9.99", None)]),
]

# (code, name, price, requires_shipping, share of orders)
SHIPPING_METHODS = [
    ("standard", "Standard shipping", "5.99", True, 0.66),
    ("express", "Express shipping", "14.99", True, 0.20),
    ("pickup", "Pick up in store", "0.00", False, 0.14),
]

# (country code, province or "" for the whole country, rate)
TAX_RATES = [
    ("US", "OR", "0.11"),
    ("US", "CA", "0.0725"),
    ("US", "NY", "0.04"),
    ("US", "TX", "0.0625"),
    ("US", "WA", "0.065"),
    ("US", "IL", "0.0625"),
    ("US", "FL", "0.06"),
    ("CA", "", "0.05"),
    ("CA", "ON", "0.13"),
    ("CA", "BC", "0.12"),
    ("MX", "", "0.16"),
    ("CO", "", "0.19"),
    ("GB", "", "0.20"),
    ("DE", "", "0.19"),
]


@dataclass(frozen=True)
class _Address:
    line1: str
    line2: str
    city: str
    province: str
    country: str
    country_code: str
    postal_code: str


# Pickup orders are handed over (and taxed) here.
STORE_ADDRESS = _Address(
    line1="120 NW 9th Ave",
    line2="",
    city="Portland",
    province="OR",
    country=country_name("US"),
    country_code="US",
    postal_code="97209",
)
# (city, province, country code, postal code prefix, phone prefix, share of customers)
# Denver, CO has no rate on purpose: US/CO is a state, not Colombia, and pays no tax here.
CITIES = [
    ("Portland", "OR", "US", "972", "+1 503-555-", 14),
    ("Eugene", "OR", "US", "974", "+1 541-555-", 4),
    ("Los Angeles", "CA", "US", "900", "+1 213-555-", 8),
    ("San Francisco", "CA", "US", "941", "+1 415-555-", 6),
    ("New York", "NY", "US", "100", "+1 212-555-", 7),
    ("Brooklyn", "NY", "US", "112", "+1 718-555-", 3),
    ("Austin", "TX", "US", "787", "+1 512-555-", 4),
    ("Houston", "TX", "US", "770", "+1 713-555-", 3),
    ("Seattle", "WA", "US", "981", "+1 206-555-", 6),
    ("Chicago", "IL", "US", "606", "+1 312-555-", 4),
    ("Miami", "FL", "US", "331", "+1 305-555-", 3),
    ("Denver", "CO", "US", "802", "+1 303-555-", 2),
    ("Toronto", "ON", "CA", "M5V ", "+1 416-555-", 3),
    ("Vancouver", "BC", "CA", "V6B ", "+1 604-555-", 2),
    ("Montréal", "QC", "CA", "H2X ", "+1 514-555-", 2),
    ("Ciudad de México", "CDMX", "MX", "066", "+52 55 5555 ", 3),
    ("Guadalajara", "JAL", "MX", "441", "+52 33 5555 ", 2),
    ("Bogotá", "DC", "CO", "1101", "+57 601 555 ", 3),
    ("Medellín", "ANT", "CO", "0500", "+57 604 555 ", 2),
    ("London", "England", "GB", "SW1A ", "+44 20 7946 ", 4),
    ("Manchester", "England", "GB", "M1 ", "+44 161 496 ", 2),
    ("Berlin", "BE", "DE", "101", "+49 30 555 ", 3),
    ("München", "BY", "DE", "803", "+49 89 555 ", 2),
]

FIRST_NAMES = [
    "Jane", "Marcus", "Priya", "Tom", "Aisha", "Diego", "Mei", "Olivia", "Liam", "Sofia",
    "Noah", "Emma", "Mateo", "Chloe", "Ethan", "Valentina", "Lucas", "Hannah", "Omar", "Grace",
    "Felix", "Isabel", "Jonas", "Camila", "Ravi", "Nora", "Daniel", "Lea", "Hugo", "Zoe",
]  # fmt: skip
LAST_NAMES = [
    "Cooper", "Nguyen", "Patel", "Garcia", "Smith", "Müller", "Rossi", "Kim", "Johnson",
    "Martínez", "Brown", "Schneider", "López", "Williams", "Chen", "Fischer", "Hernández",
    "Taylor", "Ramírez", "Anderson", "Okafor", "Silva", "Wright", "Becker", "Torres",
]  # fmt: skip
STREETS = [
    "Maple St", "Oak Ave", "Cedar Ln", "Elm St", "Pine Rd", "Hawthorne Blvd", "Alberta St",
    "Division St", "Broadway", "Main St", "Lake Dr", "River Rd", "Park Ave", "High St",
]  # fmt: skip
# Reserved example domains: a customer-facing note mails the customer, and demo data must
# never reach a real mailbox.
EMAIL_DOMAINS = ["example.com", "example.net", "example.org"]
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

PAYMENT_METHODS = [
    (PaymentMethod.CARD, 0.60),
    (PaymentMethod.PAYPAL, 0.18),
    (PaymentMethod.BANK_TRANSFER, 0.08),
    (PaymentMethod.CASH_ON_DELIVERY, 0.11),
    (PaymentMethod.OTHER, 0.03),
]
CUSTOMER_NOTES = [
    "Please leave the parcel at the back door.",
    "It is a gift, please do not include the invoice.",
    "Call before delivery, the buzzer is broken.",
    "Deliver after 5 pm if possible.",
]
INTERNAL_NOTES = [
    "VIP customer: add a handwritten thank-you card.",
    "Customer asked twice about delivery time.",
    "Check the address with the customer before shipping.",
]
SHIPPING_NOTES = ["Gate code 4512.", "Leave with the concierge.", "Side entrance."]
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


# ---------------------------------------------------------------------------------------
# Public interface


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
    addresses: list["_Address"] = field(default_factory=list, repr=False)

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


class ProgressBar:
    """Plain-text progress on a command's stderr: `\\rorders 350000/1000000 (35%) 41s`."""

    def __init__(self, stream: OutputWrapper, label: str = "orders") -> None:
        self.stream = stream
        self.label = label
        self.started = time.monotonic()
        self._shown = ""

    def __call__(self, done: int, total: int) -> None:
        percent = done * 100 // total if total else 100
        text = f"{self.label} {done}/{total} ({percent}%) {time.monotonic() - self.started:.0f}s"
        if text != self._shown:
            self.stream.write(f"\r{text}", ending="")
            self.stream.flush()
            self._shown = text

    def finish(self, note: str = "") -> None:
        self.stream.write(f" {note}" if note else "")
        self.stream.flush()


def demo_stores_create(
    *,
    stores: int,
    orders_per_store: int,
    seed: int = DEFAULT_SEED,
    names: list[str] | None = None,
    now: datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[DemoStore]:
    """Create `stores` demo stores with `orders_per_store` orders each, in one transaction.

    Each store gets a catalog, 50-200 customers, the `standard` / `express` / `pickup`
    shipping methods, tax rates (US/OR 11 % among them), an integration API key (the actor
    of API-made changes in the history; its secret is discarded) and orders numbered from
    1001 over the two years before `now`, across every status. `progress(done, total)` is
    called as orders are written. Nothing is left behind if it fails.

    On PostgreSQL a large load (see INDEX_REBUILD_MIN_ORDERS) drops the order tables'
    foreign keys and secondary indexes and restores them before commit, holding an
    exclusive lock on those tables until then.
    """
    if stores < 0 or orders_per_store < 0:
        raise ValueError("stores and orders_per_store must not be negative")
    rng = random.Random(seed)
    now = now or timezone.now()
    names = [*(names or []), *map(_store_name, range(len(names or []), stores))]
    total = stores * orders_per_store
    created: list[DemoStore] = []
    with transaction.atomic(), _order_loader(new_orders=total) as loader:
        for index in range(stores):
            zone = DEMO_TIMEZONES[index % len(DEMO_TIMEZONES)]
            demo = _store_create(name=names[index], zone=zone, rng=rng, now=now)
            generator = _OrderRows(demo=demo, rng=rng, now=now, count=orders_per_store)
            for written, rows in generator.batches():
                loader.write(rows)
                if progress:
                    progress(index * orders_per_store + written, total)
            # The writer thread owns the connection until its queue is empty.
            loader.flush()
            demo.store.next_order_number += orders_per_store
            demo.store.save(update_fields=["next_order_number"])
            demo.order_count = orders_per_store
            created.append(demo)
    return created


def _store_name(index: int) -> str:
    name = DEMO_STORE_NAMES[index % len(DEMO_STORE_NAMES)]
    rounds = index // len(DEMO_STORE_NAMES)
    return f"{name} {rounds + 1}" if rounds else name


# ---------------------------------------------------------------------------------------
# Stores, catalog, customers (a few hundred rows each: plain ORM)


@dataclass(frozen=True)
class _Person:
    name: str
    email: str
    phone: str
    address: _Address


def _store_create(*, name: str, zone: str, rng: random.Random, now: datetime) -> DemoStore:
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
    people = _people(rng=rng, count=rng.randint(50, 200))
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


def _people(*, rng: random.Random, count: int, email_tag: str = "") -> list[_Person]:
    """`count` people with distinct lower-cased emails, each living in one of CITIES."""
    city_weights = [city[-1] for city in CITIES]
    people, emails = [], set()
    for _ in range(count):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        # Addresses are ASCII (Müller → muller): Django's EmailValidator rejects the rest.
        local = unicodedata.normalize("NFKD", f"{first}.{last}{email_tag}".lower())
        local = local.encode("ascii", "ignore").decode()
        email = f"{local}@{rng.choice(EMAIL_DOMAINS)}"
        while email in emails:
            email = f"{local}{rng.randint(2, 999)}@{rng.choice(EMAIL_DOMAINS)}"
        emails.add(email)
        (city, province, country_code, postal, phone, _), *_ = rng.choices(
            CITIES, weights=city_weights
        )
        address = _Address(
            line1=f"{rng.randint(10, 9999)} {rng.choice(STREETS)}",
            line2="" if rng.random() < 0.8 else f"Apt {rng.randint(1, 40)}",
            city=city,
            province=province,
            country=country_name(country_code),
            country_code=country_code,
            # Enough of each country's format to look right in a list.
            postal_code=f"{postal}{rng.randint(0, 99):02d}" if postal.isdigit() else f"{postal}1AB",
        )
        phone = f"{phone}{rng.randint(100, 199):04d}"
        people.append(_Person(name=f"{first} {last}", email=email, phone=phone, address=address))
    return people


# ---------------------------------------------------------------------------------------
# Orders as COPY text rows

# Columns in the order the rows below render them.
ORDER_COLUMNS = [
    "id", "store_id", "order_number", "status", "payment_status", "payment_method",
    "shipping_method_id", "shipping_method_code", "requires_shipping", "currency",
    "customer_id", "customer_name", "customer_email", "customer_phone", "customer_code",
    "shipping_name", "shipping_phone", "shipping_line1", "shipping_line2", "shipping_city",
    "shipping_province", "shipping_postal_code", "shipping_country", "country_code",
    "po_number", "subtotal", "discount_amount", "shipping_cost", "tax_amount", "total",
    "refunded_amount", "item_count", "customer_notes", "internal_notes", "shipping_notes",
    "placed_at", "confirmed_at", "processing_at", "shipped_at", "delivered_at", "completed_at",
    "cancelled_at", "returned_at", "voided_at", "created_at", "updated_at",
]  # fmt: skip
ITEM_COLUMNS = [
    "id", "store_id", "order_id", "product_id", "variant_id", "sku", "product_name",
    "variant_name", "quantity", "unit_price", "total_price", "tax_amount", "refunded_quantity",
    "created_at",
]  # fmt: skip
FULFILLMENT_COLUMNS = [
    "id", "store_id", "order_id", "status", "carrier", "tracking_number", "tracking_url",
    "shipped_at", "delivered_at", "created_at",
]  # fmt: skip
HISTORY_COLUMNS = [
    "id", "store_id", "order_number", "status", "payment_status", "history_date",
    "history_change_reason", "history_type", "changed_by",
]  # fmt: skip
# The statuses with a timestamp column on the order, in ORDER_COLUMNS' order.
TIMESTAMPED_STATUSES = [
    S.CONFIRMED, S.PROCESSING, S.SHIPPED, S.DELIVERED, S.COMPLETED, S.CANCELLED, S.RETURNED,
    S.VOIDED,
]  # fmt: skip


@dataclass
class _Rows:
    """One batch of orders, each table's rows as COPY text lines."""

    orders: list[str] = field(default_factory=list)
    items: list[str] = field(default_factory=list)
    fulfillments: list[str] = field(default_factory=list)
    history: list[str] = field(default_factory=list)

    def tables(self) -> list[tuple[type[models.Model], list[str], list[str]]]:
        return [
            (Order, ORDER_COLUMNS, self.orders),
            (LineItem, ITEM_COLUMNS, self.items),
            (Fulfillment, FULFILLMENT_COLUMNS, self.fulfillments),
            (HISTORY_MODEL, HISTORY_COLUMNS, self.history),
        ]


def _money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def _cents(amount: Decimal) -> int:
    return int(amount * 100)


_UUID7_VERSION_AND_VARIANT = (0x7 << 76) | (0b10 << 62)
_RAND_B_MASK = (1 << 62) - 1


def _uuid7_hex(millis: int, bits: int) -> str:
    """orders.ids.uuid7(at=…)'s layout (48-bit ms timestamp, version 7, 74 random bits) as
    32 hex digits, which PostgreSQL and UUIDField both read; no UUID object, because a
    million orders need four million ids."""
    value = millis << 80 | _UUID7_VERSION_AND_VARIANT | (bits >> 62) << 64 | bits & _RAND_B_MASK
    return f"{value:032x}"


class _Timestamps:
    """Formats epoch milliseconds as COPY text (`2025-03-30 01:43:15.701+00`), caching the
    date-and-hour prefix; going through a datetime costs three times as much."""

    _MINUTES_SECONDS = [f"{m:02d}:{s:02d}" for m in range(60) for s in range(60)]
    _MILLIS = [f"{ms:03d}" for ms in range(1000)]

    def __init__(self) -> None:
        self._hours: dict[int, str] = {}

    def __call__(self, millis: int) -> str:
        hour, rest = divmod(millis, HOUR)
        prefix = self._hours.get(hour)
        if prefix is None:
            prefix = datetime.fromtimestamp(hour * 3600, UTC).strftime("%Y-%m-%d %H:")
            self._hours[hour] = prefix
        seconds, millis = divmod(rest, SECOND)
        return f"{prefix}{self._MINUTES_SECONDS[seconds]}.{self._MILLIS[millis]}+00"


@dataclass(frozen=True)
class _Buyer:
    """Who places an order, pre-rendered as COPY text fields."""

    customer: str  # customer_id … customer_code
    home: str  # shipping_name … country_code when the order ships to the buyer
    pickup: str  # the same when it is picked up at the store
    home_tax_rate: int  # in basis points: 0.0725 → 725
    domestic: bool


_Step = tuple[int, str, str, str, str]  # at (epoch ms), status, payment status, actor, reason


class _OrderRows:
    """Generates one store's orders as COPY text rows, a batch at a time."""

    def __init__(self, *, demo: DemoStore, rng: random.Random, now: datetime, count: int) -> None:
        self.rng = rng
        # Ids differ on every run (a rerun must not collide), so they use their own generator.
        self.id_bits = random.Random().getrandbits
        self.count = count
        self.now_ms = int(now.timestamp() * 1000)
        self.start_ms = self.now_ms - HISTORY_SPAN
        self.store_hex = demo.store.id.hex
        self.first_number = demo.store.next_order_number
        self.integration = demo.integration_key.actor_label
        self.timestamp = _Timestamps()

        self.variants = [
            (
                f"{v.product_id.hex}\t{v.id.hex}\t{v.sku}\t{v.product.name}\t{v.name}",
                _cents(v.price),
            )
            for v in demo.variants
        ]
        currency = demo.store.currency
        self.methods = [
            (
                f"{m.id.hex}\t{m.code}\t{'t' if m.requires_shipping else 'f'}\t{currency}",
                _cents(m.price),
                m.requires_shipping,
                m.code == "express",
            )
            for m in demo.shipping_methods
        ]
        self.method_bounds = _cumulative(share for *_, share in SHIPPING_METHODS)
        self.payment_methods = [method.value for method, _ in PAYMENT_METHODS]
        self.payment_bounds = _cumulative(share for _, share in PAYMENT_METHODS)
        self.outcomes = [outcome for outcome, _ in OUTCOMES]
        self.outcome_bounds = _cumulative(share for _, share in OUTCOMES)

        rates = {(r.country_code, r.province): round(r.rate * 10_000) for r in demo.tax_rates}
        self.pickup_tax_rate = _tax_rate(rates, STORE_ADDRESS.country_code, STORE_ADDRESS.province)
        self.customers = [
            _buyer(
                customer_id=customer.id.hex,
                person=_Person(customer.name, customer.email, customer.phone, address),
                code=customer.code,
                rates=rates,
            )
            for customer, address in zip(demo.customers, demo.addresses, strict=True)
        ]
        # Guest checkouts: a snapshot on the order, no customer record.
        guests = _people(rng=rng, count=min(max(20, count // 50), 500), email_tag=".guest")
        self.guests = [
            _buyer(customer_id=NULL, person=person, code="", rates=rates) for person in guests
        ]

    def batches(self) -> Iterator[tuple[int, _Rows]]:
        """Yield (orders generated so far, the latest batch's rows) until `count` orders."""
        rows = _Rows()
        for index in range(self.count):
            self._order(index, rows)
            if len(rows.orders) == ORDERS_PER_BATCH:
                yield index + 1, rows
                rows = _Rows()
        if rows.orders:
            yield self.count, rows

    def _created_ms(self, index: int) -> int:
        """The creation time of the index-th of `count` orders; increasing with the index.

        Stratified sampling (one order per 1/count of the distribution, jittered inside its
        slot) yields sorted times without holding them all. The density grows linearly over
        the history (the store grows) and jumps for the last RECENT_SPAN.
        """
        share = (index + self.rng.random()) / self.count
        older = 1 - RECENT_SHARE
        if share < older:
            offset = (HISTORY_SPAN - RECENT_SPAN) * (share / older) ** 0.5
        else:
            offset = HISTORY_SPAN - RECENT_SPAN + RECENT_SPAN * (share - older) / RECENT_SHARE
        return self.start_ms + int(offset)

    def _order(self, index: int, rows: _Rows) -> None:
        """Append one order's rows: the order, its items, fulfillment and history."""
        random_ = self.rng.random
        id_bits = self.id_bits
        timestamp = self.timestamp
        store_hex = self.store_hex
        variants = self.variants

        created = self._created_ms(index)
        placed = created if random_() < 0.8 else created + int(random_() * 30 * SECOND)
        number = self.first_number + index
        order_hex = _uuid7_hex(created, id_bits(74))
        created_text = timestamp(created)

        method, shipping, requires_shipping, express = self.methods[
            _pick(self.method_bounds, random_())
        ]
        if random_() < 0.88:
            buyer = self.customers[int(random_() * len(self.customers))]
        else:
            buyer = self.guests[int(random_() * len(self.guests))]
        if requires_shipping:
            address, rate = buyer.home, buyer.home_tax_rate
        else:
            address, rate = buyer.pickup, self.pickup_tax_rate
        payment_method = self.payment_methods[_pick(self.payment_bounds, random_())]
        # ERPs create B2B orders through the API, with their purchase order number.
        by_api = random_() < 0.1
        po_number = f"PO-{created_text[:4]}-{number % 100_000:05d}" if by_api else ""

        # 1-4 distinct variants, mostly single units. Money is in integer cents: exact, and
        # the same as Decimal arithmetic rounded half up.
        line_count = 1 + (random_() < 0.5) + (random_() < 0.3) + (random_() < 0.15)
        picks: list[int] = []
        while len(picks) < line_count:
            pick = int(random_() * len(variants))
            if pick not in picks:
                picks.append(pick)
        lines = []
        subtotal = item_count = 0
        for pick in picks:
            quantity = 1 if random_() < 0.7 else 2 + int(random_() * 3)
            line_total = variants[pick][1] * quantity
            lines.append((pick, quantity, line_total))
            subtotal += line_total
            item_count += quantity
        discount = 0
        if random_() < 0.12:
            # 10 % off (half up to the cent) or a 5.00 voucher.
            discount = (subtotal + 5) // 10 if random_() < 0.6 else min(500, subtotal)
        taxable = subtotal - discount
        tax = (taxable * rate + 5_000) // 10_000  # ROUND_HALF_UP(taxable × rate, cents)
        total = taxable + shipping + tax

        # Phone orders are keyed in by staff.
        phone_order = random_() < 0.03
        creator = self.integration if by_api else STAFF[0] if phone_order else SYSTEM
        steps, carrier = self._lifecycle(
            created=created,
            payment_method=payment_method,
            requires_shipping=requires_shipping,
            express=express,
            domestic=buyer.domestic,
            creator=creator,
        )
        # For recent orders the plan reaches into the future: keep what has happened by now.
        happened = 1
        while happened < len(steps) and steps[happened][0] <= self.now_ms:
            happened += 1
        del steps[happened:]
        _, status, payment_status, _, _ = steps[-1]

        refunded = 0
        refunded_lines: range | tuple[int, ...] = ()
        if payment_status == P.REFUNDED:
            refunded, refunded_lines = total, range(len(lines))
        elif payment_status == P.PARTIALLY_REFUNDED:
            if len(lines) > 1:
                # The first line given back: its share of what was paid for the goods.
                refunded = (taxable + tax) * lines[0][2] // subtotal
                refunded_lines = (0,)
            else:
                refunded = max(1, taxable * (10 + int(random_() * 16)) // 100)

        reached = dict.fromkeys(TIMESTAMPED_STATUSES, NULL)
        shipped = None
        history = rows.history
        previous = None
        for at, step_status, step_payment, actor, reason in steps:
            at_text = timestamp(at)
            if step_status != previous:
                if step_status in reached:
                    reached[step_status] = at_text
                if step_status == S.SHIPPED:
                    shipped = at
            history.append(
                f"{order_hex}\t{store_hex}\t{number}\t{step_status}\t{step_payment}\t{at_text}"
                f"\t{reason}\t{'~' if previous else '+'}\t{actor}\n"
            )
            previous = step_status

        if shipped is not None:
            carrier_name, tracking_format, tracking_url = carrier
            tracking = tracking_format.format(id_bits(40))
            if status == S.RETURNED:
                state = Fulfillment.Status.RETURNED
            elif status == S.SHIPPED:
                state = Fulfillment.Status.IN_TRANSIT
            else:
                state = Fulfillment.Status.DELIVERED
            shipped_text = reached[S.SHIPPED]
            rows.fulfillments.append(
                f"{_uuid7_hex(shipped, id_bits(74))}\t{store_hex}\t{order_hex}\t{state}"
                f"\t{carrier_name}\t{tracking}\t{tracking_url}{tracking}\t{shipped_text}"
                f"\t{reached[S.DELIVERED]}\t{shipped_text}\n"
            )

        items = rows.items
        line_taxes = _allocate(tax, [line_total for _, _, line_total in lines])
        for position, (pick, quantity, line_total) in enumerate(lines):
            variant, unit = variants[pick]
            line_tax = line_taxes[position]
            items.append(
                f"{_uuid7_hex(created, id_bits(74))}\t{store_hex}\t{order_hex}\t{variant}"
                f"\t{quantity}\t{_money(unit)}\t{_money(line_total)}\t{_money(line_tax)}"
                f"\t{quantity if position in refunded_lines else 0}\t{created_text}\n"
            )

        note = random_()
        customer_notes = CUSTOMER_NOTES[int(note * 80) % 4] if note < 0.05 else ""
        internal_notes = INTERNAL_NOTES[int(note * 100) % 3] if 0.05 <= note < 0.08 else ""
        shipping_notes = SHIPPING_NOTES[int(note * 100) % 3] if note >= 0.96 else ""
        status_times = "\t".join(reached.values())
        rows.orders.append(
            f"{order_hex}\t{store_hex}\t{number}\t{status}\t{payment_status}\t{payment_method}"
            f"\t{method}\t{buyer.customer}\t{address}\t{po_number}\t{_money(subtotal)}"
            f"\t{_money(discount)}\t{_money(shipping)}\t{_money(tax)}\t{_money(total)}"
            f"\t{_money(refunded)}\t{item_count}\t{customer_notes}\t{internal_notes}"
            f"\t{shipping_notes}\t{timestamp(placed)}\t{status_times}\t{created_text}"
            f"\t{timestamp(max(steps[-1][0], placed))}\n"
        )

    def _lifecycle(
        self,
        *,
        created: int,
        payment_method: str,
        requires_shipping: bool,
        express: bool,
        domestic: bool,
        creator: str,
    ) -> tuple[list[_Step], tuple[str, str, str] | None]:
        """Plan an order's whole life along the status machine, creation first; the caller
        cuts it at now. Returns the steps and the carrier when it ships.

        Money rules follow the API's: online payments are captured on confirmation, cash on
        delivery is collected on delivery (or pickup), a paid order is refunded before it is
        cancelled, and only an unpaid order is voided.
        """
        rng = self.rng
        random_ = rng.random
        staff = STAFF[int(random_() * len(STAFF))]
        steps: list[_Step] = [(created, S.PENDING, P.PENDING, creator, "Order created")]
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

        outcome = self.outcomes[_pick(self.outcome_bounds, random_())]
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


def _buyer(*, customer_id: str, person: _Person, code: str, rates: dict) -> _Buyer:
    home, store = person.address, STORE_ADDRESS
    contact = f"{person.name}\t{person.phone}"
    return _Buyer(
        customer=f"{customer_id}\t{person.name}\t{person.email}\t{person.phone}\t{code}",
        home=(
            f"{contact}\t{home.line1}\t{home.line2}\t{home.city}\t{home.province}"
            f"\t{home.postal_code}\t{home.country}\t{home.country_code}"
        ),
        pickup=(
            f"{contact}\tPickup: {store.line1}\t\t{store.city}\t{store.province}"
            f"\t{store.postal_code}\t{store.country}\t{store.country_code}"
        ),
        home_tax_rate=_tax_rate(rates, home.country_code, home.province),
        domestic=home.country_code == STORE_ADDRESS.country_code,
    )


def _allocate(total: int, weights: list[int]) -> list[int]:
    """orders.pricing.allocate in integer cents: `total` split over `weights` in proportion,
    rounded down, the cents left going to the largest remainders (earlier parts win ties)."""
    if len(weights) == 1:
        return [total]
    weight_sum = sum(weights)
    parts = [total * weight // weight_sum for weight in weights]
    leftover = total - sum(parts)
    if leftover:
        remainders = [total * weight % weight_sum for weight in weights]
        for index in sorted(range(len(weights)), key=lambda i: (-remainders[i], i))[:leftover]:
            parts[index] += 1
    return parts


def _cumulative(shares: Iterable[float]) -> list[float]:
    bounds, total = [], 0.0
    for share in shares:
        total += share
        bounds.append(total)
    return [bound / total for bound in bounds]


def _pick(bounds: list[float], draw: float) -> int:
    """The index whose cumulative share first exceeds `draw` (0 <= draw < 1)."""
    for index, bound in enumerate(bounds):
        if draw < bound:
            return index
    return len(bounds) - 1


def _tax_rate(rates: dict[tuple[str, str], int], country_code: str, province: str) -> int:
    """The province's rate, else the country-wide one, else none."""
    return rates.get((country_code, province), rates.get((country_code, ""), 0))


# ---------------------------------------------------------------------------------------
# Loading


@contextmanager
def _order_loader(*, new_orders: int) -> Iterator["_CopyLoader | _OrmLoader"]:
    """A loader for the order tables, inside the caller's transaction.

    PostgreSQL: COPY from a writer thread. A large load (INDEX_REBUILD_MIN_ORDERS and more
    than the order table holds) first drops the order tables' foreign keys and secondary
    indexes and restores them from their own definitions after: one sorted build per index
    and one join per foreign key instead of millions of single-row updates and checks. The
    restore runs in the same transaction, so a failure rolls the drop back too, and the
    re-added foreign keys validate every row. Elsewhere: bulk_create.
    """
    if connection.vendor != "postgresql":
        yield _OrmLoader()
        return
    tables = [model._meta.db_table for model, _, _ in _Rows().tables()]
    with connection.cursor() as cursor:
        # Demo data may lose its last commit in a crash; not worth waiting for the fsync.
        cursor.execute("SET LOCAL synchronous_commit = off")
        restore = []
        if new_orders >= INDEX_REBUILD_MIN_ORDERS and not _holds_at_least(cursor, new_orders):
            restore = _detach_indexes_and_foreign_keys(cursor, tables)
    loader = _CopyLoader(connection.connection)
    try:
        yield loader
    finally:
        loader.close()
    with connection.cursor() as cursor:
        if restore:
            # Room to sort each index in memory (the default 64MB spills to disk).
            cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        for statement in restore:
            cursor.execute(statement)
        # Fresh statistics, so the first API queries after a big seed get good plans.
        cursor.execute(f"ANALYZE {', '.join(_quote(table) for table in tables)}")


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


def _holds_at_least(cursor, rows: int) -> bool:
    """Whether the order table already holds `rows` rows (counting no further)."""
    cursor.execute(
        f"SELECT count(*) FROM (SELECT 1 FROM {_quote(Order._meta.db_table)} LIMIT %s) AS o",
        [rows],
    )
    return cursor.fetchone()[0] >= rows


def _detach_indexes_and_foreign_keys(cursor, tables: list[str]) -> list[str]:
    """Drop the tables' foreign keys and the indexes that neither enforce uniqueness nor
    back a constraint; return the statements that recreate them exactly."""
    cursor.execute(
        """
        SELECT format('%%I.%%I', n.nspname, c.relname), i.indexdef
        FROM pg_index x
        JOIN pg_class c ON c.oid = x.indexrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        JOIN pg_indexes i ON i.schemaname = n.nspname AND i.indexname = c.relname
        WHERE x.indrelid = ANY(%s::regclass[])
          AND NOT x.indisunique
          AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid)
        ORDER BY c.relname
        """,
        [tables],
    )
    indexes = cursor.fetchall()
    cursor.execute(
        """
        SELECT k.conrelid::regclass::text, format('%%I', k.conname), pg_get_constraintdef(k.oid)
        FROM pg_constraint k
        WHERE k.conrelid = ANY(%s::regclass[]) AND k.contype = 'f'
        ORDER BY k.conname
        """,
        [tables],
    )
    foreign_keys = cursor.fetchall()
    for table, name, _ in foreign_keys:
        cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
    for name, _ in indexes:
        cursor.execute(f"DROP INDEX {name}")
    return [definition for _, definition in indexes] + [
        f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}"
        for table, name, definition in foreign_keys
    ]


class _CopyLoader:
    """Streams batches into PostgreSQL with COPY on a writer thread, so the server parses
    and indexes one batch while this process generates the next.

    The thread uses the connection's psycopg connection; the caller must not use the
    connection until `flush()` or `close()` returns. A failure in the thread is raised
    from the next call.
    """

    def __init__(self, raw_connection) -> None:
        self._connection = raw_connection
        # Two batches in flight bound memory; more would not make the server faster.
        self._batches: queue.Queue[_Rows | None] = queue.Queue(maxsize=2)
        self._error: BaseException | None = None
        self._statements = {
            model: (
                f"COPY {_quote(model._meta.db_table)} "
                f"({', '.join(_quote(model._meta.get_field(c).column) for c in columns)})"
                " FROM STDIN"
            )
            for model, columns, _ in _Rows().tables()
        }
        self._thread = threading.Thread(target=self._run, name="seed-demo-copy", daemon=True)
        self._thread.start()

    def write(self, rows: _Rows) -> None:
        self._raise_if_failed()
        self._batches.put(rows)

    def flush(self) -> None:
        self._batches.join()
        self._raise_if_failed()

    def close(self) -> None:
        self._batches.put(None)
        self._thread.join()
        self._raise_if_failed()

    def _raise_if_failed(self) -> None:
        if self._error is not None:
            raise self._error

    def _run(self) -> None:
        # Drains the queue even after a failure, so the main thread never blocks on it.
        cursor = None
        while (rows := self._batches.get()) is not None:
            try:
                if self._error is None:
                    cursor = cursor or self._connection.cursor()
                    for model, _, lines in rows.tables():
                        if lines:
                            with cursor.copy(self._statements[model]) as copy:
                                copy.write("".join(lines))
            except BaseException as error:  # raised in the main thread
                self._error = error
            finally:
                self._batches.task_done()
        self._batches.task_done()
        if cursor is not None:
            cursor.close()


class _OrmLoader:
    """Parses the COPY text rows through the model fields and bulk_creates them."""

    def write(self, rows: _Rows) -> None:
        for model, columns, lines in rows.tables():
            fields = [model._meta.get_field(column) for column in columns]
            names = [f.attname for f in fields]
            objects = []
            for line in lines:
                values = line.rstrip("\n").split("\t")
                objects.append(
                    model(
                        **{
                            name: None if value == NULL else f.to_python(value)
                            for name, f, value in zip(names, fields, values, strict=True)
                        }
                    )
                )
            model.objects.bulk_create(objects)

    def flush(self) -> None:
        pass
