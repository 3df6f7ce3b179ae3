"""A real ``vnfm serve`` in a subprocess on a free port, with its own VNFM_HOME.

Shared by the API tests, the tackerclient conformance test and the bench.
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import socket
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from vnfm_runner.store.db import Store

REPO_ROOT = Path(__file__).resolve().parents[2]
WEBFARM = REPO_ROOT / "examples" / "packages" / "webfarm"
USER = "nfvo"
PASSWORD = "Basic-Pa55-do-not-leak-7d1e"
OAUTH_ID = "orchestrator"
OAUTH_SECRET = "Client-Secr3t-do-not-leak-93ab"


def free_port() -> int:
    with contextlib.closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def zip_dir(root: Path) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(root.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                zf.write(path, path.relative_to(root).as_posix())
    return buf.getvalue()


@dataclass
class Server:
    home: Path
    port: int
    env: dict[str, str]
    proc: subprocess.Popen[bytes] | None = None
    log_path: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log_path = self.home / "server.log"

    @property
    def url(self) -> str:
        scheme = "https" if self.env.get("VNFM_TLS_CERT") else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> Server:
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "vnfm_runner",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
            ],
            cwd=REPO_ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_path.read_text()[-3000:]}")
            try:
                httpx.get(f"{self.url}/vnflcm/api_versions", timeout=1.0, verify=False)
                return self
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("server did not start")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def client(self, **kwargs: Any) -> httpx.Client:
        kwargs.setdefault("auth", (USER, PASSWORD))
        kwargs.setdefault("headers", {"Version": "2.0.0"})
        kwargs.setdefault("timeout", 60.0)
        return httpx.Client(base_url=self.url, **kwargs)

    def cli(self, *args: str, timeout: float = 600) -> str:
        """``vnfm ARGS`` in its own process on the server's store; its stdout (exit 0 asserted)."""
        done = subprocess.run(
            [sys.executable, "-m", "vnfm_runner", *args],
            env=self.env,
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        return done.stdout

    def service(self) -> Any:
        """The service layer on the server's store (another engine on the same database)."""
        from vnfm_runner.lcm import Vnfm
        from vnfm_runner.settings import Settings

        return Vnfm.open(Settings(home=self.home), recover=False)


def make_server(home: Path, **settings: str) -> Server:
    env = {
        **os.environ,
        "VNFM_HOME": str(home),
        "VNFM_API_USER": USER,
        "VNFM_API_PASSWORD": PASSWORD,
        "VNFM_OAUTH_CLIENTS": f"{OAUTH_ID}:{OAUTH_SECRET}",
        "VNFM_WORKERS": "4",
        # The closed loop (watcher, auto-heal, Prometheus, Alertmanager) is on by default
        # in `vnfm serve`; a test server runs it only when the test asks (watch="true",
        # monitoring="true"), so that no automatic heal races a test's own operations.
        "VNFM_WATCH": "false",
        "VNFM_MONITORING": "false",
        "PYTHONUNBUFFERED": "1",
    }
    env.update({f"VNFM_{k.upper()}": v for k, v in settings.items()})
    return Server(home=home, port=free_port(), env=env)


@contextlib.contextmanager
def running(home: Path, **settings: str) -> Iterator[Server]:
    """A started ``make_server(home, **settings)``, stopped on leaving."""
    srv = make_server(home, **settings).start()
    try:
        yield srv
    finally:
        srv.stop()


@contextlib.contextmanager
def opened_store(server: Server) -> Iterator[Store]:
    """The server's store opened in this process (another process's view of it)."""
    from vnfm_runner.bootstrap import open_store
    from vnfm_runner.settings import Settings

    store = open_store(Settings(home=server.home).db_url)
    try:
        yield store
    finally:
        store.engine.dispose()


def wait_op(
    client: httpx.Client, op_id: str, states: tuple[str, ...], timeout: float = 400
) -> dict[str, Any]:
    """Poll an LcmOpOcc until it is in one of the states (or fail with its last document)."""
    deadline = time.monotonic() + timeout
    doc: dict[str, Any] = {}
    while time.monotonic() < deadline:
        r = client.get(f"/vnflcm/v2/vnf_lcm_op_occs/{op_id}")
        r.raise_for_status()
        doc = r.json()
        if doc["operationState"] in states:
            return doc
        time.sleep(0.5)
    raise AssertionError(f"operation {op_id} never reached {states}: {doc}")


def op_id_of(response: httpx.Response) -> str:
    assert response.status_code == 202, response.text
    location = response.headers["Location"]
    assert location.startswith("/vnflcm/v2/vnf_lcm_op_occs/"), location
    return location.rsplit("/", 1)[1]


def onboard_via_api(
    client: httpx.Client, package_zip: bytes, timeout: float = 120
) -> dict[str, Any]:
    """Create a package, upload the zip, wait for the end of onboarding; the VnfPkgInfo."""
    r = client.post("/vnfpkgm/v1/vnf_packages", json={"userDefinedData": {"test": "yes"}})
    assert r.status_code == 201, r.text
    pkg_id = r.json()["id"]
    r = client.put(
        f"/vnfpkgm/v1/vnf_packages/{pkg_id}/package_content",
        content=package_zip,
        headers={"Content-Type": "application/zip"},
    )
    assert r.status_code == 202, r.text
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        doc: dict[str, Any] = client.get(f"/vnfpkgm/v1/vnf_packages/{pkg_id}").json()
        if doc["onboardingState"] in ("ONBOARDED", "ERROR"):
            return doc
        time.sleep(0.2)
    raise AssertionError(f"package {pkg_id} never finished onboarding")
