"""Rows other apps add to each seeded order, in tables of their own.

`orders` never imports the apps built on it (notes, refunds), yet their records belong to a
seeded order as much as its line items do: a refunded order without its refunds would show
nothing in the admin's refunds list or the API. So an app registers an OrderExtension from
its AppConfig.ready(); demo_stores_create hands it every order it generates and loads the
rows it returns together with the order tables (COPY on PostgreSQL, bulk_create elsewhere).
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from django.db import models


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
    """

    name: str
    tables: Sequence[Table]
    rows: Callable[[SeededOrder], Sequence[list[str]]]


_extensions: dict[str, OrderExtension] = {}


def register_order_extension(extension: OrderExtension) -> None:
    """Have demo_stores_create call `extension` for every order it seeds from now on.

    Registering a name again replaces the earlier extension, so an app's ready() may run
    more than once.
    """
    _extensions[extension.name] = extension


def order_extensions() -> list[OrderExtension]:
    """The registered extensions, in the order they were first registered."""
    return list(_extensions.values())
