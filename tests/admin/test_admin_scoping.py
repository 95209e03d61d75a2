"""Per-store scoping of the staff admin: a member of store A never lists, opens, changes
or counts store B's rows, by any admin URL, guessed ids included."""

import io
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from notes.services import note_create
from orders.ids import uuid7
from orders.models import ApiKey, Order, StoreMembership
from refunds.services import refund_create
from tests.factories import (
    make_api_key,
    make_customer,
    make_order,
    make_store,
    make_variant,
    staff_client,
)
from tests.helpers import csv_rows, order_state

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
    """Alice, logged in to the admin as a staff member of `store` (store A)."""
    return staff_client(store, username="alice@a.example")


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
    client = staff_client(username="nobody@x.example")

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


# --- every back-office URL, with store B's rows and a member of store A -------------------


# What an order action could change of the order itself: order_state without what the
# order shares with every other (the stock, the mail queue, the admin log).
RECORD = [
    "status",
    "payment_status",
    "refunded_amount",
    "updated_at",
    "notes",
    "refunds",
    "history",
]


def order_record(order) -> dict:
    state = order_state(order)
    return {field: state[field] for field in RECORD}


# (the action's URL name, the payment status the order needs for it, a valid form)
ORDER_ACTIONS = [
    pytest.param(
        "transition", "pending", {"to_status": "confirmed", "reason": "OK"}, id="transition"
    ),
    pytest.param("void", "pending", {"reason": "Duplicate order"}, id="void"),
    pytest.param("mark-paid", "pending", {"reason": "Cash received"}, id="mark-paid"),
    pytest.param(
        "refund", "paid", {"amount": "5.00", "reason": "Goodwill", "confirm": "1"}, id="refund"
    ),
    pytest.param(
        "notes", "pending", {"content": "Call her back", "visibility": "internal"}, id="notes"
    ),
]


@pytest.mark.parametrize(("action", "payment_status", "form"), ORDER_ACTIONS)
def test_a_member_cannot_act_on_another_stores_order(
    staff_a, other_store, action, payment_status, form
):
    order_b = make_order(store=other_store, payment_status=payment_status)
    before = order_record(order_b)

    response = staff_a.post(f"/admin/orders/order/{order_b.pk}/{action}/", form)

    assert response.status_code == 404
    assert order_record(order_b) == before


@pytest.mark.parametrize(("action", "payment_status", "form"), ORDER_ACTIONS)
def test_the_same_post_acts_on_the_members_own_order(staff_a, store, action, payment_status, form):
    """The control of the test above: the refused posts are valid ones."""
    order_a = make_order(store=store, payment_status=payment_status)
    before = order_record(order_a)

    response = staff_a.post(f"/admin/orders/order/{order_a.pk}/{action}/", form)

    assert response.status_code == 302
    assert response["Location"].startswith(f"/admin/orders/order/{order_a.pk}/change/")
    assert order_record(order_a) != before


@pytest.mark.parametrize("action", ["transition", "void", "mark-paid", "refund", "notes"])
@pytest.mark.parametrize("object_id", [uuid7(), "not-an-id"], ids=["missing", "malformed"])
def test_order_actions_answer_404_for_ids_that_are_not_the_members(staff_a, action, object_id):
    response = staff_a.post(f"/admin/orders/order/{object_id}/{action}/", {})

    assert response.status_code == 404


def test_another_stores_order_page_answers_like_a_missing_order(staff_a, rows):
    foreign = staff_a.get(f"/admin/orders/order/{rows['order_b'].pk}/change/")
    missing = staff_a.get(f"/admin/orders/order/{uuid7()}/change/")

    assert (foreign.status_code, foreign["Location"]) == (302, "/admin/")
    assert (missing.status_code, missing["Location"]) == (302, "/admin/")
    shown = staff_a.get("/admin/").content.decode()
    assert "doesn’t exist" in shown
    assert "Bertha" not in shown


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"store": "B"},
        {"q": "Bertha"},
        {"q": "Bertha", "store": "B"},
        {"q": "1001"},
        {"store_id": "B"},
        {"store__id__exact": "B"},
        {"id": "ORDER_B"},
    ],
    ids=["everything", "store-filter", "search", "search-and-store", "order-number",
         "store-id-lookup", "store-relation-lookup", "order-id-lookup"],
)  # fmt: skip
def test_the_export_never_contains_another_stores_orders(staff_a, rows, other_store, query):
    stand_ins = {"B": other_store.pk, "ORDER_B": rows["order_b"].pk}
    query = {name: stand_ins.get(value, value) for name, value in query.items()}

    exported = csv_rows(staff_a.get("/admin/orders/order/export/", query))
    listed = staff_a.get("/admin/orders/order/", query).context["cl"].result_list

    exported_ids = [row[1] for row in exported[1:]]
    assert exported_ids == [order.public_id for order in listed]
    assert rows["order_b"].public_id not in exported_ids
    assert all(order.store_id != other_store.pk for order in listed)
    assert "Bertha Secret" not in str(exported)


@pytest.mark.parametrize("lookup", ["store__name", "customer__name"])
def test_the_export_refuses_lookups_through_relations(staff_a, rows, lookup):
    # Django's answer to a lookup the admin does not offer: 400, nothing exported.
    response = staff_a.get("/admin/orders/order/export/", {lookup: "Bertha Secret"})

    assert response.status_code == 400
    assert not response.streaming


def test_the_export_has_the_members_orders(staff_a, rows):
    exported = csv_rows(staff_a.get("/admin/orders/order/export/"))

    assert [row[1] for row in exported[1:]] == [rows["order_a"].public_id]


def test_the_dashboard_shows_only_the_members_store(staff_a, store, other_store, rows):
    make_order(store=other_store, status="confirmed")

    response = staff_a.get("/admin/")

    board = response.context["dashboard"]
    assert board.store == store
    assert board.stores == [store]
    assert {row.status: row.count for row in board.status_counts if row.count} == {"pending": 1}
    assert [order.pk for order in board.latest] == [rows["order_a"].pk]
    assert sum(day.orders for day in board.days) == 1
    body = response.content.decode()
    assert "Bertha Secret" not in body
    assert "Other Store" not in body


def test_another_stores_dashboard_is_not_found(staff_a, other_store):
    response = staff_a.get("/admin/", {"store": other_store.public_id})

    assert response.status_code == 404


@pytest.fixture
def records(store, other_store):
    """A note and a refund on a paid order of each store; B's carry words A must not see."""
    order_a = make_order(store=store, payment_status="paid")
    order_b = make_order(store=other_store, payment_status="paid")
    return {
        "ordernote_a": note_create(
            store=store, order=order_a, content="Alice own note", is_internal=True, author="t"
        ),
        "ordernote_b": note_create(
            store=other_store, order=order_b, content="Bertha secret note", is_internal=False,
            author="t",
        ),
        "refund_a": refund_create(
            store=store, order=order_a, actor="t", amount=Decimal("3.00"), reason="Alice refund"
        ),
        "refund_b": refund_create(
            store=other_store, order=order_b, actor="t", amount=Decimal("4.00"),
            reason="Bertha secret refund",
        ),
    }  # fmt: skip


@pytest.mark.parametrize(
    ("path", "own", "secret"),
    [
        ("notes/ordernote", "Alice own note", "Bertha secret note"),
        ("refunds/refund", "Alice refund", "Bertha secret refund"),
    ],
)
def test_notes_and_refunds_lists_show_only_the_members_store(staff_a, records, path, own, secret):
    response = staff_a.get(f"/admin/{path}/")

    body = response.content.decode()
    assert response.status_code == 200
    assert own in body
    assert secret not in body
    assert [row.store_id for row in response.context["cl"].result_list] == [
        records[f"{path.split('/')[1]}_a"].store_id
    ]


@pytest.mark.parametrize("path", ["notes/ordernote", "refunds/refund"])
def test_searching_records_by_order_number_stays_in_the_store(staff_a, records, path):
    # Both stores number their orders from 1001.
    response = staff_a.get(f"/admin/{path}/", {"q": "1001"})

    assert [row.pk for row in response.context["cl"].result_list] == [
        records[f"{path.split('/')[1]}_a"].pk
    ]


@pytest.mark.parametrize("path", ["notes/ordernote", "refunds/refund"])
def test_another_stores_note_or_refund_cannot_be_opened(staff_a, records, path):
    record = records[f"{path.split('/')[1]}_b"]

    foreign = staff_a.get(f"/admin/{path}/{record.pk}/change/")
    missing = staff_a.get(f"/admin/{path}/{uuid7()}/change/")

    assert (foreign.status_code, foreign["Location"]) == (302, "/admin/")
    assert (missing.status_code, missing["Location"]) == (302, "/admin/")
    assert "Bertha" not in staff_a.get("/admin/").content.decode()


@pytest.mark.parametrize("page", ["change/", "history/", "delete/"])
@pytest.mark.parametrize(
    ("path", "row"),
    [
        ("orders/order", "order_b"),
        ("notes/ordernote", "ordernote_b"),
        ("refunds/refund", "refund_b"),
        ("orders/apikey", "key_b"),
        ("orders/customer", "customer_b"),
    ],
)
def test_every_page_of_another_stores_row_answers_like_a_missing_rows(
    staff_a, rows, records, path, row, page
):
    found = {**rows, **records, "customer_b": rows["order_b"].customer}

    foreign = staff_a.get(f"/admin/{path}/{found[row].pk}/{page}")
    missing = staff_a.get(f"/admin/{path}/{uuid7()}/{page}")

    assert foreign.status_code in {302, 403}
    assert (foreign.status_code, foreign.get("Location")) == (
        missing.status_code,
        missing.get("Location"),
    )
    assert "Bertha" not in foreign.content.decode()


@pytest.mark.parametrize("path", ["notes/ordernote", "refunds/refund"])
def test_a_member_opens_their_own_note_or_refund(staff_a, records, path):
    record = records[f"{path.split('/')[1]}_a"]

    response = staff_a.get(f"/admin/{path}/{record.pk}/change/")

    assert response.status_code == 200
    assert "Bertha" not in response.content.decode()


def test_another_stores_key_cannot_be_changed(staff_a, rows):
    key_b = rows["key_b"]

    response = staff_a.post(f"/admin/orders/apikey/{key_b.pk}/change/", {"name": "hijacked"})

    assert (response.status_code, response["Location"]) == (302, "/admin/")
    key_b.refresh_from_db()
    assert key_b.name == "test"


def test_revoking_keys_never_reaches_another_stores_key(staff_a, store, rows):
    key_a = ApiKey.objects.get(store=store)
    key_b = rows["key_b"]

    staff_a.post(
        "/admin/orders/apikey/",
        {"action": "revoke_keys", "_selected_action": [str(key_b.pk), str(key_a.pk)]},
    )

    key_a.refresh_from_db()
    key_b.refresh_from_db()
    assert key_a.revoked_at is not None
    assert key_b.revoked_at is None


def test_revoking_only_another_stores_key_revokes_nothing(staff_a, rows):
    key_b = rows["key_b"]

    staff_a.post("/admin/orders/apikey/", {"action": "revoke_keys", "_selected_action": [key_b.pk]})

    assert ApiKey.objects.filter(revoked_at__isnull=False).count() == 0


def test_a_member_cannot_issue_a_key_for_another_store(staff_a, other_store):
    form = {"store": other_store.pk, "name": "sneaky", "scopes": ["read:orders"]}

    response = staff_a.post("/admin/orders/apikey/add/", form)

    assert response.status_code == 200
    assert "store" in response.context["adminform"].form.errors
    assert not ApiKey.objects.filter(name="sneaky").exists()


def test_a_member_issues_a_key_for_their_store(staff_a, store):
    form = {"store": store.pk, "name": "ERP sync", "scopes": ["read:orders"]}

    response = staff_a.post("/admin/orders/apikey/add/", form)

    assert response.status_code == 200  # the page that shows the new key once
    assert ApiKey.objects.get(name="ERP sync").store == store


def bulk_move(client, orders, to_status="confirmed"):
    return client.post(
        "/admin/orders/order/",
        {
            "action": "move_to_status",
            "_selected_action": [str(order.pk) for order in orders],
            "to_status": to_status,
            "reason": "",
            "apply": "1",
        },
    )


def test_a_bulk_move_never_reaches_another_stores_orders(staff_a, rows):
    before = order_record(rows["order_b"])

    response = bulk_move(staff_a, [rows["order_b"]])

    assert response.status_code == 200
    assert order_record(rows["order_b"]) == before


def test_a_bulk_move_of_both_stores_orders_moves_only_the_members(staff_a, rows):
    before = order_record(rows["order_b"])

    response = bulk_move(staff_a, [rows["order_a"], rows["order_b"]])

    assert [outcome.order.pk for outcome in response.context["outcomes"]] == [rows["order_a"].pk]
    assert Order.objects.get(pk=rows["order_a"].pk).status == "confirmed"
    assert order_record(rows["order_b"]) == before


def test_a_bulk_move_of_everything_listed_moves_only_the_members_orders(staff_a, rows, store):
    second = make_order(store=store)
    before = order_record(rows["order_b"])

    response = staff_a.post(
        "/admin/orders/order/",
        {
            "action": "move_to_status",
            "select_across": "1",
            "_selected_action": [str(rows["order_a"].pk)],
            "to_status": "confirmed",
            "reason": "",
            "apply": "1",
        },
    )

    assert {outcome.order.pk for outcome in response.context["outcomes"]} == {
        rows["order_a"].pk,
        second.pk,
    }
    assert set(Order.objects.filter(store=store).values_list("status", flat=True)) == {"confirmed"}
    assert order_record(rows["order_b"]) == before


def test_a_member_of_two_stores_cannot_pick_a_third_with_the_store_filter(store, rows, other_store):
    third = make_store(name="Third Store")
    make_order(store=third, customer_name="Thelma Third")
    client = staff_client(store, third, username="two@stores.example")

    listed = client.get("/admin/orders/order/", {"store": other_store.pk}).context["cl"]
    exported = csv_rows(client.get("/admin/orders/order/export/", {"store": other_store.pk}))

    assert list(listed.result_list) == []
    assert exported[1:] == []
    assert client.get("/admin/", {"store": other_store.public_id}).status_code == 404


def test_a_superuser_sees_both_stores(rows, records, store, other_store):
    client = staff_client(username="root", superuser=True)

    orders = client.get("/admin/orders/order/").context["cl"].result_list
    notes = client.get("/admin/notes/ordernote/").context["cl"].result_list
    refunds = client.get("/admin/refunds/refund/").context["cl"].result_list
    exported = csv_rows(client.get("/admin/orders/order/export/"))
    board = client.get("/admin/").context["dashboard"]

    both = {store.pk, other_store.pk}
    assert {order.store_id for order in orders} == both
    assert {note.store_id for note in notes} == both
    assert {refund.store_id for refund in refunds} == both
    assert rows["order_b"].public_id in [row[1] for row in exported]
    assert set(board.stores) == {store, other_store}
    assert client.get("/admin/", {"store": other_store.public_id}).context["dashboard"].store == (
        other_store
    )


@pytest.mark.parametrize(
    "path",
    ["orders/order/", "orders/order/export/", "notes/ordernote/", "refunds/refund/",
     "orders/apikey/", "orders/customer/"],
)  # fmt: skip
def test_a_staff_user_without_membership_is_refused_every_list(rows, path):
    client = staff_client(username="nobody@x.example")

    assert client.get(f"/admin/{path}").status_code == 403
