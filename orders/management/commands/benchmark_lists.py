"""Time the order list (API and admin) and the admin's other pages on the largest store:
prints median milliseconds, then the CSV export's rows, time and peak memory.

python manage.py benchmark_lists [--store str_…] [--runs 5] [--export-rows 100000]
"""

import statistics
import time
import tracemalloc

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count
from django.test import Client

from orders.models import Order, Scope, Store, StoreMembership
from orders.services import api_key_create

API_CASES = [
    ("newest page", {}),
    ("per_page=250 every include",
     {"per_page": 250, "include": "items,fulfillments,status_history,notes,refunds"}),
    ("status=pending,confirmed", {"status": "pending,confirmed"}),
    ("search by name", {"q": "jane"}),
    ("search by name count=estimate", {"q": "jane", "count": "estimate"}),
    ("date range + total range",
     {"date_from": "2026-01-01", "date_to": "2026-01-31", "min_total": "50", "max_total": "500"}),
    ("sort=-total", {"sort": "-total"}),
    ("page 2000", {"page": 2000}),
]  # fmt: skip
ADMIN_CASES = [
    ("order list", "/admin/orders/order/", {}),
    ("status filter", "/admin/orders/order/", {"status__exact": "processing"}),
    ("search", "/admin/orders/order/", {"q": "jane"}),
    ("search order number", "/admin/orders/order/", {"q": "1042"}),
    ("date drill-down (a year)", "/admin/orders/order/", {"created_at__year": "2026"}),
    ("country filter", "/admin/orders/order/", {"country": "US"}),
    ("dashboard", "/admin/", {}),
    ("notes list", "/admin/notes/ordernote/", {}),
    ("refunds list", "/admin/refunds/refund/", {}),
]


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("--store", help="Default: the store with the most orders")
        parser.add_argument("--runs", type=int, default=5)
        parser.add_argument(
            "--export-rows", type=int, default=100_000, help="Orders in the CSV export timed."
        )

    def handle(self, *args, store: str | None, runs: int, export_rows: int, **options):
        target = self._store(store)
        orders = Order.objects.filter(store=target).count()
        self.stdout.write(f"{target.name} ({target.public_id}): {orders:,} orders, {runs} runs")

        _, raw_key = api_key_create(store=target, scopes=[Scope.READ_ORDERS], name="benchmark")
        api = Client(HTTP_X_API_KEY=raw_key)
        for label, params in API_CASES:
            self._report(f"API   {label}", lambda p=params: api.get("/v1/orders", p), runs)

        user, _ = get_user_model().objects.get_or_create(
            username="benchmark-staff", defaults={"is_staff": True}
        )
        StoreMembership.objects.get_or_create(store=target, user=user)
        admin = Client()
        admin.force_login(user)
        for label, url, params in ADMIN_CASES:
            self._report(f"admin {label}", lambda u=url, p=params: admin.get(u, p), runs)
        newest = Order.objects.filter(store=target).order_by("-created_at").first()
        if newest is not None:
            page = f"/admin/orders/order/{newest.pk}/change/"
            self._report("admin order page", lambda: admin.get(page), runs)
            self._export(admin, target, export_rows)

    def _store(self, store_id: str | None) -> Store:
        if store_id:
            found = Store.objects.filter(pk=store_id.removeprefix(Store.PUBLIC_ID_PREFIX)).first()
        else:
            largest = Order.objects.values("store").annotate(n=Count("id")).order_by("-n")[:1]
            found = Store.objects.filter(pk__in=[row["store"] for row in largest]).first()
        if found is None:
            raise CommandError("No store to benchmark: give --store, or run seed_demo first.")
        return found

    def _export(self, admin: Client, store: Store, rows: int) -> None:
        """Export the newest `rows` orders (a created_at drill-down day range would be
        uneven, so the list is cut at the created_at of the rows-th newest order)."""
        cutoff = (
            Order.objects.filter(store=store)
            .order_by("-created_at")
            .values_list("created_at", flat=True)[rows - 1 : rows]
            .first()
        )
        params = {"created_at__gte": cutoff.isoformat()} if cutoff else {}

        def export() -> int:
            response = admin.get("/admin/orders/order/export/", params)
            return sum(chunk.count(b"\n") for chunk in response.streaming_content) - 1

        started = time.perf_counter()
        lines = export()
        seconds = time.perf_counter() - started
        # Memory in a second pass: tracing every allocation would slow the timed one.
        tracemalloc.start()
        export()
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        self.stdout.write(
            f"{'admin CSV export':<40} {lines:,} rows in {seconds:.1f} s, "
            f"peak Python memory {peak / 1_000_000:.1f} MB"
        )

    def _report(self, label: str, call, runs: int) -> None:
        call()  # warm caches and connections
        timings = []
        for _ in range(runs):
            started = time.perf_counter()
            response = call()
            timings.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                raise CommandError(f"{label}: HTTP {response.status_code}")
        self.stdout.write(
            f"{label:<40} median {statistics.median(timings):8.1f} ms   max {max(timings):8.1f} ms"
        )
