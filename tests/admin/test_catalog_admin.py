"""The product page's variants: stock is shown, never typed over. Staff add or remove units
("Add to stock"), and the change lands on the stock as it is when they save, so units
that orders reserved meanwhile are not given back."""

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from backoffice.admin import catalog
from orders.models import Customer, Product, ShippingMethod, StoreMembership, TaxRate, Variant
from orders.pricing import tax_rate_for
from tests.factories import make_customer, make_shipping_method, make_variant
from tests.helpers import messages_of, submitted_form

pytestmark = pytest.mark.django_db


@pytest.fixture
def mug(store):
    return make_variant(store=store, price="24.00", stock=10, sku="MUG-BLUE")


def product_url(variant) -> str:
    return f"/admin/orders/product/{variant.product_id}/change/"


def open_product(browser, variant) -> dict[str, str]:
    """GET the product page; the data its form would submit unchanged."""
    response = browser.get(product_url(variant))
    assert response.status_code == 200
    return submitted_form(response, "product_form")


def save(browser, variant, data: dict, **changes):
    return browser.post(product_url(variant), {**data, **changes}, follow=True)


def a_concurrent_order_reserves(variant, units: int) -> None:
    Variant.objects.filter(pk=variant.pk).update(stock=F("stock") - units)


def row(variant) -> Variant:
    return Variant.objects.get(pk=variant.pk)


def stock_writes(queries) -> list[str]:
    """The SQL of every UPDATE of a variant's stock."""
    return [
        q["sql"]
        for q in queries
        if q["sql"].startswith('UPDATE "orders_variant"') and '"stock" =' in q["sql"]
    ]


def a_second_variant(of, *, name: str, sku: str, stock_change: str) -> dict[str, str]:
    """The product form's fields that add an untracked variant at 25.00 to the product of
    `of`."""
    return {
        "variants-TOTAL_FORMS": "2",
        "variants-1-product": str(of.product_id),
        "variants-1-name": name,
        "variants-1-sku": sku,
        "variants-1-price": "25.00",
        "variants-1-stock_change": stock_change,
    }


def test_the_stock_is_shown_read_only_with_an_add_to_stock_field(browser, mug):
    response = browser.get(product_url(mug))

    body = response.content.decode()
    assert re.search(r'<td class="field-stock">\s*<p>10</p>', body)
    assert 'name="variants-0-stock"' not in body
    assert 'name="variants-0-stock_change"' in body
    assert "Add to stock" in body


@pytest.mark.parametrize(("change", "expected"), [("5", 12), ("-2", 5)])
def test_a_stock_change_lands_on_the_stock_as_it_is_when_saved(browser, mug, change, expected):
    data = open_product(browser, mug)  # the page shows 10
    a_concurrent_order_reserves(mug, 3)  # 7 left when Ana saves

    with CaptureQueriesContext(connection) as queries:
        response = save(browser, mug, data, **{"variants-0-stock_change": change})

    assert response.status_code == 200
    assert row(mug).stock == expected  # 7 + change, not 10 + change
    assert len(stock_writes(queries)) == 1
    assert [m for m in messages_of(response) if m[0] == "error"] == []


def test_saving_the_price_never_writes_the_stock(browser, mug):
    data = open_product(browser, mug)
    a_concurrent_order_reserves(mug, 3)

    with CaptureQueriesContext(connection) as queries:
        save(browser, mug, data, **{"variants-0-price": "26.00"})

    variant = row(mug)
    assert variant.price == Decimal("26.00")
    assert variant.stock == 7
    assert stock_writes(queries) == []


def test_a_stock_change_is_written_relative_to_the_stored_value(browser, mug):
    data = open_product(browser, mug)

    with CaptureQueriesContext(connection) as queries:
        save(browser, mug, data, **{"variants-0-stock_change": "5", "variants-0-price": "26.00"})

    [write] = stock_writes(queries)
    assert re.search(r'"stock" = \(?"orders_variant"\."stock" \+ ', write), write
    assert (row(mug).stock, row(mug).price) == (15, Decimal("26.00"))


@pytest.mark.parametrize(
    ("reserved", "change", "message"),
    [(0, "-11", "Only 10 in stock to remove."), (9, "-2", "Only 1 in stock to remove.")],
    ids=["more than the page showed", "more than is left at save time"],
)
def test_removing_more_than_is_in_stock_is_a_form_error_and_changes_nothing(
    browser, mug, reserved, change, message
):
    data = open_product(browser, mug)
    a_concurrent_order_reserves(mug, reserved)
    before = Variant.objects.values_list("name", "sku", "price", "stock").get(pk=mug.pk)

    response = save(
        browser, mug, data, **{"variants-0-stock_change": change, "variants-0-price": "30.00"}
    )

    assert response.status_code == 200
    assert message in response.content.decode()
    assert response.context["errors"]  # the page is shown again, not saved
    assert Variant.objects.values_list("name", "sku", "price", "stock").get(pk=mug.pk) == before


def test_units_ordered_between_the_check_and_the_write_are_not_removed_twice(
    browser, mug, monkeypatch
):
    """The form checked 10 in stock; an order takes 9 before the stock is written: the
    service refuses the removal and the admin says so, it does not go negative."""
    adjust = catalog.variant_adjust_stock

    def adjust_after_an_order(**kwargs):
        a_concurrent_order_reserves(mug, 9)
        return adjust(**kwargs)

    monkeypatch.setattr(catalog, "variant_adjust_stock", adjust_after_an_order)
    data = open_product(browser, mug)

    response = save(browser, mug, data, **{"variants-0-stock_change": "-2"})

    assert response.status_code == 200
    assert ("error", "Cannot remove 2 units of MUG-BLUE: only 1 are in stock.") in messages_of(
        response
    )
    assert row(mug).stock == 1


def test_a_new_variants_initial_stock_comes_from_add_to_stock(browser, store, mug):
    data = open_product(browser, mug)

    adding = a_second_variant(mug, name="Forest Green", sku="MUG-GREEN", stock_change="7")

    save(browser, mug, data, **adding, **{"variants-1-track_inventory": "on"})

    green = Variant.objects.get(sku="MUG-GREEN")
    assert (green.stock, green.price, green.name) == (7, Decimal("25.00"), "Forest Green")
    assert (green.store_id, green.product_id) == (store.pk, mug.product_id)
    assert row(mug).stock == 10


def test_a_new_product_gets_its_variants_initial_stock_from_add_to_stock(browser, store):
    blank = submitted_form(browser.get("/admin/orders/product/add/"), "product_form")

    browser.post(
        "/admin/orders/product/add/",
        {
            **blank,
            "store": str(store.pk),
            "name": "Teapot",
            "variants-TOTAL_FORMS": "1",
            "variants-0-name": "White",
            "variants-0-sku": "TEAPOT-WHITE",
            "variants-0-price": "40.00",
            "variants-0-track_inventory": "on",
            "variants-0-stock_change": "12",
        },
    )

    teapot = Variant.objects.get(sku="TEAPOT-WHITE")
    assert (teapot.product.name, teapot.stock) == ("Teapot", 12)
    assert teapot.store_id == teapot.product.store_id == store.pk


def test_a_new_variant_cannot_start_below_zero(browser, mug):
    data = open_product(browser, mug)

    adding = a_second_variant(mug, name="Forest Green", sku="MUG-GREEN", stock_change="-1")

    response = save(browser, mug, data, **adding)

    assert "Only 0 in stock to remove." in response.content.decode()
    assert not Variant.objects.filter(sku="MUG-GREEN").exists()
    assert Product.objects.get(pk=mug.product_id).variants.count() == 1


def test_a_product_and_its_variants_always_share_a_store(browser, staff, other_store, mug):
    # Ana works for both stores, so both are offered in the product's store choices.
    StoreMembership.objects.create(store=other_store, user=staff)
    data = open_product(browser, mug)

    save(browser, mug, data, store=str(other_store.pk), **{"variants-0-stock_change": "5"})

    product = Product.objects.get(pk=mug.product_id)
    assert list(product.variants.values_list("store_id", flat=True)) == [product.store_id]
    assert row(mug).stock == 15


def variants_snapshot() -> list[tuple]:
    return list(Variant.objects.order_by("sku").values_list("product_id", "sku", "price", "stock"))


def test_renaming_a_sku_to_one_the_store_uses_is_a_form_error_not_a_500(browser, store, mug):
    make_variant(store=store, sku="MUG-RED")
    data = open_product(browser, mug)
    before = variants_snapshot()
    browser.raise_request_exception = False

    response = save(browser, mug, data, **{"variants-0-sku": "MUG-RED", "variants-0-price": "30"})

    assert response.status_code == 200
    assert response.context["errors"]  # the page is shown again, not saved
    assert variants_snapshot() == before


def test_a_new_variant_with_a_sku_the_store_uses_is_a_form_error_not_a_500(browser, store, mug):
    make_variant(store=store, sku="MUG-RED")
    data = open_product(browser, mug)
    before = variants_snapshot()
    browser.raise_request_exception = False

    adding = a_second_variant(mug, name="Red", sku="MUG-RED", stock_change="4")

    response = save(browser, mug, data, **adding)

    assert response.status_code == 200
    assert response.context["errors"]
    assert variants_snapshot() == before


def test_the_same_sku_in_another_store_is_fine(browser, other_store, mug):
    make_variant(store=other_store, sku="MUG-RED")
    data = open_product(browser, mug)

    save(browser, mug, data, **{"variants-0-sku": "MUG-RED"})

    assert row(mug).sku == "MUG-RED"


# --- review fixes: repeats, bounds, per-store uniqueness, normalised codes -------------------


def test_a_product_page_saved_twice_adds_its_stock_once(browser, mug):
    data = open_product(browser, mug)
    save(browser, mug, data, **{"variants-0-stock_change": "5"})

    response = save(browser, mug, data, **{"variants-0-stock_change": "5"})

    assert row(mug).stock == 15
    assert (
        "error",
        "This page was already saved once: its stock changes were not added again.",
    ) in messages_of(response)


@pytest.mark.parametrize("change", ["1000001", "-1000001", str(10**20)])
def test_an_out_of_range_stock_change_is_a_form_error_not_a_500(browser, mug, change):
    data = open_product(browser, mug)

    response = save(browser, mug, data, **{"variants-0-stock_change": change})

    assert response.status_code == 200
    assert response.redirect_chain == []  # still on the product page, with the error
    assert "Ensure this value is" in response.content.decode()
    assert row(mug).stock == 10


def test_a_shipping_code_the_store_already_uses_is_a_form_error_not_a_500(browser, store):
    make_shipping_method(store=store, code="standard")
    express = make_shipping_method(store=store, code="express", price="12.00")

    response = browser.post(
        f"/admin/orders/shippingmethod/{express.pk}/change/",
        {"code": "standard", "name": "Express", "price": "12.00", "is_active": "on"},
    )

    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    assert ShippingMethod.objects.get(pk=express.pk).code == "express"


def test_a_rows_store_cannot_be_changed_by_posting_another(browser, staff, store, other_store):
    StoreMembership.objects.create(store=other_store, user=staff)
    express = make_shipping_method(store=store, code="express", price="12.00")

    browser.post(
        f"/admin/orders/shippingmethod/{express.pk}/change/",
        {"store": str(other_store.pk), "code": "express", "name": "Express", "price": "12.00"},
    )

    assert ShippingMethod.objects.get(pk=express.pk).store == store


def test_a_tax_rate_typed_in_lower_case_is_found_for_orders(browser, store):
    browser.post(
        "/admin/orders/taxrate/add/",
        {"store": str(store.pk), "country_code": " us", "province": "OR ", "rate": "0.11"},
    )

    assert TaxRate.objects.values_list("country_code", "province").get() == ("US", "OR")
    assert tax_rate_for(store=store, country_code="US", province="OR") == Decimal("0.11")


def test_a_customer_email_is_kept_lower_case_and_unique_per_store(browser, store):
    make_customer(store=store, name="Jane", email="jane@example.com")

    added = browser.post(
        "/admin/orders/customer/add/",
        {"store": str(store.pk), "name": "Max", "email": "Max@Example.COM"},
    )
    duplicate = browser.post(
        "/admin/orders/customer/add/",
        {"store": str(store.pk), "name": "Jane again", "email": "JANE@example.com"},
    )

    assert added.status_code == 302
    assert Customer.objects.filter(email="max@example.com").exists()
    assert duplicate.status_code == 200
    assert "A customer with this email already exists in this store." in (
        duplicate.content.decode()
    )
    assert Customer.objects.count() == 2


def test_someone_with_one_store_adds_to_it_without_choosing(browser, store):
    response = browser.get("/admin/orders/shippingmethod/add/")

    assert response.context["adminform"].form.initial["store"] == store.pk
