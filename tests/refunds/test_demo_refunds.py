"""Seeded refunded orders carry the refunds that gave the money back (refunds/demo.py): what
the order says was refunded, its Refund and RefundLine rows say too, through the API and the
admin as well. Run on PostgreSQL this goes through the COPY loader, on SQLite through the
ORM loader."""

from collections import defaultdict
from decimal import ROUND_FLOOR, Decimal

import pytest
from django.db import connection

from orders import demo
from orders.models import Fulfillment, LineItem, Order, PaymentStatus
from refunds.models import Refund, RefundLine
from refunds.services import refund_quote
from tests.factories import make_api_key, staff_client
from tests.helpers import api_client, indexes_and_constraints

pytestmark = pytest.mark.django_db

# Enough orders, at this seed, for refunds of every kind: full, one line of several, goodwill.
ORDERS = 400
SEED = 11
REFUNDED = {PaymentStatus.REFUNDED, PaymentStatus.PARTIALLY_REFUNDED}
HISTORY = Order.history.model
CENT = Decimal("0.01")


@pytest.fixture
def seeded():
    (seeded,) = demo.demo_stores_create(stores=1, orders_per_store=ORDERS, seed=SEED)
    return seeded.store


def _refunds_by_order(store) -> dict:
    refunds = defaultdict(list)
    for refund in Refund.objects.filter(store=store).prefetch_related("lines"):
        refunds[refund.order_id].append(refund)
    return refunds


def _items_by_order(store) -> dict:
    items = defaultdict(list)
    for item in LineItem.objects.filter(store=store):
        items[item.order_id].append(item)
    return items


def test_a_seed_has_full_line_and_goodwill_refunds(seeded):
    orders = Order.objects.filter(store=seeded)
    items = _items_by_order(seeded)
    refunded = orders.filter(payment_status=PaymentStatus.REFUNDED)
    partial = list(orders.filter(payment_status=PaymentStatus.PARTIALLY_REFUNDED))

    assert refunded.count() >= 5
    assert sum(len(items[order.pk]) > 1 for order in partial) >= 2
    assert sum(len(items[order.pk]) == 1 for order in partial) >= 2


def test_every_refunded_order_has_refunds_adding_up_to_its_refunded_amount(seeded):
    refunds = _refunds_by_order(seeded)
    orders = list(Order.objects.filter(store=seeded))

    for order in orders:
        if order.payment_status in REFUNDED:
            assert len(refunds[order.pk]) == 1, order.order_number
            assert sum(r.amount for r in refunds[order.pk]) == order.refunded_amount
        else:
            assert refunds[order.pk] == [], order.order_number
    assert Refund.objects.filter(store=seeded).count() == sum(
        order.payment_status in REFUNDED for order in orders
    )


def test_each_line_refunded_quantity_is_the_quantity_of_its_refund_lines(seeded):
    refunded_units = defaultdict(int)
    for line in RefundLine.objects.filter(store=seeded):
        refunded_units[line.line_item_id] += line.quantity

    items = LineItem.objects.filter(store=seeded)
    assert items.filter(refunded_quantity__gt=0).exists()
    for item in items:
        assert item.refunded_quantity == refunded_units[item.pk], item.pk


def test_refunds_record_what_each_kind_of_refund_gave_back(seeded):
    refunds = _refunds_by_order(seeded)
    items = _items_by_order(seeded)

    for order in Order.objects.filter(store=seeded, payment_status__in=REFUNDED):
        (refund,) = refunds[order.pk]
        lines = {line.line_item_id: line for line in refund.lines.all()}
        order_items = {item.pk: item for item in items[order.pk]}
        assert set(lines) <= set(order_items)
        for line in lines.values():
            item = order_items[line.line_item_id]
            assert line.quantity == item.quantity
            assert line.amount == item.unit_price * item.quantity
            assert line.tax_amount == item.tax_amount
            assert line.restocked is False
        assert (refund.status, refund.inventory_restored) == ("processed", False)
        assert 0 < refund.amount
        assert 0 <= refund.shipping_amount <= refund.amount
        if order.payment_status == PaymentStatus.REFUNDED:
            assert set(lines) == set(order_items)
            assert refund.amount == order.total
            assert refund.shipping_amount == order.shipping_cost
        elif len(order_items) > 1:
            # The first line given back: its share of what was paid for the goods.
            (line,) = lines.values()
            paid_for_goods = order.subtotal - order.discount_amount + order.tax_amount
            share = paid_for_goods * order_items[line.line_item_id].total_price
            assert refund.amount == (share / order.subtotal).quantize(CENT, rounding=ROUND_FLOOR)
            assert refund.shipping_amount == 0
        else:
            assert lines == {}  # goodwill
            assert refund.shipping_amount == 0
            assert refund.amount < order.total


def test_a_refund_is_made_by_the_step_that_refunded_the_order(seeded):
    refunds = _refunds_by_order(seeded)
    steps = defaultdict(list)
    for step in HISTORY.objects.filter(store=seeded).order_by("history_date", "history_id"):
        steps[step.id].append(step)

    for order in Order.objects.filter(store=seeded, payment_status__in=REFUNDED):
        (refund,) = refunds[order.pk]
        step = next(s for s in steps[order.pk] if s.payment_status in REFUNDED)
        assert refund.created_at == step.history_date
        assert refund.created_by == step.changed_by
        assert refund.reason == step.history_change_reason
        assert order.created_at < refund.created_at <= order.updated_at


def test_the_refund_preview_of_a_seeded_order_offers_only_what_is_left(seeded):
    items = _items_by_order(seeded)

    for order in Order.objects.filter(store=seeded, payment_status__in=REFUNDED):
        quote = refund_quote(store=seeded, order=order, lines=None, refund_shipping=True)
        left = {item.pk for item in items[order.pk] if item.refunded_quantity < item.quantity}
        assert {line.line_item.pk for line in quote.lines} == left
        assert quote.balance == order.total - order.refunded_amount
        if order.payment_status == PaymentStatus.REFUNDED:
            assert (quote.lines, quote.shipping_refundable) == ([], 0)
        else:
            assert quote.shipping_refundable == order.shipping_cost


def test_the_api_lists_a_seeded_order_refunds(seeded):
    api = api_client(make_api_key(store=seeded))
    refunded = Order.objects.filter(store=seeded, payment_status__in=REFUNDED)
    not_refunded = Order.objects.filter(store=seeded).exclude(payment_status__in=REFUNDED)

    for order in [*refunded, not_refunded.first()]:
        response = api.get(f"/v1/orders/{order.public_id}/refunds")

        assert response.status_code == 200
        expected = [
            {
                "id": refund.public_id,
                "amount": refund.amount,
                "line_items": sorted(line.line_item.public_id for line in refund.lines.all()),
            }
            for refund in Refund.objects.filter(order=order)
        ]
        listed = [
            {
                "id": refund["id"],
                "amount": Decimal(str(refund["amount"])),
                "line_items": sorted(line["line_item_id"] for line in refund["line_items"]),
            }
            for refund in response.json()["data"]
        ]
        assert listed == expected
        assert len(listed) == (1 if order.payment_status in REFUNDED else 0)


def test_the_admin_refunds_list_shows_the_seeded_refunds(seeded):
    browser = staff_client(seeded, username="ana")

    response = browser.get("/admin/refunds/refund/")

    assert response.status_code == 200
    listed = response.context["cl"].result_list
    assert len(listed) == min(Refund.objects.filter(store=seeded).count(), 100)
    assert len(listed) > 0


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="COPY and index rebuilds are PostgreSQL only"
)
def test_a_bulk_copy_load_restores_the_refund_tables_indexes_and_foreign_keys(monkeypatch):
    tables = [Refund._meta.db_table, RefundLine._meta.db_table]
    before = indexes_and_constraints(tables)
    monkeypatch.setattr(demo, "INDEX_REBUILD_MIN_ORDERS", 1)

    (seeded,) = demo.demo_stores_create(stores=1, orders_per_store=ORDERS, seed=SEED)

    assert indexes_and_constraints(tables) == before
    refunded = Order.objects.filter(store=seeded.store, payment_status__in=REFUNDED)
    assert Refund.objects.filter(store=seeded.store).count() == refunded.count() > 0
    assert Fulfillment.objects.filter(store=seeded.store).exists()
