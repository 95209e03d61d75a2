"""Mail backends standing in for a mail server that is down: for good, or until a time."""

import smtplib
from datetime import datetime

from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.locmem import EmailBackend as OutboxBackend
from django.utils import timezone


class MailServerDownBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


class MailServerDownUntilBackend(OutboxBackend):
    """Refuses every message before `down_until` (by django.utils.timezone.now, which a
    test's clock moves); then delivers to django.core.mail.outbox."""

    down_until: datetime | None = None
    refused = 0

    def send_messages(self, email_messages):
        if type(self).down_until is None or timezone.now() < type(self).down_until:
            type(self).refused += 1
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return super().send_messages(email_messages)


class SlowMailServerBackend(OutboxBackend):
    """Takes `seconds` of the test clock (`clock`, the tests.notes.conftest Clock) per message."""

    clock = None
    seconds = 0

    def send_messages(self, email_messages):
        type(self).clock.advance(seconds=type(self).seconds)
        return super().send_messages(email_messages)
