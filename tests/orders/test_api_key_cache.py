"""A warm API key costs no query (issue 12), and a key revoked or expired is refused on every
process within one second all the same (orders.services.api_keys).

The request clock (orders.api.auth.request_time) is moved by hand where a test is about the
second a copy lives; the last test runs a real second process against PostgreSQL and Redis.
"""

import os
import re
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from unittest import mock

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from orders.api import auth
from orders.models import ApiKey
from orders.models.store import API_KEY_LOOKUP_LENGTH
from orders.services import api_keys
from orders.services.api_keys import api_key_revoke
from tests.concurrency import requires_postgresql
from tests.factories import make_api_key, staff_client
from tests.helpers import api_client, assert_error, subprocess_database_url

BASE_DIR = Path(__file__).resolve().parents[2]
# The promise: a key revoked or expired anywhere is refused everywhere within a second.
SECOND = 1.0
KEY_OR_STORE = re.compile(r'"orders_(apikey|store)"')


def key_or_store_queries(captured) -> list[str]:
    """The SQL of every captured query that reads or writes a key or a store."""
    return [q["sql"] for q in captured.captured_queries if KEY_OR_STORE.search(q["sql"])]


def updates_of_keys(captured) -> int:
    return sum(q["sql"].startswith('UPDATE "orders_apikey"') for q in captured.captured_queries)


def authenticated(raw_key: str) -> ApiKey:
    """The key ApiKeyAuthentication gives a request carrying `raw_key` (request.auth)."""
    request = Request(APIRequestFactory().get("/v1/orders", HTTP_X_API_KEY=raw_key))
    _, api_key = auth.ApiKeyAuthentication().authenticate(request)
    return api_key


class Clock:
    """The request clock and the copies' clock, stopped together; move() moves both on."""

    def __init__(self, now: datetime):
        self.now = now

    def move(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    stopped = Clock(timezone.now())
    monkeypatch.setattr(auth, "request_time", lambda: stopped.now)
    monkeypatch.setattr(api_keys, "copy_clock", lambda: stopped.now.timestamp())
    return stopped


# --- a warm key ----------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("route", ["/v1/orders", "/v1/orders/count", "/v1/store"])
def test_a_warm_key_runs_no_query_on_keys_or_stores(client, route):
    with CaptureQueriesContext(connection) as cold:
        assert client.get(route).status_code == 200
    with CaptureQueriesContext(connection) as warm:
        response = client.get(route)

    assert response.status_code == 200, response.content
    (lookup,) = [sql for sql in key_or_store_queries(cold) if sql.startswith("SELECT")]
    assert 'FROM "orders_apikey" INNER JOIN "orders_store"' in lookup
    assert key_or_store_queries(warm) == []


@pytest.mark.django_db
def test_a_warm_key_reads_its_store_without_a_query(client, store):
    client.get("/v1/store")

    with CaptureQueriesContext(connection) as warm:
        data = client.get("/v1/store").json()["data"]

    assert len(warm) == 0, [q["sql"] for q in warm.captured_queries]
    assert (data["id"], data["plan"], data["timezone"]) == (store.public_id, "premium", "UTC")


@pytest.mark.django_db
def test_every_request_gets_its_own_key_and_store(api_key):
    first, second = authenticated(api_key), authenticated(api_key)

    assert first == second
    assert first is not second
    assert first.store == second.store
    assert first.store is not second.store
    first.scopes.append("write:everything")
    first.store.name = "Changed by one request"
    third = authenticated(api_key)
    assert "write:everything" not in third.scopes
    assert third.store.name == "Acme Outfitters"


@pytest.mark.django_db
def test_the_hash_is_compared_on_every_request_of_a_warm_key(api_key):
    authenticated(api_key)
    forged = api_key[:API_KEY_LOOKUP_LENGTH] + "A" * (len(api_key) - API_KEY_LOOKUP_LENGTH)

    with (
        CaptureQueriesContext(connection) as captured,
        pytest.raises(AuthenticationFailed, match="not valid"),
    ):
        authenticated(forged)

    assert key_or_store_queries(captured) == []  # the copy was used, and still refused it


@pytest.mark.django_db
def test_a_key_refused_as_unknown_works_as_soon_as_it_exists(store):
    raw_key = "wk_live_" + "k" * 40
    assert_error(api_client(raw_key).get("/v1/orders"), 401, "INVALID_API_KEY")

    with mock.patch.object(api_keys, "generate_api_key", return_value=raw_key):
        make_api_key(store=store)

    assert api_client(raw_key).get("/v1/orders").status_code == 200


@pytest.mark.django_db
def test_a_prefix_no_key_can_have_is_refused_without_a_query(store):
    with (
        CaptureQueriesContext(connection) as captured,
        pytest.raises(AuthenticationFailed, match="not valid"),
    ):
        authenticated("wk_live_ab cd\x7fef" + "x" * 40)

    assert key_or_store_queries(captured) == []


# --- revoked, expired, changed ---------------------------------------------------------------


@pytest.mark.django_db
def test_a_key_revoked_by_the_service_is_refused_at_once(
    client, api_key, django_capture_on_commit_callbacks
):
    assert client.get("/v1/orders").status_code == 200

    with django_capture_on_commit_callbacks(execute=True):
        api_key_revoke(api_key=ApiKey.objects.get(), now=timezone.now())

    error = assert_error(client.get("/v1/orders"), 401, "INVALID_API_KEY")
    assert "revoked" in error["message"]


@pytest.mark.django_db
def test_a_key_revoked_in_the_admin_is_refused_at_once(client, store):
    assert client.get("/v1/orders").status_code == 200
    browser = staff_client(store)

    browser.post(
        "/admin/orders/apikey/",
        {"action": "revoke_keys", "index": "0", "select_across": "0",
         "_selected_action": [str(ApiKey.objects.get().pk)]},
    )  # fmt: skip

    assert ApiKey.objects.get().revoked_at is not None
    error = assert_error(client.get("/v1/orders"), 401, "INVALID_API_KEY")
    assert "revoked" in error["message"]


@pytest.mark.django_db
def test_a_process_still_holding_a_copy_refuses_a_revoked_key_within_a_second(
    client, api_key, clock, django_capture_on_commit_callbacks
):
    # Given a key warm in this process
    assert client.get("/v1/orders").status_code == 200
    held_elsewhere = dict(api_keys._local_copies)

    # When it is revoked, and a process the revocation cannot reach still holds its copy
    with django_capture_on_commit_callbacks(execute=True):
        api_key_revoke(api_key=ApiKey.objects.get(), now=timezone.now())
    api_keys._local_copies.update(held_elsewhere)

    # Then that process serves its copy for what is left of the second, and no longer
    clock.move(0.5)
    assert client.get("/v1/orders").status_code == 200
    clock.move(SECOND - 0.5)
    error = assert_error(client.get("/v1/orders"), 401, "INVALID_API_KEY")
    assert "revoked" in error["message"]


@pytest.mark.django_db
def test_a_key_revoked_behind_the_caches_back_is_refused_within_a_second(client, clock):
    # Given a key warm here and in the shared cache, revoked by SQL (no one told the caches)
    assert client.get("/v1/orders").status_code == 200
    ApiKey.objects.update(revoked_at=timezone.now())

    clock.move(0.5)
    assert client.get("/v1/orders").status_code == 200
    clock.move(SECOND - 0.5)

    # Then neither copy is used past its second: the shared one's age is its own too
    error = assert_error(client.get("/v1/orders"), 401, "INVALID_API_KEY")
    assert "revoked" in error["message"]


@pytest.mark.django_db
def test_a_warm_key_is_refused_the_moment_it_expires(store, clock):
    # Given a key expiring 0.3 s from now, warm
    raw_key = make_api_key(store=store, expires_at=clock.now + timedelta(seconds=0.3))
    client = api_client(raw_key)
    assert client.get("/v1/orders").status_code == 200

    # When it is used half a second later, its copy still fresh
    clock.move(0.5)
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/v1/orders")

    # Then the copy's expiry refuses it, without asking the database
    error = assert_error(response, 401, "INVALID_API_KEY")
    assert "expired" in error["message"]
    assert key_or_store_queries(captured) == []


@pytest.mark.django_db
def test_an_expiry_set_in_the_admin_is_seen_within_a_second(api_key, store, clock):
    # Given a key that never expires, warm
    assert authenticated(api_key).expires_at is None
    expires_at = (timezone.now() + timedelta(days=30)).replace(microsecond=0, tzinfo=UTC)

    # When the admin's change page gives it an expiry
    staff_client(store).post(
        f"/admin/orders/apikey/{ApiKey.objects.get().pk}/change/",
        {"name": "ERP sync", "expires_at_0": expires_at.strftime("%Y-%m-%d"),
         "expires_at_1": expires_at.strftime("%H:%M:%S")},
    )  # fmt: skip

    # Then requests carry it once the copy's second is over
    assert ApiKey.objects.get().expires_at == expires_at
    clock.move(SECOND)
    assert authenticated(api_key).expires_at == expires_at


@pytest.mark.django_db
def test_a_store_changed_anywhere_is_seen_within_a_second(client, store, clock):
    assert client.get("/v1/store").json()["data"]["timezone"] == "UTC"
    type(store).objects.filter(pk=store.pk).update(timezone="Europe/Madrid")

    clock.move(SECOND)

    assert client.get("/v1/store").json()["data"]["timezone"] == "Europe/Madrid"


# --- last_used_at ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_last_used_at_is_written_once_a_minute_and_never_read_for_it(api_key, clock):
    client = api_client(api_key)
    seconds = [0, 0.5, 30, 59.5, 60.5, 61]
    started = clock.now
    updates, reads = [], []
    for second in seconds:
        clock.now = started + timedelta(seconds=second)
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/v1/orders/count").status_code == 200
        updates.append(updates_of_keys(captured))
        reads.append(sum(sql.startswith("SELECT") for sql in key_or_store_queries(captured)))

    # Written when first used and again once a minute had passed; read only when the copy
    # was older than its second (and never to learn when the key was last used).
    assert updates == [1, 0, 0, 0, 1, 0]
    assert reads == [1, 0, 1, 1, 1, 0]
    assert ApiKey.objects.get().last_used_at == started + timedelta(seconds=60.5)


# --- the shared cache ------------------------------------------------------------------------


def _redis_url(db: int) -> str | None:
    """redis://127.0.0.1:6379/<db> when a Redis answers there and the client is installed."""
    url = f"redis://127.0.0.1:6379/{db}"
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=0.5).ping()
    except Exception:
        return None
    return url


@pytest.mark.django_db
def test_a_shared_cache_outage_falls_back_to_the_database(settings, api_key, caplog):
    pytest.importorskip("redis")
    # Nothing listens on port 1: every cache call fails at once.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }

    statuses = []
    for _ in range(3):
        api_keys._local_copies.clear()
        statuses.append(api_client(api_key).get("/v1/orders").status_code)

    assert statuses == [200, 200, 200]
    # One failure, then the database alone for a while: not one timeout per request.
    failures = [r for r in caplog.records if "shared cache failed" in r.getMessage()]
    assert len(failures) == 1


# A second process authenticating in a loop, printing "<time> ok|refused <key reads>".
OTHER_PROCESS = r"""
import sys
import time

import django

django.setup()

from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from orders.api.auth import ApiKeyAuthentication

raw_key = sys.argv[1]
factory = APIRequestFactory()
print("ready", flush=True)
sys.stdin.readline()
refused, deadline = 0, time.monotonic() + 30
while refused < 5 and time.monotonic() < deadline:
    request = Request(factory.get("/v1/orders", HTTP_X_API_KEY=raw_key))
    with CaptureQueriesContext(connection) as captured:
        try:
            ApiKeyAuthentication().authenticate(request)
            answer = "ok"
        except AuthenticationFailed:
            answer = "refused"
            refused += 1
    reads = sum(
        q["sql"].startswith("SELECT") and '"orders_apikey"' in q["sql"]
        for q in captured.captured_queries
    )
    print(f"{time.time():.6f} {answer} {reads}", flush=True)
    time.sleep(0.01)
"""


@requires_postgresql
@pytest.mark.django_db(transaction=True)
def test_another_process_refuses_a_key_revoked_here_within_a_second(
    store, settings, tmp_path, monkeypatch
):
    redis_url = _redis_url(7)
    if redis_url is None:
        pytest.skip("needs Redis on 127.0.0.1:6379 and the redis package")
    # Real time on both sides: the copies this process shares are aged by the other.
    monkeypatch.setattr(api_keys, "copy_clock", time.time)
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis_url}
    }
    cache.clear()
    raw_key = make_api_key(store=store)
    stderr = (tmp_path / "other.log").open("w+")
    other = subprocess.Popen(
        [sys.executable, "-c", OTHER_PROCESS, raw_key],
        cwd=BASE_DIR,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": subprocess_database_url(),
            "REDIS_URL": redis_url,
        },
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
    )
    try:
        assert other.stdout.readline().strip() == "ready", Path(stderr.name).read_text()

        # Given the key warm in the shared cache (read from the database here): the other
        # process's first request finds it there and reads nothing itself
        authenticated(raw_key)
        other.stdin.write("go\n")
        other.stdin.flush()
        lines = [other.stdout.readline().split()]
        assert lines[0][1:] == ["ok", "0"], Path(stderr.name).read_text()
        warm_until = time.time() + 1.5
        while float(lines[-1][0]) < warm_until:
            lines.append(other.stdout.readline().split())

        # When the key is revoked here
        api_key_revoke(api_key=ApiKey.objects.get(), now=timezone.now())
        committed = time.time()
        while (line := other.stdout.readline().split()) and line[1] == "ok":
            lines.append(line)
        assert line, Path(stderr.name).read_text()
        refused_at = float(line[0])
        rest = other.stdout.read().split("\n")
    finally:
        if other.poll() is None:
            other.kill()
        other.wait()
        stderr.close()

    # Then the other process refuses it within the second (each attempt takes ~10 ms) and
    # from then on; while warm it read the key about once a second, not once a request
    last_ok = max(float(at) for at, answer, _ in lines if answer == "ok")
    assert last_ok < committed + SECOND, (last_ok - committed, lines[-5:])
    assert refused_at < committed + SECOND + 0.1, refused_at - committed
    assert all(line.split()[1] == "refused" for line in rest if line)
    elapsed = float(lines[-1][0]) - float(lines[0][0])
    reads = sum(int(line[2]) for line in lines)
    assert len(lines) > 50
    assert reads <= elapsed / SECOND + 2, (len(lines), reads)
