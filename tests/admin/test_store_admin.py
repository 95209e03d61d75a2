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


def test_a_member_cannot_change_the_plan(owner, store):
    owner.post(change_url(store), store_form(store, plan="premium"))

    assert Store.objects.get(pk=store.pk).plan == "free"


def test_a_superuser_changes_the_plan(superuser, store):
    superuser.post(change_url(store), store_form(store, plan="premium"))

    assert Store.objects.get(pk=store.pk).plan == "premium"


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
