"""Demo data for `seed_demo` and `setup_demo`: stores with a catalog, customers, shipping
methods, tax rates and two years of orders with line items, fulfillments and status history.

Orders are generated once, as rows in PostgreSQL's COPY text format, from a seeded
`random.Random`: the same seed gives the same catalog, customers and orders (ids, key
secrets and dates, which are relative to now, aside). On PostgreSQL the rows stream into the
tables with COPY from a writer thread, so generating (this process) and loading (the server)
use both cores at once; other databases parse the same rows through the model fields and
`bulk_create` them. Either way each order's lifecycle is planned first (pending → confirmed →
… with plausible delays), cut at "now", and written as the order row, its timestamps and one
history row per step, so the order, its fulfillment and its audit trail always agree. Apps
built on orders add their own rows to each order through an OrderExtension
(refunds writes the refunds of refunded orders), named in their AppConfig.

The modules, each depending only on those above it:

    copy_text     values as COPY text: cents, epoch milliseconds, UUIDv7 ids
    arithmetic    integer twins of orders.pricing: allocation, tax, weighted draws
    catalog       what a store sells and charges: products, shipping methods, tax rates
    people        customers, guests and their addresses
    lifecycle     an order's planned life along the status machine
    stores        a demo store with its catalog, customers and integration key
    extensions    other apps' rows for each order, named in their AppConfig
    events        the events of the seeded rows' last 30 days
    rows          the tables a seed loads and a batch of their rows
    generator     one store's orders as batches of rows
    loading       COPY (PostgreSQL) or bulk_create, and the index detach for large loads
    progress      a progress bar for the commands
"""

import random
from collections.abc import Callable
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from orders.demo.catalog import CATALOG, SHIPPING_METHODS, TAX_RATES
from orders.demo.copy_text import NULL, money_text
from orders.demo.events import seeded_events_write
from orders.demo.extensions import (
    OrderExtension,
    SeededEvent,
    SeededLine,
    SeededOrder,
    SeededRefund,
    order_extensions,
)
from orders.demo.generator import OrderGenerator
from orders.demo.lifecycle import OUTCOMES, STAFF, SYSTEM
from orders.demo.loading import INDEX_REBUILD_MIN_ORDERS, order_loader
from orders.demo.people import CITIES, STORE_ADDRESS
from orders.demo.progress import ProgressBar
from orders.demo.rows import loaded_tables
from orders.demo.stores import (
    DEMO_STORE_NAMES,
    DEMO_TIMEZONES,
    INTEGRATION_KEY_NAME,
    DemoStore,
    store_create,
    store_name,
)
from orders.services.figures import figures_rebuild

__all__ = [
    "CATALOG",
    "CITIES",
    "DEFAULT_SEED",
    "DEMO_STORE_NAMES",
    "DEMO_TIMEZONES",
    "INDEX_REBUILD_MIN_ORDERS",
    "INTEGRATION_KEY_NAME",
    "NULL",
    "OUTCOMES",
    "SHIPPING_METHODS",
    "STAFF",
    "STORE_ADDRESS",
    "SYSTEM",
    "TAX_RATES",
    "DemoStore",
    "OrderExtension",
    "ProgressBar",
    "SeededEvent",
    "SeededLine",
    "SeededOrder",
    "SeededRefund",
    "demo_stores_create",
    "money_text",
]

DEFAULT_SEED = 20240501


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
    1001 over the two years before `now`, across every status, with the rows of every
    OrderExtension the installed apps name, and the events of the last 30 days
    (orders.demo.events). `progress(done, total)` is called as orders are written.
    Nothing is left behind if it fails.

    On PostgreSQL a large load (see INDEX_REBUILD_MIN_ORDERS) drops the foreign keys and
    secondary indexes of the tables it loads and restores them before commit, holding an
    exclusive lock on those tables until then.
    """
    if stores < 0 or orders_per_store < 0:
        raise ValueError("stores and orders_per_store must not be negative")
    rng = random.Random(seed)
    now = now or timezone.now()
    names = [*(names or []), *map(store_name, range(len(names or []), stores))]
    total = stores * orders_per_store
    extensions = order_extensions()
    created: list[DemoStore] = []
    recent = []
    with transaction.atomic():
        with order_loader(
            new_orders=total,
            tables=loaded_tables(extensions),
            # Read here, from the package, so that lowering orders.demo.INDEX_REBUILD_MIN_ORDERS
            # (a test does, to take the large-load path with a small seed) takes effect.
            rebuild_min_orders=INDEX_REBUILD_MIN_ORDERS,
        ) as loader:
            for index in range(stores):
                zone = DEMO_TIMEZONES[index % len(DEMO_TIMEZONES)]
                demo = store_create(name=names[index], zone=zone, rng=rng, now=now)
                generator = OrderGenerator(
                    demo=demo, rng=rng, now=now, count=orders_per_store, extensions=extensions
                )
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
                recent.append((demo.store, generator.recent, generator.events_since_ms))
        # Once the loader has restored the tables' indexes: rendering reads each order's
        # items and fulfillments back.
        for store, orders, since_ms in recent:
            seeded_events_write(
                store=store, recent=orders, since_ms=since_ms, extensions=extensions
            )
            # Loaded in bulk, past the services that keep the figures as orders change.
            figures_rebuild(store=store)
    return created
