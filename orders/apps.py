from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = "Stores and orders"

    def ready(self) -> None:
        from orders import history  # noqa: F401  (connects the history actor receiver)
        from orders.api import events, schema  # noqa: F401  (schema: the OpenAPI auth extension)

        events.register()
