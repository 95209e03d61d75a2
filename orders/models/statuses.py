"""The vocabularies of an order's state: its status, its payment status, how it is paid.

Plain enums with no model behind them, so the transition table (orders/transitions.py)
and the Order model can both import them without importing each other.
"""

from django.db import models


class OrderStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    CONFIRMED = "confirmed", "Confirmed"
    PROCESSING = "processing", "Processing"
    SHIPPED = "shipped", "Shipped"
    DELIVERED = "delivered", "Delivered"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"
    RETURNED = "returned", "Returned"
    VOIDED = "voided", "Voided"


class PaymentStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    PAID = "paid", "Paid"
    PARTIALLY_REFUNDED = "partially_refunded", "Partially refunded"
    REFUNDED = "refunded", "Refunded"
    FAILED = "failed", "Failed"
    VOIDED = "voided", "Voided"


class PaymentMethod(models.TextChoices):
    CARD = "card", "Card"
    CASH_ON_DELIVERY = "cod", "Cash on delivery"
    BANK_TRANSFER = "bank_transfer", "Bank transfer"
    PAYPAL = "paypal", "PayPal"
    OTHER = "other", "Other"
