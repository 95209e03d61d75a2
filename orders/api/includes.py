"""Related lists an order response can carry (`?include=items,fulfillments,…`).

Each include is a loader: given the store and a page of orders it returns
their related objects, already rendered (by plain functions, exactly as the
include's documented serializer would), in one query — so a list's query
count never grows with its length. Other apps add theirs (notes, refunds)
from their AppConfig.ready(); `orders` never imports them.
"""

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from orders import selectors
from orders.api import rendering
from orders.api.serializers import (
    FulfillmentSerializer,
    LineItemSerializer,
    OrderSerializer,
    StatusChangeSerializer,
)
from orders.exceptions import InvalidParameters
from orders.models import Order, Store

# A loader is given the page's orders (Order instances, or the list's OrderRow: both have
# `pk`, `id` and every column an order renders) and returns the rendered rows by order id.
Loader = Callable[[Store, Sequence[Order | rendering.OrderRow]], dict[Any, list[dict]]]
# (the key in the response, the include's name): `shipments` answers as `shipments`.
Include = tuple[str, str]

_LOADERS: dict[str, Loader] = {}
# What each include's rows look like, for the document (OrderWithRelationsSerializer).
_SHAPES: dict[str, type] = {}
# Other spellings clients of the seed APIs use; the response keeps the client's spelling.
ALIASES = {"shipments": "fulfillments"}


def register_include(name: str, loader: Loader, *, shape: type) -> None:
    """Offer `?include=name`: `loader` renders the rows, each exactly as `shape` (a
    serializer class, for the document) would render it."""
    _LOADERS[name] = loader
    _SHAPES[name] = shape


def include_shapes() -> dict[str, type]:
    """Each key an include can add to an order (aliases too), with its rows' serializer."""
    return {**_SHAPES, **{alias: _SHAPES[name] for alias, name in ALIASES.items()}}


def available_includes() -> list[str]:
    return sorted([*_LOADERS, *ALIASES])


def parse_includes(value: str | None, *, default: Sequence[str]) -> list[Include]:
    """[(key in the response, include name)] from `?include=`; an absent parameter gives
    `default`, an empty one nothing. Unknown names are a 400 naming the parameter."""
    if value is None:
        return [(name, name) for name in default]
    requested = [part.strip().lower() for part in value.split(",") if part.strip()]
    unknown = [name for name in requested if name not in _LOADERS and name not in ALIASES]
    if unknown:
        raise InvalidParameters(
            {
                "include": (
                    f"Unknown include {', '.join(map(repr, unknown))}: use a comma list of "
                    f"{', '.join(available_includes())}."
                )
            }
        )
    return [(name, ALIASES.get(name, name)) for name in dict.fromkeys(requested)]


def load_includes(
    includes: Sequence[Include], *, store: Store, orders: Sequence[Order | rendering.OrderRow]
) -> dict[str, dict[Any, list[dict]]]:
    """Each include's rendered rows by order id, one query per include."""
    if not orders:
        return {}
    loaded: dict[str, dict[Any, list[dict]]] = {}
    for _, name in includes:
        if name not in loaded:  # include=fulfillments,shipments loads once
            loaded[name] = _LOADERS[name](store, orders)
    return {key: loaded[name] for key, name in includes}


def rendered_by_order(rows: Iterable[Any], render: Callable[[Any], dict]) -> dict[Any, list[dict]]:
    """Rows (each with an `order_id`) rendered by `render`, a plain function (no serializer
    is built per request), grouped by order id: what a loader returns."""
    grouped: dict[Any, list[dict]] = defaultdict(list)
    for row in rows:
        grouped[row.order_id].append(render(row))
    return grouped


def _load_items(store: Store, orders: Sequence[Order]) -> dict[Any, list[dict]]:
    items = selectors.line_items_of(store=store, orders=orders)
    return rendered_by_order(
        rendering.rows_of(items, rendering.LineItemRow), rendering.render_line_item
    )


def _load_fulfillments(store: Store, orders: Sequence[Order]) -> dict[Any, list[dict]]:
    fulfillments = selectors.fulfillments_of(store=store, orders=orders)
    return rendered_by_order(
        rendering.rows_of(fulfillments, rendering.FulfillmentRow),
        rendering.render_fulfillment,
    )


def _load_status_history(store: Store, orders: Sequence[Order]) -> dict[Any, list[dict]]:
    changes = selectors.status_history(store=store, order_ids=[o.pk for o in orders])
    render = rendering.render_status_change
    return {order_id: [render(c) for c in entries] for order_id, entries in changes.items()}


register_include("items", _load_items, shape=LineItemSerializer)
register_include("fulfillments", _load_fulfillments, shape=FulfillmentSerializer)
register_include("status_history", _load_status_history, shape=StatusChangeSerializer)


class OrderWithRelationsSerializer(OrderSerializer):
    """An order with the related lists `include=` adds: the document's order shape. Every
    registered include appears (notes and refunds come from their apps), each optional."""

    def get_fields(self):
        fields = super().get_fields()
        for key, shape in include_shapes().items():
            fields[key] = shape(many=True, required=False)
        return fields
