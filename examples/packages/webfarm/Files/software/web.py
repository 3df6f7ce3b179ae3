#!/usr/bin/env python3
# Copyright (c) vnfm-toolkit developers
# Apache License 2.0 (see Licenses/LICENSE.txt)
"""webfarm web server: answers every GET with its VNFC id.

Usage: web.py --id web-0 [--port 80] [--bind ADDR] [--pidfile FILE]

``GET /health`` answers ``ok``; ``GET /metrics`` answers ``webfarm_requests_total``
(the requests served, in the Prometheus text format); any other GET answers
``<id>\\n`` and counts as served. The pid file
is written once the socket listens, so its presence means "ready". SIGTERM
stops accepting, finishes the requests in flight and exits.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType


class Served:
    """Requests served so far (thread-safe: the server answers in threads)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.count = 0

    def add(self) -> None:
        with self._lock:
            self.count += 1


class WebHandler(BaseHTTPRequestHandler):
    server_version = "webfarm-web/1.0"
    vnfc_id = "unknown"
    served = Served()

    def _answer(self, status: int, body: bytes, ctype: str = "text/plain; charset=utf-8") -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Vnfc-Id", self.vnfc_id)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/health":
            self._answer(200, b"ok\n")
        elif path == "/metrics":
            text = (
                "# HELP webfarm_requests_total Requests served by this web\n"
                "# TYPE webfarm_requests_total counter\n"
                f"webfarm_requests_total {self.served.count}\n"
            )
            self._answer(200, text.encode(), "text/plain; version=0.0.4; charset=utf-8")
        else:
            self.served.add()
            self._answer(200, f"{self.vnfc_id}\n".encode())

    def do_HEAD(self) -> None:
        self.do_GET()

    def log_message(self, format: str, *args: object) -> None:
        sys.stderr.write(f"{self.vnfc_id} {self.address_string()} {format % args}\n")


def write_pidfile(path: str) -> None:
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="ascii") as fh:
        fh.write(f"{os.getpid()}\n")
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--id", required=True, help="VNFC id returned in every answer")
    parser.add_argument("--port", type=int, default=80)
    parser.add_argument("--bind", default="0.0.0.0", help="address to listen on")
    parser.add_argument("--pidfile", help="write the pid here once listening")
    args = parser.parse_args(argv)

    handler = type("Handler", (WebHandler,), {"vnfc_id": args.id})
    server = ThreadingHTTPServer((args.bind, args.port), handler)
    server.daemon_threads = False  # wait for requests in flight on shutdown

    def on_term(signum: int, frame: FrameType | None) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    if args.pidfile:
        write_pidfile(args.pidfile)
    sys.stderr.write(f"{args.id} listening on {args.bind}:{args.port}\n")
    sys.stderr.flush()
    try:
        # SIGTERM's shutdown() is seen at the next poll: 0.05 s, not the default 0.5 s
        # (a stop, a heal or a terminate waits for it).
        server.serve_forever(poll_interval=0.05)
    finally:
        server.server_close()
        if args.pidfile and os.path.exists(args.pidfile):
            with open(args.pidfile, encoding="ascii") as fh:
                if fh.read().strip() == str(os.getpid()):
                    os.unlink(args.pidfile)
    return 0


if __name__ == "__main__":
    sys.exit(main())
