"""Delivery workers as they run in production: real `manage.py delivery_worker` processes
on the test database, one killed with SIGKILL in the middle of a delivery, and several
sharing one stream of events. PostgreSQL only (row locks, SKIP LOCKED, concurrent
connections)."""

import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from orders.models import EventType
from orders.services.events import event_record
from tests.concurrency import requires_postgresql
from tests.factories import make_order
from tests.helpers import subprocess_database_url
from tests.webhooks.receiver import Reply, start
from webhooks import services
from webhooks.benchmark import delivery_workers
from webhooks.models import WebhookDelivery

pytestmark = [requires_postgresql, pytest.mark.django_db(transaction=True)]

# Generous: events are dispatched once no older transaction is open anywhere on the server
# (orders.selectors.events_settled), and a busy shared server can hold that back a while.
PATIENCE = 90

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def workers(count: int, tmp_path: Path, **env: str) -> Iterator[list[subprocess.Popen]]:
    """`count` delivery worker processes on the test database, stopped (SIGTERM, then
    SIGKILL) on the way out."""
    environment = {
        "DATABASE_URL": subprocess_database_url(),
        "EMAIL_URL": "memory://",
        "CONN_MAX_AGE": "0",
        **env,
    }
    with delivery_workers(
        count, log_dir=tmp_path, extra_args=["--idle-sleep", "0.05"], env=environment
    ) as processes:
        yield processes


def wait_until(condition: Callable[[], bool], *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"Not within {timeout:g} s: {what}")
        time.sleep(0.05)


def order_events(store, order, count: int) -> list:
    return [
        event_record(store=store, type=EventType.ORDER_UPDATED, subject=order, order_id=order.id)
        for _ in range(count)
    ]


def test_a_delivery_whose_worker_is_killed_mid_request_is_sent_by_another(
    store, settings, tmp_path
):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True
    receiver = start(Reply(hang=True))  # the first request is never answered
    try:
        services.endpoint_create(store=store, url=receiver.url, events=["*"])
        (event,) = order_events(store, make_order(store=store), 1)

        with workers(1, tmp_path, WEBHOOK_LEASE_SECONDS="5") as (first,):
            (partial,) = receiver.wait_for(1, timeout=PATIENCE)
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=10)
        held = WebhookDelivery.objects.get(event=event)
        assert held.status == "pending"
        assert held.lease_token is not None  # the dead worker's, running out on its own
        assert held.attempts == 1

        with workers(1, tmp_path, WEBHOOK_LEASE_SECONDS="2"):
            (_, complete) = receiver.wait_for(2, timeout=PATIENCE)
            wait_until(
                lambda: WebhookDelivery.objects.get(pk=held.pk).status == "succeeded",
                timeout=PATIENCE, what="the second worker recorded the delivery",
            )  # fmt: skip
            time.sleep(0.5)  # room for a (wrong) third send to show up before counting

        assert len(receiver.requests) == 2
        assert partial.answered is None
        assert complete.answered == 200
        assert partial.event_id == complete.event_id == event.public_id
        assert partial.headers["Ordo-Delivery-Id"] == complete.headers["Ordo-Delivery-Id"]
        assert partial.body == complete.body
        # Sent again only once the killed worker's lease had run out, and soon after.
        assert complete.received_at >= held.lease_expires_at.timestamp()
        assert complete.received_at - partial.received_at < 5 + PATIENCE
        delivered = WebhookDelivery.objects.get(pk=held.pk)
        assert (delivered.attempts, delivered.last_status_code) == (2, 200)
        assert delivered.lease_token is None
    finally:
        receiver.stop()


def test_several_workers_deliver_every_event_exactly_once_and_each_order_in_order(
    store, settings, tmp_path
):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True
    receiver = start(default=Reply(200, delay=0.005))
    try:
        services.endpoint_create(store=store, url=receiver.url, events=["*"])
        orders = [make_order(store=store) for _ in range(20)]
        events = {order.id: order_events(store, order, 5) for order in orders}

        with workers(3, tmp_path):
            # Half the stream is written while the workers run.
            for order in orders:
                events[order.id] += order_events(store, order, 5)
            receiver.wait_for(200, timeout=PATIENCE)
            wait_until(
                lambda: WebhookDelivery.objects.filter(status="succeeded").count() == 200,
                timeout=PATIENCE, what="all 200 deliveries recorded as succeeded",
            )  # fmt: skip

        received = receiver.event_ids()
        assert len(received) == 200
        assert len(set(received)) == 200
        for order in orders:
            expected = [event.public_id for event in events[order.id]]
            assert [i for i in received if i in set(expected)] == expected
        assert set(WebhookDelivery.objects.values_list("attempts", flat=True)) == {1}
    finally:
        receiver.stop()
