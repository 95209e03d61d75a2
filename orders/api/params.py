"""Parsing of the list's paging, sorting and cursor parameters (filters: orders/filters.py).

Every parameter is strict: an unknown name, a repeated one or a malformed
value is a 400 VALIDATION_ERROR that names it.
"""

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from uuid import UUID

from django.http import QueryDict
from django.utils.dateparse import parse_datetime

from orders.exceptions import InvalidParameters
from orders.filters import FILTER_PARAMETERS
from orders.selectors import DEFAULT_SORT, SORT_FIELDS, SortKey

DEFAULT_PER_PAGE = 25
MAX_PER_PAGE = 250
# Deeper than this an offset stops being a page and becomes a scan: sync jobs use the cursor.
MAX_OFFSET = 10_000_000
AUTH_PARAMETERS = frozenset({"api_key"})
PAGING_PARAMETERS = frozenset({"page", "per_page", "limit", "offset", "cursor"})
SORT_PARAMETERS = frozenset({"sort", "order"})
LIST_PARAMETERS = (
    FILTER_PARAMETERS | AUTH_PARAMETERS | PAGING_PARAMETERS | SORT_PARAMETERS | {"include"}
)
COUNT_PARAMETERS = FILTER_PARAMETERS | AUTH_PARAMETERS
DETAIL_PARAMETERS = AUTH_PARAMETERS | {"include"}


def check_parameters(query: QueryDict, *, allowed: frozenset[str]) -> dict[str, str]:
    """The query as a plain dict, after refusing unknown, repeated and NUL-bearing parameters."""
    errors: dict[str, str] = {}
    for name, values in query.lists():
        if name not in allowed:
            errors[name] = (
                f"Unknown parameter '{name}'. This endpoint accepts: {', '.join(sorted(allowed))}."
            )
        elif len(values) > 1:
            errors[name] = (
                f"'{name}' was given {len(values)} times; give it once (use a comma list)."
            )
        elif "\x00" in values[0]:
            errors[name] = "Contains a NUL character."
    if errors:
        raise InvalidParameters(errors)
    return {name: values[0] for name, values in query.lists()}


def _positive_int(params: dict[str, str], name: str, *, minimum: int, maximum: int | None = None):
    raw = params.get(name)
    if raw is None:
        return None
    try:
        value = int(raw.strip())
    except ValueError:
        raise InvalidParameters({name: f"'{raw}' is not a whole number."}) from None
    if value < minimum or (maximum is not None and value > maximum):
        bounds = f"between {minimum} and {maximum}" if maximum is not None else f">= {minimum}"
        raise InvalidParameters({name: f"Must be {bounds}; got {value}."})
    return value


@dataclass(frozen=True)
class Page:
    per_page: int
    offset: int = 0
    page: int | None = 1
    cursor: "Cursor | None" = None
    offset_style: bool = False  # the client sent limit/offset (seed 003) and expects them back


def parse_page(params: dict[str, str], *, sort: SortKey) -> Page:
    per_page = _positive_int(params, "per_page", minimum=1, maximum=MAX_PER_PAGE)
    limit = _positive_int(params, "limit", minimum=1, maximum=MAX_PER_PAGE)
    if per_page is not None and limit is not None and per_page != limit:
        raise InvalidParameters(
            {"limit": "Give per_page or limit, not both with different values."}
        )
    size = per_page or limit or DEFAULT_PER_PAGE

    given = [name for name in ("page", "offset", "cursor") if name in params]
    if len(given) > 1:
        raise InvalidParameters(
            {given[1]: f"Use one way of paging: {' or '.join(given)} cannot be combined."}
        )
    if "cursor" in params:
        return Page(per_page=size, page=None, cursor=Cursor.decode(params["cursor"], sort=sort))
    offset = _positive_int(params, "offset", minimum=0, maximum=MAX_OFFSET)
    if offset is not None:
        return Page(per_page=size, offset=offset, page=offset // size + 1, offset_style=True)
    page = _positive_int(params, "page", minimum=1) or 1
    if (page - 1) * size > MAX_OFFSET:
        raise InvalidParameters(
            {"page": f"Pages reach {MAX_OFFSET:,} orders deep; follow next_cursor to go further."}
        )
    return Page(per_page=size, offset=(page - 1) * size, page=page, offset_style=limit is not None)


def parse_sort(params: dict[str, str]) -> SortKey:
    """`sort=created_at&order=desc` (seed 002) or `sort=-placed_at,order_number` (seed 004).

    A `-` prefix means descending; `order` sets the direction of fields without
    one (default ascending). No `sort` at all means newest first.
    """
    order = params.get("order")
    if order is not None and order.strip().lower() not in {"asc", "desc"}:
        raise InvalidParameters({"order": f"Use asc or desc; got '{order}'."})
    default_desc = order is not None and order.strip().lower() == "desc"
    raw = params.get("sort")
    if raw is None:
        if order is None:
            return SortKey(DEFAULT_SORT)
        return SortKey((("created_at", default_desc),))

    columns: list[tuple[str, bool]] = []
    for part in (p.strip() for p in raw.split(",")):
        desc = part.startswith("-")
        name = part.lstrip("-+").strip().lower()
        if name not in SORT_FIELDS:
            raise InvalidParameters(
                {"sort": f"Cannot sort by '{part}'. Sort by {', '.join(SORT_FIELDS)}."}
            )
        column = SORT_FIELDS[name]
        if column in (c for c, _ in columns):
            raise InvalidParameters({"sort": f"'{name}' appears twice."})
        columns.append((column, desc or (default_desc and not part.startswith("+"))))
    return SortKey(tuple(columns))


@dataclass(frozen=True)
class Cursor:
    """An opaque continuation token: the sort it belongs to and the last row's sort values."""

    sort_label: str
    values: list[Any]

    def encode(self) -> str:
        raw = json.dumps({"s": self.sort_label, "v": [_dump(v) for v in self.values]})
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str, *, sort: SortKey) -> "Cursor":
        invalid = InvalidParameters(
            {
                "cursor": (
                    "This cursor is not valid. Pass next_cursor from a previous response unchanged."
                )
            }
        )
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            payload = json.loads(raw)
            label, values = payload["s"], payload["v"]
        except (ValueError, binascii.Error, KeyError, TypeError, UnicodeDecodeError):
            raise invalid from None
        if label != sort.label:
            raise InvalidParameters(
                {
                    "cursor": (
                        f"This cursor was made for sort '{label}', not '{sort.label}'. Keep the "
                        "same sort while following next_cursor."
                    )
                }
            )
        columns = sort.with_tiebreak()
        if not isinstance(values, list) or len(values) != len(columns):
            raise invalid
        try:
            parsed = [
                _load(column, value) for (column, _), value in zip(columns, values, strict=True)
            ]
        except (ValueError, TypeError, InvalidOperation):
            raise invalid from None
        return cls(label, parsed)


def _dump(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal | UUID):
        return str(value)
    return value


def _load(column: str, value: Any) -> Any:
    if column in {"created_at", "updated_at", "placed_at"}:
        parsed = parse_datetime(value)
        if parsed is None:
            raise ValueError(value)
        return parsed
    if column == "total":
        return Decimal(value)
    if column == "id":
        return UUID(value)
    if column == "order_number":
        if not isinstance(value, int):
            raise TypeError(value)
        return value
    if not isinstance(value, str):
        raise TypeError(value)
    return value
