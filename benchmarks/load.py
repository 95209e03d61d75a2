"""Requests per second of Ordo and of the plain DRF app under load: each served by gunicorn
with the same settings (4 sync workers by default, the same database), driven by wrk, in interleaved
rounds (Ordo then plain, plain then Ordo, …) so the machine's noise falls on both alike.

Needs `wrk` on the PATH (apt-get install wrk) and gunicorn in the environment.
"""

import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from django.conf import settings

ORDO_SETTINGS = "config.settings"
PLAIN_SETTINGS = "benchmarks.plain_drf_settings"
WORKERS = 4
WRK_THREADS = 2
STARTUP_SECONDS = 60
_RATE = re.compile(r"Requests/sec:\s+([0-9.]+)")
_NOT_2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")


@dataclass(frozen=True)
class LoadCase:
    label: str
    ordo_path: str
    plain_path: str
    target: float  # the ratio Ordo / plain the issue asks for at least


@dataclass(frozen=True)
class LoadResult:
    case: LoadCase
    ordo: float  # median requests per second
    plain: float

    @property
    def ratio(self) -> float:
        return self.ordo / self.plain


def compare_under_gunicorn(
    *,
    database: Mapping[str, Any],
    raw_key: str,
    cases: Sequence[LoadCase],
    rounds: int,
    seconds: int,
    connections: int,
    workers: int = WORKERS,
) -> list[LoadResult]:
    """Serve both apps at once on two ports, then time every case on each, `rounds` times
    in alternating order; the medians. Raises RuntimeError if a server does not start or a
    response is not a 2xx."""
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is not installed: apt-get install -y wrk")
    url = database_url(database)
    with (
        gunicorn(ORDO_SETTINGS, url, workers=workers) as ordo,
        gunicorn(PLAIN_SETTINGS, url, workers=workers) as plain,
    ):
        apps = {"ordo": (ordo, "ordo_path"), "plain": (plain, "plain_path")}
        rates: dict[tuple[str, str], list[float]] = {}
        for case in cases:
            for base, attribute in apps.values():
                address = base + getattr(case, attribute)
                _check(address, raw_key)
                wrk(address, raw_key, seconds=1, connections=connections)  # warm every worker
        for number in range(rounds):
            order = ["ordo", "plain"] if number % 2 == 0 else ["plain", "ordo"]
            for case in cases:
                for app in order:
                    base, attribute = apps[app]
                    rate = wrk(
                        base + getattr(case, attribute),
                        raw_key,
                        seconds=seconds,
                        connections=connections,
                    )
                    rates.setdefault((case.label, app), []).append(rate)
    return [
        LoadResult(
            case=case,
            ordo=statistics.median(rates[(case.label, "ordo")]),
            plain=statistics.median(rates[(case.label, "plain")]),
        )
        for case in cases
    ]


def database_url(database: Mapping[str, Any]) -> str:
    """A DATABASE_URL for a Django DATABASES entry (a test database's name included)."""
    user = quote(database.get("USER") or "", safe="")
    password = quote(database.get("PASSWORD") or "", safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    # A socket directory (/var/run/postgresql) travels percent-encoded, as in DATABASE_URL.
    host = quote(database.get("HOST") or "localhost", safe="")
    port = f":{database['PORT']}" if database.get("PORT") else ""
    return f"postgres://{credentials}{host}{port}/{quote(database['NAME'], safe='')}"


@contextmanager
def gunicorn(settings_module: str, database_url: str, *, workers: int = WORKERS) -> Iterator[str]:
    """gunicorn serving config.wsgi under `settings_module` on a free local port, until
    the block ends; yields its base URL once it answers."""
    port = _free_port()
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": settings_module,
        "DATABASE_URL": database_url,
    }
    command = [
        sys.executable, "-m", "gunicorn", "--workers", str(workers),
        "--bind", f"127.0.0.1:{port}", "--chdir", str(Path(settings.BASE_DIR)),
        # Not the project's gunicorn.conf.py: no access log, the same for both apps.
        "--config", os.devnull, "--log-level", "warning", "config.wsgi:application",
    ]  # fmt: skip
    with tempfile.TemporaryFile(mode="w+") as log:
        server = subprocess.Popen(command, env=environment, stdout=log, stderr=log)
        try:
            base = f"http://127.0.0.1:{port}"
            _wait_until_listening(server, port, log)
            try:
                yield base
            except RuntimeError as error:
                # A 500 says nothing by itself: the server's log says why.
                log.seek(0)
                raise RuntimeError(f"{error}\ngunicorn's log:\n{log.read()[-3000:]}") from None
        finally:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def wrk(url: str, raw_key: str, *, seconds: int, connections: int) -> float:
    """Requests per second wrk reaches on `url` with `connections` open connections."""
    threads = min(WRK_THREADS, connections)
    finished = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s",
         "-H", f"X-API-Key: {raw_key}", url],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    refused = _NOT_2XX.search(finished.stdout)
    if refused:
        raise RuntimeError(f"{url}: {refused.group(1)} responses were not 2xx")
    found = _RATE.search(finished.stdout)
    if found is None:
        raise RuntimeError(f"wrk printed no rate for {url}:\n{finished.stdout}")
    return float(found.group(1))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_listening(server: subprocess.Popen, port: int, log) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            log.seek(0)
            raise RuntimeError(f"gunicorn exited with {server.returncode}:\n{log.read()[-3000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not listen on port {port} in {STARTUP_SECONDS} s")


def _check(url: str, raw_key: str) -> None:
    """Raise unless `url` answers 200 (the first request also loads the app's code)."""
    request = urllib.request.Request(url, headers={"X-API-Key": raw_key})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            if response.status == 200:
                return
            status, body = response.status, response.read(500)
    except urllib.error.HTTPError as error:
        status, body = error.code, error.read(500)
    raise RuntimeError(f"{url}: HTTP {status} {body!r}")
