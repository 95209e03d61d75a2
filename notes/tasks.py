"""Background tasks of the notes app (django.tasks, database-backed queue)."""

from django.db import transaction
from django.tasks import task

from notes.delivery import note_deliver


@task()
def send_customer_note(note_id: str) -> str:
    """Email one customer-facing note; a failed attempt queues the next one itself, in the
    same transaction that records the failure on the note."""
    with transaction.atomic():
        attempt = note_deliver(note_id=note_id)
        if attempt.retry_at is not None:
            send_customer_note.using(run_after=attempt.retry_at).enqueue(note_id=note_id)
    return attempt.status
