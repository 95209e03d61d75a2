"""Webhook delivery against a real receiver on 127.0.0.1 (tests/webhooks/receiver.py):
signatures, headers and body, retries and their log, redirects and timeouts, one order's
events in order, event type filters, disabling after the retry window, and the refusal
of private addresses at registration and at delivery (DNS rebinding)."""

import hashlib
import hmac
import socket
import threading
import time
from datetime import timedelta

import pytest
from django.core import mail
from django.db.models import F
from django.utils import timezone

from orders.exceptions import UnacceptableValues
from orders.leases import lease_take
from orders.models import Event, EventType, Store, StoreMembership
from orders.services.events import event_record
from tests.factories import make_order, make_shipping_method, make_tax_rate, make_variant
from tests.helpers import (
    create_order,
    created,
    data_of,
    paid_order,
    patch_order,
    refund,
    refund_line,
)
from tests.webhooks.receiver import Reply, start
from webhooks import delivery, services
from webhooks.addresses import resolve_target
from webhooks.delivery import deliver_due
from webhooks.dispatch import dispatch_events
from webhooks.models import RESPONSE_BODY_LIMIT, WebhookDelivery, WebhookEndpoint
from webhooks.outcomes import Outcome, record_outcomes, retry_delay
from webhooks.signing import verify_signature

pytestmark = pytest.mark.django_db

PUBLIC_ADDRESS = "93.184.216.34"


@pytest.fixture(autouse=True)
def loopback_receivers(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True


@pytest.fixture
def receiver():
    receiver = start()
    yield receiver
    receiver.stop()


def subscribe(store, receiver, events=("*",)) -> tuple[WebhookEndpoint, str]:
    return services.endpoint_create(store=store, url=receiver.url, events=list(events))


def order_events(store, order, count: int, type: str = EventType.ORDER_UPDATED) -> list[Event]:
    """`count` events of `order`, written as a change's service writes them."""
    return [
        event_record(store=store, type=type, subject=order, order_id=order.id) for _ in range(count)
    ]


def work() -> int:
    """What delivery workers do, until nothing is due: dispatch events, send deliveries."""
    total = 0
    while done := dispatch_events() + deliver_due():
        total += done
    return total


def delivery_of(event: Event, endpoint: WebhookEndpoint | None = None) -> WebhookDelivery:
    deliveries = WebhookDelivery.objects.filter(event=event)
    return deliveries.get(endpoint=endpoint) if endpoint else deliveries.get()


def make_due(*deliveries: WebhookDelivery) -> None:
    """Bring a scheduled retry forward to now (instead of waiting for its backoff)."""
    WebhookDelivery.objects.filter(pk__in=[d.pk for d in deliveries]).update(
        next_attempt_at=timezone.now()
    )


def signatures(header: str) -> tuple[int, list[str]]:
    items = [item.partition("=") for item in header.split(",")]
    (timestamp,) = [int(value) for key, _, value in items if key == "t"]
    return timestamp, [value for key, _, value in items if key == "v1"]


def hmac_of(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


@pytest.fixture
def sellable(store):
    make_shipping_method(store=store)
    make_tax_rate(store=store)
    return make_variant(store=store, price="24.00")


# --- what a receiver gets ------------------------------------------------------------------


def test_a_delivery_is_the_feeds_event_signed_with_the_endpoint_secret(
    store, client, sellable, receiver
):
    _, secret = subscribe(store, receiver)
    order = create_order(client, store, [(sellable, 2)])

    work()

    (request,) = receiver.requests
    event = Event.objects.get(store=store, type=EventType.ORDER_CREATED)
    sent = delivery_of(event)
    assert request.method == "POST"
    assert request.path == "/hooks"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["Ordo-Event-Id"] == event.public_id
    assert request.headers["Ordo-Event-Type"] == "order.created"
    assert request.headers["Ordo-Delivery-Id"] == sent.public_id
    assert request.json() == data_of(client.get(f"/v1/events/{event.public_id}"))
    assert request.json()["data"]["object"]["id"] == order["id"]
    header = request.headers["Ordo-Signature"]
    assert verify_signature(body=request.body, header=header, secret=secret)
    timestamp, (v1,) = signatures(header)
    assert v1 == hmac_of(secret, timestamp, request.body)
    assert abs(timestamp - time.time()) < 60
    assert not verify_signature(body=request.body + b" ", header=header, secret=secret)
    assert not verify_signature(body=request.body, header=header, secret="whsec_other")
    sent.refresh_from_db()
    assert (sent.status, sent.attempts, sent.last_status_code) == ("succeeded", 1, 200)
    assert sent.last_response_body == '{"received": true}'


def test_after_a_rotation_both_secrets_sign_until_the_grace_period_ends(store, receiver):
    endpoint, old_secret = subscribe(store, receiver)
    order = make_order(store=store)
    endpoint, new_secret = services.endpoint_rotate_secret(store=store, endpoint=endpoint)

    order_events(store, order, 1)
    work()
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        previous_secret_expires_at=timezone.now() - timedelta(seconds=1)
    )
    order_events(store, order, 1)
    work()

    during, after = receiver.wait_for(2)
    timestamp, both = signatures(during.headers["Ordo-Signature"])
    assert sorted(both) == sorted(
        [hmac_of(old_secret, timestamp, during.body), hmac_of(new_secret, timestamp, during.body)]
    )
    for secret in (old_secret, new_secret):
        assert verify_signature(body=during.body, header=during.headers["Ordo-Signature"],
                                secret=secret)  # fmt: skip
    timestamp, only = signatures(after.headers["Ordo-Signature"])
    assert only == [hmac_of(new_secret, timestamp, after.body)]
    header = after.headers["Ordo-Signature"]
    assert verify_signature(body=after.body, header=header, secret=new_secret)
    assert not verify_signature(body=after.body, header=header, secret=old_secret)


# --- failures, retries and their log -----------------------------------------------------


def test_a_receiver_answering_500_is_logged_retried_later_then_succeeds(store):
    error_page = b"<h1>Internal Server Error</h1>" + b"x" * 3000
    receiver = start(Reply(500, body=error_page), Reply(200))
    try:
        subscribe(store, receiver)
        (event,) = order_events(store, make_order(store=store), 1)

        before = timezone.now()
        work()
        sent = delivery_of(event)
        assert sent.status == "pending"
        assert sent.attempts == 1
        assert sent.last_status_code == 500
        assert sent.last_response_body == error_page[:RESPONSE_BODY_LIMIT].decode()
        assert "HTTP 500" in sent.last_error
        assert sent.last_duration_ms is not None
        assert sent.lease_token is None
        # The first retry waits 30 s, give or take the ±25 % jitter.
        assert before + timedelta(seconds=22) < sent.next_attempt_at
        assert sent.next_attempt_at < timezone.now() + timedelta(seconds=38)
        assert work() == 0  # not due yet
        assert len(receiver.requests) == 1

        make_due(sent)
        work()

        sent.refresh_from_db()
        assert (sent.status, sent.attempts, sent.last_status_code) == ("succeeded", 2, 200)
        assert sent.last_error == ""
        first, second = receiver.requests
        assert first.body == second.body
        assert first.headers["Ordo-Delivery-Id"] == second.headers["Ordo-Delivery-Id"]
    finally:
        receiver.stop()


def test_retries_back_off_exponentially():
    for attempts, base in [(1, 30), (2, 60), (3, 120), (6, 960), (20, 6 * 3600)]:
        delays = [retry_delay(attempts).total_seconds() for _ in range(50)]
        assert all(base * 0.75 <= d <= base * 1.25 for d in delays), (attempts, delays)
        assert len(set(delays)) > 1  # jittered


def test_a_redirect_is_a_failure_and_is_not_followed(store):
    receiver = start(Reply(302, headers={"Location": "/elsewhere"}))
    try:
        subscribe(store, receiver)
        (event,) = order_events(store, make_order(store=store), 1)

        work()

        assert [r.path for r in receiver.requests] == ["/hooks"]
        sent = delivery_of(event)
        assert (sent.status, sent.last_status_code) == ("pending", 302)
        assert "does not follow redirects" in sent.last_error
    finally:
        receiver.stop()


def test_a_receiver_slower_than_the_timeout_fails_with_a_timeout_error(store, monkeypatch):
    monkeypatch.setattr(delivery, "TIMEOUT_SECONDS", 0.5)
    receiver = start(Reply(200, delay=5))
    try:
        subscribe(store, receiver)
        (event,) = order_events(store, make_order(store=store), 1)

        work()

        sent = delivery_of(event)
        assert (sent.status, sent.attempts, sent.last_status_code) == ("pending", 1, None)
        assert "did not answer within 0.5 s (timeout)" in sent.last_error
        assert 450 <= sent.last_duration_ms < 2000
        assert receiver.requests[0].answered is None
    finally:
        receiver.stop()


def test_a_receiver_trickling_its_answer_is_cut_off_at_the_timeout(store, monkeypatch):
    """Socket timeouts bound each read: a byte every 0.1 s would never trip them. The
    exchange as a whole is bounded, so a send cannot outlive its lease."""
    monkeypatch.setattr(delivery, "TIMEOUT_SECONDS", 0.6)
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def trickle():
        connection, _ = listener.accept()
        with connection:
            connection.recv(65536)
            for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 200:
                if stop.wait(0.1):
                    return
                try:
                    connection.sendall(bytes([byte]))
                except OSError:
                    return

    thread = threading.Thread(target=trickle, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/hooks"
        services.endpoint_create(store=store, url=url, events=["*"])
        (event,) = order_events(store, make_order(store=store), 1)

        work()

        sent = delivery_of(event)
        assert "did not answer within 0.6 s (timeout)" in sent.last_error
        assert 550 <= sent.last_duration_ms < 1500
    finally:
        stop.set()
        listener.close()


def test_a_send_never_outlives_the_lease_even_when_the_lease_is_shorter_than_the_timeout(
    store, settings
):
    settings.WEBHOOK_LEASE_SECONDS = 2
    receiver = start(Reply(200, delay=5))
    try:
        subscribe(store, receiver)
        (event,) = order_events(store, make_order(store=store), 1)
        started = time.monotonic()

        work()

        assert time.monotonic() - started < 2
        sent = delivery_of(event)
        assert "(timeout)" in sent.last_error
        assert sent.last_attempt_at < sent.created_at + timedelta(seconds=2)
    finally:
        receiver.stop()


def test_a_long_or_odd_answer_is_logged_by_its_first_kilobyte(store):
    body = b"ok\x00" + "é".encode() * 100_000
    receiver = start(Reply(200, body=body), Reply(500, body=b"\x00oops"))
    try:
        subscribe(store, receiver)
        first, second = order_events(store, make_order(store=store), 2)

        work()

        assert delivery_of(first).status == "succeeded"
        # The first 1 KB: NUL is kept as U+FFFD (PostgreSQL refuses NUL in text), and the
        # "é" the limit cuts in half is left out.
        assert delivery_of(first).last_response_body == "ok\ufffd" + "é" * 510
        assert delivery_of(second).last_response_body == "\ufffdoops"
        assert delivery_of(second).last_status_code == 500
    finally:
        receiver.stop()


# --- which events go where, and in what order ----------------------------------------------


def test_one_orders_events_wait_for_its_failed_delivery_while_other_orders_go_on(store):
    receiver = start()
    try:
        subscribe(store, receiver)
        order, other = make_order(store=store), make_order(store=store)
        first, second, third = order_events(store, order, 3)
        (elsewhere,) = order_events(store, other, 1)
        failing = threading.Event()
        failing.set()
        receiver.answer = lambda request: (
            Reply(503) if failing.is_set() and request.event_id == first.public_id else None
        )

        work()

        assert sorted(receiver.event_ids()) == sorted([first.public_id, elsewhere.public_id])
        assert delivery_of(first).status == "pending"
        assert delivery_of(elsewhere).status == "succeeded"
        assert delivery_of(second).attempts == delivery_of(third).attempts == 0

        failing.clear()
        make_due(delivery_of(first))
        work()

        of_order = [i for i in receiver.event_ids() if i != elsewhere.public_id]
        assert of_order == [first.public_id, first.public_id, second.public_id, third.public_id]
        assert {delivery_of(e).status for e in (first, second, third)} == {"succeeded"}
    finally:
        receiver.stop()


def test_an_orders_events_arrive_in_the_order_they_happened(store, receiver):
    subscribe(store, receiver)
    orders = [make_order(store=store) for _ in range(3)]
    events = {order.id: [] for order in orders}
    for _ in range(4):
        for order in orders:
            events[order.id] += order_events(store, order, 1)

    work()

    received = receiver.event_ids()
    assert len(received) == 12
    for order in orders:
        expected = [event.public_id for event in events[order.id]]
        assert [i for i in received if i in expected] == expected


def test_endpoints_get_only_the_event_types_they_subscribed_to(store, client, sellable, receiver):
    refunds_receiver = start()
    try:
        orders_endpoint, _ = subscribe(store, receiver, ["order.*"])
        refunds_endpoint, _ = subscribe(store, refunds_receiver, ["refund.created"])
        order = paid_order(client, store, [(sellable, 2)])
        created(refund(client, order, {"line_items": [refund_line(order)]}))
        data_of(patch_order(client, order, {"po_number": "PO-7"}))

        work()

        feed = list(Event.objects.filter(store=store).order_by("position", "id"))
        order_ids = [e.public_id for e in feed if e.type.startswith("order.")]
        refund_ids = [e.public_id for e in feed if e.type == "refund.created"]
        assert {"order.created", "order.paid", "order.updated"} <= {
            e.type for e in feed if e.type.startswith("order.")
        }
        assert len(refund_ids) == 1
        assert receiver.event_ids() == order_ids
        assert refunds_receiver.event_ids() == refund_ids
        assert {r.headers["Ordo-Event-Type"] for r in refunds_receiver.requests} == {
            "refund.created"
        }
        assert not WebhookDelivery.objects.filter(endpoint=orders_endpoint,
                                                  event_type="refund.created").exists()  # fmt: skip
        assert WebhookDelivery.objects.filter(endpoint=refunds_endpoint).count() == 1
    finally:
        refunds_receiver.stop()


def test_an_endpoint_created_after_an_event_does_not_get_it(store, receiver):
    order = make_order(store=store)
    (before,) = order_events(store, order, 1)
    subscribe(store, receiver)
    (after,) = order_events(store, order, 1)

    work()

    assert receiver.event_ids() == [after.public_id]
    assert not WebhookDelivery.objects.filter(event=before).exists()


def test_a_store_moved_to_the_free_plan_gets_no_more_webhooks(store, receiver):
    order = make_order(store=store)
    subscribe(store, receiver)
    store.plan = Store.Plan.FREE
    store.save(update_fields=["plan"])
    (while_free,) = order_events(store, order, 1)

    work()

    assert receiver.event_ids() == []
    assert not WebhookDelivery.objects.filter(event=while_free).exists()
    store.plan = Store.Plan.PREMIUM
    store.save(update_fields=["plan"])
    (premium_again,) = order_events(store, order, 1)
    work()
    assert receiver.event_ids() == [premium_again.public_id]


def test_another_stores_events_go_to_none_of_this_stores_endpoints(store, other_store, receiver):
    subscribe(store, receiver)
    (mine,) = order_events(store, make_order(store=store), 1)
    order_events(other_store, make_order(store=other_store), 1)

    work()

    assert receiver.event_ids() == [mine.public_id]


# --- an endpoint that keeps failing ----------------------------------------------------------


def test_after_a_retry_window_of_failures_the_endpoint_is_disabled_and_enabled_again(
    store, django_capture_on_commit_callbacks, django_user_model
):
    owner = django_user_model.objects.create_user("owner", email="owner@acme.example")
    StoreMembership.objects.create(store=store, user=owner, role=StoreMembership.Role.OWNER)
    receiver = start(default=Reply(503, body=b"maintenance"))
    try:
        endpoint, _ = subscribe(store, receiver)
        first, second, third = order_events(store, make_order(store=store), 3)
        work()
        sent = delivery_of(first)
        assert sent.attempts == 1
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
            failing_since=timezone.now() - timedelta(days=3, seconds=1)
        )
        WebhookDelivery.objects.filter(pk=sent.pk).update(
            first_attempt_at=timezone.now() - timedelta(days=3, seconds=1)
        )
        make_due(sent)

        with django_capture_on_commit_callbacks(execute=True):
            work()

        sent.refresh_from_db()
        endpoint.refresh_from_db()
        assert (sent.status, sent.attempts) == ("failed", 2)
        assert endpoint.status == "disabled"
        assert endpoint.disabled_at is not None
        assert "failed for 3 days" in endpoint.disabled_reason
        assert "HTTP 503" in endpoint.disabled_reason
        (email,) = mail.outbox
        assert email.to == ["owner@acme.example"]
        assert endpoint.url in email.body
        assert "Enable" in email.body
        assert work() == 0  # a disabled endpoint is sent nothing
        assert len(receiver.requests) == 2

        receiver.default = Reply(200)
        services.endpoint_enable(store=store, endpoint=endpoint)
        work()

        endpoint.refresh_from_db()
        assert (endpoint.status, endpoint.failing_since, endpoint.disabled_reason) == (
            "enabled", None, ""
        )  # fmt: skip
        assert receiver.event_ids()[2:] == [second.public_id, third.public_id]
        assert [delivery_of(e).status for e in (first, second, third)] == [
            "failed", "succeeded", "succeeded"
        ]  # fmt: skip
    finally:
        receiver.stop()


def test_the_window_can_be_set_short_and_the_last_retry_falls_on_its_end(store, settings):
    settings.WEBHOOK_RETRY_WINDOW_SECONDS = 20
    receiver = start(default=Reply(500))
    try:
        subscribe(store, receiver)
        (event,) = order_events(store, make_order(store=store), 1)

        work()

        sent = delivery_of(event)
        assert sent.next_attempt_at == sent.first_attempt_at + timedelta(seconds=20)
    finally:
        receiver.stop()


# --- private addresses -------------------------------------------------------------------------


def resolving(monkeypatch, names: dict[str, str]) -> dict[str, str]:
    """Make `names` resolve to the given addresses (changed later through the dict); every
    other name resolves as usual."""
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host in names:
            return real(names[host], port, *args, **kwargs)
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return names


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hooks",
        "https://10.1.2.3/hooks",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hooks",
        "https://[::ffff:10.0.0.1]/hooks",
        "https://[64:ff9b::a00:1]/hooks",
        "https://localhost/hooks",
        "https://hooks.internal.example/hooks",
    ],
)
def test_a_private_loopback_or_link_local_receiver_is_refused_at_registration(
    store, settings, monkeypatch, url
):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    resolving(monkeypatch, {"hooks.internal.example": "127.0.0.1"})

    with pytest.raises(UnacceptableValues) as refused:
        services.endpoint_create(store=store, url=url, events=["*"])

    assert refused.value.status_code == 422
    (detail,) = refused.value.details
    assert detail["field"] == "url"
    assert "webhooks go to public addresses only" in detail["message"]
    assert not WebhookEndpoint.objects.exists()


def test_plain_http_is_refused_unless_private_urls_are_allowed(store, settings, monkeypatch):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    resolving(monkeypatch, {"hooks.example.com": PUBLIC_ADDRESS})

    with pytest.raises(UnacceptableValues) as refused:
        services.endpoint_create(store=store, url="http://hooks.example.com/", events=["*"])

    assert "must start with https://" in refused.value.details[0]["message"]
    endpoint, _ = services.endpoint_create(
        store=store, url="https://hooks.example.com/", events=["*"]
    )
    assert endpoint.url == "https://hooks.example.com/"


def test_a_name_that_resolves_to_loopback_at_delivery_time_is_refused_then_too(
    store, settings, monkeypatch, receiver
):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    names = resolving(monkeypatch, {"hooks.example.com": PUBLIC_ADDRESS})
    url = f"https://hooks.example.com:{receiver.port}/hooks"
    services.endpoint_create(store=store, url=url, events=["*"])
    (event,) = order_events(store, make_order(store=store), 1)
    names["hooks.example.com"] = "127.0.0.1"  # the rebinding

    work()

    sent = delivery_of(event)
    assert (sent.status, sent.attempts, sent.last_status_code) == ("pending", 1, None)
    assert sent.last_error == (
        "hooks.example.com resolves to 127.0.0.1, a private, loopback or link-local address; "
        "webhooks go to public addresses only."
    )
    assert receiver.accepted == 0
    assert receiver.requests == []


# --- leases and outcomes ------------------------------------------------------------------------


def lease_all(lease: timedelta = timedelta(seconds=60)):
    dispatch_events()
    return lease_take(
        delivery.due_deliveries(), limit=10, lease=lease, order_by=("sequence",),
        related=("endpoint", "event"), also={"attempts": F("attempts") + 1},
    )  # fmt: skip


def test_a_delivery_with_too_little_lease_left_is_not_sent(store, receiver):
    subscribe(store, receiver)
    order_events(store, make_order(store=store), 1)
    _, (leased,) = lease_all(lease=timedelta(milliseconds=200))

    assert delivery.send_one(leased, sender=delivery.Sender()) is None

    assert receiver.requests == []
    assert receiver.accepted == 0


def test_outcomes_recorded_together_keep_the_endpoints_health_in_time_order(store, receiver):
    endpoint, _ = subscribe(store, receiver)
    order_events(store, make_order(store=store), 1)
    order_events(store, make_order(store=store), 1)
    long_ago = timezone.now() - timedelta(days=3, seconds=5)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=long_ago)
    token, (one, other) = lease_all()
    now = timezone.now()
    ok = Outcome(at=now - timedelta(seconds=2), status_code=200, duration_ms=5)
    failed = Outcome(at=now - timedelta(seconds=1), status_code=500, duration_ms=5, error="500")

    assert record_outcomes([(other, failed), (one, ok)], token=token) == 2

    endpoint.refresh_from_db()
    # The success between reset the record; the later failure starts a new one.
    assert (endpoint.status, endpoint.failing_since) == ("enabled", failed.at)
    one.refresh_from_db()
    other.refresh_from_db()
    assert (one.status, one.attempts, other.status, other.attempts) == (
        "succeeded", 1, "pending", 1
    )  # fmt: skip
    assert record_outcomes([(one, ok)], token=token) == 0  # the lease is no longer held


def test_a_path_or_query_outside_ascii_is_percent_encoded_for_the_wire():
    target = resolve_target("http://127.0.0.1:9000/hooks/café d?q=ü&already=%20")

    assert target.path == "/hooks/caf%C3%A9%20d?q=%C3%BC&already=%20"
