"""Writes of the orders app, one module per concept. Each function is one transaction and
says in its docstring what it locks and what it raises; the API, the admin and the
management commands all call these same functions.

- api_keys: issuing and revoking a store's API keys
- stock: stock adjustments, reservations and releases (conditional UPDATEs)
- addresses: the shipping address a client gives, and the order's columns for it
- creation: placing an order priced from the catalog
- lifecycle: status steps, payment, details and voids of a placed order
- events: the event each change writes in its own transaction
- preconditions: the ETag check that refuses a change made on a stale read
"""

from orders.services.addresses import ORDER_ADDRESS_FIELDS, AddressInput
from orders.services.api_keys import api_key_create, api_key_revoke
from orders.services.creation import CustomerInput, LineRequest, order_create
from orders.services.events import (
    changed_attributes,
    event_record,
    event_render,
    register_event_renderer,
)
from orders.services.lifecycle import ShipmentInput, order_transition, order_update, order_void
from orders.services.preconditions import check_etag
from orders.services.stock import stock_release, stock_reserve, variant_adjust_stock

__all__ = [
    "ORDER_ADDRESS_FIELDS",
    "AddressInput",
    "CustomerInput",
    "LineRequest",
    "ShipmentInput",
    "api_key_create",
    "api_key_revoke",
    "changed_attributes",
    "check_etag",
    "event_record",
    "event_render",
    "order_create",
    "order_transition",
    "order_update",
    "order_void",
    "register_event_renderer",
    "stock_release",
    "stock_reserve",
    "variant_adjust_stock",
]
