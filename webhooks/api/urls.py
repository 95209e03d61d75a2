from django.urls import re_path

from webhooks.api import views

# Each route with or without a trailing slash, like the orders routes.
webhook_routes = [
    re_path(
        r"^webhook-endpoints/?$",
        views.WebhookEndpointListView.as_view(),
        name="webhook-endpoint-list",
    ),
    re_path(
        r"^webhook-endpoints/(?P<endpoint_id>[^/]+)/?$",
        views.WebhookEndpointDetailView.as_view(),
        name="webhook-endpoint-detail",
    ),
    re_path(
        r"^webhook-endpoints/(?P<endpoint_id>[^/]+)/rotate-secret/?$",
        views.WebhookEndpointRotateSecretView.as_view(),
        name="webhook-endpoint-rotate-secret",
    ),
    re_path(
        r"^webhook-endpoints/(?P<endpoint_id>[^/]+)/deliveries/?$",
        views.WebhookEndpointDeliveriesView.as_view(),
        name="webhook-endpoint-deliveries",
    ),
    re_path(
        r"^webhook-endpoints/(?P<endpoint_id>[^/]+)/replay/?$",
        views.WebhookEndpointReplayView.as_view(),
        name="webhook-endpoint-replay",
    ),
    re_path(
        r"^webhook-deliveries/(?P<delivery_id>[^/]+)/?$",
        views.WebhookDeliveryDetailView.as_view(),
        name="webhook-delivery-detail",
    ),
    re_path(
        r"^webhook-deliveries/(?P<delivery_id>[^/]+)/retry/?$",
        views.WebhookDeliveryRetryView.as_view(),
        name="webhook-delivery-retry",
    ),
]
