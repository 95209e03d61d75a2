"""The query parameters each endpoint accepts, and the order list's query as one value.

Every parameter is strict: an unknown name, a repeated one or a malformed
value is a 400 VALIDATION_ERROR that names it. Filters are orders/filters.py's,
paging orders/api/pagination.py's, includes orders/api/includes.py's.
"""

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.http import QueryDict

from orders import selectors
from orders.api.includes import Include, parse_includes
from orders.api.pagination import PAGING_PARAMETERS, PageRequest
from orders.exceptions import InvalidParameters, ParameterErrors
from orders.filters import FILTER_PARAMETERS, OrderFilterSet
from orders.models import Order, Store
from orders.selectors import DEFAULT_SORT, SORT_FIELDS, SortKey

AUTH_PARAMETERS = frozenset({"api_key"})
SORT_PARAMETERS = frozenset({"sort", "order"})
LIST_PARAMETERS = (
    FILTER_PARAMETERS | AUTH_PARAMETERS | PAGING_PARAMETERS | SORT_PARAMETERS | {"include"}
)
COUNT_PARAMETERS = FILTER_PARAMETERS | AUTH_PARAMETERS
DETAIL_PARAMETERS = AUTH_PARAMETERS | {"include"}
# A list carries its items unless the client says otherwise (seed 002 shows them).
LIST_DEFAULT_INCLUDES = ("items",)


def check_parameters(query: QueryDict, *, allowed: frozenset[str]) -> dict[str, str]:
    """The query as a plain dict, after refusing unknown, repeated, NUL-bearing and empty
    parameters: `?status=` is a client's mistake (a template with a missing value), and
    ignoring it would answer a different question than the one asked."""
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
            errors[name] = f"'{name}' contains a NUL character."
        # `include=` empty is meaningful: it adds no related list (DESIGN.md "The order object").
        elif not values[0].strip() and name != "include":
            errors[name] = f"'{name}' is empty: give it a value, or leave the parameter out."
    if errors:
        raise InvalidParameters(errors)
    return {name: values[0] for name, values in query.lists()}


def parse_sort(params: Mapping[str, str]) -> SortKey:
    """`sort=created_at&order=desc` (seed 002) or `sort=-placed_at,order_number` (seed 004).

    A `-` prefix means descending; `order` sets the direction of fields without
    one (default ascending). No `sort` at all means newest first.
    """
    order = params.get("order")
    if order is not None and order.strip().lower() not in {"asc", "desc"}:
        raise InvalidParameters({"order": f"order must be asc or desc; got '{order}'."})
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
            raise InvalidParameters({"sort": f"'{name}' appears twice in sort."})
        columns.append((column, desc or (default_desc and not part.startswith("+"))))
    return SortKey(tuple(columns))


@dataclass(frozen=True)
class OrderListQuery:
    """What a client asked of the order list: which orders, in which order, which page,
    with which related lists."""

    filters: OrderFilterSet
    sort: SortKey
    page: PageRequest
    includes: list[Include]

    def meta(self, *, store: Store, started: float) -> dict[str, Any]:
        """Seed 004's `meta`: the query as Ordo understood it, and the time taken since
        `started` (a perf_counter reading)."""
        return {
            "tenant_id": store.public_id,
            "filters": self.filters.understood(),
            "sort": self.sort.label,
            "include": [key for key, _ in self.includes],
            "timings_ms": {"total": round((time.perf_counter() - started) * 1000, 1)},
        }


def order_list_query(query: QueryDict, *, store: Store) -> OrderListQuery:
    """The order list's query from the request's; one 400 names every bad parameter."""
    params = check_parameters(query, allowed=LIST_PARAMETERS)
    errors = ParameterErrors()
    sort = errors.collect(parse_sort, params) or SortKey(DEFAULT_SORT)
    page = errors.collect(PageRequest.parse, params, sort=sort, model=Order)
    includes = errors.collect(parse_includes, params.get("include"), default=LIST_DEFAULT_INCLUDES)
    filters = errors.collect(selectors.order_filters, store=store, params=params)
    errors.raise_if_any()
    return OrderListQuery(filters=filters, sort=sort, page=page, includes=includes)
