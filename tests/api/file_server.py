"""A real HTTP server that serves files for ``upload_from_uri``: plain, behind HTTP
Basic, behind an OAuth2 bearer token (with its token endpoint), without a
Content-Length (chunked), through a redirect, or never answering."""

from __future__ import annotations

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

BASIC_USER = "repo-user"
BASIC_PASSWORD = "Repo-Pa55-never-logged-41f9"
OAUTH_CLIENT = "repo-client"
OAUTH_SECRET = "Repo-Client-Secr3t-never-logged-77aa"
TOKEN = "repo-token-5d3e"


class FileServer:
    """``files`` maps a path (``/webfarm.zip``) to its bytes. Paths under
    ``/basic/`` need HTTP Basic, under ``/oauth/`` a bearer token, under
    ``/chunked/`` are sent without a length; ``/redirect/X`` redirects to ``/X``;
    ``/hang`` never answers."""

    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files
        self.requests: list[tuple[str, str, str]] = []  # method, path, Authorization
        self.closing = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _send(self, status: int, body: bytes = b"", **headers: str) -> None:
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key.replace("_", "-"), value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                auth = self.headers.get("Authorization", "")
                outer.requests.append(("POST", self.path, auth))
                expected = base64.b64encode(f"{OAUTH_CLIENT}:{OAUTH_SECRET}".encode()).decode()
                if self.path != "/token" or auth != f"Basic {expected}":
                    self._send(401)
                    return
                body = json.dumps({"access_token": TOKEN, "token_type": "Bearer"}).encode()
                self._send(200, body, Content_Type="application/json")

            def do_GET(self) -> None:
                auth = self.headers.get("Authorization", "")
                path = self.path.split("?", 1)[0]
                outer.requests.append(("GET", path, auth))
                if path == "/hang":
                    outer.closing.wait(30)
                    return
                if path.startswith("/redirect/"):
                    self._send(302, Location=path.removeprefix("/redirect"))
                    return
                if path.startswith("/basic/"):
                    basic = base64.b64encode(f"{BASIC_USER}:{BASIC_PASSWORD}".encode()).decode()
                    if auth != f"Basic {basic}":
                        self._send(401, WWW_Authenticate='Basic realm="repo"')
                        return
                if path.startswith("/oauth/") and auth != f"Bearer {TOKEN}":
                    self._send(401)
                    return
                body = outer.files.get(path)
                if body is None:
                    self._send(404)
                    return
                if path.startswith("/chunked/"):
                    self.send_response(200)
                    self.send_header("Content-Type", "application/zip")
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    for start in range(0, len(body), 65536):
                        part = body[start : start + 65536]
                        self.wfile.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
                    self.wfile.write(b"0\r\n\r\n")
                    return
                self._send(200, body, Content_Type="application/zip")

            def log_message(self, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.port = int(self._httpd.server_address[1])
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def close(self) -> None:
        self.closing.set()
        self._httpd.shutdown()
        self._httpd.server_close()
