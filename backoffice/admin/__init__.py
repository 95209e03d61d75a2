"""Every page of the back office; importing the package registers them on the site."""

from backoffice.admin import catalog, orders, records, stores, webhooks

__all__ = ["catalog", "orders", "records", "stores", "webhooks"]
