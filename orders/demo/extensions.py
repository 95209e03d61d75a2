"""Rows other apps add to each seeded order, in tables of their own.

`orders` never imports the apps built on it (notes, refunds), yet their records belong to a
seeded order as much as its line items do: a refunded order without its refunds would show
nothing in the admin's refunds list or the API. So an app names its OrderExtension in its
AppConfig (`demo_order_extensions`, dotted paths); demo_stores_create imports them when it
seeds, hands each every order it generates and loads the rows it returns together with the
order tables (COPY on PostgreSQL, bulk_create elsewhere). Once loaded, an extension may
also name the events its rows would have written (`events`: refunds' refund.created), which
the seed writes with the orders' (orders.demo.events). Only a seed imports the demo code:
no server or worker process pays for it at start-up.
"""

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from django.apps import apps
from django.db import models
from django.utils.module_loading import import_string

from orders.models import Store


class SeededLine(NamedTuple):
    """A line item of a seeded order, money in whole cents."""

    line_item_id: str  # 32 hex digits
    quantity: int
    unit_price: int
    total_price: int  # unit_price × quantity
    tax_amount: int


class SeededRefund(NamedTuple):
    """How a seeded order was refunded: by one lifecycle step, once."""

    amount: int  # cents: the order's refunded_amount
    shipping: int  # cents of the amount that refund shipping
    lines: tuple[SeededLine, ...]  # the lines refunded, each in full; none for goodwill
    at: int  # epoch milliseconds of the step
    at_text: str  # the same as COPY text
    actor: str
    reason: str


class SeededOrder(NamedTuple):
    """What an extension learns about each order demo_stores_create generates."""

    order_id: str  # 32 hex digits, as every id here
    store_id: str
    order_number: int
    currency: str
    status: str
    payment_status: str
    refund: SeededRefund | None  # None when nothing was refunded
    new_id: Callable[[int], str]  # a fresh UUIDv7 at epoch millis, for the extension's rows


class SeededEvent(NamedTuple):
    """An event an extension's seeded rows would have written when they were made."""

    at: datetime
    type: str  # an orders.models.EventType
    order_id: uuid.UUID
    object: dict[str, Any]  # the row as orders.services.event_render renders it
    previous_attributes: dict[str, Any]


# (model, the columns its rows render, in their order)
Table = tuple[type[models.Model], Sequence[str]]


@dataclass(frozen=True)
class OrderExtension:
    """An app's rows for each seeded order.

    `tables` are loaded after the order tables, in their order (parents first). `rows` is
    called once per generated order and returns one list of COPY text lines per table (each
    line its `columns` tab-separated, `orders.demo.NULL` for NULL, ending in a newline), or
    an empty tuple when the order gets none. It must not draw from the seeded generator:
    the same seed gives the same orders with or without extensions.

    `events`, if set, is called once per store after every row is loaded, with the store
    and the start of the events window, and returns the events of the extension's rows
    made since then; it reads them back in batches, so its queries stay flat.
    """

    name: str
    tables: Sequence[Table]
    rows: Callable[[SeededOrder], Sequence[list[str]]]
    events: Callable[[Store, datetime], Iterable[SeededEvent]] | None = None


def order_extensions() -> list[OrderExtension]:
    """The extensions the installed apps name in `demo_order_extensions` on their AppConfig,
    in INSTALLED_APPS order."""
    return [
        import_string(path)
        for config in apps.get_app_configs()
        for path in getattr(config, "demo_order_extensions", ())
    ]
