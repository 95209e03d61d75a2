from django.db import models
from django.db.models import Q
from django.utils import timezone

from orders.models.base import MONEY, StoreOwned


class Customer(StoreOwned):
    PUBLIC_ID_PREFIX = "cust_"

    name = models.CharField(max_length=200)
    # Stored lower-cased so "matched by email within the store" is an exact, indexed lookup.
    email = models.EmailField(max_length=254, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    code = models.CharField(max_length=40, blank=True, help_text="The store's own customer code")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["store", "email"],
                condition=~Q(email=""),
                name="customer_unique_store_email",
                violation_error_message="A customer with this email already exists in this store.",
            )
        ]
        indexes = [models.Index(fields=["store", "name"], name="customer_store_name")]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>" if self.email else self.name

    def clean(self) -> None:
        # Orders find their customer by the lower-cased email (order_create).
        self.email = self.email.strip().lower()


class Product(StoreOwned):
    PUBLIC_ID_PREFIX = "prod_"

    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["store", "name"], name="product_store_name")]

    def __str__(self) -> str:
        return self.name


class Variant(StoreOwned):
    PUBLIC_ID_PREFIX = "var_"

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="variants")
    name = models.CharField(max_length=200, blank=True)
    sku = models.CharField(max_length=64)
    price = models.DecimalField(**MONEY)
    stock = models.IntegerField(default=0)
    track_inventory = models.BooleanField(
        default=True, help_text="When off, the variant never runs out (digital goods, services)."
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["store", "sku"], name="variant_unique_store_sku"),
            models.CheckConstraint(condition=Q(price__gte=0), name="variant_price_non_negative"),
            models.CheckConstraint(condition=Q(stock__gte=0), name="variant_stock_non_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.product.name} — {self.name}" if self.name else self.product.name


class ShippingMethod(StoreOwned):
    PUBLIC_ID_PREFIX = "ship_"

    code = models.SlugField(max_length=40)
    name = models.CharField(max_length=100)
    price = models.DecimalField(**MONEY)
    requires_shipping = models.BooleanField(
        default=True, help_text="Off for pickup or digital delivery: such orders skip 'shipped'."
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["store", "code"], name="shipping_unique_store_code"),
            models.CheckConstraint(condition=Q(price__gte=0), name="shipping_price_non_negative"),
        ]

    def __str__(self) -> str:
        return self.name


class TaxRate(StoreOwned):
    PUBLIC_ID_PREFIX = "tax_"

    country_code = models.CharField(max_length=2, help_text="ISO 3166-1 alpha-2")
    province = models.CharField(
        max_length=100, blank=True, help_text="Empty: the rate for the whole country"
    )
    rate = models.DecimalField(max_digits=6, decimal_places=4, help_text="0.11 for 11 %")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["store", "country_code", "province"], name="taxrate_unique_region"
            ),
            models.CheckConstraint(
                condition=Q(rate__gte=0) & Q(rate__lte=1), name="taxrate_rate_between_0_and_1"
            ),
        ]

    def clean(self) -> None:
        # tax_rate_for looks rates up by the upper-cased codes an address carries.
        self.country_code = self.country_code.strip().upper()
        self.province = self.province.strip()

    def __str__(self) -> str:
        region = f"{self.country_code}/{self.province}" if self.province else self.country_code
        return f"{region} {self.rate:%}"
