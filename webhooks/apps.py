from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Webhooks"

    def ready(self) -> None:
        from orders.workers import register_channel
        from webhooks.delivery import deliver_due
        from webhooks.dispatch import dispatch_events

        register_channel("webhook dispatch", dispatch_events)
        register_channel("webhook deliveries", deliver_due)
