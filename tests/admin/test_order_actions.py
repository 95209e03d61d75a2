"""The order page's buttons: each posts to one action view, which calls one service.

What the service allows happens, with the staff member's name in the history; what it
refuses changes nothing and comes back as a message on the page, never as a 500.
"""

import re
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.utils import timezone

from notes.models import OrderNote
from orders.models import Fulfillment, Order
from orders.services import LineRequest, order_create, order_transition, order_update
from refunds.models import Refund
from tests.concurrency import requires_postgresql, run_concurrently
from tests.factories import (
    make_customer,
    make_order,
    make_shipping_method,
    make_tax_rate,
    make_variant,
    staff_client,
)
from tests.helpers import last_change, messages_of, order_state, seed_003_address, stock_of

pytestmark = pytest.mark.django_db

STALE_PAGE = (
    "Someone changed this order while you had it open, so nothing was done. "
    "The page now shows the order as it is: check it and try again."
)


# --- builders ------------------------------------------------------------------------------


@pytest.fixture
def outsider(other_store):
    """A staff member of another store only."""
    return staff_client(other_store, username="otto")


@pytest.fixture
def catalog(store):
    """A 24.00 mug with 10 in stock, standard shipping at 5.99, Oregon taxed at 11 %."""
    make_shipping_method(store=store, code="standard", price="5.99")
    make_tax_rate(store=store, country_code="US", province="OR", rate="0.11")
    return {
        "mug": make_variant(store=store, price="24.00", stock=10, product_name="Ceramic Mug"),
        "customer": make_customer(store=store, name="Jane Cooper", email="jane@example.com"),
    }


def placed_order(store, catalog, *, quantity=2, paid=False) -> Order:
    """An order of `quantity` mugs made by order_create (so its units are reserved):
    48.00 + 5.28 tax + 5.99 shipping = 59.27."""
    order = order_create(
        store=store,
        actor="system",
        lines=[LineRequest(variant_id=catalog["mug"].pk, quantity=quantity)],
        shipping_address=seed_003_address(),
        shipping_method="standard",
        customer_id=catalog["customer"].pk,
    )
    if paid:
        order = order_update(store=store, order=order, actor="system", payment_status="paid")
    return order


def url(order, action: str) -> str:
    return f"/admin/orders/order/{order.pk}/{action}/"


def page_url(order) -> str:
    return f"/admin/orders/order/{order.pk}/change/"


def shown_status(response) -> str:
    return re.search(r'id="order-status">([^<]*)<', response.content.decode()).group(1)


def transition_buttons(response) -> list[str]:
    return re.findall(r'data-transition="([a-z_]+)"', response.content.decode())


def etag_on_page(response) -> str:
    return response.context["etag"]


class _FormFields(HTMLParser):
    """The name → value pairs a browser would submit from the form with id `form_id`."""

    def __init__(self, form_id: str):
        super().__init__()
        self.form_id = form_id
        self.inside = False
        self.fields: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.inside = attrs.get("id") == self.form_id
        elif self.inside and tag == "input" and attrs.get("name"):
            if attrs.get("type") in {"checkbox", "radio"} and "checked" not in attrs:
                return
            self.fields.append((attrs["name"], attrs.get("value") or ""))

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False


def form_fields(response, form_id: str) -> dict[str, list[str]]:
    parser = _FormFields(form_id)
    parser.feed(response.content.decode())
    fields: dict[str, list[str]] = {}
    for name, value in parser.fields:
        fields.setdefault(name, []).append(value)
    return fields


# --- status steps --------------------------------------------------------------------------


def test_confirming_with_a_reason_moves_the_order_and_records_who_and_why(store, browser):
    order = make_order(store=store)
    before = timezone.now()

    response = browser.post(
        url(order, "transition"),
        {"to_status": "confirmed", "reason": "Payment verified", "etag": order.etag},
        follow=True,
    )

    assert response.status_code == 200
    order.refresh_from_db()
    assert order.status == "confirmed"
    assert order.confirmed_at is not None
    assert order.confirmed_at >= before
    assert order.confirmed_at == order.updated_at
    change = last_change(order)
    assert (change.from_status, change.to_status) == ("pending", "confirmed")
    assert (change.changed_by, change.reason) == ("ana", "Payment verified")
    assert messages_of(response) == [("success", "Order #1001 is now Confirmed.")]
    assert shown_status(response) == "Confirmed"
    assert transition_buttons(response) == order.allowed_transitions == ["processing", "cancelled"]
    history = re.search(r'id="status-history">(.*?)</table>', response.content.decode(), re.S)
    assert re.search(
        r"<td>ana</td>\s*<td>Pending</td><td>Confirmed</td>.*?<td>Payment verified</td>",
        history.group(1),
        re.S,
    )


def test_the_page_offers_exactly_the_orders_allowed_transitions(store, browser):
    paid = make_order(store=store, status="confirmed", payment_status="paid")

    response = browser.get(page_url(paid))

    # A paid order is refunded before it is cancelled: no cancel button.
    assert transition_buttons(response) == paid.allowed_transitions == ["processing"]


def test_shipping_without_carrier_and_tracking_number_is_refused_and_changes_nothing(
    store, browser
):
    order = make_order(store=store, status="processing")
    before = order_state(order)

    response = browser.post(
        url(order, "transition"),
        {"to_status": "shipped", "carrier": "", "tracking_number": " ", "etag": order.etag},
        follow=True,
    )

    assert response.status_code == 200
    needs = "Shipping an order needs a carrier and a tracking number."
    assert messages_of(response) == [("error", f"Carrier: {needs} Tracking number: {needs}")]
    assert order_state(order) == before


def test_shipping_with_carrier_and_tracking_number_creates_the_shipment(store, browser):
    order = make_order(store=store, status="processing")

    response = browser.post(
        url(order, "transition"),
        {
            "to_status": "shipped",
            "carrier": "UPS",
            "tracking_number": "1Z999AA10123456784",
            "tracking_url": "https://ups.example/1Z999AA10123456784",
            "etag": order.etag,
        },
        follow=True,
    )

    order.refresh_from_db()
    assert order.status == "shipped"
    assert order.shipped_at == order.updated_at
    shipment = Fulfillment.objects.get(order=order)
    assert (shipment.carrier, shipment.tracking_number, shipment.tracking_url) == (
        "UPS",
        "1Z999AA10123456784",
        "https://ups.example/1Z999AA10123456784",
    )
    assert messages_of(response) == [("success", "Order #1001 is now Shipped.")]
    assert "1Z999AA10123456784" in response.content.decode()
    assert transition_buttons(response) == ["delivered", "returned"]


@pytest.mark.parametrize(
    ("status", "payment_status", "post", "message"),
    [
        pytest.param(
            "pending", "pending",
            {"to_status": "shipped", "carrier": "UPS", "tracking_number": "1Z1"},
            "An order cannot go from 'pending' to 'shipped'. Allowed next: confirmed, cancelled.",
            id="a step the table does not allow",
        ),
        pytest.param(
            "confirmed", "paid",
            {"to_status": "cancelled", "reason": "Customer changed their mind"},
            "Order #1001 is paid: refund the payment before cancelling it.",
            id="cancelling a paid order",
        ),
        pytest.param(
            "pending", "pending",
            {"to_status": "cancelled", "reason": "  "},
            "Reason: Say why the order is cancelled.",
            id="cancelling without a reason",
        ),
        pytest.param(
            "completed", "paid",
            {"to_status": "returned"},
            "Reason: Say why the order is returned.",
            id="a return without a reason",
        ),
        pytest.param(
            "pending", "pending",
            {"to_status": "teleported"},
            "To status: Select a valid choice. teleported is not one of the available choices.",
            id="a status that does not exist",
        ),
    ],
)  # fmt: skip
def test_a_refused_transition_changes_nothing_and_shows_why(
    store, browser, status, payment_status, post, message
):
    variant = make_variant(store=store, stock=5)
    order = make_order(store=store, status=status, payment_status=payment_status)
    # The line took its unit when placed: a cancel would put it back in stock
    order.items.update(variant=variant, stock_reserved=True)
    before = order_state(order)

    response = browser.post(url(order, "transition"), {**post, "etag": order.etag}, follow=True)

    assert response.status_code == 200
    assert messages_of(response) == [("error", message)]
    assert order_state(order) == before
    assert shown_status(response) == Order.objects.get(pk=order.pk).get_status_display()


def test_a_step_posted_from_a_stale_page_is_refused_and_changes_nothing(store, browser):
    order = make_order(store=store)
    etag_read = etag_on_page(browser.get(page_url(order)))
    # Meanwhile a colleague confirms the order from their own screen.
    order_transition(store=store, order=order, to_status="confirmed", actor="bob")
    before = order_state(order)

    response = browser.post(
        url(order, "transition"),
        {"to_status": "cancelled", "reason": "Out of stock", "etag": etag_read},
        follow=True,
    )

    assert messages_of(response) == [("error", STALE_PAGE)]
    assert order_state(order) == before
    assert last_change(order).changed_by == "bob"
    assert shown_status(response) == "Confirmed"


# --- void ----------------------------------------------------------------------------------


def test_voiding_an_unpaid_pending_order_releases_its_stock(store, browser, catalog):
    order = placed_order(store, catalog, quantity=2)
    assert stock_of(catalog["mug"]) == 8

    response = browser.post(url(order, "void"), {"reason": "Customer called"}, follow=True)

    order.refresh_from_db()
    assert (order.status, order.payment_status) == ("voided", "voided")
    assert order.voided_at == order.updated_at
    assert stock_of(catalog["mug"]) == 10
    change = last_change(order)
    assert (change.to_status, change.changed_by, change.reason) == (
        "voided",
        "ana",
        "Customer called",
    )
    assert messages_of(response) == [
        ("success", "Order #1001 is voided; its units are back in stock.")
    ]
    assert transition_buttons(response) == []


def test_voiding_a_paid_order_is_refused_and_changes_nothing(store, browser, catalog):
    order = placed_order(store, catalog, quantity=2, paid=True)
    before = order_state(order)

    response = browser.post(url(order, "void"), {"reason": "Oops"}, follow=True)

    assert response.status_code == 200
    assert messages_of(response) == [
        ("error", "Order #1001 is paid: a void is for unpaid orders. Refund it instead.")
    ]
    assert order_state(order) == before
    assert stock_of(catalog["mug"]) == 8


def test_voiding_a_shipped_order_is_refused_and_changes_nothing(store, browser):
    order = make_order(store=store, status="shipped")
    before = order_state(order)

    response = browser.post(url(order, "void"), {}, follow=True)

    assert messages_of(response) == [
        (
            "error",
            "Only pending or confirmed orders can be voided; order #1001 is shipped. "
            "Cancel or refund it instead.",
        )
    ]
    assert order_state(order) == before


# --- mark paid -----------------------------------------------------------------------------


def test_marking_an_unpaid_order_paid_moves_its_payment_to_paid(store, browser):
    order = make_order(store=store, status="delivered")

    response = browser.post(
        url(order, "mark-paid"), {"reason": "Cash on delivery", "etag": order.etag}, follow=True
    )

    order.refresh_from_db()
    assert (order.status, order.payment_status) == ("delivered", "paid")
    change = last_change(order)
    assert (change.from_payment_status, change.to_payment_status) == ("pending", "paid")
    assert (change.changed_by, change.reason) == ("ana", "Cash on delivery")
    assert messages_of(response) == [("success", "Order #1001 is marked paid.")]
    assert 'data-action="mark-paid"' not in response.content.decode()


def test_marking_paid_without_a_note_says_payment_received(store, browser):
    order = make_order(store=store)

    browser.post(url(order, "mark-paid"), {"etag": order.etag}, follow=True)

    assert last_change(order).reason == "Payment received"


def test_marking_a_paid_order_paid_again_is_refused_and_changes_nothing(store, browser):
    order = make_order(store=store, payment_status="paid")
    before = order_state(order)

    response = browser.post(url(order, "mark-paid"), {"etag": order.etag}, follow=True)

    assert response.status_code == 200
    # Nothing was done, so nothing may read as done ("is marked paid").
    [(level, message)] = messages_of(response)
    assert (level, "marked paid" in message) == ("error", False)
    assert order_state(order) == before


def test_marking_a_refunded_order_paid_is_refused_and_changes_nothing(store, browser):
    order = make_order(store=store, status="completed", payment_status="refunded")
    before = order_state(order)

    response = browser.post(url(order, "mark-paid"), {"etag": order.etag}, follow=True)

    [(level, message)] = messages_of(response)
    assert level == "error"
    assert message.startswith(
        "Payment status cannot go from 'refunded' to 'paid' on a completed order. Allowed: none"
    )
    assert order_state(order) == before


def test_marking_paid_from_a_stale_page_is_refused_and_changes_nothing(store, browser):
    order = make_order(store=store)
    etag_read = etag_on_page(browser.get(page_url(order)))
    order_update(store=store, order=order, actor="bob", payment_status="failed")
    before = order_state(order)

    response = browser.post(url(order, "mark-paid"), {"etag": etag_read}, follow=True)

    assert messages_of(response) == [("error", STALE_PAGE)]
    assert order_state(order) == before


# --- notes ---------------------------------------------------------------------------------


def test_an_internal_note_is_stored_with_its_author_and_never_emailed(store, browser, staff):
    order = make_order(store=store)

    response = browser.post(
        url(order, "notes"),
        {"content": "  Customer called — wants express  ", "visibility": "internal"},
        follow=True,
    )

    note = OrderNote.objects.get(order=order)
    assert note.content == "Customer called — wants express"
    assert note.is_internal is True
    assert (note.author, note.author_user) == ("ana", staff)
    assert note.notification_status == ""
    assert note.notification_next_attempt_at is None  # never in the email outbox
    assert messages_of(response) == [("success", "Internal note added.")]
    assert "Customer called — wants express" in response.content.decode()


def test_a_customer_note_enqueues_its_email(store, browser, staff):
    customer = make_customer(store=store, name="Jane Cooper", email="jane@example.com")
    order = make_order(store=store, customer=customer)

    response = browser.post(
        url(order, "notes"),
        {"content": "Your order was upgraded to express.", "visibility": "customer"},
        follow=True,
    )

    note = OrderNote.objects.get(order=order)
    assert note.is_internal is False
    assert (note.author, note.author_user) == ("ana", staff)
    assert note.notification_status == "pending"
    assert note.notification_next_attempt_at <= timezone.now()  # due for the delivery worker
    assert messages_of(response) == [
        ("success", "Note added; it is being emailed to jane@example.com.")
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "Content: This field is required."),
        ("   \n ", "Content: This field is required."),
        ("x" * 5001, "Content: Ensure this value has at most 5000 characters (it has 5001)."),
    ],
    ids=["empty", "blank", "over 5,000 characters"],
)
def test_a_note_without_text_or_too_long_is_refused(store, browser, content, message):
    order = make_order(store=store)
    before = order_state(order)

    response = browser.post(
        url(order, "notes"), {"content": content, "visibility": "customer"}, follow=True
    )

    assert response.status_code == 200
    assert messages_of(response) == [("error", message)]
    assert order_state(order) == before


def test_a_note_of_exactly_5000_characters_is_kept(store, browser):
    order = make_order(store=store)

    browser.post(url(order, "notes"), {"content": "x" * 5000, "visibility": "internal"})

    assert len(OrderNote.objects.get(order=order).content) == 5000


# --- refunds -------------------------------------------------------------------------------


def refund_post(order, **fields) -> dict:
    """The refund form as the order page posts it, for the order's single line."""
    item = order.items.get()
    data = {"etag": Order.objects.get(pk=order.pk).etag, "restock": "on", "reason": "Damaged"}
    data[f"quantity_{item.pk}"] = fields.pop("quantity", 1)
    data.update(fields)
    return data


def test_the_refund_preview_shows_the_figures_and_changes_nothing(store, browser, catalog):
    order = placed_order(store, catalog, quantity=2, paid=True)
    before = order_state(order)

    response = browser.post(url(order, "refund"), refund_post(order, quantity=1))

    assert response.status_code == 200
    assert order_state(order) == before
    body = response.content.decode()
    assert re.search(r'id="refund-amount">26.64 USD<', body)
    assert (
        "<td>Ceramic Mug</td><td>1</td><td>2</td><td>24.00</td><td>2.64</td><td>26.64</td>" in body
    )
    assert "59.27 USD" in body  # what is left to refund
    assert "refund-problems" not in body
    assert 'id="refund-confirm"' in body


@pytest.mark.parametrize(
    ("fields", "problems"),
    [
        (
            {"quantity": 3},
            [
                "More units than are left to refund on some lines (3 asked, 2 left).",
                "A refund of 79.92 USD is more than the 59.27 USD left to refund on order #1001.",
            ],
        ),
        (
            {"amount": "100.00"},
            ["A refund of 100.00 USD is more than the 59.27 USD left to refund on order #1001."],
        ),
    ],
    ids=["more units than ordered", "more money than paid"],
)
def test_a_refund_preview_over_the_limits_lists_the_problems_instead_of_a_confirm_button(
    store, browser, catalog, fields, problems
):
    order = placed_order(store, catalog, quantity=2, paid=True)
    before = order_state(order)

    response = browser.post(url(order, "refund"), refund_post(order, **fields))

    assert response.status_code == 200
    body = response.content.decode()
    listed = re.search(r'<ul class="errorlist" id="refund-problems">(.*?)</ul>', body).group(1)
    assert listed == "".join(f"<li>{problem}</li>" for problem in problems)
    assert 'id="refund-confirm"' not in body
    assert order_state(order) == before


def test_confirming_the_preview_refunds_once_and_restocks(store, browser, catalog, staff):
    order = placed_order(store, catalog, quantity=2, paid=True)
    preview = browser.post(url(order, "refund"), refund_post(order, quantity=1))
    confirm = {**form_fields(preview, "refund-confirm"), "confirm": "1"}

    response = browser.post(url(order, "refund"), confirm, follow=True)

    refund = Refund.objects.get(order=order)
    assert refund.amount == Decimal("26.64")  # 24.00 + half of the line's 5.28 tax
    assert refund.shipping_amount == Decimal("0.00")
    assert refund.inventory_restored is True
    assert (refund.reason, refund.created_by, refund.created_by_user) == ("Damaged", "ana", staff)
    assert [(line.quantity, line.amount, line.tax_amount) for line in refund.lines.all()] == [
        (1, Decimal("24.00"), Decimal("2.64"))
    ]
    order.refresh_from_db()
    assert (order.refunded_amount, order.payment_status) == (
        Decimal("26.64"),
        "partially_refunded",
    )
    assert list(order.items.values_list("refunded_quantity", flat=True)) == [1]
    assert stock_of(catalog["mug"]) == 9
    assert messages_of(response) == [
        ("success", "Refunded 26.64 USD on order #1001. Its units are back in stock.")
    ]


def test_a_refund_confirmed_without_restock_leaves_the_stock(store, browser, catalog):
    order = placed_order(store, catalog, quantity=2, paid=True)
    data = refund_post(order, quantity=2)
    del data["restock"]
    preview = browser.post(url(order, "refund"), data)
    confirm = {**form_fields(preview, "refund-confirm"), "confirm": "1"}

    response = browser.post(url(order, "refund"), confirm, follow=True)

    refund = Refund.objects.get(order=order)
    assert refund.amount == Decimal("53.28")
    assert refund.inventory_restored is False
    assert stock_of(catalog["mug"]) == 8
    assert messages_of(response) == [("success", "Refunded 53.28 USD on order #1001.")]


def test_the_shipping_alone_is_refunded_through_preview_and_confirm(store, browser, catalog):
    order = placed_order(store, catalog, quantity=2, paid=True)
    preview = browser.post(
        url(order, "refund"), refund_post(order, quantity=0, refund_shipping="on")
    )
    assert re.search(r'id="refund-amount">5.99 USD<', preview.content.decode())
    confirm = {**form_fields(preview, "refund-confirm"), "confirm": "1"}

    response = browser.post(url(order, "refund"), confirm, follow=True)

    refund = Refund.objects.get(order=order)
    assert (refund.amount, refund.shipping_amount) == (Decimal("5.99"), Decimal("5.99"))
    assert refund.lines.count() == 0
    assert stock_of(catalog["mug"]) == 8
    assert messages_of(response) == [("success", "Refunded 5.99 USD on order #1001.")]


def test_a_goodwill_amount_is_refunded_through_preview_and_confirm(store, browser, catalog):
    order = placed_order(store, catalog, quantity=2, paid=True)
    preview = browser.post(url(order, "refund"), refund_post(order, quantity=0, amount="10.00"))
    confirm = {**form_fields(preview, "refund-confirm"), "confirm": "1"}

    browser.post(url(order, "refund"), confirm, follow=True)

    refund = Refund.objects.get(order=order)
    assert (refund.amount, refund.inventory_restored) == (Decimal("10.00"), False)
    assert Order.objects.get(pk=order.pk).refunded_amount == Decimal("10.00")
    assert stock_of(catalog["mug"]) == 8


def test_a_refund_confirmed_twice_refunds_once(store, browser, catalog):
    order = placed_order(store, catalog, quantity=2, paid=True)
    preview = browser.post(url(order, "refund"), refund_post(order, quantity=1))
    confirm = {**form_fields(preview, "refund-confirm"), "confirm": "1"}
    browser.post(url(order, "refund"), confirm, follow=True)
    after_first = order_state(order)

    response = browser.post(url(order, "refund"), confirm, follow=True)

    assert response.status_code == 200
    assert messages_of(response) == [("error", STALE_PAGE)]
    assert order_state(order) == after_first
    assert Refund.objects.filter(order=order).count() == 1
    assert Order.objects.get(pk=order.pk).refunded_amount == Decimal("26.64")
    assert stock_of(catalog["mug"]) == 9


@requires_postgresql
@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_confirms_of_one_preview_refund_once(store, staff, catalog):
    order = placed_order(store, catalog, quantity=2, paid=True)
    clients = [staff_client(user=staff), staff_client(user=staff)]
    preview = clients[0].post(url(order, "refund"), refund_post(order, quantity=1))
    confirm = {**form_fields(preview, "refund-confirm"), "confirm": "1"}

    responses = run_concurrently(
        [lambda client=client: client.post(url(order, "refund"), confirm) for client in clients]
    )

    assert [response.status_code for response in responses] == [302, 302]
    told = sorted(messages_of(client.get(page_url(order)))[0] for client in clients)
    assert told == [
        ("error", STALE_PAGE),
        ("success", "Refunded 26.64 USD on order #1001. Its units are back in stock."),
    ]
    assert Refund.objects.filter(order=order).count() == 1
    assert Order.objects.get(pk=order.pk).refunded_amount == Decimal("26.64")
    assert stock_of(catalog["mug"]) == 9


def test_a_refund_confirmed_over_the_balance_is_refused_with_the_services_message(
    store, browser, catalog
):
    order = placed_order(store, catalog, quantity=2, paid=True)
    before = order_state(order)

    response = browser.post(
        url(order, "refund"), {**refund_post(order, amount="100.00"), "confirm": "1"}, follow=True
    )

    assert messages_of(response) == [
        (
            "error",
            "A refund of 100.00 USD is more than the 59.27 USD left to refund on order #1001.",
        )
    ]
    assert order_state(order) == before


def test_a_refund_of_an_unpaid_order_is_refused_with_the_services_message(store, browser, catalog):
    order = placed_order(store, catalog, quantity=2)
    before = order_state(order)

    response = browser.post(
        url(order, "refund"), {**refund_post(order), "confirm": "1"}, follow=True
    )

    assert response.status_code == 200
    assert messages_of(response) == [
        (
            "error",
            "Order #1001 is pending with payment pending: only paid or partially refunded "
            "orders can be refunded. Void an unpaid order instead.",
        )
    ]
    assert order_state(order) == before


def test_a_refund_preview_of_an_unpaid_order_offers_no_confirm_button(store, browser, catalog):
    order = placed_order(store, catalog, quantity=2)
    before = order_state(order)

    response = browser.post(url(order, "refund"), refund_post(order), follow=True)

    assert response.status_code == 200
    assert 'id="refund-confirm"' not in response.content.decode()
    assert order_state(order) == before


def test_a_refund_confirmed_after_the_order_changed_is_refused(store, browser, catalog):
    order = placed_order(store, catalog, quantity=2, paid=True)
    preview = browser.post(url(order, "refund"), refund_post(order, quantity=1))
    confirm = {**form_fields(preview, "refund-confirm"), "confirm": "1"}
    # Meanwhile a colleague moves the order on.
    order_transition(store=store, order=order, to_status="confirmed", actor="bob")
    before = order_state(order)

    response = browser.post(url(order, "refund"), confirm, follow=True)

    assert messages_of(response) == [("error", STALE_PAGE)]
    assert order_state(order) == before


def test_a_refund_asking_for_nothing_is_refused(store, browser, catalog):
    order = placed_order(store, catalog, quantity=2, paid=True)
    before = order_state(order)

    response = browser.post(url(order, "refund"), refund_post(order, quantity=0), follow=True)

    assert messages_of(response) == [
        (
            "error",
            "Choose the units to refund, tick 'Refund the shipping too', or give an amount.",
        )
    ]
    assert order_state(order) == before


# --- who may post, and how -----------------------------------------------------------------

ACTIONS = {
    "transition": {"to_status": "confirmed", "reason": "Verified"},
    "void": {"reason": "Customer called"},
    "mark-paid": {},
    "refund": {"amount": "5.00", "confirm": "1"},
    "notes": {"content": "Hello", "visibility": "customer"},
}


@pytest.mark.parametrize("action", ACTIONS)
def test_an_action_url_answers_get_with_405(store, browser, action):
    order = make_order(store=store)
    before = order_state(order)

    response = browser.get(url(order, action))

    assert response.status_code == 405
    assert order_state(order) == before


@pytest.mark.parametrize("action", ACTIONS)
def test_a_member_of_another_store_gets_404_and_changes_nothing(store, outsider, action):
    order = make_order(store=store, payment_status="paid" if action == "refund" else "pending")
    before = order_state(order)

    response = outsider.post(url(order, action), {**ACTIONS[action], "etag": order.etag})

    assert response.status_code == 404
    assert order_state(order) == before


@pytest.mark.parametrize("action", ACTIONS)
def test_an_action_on_an_order_that_does_not_exist_is_404(browser, action):
    response = browser.post(
        f"/admin/orders/order/01a2060a-a911-749f-9ced-7eb47340129b/{action}/", ACTIONS[action]
    )

    assert response.status_code == 404


# --- forms sent twice, or from a stale page -----------------------------------------------------


def test_a_note_form_sent_twice_adds_the_note_once(store, browser, staff):
    order = make_order(store=store, customer_email="jane@example.com")
    page = browser.get(page_url(order))
    sent = {**{name: values[0] for name, values in form_fields(page, "note-form").items()},
            "content": "Your parcel left today.", "visibility": "customer"}  # fmt: skip

    browser.post(url(order, "notes"), sent, follow=True)  # its message is read here
    response = browser.post(url(order, "notes"), sent, follow=True)

    assert OrderNote.objects.filter(order=order).count() == 1
    assert OrderNote.objects.filter(notification_status="pending").count() == 1  # one email
    assert messages_of(response) == [
        ("error", "This note was already sent once; it was not added again.")
    ]


def test_a_refund_preview_from_a_stale_page_says_so_instead_of_promising(store, browser, catalog):
    order = placed_order(store, catalog, paid=True)
    stale_etag = order.etag
    order_update(store=store, order=order, actor="system", details={"po_number": "PO-9"})
    before = order_state(order)
    line = order.items.get()

    response = browser.post(
        url(order, "refund"), {"etag": stale_etag, f"quantity_{line.pk}": "1"}, follow=True
    )

    [(level, message)] = messages_of(response)
    assert (level, message.startswith("Someone changed this order")) == ("error", True)
    assert "refund-confirm" not in response.content.decode()
    assert order_state(order) == before


@pytest.mark.parametrize("action", ["void", "mark-paid"])
def test_an_over_long_reason_is_refused_rather_than_dropped(store, browser, action):
    order = make_order(store=store)
    before = order_state(order)

    response = browser.post(url(order, action), {"reason": "x" * 1001}, follow=True)

    [(level, message)] = messages_of(response)
    assert level == "error"
    assert "at most 1000 characters" in message
    assert order_state(order) == before


def test_a_refund_of_more_units_than_any_line_holds_is_refused_not_a_500(store, browser, catalog):
    order = placed_order(store, catalog, paid=True)
    before = order_state(order)
    line = order.items.get()

    response = browser.post(
        url(order, "refund"), {"etag": order.etag, f"quantity_{line.pk}": str(10**30)}, follow=True
    )

    [(level, message)] = messages_of(response)
    assert level == "error"
    assert "Ceramic Mug: Ensure this value is less than or equal to 2147483647." in message
    assert order_state(order) == before
