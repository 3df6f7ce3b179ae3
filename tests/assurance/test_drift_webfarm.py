"""Drift on a real webfarm (local VIM, root): faults injected into real VNFCs.

Instantiated through the real CLI (``lifecycle`` fixture), then one sync pass
after each fault, with the VIM driver's own discovery and real probes:
a killed web daemon -> VNFC_UNHEALTHY (after the probe's threshold), a VNFC
namespace deleted by name -> VNFC_MISSING, a VNFC whose interfaces were set
down behind our back -> POWER_STATE; and the instance's resources are orphans
once its record is gone. The cost of each pass is printed (pytest -s).
"""

from __future__ import annotations

import functools
import os
import signal
import subprocess
from typing import Any

import pytest

from tests.assurance.helpers import need_root
from tests.integration.conftest import WEBFARM, Lifecycle, daemon_processes
from vnfm_runner.assurance.drift import DriftKind
from vnfm_runner.assurance.health import HEALTH_HEALTHY, ProbeRunner
from vnfm_runner.assurance.orphans import local_marked_resources
from vnfm_runner.assurance.sync import InstanceSpec, SyncReport, sync_pass, vim_discovery
from vnfm_runner.core import load_vnf

pytestmark = [pytest.mark.root, pytest.mark.timeout(900)]


def spec_of(lc: Lifecycle, instance_id: str) -> InstanceSpec:
    row = lc.service().store.instance(instance_id)
    plan: dict[str, Any] = row.desired_state
    model, _ = load_vnf(WEBFARM)
    flavour = model.flavour(plan["flavourId"])
    assert flavour is not None
    return InstanceSpec(instance_id, plan, flavour.health_probes)


def kinds(report: SyncReport, inst: str) -> list[tuple[str, str | None]]:
    """This instance's drifts (other tests may run instances on this host meanwhile)."""
    return [(d.kind.value, d.vnfc_id) for d in report.drifts if d.instance_id == inst]


def test_drift_of_a_real_webfarm(lifecycle: Lifecycle) -> None:
    need_root()
    lc = lifecycle
    inst = lc.create(lc.onboard(), name="assurance-drift")
    lc.cli_ok("instantiate", inst, "--flavour", "default", "--level", "small", "-q")
    spec = spec_of(lc, inst)
    runner = ProbeRunner()
    one_pass = functools.partial(
        sync_pass,
        [spec],
        discover=vim_discovery(),
        prober=runner.run,
        list_marked=functools.partial(local_marked_resources, known_instance_ids=[inst]),
        known_instance_ids=[inst],
    )

    clean = one_pass()
    clean = one_pass()  # measured once warm (the driver and the model are imported)
    print("clean pass:", clean.cost_per_instance(), clean.instances[0].as_dict()["cost"])
    assert kinds(clean, inst) == [], [d.as_dict() for d in clean.drifts]
    health = {r.target.vnfc_id: r.health for r in clean.instances[0].health}
    assert health == {"lb-0": HEALTH_HEALTHY, "web-0": HEALTH_HEALTHY, "web-1": HEALTH_HEALTHY}

    # kill -9 the web daemon of web-0: unhealthy after the threshold (2), not before
    (pid,) = [p for p, cmd in daemon_processes(inst).items() if "/web-0/" in cmd]
    os.kill(pid, signal.SIGKILL)
    assert kinds(one_pass(), inst) == []
    report = one_pass()
    print("unhealthy pass:", report.cost_per_instance())
    assert kinds(report, inst) == [("VNFC_UNHEALTHY", "web-0")]
    (drift,) = report.instances[0].drifts
    assert drift.resource_id == f"vnfm-{inst}-web-0"
    assert "connection refused" in drift.detail
    lb = next(r for r in report.instances[0].health if r.target.vnfc_id == "lb-0")
    assert lb.health == HEALTH_HEALTHY  # the load balancer still serves through web-1

    # ip netns del of web-1: missing (its daemon runs on in the unnamed namespace)
    subprocess.run(["ip", "netns", "del", f"vnfm-{inst}-web-1"], check=True)
    report = one_pass()
    assert ("VNFC_MISSING", "web-1") in kinds(report, inst)
    assert not any(d.vnfc_id == "web-1" and d.kind != DriftKind.VNFC_MISSING for d in report.drifts)

    # lb-0 stopped behind our back (every interface down): its power state differs
    lb_ns = f"vnfm-{inst}-lb-0"
    links = subprocess.run(
        ["ip", "-n", lb_ns, "-o", "link", "show"], check=True, capture_output=True, text=True
    ).stdout
    for line in links.splitlines():
        name = line.split(":")[1].strip().split("@")[0]
        subprocess.run(["ip", "-n", lb_ns, "link", "set", name, "down"], check=True)
    report = one_pass()
    power = [d for d in report.drifts if d.kind == DriftKind.POWER_STATE]
    assert [(d.vnfc_id, d.expected, d.observed) for d in power] == [("lb-0", "on", "off")]
    assert all(d.kind != DriftKind.ORPHAN for d in report.drifts if d.instance_id == inst)

    # the record goes (forced deletion): everything of the instance is an orphan
    orphaned = sync_pass(
        [],
        discover=vim_discovery(),
        list_marked=local_marked_resources,
        known_instance_ids=set(),
    ).orphans
    mine = sorted((d.observed, d.resource_id) for d in orphaned if d.instance_id == inst)
    netns = [r for kind, r in mine if kind == "netns"]
    assert netns == sorted([f"vnfm-{inst}-lb-0", f"vnfm-{inst}-vim", f"vnfm-{inst}-web-0"])
    assert [kind for kind, _ in mine].count("host-link") == 1  # the LB's external port
    assert f"/run/vnfm/{inst}" in [r for kind, r in mine if kind == "directory"]
