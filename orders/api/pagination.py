"""Paging of the API's lists: page / per_page, limit / offset, or a keyset cursor.

One concept, one module, on the model of DRF's `CursorPagination`: a
`PageRequest` is parsed from the query (strictly: a bad value is a 400 naming
it), `paginate` cuts one page out of a sorted queryset, and `Page.pagination`
describes it for the envelope.

- page / offset paging slices the queryset and reads one row beyond the page:
  whether a next page exists is known without another query.
- a cursor continues strictly after the last row of the previous page, by its
  sort values and id (a keyset), so rows inserted meanwhile never shift a page
  the way an offset would. The cursor is opaque to clients: base64 of the sort
  it belongs to and those values.
"""

import base64
import binascii
import json
import math
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from uuid import UUID

from django.db import models
from django.db.models import Q, QuerySet
from django.utils.dateparse import parse_datetime

from orders.exceptions import InvalidParameters
from orders.selectors import SortKey

DEFAULT_PER_PAGE = 25
MAX_PER_PAGE = 250
# Deeper than this an offset stops being a page and becomes a scan of every row it skips
# (DESIGN.md): sync jobs follow the cursor, which costs the same at any depth.
MAX_OFFSET = 100_000
PAGING_PARAMETERS = frozenset({"page", "per_page", "limit", "offset", "cursor", "count"})
# How `pagination.total` is counted (?count=): exactly, by the planner's estimate, or not.
COUNT_MODES = ("exact", "estimate", "none")
_WHOLE_NUMBER = re.compile(r"-?[0-9]{1,18}")


@dataclass(frozen=True)
class Cursor:
    """A continuation token: the sort it belongs to and the last row's sort values (and id)."""

    sort_label: str
    values: list[Any]

    def encode(self) -> str:
        raw = json.dumps({"s": self.sort_label, "v": [_dump(v) for v in self.values]})
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str, *, sort: SortKey, model: type[models.Model]) -> "Cursor":
        """The cursor in `token`, its values typed like `model`'s sort columns; a 400
        when it was tampered with or made for another sort."""
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
                _load(model._meta.get_field(column), value)
                for (column, _), value in zip(columns, values, strict=True)
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


def _load(field: models.Field, value: Any) -> Any:
    """A cursor value back as the column's Python type; ValueError / TypeError when it
    cannot be one (the cursor was tampered with)."""
    if isinstance(field, models.DateTimeField):
        parsed = parse_datetime(value)
        if parsed is None:
            raise ValueError(value)
        return parsed
    if isinstance(field, models.DecimalField):
        return Decimal(value)
    if isinstance(field, models.UUIDField):
        return UUID(value)
    if isinstance(field, models.IntegerField):
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError(value)
        return value
    if not isinstance(value, str):
        raise TypeError(value)
    return value


@dataclass(frozen=True)
class PageRequest:
    """Which page a client asked for."""

    per_page: int
    offset: int = 0
    page: int | None = 1
    cursor: Cursor | None = None
    offset_style: bool = False  # the client sent limit/offset (seed 003) and expects them back
    count: str = "exact"

    @classmethod
    def parse(
        cls, params: Mapping[str, str], *, sort: SortKey, model: type[models.Model]
    ) -> "PageRequest":
        """The page named by `params`; InvalidParameters for a bad value or two ways of
        paging at once."""
        per_page = _whole_number(params, "per_page", minimum=1, maximum=MAX_PER_PAGE)
        limit = _whole_number(params, "limit", minimum=1, maximum=MAX_PER_PAGE)
        if per_page is not None and limit is not None and per_page != limit:
            raise InvalidParameters(
                {"limit": "Give per_page or limit, not both with different values."}
            )
        size = per_page or limit or DEFAULT_PER_PAGE
        count = _count_mode(params)

        given = [name for name in ("page", "offset", "cursor") if name in params]
        if len(given) > 1:
            raise InvalidParameters(
                {given[1]: f"Use one way of paging: {' or '.join(given)} cannot be combined."}
            )
        if "cursor" in params:
            cursor = Cursor.decode(params["cursor"], sort=sort, model=model)
            # A cursor page never counts: a sync job deep in a big store must not pay for it.
            return cls(per_page=size, page=None, cursor=cursor, count="none")
        offset = _whole_number(params, "offset", minimum=0, maximum=MAX_OFFSET)
        if offset is not None:
            return cls(
                per_page=size,
                offset=offset,
                page=offset // size + 1,
                offset_style=True,
                count=count,
            )
        page = _whole_number(params, "page", minimum=1, maximum=MAX_OFFSET + 1) or 1
        if (page - 1) * size > MAX_OFFSET:
            raise InvalidParameters(
                {
                    "page": (
                        f"Page {page} of {size} starts {(page - 1) * size:,} rows deep; pages "
                        f"reach {MAX_OFFSET:,} rows deep. Follow pagination.next_cursor (the "
                        "cursor parameter) to go further."
                    )
                }
            )
        return cls(
            per_page=size,
            offset=(page - 1) * size,
            page=page,
            offset_style=limit is not None,
            count=count,
        )


def _count_mode(params: Mapping[str, str]) -> str:
    raw = params.get("count")
    if raw is None:
        return "exact"
    if raw not in COUNT_MODES:
        raise InvalidParameters(
            {"count": f"count must be one of {', '.join(COUNT_MODES)}; got '{raw}'."}
        )
    return raw


def _whole_number(
    params: Mapping[str, str], name: str, *, minimum: int, maximum: int | None = None
) -> int | None:
    raw = params.get(name)
    if raw is None:
        return None
    # ASCII digits only: int() alone would also take '1_000' and other scripts' digits.
    if not _WHOLE_NUMBER.fullmatch(raw.strip()):
        raise InvalidParameters({name: f"{name} must be a whole number; got '{raw}'."})
    value = int(raw.strip())
    if value < minimum or (maximum is not None and value > maximum):
        bounds = f"between {minimum} and {maximum}" if maximum is not None else f">= {minimum}"
        raise InvalidParameters({name: f"{name} must be {bounds}; got {value}."})
    return value


@dataclass(frozen=True)
class Page:
    """One page of rows, and what the client needs to fetch the next."""

    rows: list[Any]
    request: PageRequest
    has_more: bool
    next_cursor: str | None

    def pagination(self, *, total: int | None, total_is_estimate: bool = False) -> dict[str, Any]:
        """The envelope's `pagination` for this page of `total` rows (None: not counted)."""
        per_page = self.request.per_page
        pagination = {
            "page": self.request.page,
            "per_page": per_page,
            "total": total,
            "total_pages": None if total is None else math.ceil(total / per_page),
            "total_is_estimate": total_is_estimate,
            "has_more": self.has_more,
            "next_cursor": self.next_cursor,
        }
        if self.request.offset_style:
            pagination |= {"limit": per_page, "offset": self.request.offset}
        return pagination


def paginate(
    queryset: QuerySet,
    request: PageRequest,
    *,
    sort: SortKey,
    row: Callable[[Any], Any] | None = None,
) -> Page:
    """The page of `queryset` (already in `sort` order) that `request` asks for: one query,
    reading one row beyond the page to learn whether another follows.

    `row` makes each fetched value (a `values_list` tuple) the page's row, which must
    answer its sort columns as attributes (the keyset reads them), as OrderRow._make does.
    """
    if request.cursor is not None:
        queryset = queryset.filter(_after(sort, request.cursor.values))
    window = queryset[request.offset : request.offset + request.per_page + 1]
    window = list(window) if row is None else list(map(row, window))
    rows, has_more = window[: request.per_page], len(window) > request.per_page
    next_cursor = Cursor(sort.label, _keyset_values(rows[-1], sort)).encode() if has_more else None
    return Page(rows=rows, request=request, has_more=has_more, next_cursor=next_cursor)


def _after(sort: SortKey, values: Sequence[Any]) -> Q:
    """Rows strictly after `values` in `sort` order, as (a > x) OR (a = x AND b > y) OR …

    The leading column is also bounded on its own (a >= x) so the database can
    start the index scan at the cursor instead of filtering from the top.
    """
    columns = sort.with_tiebreak()
    condition = Q()
    for position, (column, desc) in enumerate(columns):
        equal_before = {earlier: values[i] for i, (earlier, _) in enumerate(columns[:position])}
        condition |= Q(**equal_before, **{f"{column}__{'lt' if desc else 'gt'}": values[position]})
    first_column, first_desc = columns[0]
    bound = Q(**{f"{first_column}__{'lte' if first_desc else 'gte'}": values[0]})
    return bound & condition


def _keyset_values(row: Any, sort: SortKey) -> list[Any]:
    return [getattr(row, column) for column, _ in sort.with_tiebreak()]


def list_body(
    *,
    data: list[Any],
    page: Page,
    total: int | None,
    meta: Mapping[str, Any],
    total_is_estimate: bool = False,
) -> dict:
    """The list envelope: `{"object": "list", "data", "pagination", "meta"}`; `meta` repeats
    the pagination (seed 004 clients read it there)."""
    pagination = page.pagination(total=total, total_is_estimate=total_is_estimate)
    return {
        "object": "list",
        "data": data,
        "pagination": pagination,
        "meta": {**meta, "pagination": pagination},
    }


def paged_list_body(
    rows: QuerySet,
    params: Mapping[str, str],
    *,
    sort: SortKey,
    render: Callable[[list], list],
    filters: Mapping[str, Any],
    sort_label: str,
    started: float,
) -> dict:
    """The list envelope of the page of `rows` (already in `sort` order) that `params`
    ask for, with `meta` saying the filters and sort understood and the time taken since
    `started` (time.perf_counter()). Counted on page and offset paging; a cursor page or
    count=none is not, and an estimate here is the count (these lists are a store's own,
    never millions of orders)."""
    request = PageRequest.parse(params, sort=sort, model=rows.model)
    page = paginate(rows, request, sort=sort)
    total = None if request.count == "none" else rows.count()
    meta = {
        "filters": dict(filters),
        "sort": sort_label,
        "timings_ms": {"total": round((time.perf_counter() - started) * 1000, 2)},
    }
    return list_body(data=render(page.rows), page=page, total=total, meta=meta)
