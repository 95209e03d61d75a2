"""A refusal reads the same to staff and to an integrator: the service's own words. Only the
next step differs by surface: the API names its routes and headers, the admin its page."""

import pytest

from tests.factories import make_order, staff_client

pytestmark = pytest.mark.django_db

PAYMENT_REFUSED = (
    "Payment status cannot go from 'refunded' to 'paid' on a completed order. Allowed: none. "
    "The refunded statuses are set by refunds alone."
)


def admin_messages(response) -> list[tuple[str, str]]:
    return [(message.level_tag, message.message) for message in response.context["messages"]]


def test_the_admin_shows_a_refused_payment_step_in_the_services_words(store):
    order = make_order(store=store, status="completed", payment_status="refunded")
    browser = staff_client(store, username="ana")

    response = browser.post(
        f"/admin/orders/order/{order.pk}/mark-paid/", {"etag": order.etag}, follow=True
    )

    assert admin_messages(response) == [("error", PAYMENT_REFUSED)]


def test_the_api_gives_the_same_words_and_adds_its_route(store, client):
    order = make_order(store=store, status="completed", payment_status="refunded")

    response = client.patch(
        f"/v1/orders/{order.public_id}", {"payment_status": "paid"}, format="json"
    )

    assert response.status_code == 422
    assert response.json()["error"]["message"] == (
        f"{PAYMENT_REFUSED} Refunds go through POST /orders/{{id}}/refunds."
    )


def test_a_stale_page_and_a_stale_if_match_share_what_went_wrong_not_what_to_do(store, client):
    order = make_order(store=store)
    stale_etag = order.etag
    client.patch(f"/v1/orders/{order.public_id}", {"po_number": "PO-1"}, format="json")
    browser = staff_client(store, username="ana")

    admin = browser.post(
        f"/admin/orders/order/{order.pk}/transition/",
        {"to_status": "confirmed", "etag": stale_etag},
        follow=True,
    )
    api = client.patch(
        f"/v1/orders/{order.public_id}",
        {"status": "confirmed"},
        format="json",
        HTTP_IF_MATCH=stale_etag,
    )

    changed = "Someone changed this order while you had it open, so nothing was done."
    assert admin_messages(admin) == [
        ("error", f"{changed} The page now shows the order as it is: check it and try again.")
    ]
    assert api.json()["error"]["message"] == (
        f"{changed} GET the order again, re-apply your change, and retry with its new ETag in "
        "If-Match."
    )


@pytest.mark.parametrize(
    ("status", "payment_status", "action", "post"),
    [
        ("pending", "pending", "transition", {"to_status": "shipped", "carrier": "UPS",
                                              "tracking_number": "1Z"}),
        ("shipped", "paid", "void", {}),
        ("confirmed", "paid", "transition", {"to_status": "cancelled", "reason": "No stock"}),
        ("completed", "refunded", "mark-paid", {}),
    ],
)  # fmt: skip
def test_no_refusal_shown_to_staff_speaks_of_routes_or_headers(
    store, status, payment_status, action, post
):
    order = make_order(store=store, status=status, payment_status=payment_status)
    browser = staff_client(store, username="ana")

    response = browser.post(
        f"/admin/orders/order/{order.pk}/{action}/", {**post, "etag": order.etag}, follow=True
    )

    [(level, message)] = admin_messages(response)
    assert level == "error"
    for api_word in ("POST /", "PATCH", "/orders/", "If-Match", "ETag", "details"):
        assert api_word not in message
