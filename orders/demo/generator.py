"""One store's orders as COPY text rows, generated a batch at a time from the seeded
`random.Random`.

Each order's lifecycle is planned first (orders.demo.lifecycle), cut at now, and written as
the order row, its items, fulfillment and one history row per step, so the order, its
fulfillment and its audit trail always agree. Money is integer cents (orders.demo.arithmetic):
exact, and the same as Decimal arithmetic rounded half up. Registered extensions
(orders.demo.extensions) get each order and add rows of their own to the batch.
"""

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from orders.demo.arithmetic import allocate_cents, cumulative, pick, tax_basis_points, tax_cents
from orders.demo.catalog import SHIPPING_METHODS
from orders.demo.copy_text import DAY, NULL, SECOND, Timestamps, cents, money_text, uuid7_hex
from orders.demo.events import EVENT_WINDOW, RecentOrder
from orders.demo.extensions import OrderExtension, SeededLine, SeededOrder, SeededRefund
from orders.demo.lifecycle import PAYMENT_METHODS, STAFF, SYSTEM, Lifecycles
from orders.demo.people import STORE_ADDRESS, Person, random_people
from orders.demo.rows import TIMESTAMPED_STATUSES, RowBatch
from orders.demo.stores import HISTORY_SPAN, DemoStore
from orders.models import Fulfillment, OrderStatus, PaymentStatus

S = OrderStatus
P = PaymentStatus
REFUNDED = (P.REFUNDED, P.PARTIALLY_REFUNDED)

ORDERS_PER_BATCH = 5_000
# A store's order volume grows over the years; the last two weeks hold a larger share so the
# demo has pending, confirmed, processing and shipped orders to work with.
RECENT_SPAN = 14 * DAY
RECENT_SHARE = 0.15

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


@dataclass(frozen=True)
class Buyer:
    """Who places an order, pre-rendered as COPY text fields."""

    customer: str  # customer_id … customer_code
    home: str  # shipping_name … country_code when the order ships to the buyer
    pickup: str  # the same when it is picked up at the store
    home_tax_rate: int  # in basis points: 0.0725 → 725
    domestic: bool


class OrderGenerator:
    """Generates one store's orders as COPY text rows, a batch at a time."""

    def __init__(
        self,
        *,
        demo: DemoStore,
        rng: random.Random,
        now: datetime,
        count: int,
        extensions: Sequence[OrderExtension] = (),
    ) -> None:
        self.rng = rng
        # Ids differ on every run (a rerun must not collide), so they use their own generator.
        self.id_bits = random.Random().getrandbits
        self.new_id = self._id_at  # bound once, handed to extensions with every order
        self.count = count
        self.now_ms = int(now.timestamp() * 1000)
        self.start_ms = self.now_ms - HISTORY_SPAN
        self.store_hex = demo.store.id.hex
        self.first_number = demo.store.next_order_number
        self.currency = demo.store.currency
        self.integration = demo.integration_key.actor_label
        self.timestamp = Timestamps()
        # The orders with steps in the events window, for orders.demo.events once loaded.
        self.events_since_ms = self.now_ms - EVENT_WINDOW
        self.recent: list[RecentOrder] = []
        self.lifecycles = Lifecycles(rng=rng, integration=self.integration)
        # Each extension with the index of its first table among the batch's extension lists.
        self.extensions: list[tuple[OrderExtension, int]] = []
        self.extension_tables = 0
        for extension in extensions:
            self.extensions.append((extension, self.extension_tables))
            self.extension_tables += len(extension.tables)

        self.variants = [
            (
                f"{v.product_id.hex}\t{v.id.hex}\t{v.sku}\t{v.product.name}\t{v.name}",
                cents(v.price),
            )
            for v in demo.variants
        ]
        self.methods = [
            (
                f"{m.id.hex}\t{m.code}\t{'t' if m.requires_shipping else 'f'}\t{self.currency}",
                cents(m.price),
                m.requires_shipping,
                m.code == "express",
            )
            for m in demo.shipping_methods
        ]
        self.method_bounds = cumulative(share for *_, share in SHIPPING_METHODS)
        self.payment_methods = [method.value for method, _ in PAYMENT_METHODS]
        self.payment_bounds = cumulative(share for _, share in PAYMENT_METHODS)

        rates = {(r.country_code, r.province): round(r.rate * 10_000) for r in demo.tax_rates}
        self.pickup_tax_rate = tax_basis_points(
            rates, STORE_ADDRESS.country_code, STORE_ADDRESS.province
        )
        self.customers = [
            buyer_of(
                customer_id=customer.id.hex,
                person=Person(customer.name, customer.email, customer.phone, address),
                code=customer.code,
                rates=rates,
            )
            for customer, address in zip(demo.customers, demo.addresses, strict=True)
        ]
        # Guest checkouts: a snapshot on the order, no customer record.
        guests = random_people(rng=rng, count=min(max(20, count // 50), 500), email_tag=".guest")
        self.guests = [
            buyer_of(customer_id=NULL, person=person, code="", rates=rates) for person in guests
        ]

    def batches(self) -> Iterator[tuple[int, RowBatch]]:
        """Yield (orders generated so far, the latest batch's rows) until `count` orders."""
        rows = RowBatch(self.extension_tables)
        for index in range(self.count):
            self._order(index, rows)
            if len(rows.orders) == ORDERS_PER_BATCH:
                yield index + 1, rows
                rows = RowBatch(self.extension_tables)
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

    def _order(self, index: int, rows: RowBatch) -> None:
        """Append one order's rows: the order, its items, fulfillment and history, and the
        extensions' rows for it."""
        random_ = self.rng.random
        id_bits = self.id_bits
        timestamp = self.timestamp
        store_hex = self.store_hex
        variants = self.variants

        created = self._created_ms(index)
        placed = created if random_() < 0.8 else created + int(random_() * 30 * SECOND)
        number = self.first_number + index
        order_hex = uuid7_hex(created, id_bits(74))
        created_text = timestamp(created)

        method, shipping, requires_shipping, express = self.methods[
            pick(self.method_bounds, random_())
        ]
        if random_() < 0.88:
            buyer = self.customers[int(random_() * len(self.customers))]
        else:
            buyer = self.guests[int(random_() * len(self.guests))]
        if requires_shipping:
            address, rate = buyer.home, buyer.home_tax_rate
        else:
            address, rate = buyer.pickup, self.pickup_tax_rate
        payment_method = self.payment_methods[pick(self.payment_bounds, random_())]
        # ERPs create B2B orders through the API, with their purchase order number.
        by_api = random_() < 0.1
        po_number = f"PO-{created_text[:4]}-{number % 100_000:05d}" if by_api else ""

        # 1-4 distinct variants, mostly single units. Money is in integer cents: exact, and
        # the same as Decimal arithmetic rounded half up.
        line_count = 1 + (random_() < 0.5) + (random_() < 0.3) + (random_() < 0.15)
        picks: list[int] = []
        while len(picks) < line_count:
            drawn = int(random_() * len(variants))
            if drawn not in picks:
                picks.append(drawn)
        lines = []
        subtotal = item_count = 0
        for variant_index in picks:
            quantity = 1 if random_() < 0.7 else 2 + int(random_() * 3)
            line_total = variants[variant_index][1] * quantity
            lines.append((variant_index, quantity, line_total))
            subtotal += line_total
            item_count += quantity
        discount = 0
        if random_() < 0.12:
            # 10 % off (half up to the cent) or a 5.00 voucher.
            discount = (subtotal + 5) // 10 if random_() < 0.6 else min(500, subtotal)
        taxable = subtotal - discount
        tax = tax_cents(taxable, rate)
        total = taxable + shipping + tax

        # Phone orders are keyed in by staff.
        phone_order = random_() < 0.03
        creator = self.integration if by_api else STAFF[0] if phone_order else SYSTEM
        steps, carrier = self.lifecycles.plan(
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

        fulfillment_hex = None
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
            fulfillment_hex = uuid7_hex(shipped, id_bits(74))
            rows.fulfillments.append(
                f"{fulfillment_hex}\t{store_hex}\t{order_hex}\t{state}"
                f"\t{carrier_name}\t{tracking}\t{tracking_url}{tracking}\t{shipped_text}"
                f"\t{reached[S.DELIVERED]}\t{shipped_text}\n"
            )

        if steps[-1][0] >= self.events_since_ms:
            self.recent.append(RecentOrder(order_hex, fulfillment_hex, steps))

        items = rows.items
        line_taxes = allocate_cents(tax, [line_total for _, _, line_total in lines])
        refunded_items: list[SeededLine] = []
        for position, (variant_index, quantity, line_total) in enumerate(lines):
            variant, unit = variants[variant_index]
            line_tax = line_taxes[position]
            item_hex = uuid7_hex(created, id_bits(74))
            refunded_quantity = 0
            if position in refunded_lines:
                refunded_quantity = quantity
                refunded_items.append(SeededLine(item_hex, quantity, unit, line_total, line_tax))
            items.append(
                f"{item_hex}\t{store_hex}\t{order_hex}\t{variant}\t{quantity}\t{money_text(unit)}"
                f"\t{money_text(line_total)}\t{money_text(line_tax)}\t{refunded_quantity}"
                f"\t{created_text}\n"
            )

        note = random_()
        customer_notes = CUSTOMER_NOTES[int(note * 80) % 4] if note < 0.05 else ""
        internal_notes = INTERNAL_NOTES[int(note * 100) % 3] if 0.05 <= note < 0.08 else ""
        shipping_notes = SHIPPING_NOTES[int(note * 100) % 3] if note >= 0.96 else ""
        status_times = "\t".join(reached.values())
        rows.orders.append(
            f"{order_hex}\t{store_hex}\t{number}\t{status}\t{payment_status}\t{payment_method}"
            f"\t{method}\t{buyer.customer}\t{address}\t{po_number}\t{money_text(subtotal)}"
            f"\t{money_text(discount)}\t{money_text(shipping)}\t{money_text(tax)}"
            f"\t{money_text(total)}\t{money_text(refunded)}\t{item_count}\t{customer_notes}"
            f"\t{internal_notes}\t{shipping_notes}\t{timestamp(placed)}\t{status_times}"
            f"\t{created_text}\t{timestamp(max(steps[-1][0], placed))}\n"
        )

        if self.extensions:
            refund = None
            if payment_status in REFUNDED:
                # One lifecycle step refunds an order, and only once.
                at, _, _, actor, reason = next(step for step in steps if step[2] in REFUNDED)
                refund = SeededRefund(
                    amount=refunded,
                    shipping=shipping if payment_status == P.REFUNDED else 0,
                    lines=tuple(refunded_items),
                    at=at,
                    at_text=timestamp(at),
                    actor=actor,
                    reason=reason,
                )
            # Positional: with keywords, building it costs twice as much, for every order.
            seeded = SeededOrder(
                order_hex, store_hex, number, self.currency, status, payment_status, refund,
                self.new_id,
            )  # fmt: skip
            tables = rows.extensions
            for extension, first in self.extensions:
                for offset, lines_of_table in enumerate(extension.rows(seeded)):
                    tables[first + offset].extend(lines_of_table)

    def _id_at(self, millis: int) -> str:
        return uuid7_hex(millis, self.id_bits(74))


def buyer_of(
    *, customer_id: str, person: Person, code: str, rates: dict[tuple[str, str], int]
) -> Buyer:
    """`person` as the buyer of orders: customer `customer_id` (NULL for a guest), taxed at
    `rates` (basis points) where they live, or at the store when they pick up."""
    home, store = person.address, STORE_ADDRESS
    contact = f"{person.name}\t{person.phone}"
    return Buyer(
        customer=f"{customer_id}\t{person.name}\t{person.email}\t{person.phone}\t{code}",
        home=(
            f"{contact}\t{home.line1}\t{home.line2}\t{home.city}\t{home.province}"
            f"\t{home.postal_code}\t{home.country}\t{home.country_code}"
        ),
        pickup=(
            f"{contact}\tPickup: {store.line1}\t\t{store.city}\t{store.province}"
            f"\t{store.postal_code}\t{store.country}\t{store.country_code}"
        ),
        home_tax_rate=tax_basis_points(rates, home.country_code, home.province),
        domestic=home.country_code == STORE_ADDRESS.country_code,
    )
