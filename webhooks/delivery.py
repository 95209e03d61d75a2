"""Sending deliveries: take due ones under a lease, POST them signed, record each outcome.

At least once, never lost: a delivery is `pending` until a receiver answered 2xx or
its 3-day window ran out, and a worker that dies mid-send only holds it until its
lease expires. One order's deliveries to one endpoint go one at a time, in the
order their events happened: a delivery is due only when no earlier one of the same
order to the same endpoint is still pending.
"""

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import urllib3
from django.conf import settings
from django.db.models import Exists, OuterRef
from django.utils import timezone

from orders.leases import lease_take
from orders.models import Event
from webhooks.addresses import Target, UnsafeUrl, resolve_target
from webhooks.models import RESPONSE_BODY_LIMIT, WebhookDelivery, WebhookEndpoint
from webhooks.outcomes import Outcome, record_outcome
from webhooks.signing import SIGNATURE_HEADER, sign

logger = logging.getLogger("ordo.webhooks")

TIMEOUT_SECONDS = 10
USER_AGENT = "Ordo-Webhooks/1.0 (+https://ordo.example/docs/webhooks)"


def worker_threads() -> int:
    return getattr(settings, "WEBHOOK_WORKER_THREADS", 8)


# Deliveries one worker takes at once, per sending thread: with every receiver timing out,
# a batch takes 4 × 10 s, well inside the lease.
DELIVERIES_PER_THREAD = 4


def lease_duration() -> timedelta:
    # Longer than a batch can take (see DELIVERIES_PER_THREAD), so a live worker never loses
    # its lease; short enough that a killed worker's deliveries go out within a minute.
    return timedelta(seconds=getattr(settings, "WEBHOOK_LEASE_SECONDS", 60))


def due_deliveries():
    """Pending deliveries of enabled endpoints whose time has come and that wait for no
    earlier delivery of the same order to the same endpoint."""
    now = timezone.now()
    earlier_pending = WebhookDelivery.objects.filter(
        endpoint_id=OuterRef("endpoint_id"),
        order_id=OuterRef("order_id"),
        status=WebhookDelivery.Status.PENDING,
        sequence__lt=OuterRef("sequence"),
    )
    return WebhookDelivery.objects.filter(
        status=WebhookDelivery.Status.PENDING,
        next_attempt_at__lte=now,
        endpoint__status=WebhookEndpoint.Status.ENABLED,
    ).exclude(Exists(earlier_pending))


def event_body(event: Event) -> bytes:
    """The event JSON as the feed renders it: these exact bytes are signed."""
    from orders.api.events import render_event
    from orders.api.renderers import dumps

    return dumps(render_event(event)).encode()


class Sender:
    """A worker's HTTP side: one keep-alive pool per checked address and host."""

    def __init__(self) -> None:
        self._pools: dict[tuple, urllib3.HTTPConnectionPool] = {}
        self._lock = threading.Lock()

    def _pool(self, target: Target) -> urllib3.HTTPConnectionPool:
        key = (target.scheme, target.address, target.port, target.host)
        with self._lock:
            pool = self._pools.get(key)
            if pool is None:
                timeout = urllib3.Timeout(connect=TIMEOUT_SECONDS, read=TIMEOUT_SECONDS)
                if target.scheme == "https":
                    # Connect to the checked address; the certificate and SNI are the host's.
                    pool = urllib3.HTTPSConnectionPool(
                        target.address, target.port, timeout=timeout, maxsize=4, retries=False,
                        server_hostname=target.host, assert_hostname=target.host,
                    )  # fmt: skip
                else:
                    pool = urllib3.HTTPConnectionPool(
                        target.address, target.port, timeout=timeout, maxsize=4, retries=False
                    )
                self._pools[key] = pool
        return pool

    def post(self, *, url: str, body: bytes, headers: dict[str, str]) -> Outcome:
        started = time.perf_counter()
        at = timezone.now()
        try:
            target = resolve_target(url)
        except UnsafeUrl as error:
            return Outcome(at=at, status_code=None, duration_ms=0, error=str(error))
        host_header = target.host if target.port in (80, 443) else f"{target.host}:{target.port}"
        try:
            response = self._pool(target).urlopen(
                "POST",
                target.path,
                body=body,
                headers={**headers, "Host": host_header},
                redirect=False,
                retries=False,
                preload_content=False,
            )
            try:
                text = response.read(RESPONSE_BODY_LIMIT, decode_content=False)
            finally:
                response.drain_conn()
                response.release_conn()
            return Outcome(
                at=at,
                status_code=response.status,
                duration_ms=_elapsed_ms(started),
                response_body=text.decode("utf-8", "replace"),
                error=""
                if 200 <= response.status < 300
                else f"The receiver answered HTTP {response.status}; any 2xx is success.",
            )
        except urllib3.exceptions.HTTPError as error:
            return Outcome(
                at=at,
                status_code=None,
                duration_ms=_elapsed_ms(started),
                error=f"{type(error).__name__}: {error}"[:1000],
            )


def _elapsed_ms(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)


def delivery_headers(delivery: WebhookDelivery, *, body: bytes, at: datetime) -> dict[str, str]:
    secrets = delivery.endpoint.signing_secrets(at=at)
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Ordo-Event-Id": delivery.event.public_id,
        "Ordo-Event-Type": delivery.event_type,
        "Ordo-Delivery-Id": delivery.public_id,
        SIGNATURE_HEADER: sign(body=body, secrets=secrets, timestamp=int(at.timestamp())),
    }


def send_one(delivery: WebhookDelivery, *, sender: Sender) -> Outcome:
    body = event_body(delivery.event)
    headers = delivery_headers(delivery, body=body, at=timezone.now())
    return sender.post(url=delivery.endpoint.url, body=body, headers=headers)


_SENDER = Sender()


def deliver_due(*, threads: int | None = None) -> int:
    """Take a batch of due deliveries, send them on `threads` threads, record each outcome;
    how many were sent."""
    workers = threads or worker_threads()
    token, deliveries = lease_take(
        due_deliveries().select_related("endpoint", "event"),
        limit=workers * DELIVERIES_PER_THREAD,
        lease=lease_duration(),
        order_by=("next_attempt_at", "sequence"),
    )
    if not deliveries:
        return 0
    if workers > 1 and len(deliveries) > 1:
        with ThreadPoolExecutor(max_workers=min(workers, len(deliveries))) as pool:
            outcomes = list(pool.map(lambda d: send_one(d, sender=_SENDER), deliveries))
    else:
        outcomes = [send_one(d, sender=_SENDER) for d in deliveries]
    for delivery, outcome in zip(deliveries, outcomes, strict=True):
        record_outcome(delivery=delivery, outcome=outcome, token=token)
    return len(deliveries)
