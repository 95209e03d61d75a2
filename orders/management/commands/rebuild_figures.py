"""`rebuild_figures`: recompute a store's kept counts and sales from its orders."""

from django.core.management.base import BaseCommand, CommandError, CommandParser

from orders.models import Store
from orders.services.figures import figures_rebuild


class Command(BaseCommand):
    help = (
        "Recompute the counts by status and payment status and the quarter-hourly sales that "
        "stores keep as orders change, from their orders: after orders were loaded past the "
        "services (SQL by hand, a data migration). Run it while the store is quiet."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--store", help="A store id (str_…); default: every store.")

    def handle(self, *args, store: str | None, **options) -> None:
        stores = Store.objects.order_by("created_at")
        if store is not None:
            stores = [s for s in stores if s.public_id == store]
            if not stores:
                raise CommandError(f"No store '{store}'. Store ids look like str_….")
        for each in stores:
            figures_rebuild(store=each)
            self.stdout.write(f"{each.public_id}  {each.name}: figures rebuilt")
