from django.urls import re_path

from refunds.api import views

refund_routes = [
    re_path(
        r"^orders/(?P<order_id>[^/]+)/refunds/?$",
        views.OrderRefundsView.as_view(),
        name="order-refunds",
    ),
    # The seed 000–002 spelling: POST …/refund creates a refund, like POST …/refunds.
    re_path(
        r"^orders/(?P<order_id>[^/]+)/refund/?$",
        views.OrderRefundsView.as_view(http_method_names=["post", "options"]),
        name="order-refund",
    ),
    re_path(
        r"^orders/(?P<order_id>[^/]+)/refunds/calculate/?$",
        views.OrderRefundQuoteView.as_view(),
        name="order-refunds-calculate",
    ),
]
