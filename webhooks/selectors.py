"""Reads of webhooks (the API and the admin): a store's endpoints and their delivery log.

Every query is scoped to one store and served by an index of the models (endpoints by
`webhook_endpoint_store`, the log by `webhook_delivery_log`); no row is joined, because
a delivery carries its endpoint's, event's and type's columns itself, so a page of any
size is one query.
"""

from django.db.models import QuerySet

from orders.exceptions import NotFound
from orders.ids import parse_public_id
from orders.models import Store
from orders.selectors import SortKey
from webhooks.models import WebhookDelivery, WebhookEndpoint

ENDPOINTS_NEWEST_FIRST = SortKey((("created_at", True),))
# The order the dispatcher created them in, newest first: `sequence` follows the events'
# commit order, which `created_at` does not.
DELIVERIES_NEWEST_FIRST = SortKey((("sequence", True),))


def endpoints_of(*, store: Store) -> QuerySet[WebhookEndpoint]:
    """The store's endpoints, newest first."""
    return WebhookEndpoint.objects.filter(store=store).order_by(*ENDPOINTS_NEWEST_FIRST.order_by())


def endpoint_get(*, store: Store, endpoint_id: str) -> WebhookEndpoint:
    """The store's endpoint `endpoint_id` (we_…); NotFound for a malformed id or one of
    another store, worded alike so neither tells which."""
    return _one_of(store, WebhookEndpoint, endpoint_id, "webhook endpoint")


def deliveries_of(
    *, store: Store, endpoint: WebhookEndpoint, status: str | None = None
) -> QuerySet[WebhookDelivery]:
    """The endpoint's delivery log, newest first; only `status` ones when given."""
    deliveries = WebhookDelivery.objects.filter(store=store, endpoint=endpoint)
    if status is not None:
        deliveries = deliveries.filter(status=status)
    return deliveries.order_by(*DELIVERIES_NEWEST_FIRST.order_by())


def delivery_get(*, store: Store, delivery_id: str) -> WebhookDelivery:
    """The store's delivery `delivery_id` (whd_…); NotFound like endpoint_get."""
    return _one_of(store, WebhookDelivery, delivery_id, "webhook delivery")


def _one_of(store: Store, model, public_id: str, label: str):
    message = f"No {label} '{public_id}' in this store."
    try:
        pk = parse_public_id(model.PUBLIC_ID_PREFIX, public_id)
    except ValueError:
        raise NotFound(message) from None
    row = model.objects.filter(store=store, pk=pk).first()
    if row is None:
        raise NotFound(message)
    return row
