"""scripts/devserver.py, the last step of `make run`: Ctrl+C or SIGTERM stops the server and
the delivery worker together, promptly, with nothing left running.

The script runs for real (runserver on a free port and delivery_worker, against a SQLite
file of their own), started in a session of its own as a terminal starts a command. What make
adds around it (make passes SIGTERM on to the script and waits for it) is not run here:
`make run` seeds a demo store first, which takes longer than this whole file.
"""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]
READY_TIMEOUT = 60
STOP_TIMEOUT = 8

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="reads /proc to find children")


@pytest.fixture(scope="module")
def database_url(tmp_path_factory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('devserver') / 'db.sqlite3'}"
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=BASE_DIR,
        env={**os.environ, "DATABASE_URL": url},
        check=True,
        timeout=120,
    )
    return url


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serves(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def process_groups_of_children(pid: int) -> set[int]:
    """The process groups of `pid`'s children (each holds a child and what it started)."""
    groups = set()
    for stat_file in Path("/proc").glob("[0-9]*/stat"):
        try:
            # pid (comm) state ppid pgrp …; comm may hold spaces, so split after ')'.
            fields = stat_file.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            groups.add(int(fields[2]))
    return groups


def group_is_gone(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return True
    return False


@pytest.fixture
def devserver(database_url, tmp_path):
    """The script serving on a free port, once the worker and the server are both up."""
    port = free_port()
    log = tmp_path / "devserver.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "scripts/devserver.py", "--host", f"127.0.0.1:{port}"],
            cwd=BASE_DIR,
            env={**os.environ, "DATABASE_URL": database_url, "EMAIL_URL": "console://"},
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + READY_TIMEOUT
    while not (serves(port) and "Delivery worker started" in log.read_text()):
        assert process.poll() is None, log.read_text()
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.1)
    groups = process_groups_of_children(process.pid)
    assert len(groups) == 2, "a group for the server and one for the delivery worker"
    yield process, groups, log
    if process.poll() is None:  # a failed test must not leave a server behind
        os.killpg(process.pid, signal.SIGKILL)
        for group in groups:
            if not group_is_gone(group):
                os.killpg(group, signal.SIGKILL)
        process.wait()


@pytest.mark.parametrize(
    ("signum", "to_group"),
    [(signal.SIGINT, True), (signal.SIGTERM, False)],
    ids=["ctrl-c-to-the-terminal-group", "sigterm-to-the-script"],
)
def test_a_stop_signal_stops_the_server_and_the_worker_promptly(devserver, signum, to_group):
    process, groups, log = devserver

    started = time.monotonic()
    if to_group:
        os.killpg(process.pid, signum)
    else:
        process.send_signal(signum)
    returncode = process.wait(timeout=STOP_TIMEOUT)

    assert time.monotonic() - started < STOP_TIMEOUT
    assert returncode == -signum, "dies of the signal, so make reports it"
    assert all(group_is_gone(group) for group in groups), "no server or worker left"
    output = log.read_text()
    assert "stopping the server and the delivery worker" in output
    assert "Delivery worker stopped." in output  # it finished its round and exited cleanly
    assert "Segmentation fault" not in output
    assert "Traceback" not in output
