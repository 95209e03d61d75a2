"""Run API calls from many threads at once, each on its own database connection."""

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, connections

requires_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs real concurrent connections and row locks: run with DATABASE_URL=postgres://…",
)

# A race that went right once may have been lucky: the races run this many rounds.
ROUNDS = 5


def run_concurrently(calls: list[Callable[[], Any]]) -> list[Any]:
    """Start every call at the same instant (a barrier) and return their results in order.

    Each thread gets its own connection (Django's are per thread) and closes it,
    so the test really exercises concurrent transactions, not a shared session.
    """
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def worker(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            results[index] = call()
        except BaseException as error:  # surfaced to the test below
            results[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    errors = [r for r in results if isinstance(r, BaseException)]
    if errors:
        raise errors[0]
    return results
