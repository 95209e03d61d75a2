"""refund_create and refund_quote called directly, and the database constraints that are the
last defence of the money and the units refunded."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.db.models import F

from orders.exceptions import InvalidParameters
from orders.models import LineItem, Order
from refunds import services
from refunds.models import Refund
from tests.factories import make_order

pytestmark = pytest.mark.django_db


# --- the services --------------------------------------------------------------------------


def test_refund_create_without_lines_amount_or_shipping_raises(store):
    order = make_order(store=store, payment_status="paid")

    with pytest.raises(InvalidParameters):
        services.refund_create(store=store, order=order, actor="system")

    assert Refund.objects.count() == 0


@pytest.mark.parametrize("amount", [Decimal("0"), Decimal("-1.00")])
def test_refund_create_refuses_an_amount_below_a_cent(store, amount):
    order = make_order(store=store, payment_status="paid")

    with pytest.raises(InvalidParameters):
        services.refund_create(store=store, order=order, actor="system", amount=amount)

    order.refresh_from_db()
    assert order.refunded_amount == Decimal("0.00")


def test_refund_create_rounds_an_amount_to_the_cent_half_up(store):
    order = make_order(store=store, payment_status="paid", unit_price="10.00")

    made = services.refund_create(
        store=store, order=order, actor="staff_jane", amount=Decimal("2.005")
    )

    assert made.amount == Decimal("2.01")
    assert made.created_by == "staff_jane"
    order.refresh_from_db()
    assert order.refunded_amount == Decimal("2.01")


def test_refund_quote_without_lines_quotes_everything_left(store):
    order = make_order(store=store, payment_status="paid", items=3, unit_price="5.00")

    quote = services.refund_quote(store=store, order=order, lines=None)

    assert [line.quantity for line in quote.lines] == [1, 1, 1]
    assert (quote.subtotal, quote.tax, quote.total, quote.balance) == (
        Decimal("15.00"),
        Decimal("0.00"),
        Decimal("15.00"),
        Decimal("15.00"),
    )


# --- the database --------------------------------------------------------------------------


def test_the_database_refuses_a_refunded_amount_above_the_total(store):
    order = make_order(store=store, payment_status="paid", unit_price="10.00")

    with pytest.raises(IntegrityError), transaction.atomic():
        Order.objects.filter(pk=order.pk).update(refunded_amount=F("total") + Decimal("0.01"))

    order.refresh_from_db()
    assert order.refunded_amount == Decimal("0.00")


def test_the_database_refuses_refunding_more_units_than_were_bought(store):
    order = make_order(store=store, payment_status="paid")

    with pytest.raises(IntegrityError), transaction.atomic():
        LineItem.objects.filter(order=order).update(refunded_quantity=F("quantity") + 1)


def test_the_database_refuses_a_refund_of_nothing(store):
    order = make_order(store=store, payment_status="paid")

    with pytest.raises(IntegrityError), transaction.atomic():
        Refund.objects.create(store=store, order=order, amount=Decimal("0.00"), created_by="x")
