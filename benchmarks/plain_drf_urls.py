"""The plain DRF app's routes: /v1/orders, /v1/orders/{uuid} and /v1/orders/count."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from benchmarks.plain_drf_views import OrderCountView, OrderViewSet

router = SimpleRouter(trailing_slash=False)
router.register("orders", OrderViewSet, basename="order")

urlpatterns = [
    # Before the router's routes, whose detail pattern would take "count" for an id.
    path("v1/orders/count", OrderCountView.as_view()),
    path("v1/", include(router.urls)),
]
