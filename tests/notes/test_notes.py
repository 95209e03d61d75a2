"""Order notes: internal notes stay internal; customer notes are emailed through a durable
queue that a rollback never feeds and a failing mail server cannot empty."""

import io

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings
from django_tasks_db.models import DBTaskResult

from notes.models import MAX_NOTE_LENGTH, OrderNote
from notes.services import MAX_DELIVERY_ATTEMPTS, note_create
from tests.factories import make_api_key, make_customer, make_order
from tests.helpers import api_client, assert_error

FAILING_MAILERS = {"default": {"BACKEND": "tests.notes.failing_mail.MailServerDownBackend"}}


@pytest.fixture
def order(store):
    customer = make_customer(store=store, name="Jane Cooper", email="jane@example.com")
    return make_order(store=store, customer=customer)


def _notes_url(order) -> str:
    return f"/v1/orders/{order.public_id}/notes"


def _run_worker() -> None:
    call_command("db_worker", "--batch", "--no-startup-delay", "--interval", "0",
                 stdout=io.StringIO(), stderr=io.StringIO())  # fmt: skip


def _customer_note_once_the_worker_ran(store, order) -> OrderNote:
    """A new customer note of `order`, as it stands after the mail worker went through its
    queue once."""
    note = note_create(store=store, order=order, content="Hi", is_internal=False, author="system")
    _run_worker()
    note.refresh_from_db()
    return note


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
    assert DBTaskResult.objects.count() == 0


@pytest.mark.django_db
def test_customer_note_enqueues_one_email_task(client, order):
    response = client.post(
        _notes_url(order),
        {"content": "Your order was upgraded to express.", "is_internal": False},
        format="json",
    )

    assert response.json()["data"]["notification_status"] == "pending"
    task = DBTaskResult.objects.get()
    assert task.task_path == "notes.tasks.send_customer_note"
    assert task.args_kwargs["kwargs"]["note_id"] == response.json()["data"]["id"][len("note_") :]


@pytest.mark.django_db
def test_a_rolled_back_note_enqueues_nothing(store, order):
    def change_that_fails_after_adding_a_note():
        with transaction.atomic():
            note_create(store=store, order=order, content="Hi", is_internal=False, author="x")
            raise RuntimeError("the surrounding change failed")

    with pytest.raises(RuntimeError):
        change_that_fails_after_adding_a_note()

    assert OrderNote.objects.count() == 0
    assert DBTaskResult.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_a_working_mail_server_sends_the_note(store, order):
    note = note_create(
        store=store, order=order, content="Your parcel left today.", is_internal=False,
        author="staff_jane",
    )  # fmt: skip

    _run_worker()

    note.refresh_from_db()
    assert note.notification_status == "sent"
    assert note.notification_attempts == 1
    assert note.notified_at is not None
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == ["jane@example.com"]
    assert f"#{order.order_number}" in email.subject
    assert "Your parcel left today." in email.body
    assert email.alternatives[0].mimetype == "text/html"
    assert "Your parcel left today." in email.alternatives[0].content


@pytest.mark.django_db(transaction=True)
@override_settings(MAILERS=FAILING_MAILERS, NOTE_EMAIL_RETRY_BASE_SECONDS=0)
def test_a_failing_mail_server_gives_failed_after_every_retry(store, order):
    note = _customer_note_once_the_worker_ran(store, order)

    assert note.notification_status == "failed"
    assert note.notification_attempts == MAX_DELIVERY_ATTEMPTS
    assert "SMTPServerDisconnected" in note.notification_error
    assert DBTaskResult.objects.count() == MAX_DELIVERY_ATTEMPTS


@pytest.mark.django_db(transaction=True)
@override_settings(MAILERS=FAILING_MAILERS, NOTE_EMAIL_RETRY_BASE_SECONDS=3600)
def test_a_failed_send_is_retried_later_not_at_once(store, order):
    note = _customer_note_once_the_worker_ran(store, order)

    assert note.notification_status == "pending"
    assert note.notification_attempts == 1
    retry = DBTaskResult.objects.filter(status="READY").get()
    assert retry.run_after is not None


@pytest.mark.django_db(transaction=True)
def test_an_order_without_email_records_failed_with_the_reason(store):
    order = make_order(store=store, customer=None)

    note = _customer_note_once_the_worker_ran(store, order)

    assert note.notification_status == "failed"
    assert "no customer email" in note.notification_error
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
    assert DBTaskResult.objects.count() == 1
