"""Fixtures of the assurance tests (helpers.py: real namespaces with real servers)."""

from __future__ import annotations

import shutil
import subprocess
import uuid
from collections.abc import Iterator

import pytest

from tests.assurance.helpers import Netns, need, need_root
from tests.integration.conftest import lifecycle  # noqa: F401  (the real-webfarm fixture)


@pytest.fixture
def vnfc_ns() -> Iterator[Netns]:
    need_root()
    need(shutil.which("ss") is not None, "needs the iproute2 'ss' command")
    ns = Netns(name=f"vnfmtest-{uuid.uuid4().hex[:8]}", address="10.254.77.2")
    subprocess.run(["ip", "netns", "add", ns.name], check=True)
    try:
        ns.ip("link", "set", "lo", "up")
        # a veth pair inside (no dummy module on every kernel): eth0 carries the address
        ns.ip("link", "add", "eth0", "type", "veth", "peer", "name", "eth1")
        ns.ip("addr", "add", f"{ns.address}/24", "dev", "eth0")
        ns.ip("link", "set", "eth1", "up")
        ns.ip("link", "set", "eth0", "up")
        yield ns
    finally:
        for proc in ns.procs:
            Netns.stop(proc)
        subprocess.run(["ip", "netns", "del", ns.name], check=False, capture_output=True)
