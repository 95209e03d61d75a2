"""Order notes: internal notes stay internal; a customer note is its own email's outbox
entry, which a rollback never writes and the delivery worker sends. (A failing mail
server: test_note_delivery.py; resending: test_note_resend.py.)"""

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from notes.models import MAX_NOTE_LENGTH, OrderNote
from notes.services import note_create
from tests.factories import make_api_key, make_customer, make_order
from tests.helpers import api_client, assert_error, run_delivery_worker


@pytest.fixture
def order(store):
    customer = make_customer(store=store, name="Jane Cooper", email="jane@example.com")
    return make_order(store=store, customer=customer)


def _notes_url(order) -> str:
    return f"/v1/orders/{order.public_id}/notes"


@pytest.mark.django_db
def test_internal_note_is_stored_and_never_emailed(client, order, api_key):
    response = client.post(
        _notes_url(order),
        {"content": "Customer called — wants express shipping", "is_internal": True},
        format="json",
    )

    assert response.status_code == 201
    note = response.json()["data"]
    assert note["object"] == "note"
    assert note["id"].startswith("note_")
    assert note["order_id"] == order.public_id
    assert note["is_internal"] is True
    assert note["notification_status"] is None
    assert note["author"] == f"api_key_{api_key[:16]}"
    assert note["notification_next_attempt_at"] is None
    run_delivery_worker()
    assert mail.outbox == []


@pytest.mark.django_db
def test_customer_note_is_a_pending_email_due_now(client, order):
    before = timezone.now()
    response = client.post(
        _notes_url(order),
        {"content": "Your order was upgraded to express.", "is_internal": False},
        format="json",
    )

    data = response.json()["data"]
    assert (data["notification_status"], data["notification_attempts"]) == ("pending", 0)
    assert data["notification_next_attempt_at"] is not None
    note = OrderNote.objects.get()
    assert before <= note.notification_next_attempt_at <= timezone.now()
    assert (note.lease_token, note.lease_expires_at) == (None, None)
    assert mail.outbox == []  # the worker sends it, not the request


@pytest.mark.django_db
def test_a_rolled_back_note_sends_nothing(store, order):
    def change_that_fails_after_adding_a_note():
        with transaction.atomic():
            note_create(store=store, order=order, content="Hi", is_internal=False, author="x")
            raise RuntimeError("the surrounding change failed")

    with pytest.raises(RuntimeError):
        change_that_fails_after_adding_a_note()

    assert OrderNote.objects.count() == 0
    run_delivery_worker()
    assert mail.outbox == []


@pytest.mark.django_db(transaction=True)
def test_the_delivery_worker_sends_the_note_once(store, order):
    note = note_create(
        store=store, order=order, content="Your parcel left today.", is_internal=False,
        author="staff_jane",
    )  # fmt: skip

    run_delivery_worker()
    run_delivery_worker()  # a second round finds nothing due

    note.refresh_from_db()
    assert note.notification_status == "sent"
    assert note.notification_attempts == 1
    assert note.notified_at is not None
    assert note.notification_error == ""
    assert note.notification_next_attempt_at is None
    assert (note.lease_token, note.lease_expires_at) == (None, None)
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == ["jane@example.com"]
    assert f"#{order.order_number}" in email.subject
    assert "Your parcel left today." in email.body
    assert email.alternatives[0].mimetype == "text/html"
    assert "Your parcel left today." in email.alternatives[0].content


@pytest.mark.django_db
def test_an_order_without_email_fails_at_once_with_the_reason(store):
    order = make_order(store=store, customer=None)
    note = note_create(store=store, order=order, content="Hi", is_internal=False, author="x")

    run_delivery_worker()

    note.refresh_from_db()
    assert (note.notification_status, note.notification_attempts) == ("failed", 1)
    assert note.notification_error == (
        "The order has no customer email address: add one to the order, then resend the note."
    )
    assert note.notification_next_attempt_at is None
    assert mail.outbox == []


@pytest.mark.django_db
def test_notes_list_oldest_first_and_filters_by_type(client, store, order):
    for content, internal in [("first", True), ("second", False), ("third", True)]:
        note_create(store=store, order=order, content=content, is_internal=internal, author="x")

    def contents(note_type=None):
        params = {"type": note_type} if note_type else {}
        return [n["content"] for n in client.get(_notes_url(order), params).json()["data"]]

    assert contents() == ["first", "second", "third"]
    assert contents("all") == ["first", "second", "third"]
    assert contents("internal") == ["first", "third"]
    assert contents("customer") == ["second"]
    assert client.get(_notes_url(order), {"type": "secret"}).status_code == 400


@pytest.mark.django_db
def test_include_notes_adds_them_to_the_order(client, store, order):
    note_create(store=store, order=order, content="memo", is_internal=True, author="x")

    data = client.get(f"/v1/orders/{order.public_id}", {"include": "notes"}).json()["data"]

    assert [n["content"] for n in data["notes"]] == ["memo"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"content": ""}, "content"),
        ({"content": "   "}, "content"),
        ({"content": "x" * (MAX_NOTE_LENGTH + 1)}, "content"),
        ({}, "content"),
        ({"content": "hi", "is_internal": "maybe"}, "is_internal"),
        ({"content": "hi", "author": "someone else"}, "author"),
    ],
)
def test_bad_note_is_400_naming_the_field(client, order, body, field):
    response = client.post(_notes_url(order), body, format="json")

    assert response.status_code == 400
    assert field in [d["field"] for d in response.json()["error"]["details"]]
    assert OrderNote.objects.count() == 0


@pytest.mark.django_db
def test_note_on_a_missing_order_is_404(client):
    response = client.post(
        "/v1/orders/ord_00000000-0000-0000-0000-000000000000/notes",
        {"content": "hi"},
        format="json",
    )

    assert response.status_code == 404


@pytest.mark.django_db
def test_read_only_key_lists_but_cannot_add_notes(store, order):
    reader = api_client(make_api_key(store=store, scopes=["read:orders"]))

    assert reader.get(_notes_url(order)).status_code == 200
    response = reader.post(_notes_url(order), {"content": "hi"}, format="json")
    assert_error(response, 403, "INSUFFICIENT_SCOPE")


@pytest.mark.django_db
def test_a_retried_note_post_with_the_same_key_adds_one_note(client, order):
    body = {"content": "Shipped early!", "is_internal": False}

    first = client.post(_notes_url(order), body, format="json", HTTP_IDEMPOTENCY_KEY="n-1")
    again = client.post(_notes_url(order), body, format="json", HTTP_IDEMPOTENCY_KEY="n-1")

    assert again.content == first.content
    assert OrderNote.objects.count() == 1
    run_delivery_worker()
    assert len(mail.outbox) == 1
