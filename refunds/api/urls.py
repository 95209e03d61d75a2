from django.urls import re_path

from refunds.api import views

refund_routes = [
    # Seed 003 posts to /refund; /refunds lists them. Both paths serve both methods.
    re_path(
        r"^orders/(?P<order_id>[^/]+)/refunds?/?$",
        views.OrderRefundsView.as_view(),
        name="order-refunds",
    ),
    re_path(
        r"^orders/(?P<order_id>[^/]+)/refunds/calculate/?$",
        views.OrderRefundQuoteView.as_view(),
        name="order-refunds-calculate",
    ),
]
