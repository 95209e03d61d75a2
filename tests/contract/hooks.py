"""schemathesis hooks of gate (a) (schemathesis.toml loads them): the paged lists' rules
across parameters, which OpenAPI 3.0 cannot state.

The order list and count, the events feed, the webhook endpoints and an endpoint's
deliveries document them in their parameters' descriptions and answer 400 when a request
breaks one (DESIGN.md "List parameters: invalid values are 400"):

- one way of paging: `page`, `offset` and `cursor` exclude each other; `per_page` and
  `limit` together must be equal;
- a page starts at most 100,000 rows deep: `(page - 1) * per_page` (per_page or limit,
  default 25);
- a `cursor` is one Ordo issued (a `pagination.next_cursor`), for the same sort;
- ranges are in order (a lower bound after its upper bound is a 400); a bare date is the
  whole day in the store's time zone, so a date equal to its upper date is fine;
- `sort` names each field once (`grand_total` is `total`);
- the events feed pages one way: `starting_after`, `page`, `offset` or `cursor`.

A schema-valid (positive) case may still break them, and `positive_data_acceptance` would
report the 400 as the document being looser than the app. So every positive case of those
operations is brought within the rules, by the smallest change that keeps it schema-valid
(keep one way of paging, swap a reversed range, …) rather than thrown away: the case keeps
its other values, and the rule's own 400s stay the suite's to test. Negative cases are
left alone: they are meant to be refused. schemathesis revalidates an edited case against
the schema, so an edit that broke it would show as a negative case, not pass unnoticed.

Random cursors are replaced by ones the app issued earlier in the run to the same list
(recorded from the responses, with the sort they were made for), or dropped while there
are none yet: a cursor of the order list means nothing to the events feed.

The rules are restated here from the documentation, not imported from the app: a gate that
reused the app's own checks could not catch them being wrong.
"""

import os
import re
import threading
import zlib
from collections import OrderedDict
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import schemathesis

# GET /v1/orders, /v1/orders/count, /v1/events, /v1/webhook-endpoints,
# /v1/webhook-endpoints/{endpoint_id}/deliveries, and the same under /v1/stores/{store_id}.
# The group names the list (cursors are kept per list).
LIST_PATH = re.compile(
    r"^/v1/(?:stores/\{[^}/]+\}/)?"
    r"(orders(?:/count)?|events|webhook-endpoints(?:/\{[^}/]+\}/deliveries)?)$"
)
PAGING_WAYS = ("page", "offset", "cursor", "starting_after")
DEFAULT_PER_PAGE = 25
MAX_DEPTH = 100_000
DATE_RANGES = (
    ("date_from", "date_to"),
    ("created_after", "created_before"),
    ("placed_from", "placed_to"),
    ("updated_at[gte]", "updated_at[lte]"),
)
NUMBER_RANGES = (("total[gte]", "total[lte]"), ("min_total", "max_total"))
SORT_ALIASES = {"grand_total": "total"}
# Cursors the app issued, oldest first, each with the list that issued it and the `sort`
# and `order` of the request that got it (None: not given). Workers are threads: one lock
# guards it.
MAX_CURSORS = 200
_issued: "OrderedDict[str, tuple[str, Any, Any]]" = OrderedDict()
_issued_lock = threading.Lock()
_MICROS_PER_DAY = 86_400 * 10**6


def _store_zone() -> ZoneInfo:
    name = os.environ.get("ORDO_GATES_STORE_TZ", "")
    if not name:
        raise RuntimeError(
            "tests/contract/hooks.py needs ORDO_GATES_STORE_TZ, the seeded store's time zone "
            "(scripts/contract_gates.py sets it): bare dates are whole days in that zone."
        )
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise RuntimeError(f"ORDO_GATES_STORE_TZ={name!r} is not an IANA zone") from error


STORE_ZONE = _store_zone()


def _list_of(context: schemathesis.HookContext) -> str | None:
    """Which paged list the operation reads ("orders", "events", …), or None if none."""
    operation = context.operation
    if operation is None or operation.method.upper() != "GET":
        return None
    match = LIST_PATH.match(operation.path)
    return match.group(1) if match else None


def _is_positive(case: Any) -> bool:
    meta = case.meta
    return meta is not None and meta.generation.mode.is_positive


@schemathesis.hook
def map_case(context: schemathesis.HookContext, case: Any) -> Any:
    """Fuzzing, coverage and stateful cases: a positive list/count case within the rules."""
    listed = _list_of(context)
    if listed is not None and _is_positive(case) and case.query:
        fixed = within_rules(dict(case.query), listed=listed)
        if fixed != case.query:
            case.query = fixed
    return case


@schemathesis.hook
def before_add_examples(context: schemathesis.HookContext, examples: list) -> None:
    """The examples phase does not run map_case: the same, on its cases in place."""
    if _list_of(context) is None:
        return
    for case in examples:
        map_case(context, case)


@schemathesis.hook
def after_call(context: schemathesis.HookContext, case: Any, response: Any) -> None:
    """Remember every next_cursor a list answered, with the sort it was made for; log
    every positive case refused with a 400."""
    listed = _list_of(context)
    if listed is None or response.status_code not in {200, 400}:
        return
    try:
        body = response.json()
    except ValueError:
        return
    if response.status_code == 400:
        if _is_positive(case):
            _log_rejection(response, body)
        return
    pagination = body.get("pagination") if isinstance(body, dict) else None
    cursor = pagination.get("next_cursor") if isinstance(pagination, dict) else None
    if not isinstance(cursor, str) or not cursor:
        return
    query = case.query or {}
    with _issued_lock:
        _issued[cursor] = (listed, query.get("sort"), query.get("order"))
        _issued.move_to_end(cursor)
        while len(_issued) > MAX_CURSORS:
            _issued.popitem(last=False)


def _log_rejection(response: Any, body: Any) -> None:
    """One line per positive list/count case answered 400, in ORDO_GATES_REJECTIONS_LOG:
    schemathesis reports the first failure of each operation only, and a fix for one cause
    is easier to judge with all of them in view."""
    path = os.environ.get("ORDO_GATES_REJECTIONS_LOG")
    if not path:
        return
    error = body.get("error") if isinstance(body, dict) else None
    details = error.get("details") if isinstance(error, dict) else None
    reasons = "; ".join(
        f"{item.get('field')}: {item.get('message')}"
        for item in details or []
        if isinstance(item, dict)
    )
    line = f"{response.request.method} {response.request.url}\n    -> {reasons or body!r}\n"
    with _issued_lock, open(path, "a", encoding="utf-8") as log:
        log.write(line)


def within_rules(query: dict[str, Any], *, listed: str = "orders") -> dict[str, Any]:
    """`query` of the list `listed` changed as little as possible to keep every
    cross-parameter rule."""
    _real_cursor(query, listed)
    _sort_fields_once(query)
    _one_way_of_paging(query)
    _page_size_agrees(query)
    _page_within_depth(query)
    for low, high in DATE_RANGES:
        _in_order(query, low, high, _date_range_is_empty)
    for low, high in NUMBER_RANGES:
        _in_order(query, low, high, _number_range_is_empty)
    return query


def _real_cursor(query: dict[str, Any], listed: str) -> None:
    """A random cursor becomes one the app issued to the same list (and the sort it was
    issued for)."""
    if "cursor" not in query:
        return
    with _issued_lock:
        # The same list's cursors only, each with the sort and order it was issued for.
        issued = {cursor: sort for cursor, (lst, *sort) in _issued.items() if lst == listed}
    known = issued.get(query["cursor"]) if isinstance(query["cursor"], str) else None
    choices = list(issued.items())
    if known is None and choices:
        cursor, known = choices[_pick(query["cursor"], len(choices))]
        query["cursor"] = cursor
    if known is None:
        del query["cursor"]
        return
    for name, value in zip(("sort", "order"), known, strict=True):
        if value is None:
            query.pop(name, None)
        else:
            query[name] = value


def _sort_fields_once(query: dict[str, Any]) -> None:
    raw = query.get("sort")
    if not isinstance(raw, str):
        return
    parts, seen = [], set()
    for part in raw.split(","):
        field = SORT_ALIASES.get(name := part.strip().lstrip("+-").strip().lower(), name)
        if field not in seen:
            seen.add(field)
            parts.append(part)
    query["sort"] = ",".join(parts)


def _one_way_of_paging(query: dict[str, Any]) -> None:
    given = [name for name in PAGING_WAYS if name in query]
    if len(given) < 2:
        return
    keep = given[_pick([query[name] for name in given], len(given))]
    for name in given:
        if name != keep:
            del query[name]


def _page_size_agrees(query: dict[str, Any]) -> None:
    per_page, limit = _whole(query.get("per_page")), _whole(query.get("limit"))
    if per_page is not None and limit is not None and per_page != limit:
        query["limit"] = query["per_page"]


def _page_within_depth(query: dict[str, Any]) -> None:
    page = _whole(query.get("page"))
    if page is None:
        return
    size = _whole(query.get("per_page")) or _whole(query.get("limit")) or DEFAULT_PER_PAGE
    if (page - 1) * size > MAX_DEPTH:
        deepest = MAX_DEPTH // size + 1
        query["page"] = str(deepest) if isinstance(query["page"], str) else deepest


def _in_order(
    query: dict[str, Any], low: str, high: str, is_empty: Callable[[Any, Any], bool | None]
) -> None:
    """Swap a reversed range: the same two values, in the order the rule wants."""
    if low in query and high in query and is_empty(query[low], query[high]):
        query[low], query[high] = query[high], query[low]


def _number_range_is_empty(low: Any, high: Any) -> bool | None:
    try:
        return Decimal(str(low)) > Decimal(str(high))
    except InvalidOperation:
        return None  # not a number: the schema's business, not this rule's


def _date_range_is_empty(low: Any, high: Any) -> bool | None:
    """Whether no instant lies from `low` to `high` (bare dates are whole days in the
    store's zone; the upper day runs until the next begins). None when either is not a
    date: leave the case as it is and let the app's answer speak."""
    start, end = _bound(low, upper=False), _bound(high, upper=True)
    if start is None or end is None:
        return None
    (start_at, _), (end_at, end_exclusive) = start, end
    return start_at >= end_at if end_exclusive else start_at > end_at


def _bound(value: Any, *, upper: bool) -> tuple[int, bool] | None:
    """(microseconds since 0001-01-01T00:00Z, exclusive?) of a range's end. Integers, not
    datetimes: the calendar's edges (0001-01-01 east of UTC, 9999-12-31 plus a day) must
    not overflow here, whatever the app makes of them."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            if not upper:
                return _micros(datetime.combine(day, time.min), None), False
            wall = datetime.combine(day, time.min)
            # The next day's midnight, as wall time plus one day of microseconds.
            next_offset = _zone_offset(
                datetime.combine(day + timedelta(days=1), time.min) if day < date.max else wall
            )
            return _micros(wall, next_offset) + _MICROS_PER_DAY, True
        # '+' in a query string arrives as a space ('…T09:00:00 02:00' is +02:00).
        text = re.sub(r"(T[\d:.]+) (\d{2}:?\d{2})$", r"\1+\2", text)
        moment = datetime.fromisoformat(text)
    except (ValueError, OverflowError):
        return None
    return _micros(moment.replace(tzinfo=None), moment.utcoffset()), False


def _zone_offset(wall: datetime) -> timedelta:
    return STORE_ZONE.utcoffset(wall) or timedelta(0)


def _micros(wall: datetime, offset: timedelta | None) -> int:
    """A wall time at `offset` from UTC (None: the store's zone) as UTC microseconds."""
    if offset is None:
        offset = _zone_offset(wall)
    since_midnight = (wall.hour * 3600 + wall.minute * 60 + wall.second) * 10**6
    local = (wall.toordinal() - 1) * _MICROS_PER_DAY + since_midnight + wall.microsecond
    return local - offset // timedelta(microseconds=1)


def _whole(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d{1,18}\s*", value):
        return int(value)
    return None


def _pick(seed: Any, count: int) -> int:
    """A choice among `count` that depends on the generated values only (no hash
    randomisation): the same seed gives the same requests."""
    return zlib.crc32(repr(seed).encode()) % count
