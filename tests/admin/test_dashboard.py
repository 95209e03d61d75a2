"""The admin index: the dashboard of one of the user's stores (orders per status, the
last 30 store-local days' orders and net sales as an SVG chart, the latest orders)."""

import html
import re
from datetime import date, timedelta
from decimal import Decimal
from itertools import pairwise

import pytest
from django.utils import timezone

from backoffice.dashboard import nice_ceiling, sales_chart
from orders.models import OrderStatus
from orders.selectors import DailySales
from tests.factories import make_order, staff_client
from tests.helpers import LOS_ANGELES, at, local

pytestmark = pytest.mark.django_db


def status_links(body: str) -> dict[str, tuple[str, str]]:
    """{status: (count as shown, link)} of the dashboard's "Orders by status"."""
    found = re.findall(
        r'<a href="([^"]+)"><span class="ordo-badge ordo-badge--(\w+)">[^<]*</span>\s*'
        r'<strong data-status-count="\w+"[^>]*>([^<]*)</strong>',
        body,
    )
    return {status: (count, html.unescape(link)) for link, status, count in found}


def latest_numbers(body: str) -> list[int]:
    section = re.search(r'<div class="module ordo-latest">.*?</table>', body, re.S).group(0)
    return [int(number) for number in re.findall(r">#(\d+)</a>", section)]


# --- orders per status ----------------------------------------------------------------------


def test_the_dashboard_counts_the_stores_orders_per_status(store, other_store):
    for status, count in {"pending": 2, "confirmed": 1, "shipped": 1, "cancelled": 3}.items():
        for _ in range(count):
            make_order(store=store, status=status)
    make_order(store=other_store, status="pending")
    client = staff_client(store)

    body = client.get("/admin/").content.decode()

    counts = {status: shown for status, (shown, _) in status_links(body).items()}
    assert counts == {
        "pending": "2", "confirmed": "1", "processing": "0", "shipped": "1", "delivered": "0",
        "completed": "0", "cancelled": "3", "returned": "0", "voided": "0",
    }  # fmt: skip


def test_each_status_count_links_to_the_list_of_those_orders(store):
    shipped = [make_order(store=store, status="shipped") for _ in range(2)]
    make_order(store=store, status="pending")
    client = staff_client(store)

    links = status_links(client.get("/admin/").content.decode())

    assert {status: link for status, (_, link) in links.items()} == {
        status: f"/admin/orders/order/?status__exact={status}" for status in OrderStatus.values
    }
    listed = client.get(links["shipped"][1]).context["cl"].result_list
    assert {order.pk for order in listed} == {order.pk for order in shipped}


# --- the last 30 days -----------------------------------------------------------------------


def test_the_last_30_days_count_orders_and_net_sales_per_store_day(los_angeles, other_store):
    today = timezone.localdate(timezone=LOS_ANGELES)
    first_day = today - timedelta(days=29)
    day = today - timedelta(days=3)
    # 17:30 in Los Angeles is already the next day in UTC: it counts on `day`.
    make_order(store=los_angeles, created_at=local(day, 17, 30), total=Decimal("53.20"))
    make_order(store=los_angeles, created_at=local(day, 23, 59, 59), status="cancelled")
    make_order(
        store=los_angeles, created_at=local(day + timedelta(days=1), 0), total=Decimal("100.00"),
        refunded_amount=Decimal("30.00"), payment_status="partially_refunded",
    )  # fmt: skip
    make_order(store=los_angeles, created_at=local(first_day, 0), status="voided")
    make_order(store=los_angeles, created_at=local(first_day, 0) - timedelta(seconds=1))
    make_order(store=los_angeles, created_at=local(today, 0, 5), total=Decimal("15.00"))
    make_order(store=other_store, created_at=local(day, 12), total=Decimal("999.00"))
    client = staff_client(los_angeles)

    response = client.get("/admin/")

    days = response.context["dashboard"].days
    assert [figures.day for figures in days] == [first_day + timedelta(days=n) for n in range(30)]
    assert {f.day: (f.orders, f.net_sales) for f in days if f.orders} == {
        first_day: (1, Decimal("0.00")),
        day: (2, Decimal("53.20")),
        day + timedelta(days=1): (1, Decimal("70.00")),
        today: (1, Decimal("15.00")),
    }
    body = response.content.decode()
    assert "Last 30 days: 5 orders, 138.20 USD net sales" in body
    assert (
        f"<tr><td>{day:%a} {day.day} {day:%b} {day.year}</td><td>2</td><td>53.20</td></tr>" in body
    )


def test_the_chart_draws_a_bar_for_each_of_the_30_days(store):
    make_order(store=store, total=Decimal("12.00"))
    client = staff_client(store)

    body = client.get("/admin/").content.decode()

    assert body.count('<svg class="ordo-chart"') == 1
    assert body.count('<rect class="ordo-chart__bar"') == 30
    assert body.count('<polyline class="ordo-chart__line"') == 1


# --- the latest orders ----------------------------------------------------------------------


def test_the_latest_ten_orders_are_shown_newest_first(store, other_store):
    start = at(2026, 3, 1, 12)
    orders = [make_order(store=store, created_at=start + timedelta(hours=n)) for n in range(12)]
    make_order(store=other_store, created_at=start + timedelta(days=1))
    client = staff_client(store)

    response = client.get("/admin/")

    newest_first = [order.order_number for order in reversed(orders)][:10]
    assert [order.order_number for order in response.context["dashboard"].latest] == newest_first
    assert latest_numbers(response.content.decode()) == newest_first


def test_a_store_without_orders_says_so(store):
    body = staff_client(store).get("/admin/").content.decode()

    assert "No orders yet." in body
    assert "Last 30 days: 0 orders, 0.00 USD net sales" in body


# --- which store ----------------------------------------------------------------------------


def test_a_member_of_two_stores_sees_the_first_by_name_and_a_store_switch(store, other_store):
    client = staff_client(other_store, store)

    response = client.get("/admin/")

    assert response.context["dashboard"].store == store
    options = re.findall(
        r'<option value="(str_[^"]+)"( selected)?>([^<]+)</option>', response.content.decode()
    )
    assert options == [
        (store.public_id, " selected", "Acme Outfitters"),
        (other_store.public_id, "", "Other Store"),
    ]


def test_the_store_parameter_picks_the_other_store(store, other_store):
    make_order(store=store, status="pending")
    theirs = make_order(store=other_store, status="confirmed")
    client = staff_client(store, other_store)

    response = client.get("/admin/", {"store": other_store.public_id})

    board = response.context["dashboard"]
    assert board.store == other_store
    assert [order.pk for order in board.latest] == [theirs.pk]
    links = status_links(response.content.decode())
    assert links["confirmed"] == (
        "1",
        f"/admin/orders/order/?store={other_store.pk}&status__exact=confirmed",
    )
    listed = client.get(links["confirmed"][1]).context["cl"].result_list
    assert [order.pk for order in listed] == [theirs.pk]


def test_a_member_of_one_store_sees_no_store_switch(store):
    body = staff_client(store).get("/admin/").content.decode()

    assert 'id="dashboard-store"' not in body


def test_a_staff_member_without_a_store_is_told_so(store):
    client = staff_client(username="nobody@x.example")

    response = client.get("/admin/")

    assert response.status_code == 200
    assert response.context.get("dashboard") is None
    assert "You do not work for any store yet" in response.content.decode()


# --- the chart's arithmetic -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "ceiling"),
    [
        (0, 1), (0.4, 1), (1, 1), (1.01, 2), (2, 2), (2.2, 2.5), (2.5, 2.5), (3, 5), (5, 5),
        (7, 10), (9.99, 10), (10, 10), (11, 20), (25, 25), (26, 50), (53.2, 100),
        (99.99, 100), (100, 100), (101, 200), (250, 250), (4999, 5000), (5001, 10000),
        (123456, 200000),
    ],
)  # fmt: skip
def test_nice_ceiling_is_the_smallest_round_number_at_or_above_the_value(value, ceiling):
    assert nice_ceiling(value) == ceiling


def days_with(sales: dict[int, str], orders: dict[int, int] | None = None) -> list[DailySales]:
    first = date(2026, 3, 1)
    orders = orders or {}
    return [
        DailySales(first + timedelta(days=n), orders.get(n, 0), Decimal(sales.get(n, "0.00")))
        for n in range(30)
    ]


def test_the_tallest_bar_reaches_the_top_of_the_axis_when_its_value_is_round():
    chart = sales_chart(days_with({3: "500.00", 10: "250.00"}, orders={3: 5, 10: 1}))

    tallest, half = chart.bars[3], chart.bars[10]
    plot_height = chart.plot_bottom - chart.plot_top
    assert (tallest.y, tallest.height) == (chart.plot_top, plot_height)
    assert (half.y, half.height) == (chart.plot_bottom - plot_height / 2, plot_height / 2)
    assert [tick.text for tick in chart.sales_ticks] == ["0", "250", "500"]
    assert [tick.text for tick in chart.orders_ticks] == ["0", "2.5", "5"]
    assert [tick.y for tick in chart.sales_ticks] == [chart.plot_bottom, 112.0, chart.plot_top]


def test_every_bar_lies_inside_the_plot():
    chart = sales_chart(days_with({n: f"{n * 37.5:.2f}" for n in range(30)}))

    assert len(chart.bars) == 30
    for bar in chart.bars:
        assert chart.plot_left <= bar.x
        assert bar.x + bar.width <= chart.plot_right
        assert chart.plot_top <= bar.y <= chart.plot_bottom
        assert bar.y + bar.height == pytest.approx(chart.plot_bottom, abs=0.1)
    assert [bar.x for bar in chart.bars] == sorted(bar.x for bar in chart.bars)
    assert all(left.x + left.width < right.x for left, right in pairwise(chart.bars))


def test_a_day_without_sales_has_a_flat_bar_on_the_axis():
    chart = sales_chart(days_with({}))

    assert {(bar.y, bar.height) for bar in chart.bars} == {(chart.plot_bottom, 0)}
    assert [tick.text for tick in chart.sales_ticks] == ["0", "0.5", "1"]


def test_the_orders_line_has_a_point_per_day_and_peaks_at_the_top():
    chart = sales_chart(days_with({}, orders={0: 2, 29: 10}))

    points = [tuple(map(float, point.split(","))) for point in chart.orders_line.split()]
    assert len(points) == 30
    assert points[29][1] == chart.plot_top
    assert points[0][1] == chart.plot_bottom - (chart.plot_bottom - chart.plot_top) * 2 / 10
    assert all(chart.plot_left < x < chart.plot_right for x, _ in points)


def test_every_fifth_day_and_the_last_are_labelled():
    chart = sales_chart(days_with({}))

    assert [label.text for label in chart.day_labels] == [
        "Mar 1", "Mar 6", "Mar 11", "Mar 16", "Mar 21", "Mar 26", "Mar 30",
    ]  # fmt: skip


def test_axis_labels_of_big_sales_are_written_out_in_full():
    # A yen or won store sells a million a day without being big.
    chart = sales_chart(days_with({0: "999999.00"}, orders={0: 3}))

    assert [tick.text for tick in chart.sales_ticks] == ["0", "500,000", "1,000,000"]
