"""A fault-injecting HTTP proxy between the VNFM and the OpenStack test bed (tests only).

One listening port on 127.0.0.1 per upstream service. The proxy is given Keystone's URL;
every answer that names another ``http://127.0.0.1:<port>`` or ``http://localhost:<port>``
origin (the token's service catalog, version documents, ``Location`` headers, paging links)
gets that origin rewritten to a listener of its own, started on first sight. So a client
whose ``auth_url`` is :attr:`FaultProxy.auth_url` reaches every service through the proxy,
as it would reach a real cloud, without knowing it.

:class:`Rule` says which call to hurt (method, path regex, the nth matching call and how
many after it) and :class:`Fault` how: an HTTP error with a body, a hang (no answer until
the client gives up), a connection reset (before answering or right after the headers),
a slow answer, and each of those *after* forwarding the call (the VIM did the work, the
client never hears of it). Every call is logged (:attr:`FaultProxy.calls`).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import re
import socket
import struct
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Literal
from urllib.parse import urlsplit

FaultKind = Literal["error", "hang", "reset", "reset_after_headers", "slow"]
KINDS: tuple[str, ...] = ("error", "hang", "reset", "reset_after_headers", "slow")
_ORIGIN = re.compile(rb"http://(?:127\.0\.0\.1|localhost):(\d+)")
# not forwarded either way (RFC 9110 7.6.1); the body is re-sent with a Content-Length
_HOP = {
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "content-length",
}


@dataclass(frozen=True)
class Fault:
    kind: FaultKind
    status: int = 503  # error: the status answered
    delay: float = 0.0  # slow: seconds before the answer (after forwarding, if forward)
    forward: bool = False  # forward the call first: the VIM does the work, the answer is lost

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"fault kind {self.kind!r}: one of {', '.join(KINDS)}")

    def __str__(self) -> str:
        what = {"error": f"error {self.status}", "slow": f"slow {self.delay:g}s"}.get(
            self.kind, self.kind
        )
        return f"forward-then-{what}" if self.forward else what


@dataclass(eq=False)
class Rule:
    """Hurt the ``nth`` call (1-based) whose method and path match, and the ``times - 1``
    matching calls after it (``times=0``: every one from the nth on)."""

    method: str
    path: str  # regex, searched in the path (query string excluded)
    fault: Fault
    nth: int = 1
    times: int = 1
    seen: int = 0  # matching calls so far
    fired: int = 0  # calls hurt so far

    def __post_init__(self) -> None:
        self._path = re.compile(self.path)

    def take(self, method: str, path: str) -> bool:
        """Count a call; True when this one is to be hurt (the caller holds the lock)."""
        if method.upper() != self.method.upper() or not self._path.search(path):
            return False
        self.seen += 1
        if self.seen < self.nth or (self.times and self.seen >= self.nth + self.times):
            return False
        self.fired += 1
        return True

    def __str__(self) -> str:
        return f"{self.fault} on call {self.nth} of {self.method} {self.path}"


@dataclass(frozen=True)
class Call:
    service: int  # upstream port
    method: str
    path: str
    status: int | None  # what the client got (None: reset or hang)
    fault: str | None  # str(Fault) when hurt
    upstream: int | None  # what the upstream answered, when forwarded
    seconds: float


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, proxy: FaultProxy, upstream: int) -> None:
        self.proxy = proxy
        self.upstream = upstream
        super().__init__(("127.0.0.1", 0), _Handler)

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client gone mid-answer (after a reset or a hang) is the point, not an error


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the SDK's session expects
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        pass  # the proxy keeps its own log (FaultProxy.calls)

    def finish(self) -> None:
        with contextlib.suppress(OSError, ValueError):  # the socket was reset on purpose
            super().finish()

    def do_GET(self) -> None:
        self._proxy()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_GET

    # -- request ---------------------------------------------------------------------------------
    def _body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            out = bytearray()
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline().strip():  # trailers
                        pass
                    return bytes(out)
                out += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _proxy(self) -> None:
        self._started, self._logged = time.monotonic(), False
        path = urlsplit(self.path).path
        body = self._body()
        fault = self._fault = self.server.proxy._match(self.command, path)
        self._upstream_status: int | None = None
        try:
            if fault is not None and not fault.forward and fault.kind != "slow":
                self._hurt(fault)
                return
            if fault is not None and fault.kind == "slow" and not fault.forward:
                time.sleep(fault.delay)
            upstream, headers, data = self._forward(body)
            if fault is not None and fault.forward:
                if fault.kind != "slow":
                    self._hurt(fault)
                    return
                time.sleep(fault.delay)
            self._answer(upstream, headers, data)
        finally:
            self._record(None)

    def _record(self, status: int | None) -> None:
        """Log the call once, before the client can see its answer: a test that reads the
        log right after its request returned finds the call there."""
        if self._logged:
            return
        self._logged = True
        fault = self._fault
        self.server.proxy._log(
            Call(
                self.server.upstream,
                self.command,
                urlsplit(self.path).path,
                status,
                None if fault is None else str(fault),
                self._upstream_status,
                time.monotonic() - self._started,
            )
        )

    def _forward(self, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        proxy = self.server.proxy
        conn = http.client.HTTPConnection("127.0.0.1", self.server.upstream, timeout=600)
        try:
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP}
            headers["Accept-Encoding"] = "identity"  # bodies are rewritten: keep them plain
            headers["Connection"] = "close"
            if body or self.command in ("POST", "PUT", "PATCH"):
                headers["Content-Length"] = str(len(body))
            conn.request(self.command, self.path, body=body or None, headers=headers)
            resp = conn.getresponse()
            self._upstream_status = resp.status
            data = resp.read()
            out = [(k, v) for k, v in resp.getheaders() if k.lower() not in _HOP]
        finally:
            conn.close()
        out = [(k, proxy._rewrite(v.encode("latin-1")).decode("latin-1")) for k, v in out]
        return resp.status, out, proxy._rewrite(data)

    # -- answers -----------------------------------------------------------------------------------
    def _answer(self, status: int, headers: list[tuple[str, str]], data: bytes) -> None:
        self._record(status)
        self.send_response_only(status)
        for key, value in headers:
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        self.wfile.flush()

    def _reset(self) -> None:
        """Close with a TCP RST (SO_LINGER 0), not a clean FIN: a dropped connection."""
        self._record(None)
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()

    def _hurt(self, fault: Fault) -> None:
        if fault.kind == "error":
            body = json.dumps(
                {"error": {"code": fault.status, "message": f"injected fault: {fault}"}}
            ).encode()
            self._answer(fault.status, [("Content-Type", "application/json")], body)
            return
        if fault.kind == "hang":  # until the client gives up (or the proxy stops)
            self.close_connection = True
            self.connection.settimeout(1.0)
            proxy = self.server.proxy
            while not proxy._stopping.is_set():
                try:
                    if self.connection.recv(1, socket.MSG_PEEK) == b"":
                        break  # the client closed its end
                except TimeoutError:
                    continue
                except OSError:
                    break
            self._reset()
            return
        if fault.kind == "reset_after_headers":
            self.send_response_only(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "4096")
            self.end_headers()
            self.wfile.write(b'{"')
            self.wfile.flush()
        self._reset()


@dataclass
class FaultProxy:
    """Listeners per upstream, rules, and the log. Use as a context manager."""

    keystone: str  # e.g. http://127.0.0.1:5000/v3
    rules: list[Rule] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._servers: dict[int, _Server] = {}  # upstream port -> listener
        self._own: set[int] = set()  # listening ports
        parts = urlsplit(self.keystone)
        if parts.hostname not in ("127.0.0.1", "localhost") or parts.port is None:
            raise ValueError(f"keystone URL {self.keystone!r}: an http://127.0.0.1:PORT origin")
        self._keystone = parts

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> FaultProxy:
        self._listener(int(self._keystone.port or 0))
        return self

    def stop(self) -> None:
        self._stopping.set()
        with self._lock:
            servers = list(self._servers.values())
        for server in servers:
            server.shutdown()
            server.server_close()

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def auth_url(self) -> str:
        port = self._servers[int(self._keystone.port or 0)].server_address[1]
        return f"http://127.0.0.1:{port}{self._keystone.path}"

    def _listener(self, upstream: int) -> int:
        with self._lock:
            server = self._servers.get(upstream)
            if server is None:
                server = _Server(self, upstream)
                self._servers[upstream] = server
                self._own.add(int(server.server_address[1]))
                threading.Thread(
                    target=server.serve_forever,
                    kwargs={"poll_interval": 0.2},
                    name=f"fault-proxy-{upstream}",
                    daemon=True,
                ).start()
            return int(server.server_address[1])

    def _rewrite(self, data: bytes) -> bytes:
        """Every upstream origin in ``data`` -> the proxy's listener for it."""

        def swap(m: re.Match[bytes]) -> bytes:
            port = int(m.group(1))
            if port in self._own:
                return m.group(0)
            return b"http://127.0.0.1:%d" % self._listener(port)

        return _ORIGIN.sub(swap, data)

    # -- rules and log ---------------------------------------------------------------------------
    def add(self, rule: Rule) -> Rule:
        with self._lock:
            self.rules.append(rule)
        return rule

    def clear(self) -> None:
        with self._lock:
            self.rules.clear()

    @contextmanager
    def fault(self, rule: Rule) -> Iterator[Rule]:
        """The rule for the block's duration."""
        self.add(rule)
        try:
            yield rule
        finally:
            with self._lock:
                if rule in self.rules:
                    self.rules.remove(rule)

    def _match(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for rule in self.rules:
                if rule.take(method, path):
                    return rule.fault
        return None

    def _log(self, call: Call) -> None:
        with self._lock:
            self.calls.append(call)

    def log(self, method: str | None = None, path: str | None = None) -> list[Call]:
        """The calls so far, those matching ``method`` and ``path`` (a regex) if given."""
        with self._lock:
            calls = list(self.calls)
        return [
            c
            for c in calls
            if (method is None or c.method == method.upper())
            and (path is None or re.search(path, c.path))
        ]

    def hurt(self) -> list[Call]:
        return [c for c in self.log() if c.fault is not None]
