"""manage.py webhook_receiver, the receiver README's walkthrough uses: it prints each
delivery with whether its signature verifies, and `--fail` answers 500."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from config.settings import BASE_DIR
from webhooks.signing import generate_secret, sign

BODY = json.dumps({"type": "order.paid", "data": {"object": {"id": "ord_x"}}}).encode()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _post(port: int, headers: dict[str, str]) -> int:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/", data=BODY, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def _receiver(*args: str) -> tuple[subprocess.Popen, int]:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "manage.py", "webhook_receiver", "--port", str(port), *args],
        cwd=BASE_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return process, port
        time.sleep(0.1)
    process.kill()
    pytest.fail(f"webhook_receiver did not listen: {process.communicate()[0]}")


def _stop(process: subprocess.Popen) -> str:
    process.terminate()
    return process.communicate(timeout=10)[0]


def test_the_receiver_tells_a_good_signature_from_a_bad_one():
    secret = generate_secret()
    process, port = _receiver("--secret", secret)
    try:
        good = sign(body=BODY, secrets=[secret], timestamp=int(time.time()))
        bad = sign(body=BODY, secrets=[generate_secret()], timestamp=int(time.time()))
        assert _post(port, {"Ordo-Signature": good, "Ordo-Delivery-Id": "whd_1"}) == 200
        assert _post(port, {"Ordo-Signature": bad, "Ordo-Delivery-Id": "whd_2"}) == 200
    finally:
        output = _stop(process)
    lines = [line for line in output.splitlines() if line.startswith("whd_")]
    assert lines[0].startswith("whd_1  order.paid ord_x  signature OK")
    assert "SIGNATURE DOES NOT VERIFY" in lines[1]


def test_a_failing_receiver_answers_500():
    process, port = _receiver("--fail")
    try:
        assert _post(port, {"Ordo-Delivery-Id": "whd_3"}) == 500
    finally:
        output = _stop(process)
    assert "→ 500" in output
