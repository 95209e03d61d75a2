"""The order list's "Move the selected orders to a status…" action: a form first, then each
order through order_transition on its own, and a page saying which moved and which were
refused, and why."""

import re

import pytest
from django.contrib.admin.models import LogEntry

from backoffice.admin import order_bulk
from orders.models import Order, Variant
from tests.factories import make_order, make_variant
from tests.helpers import last_change, messages_of, stock_of

pytestmark = pytest.mark.django_db

LIST_URL = "/admin/orders/order/"


def choose(browser, orders, *, path=LIST_URL, select_across=False, **extra):
    """Tick `orders` on the list and pick the action, as the list page posts it."""
    return browser.post(
        path,
        {
            "action": "move_to_status",
            "index": "0",
            "select_across": "1" if select_across else "0",
            "_selected_action": [str(order.pk) for order in orders],
            **extra,
        },
        follow=True,
    )


def apply(browser, orders, to_status, reason="", *, path=LIST_URL, select_across=False):
    """Submit the action's form, as its page posts it."""
    return browser.post(
        path,
        {
            "action": "move_to_status",
            "select_across": "1" if select_across else "0",
            "_selected_action": [str(order.pk) for order in orders],
            "to_status": to_status,
            "reason": reason,
            "apply": "1",
        },
        follow=True,
    )


def shown_template(response) -> str:
    return response.templates[0].name


def outcomes(response) -> list[tuple[int, str, str]]:
    """(order number, status it was in, outcome) for each row of #bulk-outcomes."""
    table = re.search(
        r'<table class="ordo-table" id="bulk-outcomes">(.*?)</table>',
        response.content.decode(),
        re.S,
    ).group(1)
    rows = re.findall(
        r'<tr class="ordo-(?:moved|refused)">\s*<td><a href="[^"]*">#(\d+)</a></td>\s*'
        r"<td>(\w+)</td>\s*<td>(.*?)</td>",
        table,
        re.S,
    )
    return [(int(number), was, outcome) for number, was, outcome in rows]


def offered_statuses(response) -> list[str]:
    select = re.search(
        r'<select name="to_status"[^>]*>(.*?)</select>', response.content.decode(), re.S
    ).group(1)
    return re.findall(r'<option value="([a-z_]*)"', select)


def state() -> dict:
    """Every order's status, payment, updated_at and history rows; every variant's stock;
    the admin log."""
    return {
        "admin_log": LogEntry.objects.count(),
        "orders": {
            o.pk: (o.status, o.payment_status, o.updated_at, Order.history.filter(id=o.pk).count())
            for o in Order.objects.all()
        },
        "stock": dict(Variant.objects.values_list("pk", "stock")),
    }


def state_of(order) -> tuple:
    return state()["orders"][order.pk]


def status_of(order) -> str:
    return Order.objects.get(pk=order.pk).status


def test_choosing_the_action_shows_its_form_and_changes_nothing(store, browser):
    orders = [make_order(store=store) for _ in range(2)] + [
        make_order(store=store, status="completed")
    ]
    before = state()

    response = choose(browser, orders)

    assert response.status_code == 200
    assert shown_template(response) == "admin/orders/order/bulk_status.html"
    body = response.content.decode()
    assert "#1001 — Walk-in Customer — Pending" in body
    assert "#1003 — Walk-in Customer — Completed" in body
    assert state() == before


def test_shipping_and_voiding_are_not_offered(store, browser):
    response = choose(browser, [make_order(store=store, status="processing")])

    # Nor is pending, which no status leads back to.
    assert offered_statuses(response) == [
        "", "confirmed", "processing", "delivered", "completed", "cancelled", "returned",
    ]  # fmt: skip


def test_pending_orders_are_confirmed_and_a_completed_one_is_refused_with_the_reason(
    store, browser
):
    first, second = make_order(store=store), make_order(store=store)
    completed = make_order(store=store, status="completed")
    completed_before = state_of(completed)

    response = apply(browser, [first, second, completed], "confirmed", "Payment verified")

    assert response.status_code == 200
    assert outcomes(response) == [
        (1001, "Pending", "Moved to Confirmed"),
        (1002, "Pending", "Moved to Confirmed"),
        (
            1003,
            "Completed",
            "Refused: An order cannot go from &#x27;completed&#x27; to &#x27;confirmed&#x27;. "
            "Allowed next: returned.",
        ),
    ]
    assert messages_of(response) == [
        ("warning", "2 of 3 order(s) moved to Confirmed; 1 refused (see below).")
    ]
    for order in (first, second):
        change = last_change(order)
        assert (change.from_status, change.to_status) == ("pending", "confirmed")
        assert (change.changed_by, change.reason) == ("ana", "Payment verified")
        order.refresh_from_db()
        assert order.confirmed_at == order.updated_at
    assert state_of(completed) == completed_before


def test_when_every_order_moves_the_message_is_a_success(store, browser):
    orders = [make_order(store=store, status="confirmed") for _ in range(2)]

    response = apply(browser, orders, "processing")

    assert [status_of(order) for order in orders] == ["processing", "processing"]
    assert messages_of(response) == [
        ("success", "2 of 2 order(s) moved to Processing; 0 refused (see below).")
    ]


def test_cancelling_refuses_the_paid_order_with_refund_first_and_releases_the_others_stock(
    store, browser
):
    variant = make_variant(store=store, stock=5)
    unpaid = make_order(store=store)
    paid = make_order(store=store, status="confirmed", payment_status="paid")
    # Each order's line took its unit off the variant when it was placed.
    Order.objects.get(pk=unpaid.pk).items.update(variant=variant, stock_reserved=True)
    Order.objects.get(pk=paid.pk).items.update(variant=variant, stock_reserved=True)
    paid_before = state_of(paid)

    response = apply(browser, [unpaid, paid], "cancelled", "Supplier out of stock")

    assert outcomes(response) == [
        (1001, "Pending", "Moved to Cancelled"),
        (
            1002,
            "Confirmed",
            "Refused: Order #1002 is paid: refund the payment before cancelling it.",
        ),
    ]
    assert status_of(unpaid) == "cancelled"
    assert (last_change(unpaid).changed_by, last_change(unpaid).reason) == (
        "ana",
        "Supplier out of stock",
    )
    assert stock_of(variant) == 6  # only the cancelled order's unit
    assert state_of(paid) == paid_before


def test_an_order_already_in_the_status_is_left_as_it_is(store, browser):
    confirmed = make_order(store=store, status="confirmed")
    before = state()

    response = apply(browser, [confirmed], "confirmed")

    assert outcomes(response) == [(1001, "Confirmed", "Refused: Already Confirmed.")]
    assert state() == before


def test_cancelling_without_a_reason_shows_the_form_again_and_changes_nothing(store, browser):
    orders = [make_order(store=store) for _ in range(2)]
    before = state()

    response = apply(browser, orders, "cancelled", "   ")

    assert shown_template(response) == "admin/orders/order/bulk_status.html"
    assert "Say why the orders are cancelled." in response.content.decode()
    assert state() == before


def test_shipping_posted_anyway_is_refused_and_changes_nothing(store, browser):
    orders = [make_order(store=store, status="processing") for _ in range(2)]
    before = state()

    response = apply(browser, orders, "shipped", "All out")

    assert shown_template(response) == "admin/orders/order/bulk_status.html"
    assert (
        "Select a valid choice. shipped is not one of the available choices."
        in response.content.decode()
    )
    assert state() == before


def test_select_across_moves_every_order_of_the_filtered_list(store, browser):
    pending = [make_order(store=store) for _ in range(3)]
    confirmed = make_order(store=store, status="confirmed")
    filtered = f"{LIST_URL}?status__exact=pending"
    confirmed_before = state_of(confirmed)

    # The page's checkboxes post only the visible rows; select_across means all of them.
    form = choose(browser, pending[:1], path=filtered, select_across=True)
    response = apply(browser, pending[:1], "confirmed", "Batch", path=filtered, select_across=True)

    assert "The 3 order(s)" in form.content.decode()
    assert outcomes(response) == [
        (1001, "Pending", "Moved to Confirmed"),
        (1002, "Pending", "Moved to Confirmed"),
        (1003, "Pending", "Moved to Confirmed"),
    ]
    assert [status_of(order) for order in pending] == ["confirmed"] * 3
    assert state_of(confirmed) == confirmed_before


@pytest.mark.parametrize("step", [choose, apply], ids=["choosing", "applying"])
def test_more_orders_than_the_limit_are_refused_and_nothing_changes(
    store, browser, monkeypatch, step
):
    monkeypatch.setattr(order_bulk, "BULK_LIMIT", 2)
    orders = [make_order(store=store) for _ in range(3)]
    before = state()

    if step is choose:
        response = choose(browser, orders)
    else:
        response = apply(browser, orders, "confirmed", "Batch")

    assert response.status_code == 200
    assert messages_of(response) == [
        ("error", "Select at most 2 orders at a time (filter the list first).")
    ]
    assert state() == before


def test_exactly_the_limit_is_allowed(store, browser, monkeypatch):
    monkeypatch.setattr(order_bulk, "BULK_LIMIT", 2)
    orders = [make_order(store=store) for _ in range(2)]

    apply(browser, orders, "confirmed", "Batch")

    assert [status_of(order) for order in orders] == ["confirmed", "confirmed"]


def test_another_stores_orders_cannot_be_moved_by_their_ids(store, other_store, browser):
    own = make_order(store=store)
    foreign = make_order(store=other_store)
    foreign_before = state_of(foreign)

    response = apply(browser, [own, foreign], "confirmed", "Batch")

    assert outcomes(response) == [(1001, "Pending", "Moved to Confirmed")]
    assert status_of(own) == "confirmed"
    assert state_of(foreign) == foreign_before
