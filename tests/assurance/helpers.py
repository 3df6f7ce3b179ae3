"""Helpers of the assurance tests: real network namespaces with real servers in them.

Not a test module. ``vnfc_ns`` (conftest.py) makes a namespace that looks like a local-VIM VNFC to the probes (lo
up, a veth ``eth0`` with an address of 10.254.77.0/24 that exists
only inside it) and runs processes in it with ``ip netns exec``; everything goes
at teardown. Root and iproute2 are needed (skipped otherwise, except with CI set).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.api.server import Server
    from tests.notify.subscriber import Subscriber

REPO_ROOT = Path(__file__).resolve().parents[2]


def need(condition: bool, reason: str) -> None:
    """Skip with ``reason`` unless CI is set: there a missing prerequisite fails."""
    if condition:
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI: {reason}")
    pytest.skip(reason)


def need_root() -> None:
    need(os.geteuid() == 0, "needs root to create network namespaces")
    need(shutil.which("ip") is not None, "needs the iproute2 'ip' command")


@dataclass
class Netns:
    """A namespace standing for a VNFC: ``address`` lives only in it."""

    name: str
    address: str
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def ip(self, *args: str) -> None:
        subprocess.run(["ip", "-n", self.name, *args], check=True, capture_output=True)

    def spawn(self, *argv: str) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(
            ["ip", "netns", "exec", self.name, *argv],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.procs.append(proc)
        return proc

    def http_server(self, port: int) -> subprocess.Popen[bytes]:
        """python -m http.server on ``address:port`` inside; returns once it listens."""
        proc = self.spawn(sys.executable, "-m", "http.server", "--bind", self.address, str(port))
        self.wait_listening(port)
        return proc

    def wait_listening(self, port: int, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            out = subprocess.run(
                ["ip", "netns", "exec", self.name, "ss", "-Hltn", f"sport = :{port}"],
                capture_output=True,
                text=True,
                check=False,
            ).stdout
            if out.strip():
                return
            time.sleep(0.05)
        raise AssertionError(f"nothing listens on {self.address}:{port} in {self.name}")

    @staticmethod
    def stop(proc: subprocess.Popen[bytes]) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


@contextlib.contextmanager
def loop_server(
    home: Path, *, alertmanager: bool = False, **settings: str
) -> Iterator[tuple[Server, Subscriber, list[str]]]:
    """A real ``vnfm serve`` with the closed loop on (watcher, embedded Prometheus), a real
    subscriber, and a list the test appends its instance ids to: they are removed after,
    whatever happened. ``settings`` are more (or other) ``VNFM_*`` settings."""
    from tests.api.server import make_server
    from tests.integration.conftest import cleanup_instance
    from tests.notify.subscriber import Subscriber
    from vnfm_runner.assurance.stack import ALERTMANAGER_BIN, PROMETHEUS_BIN

    need_root()
    have = os.path.exists(PROMETHEUS_BIN) and (not alertmanager or os.path.exists(ALERTMANAGER_BIN))
    need(have, "no Prometheus/Alertmanager (scripts/setup.sh installs them)")
    home.mkdir(parents=True, exist_ok=True)
    base = {"watch": "true", "monitoring": "true", "api_verify_callback": "false"}
    srv = make_server(home, **{**base, **settings})
    sub = Subscriber()
    instances: list[str] = []
    srv.start()
    try:
        yield srv, sub, instances
    finally:
        srv.stop()
        sub.close()
        for inst in instances:
            cleanup_instance(inst)
