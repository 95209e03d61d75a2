"""`create_api_key`: issue a store's API key from a script; the key alone goes to stdout."""

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from orders.exceptions import InvalidParameters
from orders.ids import parse_public_id
from orders.models import Scope, Store
from orders.services import api_key_create


class Command(BaseCommand):
    help = (
        "Create an API key for a store and print it alone on stdout (it is shown only once; "
        "only its hash is stored), e.g. KEY=$(manage.py create_api_key --store str_… "
        "--scopes read:orders)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--store", dest="store_id", required=True, help="The store's id (str_…)."
        )
        parser.add_argument(
            "--scopes",
            required=True,
            help=f"Comma-separated scopes, from: {', '.join(Scope.values)}.",
        )
        parser.add_argument("--name", default="", help="A label shown in the admin.")
        parser.add_argument(
            "--expires-in-days",
            type=int,
            default=None,
            help="Make the key expire after this many days (default: never).",
        )

    def handle(
        self, *args, store_id: str, scopes: str, name: str, expires_in_days: int | None, **options
    ) -> None:
        store = _store(store_id)
        if expires_in_days is not None and expires_in_days < 1:
            raise CommandError("--expires-in-days must be at least 1.")
        expires_at = timezone.now() + timedelta(days=expires_in_days) if expires_in_days else None
        try:
            _, raw_key = api_key_create(
                store=store, scopes=scopes.split(","), name=name, expires_at=expires_at
            )
        except InvalidParameters as error:
            raise CommandError(
                "; ".join(detail["message"] for detail in error.details) or error.message
            ) from error
        self.stdout.write(raw_key)


def _store(public_id: str) -> Store:
    try:
        store_id = parse_public_id(Store.PUBLIC_ID_PREFIX, public_id)
    except ValueError:
        store_id = None
    store = Store.objects.filter(pk=store_id).first() if store_id else None
    if store is None:
        raise CommandError(f"No store '{public_id}'. Store ids look like str_0193….")
    return store
