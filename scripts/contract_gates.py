"""The published contract's two CI gates, against the live app on a throwaway PostgreSQL
database:

    DATABASE_URL=postgres://… .venv/bin/python scripts/contract_gates.py [--gate a|b]

(a) schemathesis fuzzes every operation of /v1/openapi.json (`--checks all`, stateful
    links included, configuration in schemathesis.toml);
(b) a client generated from the same document by openapi-python-client, unedited, runs
    the seed flows (tests/contract/client_flows.py).

It creates a database named ordo_gates_<pid> on DATABASE_URL's server, migrates it, seeds
two premium demo stores (`seed_demo --json`: orders in every status, a full-scope key
each), serves the app on a free loopback port, runs the gates, prints one summary line per
gate and exits non-zero if either failed. The server is stopped and the database dropped
whatever happens (a failure, Ctrl+C, SIGTERM). Reports go to test-artifacts/contract/.
"""

import argparse
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

BASE_DIR = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
BIN = Path(PYTHON).parent
ARTIFACTS = BASE_DIR / "test-artifacts" / "contract"
# Real ids for schemathesis to draw from (schemathesis.toml's [dictionaries] read them).
DICTIONARIES = ARTIFACTS / "dictionaries"
# Every schema-valid list/count query the app refused (schemathesis shows one per operation).
REJECTIONS_LOG = ARTIFACTS / "list-rejections.txt"
FLOWS = BASE_DIR / "tests" / "contract" / "client_flows.py"
CLIENT_PACKAGE = "ordo_client"
SERVER_START_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0
# The gates send thousands of requests with one key: far over the production default.
GATES_RATE_LIMIT = "1000000/60s"


class GateError(Exception):
    """The harness itself could not do its job (no database, the server did not start)."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gate", choices=["a", "b", "all"], default="all")
    parser.add_argument(
        "--serve",
        action="store_true",
        help="Run no gate: seed, serve and print the URL and keys until Ctrl+C (to replay "
        "a failure's curl).",
    )
    parser.add_argument("--orders", type=int, default=60, help="Orders per demo store.")
    parser.add_argument("--max-examples", type=int, default=100, help="Per operation (gate a).")
    parser.add_argument("--seed", type=int, default=1, help="schemathesis' random seed.")
    parser.add_argument("--workers", default="2", help="schemathesis workers.")
    args = parser.parse_args(argv)

    # SIGTERM (CI cancelled, make stopped) or SIGHUP unwinds like Ctrl+C, so the server is
    # stopped and the database dropped; SIGINT too when started in the background.
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, _raise_interrupt)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    results: list[tuple[str, bool, str]] = []
    try:
        database_url = _gates_database_url()
        with ThrowawayDatabase(database_url), tempfile.TemporaryDirectory() as tmp:
            env = _app_env(database_url)
            _manage(env, "migrate", "--noinput")
            seed = _seed(env, args.orders)
            _add_time_zones(database_url, seed)
            seed_file = Path(tmp) / "seed.json"
            seed_file.write_text(json.dumps(seed))
            with Server(env) as base_url:
                schema_file = Path(tmp) / "openapi.json"
                schema_file.write_bytes(_get(f"{base_url}/v1/openapi.json"))
                if args.serve:
                    _serve_until_interrupted(base_url, seed)
                # (b) first: it expects the seed as seeded (an order in every status), and
                # (a) voids, refunds and moves orders at random.
                if args.gate in {"b", "all"}:
                    results.append(_gate_b(base_url, schema_file, seed_file, Path(tmp)))
                if args.gate in {"a", "all"}:
                    _write_dictionaries(base_url, seed)
                    results.append(_gate_a(base_url, seed, args))
    except GateError as error:
        print(f"contract gates: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("contract gates: interrupted", file=sys.stderr)
        return 130
    print("== contract gates summary")
    for name, passed, summary in results:
        print(f"{'PASS' if passed else 'FAIL'}  {name}: {summary}")
    return 0 if all(passed for _, passed, _ in results) else 1


def _serve_until_interrupted(base_url: str, seed: dict) -> None:
    for store in seed["stores"]:
        print(f"   store {store['id']}  X-API-Key: {store['api_key']}")
    print(f"   serving {base_url} until Ctrl+C")
    while True:
        time.sleep(3600)


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _gates_database_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        raise GateError(
            "set DATABASE_URL to a PostgreSQL server (the gates create and drop their own "
            f"database on it), got {url or 'nothing'!r}."
        )
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/ordo_gates_{os.getpid()}"))


class ThrowawayDatabase:
    """A database of its own on the server, dropped on the way out."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.name = parts.path.lstrip("/")
        self.admin_url = urlunsplit(parts._replace(path="/postgres"))

    def _execute(self, sql: str) -> None:
        try:
            with psycopg.connect(self.admin_url, autocommit=True) as connection:
                connection.execute(sql)
        except psycopg.Error as error:
            raise GateError(f"PostgreSQL: {error}") from error

    def __enter__(self) -> None:
        self._execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        self._execute(f'CREATE DATABASE "{self.name}"')

    def __exit__(self, *exc_info: object) -> None:
        self._execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def _app_env(database_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        API_RATE_LIMIT=GATES_RATE_LIMIT,
        # Customer-facing notes enqueue an email; no worker runs, nothing is sent.
        EMAIL_URL="memory://",
        DEBUG="0",
        PYTHONUNBUFFERED="1",
        # runserver answers each request on a new thread: a persistent connection would be
        # left behind by every one, and thousands of requests run PostgreSQL out of them.
        CONN_MAX_AGE="0",
    )
    if not env.get("SECRET_KEY") and not (BASE_DIR / ".env").exists():
        # A loopback server that lives for this run only.
        env["SECRET_KEY"] = secrets.token_urlsafe(50)
    return env


def _manage(env: dict[str, str], *command: str) -> str:
    completed = subprocess.run(
        [PYTHON, str(BASE_DIR / "manage.py"), *command],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise GateError(f"manage.py {' '.join(command)} failed:\n{completed.stderr[-3000:]}")
    return completed.stdout


def _seed(env: dict[str, str], orders: int) -> dict:
    started = time.monotonic()
    output = _manage(env, "seed_demo", "--stores", "2", "--orders", str(orders), "--json")
    seed = json.loads(output)
    # For gate (b)'s 403 INSUFFICIENT_SCOPE: a key of the first store that may only read.
    seed["read_only_key"] = _manage(
        env, "create_api_key", "--store", seed["stores"][0]["id"], "--scopes", "read:orders"
    ).strip()
    print(
        f"== seeded {len(seed['stores'])} premium stores x {orders} orders "
        f"in {time.monotonic() - started:.1f}s"
    )
    return seed


def _add_time_zones(database_url: str, seed: dict) -> None:
    """Each seeded store's zone (`seed_demo --json` leaves it out): gate (a)'s hooks place
    bare dates in it, as the app does."""
    try:
        with psycopg.connect(database_url) as connection:
            for store in seed["stores"]:
                uuid = store["id"].removeprefix("str_")
                row = connection.execute(
                    "SELECT timezone FROM orders_store WHERE id = %s", (uuid,)
                ).fetchone()
                if row is None:
                    raise GateError(f"seeded store {store['id']} is not in the database")
                store["timezone"] = row[0]
    except psycopg.Error as error:
        raise GateError(f"PostgreSQL: {error}") from error


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """`manage.py runserver` on a free port, in a process group of its own so that stopping
    it stops everything it started; its log goes to test-artifacts/contract/server.log."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> str:
        port = _free_port()
        base_url = f"http://127.0.0.1:{port}"
        self.log = (ARTIFACTS / "server.log").open("w")
        self.process = subprocess.Popen(
            [PYTHON, "manage.py", "runserver", "--noreload", "--insecure", f"127.0.0.1:{port}"],
            cwd=BASE_DIR,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            process_group=0,
        )
        try:
            self._wait_until_up(base_url)
        except BaseException:
            self.__exit__()
            raise
        print(f"== app serving at {base_url} (log: {self.log.name})")
        return base_url

    def _wait_until_up(self, base_url: str) -> None:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise GateError(
                    f"the server exited ({self.process.returncode}): see {self.log.name}"
                )
            try:
                _get(f"{base_url}/v1/openapi.json", timeout=2)
                return
            except (OSError, GateError):
                time.sleep(0.3)
        raise GateError(f"the server did not answer in {SERVER_START_TIMEOUT:.0f}s")

    def __exit__(self, *exc_info: object) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()


def _get(url: str, timeout: float = 30) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.read()
    except urllib.error.HTTPError as error:
        raise GateError(f"GET {url}: {error.code}") from error


def _run_streamed(command: list[str], env: dict[str, str], log_path: Path) -> tuple[int, str]:
    """Run a command, echoing its output and keeping a copy; returns (exit code, last line)."""
    last = ""
    with log_path.open("w") as log:
        process = subprocess.Popen(
            command,
            cwd=BASE_DIR,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            for line in process.stdout:
                sys.stdout.write(line)
                log.write(line)
                if line.strip():
                    last = line.strip()
            return process.wait(), last
        finally:
            if process.poll() is None:
                process.terminate()
                process.wait()


def _write_dictionaries(base_url: str, seed: dict) -> None:
    """The seeded ids, so that fuzzed requests reach real orders, line items, variants and
    customers instead of stopping at 404 (one foreign order keeps isolation in play)."""
    mine, theirs = seed["stores"]
    orders = _get_json(f"{base_url}/v1/stores/{mine['id']}/orders?per_page=100", mine)["data"]
    foreign = _get_json(f"{base_url}/v1/stores/{theirs['id']}/orders?per_page=1", theirs)
    values = {
        "order_ids": [o["id"] for o in orders] + [o["id"] for o in foreign["data"]],
        "line_item_ids": [item["id"] for o in orders for item in o.get("items") or []],
        "variant_ids": [v["id"] for v in mine["variants"]],
        "customer_ids": [c["id"] for c in mine["customers"]],
        "shipping_methods": [m["code"] for m in mine["shipping_methods"]],
    }
    DICTIONARIES.mkdir(parents=True, exist_ok=True)
    for name, entries in values.items():
        if not entries:
            raise GateError(f"the seed gave no {name} for schemathesis")
        lines = [json.dumps(entry) for entry in entries]
        (DICTIONARIES / f"{name}.dict").write_text("\n".join(lines) + "\n")


def _get_json(url: str, store: dict) -> dict:
    request = urllib.request.Request(url, headers={"X-API-Key": store["api_key"]})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as error:
        raise GateError(f"GET {url}: {error.code} {error.read()[:300]!r}") from error


def _gate_a(base_url: str, seed: dict, args: argparse.Namespace) -> tuple[str, bool, str]:
    print("== gate (a): schemathesis against the live app")
    store = seed["stores"][0]
    env = dict(os.environ)
    # schemathesis.toml reads the key and store of this run's seed, tests/contract/hooks.py
    # the store's zone and where to log the list's refusals of schema-valid queries.
    env.update(
        ORDO_GATES_API_KEY=store["api_key"],
        ORDO_GATES_STORE_ID=store["id"],
        ORDO_GATES_STORE_TZ=store["timezone"],
        ORDO_GATES_REJECTIONS_LOG=str(REJECTIONS_LOG),
    )
    REJECTIONS_LOG.unlink(missing_ok=True)
    started = time.monotonic()
    command = [
        str(BIN / "schemathesis"),
        "--no-color",
        "--config-file",
        str(BASE_DIR / "schemathesis.toml"),
        "run",
        f"{base_url}/v1/openapi.json",
        "--checks",
        "all",
        "--max-examples",
        str(args.max_examples),
        "--seed",
        str(args.seed),
        "--generation-database",
        "none",
        "--workers",
        str(args.workers),
        "--report",
        "junit,ndjson",
        "--report-dir",
        str(ARTIFACTS / "schemathesis"),
    ]
    code, last = _run_streamed(command, env, ARTIFACTS / "schemathesis.txt")
    elapsed = time.monotonic() - started
    name = "gate (a) schemathesis"
    summary = f"{last} [{elapsed:.0f}s, exit {code}; {ARTIFACTS}/schemathesis.txt]"
    if REJECTIONS_LOG.exists():
        refused = REJECTIONS_LOG.read_text(encoding="utf-8").count("\n    -> ")
        summary += f" ({refused} schema-valid list queries refused: {REJECTIONS_LOG})"
    return name, code == 0, summary


def _gate_b(base_url: str, schema_file: Path, seed_file: Path, tmp: Path) -> tuple[str, bool, str]:
    print("== gate (b): a client generated by openapi-python-client runs the seed flows")
    name = "gate (b) generated client"
    started = time.monotonic()
    config = tmp / "client-config.json"
    # Naming only: the package the flows import.
    config.write_text(json.dumps({"package_name_override": CLIENT_PACKAGE}))
    env = dict(os.environ)
    # The generator formats its output with ruff; without it on PATH it warns.
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    generated = subprocess.run(
        [
            str(BIN / "openapi-python-client"),
            "generate",
            "--path",
            str(schema_file),
            "--meta",
            "none",
            "--config",
            str(config),
            "--output-path",
            str(tmp / CLIENT_PACKAGE),
            "--fail-on-warning",
        ],
        cwd=tmp,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    (ARTIFACTS / "client-generate.txt").write_text(generated.stdout + generated.stderr)
    if generated.returncode != 0:
        print(generated.stdout + generated.stderr)
        return name, False, "openapi-python-client could not generate a clean client (see above)"
    env["PYTHONPATH"] = str(tmp)
    command = [
        PYTHON,
        str(FLOWS),
        "--base-url",
        base_url,
        "--seed-file",
        str(seed_file),
        "--schema-file",
        str(schema_file),
    ]
    code, last = _run_streamed(command, env, ARTIFACTS / "client-flows.txt")
    elapsed = time.monotonic() - started
    return name, code == 0, f"{last} [{elapsed:.0f}s, exit {code}; {ARTIFACTS}/client-flows.txt]"


if __name__ == "__main__":
    sys.exit(main())
