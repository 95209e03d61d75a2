"""manage.py delivery_worker: send what the outboxes hold (webhook deliveries, customer
emails), forever or until nothing is due (--until-idle). Run as many as you like: rows are
taken under leases (orders.leases), so no two workers send the same one at once, and a
worker killed mid-send leaves its rows to the others once their leases run out."""

import logging
import signal
import time

from django.core.management.base import BaseCommand
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
            help="Seconds to wait when nothing was due (default 0.2).",
        )
        parser.add_argument(
            "--until-idle",
            action="store_true",
            help="Stop once a round finds nothing due (for scripts and tests).",
        )

    def handle(self, *args, idle_sleep: float, until_idle: bool, **options):
        stopping = []
        previous = {
            signum: signal.signal(signum, lambda *_: stopping.append(True))
            for signum in (signal.SIGTERM, signal.SIGINT)
        }
        work = channels()
        self.stderr.write(f"Delivery worker started: {', '.join(work)}.")
        try:
            while not stopping:
                # A long-running worker drops connections the database has closed; run
                # in-process inside a transaction (a test), the connection is the caller's.
                if not connection.in_atomic_block:
                    close_old_connections()
                done = 0
                for name, channel in work.items():
                    try:
                        done += channel()
                    except Exception:  # one bad round must not stop the worker; it retries
                        logger.exception("The %s channel failed; retrying next round", name)
                        time.sleep(1)
                if not done:
                    if until_idle:
                        break
                    time.sleep(idle_sleep)
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        self.stderr.write("Delivery worker stopped.")
