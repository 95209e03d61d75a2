"""The floor of an API read: the SQL statements Ordo's request ran, run again on a psycopg
connection of its own, the rows turned into the same JSON with plain Python and dumped with
orjson. No ORM, serializer, middleware or URL routing: what Ordo spends beyond this is its
own overhead, so `Ordo ms / floor ms` says how far it is from the least a request costs.

The floor renders what the statements return, recognised by the table each reads from
(orders, line items, fulfillments, status history) and by their column names; a statement
it does not know is still run and fetched (its time counts), and a one-row, one-column
whole number is taken as the count. `first_difference` compares the floor's body with
Ordo's, so a floor that drifted from the contract is reported, not silently compared.
"""

import math
import re
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from operator import itemgetter
from types import SimpleNamespace
from typing import Any

import orjson
import psycopg

from orders import transitions
from orders.api import rendering
from orders.api.pagination import Cursor
from orders.models import (
    ApiKey,
    Customer,
    Fulfillment,
    LineItem,
    Order,
    Product,
    Store,
    Variant,
)
from orders.selectors import SortKey

_TABLE = re.compile(r'\bFROM\s+"(\w+)"', re.IGNORECASE)
ORDERS = Order._meta.db_table
LINE_ITEMS = LineItem._meta.db_table
FULFILLMENTS = Fulfillment._meta.db_table
HISTORY = Order.history.model._meta.db_table
# The authentication's lookup is not part of the read: the floor skips it (a warm key
# needs none at all).
AUTH_TABLES = frozenset({ApiKey._meta.db_table})

ORDER_ID = Order.PUBLIC_ID_PREFIX
STORE_ID = Store.PUBLIC_ID_PREFIX
CUSTOMER_ID = Customer.PUBLIC_ID_PREFIX


def floor_statements(captured: Iterable[Mapping[str, Any]]) -> list[str]:
    """The statements of CaptureQueriesContext.captured_queries the floor runs: every
    SELECT but the API key lookup (writes, savepoints and settings are not a read's)."""
    statements = []
    for query in captured:
        sql = query["sql"]
        if sql.lstrip()[:6].upper() != "SELECT":
            continue
        tables = set(_TABLE.findall(sql))
        if tables & AUTH_TABLES:
            continue
        statements.append(sql)
    return statements


def connection_kwargs(settings_dict: Mapping[str, Any]) -> dict[str, Any]:
    """psycopg.connect() arguments for a Django DATABASES entry."""
    kwargs = {
        "dbname": settings_dict["NAME"],
        "user": settings_dict.get("USER") or None,
        "password": settings_dict.get("PASSWORD") or None,
        "host": settings_dict.get("HOST") or None,
        "port": settings_dict.get("PORT") or None,
    }
    return {name: value for name, value in kwargs.items() if value is not None}


class Floor:
    """A psycopg connection (autocommit, UTC) and the plain renderers of each body kind:
    `list` (the list envelope), `order` ({"data": order}) and `count`."""

    def __init__(self, settings_dict: Mapping[str, Any]) -> None:
        self.connection = psycopg.connect(**connection_kwargs(settings_dict), autocommit=True)
        self.connection.execute("SET TIME ZONE 'UTC'")
        self.cursor = self.connection.cursor()

    def close(self) -> None:
        self.connection.close()

    def body(self, kind: str, statements: Sequence[str], template: Mapping[str, Any]) -> bytes:
        """The JSON body for `kind`, from running `statements`. `template` is Ordo's body
        of the same request: the list envelope takes from it only what a view knows before
        any row is read (page, per_page, the filters and sort as understood)."""
        started = time.perf_counter()
        results = [self._run(sql) for sql in statements]
        count = next((int(rows[0][0]) for _, _, rows in results if _is_count(rows)), None)
        if kind == "count":
            return _dumps({"data": {"count": count}})
        orders, order_rows = _orders(results)
        for table, names, rows in results:
            if table in _INCLUDES:
                key, render = _INCLUDES[table]
                children = render(names, rows)
                for order in orders:
                    order[key] = children.get(order["_pk"], [])
        for order in orders:
            del order["_pk"]
        if kind == "order":
            return _dumps({"data": orders[0] if orders else None})
        return _dumps(_list_envelope(orders, order_rows, count, template, started))

    def _run(self, sql: str) -> tuple[str | None, list[str], list[tuple]]:
        self.cursor.execute(sql)
        rows = self.cursor.fetchall() if self.cursor.description else []
        names = [column.name for column in self.cursor.description or ()]
        found = _TABLE.search(sql)
        return (found.group(1) if found else None), names, rows


def _is_count(rows: list[tuple]) -> bool:
    """One row of one whole number: a COUNT(*), or a SUM of kept counts (numeric)."""
    if len(rows) != 1 or len(rows[0]) != 1:
        return False
    value = rows[0][0]
    return isinstance(value, int) or (isinstance(value, Decimal) and value == value.to_integral())


def _default(value: Any) -> Any:
    # Money exactly as the database holds it (numeric(12,2): two decimals), as a number.
    if isinstance(value, Decimal):
        return orjson.Fragment(str(value))
    raise TypeError(type(value))


def _dumps(body: Any) -> bytes:
    return orjson.dumps(body, default=_default)


def timestamp(value: datetime | None) -> str | None:
    """UTC ISO 8601 with milliseconds and Z, the fastest way plain Python has (orjson
    prints the datetime, the microseconds are cut to milliseconds)."""
    if value is None:
        return None
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    text = orjson.dumps(value, option=orjson.OPT_UTC_Z)
    if len(text) == 29:
        return (text[1:24] + b"Z").decode()
    return (text[1:20] + b".000Z").decode()


def _getter(names: list[str], columns: Sequence[str]) -> Callable[[tuple], tuple]:
    """Pick `columns` out of a row whose columns are `names`; KeyError naming the first
    one the statement did not select."""
    index = {name: position for position, name in enumerate(names)}
    return itemgetter(*[index[column] for column in columns])


# The columns the list selects (the floor reads the same ones from the same SQL).
ORDER_COLUMNS = rendering.ORDER_COLUMNS
_allowed: dict[tuple, list[str]] = {}


def _allowed_transitions(status: str, payment_status: str, requires_shipping: bool) -> list[str]:
    """The rules' answer, asked once per combination (a handful exist)."""
    key = (status, payment_status, requires_shipping)
    if key not in _allowed:
        _allowed[key] = transitions.allowed_transitions(
            SimpleNamespace(
                status=status,
                payment_status=payment_status,
                requires_shipping=requires_shipping,
                order_number=0,
            )
        )
    return _allowed[key]


def _orders(results) -> tuple[list[dict], tuple[list[tuple], list[str]]]:
    """The order objects of the first statement reading order rows (not a count), and
    that statement's rows and column names."""
    for table, names, rows in results:
        if table == ORDERS and "order_number" in names:
            get = _getter(names, ORDER_COLUMNS)
            return [_order(get(row)) for row in rows], (rows, names)
    return [], ([], [])


def _order(values: tuple) -> dict:
    (
        pk, number, store_id, status, payment_status, payment_method, shipping_method,
        requires_shipping, currency, customer_id, customer_name, customer_email,
        customer_phone, customer_code, po_number, subtotal, discount, shipping_cost, tax,
        total, refunded, customer_notes, internal_notes, ship_name, ship_phone, line1, line2,
        city, province, postal_code, country, country_code, ship_notes, item_count, placed,
        confirmed, processing, shipped, delivered, completed, cancelled, returned, voided,
        created, updated,
    ) = values  # fmt: skip
    customer = f"{CUSTOMER_ID}{customer_id}" if customer_id is not None else None
    allowed = _allowed_transitions(status, payment_status, requires_shipping)
    return {
        "_pk": pk,
        "object": "order",
        "id": f"{ORDER_ID}{pk}",
        "order_number": number,
        "store_id": f"{STORE_ID}{store_id}",
        "status": status,
        "payment_status": payment_status,
        "payment_method": payment_method,
        "shipping_method": shipping_method,
        "requires_shipping": requires_shipping,
        "currency": currency,
        "customer_id": customer,
        "customer_name": customer_name,
        "customer_email": customer_email,
        "customer_phone": customer_phone,
        "customer": {
            "id": customer,
            "name": customer_name,
            "email": customer_email,
            "phone": customer_phone,
            "code": customer_code,
        },
        "po_number": po_number,
        "subtotal": subtotal,
        "discount_amount": discount,
        "shipping_cost": shipping_cost,
        "tax_amount": tax,
        "total": total,
        "refunded_amount": refunded,
        "customer_notes": customer_notes,
        "internal_notes": internal_notes,
        "shipping_address": {
            "name": ship_name,
            "phone": ship_phone,
            "address": line1,
            "line2": line2,
            "city": city,
            "province": province,
            "postal_code": postal_code,
            "country": country,
            "country_code": country_code,
            "notes": ship_notes,
        },
        "country_code": country_code,
        "is_pending": status == "pending",
        "is_completed": status == "completed",
        "is_cancellable": "cancelled" in allowed,
        "is_fully_paid": payment_status == "paid",
        "item_count": item_count,
        "allowed_transitions": allowed,
        "payment": {
            "method": payment_method,
            "status": payment_status,
            "amount": total,
            "currency": currency,
        },
        "placed_at": timestamp(placed),
        "confirmed_at": timestamp(confirmed),
        "processing_at": timestamp(processing),
        "shipped_at": timestamp(shipped),
        "delivered_at": timestamp(delivered),
        "completed_at": timestamp(completed),
        "cancelled_at": timestamp(cancelled),
        "returned_at": timestamp(returned),
        "voided_at": timestamp(voided),
        "created_at": timestamp(created),
        "updated_at": timestamp(updated),
    }


def _items(names: list[str], rows: list[tuple]) -> dict[Any, list[dict]]:
    get = _getter(names, ITEM_COLUMNS)
    grouped: dict[Any, list[dict]] = defaultdict(list)
    for row in rows:
        (pk, order_id, product, variant, sku, product_name, variant_name, quantity, unit_price,
         total_price, tax, refunded, created) = get(row)  # fmt: skip
        grouped[order_id].append(
            {
                "object": "line_item",
                "id": f"{LineItem.PUBLIC_ID_PREFIX}{pk}",
                "product_id": f"{Product.PUBLIC_ID_PREFIX}{product}" if product else None,
                "variant_id": f"{Variant.PUBLIC_ID_PREFIX}{variant}" if variant else None,
                "sku": sku,
                "product_name": product_name,
                "variant_name": variant_name,
                "quantity": quantity,
                "unit_price": unit_price,
                "total_price": total_price,
                "tax_amount": tax,
                "refunded_quantity": refunded,
                "created_at": timestamp(created),
            }
        )
    return grouped


ITEM_COLUMNS = (
    "id", "order_id", "product_id", "variant_id", "sku", "product_name", "variant_name",
    "quantity", "unit_price", "total_price", "tax_amount", "refunded_quantity", "created_at",
)  # fmt: skip


def _fulfillments(names: list[str], rows: list[tuple]) -> dict[Any, list[dict]]:
    get = _getter(names, FULFILLMENT_COLUMNS)
    grouped: dict[Any, list[dict]] = defaultdict(list)
    for row in rows:
        pk, order_id, status, carrier, number, url, shipped, delivered, created = get(row)
        grouped[order_id].append(
            {
                "object": "fulfillment",
                "id": f"{Fulfillment.PUBLIC_ID_PREFIX}{pk}",
                "order_id": f"{ORDER_ID}{order_id}",
                "status": status,
                "carrier": carrier,
                "tracking_number": number,
                "tracking_url": url,
                "shipped_at": timestamp(shipped),
                "delivered_at": timestamp(delivered),
                "created_at": timestamp(created),
            }
        )
    return grouped


FULFILLMENT_COLUMNS = (
    "id", "order_id", "status", "carrier", "tracking_number", "tracking_url", "shipped_at",
    "delivered_at", "created_at",
)  # fmt: skip


def _status_history(names: list[str], rows: list[tuple]) -> dict[Any, list[dict]]:
    """History rows (oldest first per order) as status changes; rows where neither status
    moved (edits of other fields) are none."""
    get = _getter(names, HISTORY_COLUMNS)
    grouped: dict[Any, list[dict]] = defaultdict(list)
    previous: dict[Any, tuple[str, str]] = {}
    for row in rows:
        order_id, status, payment_status, changed_by, reason, at = get(row)
        before = previous.get(order_id)
        previous[order_id] = (status, payment_status)
        if before == (status, payment_status):
            continue
        grouped[order_id].append(
            {
                "object": "status_change",
                "from_status": before[0] if before else None,
                "to_status": status,
                "from_payment_status": before[1] if before else None,
                "to_payment_status": payment_status,
                "changed_by": changed_by,
                "reason": reason or "",
                "created_at": timestamp(at),
            }
        )
    return grouped


HISTORY_COLUMNS = (
    "id", "status", "payment_status", "changed_by", "history_change_reason", "history_date",
)  # fmt: skip

# Each include's table: the order's key for its rows, and their renderer.
_INCLUDES = {
    LINE_ITEMS: ("items", _items),
    FULFILLMENTS: ("fulfillments", _fulfillments),
    HISTORY: ("status_history", _status_history),
}


def _list_envelope(orders, order_rows, count, template, started: float) -> dict:
    """The list envelope around `orders`, paged as Ordo pages: one row read beyond the
    page says whether another follows, and the cursor continues after the page's last."""
    rows, names = order_rows
    pagination = dict(template["pagination"])
    per_page = pagination["per_page"]
    has_more = len(orders) > per_page
    orders = orders[:per_page]
    next_cursor = None
    if has_more:
        sort = sort_key(template["meta"]["sort"])
        keyset = _getter(names, [column for column, _ in sort.with_tiebreak()])
        values = keyset(rows[per_page - 1])
        values = list(values) if isinstance(values, tuple) else [values]
        next_cursor = Cursor(sort.label, values).encode()
    pagination |= {
        "total": count,
        "total_pages": None if count is None else math.ceil(count / per_page),
        "has_more": has_more,
        "next_cursor": next_cursor,
    }
    meta = dict(template["meta"])
    meta["timings_ms"] = {"total": round((time.perf_counter() - started) * 1000, 1)}
    meta["pagination"] = pagination
    return {"object": "list", "data": orders, "pagination": pagination, "meta": meta}


def sort_key(label: str) -> SortKey:
    """The SortKey a sort label (`-created_at`, `total,-placed_at`) names."""
    return SortKey(tuple((part.lstrip("-"), part.startswith("-")) for part in label.split(",")))


def first_difference(ordo: bytes, floor: bytes) -> str | None:
    """Where the floor's body differs from Ordo's (`data[3].items[0].sku`), the time each
    took to answer aside; None when they say the same."""
    return _difference(_without_timings(orjson.loads(ordo)), _without_timings(orjson.loads(floor)))


def _without_timings(body: Any) -> Any:
    if isinstance(body, dict) and isinstance(body.get("meta"), dict):
        body["meta"].pop("timings_ms", None)
    return body


def _difference(ordo: Any, floor: Any, path: str = "") -> str | None:
    if isinstance(ordo, dict) and isinstance(floor, dict):
        for key in [*ordo, *(key for key in floor if key not in ordo)]:
            if key not in ordo or key not in floor:
                return f"{path}.{key}".lstrip(".") + (" (floor only)" if key in floor else "")
            found = _difference(ordo[key], floor[key], f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(ordo, list) and isinstance(floor, list):
        if len(ordo) != len(floor):
            return f"{path.lstrip('.')} ({len(ordo)} against {len(floor)} entries)"
        for index, (left, right) in enumerate(zip(ordo, floor, strict=True)):
            found = _difference(left, right, f"{path}[{index}]")
            if found:
                return found
        return None
    return None if ordo == floor else path.lstrip(".") or "the body"
