"""Figures kept as orders change, so reading them costs the same at any size of store.

Both tables are written by orders.services.figures in the transaction of every
create, status step, payment change, void and refund; nothing else writes them
but `figures_rebuild` (bulk loads, repairs).
"""

from decimal import Decimal

from django.db import models

from orders.models.base import MONEY

# A store's count of a status and payment status is spread over this many rows (slots),
# each change taking one at random: concurrent changes in one store then rarely wait on
# the same row, and a count is the sum of a few dozen small rows.
ORDER_COUNT_SLOTS = 16


class OrderCount(models.Model):
    """How many of a store's orders are in a status and payment status: the sum of its
    slots. One slot may go below zero (an order counted in one slot leaves from another);
    the sum never does."""

    # Indexed by the unique constraint, which leads with the store.
    store = models.ForeignKey(
        "orders.Store", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    status = models.CharField(max_length=20)
    payment_status = models.CharField(max_length=20)
    slot = models.PositiveSmallIntegerField()
    orders = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["store", "status", "payment_status", "slot"],
                name="order_count_unique_slot",
            )
        ]

    def __str__(self) -> str:
        return f"{self.status}/{self.payment_status}[{self.slot}]: {self.orders}"


# Sales are kept per quarter hour (UTC), which every time zone's day is made of (offsets
# are whole quarter hours): a store that changes its time zone needs no rebuild.
SALES_PERIOD_MINUTES = 15


class SalesPeriod(models.Model):
    """Orders placed in a quarter hour and their net sales (totals less refunds, cancelled
    and voided orders left out), for the dashboard's days."""

    # Indexed by the unique constraint, which leads with the store.
    store = models.ForeignKey(
        "orders.Store", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    starts_at = models.DateTimeField()
    orders = models.IntegerField(default=0)
    net_sales = models.DecimalField(**MONEY, default=Decimal("0.00"))

    class Meta:
        # No CHECK on the sums: an upsert's proposed row carries the change (a refund's
        # -10.00), and the database checks it before it finds the row to add it to.
        constraints = [
            models.UniqueConstraint(fields=["store", "starts_at"], name="sales_period_unique")
        ]

    def __str__(self) -> str:
        return f"{self.starts_at:%Y-%m-%d %H:%M}: {self.orders} orders, {self.net_sales}"
