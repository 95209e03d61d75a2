"""manage.py benchmark_webhooks with tiny numbers: real delivery workers on the test
database deliver to the command's own receiver; it prints its figures and leaves nothing
behind. Workers are other processes, so the data must be committed: PostgreSQL only (the
SQLite test database lives in this process's memory)."""

import io
import json
import re

import pytest
from django.core.management import CommandError, call_command

from orders.models import Event, LineItem, Order, Store
from tests.concurrency import requires_postgresql
from tests.helpers import subprocess_database_url
from webhooks.benchmark import BENCHMARK_STORE_PREFIX
from webhooks.models import WebhookDelivery, WebhookEndpoint

TINY = ["--events", "50", "--latency-events", "25", "--rate", "50", "--idle-sleep", "0.05"]


@pytest.fixture
def worker_env(monkeypatch):
    """What the benchmark's workers inherit: the test database, no real mail."""
    monkeypatch.setenv("DATABASE_URL", subprocess_database_url())
    monkeypatch.setenv("EMAIL_URL", "memory://")
    monkeypatch.setenv("CONN_MAX_AGE", "0")


def benchmark(*args: str) -> str:
    stdout = io.StringIO()
    call_command("benchmark_webhooks", *args, stdout=stdout, stderr=io.StringIO())
    return stdout.getvalue()


def assert_nothing_left() -> None:
    assert not Store.objects.filter(name__startswith=BENCHMARK_STORE_PREFIX).exists()
    assert not Event.objects.exists()
    assert not WebhookDelivery.objects.exists()
    assert not WebhookEndpoint.objects.exists()
    assert not Order.objects.exists()
    assert not LineItem.objects.exists()


@requires_postgresql
@pytest.mark.django_db(transaction=True)
def test_the_benchmark_prints_its_figures_and_cleans_up(worker_env):
    output = benchmark(*TINY, "--rounds", "1")

    lines = output.splitlines()
    assert lines[1].split() == ["round", "deliveries/s/worker", "p50", "ms", "p99", "ms"]
    for label in ("1", "median"):
        (row,) = [line for line in lines if line.split()[0] == label]
        per_worker, p50, p99 = (float(cell) for cell in row.split()[1:])
        assert per_worker > 0
        assert 0 <= p50 <= p99
    assert "Deliveries: 75 received, 0 repeated, 0 with a signature that did not verify." in lines
    assert re.search(r"Targets: >= 200 deliveries/s per worker (met|MISSED); p99 < 2 s", output)
    assert_nothing_left()


@requires_postgresql
@pytest.mark.django_db(transaction=True)
def test_the_benchmark_in_json_gives_each_round_and_their_medians(worker_env):
    document = json.loads(benchmark(*TINY, "--rounds", "2", "--json"))

    assert len(document["rounds"]) == 2
    for measured in document["rounds"]:
        assert measured["events"] == 50
        assert measured["latency_events"] == 25
        assert 0 <= measured["p50_ms"] <= measured["p99_ms"]
    assert document["median"]["deliveries_per_second_per_worker"] > 0
    assert (document["deliveries"], document["repeats"], document["bad_signatures"]) == (150, 0, 0)
    assert set(document["targets_met"]) == {"throughput", "latency"}
    assert_nothing_left()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--workers", "0"], "--workers must be at least 1 (got 0)."),
        (["--events", "0"], "--events must be at least 1 (got 0)."),
        (["--rate", "0"], "--rate must be a positive number of events per second (0.0)."),
    ],
)
def test_the_benchmark_refuses_impossible_numbers_before_starting_anything(args, message):
    with pytest.raises(CommandError) as refused:
        benchmark(*args)

    assert str(refused.value) == message
    assert not Store.objects.exists()
