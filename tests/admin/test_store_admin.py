"""The store's own settings: staff name it and set its zone; its plan is Ordo's to set,
and its currency is fixed once it has orders (every amount is in it)."""

import pytest

from orders.models import Store, StoreMembership
from tests.factories import make_order, staff_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(store):
    """Olga, logged in to the admin as the owner of `store`."""
    return staff_client(store, username="olga", role=StoreMembership.Role.OWNER)


@pytest.fixture
def superuser(db):
    return staff_client(username="root", superuser=True)


def store_form(store, **changes) -> dict:
    return {"name": store.name, "currency": store.currency, "timezone": store.timezone,
            "plan": store.plan, **changes}  # fmt: skip


def change_url(store) -> str:
    return f"/admin/orders/store/{store.pk}/change/"


def test_a_member_renames_the_store_and_sets_its_time_zone(owner, store):
    response = owner.post(
        change_url(store), store_form(store, name="Acme Outdoors", timezone="Europe/Berlin")
    )

    assert response.status_code == 302
    store.refresh_from_db()
    assert (store.name, store.timezone) == ("Acme Outdoors", "Europe/Berlin")


def test_a_member_cannot_upgrade_the_plan(free_store):
    owner = staff_client(free_store, username="fay", role=StoreMembership.Role.OWNER)

    response = owner.post(change_url(free_store), store_form(free_store, plan="premium"))

    assert response.status_code == 302  # the rest of the form saved; the plan is read-only
    assert Store.objects.get(pk=free_store.pk).plan == "free"


def test_a_member_cannot_downgrade_the_plan(owner, store):
    assert store.plan == "premium"

    owner.post(change_url(store), store_form(store, plan="free", name="Acme Outdoors"))

    store.refresh_from_db()
    assert (store.name, store.plan) == ("Acme Outdoors", "premium")


def test_a_member_sees_the_plan_but_no_field_to_change_it(owner, store):
    response = owner.get(change_url(store))

    assert "plan" not in response.context["adminform"].form.fields
    assert "Premium" in response.content.decode()


def test_a_superuser_upgrades_a_free_store(superuser, free_store):
    superuser.post(change_url(free_store), store_form(free_store, plan="premium"))

    assert Store.objects.get(pk=free_store.pk).plan == "premium"


def test_a_superuser_moves_a_store_back_to_free(superuser, store):
    superuser.post(change_url(store), store_form(store, plan="free"))

    assert Store.objects.get(pk=store.pk).plan == "free"


def test_a_new_store_is_free(superuser):
    response = superuser.post(
        "/admin/orders/store/add/",
        {"name": "New Shop", "currency": "USD", "timezone": "UTC", "plan": "free"},
    )

    assert response.status_code == 302
    assert Store.objects.get(name="New Shop").plan == "free"
    assert Store(name="Defaults").plan == "free"


def test_the_currency_is_fixed_once_the_store_has_orders(owner, store):
    make_order(store=store)

    owner.post(change_url(store), store_form(store, currency="EUR"))

    assert Store.objects.get(pk=store.pk).currency == "USD"


def test_the_currency_of_a_store_without_orders_may_change(owner, store):
    owner.post(change_url(store), store_form(store, currency="eur"))

    assert Store.objects.get(pk=store.pk).currency == "EUR"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("currency", "ZZZ", "&#x27;ZZZ&#x27; is not an ISO 4217 currency code"),
        ("timezone", "Nowhere/Bogus", "Select a valid choice."),
    ],
)
def test_an_unknown_currency_or_time_zone_is_refused(owner, store, field, value, message):
    response = owner.post(change_url(store), store_form(store, **{field: value}))

    assert response.status_code == 200
    assert message in response.content.decode()
    assert getattr(Store.objects.get(pk=store.pk), field) == getattr(store, field)


def test_a_superuser_may_choose_any_store_for_a_new_row(superuser, store, other_store):
    response = superuser.get("/admin/orders/shippingmethod/add/")

    choices = response.context["adminform"].form.fields["store"].queryset
    assert set(choices) == {store, other_store}
