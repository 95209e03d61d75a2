from orders.models.catalog import Customer, Product, ShippingMethod, TaxRate, Variant
from orders.models.event import Event, EventType
from orders.models.figures import OrderCount, SalesPeriod
from orders.models.idempotency import IdempotencyKey
from orders.models.order import Fulfillment, LineItem, Order
from orders.models.statuses import OrderStatus, PaymentMethod, PaymentStatus
from orders.models.store import ApiKey, Scope, Store, StoreMembership

__all__ = [
    "ApiKey",
    "Customer",
    "Event",
    "EventType",
    "Fulfillment",
    "IdempotencyKey",
    "LineItem",
    "Order",
    "OrderCount",
    "OrderStatus",
    "PaymentMethod",
    "PaymentStatus",
    "Product",
    "SalesPeriod",
    "Scope",
    "ShippingMethod",
    "Store",
    "StoreMembership",
    "TaxRate",
    "Variant",
]
