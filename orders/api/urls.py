from django.urls import re_path

from orders.api import views

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
