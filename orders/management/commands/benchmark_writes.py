"""Time concurrent writes in one store on PostgreSQL: orders created per second and status
transitions per second with N parallel clients (processes, each on its own connection),
medians over rounds.

python manage.py benchmark_writes [--clients 16] [--rounds 5] [--orders 20]

It creates its own demo store (catalog, customers, a few seeded orders) in the database it
runs on. Each round every client places `--orders` orders through order_create, then moves
each of them pending → confirmed → processing → shipped → delivered → completed through
order_transition (5 transitions an order). No two clients touch the same order, variant or
customer, so what they can still queue on is what the store itself makes them share: the
store row behind the order number, and any per-store row a write keeps up to date.
"""

import multiprocessing
import statistics
import time
import traceback
from dataclasses import dataclass

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, connections

from orders.demo import demo_stores_create
from orders.models import Customer, Order, OrderStatus, Store, Variant
from orders.services import AddressInput, LineRequest, ShipmentInput, order_create, order_transition

# The lifecycle each order is walked along after it is placed.
STEPS = [
    OrderStatus.CONFIRMED,
    OrderStatus.PROCESSING,
    OrderStatus.SHIPPED,
    OrderStatus.DELIVERED,
    OrderStatus.COMPLETED,
]
ADDRESS = AddressInput(
    line1="1 SW Main St", city="Portland", province="OR", postal_code="97204", country_code="US"
)
SHIPMENT = ShipmentInput(carrier="UPS", tracking_number="1Z999AA10123456784")
ACTOR = "benchmark"
# High enough that no round ever runs a variant out of stock.
STOCK = 1_000_000_000


@dataclass(frozen=True)
class ClientTimes:
    """One client's round: when its creates and its transitions started and ended
    (time.monotonic, which every process on the machine shares), and how many it made."""

    creates_started: float
    creates_ended: float
    transitions_started: float
    transitions_ended: float
    creates: int
    transitions: int


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("--clients", type=int, default=16)
        parser.add_argument("--rounds", type=int, default=5)
        parser.add_argument("--orders", type=int, default=20, help="Orders per client per round.")
        parser.add_argument(
            "--seed-orders", type=int, default=50, help="Orders seeded into the new store."
        )

    def handle(self, *args, clients: int, rounds: int, orders: int, seed_orders: int, **options):
        if connection.vendor != "postgresql":
            raise CommandError("benchmark_writes needs PostgreSQL (real concurrent connections).")
        if clients < 1 or rounds < 1 or orders < 1:
            raise CommandError("--clients, --rounds and --orders must be at least 1.")
        store, lanes = _store_create(clients=clients, seed_orders=seed_orders)
        self.stdout.write(
            f"{store.name} ({store.public_id}): {clients} clients (processes), {rounds} rounds, "
            f"{orders} creates + {orders * len(STEPS)} transitions per client per round"
        )
        self.stdout.write(f"{'round':<8}{'creates/s':>12}{'transitions/s':>16}")
        creates, transitions = [], []
        for number in range(1, rounds + 1):
            times = _round(store=store, lanes=lanes, orders=orders)
            creates.append(_rate(times, "creates"))
            transitions.append(_rate(times, "transitions"))
            self.stdout.write(f"{number:<8}{creates[-1]:>12.1f}{transitions[-1]:>16.1f}")
        self.stdout.write(
            f"{'median':<8}{statistics.median(creates):>12.1f}"
            f"{statistics.median(transitions):>16.1f}"
        )


def _store_create(*, clients: int, seed_orders: int) -> tuple[Store, list[tuple]]:
    """A fresh demo store and each client's lane: (variant id, customer id) of its own,
    so clients share nothing but the store."""
    demo = demo_stores_create(stores=1, orders_per_store=seed_orders, names=["Write benchmark"])[0]
    store = demo.store
    Variant.objects.filter(store=store, track_inventory=True).update(stock=STOCK)
    variants = list(
        Variant.objects.filter(store=store, track_inventory=True)
        .order_by("id")
        .values_list("id", flat=True)
    )
    customers = list(
        Customer.objects.filter(store=store).order_by("id").values_list("id", flat=True)
    )
    # With more clients than tracked variants some clients share one (and its row lock).
    lanes = [
        (variants[index % len(variants)], customers[index % len(customers)])
        for index in range(clients)
    ]
    return store, lanes


def _round(*, store: Store, lanes: list[tuple], orders: int) -> list[ClientTimes]:
    """Run one round in one forked process per lane; every client's times."""
    context = multiprocessing.get_context("fork")
    # Each child opens its own connection: none may inherit the parent's socket.
    connections.close_all()
    start = context.Barrier(len(lanes))
    results = context.Queue()
    processes = [
        context.Process(target=_client, args=(store.pk, lane, orders, start, results))
        for lane in lanes
    ]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=600) for _ in processes]
    for process in processes:
        process.join(timeout=60)
    failures = [outcome for outcome in outcomes if isinstance(outcome, str)]
    if failures:
        raise CommandError(f"A client failed:\n{failures[0]}")
    return outcomes


def _client(store_id, lane: tuple, orders: int, start, results) -> None:
    """One client: place `orders` orders, then walk each along STEPS; report its times."""
    try:
        variant_id, customer_id = lane
        store = Store.objects.get(pk=store_id)
        lines = [LineRequest(variant_id=variant_id, quantity=1)]
        start.wait()
        creates_started = time.monotonic()
        placed: list[Order] = [
            order_create(
                store=store,
                actor=ACTOR,
                lines=lines,
                shipping_address=ADDRESS,
                shipping_method="standard",
                customer_id=customer_id,
            )
            for _ in range(orders)
        ]
        creates_ended = time.monotonic()
        start.wait()
        transitions_started = time.monotonic()
        for step in STEPS:
            shipment = SHIPMENT if step == OrderStatus.SHIPPED else None
            placed = [
                order_transition(
                    store=store, order=order, to_status=step, actor=ACTOR, shipment=shipment
                )
                for order in placed
            ]
        transitions_ended = time.monotonic()
        results.put(
            ClientTimes(
                creates_started=creates_started,
                creates_ended=creates_ended,
                transitions_started=transitions_started,
                transitions_ended=transitions_ended,
                creates=orders,
                transitions=orders * len(STEPS),
            )
        )
    except BaseException:
        results.put(traceback.format_exc())
        # The others wait at the barrier for this client: let them go.
        start.abort()
    finally:
        connections.close_all()


def _rate(times: list[ClientTimes], kind: str) -> float:
    """Writes of `kind` per second over the round: all clients' writes, first start to
    last end (the clients start together, at a barrier)."""
    started = min(getattr(t, f"{kind}_started") for t in times)
    ended = max(getattr(t, f"{kind}_ended") for t in times)
    return sum(getattr(t, kind) for t in times) / (ended - started)
