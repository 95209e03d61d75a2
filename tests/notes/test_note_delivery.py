"""The customer emails' outbox, drained by the delivery worker: a mail outage is outlasted by
retries with growing waits, only a whole retry window of failures gives `failed`, and a
note is sent by one worker at a time, under a lease that a lost worker cannot overwrite.

Time is the `clock` fixture's (tests/notes/conftest.py): the test moves it to each next
attempt, so a day of retries takes a fraction of a second.
"""

from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import override_settings
from django.utils import timezone

from notes import delivery
from notes.models import OrderNote
from notes.services import note_create
from orders.leases import lease_take
from tests.factories import make_customer, make_order
from tests.helpers import run_delivery_worker
from tests.notes.failing_mail import MailServerDownUntilBackend, SlowMailServerBackend

OUTAGE = {"default": {"BACKEND": "tests.notes.failing_mail.MailServerDownUntilBackend"}}
SLOW = {"default": {"BACKEND": "tests.notes.failing_mail.SlowMailServerBackend"}}
SMTP_DOWN = "SMTPServerDisconnected: Connection unexpectedly closed"

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def lease_of_two_minutes(settings):
    """The lease these tests count in (the default is 600 s)."""
    settings.NOTE_EMAIL_LEASE_SECONDS = 120


@pytest.fixture
def order(store):
    customer = make_customer(store=store, name="Jane Cooper", email="jane@example.com")
    return make_order(store=store, customer=customer)


@pytest.fixture
def outage(monkeypatch):
    """The mail server of OUTAGE: down until `outage.down_until` (for good while None)."""
    monkeypatch.setattr(MailServerDownUntilBackend, "down_until", None)
    monkeypatch.setattr(MailServerDownUntilBackend, "refused", 0)
    return MailServerDownUntilBackend


def customer_note(store, order, content: str = "Your parcel left today.") -> OrderNote:
    return note_create(store=store, order=order, content=content, is_internal=False, author="x")


def seconds(*waits: timedelta) -> list[float]:
    return [wait.total_seconds() for wait in waits]


def take_due_notes():
    """What a worker's lease_take gets, for a worker the test plays itself."""
    return lease_take(
        delivery.due_notes(), limit=5, lease=delivery.lease_duration(), order_by=("id",),
        related=("order", "store"),
    )  # fmt: skip


def attempts_until_settled(note: OrderNote, clock, *, most: int = 200) -> int:
    """Run the worker at each of `note`'s next attempts until it is sent or failed; how many
    rounds that took (a note stuck pending fails the test instead of looping forever)."""
    for round_ in range(1, most + 1):
        clock.advance_to(note.notification_next_attempt_at)
        run_delivery_worker()
        note.refresh_from_db()
        if note.notification_status != "pending":
            return round_
    raise AssertionError(f"still pending after {most} attempts: {note.notification_error}")


def test_retry_waits_double_from_a_minute_up_to_a_quarter_of_an_hour():
    assert seconds(*(delivery.retry_delay(n) for n in range(1, 9))) == [
        60, 120, 240, 480, 900, 900, 900, 900,
    ]  # fmt: skip
    with override_settings(NOTE_EMAIL_RETRY_BASE_SECONDS=5):
        assert seconds(delivery.retry_delay(1), delivery.retry_delay(3)) == [5, 20]


@override_settings(MAILERS=OUTAGE)
def test_an_hour_long_mail_outage_is_outlasted_with_growing_waits(store, order, clock, outage):
    outage.down_until = clock.now + timedelta(hours=1)
    note = customer_note(store, order)
    waits = []

    run_delivery_worker()
    note.refresh_from_db()
    while note.notification_status == "pending" and len(waits) < 20:
        assert note.notification_error == SMTP_DOWN
        due = note.notification_next_attempt_at
        waits.append(due - clock.now)
        clock.advance_to(due - timedelta(seconds=1))
        run_delivery_worker()  # not due yet: left alone
        assert OrderNote.objects.get(pk=note.pk).notification_attempts == len(waits)
        clock.advance_to(due)
        run_delivery_worker()
        note.refresh_from_db()

    assert seconds(*waits) == [60, 120, 240, 480, 900, 900, 900]
    assert outage.refused == 7
    assert note.notification_status == "sent"  # at the first attempt after the hour
    assert (note.notification_attempts, note.notified_at) == (8, outage.down_until)
    assert note.notification_error == ""
    assert note.notification_next_attempt_at is None
    assert [email.to for email in mail.outbox] == [["jane@example.com"]]


@override_settings(MAILERS=OUTAGE)
def test_a_mail_server_down_for_the_whole_window_gives_failed_with_the_error(
    store, order, clock, outage
):
    note = customer_note(store, order)
    first_attempt = clock.now
    window = timedelta(hours=24)

    run_delivery_worker()
    note.refresh_from_db()
    for _ in range(200):
        if note.notification_status != "pending":
            break
        assert clock.now - first_attempt < window, "pending only within the window"
        clock.advance_to(note.notification_next_attempt_at)
        run_delivery_worker()
        note.refresh_from_db()

    assert note.notification_status == "failed"
    assert clock.now - first_attempt == window  # failed by the first attempt past it
    assert note.notification_first_attempt_at == first_attempt
    # 0, 1, 3, 7 and 15 minutes, then every quarter of an hour up to 24 h.
    assert note.notification_attempts == outage.refused == 100
    assert note.notification_error == SMTP_DOWN
    assert note.notification_next_attempt_at is None
    assert (note.lease_token, note.lease_expires_at) == (None, None)
    clock.advance(days=7)
    run_delivery_worker()
    assert outage.refused == 100, "a failed note is never tried again by itself"
    assert mail.outbox == []


@override_settings(MAILERS=OUTAGE, NOTE_EMAIL_RETRY_WINDOW_SECONDS=3600)
def test_the_retry_window_is_a_setting(store, order, clock, outage):
    note = customer_note(store, order)

    run_delivery_worker()
    note.refresh_from_db()
    attempts_until_settled(note, clock)

    assert note.notification_status == "failed"
    assert note.notification_attempts == 8  # at 0, 1, 3, 7, 15, 30, 45 and 60 minutes


def test_a_note_leased_by_a_live_worker_is_not_sent_by_another(store, order, clock):
    note = customer_note(store, order)
    take_due_notes()

    clock.advance(seconds=119)
    run_delivery_worker()

    note.refresh_from_db()
    assert (note.notification_status, note.notification_attempts) == ("pending", 0)
    assert mail.outbox == []


def test_a_worker_that_lost_its_lease_changes_nothing(store, order, clock):
    note = customer_note(store, order)
    token, [taken] = take_due_notes()

    clock.advance(seconds=121)  # the worker is gone; its lease runs out
    run_delivery_worker()  # another worker takes the note over and sends it
    late = delivery.SendOutcome(at=clock.now, error=SMTP_DOWN)

    assert delivery.record_outcome(note=taken, outcome=late, token=token) is False
    note.refresh_from_db()
    assert (note.notification_status, note.notification_attempts) == ("sent", 1)
    assert note.notification_error == ""
    assert len(mail.outbox) == 1


@override_settings(MAILERS=SLOW)
def test_a_note_whose_send_could_outlive_the_lease_is_handed_back(store, order, clock, monkeypatch):
    monkeypatch.setattr(SlowMailServerBackend, "clock", clock)
    monkeypatch.setattr(SlowMailServerBackend, "seconds", 110)  # of the 120 s lease
    first = customer_note(store, order, "first")
    clock.advance(seconds=1)  # due a second apart: taken, and sent, in that order
    second = customer_note(store, order, "second")

    assert delivery.send_due_notes() == 2  # both taken; the second not sent with 10 s left

    first.refresh_from_db()
    second.refresh_from_db()
    assert first.notification_status == "sent"
    assert (second.notification_status, second.notification_attempts) == ("pending", 0)
    assert (second.lease_token, second.lease_expires_at) == (None, None), "free at once"
    assert delivery.send_due_notes() == 1
    second.refresh_from_db()
    assert (second.notification_status, second.notification_attempts) == ("sent", 1)
    assert ["first" in m.body for m in mail.outbox] == [True, False]


@pytest.mark.django_db(transaction=True)
def test_the_migration_makes_pending_notes_due_at_once(store, order):
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    executor.migrate([("notes", "0001_initial")])
    try:
        OldNote = executor.loader.project_state(("notes", "0001_initial")).apps.get_model(
            "notes", "OrderNote"
        )
        old = {"store_id": store.pk, "order_id": order.pk, "is_internal": False, "author": "x"}
        pending = OldNote.objects.create(content="queued", notification_status="pending", **old)
        sent = OldNote.objects.create(content="done", notification_status="sent", **old)
        before = timezone.now()
    finally:  # the next tests need the schema as it is
        executor = MigrationExecutor(connection)
        executor.migrate(latest)

    assert OrderNote.objects.get(pk=pending.pk).notification_next_attempt_at >= before
    assert OrderNote.objects.get(pk=sent.pk).notification_next_attempt_at is None
    run_delivery_worker()
    assert [email.subject.startswith("Update on your order") for email in mail.outbox] == [True]
