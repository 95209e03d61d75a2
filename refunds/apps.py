from django.apps import AppConfig


class RefundsConfig(AppConfig):
    name = "refunds"
    verbose_name = "Refunds"
    # Seeded refunded orders get their refunds; orders.demo cannot import refunds, so it
    # imports these when it seeds (orders/demo/extensions.py).
    demo_order_extensions = ("refunds.demo.SEEDED_REFUNDS",)

    def ready(self) -> None:
        from refunds.api.includes import register

        register()
