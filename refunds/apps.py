from django.apps import AppConfig


class RefundsConfig(AppConfig):
    name = "refunds"
    verbose_name = "Refunds"

    def ready(self) -> None:
        from refunds import demo
        from refunds.api.includes import register

        register()
        # Seeded refunded orders get their refunds; orders.demo cannot import refunds.
        demo.register()
