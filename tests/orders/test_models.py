"""Database constraints are the last line of defence for money and stock, and the
order's derived flags follow its status."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from orders.models import LineItem, Order, OrderStatus, TaxRate, Variant
from orders.models.order import HISTORY_EXCLUDED_FIELDS, HISTORY_TRACKED_FIELDS
from orders.transitions import TRANSITIONS, allowed_targets, normalize_status
from tests.factories import make_order, make_variant
from tests.helpers import stock_of

pytestmark = pytest.mark.django_db


def _violates(update) -> bool:
    try:
        with transaction.atomic():
            update()
    except IntegrityError:
        return True
    return False


def test_stock_cannot_go_negative(store):
    variant = make_variant(store=store, stock=1)

    assert _violates(lambda: Variant.objects.filter(pk=variant.pk).update(stock=-1))
    assert stock_of(variant) == 1


@pytest.mark.parametrize(
    "field",
    ["subtotal", "discount_amount", "shipping_cost", "tax_amount", "total", "refunded_amount"],
)
def test_order_money_cannot_be_negative(store, field):
    order = make_order(store=store)

    assert _violates(lambda: Order.objects.filter(pk=order.pk).update(**{field: Decimal("-0.01")}))


def test_refunded_amount_cannot_exceed_the_total(store):
    order = make_order(store=store, unit_price="100.00")

    assert not _violates(lambda: Order.objects.filter(pk=order.pk).update(refunded_amount=100))
    assert _violates(lambda: Order.objects.filter(pk=order.pk).update(refunded_amount="100.01"))


def test_line_quantity_must_be_positive_and_refunds_within_it(store):
    order = make_order(store=store)
    line = LineItem.objects.get(order=order)

    assert _violates(lambda: LineItem.objects.filter(pk=line.pk).update(quantity=0))
    assert _violates(lambda: LineItem.objects.filter(pk=line.pk).update(refunded_quantity=2))
    assert not _violates(lambda: LineItem.objects.filter(pk=line.pk).update(refunded_quantity=1))


def test_order_number_is_unique_within_a_store_only(store, other_store):
    make_order(store=store, order_number=1001)
    make_order(store=other_store, order_number=1001)

    assert _violates(lambda: make_order(store=store, order_number=1001))


def test_status_must_be_a_known_one(store):
    order = make_order(store=store)

    assert _violates(lambda: Order.objects.filter(pk=order.pk).update(status="lost"))


def test_tax_rate_is_between_zero_and_one(store):
    assert _violates(
        lambda: TaxRate.objects.create(store=store, country_code="US", rate=Decimal("1.5"))
    )


def test_history_tracks_exactly_the_lifecycle_fields():
    concrete = {field.name for field in Order._meta.concrete_fields}

    assert set(HISTORY_EXCLUDED_FIELDS) | HISTORY_TRACKED_FIELDS == concrete
    history_columns = {field.name for field in Order.history.model._meta.fields}
    assert HISTORY_TRACKED_FIELDS <= history_columns
    assert not set(HISTORY_EXCLUDED_FIELDS) & history_columns


def test_every_status_has_a_row_in_the_transition_table():
    assert set(TRANSITIONS) == set(OrderStatus.values)


def test_only_orders_without_shipping_complete_straight_from_processing():
    assert "completed" not in allowed_targets(status="processing", requires_shipping=True)
    assert "completed" in allowed_targets(status="processing", requires_shipping=False)


@pytest.mark.parametrize(
    ("spelling", "canonical"),
    [("in_progress", "processing"), ("canceled", "cancelled"), ("SHIPPED", "shipped"), ("x", None)],
)
def test_status_aliases_normalize(spelling, canonical):
    assert normalize_status(spelling) == canonical


@pytest.mark.parametrize(
    ("status", "payment_status", "pending", "completed", "cancellable", "fully_paid"),
    [
        ("pending", "pending", True, False, True, False),
        ("confirmed", "paid", False, False, False, True),
        ("processing", "pending", False, False, True, False),
        ("shipped", "paid", False, False, False, True),
        ("completed", "paid", False, True, False, True),
        ("cancelled", "pending", False, False, False, False),
    ],
)
def test_derived_flags_follow_status(
    store, status, payment_status, pending, completed, cancellable, fully_paid
):
    order = make_order(store=store, status=status, payment_status=payment_status)

    assert order.is_pending is pending
    assert order.is_completed is completed
    assert order.is_cancellable is cancellable
    assert order.is_fully_paid is fully_paid


def test_a_paid_order_is_not_offered_cancellation_until_refunded(store):
    paid = make_order(store=store, status="confirmed", payment_status="paid")
    refunded = make_order(store=store, status="confirmed", payment_status="refunded")

    assert paid.allowed_transitions == ["processing"]
    assert refunded.allowed_transitions == ["processing", "cancelled"]
