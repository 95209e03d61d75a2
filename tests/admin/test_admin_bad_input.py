"""The staff admin never answers 500 to bad input in an address: a NUL in any query
parameter is a plain 400 page (PostgreSQL text cannot hold one), and garbage in the order
list's filters, sort and page sends staff back to a working list."""

import pytest
from django.contrib.admin.models import LogEntry

from orders.models import Order
from tests.factories import make_order, staff_client

pytestmark = pytest.mark.django_db

ORDER_LIST = "/admin/orders/order/"


def assert_nul_refused(response, name: str) -> None:
    assert response.status_code == 400
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    text = response.content.decode()
    assert "NUL character" in text
    assert f"'{name}'" in text


@pytest.mark.parametrize("name", ["country", "shipping", "status", "store", "q", "o", "p"])
def test_a_nul_in_an_order_list_parameter_is_a_plain_400(browser, store, name):
    order = make_order(store=store)

    response = browser.get(ORDER_LIST, {name: "US\x00"})

    assert_nul_refused(response, name)
    assert Order.objects.get(pk=order.pk).updated_at == order.updated_at


def test_a_nul_in_an_autocomplete_term_is_a_plain_400(browser):
    params = {"term": "\x00ana", "app_label": "orders", "model_name": "order"}

    response = browser.get("/admin/autocomplete/", {**params, "field_name": "customer"})

    assert_nul_refused(response, "term")


def test_a_nul_in_a_parameter_name_is_a_plain_400(browser):
    response = browser.get(f"{ORDER_LIST}?coun%00try=US")

    assert_nul_refused(response, "coun\\0try")


def test_a_nul_in_the_query_of_an_admin_post_changes_nothing(browser, store):
    order = make_order(store=store)
    url = f"{ORDER_LIST}{order.pk}/notes/?next=%00"

    response = browser.post(url, {"content": "Called the customer"})

    assert_nul_refused(response, "next")
    assert not order.notes.exists()
    assert not LogEntry.objects.exists()


@pytest.mark.parametrize(
    "params",
    [
        {"status": "bogus"},
        {"payment_status": "bogus"},
        {"country": "ZZZ"},
        {"shipping": "no-such-method"},
        {"o": "99"},
        {"o": "abc"},
        {"o": "1.-99.x"},
        {"p": "99999"},
        {"p": "abc"},
        {"p": "-1"},
        {"p": "99999999999999999999999999"},
        {"q": "x" * 3000},
        {"q": "%_'\\"},
    ],
    ids=lambda params: "&".join(f"{k}={v[:12]}" for k, v in params.items()),
)
def test_garbage_in_the_list_filters_sort_or_page_still_shows_the_list(browser, store, params):
    make_order(store=store)

    response = browser.get(ORDER_LIST, params)

    assert response.status_code == 200
    assert "cl" in response.context


@pytest.mark.parametrize(
    "params",
    [
        {"created_at__gte": "not-a-date"},
        {"created_at__gte": "99999-01-01"},
        {"created_at__year": "99999"},
        {"created_at__year": "0"},
        {"created_at__year": "abc"},
        {"created_at__year": "2024", "created_at__month": "13"},
        {"created_at__year": "2024", "created_at__month": "2", "created_at__day": "31"},
        {"total__gt": "abc"},
    ],
    ids=lambda params: "&".join(f"{k}={v[:12]}" for k, v in params.items()),
)
def test_an_impossible_filter_value_sends_staff_back_to_the_list_flagged(browser, store, params):
    make_order(store=store)

    response = browser.get(ORDER_LIST, params)

    # Django's "invalid filters" answer: back to the unfiltered list with ?e=1.
    assert response.status_code == 302
    assert response["Location"] == f"{ORDER_LIST}?e=1"


@pytest.mark.parametrize("store_id", ["abc", "99999999999999999999999", "str_x"])
def test_a_store_filter_naming_no_store_sends_a_two_store_member_back_flagged(
    store, other_store, store_id
):
    make_order(store=store)
    browser = staff_client(store, other_store)

    response = browser.get(ORDER_LIST, {"store": store_id})

    assert response.status_code == 302
    assert response["Location"] == f"{ORDER_LIST}?e=1"


@pytest.mark.parametrize(
    "changelist",
    [
        "/admin/orders/customer/",
        "/admin/orders/product/",
        "/admin/orders/store/",
        "/admin/orders/apikey/",
        "/admin/auth/user/",
        "/admin/notes/ordernote/",
    ],
)
@pytest.mark.parametrize("year", ["0", "99999", "-1"])
def test_every_admin_list_flags_an_impossible_year_instead_of_a_500(changelist, year):
    superuser = staff_client(superuser=True)
    field = "date_joined" if "auth/user" in changelist else "created_at"

    response = superuser.get(changelist, {f"{field}__year": year})

    assert response.status_code == 302, response.content[:300]
    assert response["Location"] == f"{changelist}?e=1"


@pytest.mark.parametrize("store_id", ["abc", "str_x"])
def test_a_store_filter_naming_no_store_flags_a_one_store_member_too(browser, store, store_id):
    make_order(store=store)

    response = browser.get(ORDER_LIST, {"store": store_id})

    assert response.status_code == 302
    assert response["Location"] == f"{ORDER_LIST}?e=1"


def test_a_one_store_member_filtering_by_another_stores_id_sees_nothing(
    browser, store, other_store
):
    make_order(store=store)

    response = browser.get(ORDER_LIST, {"store": str(other_store.pk)})

    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == []
