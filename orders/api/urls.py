from django.urls import re_path

from orders.api import events, views
from orders.api.store import StoreView

# Each route with or without a trailing slash (seed 004 clients call /orders/).
order_routes = [
    re_path(r"^orders/?$", views.OrderListView.as_view(), name="order-list"),
    re_path(r"^orders/count/?$", views.OrderCountView.as_view(), name="order-count"),
    re_path(
        r"^orders/(?P<order_id>[^/]+)/?$", views.OrderDetailView.as_view(), name="order-detail"
    ),
    re_path(
        r"^orders/(?P<order_id>[^/]+)/items/?$", views.OrderItemsView.as_view(), name="order-items"
    ),
    re_path(
        r"^orders/(?P<order_id>[^/]+)/void/?$", views.OrderVoidView.as_view(), name="order-void"
    ),
    re_path(
        r"^orders/(?P<order_id>[^/]+)/status-history/?$",
        views.OrderStatusHistoryView.as_view(),
        name="order-status-history",
    ),
]

event_routes = [
    re_path(r"^events/?$", events.EventListView.as_view(), name="event-list"),
    re_path(
        r"^events/(?P<event_id>[^/]+)/?$", events.EventDetailView.as_view(), name="event-detail"
    ),
]

# The store itself: the key's own (/v1/store, and /api/store for seed 004 clients) and the
# canonical /v1/stores/{store_id}, which answers 404 for any store but the key's own.
own_store_routes = [re_path(r"^store/?$", StoreView.as_view(), name="store")]
store_detail_routes = [
    re_path(r"^stores/(?P<store_id>[^/]+)/?$", StoreView.as_view(), name="store-detail")
]
