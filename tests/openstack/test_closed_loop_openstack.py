"""The closed loop on the OpenStack test bed, for real: ``vnfm serve`` with its watcher,
webfarm instantiated on a registered OpenStack VIM (no hooks: the bed has no data plane,
so nothing is probed and only the VIM side is watched), a Nova server deleted behind the
VNFM's back with openstacksdk (admin), straight on the bed.

* auto-heal on (the package's default): the missing server is drift
  (``instantiatedVnfInfo.vnfmDrift``: VNFC_MISSING) and an alarm (``GET
  /vnffm/v1/alarms``), then ONE automatic HEAL (``isAutomaticInvocation``) COMPLETED,
  the server is back on the bed, the alarm cleared and the drift gone;
* auto-heal off (switched with a modification, ``PATCH``): another server deleted is
  drift and an alarm only; no heal, the server stays missing;
* orphans: a Neutron network tagged with an instance id the VNFM does not hold is an
  orphan of the VIM (the OpenStack lister behind the driver's ``marked_instances``):
  counted on ``/metrics``, listed by ``vnfm sync``, removed by the driver's own removal;
  the instance's own resources are not orphans.

Real Nova/Neutron/Cinder, real ansible-runner; nothing mocked. Times are printed (-s).
"""

from __future__ import annotations

import contextlib
import json
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.api.server import Server, make_server, wait_op
from tests.integration.conftest import wait_until
from tests.openstack.test_openstack_vim import (
    _from_fixture,
    _testbed_up,
    add_bed_vim,
    brute_force_cleanup,
)

openstack = pytest.importorskip("openstack")

pytestmark = [pytest.mark.openstack, pytest.mark.timeout(900)]

REPO = Path(__file__).resolve().parents[2]
WEBFARM = REPO / "examples" / "packages" / "webfarm"
NO_HOOKS = {"vnfm_hooks": False}  # the bed has no data plane: nothing to configure
PUBLIC_LINK = {"id": "ext", "resourceId": "public", "extCps": [{"cpdId": "lb_ext_cp"}]}
FM = {"Version": "1.3.0"}
REMOTE_INTERVAL = 5  # VNFM_WATCH_REMOTE_INTERVAL: the bed is read every 5 s


@dataclass
class Bed:
    srv: Server
    sdk: Any  # admin: the test's own view of the bed
    demo: Any  # the VIM's project, as the VNFM uses it
    inst: str
    times: dict[str, float]


def _servers(sdk: Any, inst: str) -> dict[str, Any]:
    """VNFC id -> Nova server of the instance (admin, all projects)."""
    return {
        (s.metadata or {}).get("vnfm-vnfc", s.name): s
        for s in sdk.compute.servers(details=True, all_projects=True)
        if (s.metadata or {}).get("vnfm-instance") == inst
    }


@pytest.fixture(scope="module")
def bed(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bed]:
    if not _testbed_up():
        if os.environ.get("CI"):
            pytest.fail("the OpenStack test bed is not up (scripts/openstack-testbed up)")
        pytest.skip("the OpenStack test bed is not up (scripts/openstack-testbed up)")
    cloud = _from_fixture(request.getfixturevalue("openstack_cloud"))
    bed_cloud = request.getfixturevalue("openstack_cloud")
    sdk, demo = bed_cloud.connect(cloud.admin), bed_cloud.connect(cloud.demo)
    one_host = len(list(sdk.compute.hypervisors())) <= 1
    home = tmp_path_factory.mktemp("os-closed-loop") / "home"
    home.mkdir()
    srv = make_server(
        home,
        watch="true",
        monitoring="false",  # no data plane: nothing to scrape, probes are not_probed
        watch_remote_interval=str(REMOTE_INTERVAL),
        watch_orphan_interval="5",
        autoheal_cooldown="0",
        api_verify_callback="false",
    )
    svc = srv.service()
    add_bed_vim(svc, cloud=cloud.demo, clouds_file=cloud.path, one_host=one_host)
    pkg = svc.onboard(WEBFARM)
    inst = svc.create(vnfd_id=pkg.vnfd_id, name="os-closed-loop")["id"]
    b = Bed(srv, sdk, demo, inst, {})
    srv.start()
    try:
        started = time.monotonic()
        op = svc.instantiate(  # in this process, on the server's store (the server waits)
            instance_id=inst,
            request={
                "flavourId": "default",
                "instantiationLevelId": "small",
                "extVirtualLinks": [PUBLIC_LINK],
                "additionalParams": NO_HOOKS,
            },
            vim_name="bed",
        )
        assert op["operationState"] == "COMPLETED", json.dumps(op.get("error"))[:4000]
        b.times["instantiate"] = time.monotonic() - started
        yield b
    finally:
        srv.stop()
        row = svc.store.instance(inst)
        if row is not None and row.instantiation_state == "INSTANTIATED":
            with contextlib.suppress(Exception):
                svc.terminate(
                    instance_id=inst,
                    request={"terminationType": "FORCEFUL", "additionalParams": NO_HOOKS},
                )
        brute_force_cleanup(sdk, inst)
        print("\nclosed loop on the bed: " + ", ".join(f"{k} {v:.1f}s" for k, v in b.times.items()))


def _doc(c: Any, inst: str) -> dict[str, Any]:
    r = c.get(f"/vnflcm/v2/vnf_instances/{inst}")
    assert r.status_code == 200, r.text
    return dict(r.json())


def _drift(c: Any, inst: str) -> list[dict[str, Any]]:
    return list(_doc(c, inst)["instantiatedVnfInfo"].get("vnfmDrift") or [])


def _alarms(c: Any, inst: str) -> list[dict[str, Any]]:
    r = c.get("/vnffm/v1/alarms", params={"filter": f"(eq,managedObjectId,{inst})"}, headers=FM)
    assert r.status_code == 200, r.text
    return list(r.json())


def _heals(c: Any, inst: str) -> list[dict[str, Any]]:
    r = c.get(
        "/vnflcm/v2/vnf_lcm_op_occs",
        params={"filter": f"(eq,vnfInstanceId,{inst});(eq,operation,HEAL)"},
    )
    assert r.status_code == 200, r.text
    return list(r.json())


def _delete_server(sdk: Any, server: Any) -> None:
    sdk.compute.delete_server(server.id)
    sdk.compute.wait_for_delete(server, wait=60)


def test_missing_server_is_drift_alarm_and_healed_then_only_reported(bed: Bed) -> None:
    srv, sdk, inst = bed.srv, bed.sdk, bed.inst
    before = _servers(sdk, inst)
    assert sorted(before) == ["lb-0", "web-0", "web-1"]
    with srv.client() as c:
        assert _doc(c, inst).get("vnfConfigurableProperties", {}).get("isAutohealEnabled") in (
            True,
            None,
        )
        time.sleep(REMOTE_INTERVAL + 2)  # the watcher has read the bed: nothing to say
        assert (_drift(c, inst), _alarms(c, inst)) == ([], [])

        # -- auto-heal on: web-0's server deleted behind our back ------------------------------
        t0 = time.monotonic()
        _delete_server(sdk, before["web-0"])

        def missing() -> list[dict[str, Any]]:
            return [
                a
                for a in _alarms(c, inst)
                if a["faultType"] == "VNFC_MISSING" and a["vnfcInstanceIds"] == ["web-0"]
            ]

        assert wait_until(missing, 4 * REMOTE_INTERVAL, 0.2), _alarms(c, inst)
        bed.times["fault -> alarm"] = time.monotonic() - t0
        (alarm,) = missing()
        assert alarm["perceivedSeverity"] == "CRITICAL"
        assert alarm["rootCauseFaultyResource"]["faultyResource"]["vimConnectionId"] == "bed"
        # a server caught while Nova deletes it may first read as other drift of web-0
        print("\nalarms of the fault: " + ", ".join(a["faultType"] for a in _alarms(c, inst)))
        assert {tuple(a["vnfcInstanceIds"]) for a in _alarms(c, inst)} == {("web-0",)}

        def healed() -> bool:
            return any(h["operationState"] == "COMPLETED" for h in _heals(c, inst))

        assert wait_until(healed, 240, 0.5), _heals(c, inst)
        bed.times["fault -> heal COMPLETED"] = time.monotonic() - t0
        (listed,) = _heals(c, inst)
        heal = c.get(f"/vnflcm/v2/vnf_lcm_op_occs/{listed['id']}").json()
        assert heal["isAutomaticInvocation"] is True
        assert heal["operationParams"]["vnfcInstanceId"] == ["web-0"]
        assert "web-0" in heal["operationParams"]["cause"]  # the drift that made it
        after = _servers(sdk, inst)
        assert sorted(after) == ["lb-0", "web-0", "web-1"]
        assert after["web-0"].id != before["web-0"].id and after["web-0"].status == "ACTIVE"
        assert {v: after[v].id for v in ("lb-0", "web-1")} == {
            v: before[v].id for v in ("lb-0", "web-1")
        }
        recorded = {
            v["id"]: v["computeResource"]["resourceId"]
            for v in _doc(c, inst)["instantiatedVnfInfo"]["vnfcResourceInfo"]
        }
        assert recorded["web-0"] == after["web-0"].id

        def cleared() -> bool:
            alarms = _alarms(c, inst)
            return bool(alarms) and all(a["perceivedSeverity"] == "CLEARED" for a in alarms)

        assert wait_until(cleared, 4 * REMOTE_INTERVAL, 0.5), _alarms(c, inst)
        bed.times["fault -> alarm cleared"] = time.monotonic() - t0
        assert _drift(c, inst) == []
        assert len(_heals(c, inst)) == 1  # one fault, one heal

        # -- auto-heal off: web-1's server deleted, reported only -------------------------------
        r = c.patch(
            f"/vnflcm/v2/vnf_instances/{inst}",
            json={"vnfConfigurableProperties": {"isAutohealEnabled": False}},
            headers={"Content-Type": "application/merge-patch+json"},
        )
        assert r.status_code == 202, r.text
        op = wait_op(c, r.headers["Location"].rsplit("/", 1)[1], ("COMPLETED", "FAILED_TEMP"))
        assert op["operationState"] == "COMPLETED", op
        t1 = time.monotonic()
        _delete_server(sdk, after["web-1"])

        def reported() -> bool:
            drift = _drift(c, inst)
            return [(d["kind"], d["vnfcInstanceId"]) for d in drift] == [
                ("VNFC_MISSING", "web-1")
            ] and any(a["perceivedSeverity"] != "CLEARED" for a in _alarms(c, inst))

        assert wait_until(reported, 4 * REMOTE_INTERVAL, 0.5), (_drift(c, inst), _alarms(c, inst))
        bed.times["fault -> drift and alarm (auto-heal off)"] = time.monotonic() - t1
        (open_alarm,) = [a for a in _alarms(c, inst) if a["perceivedSeverity"] != "CLEARED"]
        assert open_alarm["vnfcInstanceIds"] == ["web-1"]
        time.sleep(3 * REMOTE_INTERVAL)  # three more reads of the bed: nothing is done
        assert len(_heals(c, inst)) == 1
        assert sorted(_servers(sdk, inst)) == ["lb-0", "web-0"]
        assert _drift(c, inst)[0]["kind"] == "VNFC_MISSING"


def test_orphans_of_the_openstack_vim(bed: Bed) -> None:
    """A network tagged with an instance id the VNFM does not hold is an orphan."""
    srv, demo, inst = bed.srv, bed.demo, bed.inst
    ghost = str(uuid.uuid4())
    net = demo.network.create_network(name=f"orphan-{ghost[:8]}", description="test orphan")
    try:
        demo.network.set_tags(net, [f"vnfm-instance={ghost}"])
        t0 = time.monotonic()

        def counted() -> bool:
            with srv.client() as c:
                text = c.get("/metrics").text
            line = next(
                (x for x in text.splitlines() if x.startswith("vnfm_orphan_resources ")), ""
            )
            return bool(line) and float(line.split()[1]) >= 1

        assert wait_until(counted, 30, 0.5)
        bed.times["orphan counted"] = time.monotonic() - t0
        report = json.loads(srv.cli("sync", "--format", "json"))
        orphans = report["orphans"]
        mine = [o for o in orphans if o["vnfInstanceId"] == ghost]
        assert [(o.get("observed"), o.get("resourceId")) for o in mine] == [("network", net.id)], (
            orphans
        )
        assert not [o for o in orphans if o["vnfInstanceId"] == inst]

        from vnfm_runner.assurance.cleanup import clean_orphans
        from vnfm_runner.assurance.drift import Drift, DriftKind

        target = srv.service().vims.resolve("bed", None, "bed")
        done = clean_orphans(
            [Drift(DriftKind.ORPHAN, ghost)],
            where={ghost: [(target.name, target.connection, target.credentials)]},
        )
        assert done == {ghost: None}
        assert demo.network.find_network(net.id) is None
    finally:
        with contextlib.suppress(Exception):
            demo.network.delete_network(net.id)
