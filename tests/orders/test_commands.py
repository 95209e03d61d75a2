"""The management commands (DESIGN.md "Management commands"): seed_demo, create_api_key and
setup_demo, driven through call_command the way scripts and `make run` drive them."""

import io
import json
import uuid
from collections import Counter, defaultdict
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from orders import demo
from orders.models import (
    ApiKey,
    Fulfillment,
    LineItem,
    Order,
    Scope,
    ShippingMethod,
    Store,
    TaxRate,
    Variant,
)
from tests.contract import PAYMENT_STATUSES, STATUS_TIMESTAMPS, STATUSES, next_statuses
from tests.factories import make_store
from tests.helpers import (
    api_client,
    assert_error,
    indexes_and_constraints,
    parse_timestamp,
    status_history,
)

pytestmark = pytest.mark.django_db

CENT = Decimal("0.01")


def run(command: str, *args: str) -> tuple[str, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    call_command(command, *args, stdout=stdout, stderr=stderr)
    return stdout.getvalue(), stderr.getvalue()


def seed_json(*args: str) -> dict:
    stdout, _ = run("seed_demo", "--json", *args)
    return json.loads(stdout)


# seed_demo


def test_seed_demo_json_prints_one_document_of_the_documented_shape():
    stdout, stderr = run("seed_demo", "--stores", "2", "--orders", "15", "--json")

    document = json.loads(stdout)
    assert list(document) == ["stores"]
    assert len(document["stores"]) == 2
    for seeded in document["stores"]:
        assert set(seeded) == {
            "id", "name", "currency", "api_key", "customers", "variants", "shipping_methods",
            "tax_rates",
        }  # fmt: skip
        assert seeded["id"].startswith("str_")
        assert seeded["currency"] == "USD"
        assert seeded["api_key"].startswith("wk_live_")
        assert 50 <= len(seeded["customers"]) <= 200
        for customer in seeded["customers"]:
            assert set(customer) == {"id", "email"}
            assert customer["id"].startswith("cust_")
            assert customer["email"] == customer["email"].lower()
        emails = [customer["email"] for customer in seeded["customers"]]
        assert len(set(emails)) == len(emails)
        for variant in seeded["variants"]:
            assert set(variant) == {"id", "product_id", "price", "stock"}
            assert variant["id"].startswith("var_")
            assert variant["product_id"].startswith("prod_")
            assert isinstance(variant["price"], float)
            assert isinstance(variant["stock"], int)
        assert {"price": 24.0, "stock": 100} in [
            {"price": v["price"], "stock": v["stock"]} for v in seeded["variants"]
        ]
        assert seeded["shipping_methods"] == [
            {"code": "standard", "price": 5.99},
            {"code": "express", "price": 14.99},
            {"code": "pickup", "price": 0.0},
        ]
        for rate in seeded["tax_rates"]:
            assert set(rate) == {"country_code", "province", "rate"}
        assert {"country_code": "US", "province": "OR", "rate": 0.11} in seeded["tax_rates"]
    assert "orders 30/30 (100%)" in stderr


def test_seed_demo_creates_the_documented_catalog_shipping_methods_and_tax_rates():
    (seeded,) = seed_json("--orders", "5")["stores"]
    store = Store.objects.get(pk=seeded["id"].removeprefix("str_"))

    mug = Variant.objects.get(store=store, product__name="Ceramic Mug", name="Ocean Blue")
    assert str(mug) == "Ceramic Mug — Ocean Blue"
    assert (mug.price, mug.stock, mug.track_inventory) == (Decimal("24.00"), 100, True)
    assert Variant.objects.filter(store=store, track_inventory=False).exists()
    methods = {m.code: m for m in ShippingMethod.objects.filter(store=store)}
    assert methods["standard"].price == Decimal("5.99")
    assert methods["standard"].requires_shipping
    assert methods["express"].price == Decimal("14.99")
    assert methods["pickup"].price == Decimal("0.00")
    assert not methods["pickup"].requires_shipping
    rates = {(r.country_code, r.province): r.rate for r in TaxRate.objects.filter(store=store)}
    assert rates[("US", "OR")] == Decimal("0.11")
    assert rates[("US", "CA")] == Decimal("0.0725")
    assert rates[("CO", "")] == Decimal("0.19")


def test_seed_demo_key_has_every_scope_and_lists_exactly_the_seeded_orders():
    first, second = seed_json("--stores", "2", "--orders", "12")["stores"]

    for seeded in (first, second):
        api_key = ApiKey.objects.get(prefix=seeded["api_key"][: len("wk_live_") + 8])
        assert sorted(api_key.scopes) == sorted(Scope.values)
        response = api_client(seeded["api_key"]).get("/v1/orders?per_page=100")
        assert response.status_code == 200
        body = response.json()
        assert body["pagination"]["total"] == 12
        assert {order["store_id"] for order in body["data"]} == {seeded["id"]}


def test_seed_demo_without_json_prints_a_summary_with_ids_keys_and_counts():
    stdout, _ = run("seed_demo", "--orders", "7")

    store = Store.objects.get()
    api_key = ApiKey.objects.get(store=store, name="seed_demo")
    assert store.public_id in stdout
    assert api_key.prefix in stdout
    assert "7 orders" in stdout
    assert "Seeded 1 store(s), 7 orders in" in stdout


@pytest.mark.parametrize("args", [["--stores", "0"], ["--orders", "-1"]])
def test_seed_demo_refuses_impossible_counts_and_creates_nothing(args):
    with pytest.raises(CommandError):
        run("seed_demo", *args)

    assert not Store.objects.exists()


def test_seeded_order_totals_add_up_to_the_cent():
    (seeded,) = seed_json("--orders", "300")["stores"]
    store = Store.objects.get(pk=seeded["id"].removeprefix("str_"))
    rates = {(r.country_code, r.province): r.rate for r in TaxRate.objects.filter(store=store)}
    methods = {m.pk: m for m in ShippingMethod.objects.filter(store=store)}
    variants = {v.pk: v for v in Variant.objects.filter(store=store).select_related("product")}
    items = defaultdict(list)
    for item in LineItem.objects.filter(store=store):
        items[item.order_id].append(item)

    orders = list(Order.objects.filter(store=store))
    assert len(orders) == 300
    for order in orders:
        lines = items[order.pk]
        assert 1 <= len(lines) <= 4
        for line in lines:
            variant = variants[line.variant_id]
            assert (line.sku, line.product_name, line.variant_name) == (
                variant.sku, variant.product.name, variant.name,
            )  # fmt: skip
            assert line.product_id == variant.product_id
            assert line.unit_price == variant.price
            assert line.total_price == line.unit_price * line.quantity
            assert line.created_at == order.created_at
        rate = rates.get(
            (order.country_code, order.shipping_province), rates.get((order.country_code, ""), 0)
        )
        method = methods[order.shipping_method_id]
        assert order.subtotal == sum(line.total_price for line in lines)
        assert order.item_count == sum(line.quantity for line in lines)
        assert 0 <= order.discount_amount <= order.subtotal
        assert order.tax_amount == ((order.subtotal - order.discount_amount) * rate).quantize(
            CENT, rounding=ROUND_HALF_UP
        )
        assert sum(line.tax_amount for line in lines) == order.tax_amount
        assert order.shipping_cost == method.price
        assert (order.shipping_method_code, order.requires_shipping) == (
            method.code, method.requires_shipping,
        )  # fmt: skip
        assert order.total == (
            order.subtotal - order.discount_amount + order.shipping_cost + order.tax_amount
        )
        assert order.currency == "USD"
        if order.payment_status == "refunded":
            assert order.refunded_amount == order.total
        elif order.payment_status == "partially_refunded":
            assert 0 < order.refunded_amount < order.total
        else:
            assert order.refunded_amount == 0


def test_seeded_order_numbers_run_consecutively_from_1001_in_creation_order():
    seeded = seed_json("--stores", "2", "--orders", "40")["stores"]

    for store_json in seeded:
        store = Store.objects.get(pk=store_json["id"].removeprefix("str_"))
        orders = list(Order.objects.filter(store=store).order_by("order_number"))
        assert [order.order_number for order in orders] == list(range(1001, 1041))
        assert store.next_order_number == 1041
        created = [order.created_at for order in orders]
        assert created == sorted(created)


def test_a_large_seed_has_every_status_and_payment_status():
    seed_json("--orders", "600")

    assert set(Order.objects.values_list("status", flat=True)) == set(STATUSES)
    assert set(Order.objects.values_list("payment_status", flat=True)) == set(PAYMENT_STATUSES)
    statuses = Counter(Order.objects.values_list("status", flat=True))
    # Mostly finished business, like a real store's two years.
    assert statuses["completed"] > 600 // 2


def test_seeded_ids_are_uuid7_of_the_creation_time():
    seed_json("--orders", "20")

    for order in Order.objects.prefetch_related("items", "fulfillments"):
        assert (order.id.version, order.id.variant) == (7, uuid.RFC_4122)
        assert _uuid7_millis(order.id) == int(order.created_at.timestamp() * 1000)
        for item in order.items.all():
            assert _uuid7_millis(item.id) == int(item.created_at.timestamp() * 1000)
        for fulfillment in order.fulfillments.all():
            assert _uuid7_millis(fulfillment.id) == int(fulfillment.created_at.timestamp() * 1000)


def _uuid7_millis(value: uuid.UUID) -> int:
    return value.int >> 80


def test_status_history_runs_from_creation_to_each_order_current_status():
    (seeded,) = seed_json("--orders", "120")["stores"]
    client = api_client(seeded["api_key"])

    now = timezone.now()
    for order in Order.objects.all():
        history = status_history(client, order)
        first, last = history[0], history[-1]
        assert (first["from_status"], first["to_status"]) == (None, "pending")
        assert (first["from_payment_status"], first["to_payment_status"]) == (None, "pending")
        assert first["reason"] == "Order created"
        assert (last["to_status"], last["to_payment_status"]) == (
            order.status, order.payment_status,
        )  # fmt: skip
        entered = {}
        for change in history[1:]:
            assert change["changed_by"]
            assert change["reason"]
            if change["to_status"] != change["from_status"]:
                assert change["to_status"] in next_statuses(change["from_status"])
                entered[change["to_status"]] = parse_timestamp(change["created_at"])
        times = [parse_timestamp(change["created_at"]) for change in history]
        assert times == sorted(times)
        assert times[0] == order.created_at.replace(microsecond=0) + timedelta(
            milliseconds=order.created_at.microsecond // 1000
        )
        assert times[-1] <= now
        for status, column in STATUS_TIMESTAMPS.items():
            assert getattr(order, column) == entered.get(status), (order.order_number, status)
        assert order.created_at <= order.placed_at <= order.updated_at
        assert order.updated_at == max(times[-1], order.placed_at)


def test_orders_that_left_the_warehouse_have_one_fulfillment_and_others_none():
    seed_json("--orders", "300")

    fulfillments = {f.order_id: f for f in Fulfillment.objects.all()}
    assert len(fulfillments) == Fulfillment.objects.count()
    shipped = 0
    for order in Order.objects.all():
        fulfillment = fulfillments.get(order.pk)
        if order.shipped_at is None:
            assert fulfillment is None
            continue
        shipped += 1
        assert order.requires_shipping
        assert fulfillment.carrier
        assert fulfillment.tracking_number
        assert fulfillment.tracking_url.endswith(fulfillment.tracking_number)
        assert fulfillment.shipped_at == fulfillment.created_at == order.shipped_at
        assert fulfillment.delivered_at == order.delivered_at
        expected = {"shipped": "in_transit", "returned": "returned"}.get(order.status, "delivered")
        assert fulfillment.status == expected
    assert shipped > 0


def test_the_same_seed_gives_the_same_orders():
    now = timezone.now()
    first = demo.demo_stores_create(stores=1, orders_per_store=60, seed=7, now=now)[0]
    second = demo.demo_stores_create(stores=1, orders_per_store=60, seed=7, now=now)[0]
    other = demo.demo_stores_create(stores=1, orders_per_store=60, seed=8, now=now)[0]

    def orders(seeded: demo.DemoStore) -> list[tuple]:
        return list(
            Order.objects.filter(store=seeded.store)
            .order_by("order_number")
            .values_list("order_number", "status", "payment_status", "total", "customer_email")
        )

    assert orders(first) == orders(second)
    assert orders(first) != orders(other)
    assert [c.email for c in first.customers] == [c.email for c in second.customers]


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="COPY and index rebuilds are PostgreSQL only"
)
def test_a_bulk_copy_load_restores_every_index_and_foreign_key(monkeypatch):
    tables = [Order._meta.db_table, LineItem._meta.db_table, Fulfillment._meta.db_table]
    tables.append(Order.history.model._meta.db_table)
    before = indexes_and_constraints(tables)
    # Take the large-load path (drop, COPY, rebuild) with a small seed.
    monkeypatch.setattr(demo, "INDEX_REBUILD_MIN_ORDERS", 1)

    (seeded,) = demo.demo_stores_create(stores=1, orders_per_store=80)

    assert indexes_and_constraints(tables) == before
    assert Order.objects.filter(store=seeded.store).count() == 80
    assert Order.history.model.objects.filter(store=seeded.store).count() >= 80
    assert LineItem.objects.filter(store=seeded.store).count() >= 80


# create_api_key


def test_create_api_key_prints_only_a_key_with_exactly_the_given_scopes():
    store = make_store(name="Acme Outfitters")

    stdout, _ = run(
        "create_api_key", "--store", store.public_id, "--scopes", "read:orders", "--name", "ERP"
    )

    raw_key = stdout.strip()
    assert stdout == raw_key + "\n"
    assert raw_key.startswith("wk_live_")
    api_key = ApiKey.objects.get(store=store)
    assert (api_key.name, api_key.scopes, api_key.expires_at) == ("ERP", ["read:orders"], None)
    assert api_client(raw_key).get("/v1/orders").status_code == 200


def test_create_api_key_without_the_read_scope_cannot_read_orders():
    store = make_store(name="Acme Outfitters")

    stdout, _ = run("create_api_key", "--store", store.public_id, "--scopes", "write:orders")

    assert ApiKey.objects.get(store=store).scopes == ["write:orders"]
    response = api_client(stdout.strip()).get("/v1/orders")
    assert_error(response, 403, "INSUFFICIENT_SCOPE")


def test_create_api_key_can_expire():
    store = make_store(name="Acme Outfitters")

    run("create_api_key", "--store", store.public_id, "--scopes", "read:orders,write:orders",
        "--expires-in-days", "30")  # fmt: skip

    api_key = ApiKey.objects.get(store=store)
    assert api_key.scopes == ["read:orders", "write:orders"]
    expected = timezone.now() + timedelta(days=30)
    assert abs(api_key.expires_at - expected) < timedelta(minutes=1)


@pytest.mark.parametrize(
    ("scopes", "message"),
    [("read:orders,delete:everything", "delete:everything"), ("", "none"), (",", "none")],
)
def test_create_api_key_refuses_unknown_scopes_and_creates_nothing(scopes, message):
    store = make_store(name="Acme Outfitters")

    with pytest.raises(CommandError, match=message):
        run("create_api_key", "--store", store.public_id, "--scopes", scopes)

    assert not ApiKey.objects.exists()


@pytest.mark.parametrize("store_id", ["str_00000000-0000-7000-8000-000000000000", "nope", "str_x"])
def test_create_api_key_refuses_an_unknown_store(store_id):
    make_store(name="Acme Outfitters")

    with pytest.raises(CommandError, match="No store"):
        run("create_api_key", "--store", store_id, "--scopes", "read:orders")

    assert not ApiKey.objects.exists()


# setup_demo


def test_setup_demo_twice_leaves_one_demo_store_one_live_demo_key_and_a_staff_login():
    first_out, _ = run("setup_demo", "--orders", "25", "--host", "localhost:9000")
    second_out, _ = run("setup_demo", "--orders", "25", "--host", "localhost:9000")

    store = Store.objects.get(name="Ordo Demo Store")
    assert Order.objects.filter(store=store).count() == 25
    live = ApiKey.objects.filter(store=store, name="demo (make run)", revoked_at=None)
    assert live.count() == 1
    assert ApiKey.objects.filter(store=store, name="demo (make run)").count() == 2
    first_key, second_key = _printed_key(first_out), _printed_key(second_out)
    assert api_client(first_key).get("/v1/orders").status_code == 401
    response = api_client(second_key).get("/v1/orders")
    assert response.status_code == 200
    assert response.json()["pagination"]["total"] == 25

    user = get_user_model().objects.get(username="demo")
    assert user.is_staff
    assert not user.is_superuser
    assert user.check_password("ordo-demo")
    membership = user.store_memberships.get()
    assert (membership.store, membership.role) == (store, "owner")

    for text in [
        store.public_id,
        "http://localhost:9000/v1/orders",
        "http://localhost:9000/v1/docs",
        "http://localhost:9000/v1/openapi.json",
        "http://localhost:9000/admin/",
        f'curl -H "X-API-Key: {second_key}" "http://localhost:9000/v1/orders?per_page=2',
        "demo / ordo-demo",
    ]:
        assert text in second_out


def _printed_key(stdout: str) -> str:
    (line,) = [line for line in stdout.splitlines() if "API key" in line]
    return line.split()[-1]
