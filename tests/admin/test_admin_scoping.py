"""Per-store scoping of the staff admin: a member of store A never lists, opens, changes
or counts store B's rows, by any admin URL, guessed ids included."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import Client

from orders.models import ApiKey, Order, StoreMembership
from tests.factories import make_api_key, make_customer, make_order, make_variant

pytestmark = pytest.mark.django_db

SCOPED_LISTS = [
    "orders/order",
    "orders/customer",
    "orders/product",
    "orders/apikey",
    "orders/store",
]


@pytest.fixture
def staff_a(store):
    user = get_user_model().objects.create_user("alice@a.example", password="pw", is_staff=True)
    StoreMembership.objects.create(store=store, user=user)
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def rows(store, other_store):
    """One of each scoped row in both stores; B's carry names A must never see."""
    make_api_key(store=store)
    make_api_key(store=other_store)
    return {
        "order_a": make_order(store=store, customer=make_customer(store=store, name="Alice Own")),
        "order_b": make_order(
            store=other_store, customer=make_customer(store=other_store, name="Bertha Secret")
        ),
        "variant_b": make_variant(store=other_store, product_name="Secret Teapot"),
        "key_b": ApiKey.objects.get(store=other_store),
    }


@pytest.mark.parametrize("path", SCOPED_LISTS)
def test_lists_show_only_the_members_store(staff_a, rows, path):
    response = staff_a.get(f"/admin/{path}/")

    assert response.status_code == 200
    body = response.content.decode()
    assert "Bertha Secret" not in body
    assert "Secret Teapot" not in body
    assert "Other Store" not in body
    assert rows["key_b"].prefix not in body


def test_the_order_list_shows_the_members_orders(staff_a, rows):
    body = staff_a.get("/admin/orders/order/").content.decode()

    assert f"#{rows['order_a'].order_number}" in body
    assert "Alice Own" in body


@pytest.mark.parametrize(
    ("path", "row"),
    [
        ("orders/order/{}/change/", "order_b"),
        ("orders/product/{}/change/", "variant_b"),
        ("orders/apikey/{}/change/", "key_b"),
    ],
)
def test_another_stores_row_cannot_be_opened_by_guessing_its_id(staff_a, rows, path, row):
    obj = rows[row]
    pk = obj.product_id if row == "variant_b" else obj.pk

    response = staff_a.get(f"/admin/{path.format(pk)}")

    assert response.status_code in {302, 404}
    assert "Bertha" not in response.content.decode()


def test_searching_cannot_reach_another_store(staff_a, rows):
    body = staff_a.get("/admin/orders/order/", {"q": "Bertha"}).content.decode()

    assert "Bertha Secret" not in body
    assert "0 orders" in body or "0 results" in body


def test_orders_cannot_be_changed_or_deleted_from_the_admin(staff_a, rows):
    order = rows["order_a"]

    staff_a.post(f"/admin/orders/order/{order.pk}/change/", {"status": "completed"})
    response = staff_a.post(f"/admin/orders/order/{order.pk}/delete/", {"post": "yes"})

    assert response.status_code == 403
    assert Order.objects.get(pk=order.pk).status == "pending"


def test_a_staff_user_without_membership_sees_nothing(rows):
    user = get_user_model().objects.create_user("nobody@x.example", password="pw", is_staff=True)
    client = Client()
    client.force_login(user)

    assert client.get("/admin/orders/order/").status_code == 403


def test_create_staff_gives_a_login_to_one_store(store):
    out = io.StringIO()

    call_command("create_staff", "--store", store.public_id, "--email", "Bob@A.example", stdout=out)

    user = get_user_model().objects.get(username="bob@a.example")
    assert user.is_staff
    assert not user.is_superuser
    assert StoreMembership.objects.filter(store=store, user=user).exists()
    assert "Password (shown once):" in out.getvalue()


def test_create_staff_refuses_an_unknown_store(db):
    with pytest.raises(CommandError, match="No store"):
        call_command("create_staff", "--store", "str_nope", "--email", "x@y.example")
