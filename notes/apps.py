from django.apps import AppConfig


class NotesConfig(AppConfig):
    name = "notes"
    verbose_name = "Order notes"

    def ready(self) -> None:
        from notes.api.includes import register

        register()
