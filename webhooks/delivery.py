"""Sending deliveries: take due ones under a lease, POST them signed, record each outcome.

At least once, never lost: a delivery is `pending` until a receiver answered 2xx or
its 3-day window ran out, and a worker that dies mid-send only holds it until its
lease expires. One order's deliveries to one endpoint go one at a time, in the
order their events happened: a delivery is due only when no earlier one of the same
order to the same endpoint is still pending.

Never two sends of one delivery at once: a lease may only run out on a dead worker.
So every exchange with a receiver has a hard deadline (connecting, sending, the answer
and its body together), always inside what is left of the lease; a batch is no larger
than its threads can send within the lease even if every receiver times out; and a
delivery whose lease has too little left is given back unsent.
"""

import codecs
import contextlib
import http.client
import logging
import select
import socket
import ssl
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Exists, F, OuterRef, QuerySet
from django.utils import timezone

from orders.api.events import event_json
from orders.leases import lease_release, lease_take
from orders.models import Event
from orders.plans import WEBHOOKS, plans_with_feature
from webhooks.addresses import Target, UnsafeUrl, resolve_target
from webhooks.models import RESPONSE_BODY_LIMIT, WebhookDelivery, WebhookEndpoint
from webhooks.outcomes import Outcome, record_outcomes
from webhooks.signing import SIGNATURE_HEADER, sign

logger = logging.getLogger("ordo.webhooks")

# The whole exchange with a receiver, from connecting to the answer's end (DESIGN.md: 10 s).
TIMEOUT_SECONDS = 10.0
USER_AGENT = "Ordo-Webhooks/1.0 (+https://ordo.example/docs/webhooks)"
# Deliveries one worker takes at once, per sending thread (fewer when the lease is short).
DELIVERIES_PER_THREAD = 4
# Kept free at the end of a lease: the clocks of two workers' hosts may differ this much.
LEASE_MARGIN_SECONDS = 1.0
# Less time than this left in a lease, and the delivery is given back rather than sent.
MIN_SEND_SECONDS = 0.25
# What is read of an answer beyond the logged 1 KB to keep the connection; a longer answer
# costs the connection instead (reading it all would let a receiver hold the worker).
DRAIN_LIMIT = 64 * 1024
# Idle keep-alive connections each sending thread keeps, most recently used first.
KEPT_CONNECTIONS = 16
# After an answer, how long to wait for more to record them in the same commit.
OUTCOME_GATHER_SECONDS = 0.02


def worker_threads() -> int:
    return getattr(settings, "WEBHOOK_WORKER_THREADS", 8)


def lease_duration() -> timedelta:
    # Longer than a batch can take, so a live worker never loses its lease; short enough
    # that a killed worker's deliveries go out within a minute.
    return timedelta(seconds=getattr(settings, "WEBHOOK_LEASE_SECONDS", 60))


def lease_margin(lease: timedelta) -> float:
    return min(LEASE_MARGIN_SECONDS, lease.total_seconds() / 4)


def deliveries_per_thread() -> int:
    """As many as one thread can send one after another inside the lease, every one taking
    the whole timeout; at least one (its timeout then shortened to fit)."""
    lease = lease_duration()
    fits = int((lease.total_seconds() - lease_margin(lease)) // TIMEOUT_SECONDS)
    return max(1, min(DELIVERIES_PER_THREAD, fits))


def due_deliveries() -> QuerySet[WebhookDelivery]:
    """Pending deliveries of enabled endpoints whose time has come and that wait for no
    earlier delivery of the same order to the same endpoint. A store whose plan lost
    webhooks keeps its waiting deliveries for when it has them again."""
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
        endpoint__store__plan__in=plans_with_feature(WEBHOOKS),
    ).exclude(Exists(earlier_pending))


def event_body(event: Event) -> bytes:
    """The event JSON as the feed renders it: these exact bytes are signed."""
    return event_json(event).encode()


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


class _Connection(http.client.HTTPConnection):
    """A keep-alive connection to a checked address (never to the name, resolved again:
    DNS rebinding), with TLS verified against the URL's host name, and a deadline for
    the exchange under way."""

    def __init__(self, target: Target, tls: ssl.SSLContext) -> None:
        super().__init__(target.address, target.port)
        self._tls_host = target.host if target.scheme == "https" else None
        self._tls = tls
        self.deadline = 0.0  # time.monotonic() by which the current exchange must end

    def seconds_left(self) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("deadline passed")
        return left

    def connect(self) -> None:
        self.timeout = self.seconds_left()
        super().connect()
        if self._tls_host:
            self.sock.settimeout(self.seconds_left())
            self.sock = self._tls.wrap_socket(self.sock, server_hostname=self._tls_host)
        self.sock.settimeout(self.seconds_left())

    def idle_and_open(self) -> bool:
        """Whether a kept connection may carry the next request: anything readable on an
        idle one means the receiver closed it (or sent what nobody asked for)."""
        if self.sock is None:
            return False
        try:
            readable, _, _ = select.select([self.sock], [], [], 0)
        except (OSError, ValueError):
            return False
        return not readable


class _Deadline:
    """Cuts a connection once its exchange has taken its time: socket timeouts bound each
    read, not the answer, and a receiver trickling a byte at a time could otherwise hold
    a delivery past its lease."""

    def __init__(self, connection: _Connection, seconds: float) -> None:
        self.passed = False
        self._connection = connection
        connection.deadline = time.monotonic() + seconds
        self._timer = threading.Timer(seconds, self._cut)
        self._timer.daemon = True
        self._timer.start()

    def _cut(self) -> None:
        self.passed = True
        sock = self._connection.sock
        if sock is not None:
            # The plain socket's shutdown: TLS's own would race the reading thread.
            with contextlib.suppress(OSError):
                socket.socket.shutdown(sock, socket.SHUT_RDWR)

    def cancel(self) -> None:
        self._timer.cancel()


# A kept connection the receiver closed meanwhile fails like this before any answer.
_STALE_CONNECTION_ERRORS = (
    http.client.RemoteDisconnected,
    ConnectionResetError,
    BrokenPipeError,
    ConnectionAbortedError,
)


class Sender:
    """A worker's HTTP side: each sending thread keeps its own keep-alive connections, one
    per checked address and host."""

    def __init__(self) -> None:
        self._local = threading.local()
        self._tls = ssl.create_default_context()

    def _kept(self) -> OrderedDict:
        kept = getattr(self._local, "connections", None)
        if kept is None:
            kept = self._local.connections = OrderedDict()
        return kept

    def _connection(self, target: Target) -> tuple[_Connection, bool]:
        """A kept connection to `target` (and True), or a new one (and False)."""
        connection = self._kept().pop(target.connection_key, None)
        if connection is not None:
            if connection.idle_and_open():
                return connection, True
            connection.close()
        return _Connection(target, self._tls), False

    def _keep(self, target: Target, connection: _Connection) -> None:
        kept = self._kept()
        kept[target.connection_key] = connection
        while len(kept) > KEPT_CONNECTIONS:
            _, oldest = kept.popitem(last=False)
            oldest.close()

    def post(
        self,
        *,
        target: Target,
        body: bytes,
        headers: dict[str, str],
        timeout: float = TIMEOUT_SECONDS,
    ) -> Outcome:
        """POST `body` to `target`, the whole exchange within `timeout` seconds. Redirects
        are answers like any other (not followed); only the first 1 KB is kept."""
        at = timezone.now()
        started = time.monotonic()
        headers = {**headers, "Host": target.host_header}
        connection, reused = self._connection(target)
        try:
            status, text, keep = self._exchange(connection, target, body, headers, timeout)
        except Exception as error:
            connection.close()
            left = timeout - (time.monotonic() - started)
            if not (reused and isinstance(error, _STALE_CONNECTION_ERRORS) and left > 0.1):
                return _failure(at, started, error, timeout=timeout)
            # The receiver closed the idle connection as the request went out: a new one.
            connection, reused = _Connection(target, self._tls), False
            try:
                status, text, keep = self._exchange(connection, target, body, headers, left)
            except Exception as error:
                connection.close()
                return _failure(at, started, error, timeout=timeout)
        if keep:
            self._keep(target, connection)
        else:
            connection.close()
        return Outcome(
            at=at,
            status_code=status,
            duration_ms=_elapsed_ms(started),
            # A character cut by the 1 KB limit is left out rather than garbled.
            response_body=codecs.getincrementaldecoder("utf-8")("replace").decode(text),
            error=_answer_error(status),
        )

    @staticmethod
    def _exchange(connection: _Connection, target, body, headers, timeout: float):
        """(status, the first 1 KB of the answer, whether the connection can be kept)."""
        deadline = _Deadline(connection, timeout)
        try:
            if connection.sock is not None:
                connection.sock.settimeout(timeout)
            connection.request("POST", target.path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read(RESPONSE_BODY_LIMIT)
            if not response.isclosed() and not response.will_close:
                response.read(DRAIN_LIMIT)
            keep = response.isclosed() and not response.will_close
        except Exception as error:
            if deadline.passed:
                raise TimeoutError("deadline passed") from error
            raise
        finally:
            deadline.cancel()
        return response.status, text, keep and not deadline.passed


def _answer_error(status: int) -> str:
    if 200 <= status < 300:
        return ""
    if 300 <= status < 400:
        return (
            f"The receiver answered HTTP {status}, a redirect: Ordo does not follow "
            "redirects. Set the endpoint's URL to the address the receiver redirects to."
        )
    return f"The receiver answered HTTP {status}; any 2xx is success."


def _failure(at: datetime, started: float, error: Exception, *, timeout: float) -> Outcome:
    """The outcome of an exchange that got no answer, in words for the delivery log."""
    if isinstance(error, TimeoutError):  # socket.timeout too
        message = (
            f"The receiver did not answer within {timeout:g} s (timeout). Answer with a 2xx "
            "at once and do the work afterwards."
        )
    elif isinstance(error, ConnectionRefusedError):
        message = "The receiver refused the connection: is it running on that port?"
    elif isinstance(error, ssl.SSLCertVerificationError):
        message = f"The receiver's TLS certificate could not be verified: {error.verify_message}."
    elif isinstance(error, http.client.RemoteDisconnected):
        message = "The receiver closed the connection without answering."
    else:
        message = f"No answer from the receiver: {type(error).__name__}: {error}"
    return Outcome(at=at, status_code=None, duration_ms=_elapsed_ms(started), error=message[:1000])


def _elapsed_ms(started: float) -> int:
    return round((time.monotonic() - started) * 1000)


def send_one(delivery: WebhookDelivery, *, sender: Sender) -> Outcome | None:
    """Send `delivery` (leased, with its endpoint and event loaded): the outcome, or None
    when too little of its lease is left to send it without risking a second worker
    sending it too (it is then given back, not attempted)."""
    at = timezone.now()
    try:
        # Checked again at each send: the name may point somewhere else now.
        target = resolve_target(delivery.endpoint.url)
    except UnsafeUrl as error:
        return Outcome(at=at, status_code=None, duration_ms=0, error=str(error))
    lease_left = (delivery.lease_expires_at - timezone.now()).total_seconds()
    timeout = min(TIMEOUT_SECONDS, lease_left - lease_margin(lease_duration()))
    if timeout < MIN_SEND_SECONDS:
        return None
    body = event_body(delivery.event)
    headers = delivery_headers(delivery, body=body, at=timezone.now())
    return sender.post(target=target, body=body, headers=headers, timeout=timeout)


def _attempt(delivery: WebhookDelivery) -> Outcome | None:
    try:
        return send_one(delivery, sender=_SENDER)
    except Exception:  # Ordo's own fault: logged, and the delivery retried with backoff
        logger.exception("Could not send webhook delivery %s", delivery.public_id)
        return Outcome(
            at=timezone.now(),
            status_code=None,
            duration_ms=0,
            error="Ordo could not send this delivery (an internal error); it is retried.",
        )


_SENDER = Sender()
_EXECUTORS: dict[int, ThreadPoolExecutor] = {}
_EXECUTORS_LOCK = threading.Lock()


def _executor(threads: int) -> ThreadPoolExecutor:
    # Kept for the process's life: each sending thread keeps its keep-alive connections.
    with _EXECUTORS_LOCK:
        executor = _EXECUTORS.get(threads)
        if executor is None:
            executor = _EXECUTORS[threads] = ThreadPoolExecutor(
                max_workers=threads, thread_name_prefix="webhook-send"
            )
        return executor


Sent = list[tuple[WebhookDelivery, Outcome | None]]


def _sent(deliveries: list[WebhookDelivery], threads: int) -> Iterator[Sent]:
    """The deliveries with their outcomes, in groups as they complete: whatever finished
    together (or within OUTCOME_GATHER_SECONDS of the first) is recorded in one commit,
    and a slow receiver does not hold up the record of the others (nor their orders'
    next events). Only the sending runs on the threads; the database is written by the
    caller's thread alone."""
    if threads == 1 or len(deliveries) == 1:
        for delivery in deliveries:
            yield [(delivery, _attempt(delivery))]
        return
    pool = _executor(threads)
    futures = {pool.submit(_attempt, delivery): delivery for delivery in deliveries}
    pending = set(futures)
    while pending:
        done, pending = wait(pending, return_when=FIRST_COMPLETED)
        if pending:
            more, pending = wait(pending, timeout=OUTCOME_GATHER_SECONDS)
            done |= more
        yield [(futures[future], future.result()) for future in done]


def deliver_due(*, threads: int | None = None) -> int:
    """Take a batch of due deliveries, send them on `threads` threads and record their
    outcomes as they come; how many were sent."""
    threads = threads or worker_threads()
    token, deliveries = lease_take(
        due_deliveries(),
        limit=threads * deliveries_per_thread(),
        lease=lease_duration(),
        order_by=("next_attempt_at", "sequence"),
        related=("endpoint", "event"),
        # Counted as it starts: a worker killed mid-send has still made an attempt, and
        # the receiver may well have the event already.
        also={"attempts": F("attempts") + 1},
    )
    sent, given_back = 0, []
    for group in _sent(deliveries, threads):
        outcomes = [(delivery, outcome) for delivery, outcome in group if outcome is not None]
        given_back += [delivery.pk for delivery, outcome in group if outcome is None]
        if not outcomes:
            continue
        sent += len(outcomes)
        try:
            record_outcomes(outcomes, token=token)
        except Exception:  # the leases run out and these are sent again: at least once
            logger.exception(
                "Could not record the outcomes of deliveries %s",
                ", ".join(delivery.public_id for delivery, _ in outcomes),
            )
    if given_back:
        lease_release(
            WebhookDelivery, token=token, pks=given_back, also={"attempts": F("attempts") - 1}
        )
    return sent
