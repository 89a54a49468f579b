"""Webhook receivers on loopback for tests: an HTTP server in a thread that records each request and
answers as the test says, and a socket that accepts connections and never answers."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


class Receiver:
    """`answer(request) -> (status, delay seconds)`, by default 200 at once."""

    def __init__(self, answer: Callable[[Received], tuple[int, float]] | None = None):
        self.answer = answer or (lambda _request: (200, 0.0))
        self.received: list[Received] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                request = Received(self.path, {k.lower(): v for k, v in self.headers.items()}, self.rfile.read(length))
                with receiver._lock:
                    receiver.received.append(request)
                status, delay = receiver.answer(request)
                time.sleep(delay)
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", "/redirected")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/in"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def wait_for(self, count: int, timeout: float = 30) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.received) < count:
            assert time.monotonic() < deadline, f"{len(self.received)} of {count} requests after {timeout} s"
            time.sleep(0.05)
        return list(self.received)


class Silent:
    """Listens, so connections are made (the kernel's backlog takes them), but never reads or answers."""

    def __init__(self):
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(64)
        self.url = f"http://127.0.0.1:{self.socket.getsockname()[1]}/never"

    def __enter__(self) -> Silent:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.socket.close()


class Trickle:
    """Answers 200, one byte of its status line and headers at a time, every `pause` seconds: each
    read gets a byte well within a per-read timeout, the whole answer takes longer than the attempt."""

    ANSWER = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nX-Slow: yes\r\n\r\n"

    def __init__(self, pause: float = 0.25):
        self.pause = pause
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(16)
        self.url = f"http://127.0.0.1:{self.socket.getsockname()[1]}/slow"
        self.requests = 0
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.socket.accept()
            except OSError:
                return
            threading.Thread(target=self._answer, args=(connection,), daemon=True).start()

    def _answer(self, connection: socket.socket) -> None:
        with connection:
            try:
                connection.recv(65536)
                self.requests += 1
                for byte in self.ANSWER:
                    time.sleep(self.pause)
                    connection.sendall(bytes([byte]))
            except OSError:
                pass  # the client gave up, as it should

    def __enter__(self) -> Trickle:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.socket.close()
