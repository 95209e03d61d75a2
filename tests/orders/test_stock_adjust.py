"""variant_adjust_stock: units received or written off are added to the stock as it is at
that instant, never below zero, only in the caller's store, and none is lost to a
concurrent order or adjustment."""

from collections import Counter

import pytest

from orders.exceptions import InsufficientStock, OrdoError
from orders.models import Order, Variant
from orders.services import LineRequest, order_create, variant_adjust_stock
from tests.concurrency import requires_postgresql, run_concurrently
from tests.factories import make_customer, make_shipping_method, make_variant
from tests.helpers import seed_003_address, stock_of

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("change", "expected"), [(5, 15), (-4, 6), (-10, 0), (0, 10)])
def test_a_change_is_added_to_the_stock_and_the_new_stock_returned(store, change, expected):
    variant = make_variant(store=store, stock=10)

    new_stock = variant_adjust_stock(store=store, variant=variant, change=change)

    assert new_stock == expected
    assert stock_of(variant) == expected


def test_the_change_lands_on_the_stored_stock_not_on_the_callers_copy(store):
    variant = make_variant(store=store, stock=10)
    Variant.objects.filter(pk=variant.pk).update(stock=4)  # an order took 6 meanwhile

    new_stock = variant_adjust_stock(store=store, variant=variant, change=5)

    assert new_stock == stock_of(variant) == 9


def test_removing_more_than_is_in_stock_raises_and_changes_nothing(store):
    variant = make_variant(store=store, stock=10, sku="MUG-BLUE")

    with pytest.raises(InsufficientStock) as refused:
        variant_adjust_stock(store=store, variant=variant, change=-11)

    assert refused.value.message == "Cannot remove 11 units of MUG-BLUE: only 10 are in stock."
    assert stock_of(variant) == 10


@pytest.mark.parametrize("change", [5, -2, 0])
def test_a_variant_of_another_store_is_refused_and_not_changed(store, other_store, change):
    foreign = make_variant(store=other_store, stock=10)

    with pytest.raises(OrdoError):
        variant_adjust_stock(store=store, variant=foreign, change=change)

    assert stock_of(foreign) == 10


# --- under real concurrent transactions (PostgreSQL) ---------------------------------------

ROUNDS = 3


def _remove(store, variant, units):
    def call():
        try:
            return variant_adjust_stock(store=store, variant=variant, change=-units)
        except InsufficientStock:
            return "refused"

    return call


@requires_postgresql
@pytest.mark.django_db(transaction=True)
def test_16_concurrent_removals_of_3_from_20_let_exactly_6_through(store):
    for _ in range(ROUNDS):
        variant = make_variant(store=store, stock=20)

        results = run_concurrently([_remove(store, variant, 3) for _ in range(16)])

        assert Counter(result == "refused" for result in results) == {False: 6, True: 10}
        # Each success saw its own removal on top of every earlier one.
        assert sorted(r for r in results if r != "refused") == [2, 5, 8, 11, 14, 17]
        assert stock_of(variant) == 2


@requires_postgresql
@pytest.mark.django_db(transaction=True)
def test_concurrent_additions_and_orders_all_apply(store):
    make_shipping_method(store=store, code="standard")
    customers = [make_customer(store=store) for _ in range(8)]
    address = seed_003_address()
    for _ in range(ROUNDS):
        variant = make_variant(store=store, stock=10)

        def add(variant=variant):
            return variant_adjust_stock(store=store, variant=variant, change=5)

        def order(customer, variant=variant):
            return order_create(
                store=store, actor="system", shipping_address=address,
                shipping_method="standard", customer_id=customer.pk,
                lines=[LineRequest(variant_id=variant.pk, quantity=1)],
            )  # fmt: skip

        results = run_concurrently(
            [add] * 8 + [lambda customer=customer: order(customer) for customer in customers]
        )

        assert all(isinstance(result, int) for result in results[:8])
        assert all(isinstance(result, Order) for result in results[8:])
        assert stock_of(variant) == 10 + 8 * 5 - 8
        assert Order.objects.filter(items__variant=variant).count() == 8
