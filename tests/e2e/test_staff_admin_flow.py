"""A member of staff runs an order through the back office in a real browser: the
dashboard, the filtered list, and the order page's buttons, each of which calls the same
service as the API."""

from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from notes.models import OrderNote
from orders.models import Fulfillment, LineItem, Order
from orders.services import CustomerInput, LineRequest, order_create, order_update
from refunds.models import Refund
from tests.factories import (
    make_customer,
    make_order,
    make_shipping_method,
    make_staff_user,
    make_store,
    make_tax_rate,
    make_variant,
)
from tests.helpers import seed_003_address

pytestmark = pytest.mark.browser

USERNAME = "sam.staff"
PASSWORD = "correct-horse-battery-staple"
TRACKING_NUMBER = "1Z999AA10123456784"
NOTE = "Customer called: leave the parcel with the neighbour at number 12."


@pytest.fixture
def paid_order(transactional_db) -> Order:
    """Jane Cooper's paid order of 2 mugs (24.00) and a towel (12.00), 11% tax, placed
    through the real service so its lines have variants and reserved stock (10 of each
    before), in a store with a pending and a completed order of other customers."""
    store = make_store(name="Acme Outfitters", plan="premium")
    make_shipping_method(store=store, code="standard", price="5.99")
    make_tax_rate(store=store, country_code="US", province="OR", rate="0.11")
    for status, payment_status, name in [
        ("pending", "pending", "Walt Waiting"),
        ("completed", "paid", "Dora Done"),
    ]:
        customer = make_customer(store=store, name=name)
        make_order(store=store, status=status, payment_status=payment_status, customer=customer)
    mug = make_variant(store=store, product_name="Ceramic Mug", price="24.00", stock=10)
    towel = make_variant(store=store, product_name="Tea Towel", price="12.00", stock=10)
    order = order_create(
        store=store,
        actor="checkout",
        lines=[
            LineRequest(variant_id=mug.pk, quantity=2),
            LineRequest(variant_id=towel.pk, quantity=1),
        ],
        shipping_address=seed_003_address(name="Jane Cooper"),
        shipping_method="standard",
        customer=CustomerInput(name="Jane Cooper", email="jane@example.com"),
        reason="Order created",
    )
    return order_update(
        store=store, order=order, actor="checkout", payment_status="paid", reason="Card captured"
    )


@pytest.fixture
def staff_member(paid_order):
    return make_staff_user(paid_order.store, username=USERNAME, password=PASSWORD)


def move_order(page: Page, to_status: str, **fields: str) -> None:
    """Open the order page's step towards `to_status`, fill its fields (by element id) and
    submit it."""
    step = page.locator(f'details[data-transition="{to_status}"]')
    step.locator("summary").click()
    for element_id, value in fields.items():
        page.locator(f"#{element_id}").fill(value)
    step.locator(f"#transition-{to_status} button[type=submit]").click()


def test_staff_member_runs_an_order_from_confirmation_to_partial_refund(
    paid_order, staff_member, page, screenshots
):
    # Given Jane's paid order and a member of the store's staff (the fixtures above).
    order = paid_order
    mug_line = LineItem.objects.get(order=order, product_name="Ceramic Mug")

    # When they log in, they land on the store's dashboard.
    page.goto("/admin/login/")
    page.fill("#id_username", USERNAME)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#dashboard-title")).to_have_text("Acme Outfitters")
    expect(page.get_by_role("heading", name="Orders by status")).to_be_visible()
    screenshots.take("dashboard")

    # The list narrows to pending orders, then to Jane's.
    page.get_by_role("link", name="All orders").click()
    results = page.locator("#result_list tbody")
    expect(results.locator("tr")).to_have_count(3)
    page.locator('details[data-filter-title="status"]').get_by_role(
        "link", name="Pending", exact=True
    ).click()
    expect(results.locator("tr")).to_have_count(2)
    expect(results).not_to_contain_text("Dora Done")
    page.fill("#searchbar", "Jane Cooper")
    page.press("#searchbar", "Enter")
    expect(results.locator("tr")).to_have_count(1)
    expect(results).not_to_contain_text("Walt Waiting")
    screenshots.take("order list")

    page.locator("#result_list").get_by_role("link", name=f"#{order.order_number}").click()
    expect(page.locator("#order-status")).to_have_text("Pending")
    expect(page.locator("#order-payment-status")).to_have_text("Paid")
    screenshots.take("order page")
    messages = page.locator(".messagelist")

    # They confirm it with a reason, start processing it and ship it.
    move_order(page, "confirmed", **{"reason-confirmed": "Stock checked by hand"})
    expect(messages).to_contain_text(f"Order #{order.order_number} is now Confirmed.")
    move_order(page, "processing")
    expect(messages).to_contain_text(f"Order #{order.order_number} is now Processing.")
    move_order(page, "shipped", **{"carrier-shipped": "UPS", "tracking-shipped": TRACKING_NUMBER})
    expect(messages).to_contain_text(f"Order #{order.order_number} is now Shipped.")
    expect(page.locator("#fulfillments")).to_contain_text(TRACKING_NUMBER)

    # They add an internal note (the default audience).
    note_form = page.locator("#note-form")
    note_form.locator("textarea[name=content]").fill(NOTE)
    expect(note_form.locator("input[name=visibility][value=internal]")).to_be_checked()
    note_form.get_by_role("button", name="Add note").click()
    expect(messages).to_contain_text("Internal note added.")

    # They refund one mug: previewed first (24.00 + 2.64 tax), then confirmed.
    page.locator("details#refund summary").click()
    refund_form = page.locator("#refund-form")
    refund_form.locator(f'input[name="quantity_{mug_line.pk}"]').fill("1")
    refund_form.locator("textarea[name=reason]").fill("Arrived chipped")
    refund_form.get_by_role("button", name="Preview refund").click()
    expect(page.locator("#refund-amount")).to_have_text("26.64 USD")
    page.locator("#refund-confirm button[name=confirm]").click()

    # Then the order page shows the refund, the note, and every step with who took it.
    expect(messages).to_contain_text(
        f"Refunded 26.64 USD on order #{order.order_number}. Its units are back in stock."
    )
    expect(page.locator("#order-refunded")).to_have_text("26.64")
    expect(page.locator("#notes")).to_contain_text(NOTE)
    history = page.locator("#status-history tbody tr")
    expect(history).to_have_count(6)
    # Who, from, to, payment, reason: every column but the time.
    expected_history = [
        ["checkout", "—", "Pending", "Pending", "Order created"],
        ["checkout", "Pending", "Pending", "Pending → Paid", "Card captured"],
        [USERNAME, "Pending", "Confirmed", "Paid", "Stock checked by hand"],
        [USERNAME, "Confirmed", "Processing", "Paid", "—"],
        [USERNAME, "Processing", "Shipped", "Paid", "—"],
        [USERNAME, "Shipped", "Shipped", "Paid → Partially refunded", "Arrived chipped"],
    ]
    for row, cells in zip(history.all(), expected_history, strict=True):
        expect(row.locator("td:not(:first-child)")).to_have_text(cells)

    # And the database agrees.
    order.refresh_from_db()
    assert (order.status, order.payment_status) == ("shipped", "partially_refunded")
    assert order.refunded_amount == Decimal("26.64")
    shipment = Fulfillment.objects.get(order=order)
    assert (shipment.carrier, shipment.tracking_number) == ("UPS", TRACKING_NUMBER)
    refund = Refund.objects.get(order=order)
    assert (refund.amount, refund.created_by, refund.reason) == (
        Decimal("26.64"),
        USERNAME,
        "Arrived chipped",
    )
    note = OrderNote.objects.get(order=order)
    assert (note.content, note.is_internal, note.author) == (NOTE, True, USERNAME)
    # 10 of each in stock, the order reserved 2 mugs and a towel, the refund gave 1 mug back.
    stock = dict(LineItem.objects.filter(order=order).values_list("product_name", "variant__stock"))
    assert stock == {"Ceramic Mug": 9, "Tea Towel": 9}
