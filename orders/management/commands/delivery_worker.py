"""manage.py delivery_worker: send what the outboxes hold (webhook deliveries, customer
emails), forever or until nothing is due (--until-idle). Run as many as you like: rows are
taken under leases (orders.leases), so no two workers send the same one at once, and a
worker killed mid-send leaves its rows to the others once their leases run out.

Each channel runs on its own thread with its own database connection, so a mail server
that hangs delays customer emails and nothing else: webhooks keep going.
"""

import logging
import signal
import threading
from collections.abc import Callable

from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections, connection

from orders.workers import channels

logger = logging.getLogger("ordo.workers")


class Command(BaseCommand):
    help = "Deliver webhooks and customer emails. Run several for more throughput."

    def add_arguments(self, parser):
        parser.add_argument(
            "--idle-sleep",
            type=float,
            default=0.2,
            help="Seconds a channel waits when nothing was due (default 0.2).",
        )
        parser.add_argument(
            "--until-idle",
            action="store_true",
            help="Run the channels in turn and stop once a round finds nothing due (scripts, "
            "tests).",
        )
        parser.add_argument(
            "--channels",
            default="",
            help="Comma list of the channels to run (default: all of them).",
        )

    def handle(self, *args, idle_sleep: float, until_idle: bool, channels: str, **options):
        work = _chosen(channels)
        stopping = threading.Event()
        previous = {
            signum: signal.signal(signum, lambda *_: stopping.set())
            for signum in (signal.SIGTERM, signal.SIGINT)
        }
        self.stderr.write(f"Delivery worker started: {', '.join(work)}.")
        try:
            if until_idle:
                _until_idle(work, stopping)
            else:
                threads = [
                    threading.Thread(
                        target=_forever, args=(name, channel, stopping, idle_sleep), name=name
                    )
                    for name, channel in work.items()
                ]
                for thread in threads:
                    thread.start()
                while any(thread.is_alive() for thread in threads):
                    for thread in threads:
                        thread.join(timeout=0.5)
        finally:
            stopping.set()
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        self.stderr.write("Delivery worker stopped.")


def _chosen(names: str) -> dict[str, Callable[[], int]]:
    work = channels()
    if not names:
        return work
    wanted = [name.strip() for name in names.split(",") if name.strip()]
    unknown = [name for name in wanted if name not in work]
    if unknown:
        raise CommandError(f"Unknown channel {unknown[0]!r}; the channels are: {', '.join(work)}.")
    return {name: work[name] for name in wanted}


def _round(name: str, channel: Callable[[], int], stopping: threading.Event) -> int:
    try:
        return channel()
    except Exception:  # one bad round must not stop the worker; it retries
        logger.exception("The %s channel failed; retrying in a second", name)
        stopping.wait(1)
        return 0


def _forever(
    name: str, channel: Callable[[], int], stopping: threading.Event, idle_sleep: float
) -> None:
    try:
        while not stopping.is_set():
            close_old_connections()  # this thread's: the database may have closed it
            if not _round(name, channel, stopping):
                stopping.wait(idle_sleep)
    finally:
        connection.close()


def _until_idle(work: dict[str, Callable[[], int]], stopping: threading.Event) -> None:
    """The channels in turn on this thread (and connection: a test's transaction sees what
    they do), until a whole round finds nothing due."""
    while not stopping.is_set():
        if not connection.in_atomic_block:
            close_old_connections()
        if not sum(_round(name, channel, stopping) for name, channel in work.items()):
            break
