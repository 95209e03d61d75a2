"""The benchmarks run end to end on a tiny store and print every case (no timing asserts:
the figures are the machine's, the shape of the report is ours)."""

import io
import re
import shutil

import dj_database_url
import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from benchmarks.floor import first_difference
from benchmarks.load import database_url
from orders.demo import demo_stores_create
from orders.models import Order
from tests.concurrency import requires_postgresql

LIST_CASES = [
    "list per_page=25 include=",
    "list per_page=100 include=",
    "list per_page=250 include=",
    "list per_page=25 (items)",
    "list per_page=100 (items)",
    "list per_page=250 (items)",
    "list per_page=250 include=items,fulfillments,status_history",
]
OTHER_CASES = [
    "order GET /v1/orders/{id}",
    "count status=pending",
    "count (unfiltered)",
    "cursor page 1 per_page=100 (items)",
]
# A case's row: label, Ordo ms, floor ms, ratio, (target and verdict), queries, floor body.
ROW = re.compile(r"^(?P<label>.+?)\s+[0-9.]+\s+[0-9.]+\s+[0-9.]+x\s+(?:<=\S+ (?:ok|MISS)\s+)?\d+")


def _run(*args: str) -> list[str]:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue().splitlines()


@pytest.fixture
def tiny_store(transactional_db):
    """A demo store of 30 orders, committed: the floor and the clients read it on
    connections of their own."""
    return demo_stores_create(stores=1, orders_per_store=30, names=["Tiny"])[0].store


@requires_postgresql
def test_benchmark_api_prints_every_case_with_a_ratio_and_a_query_count(tiny_store):
    lines = _run("benchmark_api", "--runs", "1")

    assert lines[0].startswith(f"Tiny ({tiny_store.public_id}): 30 orders, 1 runs")
    rows = {match["label"].strip(): line for line in lines if (match := ROW.match(line))}
    assert set(rows) == {*LIST_CASES, *OTHER_CASES, "cursor depth 27 per_page=100 (items)"}
    # Every floor rendered what Ordo answered, so each ratio compares the same body.
    assert all(line.endswith("same as Ordo") for line in rows.values())
    assert "ok" in rows["list per_page=100 (items)"] or "MISS" in rows["list per_page=100 (items)"]
    assert lines[-1].startswith("cursor depth / page 1 (Ordo): ")


@requires_postgresql
def test_benchmark_api_sends_the_count_mode_to_the_page_numbered_lists(tiny_store):
    lines = _run("benchmark_api", "--runs", "1", "--count", "none")

    assert sum(bool(ROW.match(line)) for line in lines) == len(LIST_CASES) + len(OTHER_CASES) + 1


@requires_postgresql
@pytest.mark.skipif(shutil.which("wrk") is None, reason="needs wrk (apt-get install wrk)")
def test_benchmark_api_compares_requests_per_second_with_plain_drf(tiny_store):
    lines = _run(
        "benchmark_api", "--runs", "1", "--drf", "--drf-rounds", "1", "--drf-seconds", "1",
        "--drf-connections", "2", "--drf-workers", "1",
    )  # fmt: skip

    rates = [line for line in lines if re.match(r"^GET /v1/orders\S*\s+[0-9.]+\s+[0-9.]+", line)]
    assert [line.split()[1] for line in rates] == [
        "/v1/orders/{id}",
        "/v1/orders/count?status=pending",
    ]
    assert all(re.search(r"[0-9.]+x  >= [0-9.]+x (ok|MISS)$", line) for line in rates)


@requires_postgresql
def test_benchmark_writes_prints_creates_and_transitions_per_second(tiny_store):
    lines = _run(
        "benchmark_writes", "--clients", "2", "--rounds", "1", "--orders", "2",
        "--seed-orders", "3",
    )  # fmt: skip

    assert lines[0].startswith("Write benchmark (str_")
    assert "2 clients (processes), 1 rounds, 2 creates + 10 transitions" in lines[0]
    assert re.fullmatch(r"round\s+creates/s\s+transitions/s", lines[1])
    assert re.fullmatch(r"1\s+[0-9.]+\s+[0-9.]+", lines[2])
    assert re.fullmatch(r"median\s+[0-9.]+\s+[0-9.]+", lines[3])
    # The clients' orders were placed beside the 3 seeded ones and walked to the end.
    written = Order.objects.filter(store__name="Write benchmark")
    assert written.count() == 3 + 2 * 2
    assert written.filter(status="completed").count() >= 2 * 2


@pytest.mark.skipif(connection.vendor == "postgresql", reason="the refusal is SQLite's")
@pytest.mark.django_db
@pytest.mark.parametrize("command", ["benchmark_api", "benchmark_writes"])
def test_the_benchmarks_need_postgresql(command):
    with pytest.raises(CommandError, match="PostgreSQL"):
        call_command(command)


def test_the_floor_comparison_names_where_two_bodies_differ():
    ordo = b'{"data":[{"id":"ord_1","items":[{"sku":"A"}]}],"meta":{"timings_ms":{"total":3}}}'
    same = b'{"data":[{"id":"ord_1","items":[{"sku":"A"}]}],"meta":{"timings_ms":{"total":1}}}'
    other = b'{"data":[{"id":"ord_1","items":[{"sku":"B"}]}],"meta":{}}'

    assert first_difference(ordo, same) is None
    assert first_difference(ordo, other) == "data[0].items[0].sku"
    assert first_difference(ordo, b'{"data":[]}') == "data (1 against 0 entries)"


def test_the_servers_database_url_keeps_a_socket_directory():
    """CI reaches PostgreSQL through its socket directory: the URL handed to gunicorn must
    name the same database."""
    database = {"HOST": "/var/run/postgresql", "NAME": "test_ordo", "USER": "root", "PORT": ""}

    parsed = dj_database_url.parse(database_url(database))

    assert (parsed["HOST"], parsed["NAME"], parsed["USER"]) == (
        "/var/run/postgresql", "test_ordo", "root",
    )  # fmt: skip
