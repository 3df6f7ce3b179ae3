"""A real HTTP notification subscriber for the tests: records POSTs, answers the
subscription-time GET with 204, and can be switched down (503, connection
refused) or made to hang (accept, then never answer in time)."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Subscriber:
    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []  # delivered notifications, in arrival order
        self.headers: list[dict[str, str]] = []  # their request headers
        self.refused_posts = 0  # POSTs answered 503 or left hanging
        self.token_requests: list[str] = []  # Authorization of the requests to /token
        self.mode = "up"  # "up" | "503" | "hang"
        self.lock = threading.Lock()
        self.closing = threading.Event()
        self.port = 0
        self._httpd: ThreadingHTTPServer | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/callback"

    @property
    def token_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/token"

    def start(self) -> None:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(204)
                self.end_headers()

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.path == "/token":  # an OAuth2 token endpoint (client credentials)
                    with outer.lock:
                        outer.token_requests.append(self.headers.get("Authorization", ""))
                    answer = json.dumps({"access_token": "tok-123", "expires_in": 3600}).encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                    return
                mode = outer.mode
                if mode == "hang":
                    with outer.lock:
                        outer.refused_posts += 1
                    outer.closing.wait(60)
                    return
                if mode == "503":
                    with outer.lock:
                        outer.refused_posts += 1
                    self.send_response(503)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                with outer.lock:
                    outer.received.append(json.loads(body))
                    outer.headers.append({k.lower(): v for k, v in self.headers.items()})
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        httpd.daemon_threads = True
        self.port = int(httpd.server_address[1])
        self._httpd = httpd
        threading.Thread(target=httpd.serve_forever, daemon=True).start()

    def refuse(self) -> None:
        """Close the socket: connections are refused until start()."""
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def close(self) -> None:
        self.closing.set()
        self.refuse()

    def of(self, *subject_ids: str) -> list[dict[str, Any]]:
        """The notifications about these VNF instances (or VNF packages)."""
        with self.lock:
            return [
                n
                for n in self.received
                if (n.get("vnfInstanceId") or n.get("vnfPkgId")) in subject_ids
            ]

    def wait_for(self, count: int, *instance_ids: str, timeout: float = 30) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.of(*instance_ids)
            if len(got) >= count:
                return got
            time.sleep(0.05)
        raise AssertionError(f"{len(self.of(*instance_ids))} of {count} notifications arrived")


def new_subscriber(made: list[Subscriber]) -> Subscriber:
    """A subscriber kept in ``made`` (the ``subscribers`` fixture, which closes them)."""
    sub = Subscriber()
    made.append(sub)
    return sub
