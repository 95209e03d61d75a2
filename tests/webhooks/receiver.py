"""A real webhook receiver for the tests: an HTTP server on 127.0.0.1 in a thread.

    receiver = start()                      # answers 200 to everything
    receiver = start(Reply(500), Reply())   # 500 to the first request, then 200
    receiver.reply_with(Reply(hang=True))   # queue more answers later
    receiver.wait_for(2)                    # the first 2 requests, once they arrived
    receiver.stop()
    start(answer=lambda request: Reply(500) if request.event_id == first else None)

Every request is kept in `requests` (method, path, headers, raw body, when it arrived),
recorded as soon as its body was read, before it is answered: a request the receiver
never answered (a hang, a client that gave up) is there too. A request is answered by
`answer(request)` when that gives a Reply, else by the next queued reply, else by
`default`. `accepted` counts connections, asked for or not. Works with keep-alive
clients (HTTP/1.1).
"""

import contextlib
import json
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# How long any wait of a test on the receiver may take before it fails the test.
WAIT_SECONDS = 15.0


@dataclass(frozen=True)
class Reply:
    """How to answer one request: after `delay` seconds (or, with `hang`, never until the
    receiver stops or `release()` is called), with `status`, `body` and `headers`."""

    status: int = 200
    body: bytes = b'{"received": true}'
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    hang: bool = False


@dataclass
class Received:
    method: str
    path: str
    headers: Message  # case-insensitive: headers["ordo-signature"]
    body: bytes
    received_at: float  # time.time() when the body had arrived
    # The status the receiver sent back; None while it has not answered (or never did).
    answered: int | None = None

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def event_id(self) -> str | None:
        return self.headers.get("Ordo-Event-Id")


Answer = Callable[[Received], Reply | None]


class Receiver:
    def __init__(
        self,
        *replies: Reply,
        default: Reply | None = None,
        answer: Answer | None = None,
        path: str = "/hooks",
    ):
        self.requests: list[Received] = []
        self.accepted = 0
        self.default = default or Reply()
        self.answer = answer
        self.path = path
        self._replies: deque[Reply] = deque(replies)
        self._changed = threading.Condition()
        self._released = threading.Event()
        self._stopped = threading.Event()
        self._connections: set = set()
        self._server = _Server(("127.0.0.1", 0), _handler_for(self))
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.path}"

    def start(self) -> "Receiver":
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and cut every open connection, so no client keeps talking to a
        receiver of a finished test (a later one may get the same port)."""
        self._stopped.set()
        self._released.set()
        self._server.shutdown()
        with self._changed:
            connections = list(self._connections)
        for connection in connections:
            _cut(connection)
        self._server.server_close()

    def __enter__(self) -> "Receiver":
        return self

    def __exit__(self, *_exc) -> None:
        self.stop()

    def reply_with(self, *replies: Reply) -> None:
        """Answer the next requests with `replies`, in order (after any still queued)."""
        with self._changed:
            self._replies.extend(replies)

    def release(self) -> None:
        """Let every hanging request (Reply(hang=True)) answer now."""
        self._released.set()

    def wait_for(self, count: int, timeout: float = WAIT_SECONDS) -> list[Received]:
        """The first `count` requests, once that many arrived; AssertionError after
        `timeout` seconds with what did arrive."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self.requests) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"The receiver got {len(self.requests)} requests in {timeout:g} s, "
                        f"not {count}: {[r.event_id for r in self.requests]}"
                    )
                self._changed.wait(left)
            return list(self.requests[:count])

    def event_ids(self) -> list[str | None]:
        with self._changed:
            return [request.event_id for request in self.requests]

    # --- used by the handler -----------------------------------------------------------

    def _record(self, request: Received) -> Reply:
        with self._changed:
            self.requests.append(request)
            reply = self.answer(request) if self.answer else None
            if reply is None:
                reply = self._replies.popleft() if self._replies else self.default
            self._changed.notify_all()
        return reply

    def _wait_before_answering(self, reply: Reply) -> None:
        if reply.hang:
            self._released.wait()
        elif reply.delay:
            self._stopped.wait(reply.delay)


def start(
    *replies: Reply, default: Reply | None = None, answer: Answer | None = None, path="/hooks"
) -> Receiver:
    """A started receiver answering `replies` in order, then `default` (200)."""
    return Receiver(*replies, default=default, answer=answer, path=path).start()


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        # A client that gave up (a timeout under test) breaks the pipe: that is expected.
        pass


def _cut(connection: socket.socket) -> None:
    with contextlib.suppress(OSError):
        connection.shutdown(socket.SHUT_RDWR)


def _handler_for(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as real receivers do
        timeout = WAIT_SECONDS * 2  # an idle keep-alive connection ends eventually

        def setup(self) -> None:
            super().setup()
            with receiver._changed:
                receiver._connections.add(self.connection)
                receiver.accepted += 1

        def finish(self) -> None:
            with receiver._changed:
                receiver._connections.discard(self.connection)
            super().finish()

        def do_POST(self) -> None:
            self._answer()

        def do_GET(self) -> None:
            self._answer()

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            request = Received(
                method=self.command,
                path=self.path,
                headers=self.headers,
                body=body,
                received_at=time.time(),
            )
            reply = receiver._record(request)
            receiver._wait_before_answering(reply)
            if receiver._stopped.is_set() and reply.hang:
                self.close_connection = True
                return
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)
            request.answered = reply.status

        def log_message(self, format: str, *args) -> None:
            pass

    return Handler
