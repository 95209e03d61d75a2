from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = "Stores and orders"

    def ready(self) -> None:
        from orders import history  # noqa: F401  (connects the history actor receiver)
        from orders.api import schema  # noqa: F401  (registers the OpenAPI auth extension)
