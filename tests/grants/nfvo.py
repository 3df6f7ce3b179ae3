"""A small NFVO Grant server for tests: answers synchronously, asynchronously or refuses.

Mode per request from the server's ``mode`` attribute: ``sync`` (201 with the
grant), ``async`` (202 + Location; the grant appears after ``polls`` GETs),
``refuse`` (403 ProblemDetails). It records every GrantRequest it receives.
"""

from __future__ import annotations

import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class NfvoServer(ThreadingHTTPServer):
    def __init__(
        self, mode: str = "sync", polls: int = 2, assets: dict[str, Any] | None = None
    ) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.mode = mode
        self.polls = polls
        self.assets = assets or {}
        self.requests: list[dict[str, Any]] = []
        self.auth: list[str | None] = []
        self.pending: dict[str, tuple[int, dict[str, Any]]] = {}
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def __enter__(self) -> NfvoServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
        self.server_close()

    def grant_for(self, request: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": str(uuid.uuid4()),
            "vnfInstanceId": request["vnfInstanceId"],
            "vnfLcmOpOccId": request["vnfLcmOpOccId"],
            "vimAssets": self.assets,
            "_links": {},
        }


class _Handler(BaseHTTPRequestHandler):
    server: NfvoServer

    def log_message(self, *args: Any) -> None:
        pass

    def _send(
        self, status: int, body: dict[str, Any] | None, headers: dict[str, str] | None = None
    ) -> None:
        raw = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(raw)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        request = json.loads(self.rfile.read(length))
        self.server.requests.append(request)
        self.server.auth.append(self.headers.get("Authorization"))
        if self.server.mode == "refuse":
            self._send(
                403, {"status": 403, "title": "Forbidden", "detail": "no capacity in zone A"}
            )
        elif self.server.mode == "async":
            grant_id = str(uuid.uuid4())
            self.server.pending[grant_id] = (self.server.polls, self.server.grant_for(request))
            self._send(202, None, {"Location": f"/grant/v1/grants/{grant_id}", "Retry-After": "0"})
        else:
            self._send(201, self.server.grant_for(request))

    def do_GET(self) -> None:
        grant_id = self.path.rsplit("/", 1)[-1]
        left, grant = self.server.pending.get(grant_id, (0, None))
        if grant is None:
            self._send(404, {"status": 404, "detail": "no such grant"})
        elif left > 0:
            self.server.pending[grant_id] = (left - 1, grant)
            self._send(202, None, {"Location": self.path, "Retry-After": "0"})
        else:
            self._send(201, grant)
