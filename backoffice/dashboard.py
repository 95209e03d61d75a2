"""The admin index's dashboard: orders per status, the last 30 days' sales drawn as a
server-rendered SVG chart, and the latest orders. One store at a time (figures in two
currencies do not add up)."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from urllib.parse import urlencode

from django.urls import reverse

from orders.models import Order, OrderStatus, Store
from orders.selectors import (
    DailySales,
    daily_sales,
    latest_orders,
    order_status_counts,
)

DAYS = 30


@dataclass(frozen=True)
class StatusCount:
    status: str
    label: str
    count: int
    url: str


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    figures: DailySales


@dataclass(frozen=True)
class AxisLabel:
    x: float
    y: float
    text: str


@dataclass(frozen=True)
class SalesChart:
    """Net sales per day as bars (left axis), orders per day as a line (right axis)."""

    width: int
    height: int
    plot_left: int
    plot_right: int
    plot_top: int
    plot_bottom: int
    bars: list[Bar]
    orders_line: str  # SVG polyline points
    sales_ticks: list[AxisLabel]
    orders_ticks: list[AxisLabel]
    day_labels: list[AxisLabel]


@dataclass(frozen=True)
class Dashboard:
    store: Store
    stores: list[Store]
    status_counts: list[StatusCount]
    days: list[DailySales]
    chart: SalesChart
    latest: list[Order]

    @property
    def orders_in_period(self) -> int:
        return sum(day.orders for day in self.days)

    @property
    def net_sales_in_period(self) -> Decimal:
        return sum((day.net_sales for day in self.days), Decimal("0.00"))


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 × 10^k at or above `value` (at least 1): an axis top
    that reads well."""
    if value <= 1:
        return 1
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def sales_chart(days: list[DailySales], *, width: int = 720, height: int = 240) -> SalesChart:
    left, right, top, bottom = 64, width - 44, 12, height - 28
    plot_width, plot_height = right - left, bottom - top
    slot = plot_width / max(len(days), 1)
    top_sales = nice_ceiling(float(max((day.net_sales for day in days), default=0)))
    top_orders = nice_ceiling(max((day.orders for day in days), default=0))

    def y_of(value: float, axis_top: float) -> float:
        return round(bottom - plot_height * value / axis_top, 1)

    bars = []
    points = []
    for index, day in enumerate(days):
        y = y_of(float(day.net_sales), top_sales)
        bars.append(
            Bar(x=round(left + index * slot + slot * 0.15, 1), y=y, width=round(slot * 0.7, 1),
                height=round(bottom - y, 1), figures=day)
        )  # fmt: skip
        points.append(f"{round(left + (index + 0.5) * slot, 1)},{y_of(day.orders, top_orders)}")
    fractions = (0, 0.5, 1)
    return SalesChart(
        width=width,
        height=height,
        plot_left=left,
        plot_right=right,
        plot_top=top,
        plot_bottom=bottom,
        bars=bars,
        orders_line=" ".join(points),
        sales_ticks=[
            AxisLabel(left - 6, y_of(top_sales * f, top_sales), f"{top_sales * f:,.12g}")
            for f in fractions
        ],
        orders_ticks=[
            AxisLabel(right + 6, y_of(top_orders * f, top_orders), f"{top_orders * f:,.12g}")
            for f in fractions
        ],
        day_labels=[
            AxisLabel(
                round(left + (index + 0.5) * slot, 1), height - 8, f"{day.day:%b} {day.day.day}"
            )
            for index, day in enumerate(days)
            if index % 5 == 0 or index == len(days) - 1
        ],
    )


def dashboard(*, store: Store, stores: list[Store], today: date) -> Dashboard:
    """The dashboard of `store` (one the user works for), `today` being the store's date."""
    order_list = reverse("admin:orders_order_changelist")
    # People with several stores see the list filtered to this one (StoreFilter's parameter).
    in_store = {"store": str(store.pk)} if len(stores) > 1 else {}
    counts = order_status_counts(store=store)
    days = daily_sales(store=store, days=DAYS, today=today)
    return Dashboard(
        store=store,
        stores=stores,
        status_counts=[
            StatusCount(
                status=status,
                label=OrderStatus(status).label,
                count=count,
                url=f"{order_list}?{urlencode({**in_store, 'status__exact': status})}",
            )
            for status, count in counts.items()
        ],
        days=days,
        chart=sales_chart(days),
        latest=list(latest_orders(store=store, limit=10)),
    )
