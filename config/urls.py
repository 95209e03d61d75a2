from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularJSONAPIView, SpectacularSwaggerView

from notes.api.urls import note_routes
from orders.api.urls import event_routes, order_routes, own_store_routes, store_detail_routes
from orders.api.views import ApiNotFoundView
from refunds.api.urls import refund_routes
from webhooks.api.urls import webhook_routes

# Every store-scoped API route, served under /v1/stores/{store_id}/, /v1/ and /api/.
api_routes = order_routes + note_routes + refund_routes + event_routes + webhook_routes

api_v1 = [
    path("openapi.json", SpectacularJSONAPIView.as_view(), name="openapi-schema"),
    path("docs", SpectacularSwaggerView.as_view(url_name="openapi-schema"), name="openapi-docs"),
    *own_store_routes,
    *store_detail_routes,
    path("stores/<str:store_id>/", include(api_routes)),
    path("", include(api_routes)),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("v1/", include(api_v1)),
    # Seed 004's clients call /api/orders/…: the same shorthand routes, and their store.
    path("api/", include(own_store_routes + api_routes)),
    # Whatever else is under /v1 or /api, any method: a 404 in the error envelope, never
    # Django's HTML page. [\s\S], not ".": a path may hold an encoded newline (%0A).
    re_path(r"^(?:v1|api)(?:/[\s\S]*)?$", ApiNotFoundView.as_view()),
]
