"""The production server's access log: one line per request, with its request id, and never
an API key, however the client spelled the parameter."""

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from config.gunicorn_logging import redact_query, redact_target

ROOT = Path(__file__).resolve().parents[2]
SECRET = "wk_live_" + "S3cr3t" * 7


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (f"api_key={SECRET}", "api_key=[redacted]"),
        (
            f"status=pending&api_key={SECRET}&per_page=2",
            "status=pending&api_key=[redacted]&per_page=2",
        ),
        (f"api%5Fkey={SECRET}", "api%5Fkey=[redacted]"),
        (f"API_KEY={SECRET}", "API_KEY=[redacted]"),
        ("status=pending", "status=pending"),
        ("api_key_hint=x", "api_key_hint=x"),
    ],
)
def test_every_api_key_value_is_redacted(query, expected):
    assert redact_query(query) == expected
    assert redact_target(f"/v1/orders?{query}") == f"/v1/orders?{expected}"


def test_the_access_log_never_holds_a_key(tmp_path):
    port = free_port()
    log = tmp_path / "gunicorn.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", "1", "--bind", f"127.0.0.1:{port}",
             "config.wsgi:application"],
            cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            url = f"http://127.0.0.1:{port}/v1/no-such-route?api_key={SECRET}&x=1"
            status = _get(url, headers={"X-Request-Id": "req-from-the-test-1"})
            assert status == 404
        finally:
            server.terminate()
            server.wait(timeout=15)
    text = log.read_text()

    assert SECRET not in text
    assert '"GET /v1/no-such-route?api_key=[redacted]&x=1 HTTP/1.1" 404' in text
    assert "request_id=req-from-the-test-1" in text


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get(url: str, *, headers: dict) -> int:
    deadline = time.monotonic() + 20
    while True:
        try:
            with urllib.request.urlopen(urllib.request.Request(url, headers=headers)) as answer:
                return answer.status
        except urllib.error.HTTPError as error:
            return error.code
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
