"""Resending a customer note's email, from the API and from the order page: a failed (or
sent, and lost) note goes back to the outbox and is delivered; an internal note, a note
still queued and an order without an address are refused, changing nothing."""

import pytest
from django.core import mail
from django.test import override_settings

from notes.models import OrderNote
from notes.services import note_create
from tests.factories import make_api_key, make_customer, make_order, staff_client
from tests.helpers import api_client, assert_error, data_of, messages_of, run_delivery_worker

pytestmark = pytest.mark.django_db

SMTP_DOWN = {"default": {"BACKEND": "tests.notes.failing_mail.MailServerDownBackend"}}
NOTE_FIELDS = [
    "notification_status", "notification_attempts", "notification_error",
    "notification_next_attempt_at", "notification_first_attempt_at", "notified_at",
]  # fmt: skip


@pytest.fixture
def order(store):
    customer = make_customer(store=store, name="Jane Cooper", email="jane@example.com")
    return make_order(store=store, customer=customer)


def customer_note(order, content: str = "Your parcel left today.") -> OrderNote:
    return note_create(
        store=order.store, order=order, content=content, is_internal=False, author="x"
    )


@override_settings(NOTE_EMAIL_RETRY_WINDOW_SECONDS=0)  # the first failure is final
def failed_note(order) -> OrderNote:
    """A customer note of `order` whose email failed: the mail server refused it."""
    note = customer_note(order)
    with override_settings(MAILERS=SMTP_DOWN):
        run_delivery_worker()
    note.refresh_from_db()
    assert note.notification_status == "failed"
    return note


def resend_url(note: OrderNote, prefix: str = "/v1/") -> str:
    return f"{prefix}orders/{note.order.public_id}/notes/{note.public_id}/resend"


def stored(note: OrderNote) -> dict:
    return OrderNote.objects.filter(pk=note.pk).values(*NOTE_FIELDS).get()


# --- the API -------------------------------------------------------------------------------


@pytest.mark.parametrize("prefix", ["/v1/", "/api/"])
def test_a_failed_note_resent_from_the_api_is_delivered(client, order, prefix):
    note = failed_note(order)

    data = data_of(client.post(resend_url(note, prefix), format="json"))

    assert data["id"] == note.public_id
    assert (data["notification_status"], data["notification_attempts"]) == ("pending", 0)
    assert data["notification_error"] == ""
    assert data["notification_next_attempt_at"] is not None
    run_delivery_worker()
    note.refresh_from_db()
    assert (note.notification_status, note.notification_attempts) == ("sent", 1)
    assert [email.to for email in mail.outbox] == [["jane@example.com"]]


def test_the_stores_own_route_resends_too(client, store, order):
    note = failed_note(order)

    response = client.post(resend_url(note, f"/v1/stores/{store.public_id}/"), format="json")

    assert data_of(response)["notification_status"] == "pending"


def test_a_sent_note_the_customer_lost_is_sent_again(client, order):
    note = customer_note(order)
    run_delivery_worker()

    data = data_of(client.post(resend_url(note), format="json"))

    assert data["notification_status"] == "pending"
    assert data["notified_at"] is not None  # when it last went out, until it goes again
    run_delivery_worker()
    assert OrderNote.objects.get(pk=note.pk).notification_status == "sent"
    assert len(mail.outbox) == 2


def test_an_internal_note_is_never_emailed_so_not_resent(client, store, order):
    note = note_create(store=store, order=order, content="memo", is_internal=True, author="x")
    before = stored(note)

    response = client.post(resend_url(note), format="json")

    error = assert_error(response, 422, "VALIDATION_ERROR")
    assert [d["field"] for d in error["details"]] == ["note_id"]
    assert "internal notes are never emailed" in error["message"]
    assert stored(note) == before
    run_delivery_worker()
    assert mail.outbox == []


def test_a_note_still_queued_is_not_queued_twice(client, order):
    note = customer_note(order)
    before = stored(note)

    response = client.post(resend_url(note), format="json")

    error = assert_error(response, 409, "NOTE_EMAIL_PENDING")
    assert "already queued" in error["message"]
    assert error["context"] == {"notification_status": "pending", "notification_attempts": 0}
    assert stored(note) == before


def test_a_note_of_an_order_without_an_email_address_is_refused_until_it_has_one(client, store):
    order = make_order(store=store, customer=None)
    note = customer_note(order)
    run_delivery_worker()  # fails at once: nobody to send it to
    before = stored(note)

    response = client.post(resend_url(note), format="json")

    error = assert_error(response, 422, "VALIDATION_ERROR")
    assert "has no customer email address: add one to the order" in error["message"]
    assert stored(note) == before
    order.customer_email = "late@example.com"
    order.save(update_fields=["customer_email"])
    assert data_of(client.post(resend_url(note), format="json"))["notification_status"] == (
        "pending"
    )


def test_a_note_of_another_order_or_store_is_not_found(client, store, other_store, order):
    failed = failed_note(order)
    foreign = failed_note(make_order(store=other_store, customer_email="b@b.example"))
    elsewhere = make_order(store=store, customer_email="c@c.example")

    wrong_order = f"/v1/orders/{elsewhere.public_id}/notes/{failed.public_id}/resend"
    for url in [wrong_order, resend_url(foreign), f"/v1/orders/{order.public_id}/notes/x/resend"]:
        assert_error(client.post(url, format="json"), 404, "NOT_FOUND")
    assert OrderNote.objects.filter(notification_status="failed").count() == 2


def test_resending_needs_the_write_scope(store, order):
    note = failed_note(order)
    reader = api_client(make_api_key(store=store, scopes=["read:orders"]))

    assert_error(reader.post(resend_url(note), format="json"), 403, "INSUFFICIENT_SCOPE")
    assert OrderNote.objects.get(pk=note.pk).notification_status == "failed"


# --- the order page ------------------------------------------------------------------------


def page_of(order) -> str:
    return f"/admin/orders/order/{order.pk}/change/"


def test_the_order_page_offers_resend_beside_a_failed_or_sent_customer_note_only(store, order):
    failed = failed_note(order)
    sent = customer_note(order, "sent one")
    run_delivery_worker()
    pending = customer_note(order, "queued one")
    internal = note_create(store=store, order=order, content="memo", is_internal=True, author="x")

    page = staff_client(store).get(page_of(order)).content.decode()

    assert f'id="resend-{failed.public_id}"' in page
    assert f'id="resend-{sent.public_id}"' in page
    assert f'id="resend-{pending.public_id}"' not in page
    assert f'id="resend-{internal.public_id}"' not in page
    assert "SMTPServerDisconnected: Connection unexpectedly closed" in page  # why it failed


def test_a_failed_note_resent_from_the_order_page_is_delivered(store, order):
    note = failed_note(order)
    browser = staff_client(store)

    response = browser.post(
        f"/admin/orders/order/{order.pk}/resend-note/", {"note_id": note.public_id}, follow=True
    )

    assert messages_of(response) == [
        ("success", "The note is queued again; it is being emailed to jane@example.com.")
    ]
    assert OrderNote.objects.get(pk=note.pk).notification_status == "pending"
    run_delivery_worker()
    assert OrderNote.objects.get(pk=note.pk).notification_status == "sent"
    assert [email.to for email in mail.outbox] == [["jane@example.com"]]


def test_the_order_page_says_why_a_resend_was_refused(store, order):
    internal = note_create(store=store, order=order, content="memo", is_internal=True, author="x")
    queued = customer_note(order)
    browser = staff_client(store)

    def resend(note_id: str):
        url = f"/admin/orders/order/{order.pk}/resend-note/"
        return messages_of(browser.post(url, {"note_id": note_id}, follow=True))

    [(level, text)] = resend(internal.public_id)
    assert level == "error"
    assert "internal notes are never emailed" in text
    [(level, text)] = resend(queued.public_id)
    assert (level, "already queued" in text) == ("error", True)
    [(level, text)] = resend("note_nonsense")
    assert (level, text) == ("error", "No note 'note_nonsense' on this order.")
    assert stored(queued)["notification_status"] == "pending"


def test_staff_of_another_store_cannot_resend(store, other_store, order):
    note = failed_note(order)

    response = staff_client(other_store, username="otto").post(
        f"/admin/orders/order/{order.pk}/resend-note/", {"note_id": note.public_id}
    )

    assert response.status_code == 404
    assert OrderNote.objects.get(pk=note.pk).notification_status == "failed"
