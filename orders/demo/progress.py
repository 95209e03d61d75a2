"""Progress of a long seed, for the management commands."""

import time

from django.core.management.base import OutputWrapper


class ProgressBar:
    """Plain-text progress on a command's stderr: `\\rorders 350000/1000000 (35%) 41s`."""

    def __init__(self, stream: OutputWrapper, label: str = "orders") -> None:
        self.stream = stream
        self.label = label
        self.started = time.monotonic()
        self._shown = ""

    def __call__(self, done: int, total: int) -> None:
        percent = done * 100 // total if total else 100
        text = f"{self.label} {done}/{total} ({percent}%) {time.monotonic() - self.started:.0f}s"
        if text != self._shown:
            self.stream.write(f"\r{text}", ending="")
            self.stream.flush()
            self._shown = text

    def finish(self, note: str = "") -> None:
        self.stream.write(f" {note}" if note else "")
        self.stream.flush()
