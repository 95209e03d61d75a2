"""`seed_demo`: demo stores full of orders, for development, demos and load tests."""

import json
import time

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from orders.demo import DEFAULT_SEED, ProgressBar, demo_stores_create
from orders.models import Scope
from orders.services import api_key_create

SEED_KEY_NAME = "seed_demo"


class Command(BaseCommand):
    help = (
        "Create demo stores, each with a catalog, customers, shipping methods (standard, "
        "express, pickup), tax rates and --orders orders spread over two years and every "
        "status, and print a full-scope API key per store. With --json, stdout carries one "
        "JSON document and progress goes to stderr."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--stores", type=int, default=1, help="Stores to create (default 1).")
        parser.add_argument(
            "--orders",
            type=int,
            default=500,
            help="Orders per store, numbered from 1001 (default 500).",
        )
        parser.add_argument(
            "--seed",
            type=int,
            default=DEFAULT_SEED,
            help=f"Random seed; the same seed gives the same data (default {DEFAULT_SEED}).",
        )
        parser.add_argument(
            "--json",
            dest="as_json",
            action="store_true",
            help="Print the stores, keys, customers, variants, shipping methods and tax rates "
            "as one JSON document.",
        )

    def handle(self, *args, stores: int, orders: int, seed: int, as_json: bool, **options):
        if stores < 1:
            raise CommandError("--stores must be at least 1.")
        if orders < 0:
            raise CommandError("--orders must not be negative.")
        started = time.monotonic()
        progress = ProgressBar(self.stderr)
        with transaction.atomic():
            demos = demo_stores_create(
                stores=stores, orders_per_store=orders, seed=seed, progress=progress
            )
            for demo in demos:
                _, demo.api_key = api_key_create(
                    store=demo.store, scopes=Scope.values, name=SEED_KEY_NAME
                )
        progress.finish()
        elapsed = time.monotonic() - started

        if as_json:
            document = {"stores": [demo.as_json() for demo in demos]}
            self.stdout.write(json.dumps(document, ensure_ascii=False))
            return
        for demo in demos:
            self.stdout.write(
                f"{demo.store.public_id}  {demo.store.name}: {demo.order_count} orders, "
                f"{len(demo.customers)} customers, {len(demo.variants)} variants\n"
                f"  API key (all scopes): {demo.api_key}"
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded {len(demos)} store(s), {sum(d.order_count for d in demos)} orders "
                f"in {elapsed:.1f}s."
            )
        )
