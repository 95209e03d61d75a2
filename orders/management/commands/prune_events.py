"""manage.py prune_events: delete events past their retention, and what hangs off them.

Events are kept EVENT_RETENTION_DAYS (DESIGN.md: the feed lists 30 days). Deleting runs in
batches, each its own short transaction, so pruning a million old events never holds one
huge transaction (nor its locks and WAL) open, and an interrupted run keeps what it did.

Rows of other apps point at events (a webhook delivery is one event owed to one endpoint),
and `orders` may not import those apps. Django 6.1's database-level cascade
(`on_delete=DB_CASCADE`) cannot be used for them: its checks refuse a model that mixes it
with Python-level cascades (models.E050, fields.E323), and every store-owned row has one
(`store`). So the dependents are found the way Django's own deletion collector finds them,
through the model's reverse relations, and deleted with one set-based DELETE per batch:
no delivery is loaded into Python.
"""

from datetime import datetime, timedelta

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import models, transaction
from django.db.models.deletion import get_candidate_relations_to_delete
from django.utils import timezone

from orders.models import Event
from orders.models.event import EVENT_RETENTION_DAYS

# Events deleted per transaction: large enough that a million take a few hundred short
# statements, small enough that each transaction stays a fraction of a second.
PRUNE_BATCH = 5_000


def events_prune(*, older_than: datetime, batch: int = PRUNE_BATCH) -> tuple[int, int]:
    """Delete the events created before `older_than` and the rows of other apps that
    cascade from them, `batch` events per transaction; (events, dependent rows) deleted.

    Each batch locks only the rows it deletes. A relation that does not cascade (PROTECT,
    SET_NULL) is left to the database, which refuses the delete.
    """
    # Hidden relations too (`related_name="+"`, as deliveries have), like the collector.
    dependents = [
        relation
        for relation in get_candidate_relations_to_delete(Event._meta)
        if relation.on_delete in (models.CASCADE, models.DB_CASCADE)
    ]
    events = dependent_rows = 0
    while True:
        with transaction.atomic():
            ids = list(
                Event.objects.filter(created_at__lt=older_than)
                .order_by()
                .values_list("pk", flat=True)[:batch]
            )
            if not ids:
                return events, dependent_rows
            for relation in dependents:
                # A fast delete (one statement) while the dependent model has no signals
                # and no dependents of its own; Django collects in Python only if it must.
                deleted, _ = relation.related_model._base_manager.filter(
                    **{f"{relation.field.attname}__in": ids}
                ).delete()
                dependent_rows += deleted
            # Its dependents are gone: the collector would only reload the events to find
            # none, so the events go with one DELETE.
            events += Event.objects.filter(pk__in=ids)._raw_delete(Event.objects.db)


class Command(BaseCommand):
    help = (
        f"Delete events older than --days (default {EVENT_RETENTION_DAYS}) and their webhook "
        "deliveries, in batches. Safe to run while the API and workers are running."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--days",
            type=int,
            default=EVENT_RETENTION_DAYS,
            help=f"Keep the events of the last DAYS days (default {EVENT_RETENTION_DAYS}).",
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=PRUNE_BATCH,
            help=f"Events deleted per transaction (default {PRUNE_BATCH}).",
        )

    def handle(self, *args, days: int, batch_size: int, **options) -> None:
        if days < 1:
            raise CommandError(
                f"--days must be at least 1 (got {days}): it is how many days of events to "
                f"keep. The feed promises {EVENT_RETENTION_DAYS}."
            )
        if batch_size < 1:
            raise CommandError(f"--batch-size must be at least 1 (got {batch_size}).")
        cutoff = timezone.now() - timedelta(days=days)
        events, deliveries = events_prune(older_than=cutoff, batch=batch_size)
        self.stdout.write(
            f"Deleted {events} events older than {days} days "
            f"and {deliveries} webhook deliveries of them."
        )
