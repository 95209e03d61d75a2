"""How the back office shows things: status badges, money, and counts of big lists."""

import json
from decimal import Decimal
from functools import cached_property

from django.core.paginator import Paginator
from django.db import connection
from django.utils.html import format_html
from django.utils.safestring import SafeString


def badge(value: str, label: str) -> SafeString:
    """A coloured label for an order or payment status (colours in static/ordo/admin.css)."""
    return format_html('<span class="ordo-badge ordo-badge--{}">{}</span>', value, label)


def money(amount: Decimal, currency: str) -> str:
    return f"{amount:,.2f} {currency}"


class EstimatedCountPaginator(Paginator):
    """Counts exactly up to EXACT_UP_TO rows; beyond, PostgreSQL's planner estimate
    stands in, so a page of a million-order store never waits for COUNT(*).
    `is_estimate` tells the page to say so."""

    EXACT_UP_TO = 10_000
    is_estimate = False

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        if connection.vendor == "postgresql" and hasattr(queryset, "explain"):
            plan = json.loads(queryset.order_by().explain(format="json"))
            estimate = int(plan[0]["Plan"]["Plan Rows"])
            if estimate > self.EXACT_UP_TO:
                self.is_estimate = True
                return estimate
        return super().count
