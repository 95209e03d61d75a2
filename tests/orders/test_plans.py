"""Plans (DESIGN.md "Plans", seed 001): inventory control is the premium plan's. A free
store's orders reserve no stock and its cancels, voids and refunds put none back; asking
for a restock, a stock change or a tracked variant there is refused with seed 001's words
and changes nothing; and a store that changes plan never gets back units it never gave.
"""

import random
import re

import pytest
from django.utils import timezone

from orders.demo.stores import store_create
from orders.exceptions import FeatureAccessDenied
from orders.models import LineItem, Order, Store, Variant
from orders.plans import FEATURE_PLANS, require_feature, store_has_feature
from orders.services import (
    CustomerInput,
    LineRequest,
    order_create,
    order_transition,
    order_void,
    variant_adjust_stock,
)
from refunds.models import Refund
from refunds.services import RefundLineRequest, refund_create
from tests.factories import (
    make_api_key,
    make_shipping_method,
    make_variant,
    staff_client,
)
from tests.helpers import (
    api_client,
    assert_error,
    create_order,
    created,
    data_of,
    messages_of,
    order_state,
    paid_order,
    patch_order,
    refund,
    refund_line,
    seed_003_address,
    stock_of,
    stored_order,
    submitted_form,
    void_order,
)

pytestmark = pytest.mark.django_db

REFUSAL = "Inventory control requires the premium plan. Upgrade your plan to use it."


@pytest.fixture
def mug(free_store):
    """A tracked 24.00 mug, 10 in stock, in the free store (which ships standard at 5.99)."""
    make_shipping_method(store=free_store, code="standard", price="5.99")
    return make_variant(store=free_store, price="24.00", stock=10, product_name="Ceramic Mug")


@pytest.fixture
def free_client(free_store):
    return api_client(make_api_key(store=free_store))


def _place(store, variant, quantity: int = 2) -> Order:
    return order_create(
        store=store,
        actor="checkout",
        lines=[LineRequest(variant_id=variant.pk, quantity=quantity)],
        shipping_address=seed_003_address(),
        shipping_method="standard",
        customer=CustomerInput(name="Jane Cooper", email="jane@example.com"),
    )


def _move_to(store: Store, plan: str) -> None:
    Store.objects.filter(pk=store.pk).update(plan=plan)
    store.plan = plan


# --- the table -----------------------------------------------------------------------------


def test_inventory_and_webhooks_are_the_premium_plans():
    assert {name: feature.plan for name, feature in FEATURE_PLANS.items()} == {
        "inventory": "premium",
        "webhooks": "premium",
    }


@pytest.mark.parametrize("feature", ["inventory", "webhooks"])
def test_a_free_store_lacks_the_premium_features_and_a_premium_store_has_them(
    free_store, store, feature
):
    assert (store_has_feature(free_store, feature), store_has_feature(store, feature)) == (
        False,
        True,
    )
    require_feature(store=store, feature=feature)  # no refusal
    with pytest.raises(FeatureAccessDenied) as refused:
        require_feature(store=free_store, feature=feature)
    assert refused.value.details == {"feature": feature}
    assert refused.value.message.endswith("requires the premium plan. Upgrade your plan to use it.")


def test_require_feature_speaks_seed_001s_words(free_store):
    with pytest.raises(FeatureAccessDenied) as refused:
        require_feature(store=free_store, feature="inventory")

    assert refused.value.message == REFUSAL
    assert refused.value.context == {
        "feature": "inventory",
        "required_plan": "premium",
        "plan": "free",
    }


def test_new_stores_are_free_and_demo_stores_premium():
    demo = store_create(
        name="Demo", zone="UTC", rng=random.Random(1), now=timezone.now()
    ).store  # fmt: skip

    assert Store.objects.create(name="New").plan == "free"
    assert Store.objects.get(pk=demo.pk).plan == "premium"


# --- orders of a free store ----------------------------------------------------------------


def test_a_free_stores_order_reserves_no_stock(free_client, free_store, mug):
    order = create_order(free_client, free_store, [(mug, 2)])

    assert stock_of(mug) == 10
    assert list(LineItem.objects.filter(order=stored_order(order)).values_list(
        "stock_reserved", flat=True
    )) == [False]  # fmt: skip


def test_a_free_store_never_runs_out(free_client, free_store, mug):
    order = create_order(free_client, free_store, [(mug, 11)])

    assert order["items"][0]["quantity"] == 11
    assert stock_of(mug) == 10


def test_cancelling_a_free_stores_order_restores_nothing(free_client, free_store, mug):
    order = create_order(free_client, free_store, [(mug, 2)])

    cancelled = data_of(patch_order(free_client, order, {"status": "cancelled"}))

    assert cancelled["status"] == "cancelled"
    assert stock_of(mug) == 10


def test_voiding_a_free_stores_order_restores_nothing(free_client, free_store, mug):
    order = create_order(free_client, free_store, [(mug, 2)])

    assert data_of(void_order(free_client, order))["status"] == "voided"

    assert stock_of(mug) == 10


def test_a_restock_on_a_free_stores_refund_is_403_and_changes_nothing(free_client, free_store, mug):
    order = paid_order(free_client, free_store, [(mug, 2)])
    before = order_state(order)

    response = refund(free_client, order, {"line_items": [refund_line(order)], "restock": True})

    error = assert_error(response, 403, "FEATURE_ACCESS_DENIED")
    assert error["message"] == REFUSAL
    assert error["details"] == {"feature": "inventory"}
    assert order_state(order) == before


def test_a_free_stores_refund_without_restock_simply_restocks_nothing(free_client, free_store, mug):
    order = paid_order(free_client, free_store, [(mug, 2)])

    made = created(refund(free_client, order, {"line_items": [refund_line(order)]}))

    assert made["inventory_restored"] is False
    assert stock_of(mug) == 10
    assert stored_order(order).payment_status == "partially_refunded"


def test_restock_false_on_a_free_store_is_no_refusal(free_client, free_store, mug):
    order = paid_order(free_client, free_store, [(mug, 2)])

    body = {"line_items": [refund_line(order)], "restock": False}
    assert created(refund(free_client, order, body))["inventory_restored"] is False


def test_a_stock_change_on_a_free_store_is_refused_and_changes_nothing(free_store, mug):
    with pytest.raises(FeatureAccessDenied, match="premium plan"):
        variant_adjust_stock(store=free_store, variant=mug, change=5)

    assert stock_of(mug) == 10


# --- a store that changes plan -------------------------------------------------------------


def test_an_order_placed_free_and_cancelled_premium_puts_back_nothing(free_store, mug):
    # Given an order placed while the store was free (nothing taken), then an upgrade
    order = _place(free_store, mug, quantity=2)
    _move_to(free_store, "premium")

    # When it is cancelled
    order_transition(store=free_store, order=order, to_status="cancelled", actor="ana")

    # Then the units it never took are not added to the stock
    assert stock_of(mug) == 10


def test_an_order_placed_free_and_refunded_premium_restocks_nothing(free_store, mug):
    order = _place(free_store, mug, quantity=2)
    order_transition(store=free_store, order=order, to_status="confirmed", actor="ana")
    Order.objects.filter(pk=order.pk).update(payment_status="paid")
    _move_to(free_store, "premium")
    line = order.items.get()

    made = refund_create(
        store=free_store,
        order=order,
        actor="ana",
        lines=[RefundLineRequest(line.pk, 1)],
        restock=True,
    )

    assert made.inventory_restored is False
    assert stock_of(mug) == 10


def test_an_order_placed_premium_and_voided_free_puts_back_what_it_took(store, free_store):
    # Given an order of a premium store that took 2 units, then a move to free
    make_shipping_method(store=store, code="standard", price="5.99")
    variant = make_variant(store=store, stock=10)
    order = _place(store, variant, quantity=2)
    assert stock_of(variant) == 8
    _move_to(store, "free")

    # When it is voided, the units it took go back: the count stays true, so a move back to
    # premium finds it right (a free store's new orders take nothing)
    order_void(store=store, order=order, actor="ana")

    assert stock_of(variant) == 10


def test_an_order_placed_premium_is_restored_once_back_on_premium(store):
    make_shipping_method(store=store, code="standard", price="5.99")
    variant = make_variant(store=store, stock=10)
    order = _place(store, variant, quantity=2)
    _move_to(store, "free")
    _move_to(store, "premium")

    order_transition(store=store, order=order, to_status="cancelled", actor="ana")

    assert stock_of(variant) == 10


def test_a_variant_tracked_after_the_order_gets_nothing_back(store):
    # Given an order of an untracked variant, which took nothing, then tracking switched on
    make_shipping_method(store=store, code="standard", price="5.99")
    variant = make_variant(store=store, stock=3, track_inventory=False)
    order = _place(store, variant, quantity=2)
    Variant.objects.filter(pk=variant.pk).update(track_inventory=True)

    order_transition(store=store, order=order, to_status="cancelled", actor="ana")

    assert stock_of(variant) == 3


# --- the admin -----------------------------------------------------------------------------


@pytest.fixture
def fred(free_store):
    """Fred, logged in to the admin as staff of the free store."""
    return staff_client(free_store, username="fred")


def product_url(variant) -> str:
    return f"/admin/orders/product/{variant.product_id}/change/"


def _save_product(browser, variant, **changes):
    data = submitted_form(browser.get(product_url(variant)), "product_form")
    return browser.post(product_url(variant), {**data, **changes}, follow=True)


def test_a_stock_change_in_the_admin_of_a_free_store_is_a_form_error(fred, mug):
    response = _save_product(fred, mug, **{"variants-0-stock_change": "5"})

    assert response.status_code == 200
    assert REFUSAL in response.content.decode()
    assert stock_of(mug) == 10


def test_making_a_variant_tracked_on_a_free_store_is_a_form_error(fred, free_store):
    variant = make_variant(store=free_store, stock=0, track_inventory=False)

    response = _save_product(
        fred, variant, **{"variants-0-track_inventory": "on", "variants-0-name": "Renamed"}
    )

    assert REFUSAL in response.content.decode()
    assert Variant.objects.filter(pk=variant.pk).values("track_inventory", "name").get() == {
        "track_inventory": False,
        "name": variant.name,
    }


def test_a_new_tracked_variant_on_a_free_store_is_a_form_error(fred, mug):
    adding = {
        "variants-TOTAL_FORMS": "2",
        "variants-1-product": str(mug.product_id),
        "variants-1-name": "Forest Green",
        "variants-1-sku": "MUG-GREEN",
        "variants-1-price": "25.00",
        "variants-1-track_inventory": "on",
    }

    response = _save_product(fred, mug, **adding)

    assert REFUSAL in response.content.decode()
    assert not Variant.objects.filter(sku="MUG-GREEN").exists()


def test_a_new_variant_of_a_free_store_is_offered_untracked_and_saves(fred, mug):
    page = fred.get(product_url(mug)).content.decode()
    template = re.search(r'<input[^>]*name="variants-__prefix__-track_inventory"[^>]*>', page)
    assert "checked" not in template.group(0)

    response = _save_product(
        fred,
        mug,
        **{
            "variants-TOTAL_FORMS": "2",
            "variants-1-product": str(mug.product_id),
            "variants-1-name": "Forest Green",
            "variants-1-sku": "MUG-GREEN",
            "variants-1-price": "25.00",
        },
    )

    assert messages_of(response)[0][0] == "success"
    assert Variant.objects.get(sku="MUG-GREEN").track_inventory is False


def test_a_variant_tracked_from_before_may_still_be_edited_on_a_free_store(fred, mug):
    response = _save_product(fred, mug, **{"variants-0-price": "26.00"})

    assert messages_of(response)[0][0] == "success"
    assert Variant.objects.filter(pk=mug.pk).values_list("price", "track_inventory").get() == (
        26,
        True,
    )


def test_stock_changes_stay_open_to_a_premium_store(store):
    variant = make_variant(store=store, stock=10, track_inventory=False)
    browser = staff_client(store, username="pia")

    response = _save_product(
        browser, variant, **{"variants-0-stock_change": "5", "variants-0-track_inventory": "on"}
    )

    assert messages_of(response)[0][0] == "success"
    assert Variant.objects.filter(pk=variant.pk).values_list("stock", "track_inventory").get() == (
        15,
        True,
    )


def _paid_in_admin(free_store, mug) -> Order:
    order = _place(free_store, mug, quantity=2)
    Order.objects.filter(pk=order.pk).update(payment_status="paid")
    return Order.objects.get(pk=order.pk)


def _refund_post(order, **fields) -> dict:
    item = order.items.get()
    return {"etag": order.etag, "reason": "Damaged", f"quantity_{item.pk}": "1", **fields}


def test_the_admin_refund_form_of_a_free_store_starts_without_restock(fred, free_store, mug):
    order = _paid_in_admin(free_store, mug)

    form = fred.get(f"/admin/orders/order/{order.pk}/change/").context["refund_form"]

    assert form.fields["restock"].initial is False


def test_an_admin_refund_with_restock_on_a_free_store_is_refused_and_changes_nothing(
    fred, free_store, mug
):
    order = _paid_in_admin(free_store, mug)
    before = order_state(order)
    refund_url = f"/admin/orders/order/{order.pk}/refund/"

    preview = fred.post(refund_url, _refund_post(order, restock="on"))
    confirmed = fred.post(refund_url, _refund_post(order, restock="on", confirm="1"), follow=True)

    assert REFUSAL in preview.context["problems"]
    assert messages_of(confirmed) == [("error", REFUSAL)]
    assert order_state(order) == before


def test_an_admin_refund_without_restock_on_a_free_store_goes_through(fred, free_store, mug):
    order = _paid_in_admin(free_store, mug)

    response = fred.post(
        f"/admin/orders/order/{order.pk}/refund/", _refund_post(order, confirm="1"), follow=True
    )

    assert messages_of(response) == [
        ("success", f"Refunded 24.00 USD on order #{order.order_number}.")
    ]
    assert Refund.objects.get(order=order).inventory_restored is False
    assert stock_of(mug) == 10


def test_an_admin_void_on_a_free_store_does_not_claim_a_restock(fred, free_store, mug):
    order = _place(free_store, mug, quantity=2)

    response = fred.post(f"/admin/orders/order/{order.pk}/void/", {"etag": order.etag}, follow=True)

    assert messages_of(response) == [("success", f"Order #{order.order_number} is voided.")]
    assert stock_of(mug) == 10
