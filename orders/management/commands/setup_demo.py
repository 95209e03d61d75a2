"""`setup_demo`: what `make run` needs: a demo store, a fresh API key and a staff login."""

import json

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.utils import timezone

from orders.demo import ProgressBar, demo_stores_create
from orders.models import ApiKey, Scope, Store, StoreMembership, Variant
from orders.services import api_key_create, api_key_revoke

DEMO_STORE_NAME = "Ordo Demo Store"
# Two 24.00 mugs of the demo catalog: 2 + 1 of them give seed 003's create example.
SEED_003_SKUS = ["MUG-OCEAN", "MUG-FOREST"]
DEMO_KEY_NAME = "demo (make run)"
DEMO_USERNAME = "demo"
DEMO_PASSWORD = "ordo-demo"
# Apps whose admin pages the demo login works with.
DEMO_STAFF_APPS = ["orders", "notes", "refunds", "webhooks"]


class Command(BaseCommand):
    help = (
        f"Make sure a store named '{DEMO_STORE_NAME}' exists (seeding one with --orders "
        f"orders if not), revoke earlier '{DEMO_KEY_NAME}' keys and print a fresh full-scope "
        f"key with the API URLs, a curl example and the staff login "
        f"({DEMO_USERNAME} / {DEMO_PASSWORD}). Safe to run again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--host", default="127.0.0.1:8000", help="host:port the server listens on."
        )
        parser.add_argument(
            "--orders", type=int, default=300, help="Orders to seed a new demo store with."
        )

    def handle(self, *args, host: str, orders: int, **options) -> None:
        with transaction.atomic():
            store = Store.objects.filter(name=DEMO_STORE_NAME).order_by("created_at").first()
            if store is None:
                progress = ProgressBar(self.stderr, label=f"seeding {DEMO_STORE_NAME}: orders")
                (demo,) = demo_stores_create(
                    stores=1,
                    orders_per_store=orders,
                    names=[DEMO_STORE_NAME],
                    progress=progress,
                )
                progress.finish()
                store = demo.store
            raw_key = _fresh_demo_key(store)
            _demo_staff_login(store)

        base = f"http://{host}"
        example = f"{base}/v1/orders?per_page=2&status=pending"
        create = _seed_003_order_body(store)
        self.stdout.write(
            "\n".join(
                [
                    "",
                    self.style.SUCCESS(f"{DEMO_STORE_NAME}: {store.public_id}"),
                    f"  API key (all scopes, shown once): {raw_key}",
                    f"  Orders API:   {base}/v1/orders",
                    f"  Swagger UI:   {base}/v1/docs",
                    f"  OpenAPI:      {base}/v1/openapi.json",
                    f"  Admin:        {base}/admin/  (login {DEMO_USERNAME} / {DEMO_PASSWORD})",
                    "",
                    "  In your shell:",
                    f"  export ORDO_KEY={raw_key}",
                    f"  export ORDO_STORE={store.public_id}",
                    "",
                    "  Try:",
                    f'  curl -H "X-API-Key: {raw_key}" "{example}"',
                    "",
                    "  Seed 003's create (subtotal 72.00, shipping 5.99, tax 7.92, total 85.91):",
                    f'  curl -X POST -H "X-API-Key: {raw_key}" -H "Content-Type: application/json" '
                    f"\\\n    {base}/v1/stores/{store.public_id}/orders -d '{create}'",
                    "",
                    "  Webhooks: run a receiver in another terminal, register it (the answer shows",
                    "  its whsec_ secret once), then work in the admin and watch events arrive:",
                    "  .venv/bin/python manage.py webhook_receiver --port 9000",
                    f'  curl -X POST -H "X-API-Key: {raw_key}" -H "Content-Type: application/json" '
                    f"\\\n    {base}/v1/webhook-endpoints "
                    """-d '{"url": "http://127.0.0.1:9000/", "events": ["*"]}'""",
                    "",
                ]
            )
        )


def _fresh_demo_key(store: Store) -> str:
    """Revoke the store's earlier demo keys and issue a new one: a raw key is never stored,
    so each run has to issue the one it prints."""
    now = timezone.now()
    for api_key in ApiKey.objects.filter(store=store, name=DEMO_KEY_NAME, revoked_at=None):
        api_key_revoke(api_key=api_key, now=now)
    _, raw_key = api_key_create(store=store, scopes=Scope.values, name=DEMO_KEY_NAME)
    return raw_key


def _demo_staff_login(store: Store) -> None:
    """A staff (not super) user owning the demo store, with the password reset to the
    documented one, and the model permissions its admin pages need."""
    user, _ = get_user_model().objects.get_or_create(username=DEMO_USERNAME)
    user.is_staff = True
    user.is_superuser = False
    user.is_active = True
    user.set_password(DEMO_PASSWORD)
    user.save()
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label__in=DEMO_STAFF_APPS)
    )
    StoreMembership.objects.update_or_create(
        store=store, user=user, defaults={"role": StoreMembership.Role.OWNER}
    )


def _seed_003_order_body(store: Store) -> str:
    """A create request whose totals are seed 003's example, with this store's ids."""
    mugs = {v.sku: v for v in Variant.objects.filter(store=store, sku__in=SEED_003_SKUS)}
    return json.dumps(
        {
            "customer": {"name": "Jane Cooper", "email": "jane@example.com"},
            "line_items": [
                {
                    "product_id": mugs["MUG-OCEAN"].product.public_id,
                    "variant_id": mugs["MUG-OCEAN"].public_id,
                    "quantity": 2,
                },
                {"variant_id": mugs["MUG-FOREST"].public_id, "quantity": 1},
            ],
            "shipping_address": {
                "line1": "123 Main St", "city": "Portland", "state": "OR",
                "postal_code": "97201", "country": "US",
            },
            "shipping_method": "standard",
            "notes": "Gift wrap requested",
        }
    )  # fmt: skip
