"""How the back office shows things: status badges, money, and counts of big lists."""

from decimal import Decimal
from functools import cached_property

from django.core.paginator import Paginator
from django.utils.html import format_html
from django.utils.safestring import SafeString

from orders.selectors import estimated_count


def badge(value: str, label: str) -> SafeString:
    """A coloured label for an order or payment status (colours in static/ordo/admin.css)."""
    return format_html('<span class="ordo-badge ordo-badge--{}">{}</span>', value, label)


def money(amount: Decimal, currency: str) -> str:
    return f"{amount:,.2f} {currency}"


class EstimatedCountPaginator(Paginator):
    """A paginator that never waits for COUNT(*) over a million orders: beyond
    EXACT_COUNT_UP_TO rows the planner's estimate stands in, and `is_estimate` tells
    the page to say so."""

    is_estimate = False

    @cached_property
    def count(self) -> int:
        counted = estimated_count(self.object_list)
        self.is_estimate = counted.is_estimate
        return counted.value
