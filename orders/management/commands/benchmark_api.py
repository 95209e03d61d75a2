"""Time the API's reads against their floor on the largest store (PostgreSQL): for each case
Ordo's median ms, the floor's median ms, their ratio, and the queries Ordo's request ran.

python manage.py benchmark_api [--store str_…] [--runs 30] [--count exact|estimate|none]
    [--depth 900000] [--drf [--drf-rounds 3] [--drf-seconds 5] [--drf-connections 16]
    [--drf-workers 4]]

Ordo is an in-process django.test.Client GET (every middleware, a warm API key it creates).
The floor runs the SELECTs that request ran (the API key lookup aside) on a psycopg
connection of its own and renders the same JSON with orjson (benchmarks.floor); the last
column says whether the floor's body equals Ordo's. Ordo and the floor alternate, run after
run, so a noisy machine slows both alike. The deep cursor page starts `--depth` rows in (by
default 900,000, or 90 % of a smaller store) and is compared with the first cursor page.

`--count` is sent as `count=` on the page-numbered lists (default: not sent, an exact
total). `--drf` then serves Ordo and a plain DRF app (benchmarks.plain_drf_settings) with
gunicorn, 4 workers each, and compares requests per second under wrk (benchmarks.load).
"""

import statistics
import time
from dataclasses import dataclass, field
from datetime import timedelta
from uuid import UUID

import orjson
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.db.models import Count
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from benchmarks.floor import Floor, first_difference, floor_statements
from orders.api.pagination import Cursor
from orders.models import Order, OrderStatus, Scope, Store
from orders.selectors import DEFAULT_SORT, SortKey
from orders.services import api_key_create

DEPTH = 900_000
CURSOR_PER_PAGE = 100
# The issue's ceilings for Ordo / floor (issue 12, "Targets").
TARGETS = {
    "list per_page=100 (items)": 2.5,
    "list per_page=250 include=items,fulfillments,status_history": 3.0,
}
CURSOR_TARGET = 1.2


@dataclass(frozen=True)
class Case:
    label: str
    kind: str  # the floor's body: list, order or count
    path: str
    params: dict[str, str] = field(default_factory=dict)

    @property
    def target(self) -> float | None:
        return TARGETS.get(self.label)


@dataclass(frozen=True)
class Result:
    case: Case
    ordo_ms: float
    floor_ms: float
    queries: int
    difference: str | None

    @property
    def ratio(self) -> float:
        return self.ordo_ms / self.floor_ms


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("--store", help="Default: the store with the most orders")
        parser.add_argument("--runs", type=int, default=30)
        parser.add_argument("--count", choices=["exact", "estimate", "none"])
        parser.add_argument("--depth", type=int, help=f"Default: {DEPTH:,} or 90 %% of the store")
        parser.add_argument("--drf", action="store_true", help="Compare with plain DRF (wrk)")
        parser.add_argument("--drf-rounds", type=int, default=3)
        parser.add_argument("--drf-seconds", type=int, default=5)
        parser.add_argument("--drf-connections", type=int, default=16)
        parser.add_argument("--drf-workers", type=int, default=4, help="gunicorn workers per app")

    def handle(self, *args, store, runs, count, depth, drf, **options):
        if connection.vendor != "postgresql":
            raise CommandError("benchmark_api needs PostgreSQL: the floor runs on psycopg.")
        if runs < 1:
            raise CommandError("--runs must be at least 1.")
        target, orders = self._store(store)
        self.stdout.write(
            f"{target.name} ({target.public_id}): {orders:,} orders, {runs} runs, "
            f"median ms of Ordo and its floor, interleaved"
        )
        expires = timezone.now() + timedelta(days=1)
        _, raw_key = api_key_create(
            store=target, scopes=[Scope.READ_ORDERS], name="benchmark_api", expires_at=expires
        )
        api = Client(HTTP_X_API_KEY=raw_key)
        cases, deep, first = _cases(target, orders, count=count, depth=depth)
        floor = Floor(connection.settings_dict)
        try:
            self.stdout.write(_HEADER)
            results = {}
            for case in cases:
                results[case.label] = result = _measure(api, floor, case, runs)
                self.stdout.write(_row(result))
        finally:
            floor.close()
        if deep and first:
            ratio = results[deep].ordo_ms / results[first].ordo_ms
            verdict = "ok" if ratio <= CURSOR_TARGET else "MISS"
            self.stdout.write(
                f"cursor depth / page 1 (Ordo): {ratio:.2f}x  "
                f"(target <= {CURSOR_TARGET}x: {verdict})"
            )
        if drf:
            self._drf(target, raw_key, **options)

    def _store(self, store_id: str | None) -> tuple[Store, int]:
        orders = Order.objects.values("store").annotate(n=Count("id"))
        if store_id:
            try:
                store_pk = UUID(store_id.removeprefix(Store.PUBLIC_ID_PREFIX))
            except ValueError:
                raise CommandError(f"--store {store_id}: not a store id (str_…).") from None
            orders = orders.filter(store=store_pk)
        largest = orders.order_by("-n").first()
        found = largest and Store.objects.filter(pk=largest["store"]).first()
        if not found:
            raise CommandError("No store with orders: give --store, or run seed_demo first.")
        return found, largest["n"]

    def _drf(self, store: Store, raw_key: str, **options) -> None:
        # Imported here: only --drf needs gunicorn and wrk.
        from benchmarks.load import LoadCase, compare_under_gunicorn

        order = _detail_order(store)
        endpoints = [
            LoadCase("GET /v1/orders/{id}", f"/v1/orders/{order.public_id}",
                     f"/v1/orders/{order.pk}", 1.5),
            LoadCase("GET /v1/orders/count?status=pending", "/v1/orders/count?status=pending",
                     "/v1/orders/count?status=pending", 2.0),
        ]  # fmt: skip
        connections, seconds = options["drf_connections"], options["drf_seconds"]
        self.stdout.write(
            f"\ngunicorn, {options['drf_workers']} workers each; wrk -t2 -c{connections} "
            f"-d{seconds}s, {options['drf_rounds']} interleaved rounds: median requests per second"
        )
        self.stdout.write(f"{'endpoint':<40}{'Ordo':>10}{'plain DRF':>11}{'ratio':>8}  target")
        try:
            rows = compare_under_gunicorn(
                database=connection.settings_dict,
                raw_key=raw_key,
                cases=endpoints,
                rounds=options["drf_rounds"],
                seconds=seconds,
                connections=connections,
                workers=options["drf_workers"],
            )
        except RuntimeError as error:
            raise CommandError(str(error)) from None
        for row in rows:
            verdict = "ok" if row.ratio >= row.case.target else "MISS"
            self.stdout.write(
                f"{row.case.label:<40}{row.ordo:>10.1f}{row.plain:>11.1f}{row.ratio:>7.2f}x"
                f"  >= {row.case.target}x {verdict}"
            )


def _detail_order(store: Store) -> Order:
    """A recent shipped order (it has a fulfillment to render), else the newest."""
    orders = Order.objects.filter(store=store).order_by("-created_at")
    return orders.filter(status=OrderStatus.SHIPPED).first() or orders.first()


def _cases(store: Store, orders: int, *, count: str | None, depth: int | None):
    """The cases, and the labels of the deep and the first cursor page (None without)."""
    counted = {"count": count} if count else {}
    cases = []
    # include= (nothing), then no include parameter: the default, items.
    for include, shown in [({"include": ""}, "include="), ({}, "(items)")]:
        for per_page in (25, 100, 250):
            params = {"per_page": str(per_page), **include, **counted}
            cases.append(Case(f"list per_page={per_page} {shown}", "list", "/v1/orders", params))
    everything = "items,fulfillments,status_history"
    params = {"per_page": "250", "include": everything, **counted}
    cases.append(Case(f"list per_page=250 include={everything}", "list", "/v1/orders", params))
    order = _detail_order(store)
    cases += [
        Case("order GET /v1/orders/{id}", "order", f"/v1/orders/{order.public_id}"),
        Case("count status=pending", "count", "/v1/orders/count", {"status": "pending"}),
        Case("count (unfiltered)", "count", "/v1/orders/count"),
    ]
    depth = depth or min(DEPTH, orders * 9 // 10)
    if orders < 2 or depth < 1:
        return cases, None, None
    first, deep = (
        Case(
            f"cursor {where} per_page={CURSOR_PER_PAGE} (items)",
            "list",
            "/v1/orders",
            {"per_page": str(CURSOR_PER_PAGE), "cursor": _cursor_at(store, rows)},
        )
        for where, rows in [("page 1", 1), (f"depth {depth:,}", depth)]
    )
    return [*cases, first, deep], deep.label, first.label


def _cursor_at(store: Store, depth: int) -> str:
    """The cursor a client holds after reading `depth` orders in the default sort: the
    depth-th row's sort values, read with one query (no walk through the pages before)."""
    sort = SortKey(DEFAULT_SORT)
    columns = [column for column, _ in sort.with_tiebreak()]
    ordered = Order.objects.filter(store=store).order_by(*sort.order_by())
    values = ordered.values_list(*columns)[depth - 1 : depth].get()
    return Cursor(sort.label, list(values)).encode()


def _measure(api: Client, floor: Floor, case: Case, runs: int) -> Result:
    """Warm both, capture the statements of one warm request, then `runs` interleaved runs."""
    api.get(case.path, case.params)  # a warm key, warm connections and caches
    with CaptureQueriesContext(connection) as captured:
        response = api.get(case.path, case.params)
    if response.status_code != 200:
        raise CommandError(f"{case.label}: HTTP {response.status_code} {response.content[:300]}")
    # Read now: the next request's request_started signal empties the connection's log.
    queries = len(captured.captured_queries)
    statements = floor_statements(captured.captured_queries)
    template = orjson.loads(response.content)
    try:
        difference = first_difference(response.content, floor.body(case.kind, statements, template))
    except KeyError as missing:
        raise CommandError(f"{case.label}: the floor needs column {missing}") from None
    ordo, floors = [], []
    for _ in range(runs):
        started = time.perf_counter()
        api.get(case.path, case.params)
        ordo.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        floor.body(case.kind, statements, template)
        floors.append((time.perf_counter() - started) * 1000)
    return Result(
        case=case,
        ordo_ms=statistics.median(ordo),
        floor_ms=statistics.median(floors),
        queries=queries,
        difference=difference,
    )


_HEADER = (
    f"{'case':<62}{'Ordo ms':>9}{'floor ms':>10}{'ratio':>8}{'target':>13}{'queries':>9}"
    "  floor body"
)


def _row(result: Result) -> str:
    target = result.case.target
    verdict = ""
    if target:
        verdict = f"<={target}x " + ("ok" if result.ratio <= target else "MISS")
    same = "same as Ordo" if result.difference is None else f"differs at {result.difference}"
    return (
        f"{result.case.label:<62}{result.ordo_ms:>9.2f}{result.floor_ms:>10.2f}"
        f"{result.ratio:>7.2f}x{verdict:>13}{result.queries:>9}  {same}"
    )
