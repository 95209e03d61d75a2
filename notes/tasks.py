"""Background tasks of the notes app (django.tasks, database-backed queue)."""

from django.tasks import task

from notes.services import note_deliver


@task()
def send_customer_note(note_id: str) -> str:
    """Email one customer-facing note; retries are scheduled by note_deliver itself."""
    return note_deliver(note_id=note_id)
