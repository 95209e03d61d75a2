from django.apps import AppConfig


class NotesConfig(AppConfig):
    name = "notes"
    verbose_name = "Order notes"

    def ready(self) -> None:
        from notes.api.includes import register
        from notes.delivery import send_due_notes
        from orders.workers import register_channel

        register()
        register_channel("customer emails", send_due_notes)
