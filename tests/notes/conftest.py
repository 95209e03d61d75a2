"""The notes tests' clock: django.utils.timezone.now, which the email outbox reads, moved by
the test instead of by waiting."""

from datetime import datetime, timedelta

import pytest
from django.utils import timezone


class Clock:
    def __init__(self, start: datetime):
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now

    def advance_to(self, moment: datetime) -> None:
        assert moment >= self.now, "the clock only moves forward"
        self.now = moment


@pytest.fixture
def clock(monkeypatch) -> Clock:
    """Now, frozen until the test moves it (notes.delivery, orders.leases and note_create
    all read timezone.now)."""
    clock = Clock(timezone.now())
    monkeypatch.setattr(timezone, "now", clock)
    return clock
