"""A delivery worker killed (SIGKILL) while its mail server hangs mid-send leaves the note to
the next worker once its lease runs out: the note ends `sent`, sent once, by that worker.

Real processes (`manage.py delivery_worker`) on the test database, real SMTP servers on
127.0.0.1: one that takes the connection and never answers, and a tiny working one. The
lease is 2 s (NOTE_EMAIL_LEASE_SECONDS) so the takeover is quick.
"""

import os
import signal
import socketserver
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from notes.models import OrderNote
from notes.services import note_create
from orders.models import Event
from orders.services import order_update
from tests.concurrency import requires_postgresql
from tests.factories import make_customer, make_order
from tests.helpers import subprocess_database_url
from tests.webhooks.receiver import start as webhook_receiver
from webhooks.services import endpoint_create

pytestmark = [requires_postgresql, pytest.mark.django_db(transaction=True)]

BASE_DIR = Path(__file__).resolve().parents[2]
LEASE_SECONDS = 2
WAIT_SECONDS = 30


class HangingSmtpServer(socketserver.ThreadingTCPServer):
    """Accepts a connection and never sends its greeting: the client's send hangs."""

    daemon_threads = True

    def __init__(self):
        self.connected = threading.Event()
        self.released = threading.Event()

        class Hang(socketserver.BaseRequestHandler):
            def handle(handler):
                self.connected.set()
                self.released.wait(WAIT_SECONDS)

        super().__init__(("127.0.0.1", 0), Hang)


class SmtpServer(socketserver.ThreadingTCPServer):
    """Just enough SMTP for Django's backend: every message accepted and kept."""

    daemon_threads = True

    def __init__(self):
        self.messages: list[bytes] = []

        class Session(socketserver.StreamRequestHandler):
            def handle(handler):
                handler.wfile.write(b"220 test ESMTP\r\n")
                while line := handler.rfile.readline():
                    command = line[:4].upper()
                    if command == b"DATA":
                        handler.wfile.write(b"354 end with a dot\r\n")
                        body = []
                        while (data := handler.rfile.readline()) not in (b".\r\n", b""):
                            body.append(data)
                        self.messages.append(b"".join(body))
                        handler.wfile.write(b"250 queued\r\n")
                    elif command == b"QUIT":
                        handler.wfile.write(b"221 bye\r\n")
                        return
                    else:  # EHLO, MAIL, RCPT, RSET, NOOP
                        handler.wfile.write(b"250 ok\r\n")

        super().__init__(("127.0.0.1", 0), Session)


@pytest.fixture
def serve():
    """Start a socketserver in a thread: serve(server) -> its port; all stopped at the end."""
    servers = []

    def start(server) -> int:
        servers.append(server)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server.server_address[1]

    yield start
    for server in servers:
        if isinstance(server, HangingSmtpServer):
            server.released.set()
        server.shutdown()
        server.server_close()


@pytest.fixture
def start_worker(tmp_path):
    """start_worker(smtp_port) -> a `manage.py delivery_worker` process sending mail there;
    every one still running is killed at the end."""
    processes, logs = [], []

    def start(smtp_port: int, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
        log = (tmp_path / f"worker-{len(processes)}.log").open("w")
        logs.append(log)
        environment = {
            **os.environ,
            "DATABASE_URL": subprocess_database_url(),
            "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
            "NOTE_EMAIL_LEASE_SECONDS": str(LEASE_SECONDS),
            "PYTHONUNBUFFERED": "1",
            **(env or {}),
        }
        process = subprocess.Popen(
            [sys.executable, "manage.py", "delivery_worker", "--idle-sleep", "0.05", *args],
            cwd=BASE_DIR,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        process.log_path = log.name
        processes.append(process)
        return process

    yield start
    for process in processes:
        if process.poll() is None:
            process.kill()
        process.wait()
    for log in logs:
        log.close()


def wait_for(condition, what: str, *, seconds: float = WAIT_SECONDS) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.05)


def test_a_worker_killed_mid_send_leaves_the_note_to_the_next_worker(store, serve, start_worker):
    order = make_order(store=store, customer=make_customer(store=store, email="jane@example.com"))
    note = note_create(
        store=store, order=order, content="Your parcel left today.", is_internal=False,
        author="staff_jane",
    )  # fmt: skip
    hanging = HangingSmtpServer()
    working = SmtpServer()

    first = start_worker(serve(hanging))
    assert hanging.connected.wait(WAIT_SECONDS), Path(first.log_path).read_text()
    held = OrderNote.objects.get(pk=note.pk)
    assert (held.notification_status, held.notification_attempts) == ("pending", 0)
    assert held.lease_token is not None, "taken under a lease while it sends"
    first.send_signal(signal.SIGKILL)
    first.wait(WAIT_SECONDS)

    second = start_worker(serve(working))
    wait_for(lambda: OrderNote.objects.get(pk=note.pk).notification_status == "sent", "sent")
    second.send_signal(signal.SIGTERM)
    assert second.wait(WAIT_SECONDS) == 0, Path(second.log_path).read_text()

    sent = OrderNote.objects.get(pk=note.pk)
    assert sent.notification_attempts == 1, "the killed worker recorded nothing"
    assert sent.notified_at >= held.lease_expires_at, "taken over only once the lease ran out"
    assert (sent.lease_token, sent.lease_expires_at) == (None, None)
    assert len(working.messages) == 1
    assert b"To: jane@example.com" in working.messages[0]
    assert b"Your parcel left today." in working.messages[0]
    # Another worker finds nothing left to send.
    third = start_worker(working.server_address[1], "--until-idle")
    assert third.wait(WAIT_SECONDS) == 0, Path(third.log_path).read_text()
    assert len(working.messages) == 1


def test_a_hung_mail_server_delays_customer_emails_and_nothing_else(
    store, serve, start_worker, settings
):
    """Each channel of a worker runs on its own thread: while one send hangs, webhooks keep
    going out (a mail outage must not stall every store's integrations)."""
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True
    receiver = webhook_receiver()
    try:
        endpoint_create(store=store, url=receiver.url, events=["*"])
        order = make_order(store=store, customer=make_customer(store=store, email="j@example.com"))
        note_create(
            store=store, order=order, content="On its way.", is_internal=False, author="staff",
        )  # fmt: skip
        hanging = HangingSmtpServer()
        worker = start_worker(serve(hanging), env={"WEBHOOK_ALLOW_PRIVATE_URLS": "1"})
        assert hanging.connected.wait(WAIT_SECONDS), Path(worker.log_path).read_text()

        order_update(store=store, order=order, actor="staff", details={"po_number": "PO-9"})

        changed = Event.objects.get(store=store, type="order.updated").public_id
        # Well inside the 15 s the hung send takes to time out: nothing waited for it.
        wait_for(
            lambda: changed in receiver.event_ids(), "the webhook, while mail hangs", seconds=5
        )
        assert OrderNote.objects.get(order=order).notification_status == "pending"
    finally:
        receiver.stop()
