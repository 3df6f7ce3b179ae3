"""Operations queued in a server: never expired while it lives, bounded, rolled back if it dies.

One worker (VNFM_WORKERS=1) is held by an instantiation whose instantiate_end hook waits
while a file exists; the operations accepted behind it wait in the server's queue for
several lease lifetimes (VNFM_LEASE_TTL=2 s, so the test does not wait 20 s+) while
recovery passes run (the server's own, and another engine's on the same database):
none of them is rolled back, and each completes once the worker is free. Past
VNFM_QUEUE_DEPTH the API answers 503 with Retry-After and records nothing. A server
killed with operations in its queue leaves them to recovery: rolled back, they never
began. Real server, real local VIM (root).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.server import (
    REPO_ROOT,
    WEBFARM,
    make_server,
    onboard_via_api,
    op_id_of,
    wait_op,
    zip_dir,
)
from tests.integration.conftest import cleanup_instance, requires_root
from vnfm_runner.lcm import Vnfm
from vnfm_runner.settings import Settings

pytestmark = [*requires_root, pytest.mark.timeout(900)]

INST = "/vnflcm/v2/vnf_instances"
OPS = "/vnflcm/v2/vnf_lcm_op_occs"
FINAL = ("COMPLETED", "FAILED_TEMP", "FAILED", "ROLLED_BACK")
TTL = 2.0  # seconds: VNFM_LEASE_TTL of the servers here
NO_HOOKS = {"vnfm_hooks": False}


def held_package(tmp: Path, hold: Path) -> bytes:
    """webfarm whose instantiate_end hook only waits while ``hold`` exists."""
    pkg = shutil.copytree(WEBFARM, tmp / "webfarm-held")
    (pkg / "Scripts" / "instantiate_end.yml").write_text(
        "---\n- name: Hold the worker while the test checks the queue\n  hosts: localhost\n"
        "  gather_facts: false\n  tasks:\n    - name: Wait while the test holds\n"
        f"      ansible.builtin.wait_for:\n        path: {hold}\n        state: absent\n"
        "        timeout: 600\n"
    )
    subprocess.run(
        [sys.executable, str(REPO_ROOT / "scripts" / "package-manifest.py"), str(pkg)],
        check=True,
        capture_output=True,
    )
    return zip_dir(pkg)


class Farm:
    """A server with one worker, its held package, and the instances made on it."""

    def __init__(self, tmp: Path, **settings: str) -> None:
        self.hold = tmp / "HOLD"
        self.hold.touch()
        home = tmp / "home"
        home.mkdir()
        self.server = make_server(home, workers="1", lease_ttl=str(TTL), **settings).start()
        self.client = self.server.client()
        self.vnfd_id = onboard_via_api(self.client, held_package(tmp, self.hold))["vnfdId"]
        self.instances: list[str] = []

    def create(self, name: str) -> str:
        r = self.client.post(INST, json={"vnfdId": self.vnfd_id, "vnfInstanceName": name})
        assert r.status_code == 201, r.text
        iid = str(r.json()["id"])
        self.instances.append(iid)
        return iid

    def instantiate(self, iid: str, **params: Any) -> httpx.Response:
        body: dict[str, Any] = {"flavourId": "default", "instantiationLevelId": "small"}
        if params:
            body["additionalParams"] = params
        return self.client.post(f"{INST}/{iid}/instantiate", json=body)

    def hold_worker(self) -> str:
        """Instantiate one instance with its hook: the one worker waits in the hook."""
        op_id = op_id_of(self.instantiate(self.create("holder")))
        wait_op(self.client, op_id, ("PROCESSING",), timeout=120)
        return op_id

    def state(self, op_id: str) -> str:
        return str(self.client.get(f"{OPS}/{op_id}").json()["operationState"])

    def close(self) -> None:
        self.hold.unlink(missing_ok=True)
        self.client.close()
        self.server.stop()
        for iid in self.instances:
            cleanup_instance(iid)


@pytest.fixture
def farm(tmp_path: Path) -> Iterator[Farm]:
    f = Farm(tmp_path, queue_depth="3")
    try:
        yield f
    finally:
        f.close()


def test_queued_operations_outlive_the_lease_and_complete(farm: Farm) -> None:
    holder = farm.hold_worker()
    # three operations wait behind it: two instantiations (no hooks: they do not hold) and a
    # modification of an instance that is not instantiated
    queued = [
        op_id_of(farm.instantiate(farm.create("queued-1"), **NO_HOOKS)),
        op_id_of(farm.instantiate(farm.create("queued-2"), **NO_HOOKS)),
    ]
    modified = farm.create("queued-3")
    r = farm.client.patch(
        f"{INST}/{modified}",
        json={"vnfInstanceDescription": "changed while queued"},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    queued.append(op_id_of(r))
    accepted = time.monotonic()

    # Queued for several lease lifetimes while the server recovers every TTL, and another
    # engine on the same database (what every `vnfm` command does) recovers too.
    while time.monotonic() - accepted < 4 * TTL:
        time.sleep(0.5)
    assert Vnfm.open(Settings(home=farm.server.home), recover=False).recover() == []
    time.sleep(TTL)
    assert [farm.state(op) for op in queued] == ["STARTING"] * 3
    assert farm.state(holder) == "PROCESSING"
    assert time.monotonic() - accepted > 5 * TTL  # queued far longer than a lease lives

    # the queue (depth 3) is full: 503, Retry-After, and nothing recorded
    refused = farm.create("refused")
    before = farm.client.get(f"{INST}/{refused}").json()
    r = farm.instantiate(refused, **NO_HOOKS)
    assert r.status_code == 503, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert int(r.headers["Retry-After"]) > 0
    assert "queue" in r.json()["detail"]
    assert farm.client.get(OPS, params={"filter": f"(eq,vnfInstanceId,{refused})"}).json() == []
    assert farm.client.get(f"{INST}/{refused}").json() == before
    r = farm.client.patch(
        f"{INST}/{refused}",
        json={"vnfInstanceDescription": "refused"},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert r.status_code == 503, r.text
    assert farm.client.get(f"{INST}/{refused}").json() == before

    farm.hold.unlink()
    done = [wait_op(farm.client, op, FINAL, timeout=400) for op in (holder, *queued)]
    assert [d["operationState"] for d in done] == ["COMPLETED"] * 4, [d.get("error") for d in done]
    doc = farm.client.get(f"{INST}/{modified}").json()
    assert doc["vnfInstanceDescription"] == "changed while queued"
    # a slot is free again: the refused instance is accepted now
    last = op_id_of(farm.instantiate(refused, **NO_HOOKS))
    assert wait_op(farm.client, last, FINAL, timeout=400)["operationState"] == "COMPLETED"


def test_killed_server_leaves_its_queue_to_recovery(farm: Farm) -> None:
    holder = farm.hold_worker()
    queued_inst = farm.create("queued-inst")
    queued = [op_id_of(farm.instantiate(queued_inst, **NO_HOOKS))]
    modified = farm.create("queued-mod")
    r = farm.client.patch(
        f"{INST}/{modified}",
        json={"vnfInstanceDescription": "never applied"},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    queued.append(op_id_of(r))

    proc = farm.server.proc
    assert proc is not None
    os.killpg(proc.pid, signal.SIGKILL)  # the server and its playbook run
    proc.wait(timeout=10)
    killed = time.monotonic()

    farm.server.start()  # same home and port, a new engine
    deadline = killed + 30
    states: list[str] = []
    while time.monotonic() < deadline:
        states = [farm.state(op) for op in (holder, *queued)]
        if all(s in FINAL for s in states):
            break
        time.sleep(0.5)
    assert states == ["FAILED_TEMP", "ROLLED_BACK", "ROLLED_BACK"], states
    for op in queued:
        doc = farm.client.get(f"{OPS}/{op}").json()
        assert "stopped before it began" in doc["error"]["detail"]
    inst = farm.client.get(f"{INST}/{queued_inst}").json()
    assert inst["instantiationState"] == "NOT_INSTANTIATED"
    assert farm.client.get(f"{INST}/{modified}").json().get("vnfInstanceDescription") != (
        "never applied"
    )
    # the holder's instantiation is rolled back by the NFVO's ask: nothing stays on the VIM
    farm.hold.unlink()
    r = farm.client.post(f"{OPS}/{holder}/rollback")
    assert r.status_code == 202, r.text
    deadline = time.monotonic() + 400
    while farm.state(holder) not in ("ROLLED_BACK", "FAILED"):
        assert time.monotonic() < deadline
        time.sleep(0.5)
    assert farm.state(holder) == "ROLLED_BACK"
