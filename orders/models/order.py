import hashlib
from decimal import Decimal

from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Upper
from django.utils import timezone
from simple_history.models import HistoricalRecords

from orders import transitions
from orders.models.base import MONEY, StoreOwned
from orders.models.statuses import OrderStatus, PaymentMethod, PaymentStatus


class OrderHistoryBase(models.Model):
    """Extra columns on the order's history rows: who made the change, in the API's words."""

    changed_by = models.CharField(max_length=150, default="system")

    class Meta:
        abstract = True


# The history table tracks the lifecycle (id, store, order_number, status, payment_status),
# not every column: narrow rows keep the audit trail cheap to write and to bulk-load for
# millions of orders. tests/orders/test_models.py checks this list stays complete.
HISTORY_EXCLUDED_FIELDS = [
    "payment_method", "shipping_method", "shipping_method_code", "requires_shipping", "currency",
    "customer", "customer_name", "customer_email", "customer_phone", "customer_code", "po_number",
    "subtotal", "discount_amount", "shipping_cost", "tax_amount", "total", "refunded_amount",
    "item_count", "customer_notes", "internal_notes", "shipping_name", "shipping_phone",
    "shipping_line1", "shipping_line2", "shipping_city", "shipping_province",
    "shipping_postal_code", "shipping_country", "country_code", "shipping_notes", "placed_at",
    "confirmed_at", "processing_at", "shipped_at", "delivered_at", "completed_at",
    "cancelled_at", "returned_at", "voided_at", "created_at", "updated_at",
]  # fmt: skip
HISTORY_TRACKED_FIELDS = {"id", "store", "order_number", "status", "payment_status"}


class Order(StoreOwned):
    PUBLIC_ID_PREFIX = "ord_"

    order_number = models.PositiveBigIntegerField()
    status = models.CharField(
        max_length=20, choices=OrderStatus.choices, default=OrderStatus.PENDING
    )
    payment_status = models.CharField(
        max_length=20, choices=PaymentStatus.choices, default=PaymentStatus.PENDING
    )
    payment_method = models.CharField(
        max_length=20, choices=PaymentMethod.choices, default=PaymentMethod.CARD
    )
    shipping_method = models.ForeignKey(
        "orders.ShippingMethod", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Snapshot of the method's code: renaming or deleting a method never rewrites old orders.
    shipping_method_code = models.CharField(max_length=40, blank=True)
    requires_shipping = models.BooleanField(default=True)
    currency = models.CharField(max_length=3)

    customer = models.ForeignKey(
        "orders.Customer", null=True, blank=True, on_delete=models.SET_NULL, related_name="orders"
    )
    # Customer snapshot at order time: what the invoice said, even if the customer changes.
    customer_name = models.CharField(max_length=200, blank=True)
    customer_email = models.EmailField(max_length=254, blank=True)
    customer_phone = models.CharField(max_length=40, blank=True)
    customer_code = models.CharField(max_length=40, blank=True)
    po_number = models.CharField(max_length=64, blank=True)

    subtotal = models.DecimalField(**MONEY, default=Decimal("0.00"))
    discount_amount = models.DecimalField(**MONEY, default=Decimal("0.00"))
    shipping_cost = models.DecimalField(**MONEY, default=Decimal("0.00"))
    tax_amount = models.DecimalField(**MONEY, default=Decimal("0.00"))
    total = models.DecimalField(**MONEY, default=Decimal("0.00"))
    refunded_amount = models.DecimalField(**MONEY, default=Decimal("0.00"))
    item_count = models.PositiveIntegerField(default=0, help_text="Units ordered, all lines")

    customer_notes = models.TextField(blank=True)
    internal_notes = models.TextField(blank=True, help_text="Staff memo; never shown to customers")

    shipping_name = models.CharField(max_length=200, blank=True)
    shipping_phone = models.CharField(max_length=40, blank=True)
    shipping_line1 = models.CharField(max_length=255, blank=True)
    shipping_line2 = models.CharField(max_length=255, blank=True)
    shipping_city = models.CharField(max_length=100, blank=True)
    shipping_province = models.CharField(max_length=100, blank=True)
    shipping_postal_code = models.CharField(max_length=20, blank=True)
    shipping_country = models.CharField(max_length=100, blank=True, help_text="Country name")
    country_code = models.CharField(max_length=2, blank=True, help_text="ISO 3166-1 alpha-2")
    shipping_notes = models.TextField(blank=True)

    placed_at = models.DateTimeField(default=timezone.now)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    processing_at = models.DateTimeField(null=True, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    returned_at = models.DateTimeField(null=True, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    history = HistoricalRecords(
        bases=[OrderHistoryBase],
        excluded_fields=HISTORY_EXCLUDED_FIELDS,
        history_change_reason_field=models.TextField(null=True),
        cascade_delete_history=True,
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["store", "order_number"], name="order_unique_store_number"
            ),
            models.CheckConstraint(
                condition=Q(subtotal__gte=0), name="order_subtotal_non_negative"
            ),
            models.CheckConstraint(
                condition=Q(discount_amount__gte=0), name="order_discount_non_negative"
            ),
            models.CheckConstraint(
                condition=Q(shipping_cost__gte=0), name="order_shipping_non_negative"
            ),
            models.CheckConstraint(condition=Q(tax_amount__gte=0), name="order_tax_non_negative"),
            models.CheckConstraint(condition=Q(total__gte=0), name="order_total_non_negative"),
            models.CheckConstraint(
                condition=Q(refunded_amount__gte=0), name="order_refunded_non_negative"
            ),
            # The last line of defence for refunds: never give back more than was charged.
            models.CheckConstraint(
                condition=Q(refunded_amount__lte=F("total")), name="order_refunded_not_over_total"
            ),
            models.CheckConstraint(
                condition=Q(status__in=OrderStatus.values), name="order_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(payment_status__in=PaymentStatus.values),
                name="order_payment_status_valid",
            ),
        ]
        indexes = [
            # Default list order (-created_at, id), created_* / date_from ranges, keyset cursor.
            models.Index(fields=["store", "created_at", "id"], name="order_store_created"),
            # Sync jobs: updated_since / updated_at[gte] and sort=-updated_at.
            models.Index(fields=["store", "updated_at", "id"], name="order_store_updated"),
            # placed_from / placed_to and sort=-placed_at.
            models.Index(fields=["store", "placed_at", "id"], name="order_store_placed"),
            # status=pending,confirmed (dashboards, the fulfillment queue), newest first.
            models.Index(
                fields=["store", "status", "created_at"], name="order_store_status_created"
            ),
            # payment_status=paid, newest first.
            models.Index(
                fields=["store", "payment_status", "created_at"], name="order_store_payment_created"
            ),
            # customer_id=… : a customer's purchase history.
            models.Index(fields=["store", "customer", "created_at"], name="order_store_customer"),
            # total[gte]/[lte], min_total/max_total and sort=-total.
            models.Index(fields=["store", "total"], name="order_store_total"),
            # sort=customer_name.
            models.Index(fields=["store", "customer_name"], name="order_store_customer_name"),
            # po_number=… exact lookups from ERPs.
            models.Index(fields=["store", "po_number"], name="order_store_po_number"),
            # country_code=… ; city=… is case-insensitive, so its index is on UPPER(city).
            models.Index(fields=["store", "country_code"], name="order_store_country_code"),
            # The column rides along so that counting a city is an index-only scan:
            # PostgreSQL reads an expression's rows from the index alone only when the
            # columns it is computed from are in the index too.
            models.Index(
                "store",
                Upper("shipping_city"),
                include=["shipping_city"],
                name="order_store_city_upper_incl",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.order_number}"

    @property
    def is_pending(self) -> bool:
        return self.status == OrderStatus.PENDING

    @property
    def is_completed(self) -> bool:
        return self.status == OrderStatus.COMPLETED

    @property
    def is_cancellable(self) -> bool:
        return OrderStatus.CANCELLED in self.allowed_transitions

    @property
    def is_fully_paid(self) -> bool:
        return self.payment_status == PaymentStatus.PAID

    @property
    def etag(self) -> str:
        """Changes whenever the order does (every write bumps updated_at)."""
        digest = hashlib.sha256(f"{self.pk}:{self.updated_at.isoformat()}".encode()).hexdigest()
        return f'"{digest[:20]}"'

    @property
    def is_voidable(self) -> bool:
        return transitions.is_voidable(self)

    @property
    def allowed_transitions(self) -> list[str]:
        """The statuses this order may move to now (see orders.transitions)."""
        return transitions.allowed_transitions(self)


class LineItem(StoreOwned):
    PUBLIC_ID_PREFIX = "li_"

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey(
        "orders.Product", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    variant = models.ForeignKey(
        "orders.Variant", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Catalog snapshot: later price or name changes never alter what was sold.
    sku = models.CharField(max_length=64, blank=True)
    product_name = models.CharField(max_length=200)
    variant_name = models.CharField(max_length=200, blank=True)
    quantity = models.PositiveIntegerField()
    unit_price = models.DecimalField(**MONEY)
    total_price = models.DecimalField(**MONEY)
    tax_amount = models.DecimalField(**MONEY, default=Decimal("0.00"))
    refunded_quantity = models.PositiveIntegerField(default=0)
    # Whether placing the order took this line's units off the variant's stock. Cancels,
    # voids and refunds put back only what was taken: the store's plan (orders.plans) or
    # the variant's tracking may have changed since. The database default lets bulk loads
    # (the demo's COPY) leave it out: their orders took no stock.
    stock_reserved = models.BooleanField(default=False, db_default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="lineitem_quantity_positive"),
            models.CheckConstraint(
                condition=Q(unit_price__gte=0), name="lineitem_unit_price_non_negative"
            ),
            models.CheckConstraint(
                condition=Q(total_price__gte=0), name="lineitem_total_non_negative"
            ),
            models.CheckConstraint(
                condition=Q(tax_amount__gte=0), name="lineitem_tax_non_negative"
            ),
            models.CheckConstraint(
                condition=Q(refunded_quantity__gte=0) & Q(refunded_quantity__lte=F("quantity")),
                name="lineitem_refunded_quantity_within_quantity",
            ),
        ]
        indexes = [
            models.Index(fields=["store", "order", "created_at"], name="lineitem_store_order")
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.product_name}"


class Fulfillment(StoreOwned):
    PUBLIC_ID_PREFIX = "ful_"

    class Status(models.TextChoices):
        IN_TRANSIT = "in_transit", "In transit"
        DELIVERED = "delivered", "Delivered"
        RETURNED = "returned", "Returned"

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="fulfillments")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.IN_TRANSIT)
    carrier = models.CharField(max_length=100)
    tracking_number = models.CharField(max_length=100)
    tracking_url = models.URLField(max_length=500, blank=True)
    shipped_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["store", "order", "created_at"], name="fulfillment_store_order")
        ]

    def __str__(self) -> str:
        return f"{self.carrier} {self.tracking_number}"
