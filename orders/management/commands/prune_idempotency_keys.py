from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError

from orders.idempotency import RETENTION, idempotency_prune


class Command(BaseCommand):
    help = "Delete stored Idempotency-Key responses older than --hours (at least 24)."

    def add_arguments(self, parser):
        parser.add_argument("--hours", type=int, default=int(RETENTION.total_seconds() // 3600))

    def handle(self, *args, hours: int, **options):
        if hours < 24:
            raise CommandError("Keys are kept at least 24 hours: use --hours 24 or more.")
        deleted = idempotency_prune(older_than=timedelta(hours=hours))
        self.stdout.write(f"Deleted {deleted} idempotency keys older than {hours} hours.")
