"""``vnfm sync`` on real webfarms (root, local VIM), and the delete that would leave orphans.

* an instance in sync, then its web daemon killed: ``vnfm sync ID`` prints the
  difference, ``--format json`` gives it typed, ``vnfm show`` records it
  (``instantiatedVnfInfo.vnfmDrift``);
* an INSTANTIATE failed without rollback and given up (``vnfm op fail``): ``vnfm
  delete`` is refused naming what the VIM still holds; ``--force`` deletes the
  record, ``vnfm sync`` then lists the resources as orphans and ``--clean-orphans``
  removes them all.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import uuid
from pathlib import Path

import pytest

from tests.assurance.helpers import need_root
from tests.integration.conftest import Lifecycle, daemon_processes, instance_netns, leftovers
from tests.integration.test_lifecycle import broken_webfarm

pytestmark = [pytest.mark.root, pytest.mark.timeout(600)]


def test_sync_reports_and_records_drift(lifecycle: Lifecycle) -> None:
    need_root()
    lc = lifecycle
    inst = lc.create(lc.onboard(), name="sync-cli")
    lc.cli_ok("instantiate", inst, "--flavour", "default", "--level", "small", "-q")
    out = lc.cli_ok("sync", inst)
    assert f"{inst}: in sync" in out and "per instance" in out

    (pid,) = [p for p, cmd in daemon_processes(inst).items() if "/web-0/" in cmd]
    os.kill(pid, signal.SIGKILL)
    out = lc.cli_ok("sync", inst)
    assert f"{inst}: 1 difference(s)" in out
    assert "VNFC_UNHEALTHY" in out and "web-0" in out and "connection refused" in out
    report = json.loads(lc.cli_ok("sync", inst, "--format", "json"))
    (one,) = report["instances"]
    assert [(d["kind"], d["vnfcInstanceId"]) for d in one["drifts"]] == [
        ("VNFC_UNHEALTHY", "web-0")
    ]
    assert one["cost"]["totalS"] > 0 and report["cost"]["perInstance"]["cpuS"] >= 0
    (drift,) = lc.show(inst)["instantiatedVnfInfo"]["vnfmDrift"]
    assert drift["resourceId"] == f"vnfm-{inst}-web-0" and drift["since"]

    assert lc.cli("sync", "no-such-instance").returncode != 0


def test_delete_refused_then_orphans_cleaned(lifecycle: Lifecycle) -> None:
    need_root()
    lc = lifecycle
    inst = lc.create(lc.onboard(broken_webfarm(lc.tmp / "webfarm-broken")))
    proc = lc.cli("instantiate", inst, "--flavour", "default", "--level", "small", "-q",
                  "--no-rollback")  # fmt: skip
    assert proc.returncode != 0
    (op,) = lc.service().store.operations(inst)
    assert op.state == "FAILED_TEMP"
    lc.cli_ok("op", "fail", op.id)
    held = instance_netns(inst)
    assert len(held) == 4  # lb-0, web-0, web-1 and the instance's VIM namespace

    refused = lc.cli("delete", inst)
    assert refused.returncode != 0
    assert all(ns in refused.stderr for ns in held), refused.stderr
    assert "--force" in refused.stderr
    lc.cli_ok("delete", inst, "--force")

    report = json.loads(lc.cli_ok("sync", "--format", "json"))
    mine = [o for o in report["orphans"] if o["vnfInstanceId"] == inst]
    assert sorted(o["resourceId"] for o in mine if o["observed"] == "netns") == sorted(held)
    # Another VNFM's instance on the same host (no operation of this store made it).
    foreign = str(uuid.uuid4())
    foreign_dir = Path("/run/vnfm") / foreign  # a runtime directory: one of the local marks
    foreign_dir.mkdir(parents=True)
    try:
        out = lc.cli_ok("sync", "--clean-orphans")
        assert f"removed the orphans of {inst}" in out
        assert f"left alone: {foreign}" in out, out
        assert foreign_dir.is_dir()
    finally:
        shutil.rmtree(foreign_dir, ignore_errors=True)
    assert leftovers(inst) == {}
    report = json.loads(lc.cli_ok("sync", "--format", "json"))
    assert [o for o in report["orphans"] if o["vnfInstanceId"] == inst] == []
