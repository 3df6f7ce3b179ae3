#!/usr/bin/env python3
# Copyright (c) vnfm-toolkit developers
# Apache License 2.0 (see Licenses/LICENSE.txt)
"""webfarm load balancer: round-robins HTTP requests over the web VNFCs.

Usage: lb.py --backends FILE [--port 80] [--bind 0.0.0.0] [--pidfile FILE]

FILE lists one ``host:port`` per line (``#`` comments allowed); it is re-read
on SIGHUP and whenever it changes on disk. Backends that refuse the
connection are skipped; with none left the answer is 503. ``GET /metrics`` is
answered by the load balancer itself: ``webfarm_lb_requests_total`` (requests
proxied, whatever their answer) and ``webfarm_lb_active_connections`` (requests in
flight), in the Prometheus text format. SIGTERM drains:
the listening socket closes at once, requests in flight complete.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import os
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade"}


class Backends:
    """The backend list, reloaded when the file changes or on demand."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._stamp: tuple[int, int, int] | None = None
        self._items: list[tuple[str, int]] = []
        self._counter = itertools.count()
        self.force_reload = False

    def _load(self) -> None:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            self._stamp, self._items = None, []
            return
        stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
        if stamp == self._stamp and not self.force_reload:
            return
        items: list[tuple[str, int]] = []
        with open(self.path, encoding="utf-8") as fh:
            for line in fh:
                entry = line.split("#", 1)[0].strip()
                host, sep, port = entry.rpartition(":")
                if entry and sep and port.isdigit():
                    items.append((host.strip("[]"), int(port)))
        self._stamp, self._items, self.force_reload = stamp, items, False
        sys.stderr.write(f"lb: backends {items}\n")

    def rotation(self) -> list[tuple[str, int]]:
        """All backends, starting with the next one in round-robin order."""
        with self._lock:
            self._load()
            items = list(self._items)
            start = next(self._counter) % len(items) if items else 0
        return items[start:] + items[:start]


class Stats:
    """Requests proxied and in flight (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests = 0
        self.active = 0

    def enter(self) -> None:
        with self._lock:
            self.requests += 1
            self.active += 1

    def leave(self) -> None:
        with self._lock:
            self.active -= 1

    def text(self) -> bytes:
        with self._lock:
            requests, active = self.requests, self.active
        return (
            "# HELP webfarm_lb_requests_total Requests proxied by the load balancer\n"
            "# TYPE webfarm_lb_requests_total counter\n"
            f"webfarm_lb_requests_total {requests}\n"
            "# HELP webfarm_lb_active_connections Requests in flight\n"
            "# TYPE webfarm_lb_active_connections gauge\n"
            f"webfarm_lb_active_connections {active}\n"
        ).encode()


class LbHandler(BaseHTTPRequestHandler):
    server_version = "webfarm-lb/1.0"
    backends: Backends
    stats: Stats
    timeout_s = 5.0

    def _route(self) -> None:
        if self.command == "GET" and self.path.split("?", 1)[0] == "/metrics":
            data = self.stats.text()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        self.stats.enter()
        try:
            self._proxy()
        finally:
            self.stats.leave()

    def _proxy(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        for host, port in self.backends.rotation():
            conn = http.client.HTTPConnection(host, port, timeout=self.timeout_s)
            try:
                conn.request(self.command, self.path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
            except OSError as exc:  # refused, unreachable, reset: try the next one
                sys.stderr.write(f"lb: backend {host}:{port} failed: {exc}\n")
                continue
            finally:
                conn.close()
            self.send_response(resp.status, resp.reason)
            for key, value in resp.getheaders():
                if key.lower() not in HOP_BY_HOP | {"content-length", "server", "date"}:
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("X-Backend", f"{host}:{port}")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
            return
        self.send_error(503, "no backend available")

    do_GET = do_HEAD = do_POST = _route

    def log_message(self, format: str, *args: object) -> None:
        sys.stderr.write(f"lb {self.address_string()} {format % args}\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", required=True, help="file of host:port lines")
    parser.add_argument("--port", type=int, default=80)
    parser.add_argument("--bind", default="0.0.0.0")
    parser.add_argument("--pidfile", help="write the pid here once listening")
    parser.add_argument("--timeout", type=float, default=5.0, help="backend timeout (s)")
    args = parser.parse_args(argv)

    backends = Backends(args.backends)
    attrs = {"backends": backends, "stats": Stats(), "timeout_s": args.timeout}
    server = ThreadingHTTPServer((args.bind, args.port), type("Handler", (LbHandler,), attrs))
    server.daemon_threads = False  # drain: wait for requests in flight

    def on_hup(signum: int, frame: FrameType | None) -> None:
        backends.force_reload = True

    def on_term(signum: int, frame: FrameType | None) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGHUP, on_hup)
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    if args.pidfile:
        with open(f"{args.pidfile}.tmp", "w", encoding="ascii") as fh:
            fh.write(f"{os.getpid()}\n")
        os.replace(f"{args.pidfile}.tmp", args.pidfile)
    sys.stderr.write(f"lb listening on {args.bind}:{args.port}, backends from {args.backends}\n")
    sys.stderr.flush()
    try:
        # SIGTERM's shutdown() is seen at the next poll: 0.05 s, not the default 0.5 s
        # (a stop, a heal or a terminate waits for it).
        server.serve_forever(poll_interval=0.05)
    finally:
        server.server_close()  # stop accepting; joins the request threads
        if args.pidfile:
            try:
                with open(args.pidfile, encoding="ascii") as fh:
                    if fh.read().strip() == str(os.getpid()):
                        os.unlink(args.pidfile)
            except FileNotFoundError:
                pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
