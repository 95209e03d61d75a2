"""The notes app's own refusals (the rest are orders.exceptions')."""

from orders.exceptions import OrdoError


class NoteEmailPending(OrdoError):
    """409: the note's email is queued already; the worker sends (or retries) it by itself,
    and it can be resent once it is sent or failed."""

    status_code = 409
    code = "NOTE_EMAIL_PENDING"
