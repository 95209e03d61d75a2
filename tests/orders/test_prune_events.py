"""manage.py prune_events: events past their retention go, with their webhook deliveries;
recent ones stay; the deletes run in batches without loading deliveries into Python."""

import io
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from orders.models import Event, EventType
from orders.services import event_record
from tests.factories import make_order
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.signing import generate_secret

pytestmark = pytest.mark.django_db


def prune(*args: str) -> str:
    stdout = io.StringIO()
    call_command("prune_events", *args, stdout=stdout)
    return stdout.getvalue()


def event_aged(store, *, days: float) -> Event:
    """An order.created event of a new order of `store`, made `days` days ago."""
    order = make_order(store=store)
    event = event_record(
        store=store, type=EventType.ORDER_CREATED, subject=order, order_id=order.pk
    )
    Event.objects.filter(pk=event.pk).update(created_at=timezone.now() - timedelta(days=days))
    return event


def endpoint_of(store) -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(
        store=store, url="https://hooks.example.com/ordo", events=["*"], secret=generate_secret()
    )


def delivery_of(event: Event, endpoint: WebhookEndpoint, sequence: int) -> WebhookDelivery:
    return WebhookDelivery.objects.create(
        store_id=event.store_id,
        endpoint=endpoint,
        event=event,
        event_type=event.type,
        order_id=event.order_id,
        sequence=sequence,
    )


def test_prune_events_deletes_events_past_30_days_with_their_deliveries_and_keeps_the_rest(
    store, other_store
):
    endpoint, other_endpoint = endpoint_of(store), endpoint_of(other_store)
    old = [
        event_aged(store, days=31),
        event_aged(store, days=400),
        event_aged(other_store, days=45),
    ]
    recent = [
        event_aged(store, days=29),
        event_aged(store, days=0),
        event_aged(other_store, days=1),
    ]
    for sequence, event in enumerate([*old, *recent]):
        delivery_of(event, endpoint if event.store_id == store.pk else other_endpoint, sequence)

    output = prune()

    assert output.strip() == "Deleted 3 events older than 30 days and 3 webhook deliveries of them."
    assert set(Event.objects.values_list("pk", flat=True)) == {e.pk for e in recent}
    assert set(WebhookDelivery.objects.values_list("event_id", flat=True)) == {e.pk for e in recent}
    assert WebhookEndpoint.objects.count() == 2


def test_prune_events_days_sets_how_many_days_are_kept(store):
    kept, gone = event_aged(store, days=6), event_aged(store, days=8)

    output = prune("--days", "7")

    assert output.strip() == "Deleted 1 events older than 7 days and 0 webhook deliveries of them."
    assert list(Event.objects.values_list("pk", flat=True)) == [kept.pk]
    assert not Event.objects.filter(pk=gone.pk).exists()


def test_prune_events_runs_in_batches_and_never_reads_the_deliveries(store):
    endpoint = endpoint_of(store)
    old = [event_aged(store, days=40) for _ in range(5)]
    for sequence, event in enumerate(old):
        delivery_of(event, endpoint, sequence)
    deliveries = WebhookDelivery._meta.db_table
    events = Event._meta.db_table

    with CaptureQueriesContext(connection) as queries:
        output = prune("--batch-size", "2")

    statements = [query["sql"] for query in queries.captured_queries]
    assert output.startswith("Deleted 5 events older than 30 days and 5 webhook deliveries")
    assert not Event.objects.exists()
    assert not WebhookDelivery.objects.exists()
    # Three batches of at most two events, each one DELETE per table...
    assert sum(s.startswith(f'DELETE FROM "{events}"') for s in statements) == 3
    assert sum(s.startswith(f'DELETE FROM "{deliveries}"') for s in statements) == 3
    # ...and no delivery (nor any event's body) was loaded to find them.
    assert not [s for s in statements if s.startswith("SELECT") and deliveries in s]
    assert not [s for s in statements if s.startswith("SELECT") and "data_json" in s]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--days", "0"), "--days must be at least 1 (got 0)"),
        (("--days", "-3"), "--days must be at least 1 (got -3)"),
        (("--batch-size", "0"), "--batch-size must be at least 1 (got 0)"),
    ],
)
def test_prune_events_refuses_impossible_values_and_deletes_nothing(store, args, message):
    event = event_aged(store, days=90)

    with pytest.raises(CommandError, match=message.replace("(", r"\(").replace(")", r"\)")):
        prune(*args)

    assert list(Event.objects.values_list("pk", flat=True)) == [event.pk]
