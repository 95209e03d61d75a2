"""POST /orders: prices from the catalog, tax from the store's rates, stock reserved,
and every bad input refused with nothing created or reserved."""

from decimal import Decimal

import pytest

from orders.models import Customer, Order, Store
from orders.pricing import allocate
from tests.factories import (
    make_api_key,
    make_customer,
    make_shipping_method,
    make_tax_rate,
    make_variant,
)
from tests.helpers import (
    SEED_003_ADDRESS,
    api_client,
    assert_error,
    created,
    detail_fields,
    status_history,
    stock_of,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalog(store, other_store):
    """Seed 003's catalog: a 24.00 mug and a 24.00 second product, standard shipping 5.99,
    and Oregon's 11 % tax rate."""
    make_shipping_method(store=store, code="standard", price="5.99")
    make_shipping_method(store=store, code="pickup", price="0.00", requires_shipping=False)
    make_tax_rate(store=store, country_code="US", province="OR", rate="0.11")
    return {
        "mug": make_variant(store=store, price="24.00", stock=10, product_name="Ceramic Mug"),
        "plate": make_variant(store=store, price="24.00", stock=10, product_name="Plate"),
        "customer": make_customer(store=store, name="Jane Cooper", email="jane@example.com"),
        "foreign": make_variant(store=other_store, price="1.00", stock=10),
    }


def _body(catalog, **overrides):
    body = {
        "customer_id": catalog["customer"].public_id,
        "line_items": [
            {
                "product_id": catalog["mug"].product.public_id,
                "variant_id": catalog["mug"].public_id,
                "quantity": 2,
            },
            {"variant_id": catalog["plate"].public_id, "quantity": 1},
        ],
        "shipping_address": {**SEED_003_ADDRESS},
        "shipping_method": "standard",
        "notes": "Gift wrap requested",
    }
    body.update(overrides)
    return body


def test_seed_003_example_totals_are_reproduced_to_the_cent(client, store, catalog, api_key):
    response = client.post("/v1/orders", _body(catalog), format="json")

    assert response.status_code == 201, response.content
    data = response.json()["data"]
    assert (data["subtotal"], data["shipping_cost"], data["tax_amount"], data["total"]) == (
        72.0,
        5.99,
        7.92,
        85.91,
    )
    assert '"total":85.91' in response.content.decode()
    assert data["status"] == "pending"
    assert data["payment_status"] == "pending"
    assert data["order_number"] == 1001
    assert data["customer_notes"] == "Gift wrap requested"
    assert data["item_count"] == 3
    assert data["allowed_transitions"] == ["confirmed", "cancelled"]
    assert data["fulfillments"] == []
    assert sum(Decimal(str(item["tax_amount"])) for item in data["items"]) == Decimal("7.92")
    assert data["shipping_address"]["country"] == "United States"
    assert data["shipping_address"]["province"] == "OR"
    assert response["Location"] == f"/v1/stores/{store.public_id}/orders/{data['id']}"
    assert response["ETag"] == Order.objects.get().etag


def test_create_reserves_stock_for_tracked_variants_only(client, store, catalog):
    untracked = make_variant(store=store, price="5.00", stock=0, track_inventory=False)
    body = _body(catalog)
    body["line_items"].append({"variant_id": untracked.public_id, "quantity": 4})

    response = client.post("/v1/orders", body, format="json")

    assert response.status_code == 201, response.content
    assert stock_of(catalog["mug"]) == 8
    assert stock_of(catalog["plate"]) == 9
    assert stock_of(untracked) == 0


def test_creation_is_the_first_status_history_entry(client, catalog, api_key):
    order = created(client.post("/v1/orders", _body(catalog), format="json"))

    history = status_history(client, order)

    assert len(history) == 1
    assert history[0]["from_status"] is None
    assert history[0]["to_status"] == "pending"
    assert history[0]["changed_by"] == f"api_key_{api_key[:16]}"
    assert history[0]["reason"] == "Order created via API"


def test_order_numbers_follow_each_other(client, catalog):
    numbers = [
        client.post("/v1/orders", _body(catalog), format="json").json()["data"]["order_number"]
        for _ in range(3)
    ]

    assert numbers == [1001, 1002, 1003]


def test_insufficient_stock_lists_every_short_line_and_reserves_nothing(client, store, catalog):
    short = make_variant(store=store, price="3.00", stock=1)
    body = _body(catalog)
    body["line_items"] = [
        {"variant_id": catalog["mug"].public_id, "quantity": 2},
        {"variant_id": short.public_id, "quantity": 2},
        {"variant_id": catalog["plate"].public_id, "quantity": 11},
    ]

    response = client.post("/v1/orders", body, format="json")

    error = assert_error(response, 422, "INSUFFICIENT_STOCK")
    assert detail_fields(error) == ["line_items[1].quantity", "line_items[2].quantity"]
    assert error["context"] == {
        "shortages": [
            {
                "field": "line_items[1].quantity",
                "variant_id": short.public_id,
                "sku": short.sku,
                "requested": 2,
                "available": 1,
            },
            {
                "field": "line_items[2].quantity",
                "variant_id": catalog["plate"].public_id,
                "sku": catalog["plate"].sku,
                "requested": 11,
                "available": 10,
            },
        ]
    }
    assert (stock_of(catalog["mug"]), stock_of(short), stock_of(catalog["plate"])) == (10, 1, 10)
    assert Order.objects.count() == 0
    assert Store.objects.get(pk=store.pk).next_order_number == 1001


def test_same_variant_on_two_lines_is_checked_against_stock_once_in_total(client, store, catalog):
    scarce = make_variant(store=store, price="3.00", stock=3)
    body = _body(catalog)
    body["line_items"] = [
        {"variant_id": scarce.public_id, "quantity": 2},
        {"variant_id": scarce.public_id, "quantity": 2},
    ]

    response = client.post("/v1/orders", body, format="json")

    assert response.status_code == 422
    assert stock_of(scarce) == 3


def test_inline_customer_is_matched_by_email_within_the_store(client, catalog):
    body = _body(catalog)
    del body["customer_id"]
    body["customer"] = {"name": "Jane C.", "email": "JANE@example.com"}

    response = client.post("/v1/orders", body, format="json")

    assert response.status_code == 201, response.content
    assert response.json()["data"]["customer_id"] == catalog["customer"].public_id
    assert Customer.objects.filter(email="jane@example.com").count() == 1


def test_inline_customer_is_created_when_new(client, store, catalog):
    body = _body(catalog)
    del body["customer_id"]
    body["customer"] = {"name": "New Buyer", "email": "new@example.com", "phone": "+1555"}

    data = client.post("/v1/orders", body, format="json").json()["data"]

    created = Customer.objects.get(store=store, email="new@example.com")
    assert data["customer"] == {
        "id": created.public_id,
        "name": "New Buyer",
        "email": "new@example.com",
        "phone": "+1555",
        "code": "",
    }


def test_seed_001_address_names_and_country_names_are_accepted(client, catalog):
    body = _body(
        catalog,
        shipping_address={
            "address": "Calle 1",
            "city": "Bogotá",
            "province": "Cundinamarca",
            "country": "Colombia",
        },
    )

    data = client.post("/v1/orders", body, format="json").json()["data"]

    assert data["country_code"] == "CO"
    assert data["shipping_address"]["address"] == "Calle 1"
    assert data["tax_amount"] == 0.0  # the store has no Colombian rate


def test_country_wide_rate_applies_when_the_province_has_none(client, store, catalog):
    make_tax_rate(store=store, country_code="US", province="", rate="0.05")
    body = _body(catalog)
    body["shipping_address"]["state"] = "WA"

    data = client.post("/v1/orders", body, format="json").json()["data"]

    assert data["tax_amount"] == 3.6


@pytest.mark.parametrize(
    ("price", "quantity", "rate", "tax"),
    [
        ("0.05", 1, "0.1000", "0.01"),  # 0.005 rounds half up, not to even
        ("19.99", 3, "0.0725", "4.35"),  # 4.347825
        ("0.01", 1, "0.1100", "0.00"),  # 0.0011
        ("33.33", 3, "0.0825", "8.25"),  # 8.249175
    ],
)
def test_tax_rounds_half_up_to_the_cent(client, store, catalog, price, quantity, rate, tax):
    make_tax_rate(store=store, country_code="US", province="TX", rate=rate)
    variant = make_variant(store=store, price=price, stock=10)
    body = _body(catalog, line_items=[{"variant_id": variant.public_id, "quantity": quantity}])
    body["shipping_address"]["state"] = "TX"

    response = client.post("/v1/orders", body, format="json")

    order = Order.objects.get(pk=response.json()["data"]["id"].removeprefix("ord_"))
    assert order.tax_amount == Decimal(tax)
    assert order.total == order.subtotal + order.shipping_cost + order.tax_amount


def test_line_tax_shares_add_up_to_the_order_tax():
    shares = allocate(Decimal("1.00"), [Decimal("1.00"), Decimal("1.00"), Decimal("1.00")])

    assert shares == [Decimal("0.34"), Decimal("0.33"), Decimal("0.33")]
    assert sum(allocate(Decimal("7.92"), [Decimal("48.00"), Decimal("24.00")])) == Decimal("7.92")
    assert allocate(Decimal("0.00"), [Decimal("0")]) == [Decimal("0.00")]


# 400: the document refuses the body; 422: the document admits it, but it names nothing in
# this store or combines what cannot go together.
@pytest.mark.parametrize(
    ("change", "field", "status"),
    [
        ({"line_items": []}, "line_items", 400),
        (
            {"line_items": [{"variant_id": "var_nope", "quantity": 1}]},
            "line_items[0].variant_id",
            400,
        ),
        (
            {
                "line_items": [
                    {"variant_id": "var_00000000-0000-0000-0000-000000000000", "quantity": 1}
                ]
            },
            "line_items[0].variant_id",
            422,
        ),
        ({"shipping_method": "teleport"}, "shipping_method", 422),
        ({"customer_id": "cust_00000000-0000-0000-0000-000000000000"}, "customer_id", 422),
        ({"customer_id": "jane"}, "customer_id", 400),
        ({"total": 1}, "total", 400),
        ({"store_id": "str_x"}, "store_id", 400),
        ({"discount_code": "FREE"}, "discount_code", 400),
        ({"payment_method": "bitcoin"}, "payment_method", 400),
        ({"shipping_address": {"city": "Portland"}}, "shipping_address.line1", 422),
        (
            {"shipping_address": {"line1": "1 St", "city": "X", "country": "Atlantis"}},
            "shipping_address.country",
            422,
        ),
        ({"po_number": 42}, "po_number", 400),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_creates_nothing(
    client, catalog, change, field, status
):
    response = client.post("/v1/orders", _body(catalog, **change), format="json")

    error = assert_error(response, status, "VALIDATION_ERROR")
    assert field in detail_fields(error)
    assert Order.objects.count() == 0
    assert stock_of(catalog["mug"]) == 10


@pytest.mark.parametrize("quantity", [0, -1, 1.5, "two"])
def test_quantity_must_be_a_positive_whole_number(client, catalog, quantity):
    body = _body(
        catalog, line_items=[{"variant_id": catalog["mug"].public_id, "quantity": quantity}]
    )

    response = client.post("/v1/orders", body, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["details"][0]["field"] == "line_items[0].quantity"


def test_another_stores_variant_is_unknown_here(client, catalog):
    body = _body(catalog, line_items=[{"variant_id": catalog["foreign"].public_id, "quantity": 1}])

    response = client.post("/v1/orders", body, format="json")

    assert response.status_code == 422
    assert "No variant" in response.json()["error"]["details"][0]["message"]
    assert stock_of(catalog["foreign"]) == 10


def test_variant_of_another_product_is_refused(client, catalog):
    body = _body(
        catalog,
        line_items=[
            {
                "product_id": catalog["plate"].product.public_id,
                "variant_id": catalog["mug"].public_id,
                "quantity": 1,
            }
        ],
    )

    response = client.post("/v1/orders", body, format="json")

    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "line_items[0].product_id"


def test_malformed_json_is_400_in_the_envelope(client):
    response = client.post("/v1/orders", "{not json", content_type="application/json")

    assert_error(response, 400, "MALFORMED_REQUEST")


def test_a_json_list_body_is_400(client):
    response = client.post("/v1/orders", [1, 2], format="json")

    assert_error(response, 400, "VALIDATION_ERROR")


def test_read_only_key_cannot_create(store, catalog):
    reader = api_client(make_api_key(store=store, scopes=["read:orders"]))

    response = reader.post("/v1/orders", _body(catalog), format="json")

    assert_error(response, 403, "INSUFFICIENT_SCOPE")
    assert "write:orders" in response.json()["error"]["message"]
    assert Order.objects.count() == 0


def test_pickup_orders_need_no_shipping_and_may_complete_from_processing(client, catalog):
    data = client.post(
        "/v1/orders", _body(catalog, shipping_method="pickup"), format="json"
    ).json()["data"]

    assert data["requires_shipping"] is False
    assert data["shipping_cost"] == 0.0
    order = Order.objects.get(pk=data["id"].removeprefix("ord_"))
    order.status = "processing"
    assert order.allowed_transitions == ["shipped", "completed", "cancelled"]
