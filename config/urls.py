from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularJSONAPIView, SpectacularSwaggerView

from orders.api.urls import order_routes
from orders.api.views import ApiNotFoundView

api_v1 = [
    path("openapi.json", SpectacularJSONAPIView.as_view(), name="openapi-schema"),
    path("docs", SpectacularSwaggerView.as_view(url_name="openapi-schema"), name="openapi-docs"),
    path("stores/<str:store_id>/", include(order_routes)),
    path("", include(order_routes)),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("v1/", include(api_v1)),
    # Seed 004's clients call /api/orders/…: the same shorthand routes.
    path("api/", include(order_routes)),
    re_path(r"^(?:v1|api)(?:/.*)?$", ApiNotFoundView.as_view()),
]
