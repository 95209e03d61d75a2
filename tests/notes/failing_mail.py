"""A mail backend standing in for a mail server that is down."""

import smtplib

from django.core.mail.backends.base import BaseEmailBackend


class MailServerDownBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
