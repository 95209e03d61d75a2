from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.timezone import now

from orders.models.base import MONEY, StoreOwned


class Refund(StoreOwned):
    """Money given back on an order, optionally for line items (and their stock)."""

    PUBLIC_ID_PREFIX = "ref_"

    class Status(models.TextChoices):
        PROCESSED = "processed", "Processed"

    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="refunds")
    amount = models.DecimalField(**MONEY)
    shipping_amount = models.DecimalField(
        **MONEY, default=Decimal("0.00"), help_text="Part of the amount that refunds shipping"
    )
    reason = models.TextField(blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PROCESSED)
    inventory_restored = models.BooleanField(default=False)
    created_by = models.CharField(max_length=150)
    created_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=now)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive"),
            models.CheckConstraint(
                condition=Q(shipping_amount__gte=0) & Q(shipping_amount__lte=models.F("amount")),
                name="refund_shipping_within_amount",
            ),
        ]
        indexes = [
            models.Index(fields=["store", "order", "created_at"], name="refund_store_order"),
            # The admin's refunds list, newest first (a sort of every refund without it).
            models.Index(fields=["store", "created_at", "id"], name="refund_store_created"),
        ]

    def __str__(self) -> str:
        return f"{self.amount} on #{self.order_id}"


class RefundLine(StoreOwned):
    PUBLIC_ID_PREFIX = "rfl_"

    refund = models.ForeignKey(Refund, on_delete=models.CASCADE, related_name="lines")
    line_item = models.ForeignKey(
        "orders.LineItem", on_delete=models.PROTECT, related_name="refund_lines"
    )
    quantity = models.PositiveIntegerField()
    amount = models.DecimalField(**MONEY, help_text="Unit price × quantity")
    tax_amount = models.DecimalField(**MONEY, default=Decimal("0.00"))
    restocked = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="refundline_quantity_positive"
            ),
            models.CheckConstraint(
                condition=Q(amount__gte=0), name="refundline_amount_non_negative"
            ),
            models.CheckConstraint(
                condition=Q(tax_amount__gte=0), name="refundline_tax_non_negative"
            ),
        ]
        indexes = [models.Index(fields=["store", "refund"], name="refundline_store_refund")]
