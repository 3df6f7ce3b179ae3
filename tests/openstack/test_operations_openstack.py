"""Every SOL003 operation through the real service (``vnfm_runner.Vnfm``) on the OpenStack
test bed, each checked on the VIM itself with openstacksdk (admin), not only in our records.

One webfarm instance serves the module (instantiated ``small`` once on a registered VIM,
in a module-scoped fixture); the tests run in file order and each starts from the state
the previous one left. Package hooks are off (``vnfm_hooks: false``): the bed's servers
run nothing. Real ansible-runner, real Nova/Neutron/Cinder; nothing mocked.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.openstack.test_openstack_vim import (
    _from_fixture,
    _testbed_up,
    add_bed_vim,
    brute_force_cleanup,
    leftovers,
    prefix_of,
    tag_of,
)

openstack = pytest.importorskip("openstack")

pytestmark = [pytest.mark.openstack, pytest.mark.timeout(2400)]

REPO = Path(__file__).resolve().parents[2]
WEBFARM = REPO / "examples" / "packages" / "webfarm"
WEBFARM_VNFD = "8c6a1e5f-2b7d-4f1a-9c3e-5d0b7a4e2f61"
NO_HOOKS = {"vnfm_hooks": False}  # the bed has no data plane: nothing to configure
PUBLIC_LINK = {"id": "ext", "resourceId": "public", "extCps": [{"cpdId": "lb_ext_cp"}]}
EXT2_CIDR, EXT2_ADDRESS = "198.51.100.0/24", "198.51.100.20"


# -- the VIM as openstacksdk sees it ------------------------------------------------------------
@dataclass
class Snapshot:
    servers: dict[str, Any]  # VNFC id -> server
    ports: dict[str, Any]  # port name -> port
    volumes: dict[str, Any]  # volume name -> volume
    groups: list[Any]  # the instance's server groups

    def ids(self) -> dict[str, str]:
        return {vnfc: s.id for vnfc, s in self.servers.items()}

    def status(self) -> dict[str, str]:
        return {vnfc: s.status for vnfc, s in self.servers.items()}

    def untouched(self) -> dict[str, tuple[str, str, str]]:
        """VNFC id -> (server id, status, updated_at): changes with any Nova action."""
        return {v: (s.id, s.status, s.updated_at) for v, s in self.servers.items()}

    def port_view(self) -> dict[str, tuple[str, str, tuple[str, ...]]]:
        """port name -> (port id, network id, fixed IPs)."""
        return {
            n: (p.id, p.network_id, tuple(sorted(ip["ip_address"] for ip in p.fixed_ips)))
            for n, p in self.ports.items()
        }

    def ips(self, vnfc_id: str) -> dict[str, list[str]]:
        """port name -> fixed IPs, of the ports bound to the VNFC's server."""
        sid = self.servers[vnfc_id].id
        return {
            n: sorted(ip["ip_address"] for ip in p.fixed_ips)
            for n, p in self.ports.items()
            if p.device_id == sid
        }


def snapshot(sdk: Any, inst: str) -> Snapshot:
    prefix = prefix_of(inst)
    servers = {
        (s.metadata or {}).get("vnfm-vnfc", s.name): s
        for s in sdk.compute.servers(details=True, all_projects=True)
        if (s.metadata or {}).get("vnfm-instance") == inst
    }
    volumes = {}
    if sdk.has_service("block-storage"):
        volumes = {
            v.name: v
            for v in sdk.block_storage.volumes(details=True, all_projects=True)
            if (v.metadata or {}).get("vnfm-instance") == inst
        }
    return Snapshot(
        servers=servers,
        ports={p.name: p for p in sdk.network.ports(tags=tag_of(inst))},
        volumes=volumes,
        groups=[
            g
            for g in sdk.compute.server_groups(all_projects=True)
            if g.name.startswith(prefix + "-")
        ],
    )


# -- the module's instance ----------------------------------------------------------------------
@dataclass
class Farm:
    svc: Any  # vnfm_runner.lcm.Vnfm
    home: Path
    sdk: Any
    demo: Any  # the driver's project, non-admin
    id: str
    one_host: bool
    cinder: bool
    times: list[tuple[str, float]] = field(default_factory=list)
    networks: list[str] = field(default_factory=list)  # made by the tests, removed at the end

    def doc(self) -> dict[str, Any]:
        return dict(self.svc.instance(self.id).doc)

    def plan(self) -> dict[str, Any]:
        return dict(self.svc.instance(self.id).desired_state or {})

    def vnfcs(self) -> dict[str, dict[str, Any]]:
        return {v["id"]: v for v in self.plan()["vnfcs"]}

    def snap(self) -> Snapshot:
        return snapshot(self.sdk, self.id)

    def run(self, operation: str, request: dict[str, Any], **kw: Any) -> dict[str, Any]:
        """One operation, waited for; it must complete."""
        params = {**NO_HOOKS, **(request.get("additionalParams") or {})}
        started = time.monotonic()
        op = self.svc.run_operation(
            instance_id=self.id,
            operation=operation,
            request={**request, "additionalParams": params},
            **kw,
        )
        self.times.append((operation, time.monotonic() - started))
        assert op["operationState"] == "COMPLETED", json.dumps(op.get("error"), indent=1)[:4000]
        return dict(op)

    def records_match_the_vim(self) -> Snapshot:
        """The VIM holds exactly the plan's servers, and the records say so (ids, power)."""
        snap = self.snap()
        plan = self.vnfcs()
        assert sorted(snap.servers) == sorted(plan), (sorted(snap.servers), sorted(plan))
        info = self.doc()["instantiatedVnfInfo"]
        recorded = {v["id"]: v for v in info["vnfcResourceInfo"]}
        for vnfc_id, server in snap.servers.items():
            assert recorded[vnfc_id]["computeResource"]["resourceId"] == server.id
            want = "SHUTOFF" if plan[vnfc_id].get("powerState") == "off" else "ACTIVE"
            assert server.status == want, (vnfc_id, server.status)
            power = "off" if want == "SHUTOFF" else "on"
            assert recorded[vnfc_id]["metadata"]["powerState"] == power
            for cp in plan[vnfc_id]["cps"]:
                if cp["ipAddresses"]:  # the planned fixed IPs, on ports of that server
                    assert snap.ips(vnfc_id)[cp["name"]] == sorted(cp["ipAddresses"])
        return snap


def _variant(dst: Path, vnfd_id: str) -> Path:
    """webfarm with another vnfdId (same VDUs and images), its manifest regenerated."""
    shutil.copytree(WEBFARM, dst, ignore=shutil.ignore_patterns("__pycache__"))
    for path in (dst / "Definitions").glob("*.yaml"):
        path.write_text(path.read_text().replace(WEBFARM_VNFD, vnfd_id))
    subprocess.run(
        [sys.executable, str(REPO / "scripts" / "package-manifest.py"), str(dst)],
        check=True,
        capture_output=True,
    )
    return dst


@pytest.fixture(scope="module")
def farm(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Farm]:
    if not _testbed_up():
        pytest.skip("the OpenStack test bed is not up (scripts/openstack-testbed up)")
    bed = request.getfixturevalue("openstack_cloud")
    cloud = _from_fixture(bed)
    from vnfm_runner.lcm import Vnfm
    from vnfm_runner.settings import Settings

    sdk, demo = bed.connect(cloud.admin), bed.connect(cloud.demo)
    one_host = len(list(sdk.compute.hypervisors())) <= 1
    home = tmp_path_factory.mktemp("os-operations") / "vnfm-home"
    svc = Vnfm.open(Settings(home=home, default_vim="local"), recover=False)
    add_bed_vim(svc, cloud=cloud.demo, clouds_file=cloud.path, one_host=one_host)
    pkg = svc.onboard(WEBFARM)
    inst = svc.create(vnfd_id=pkg.vnfd_id, name="os-operations")["id"]
    farm = Farm(svc, home, sdk, demo, inst, one_host, sdk.has_service("block-storage"))
    try:
        started = time.monotonic()
        op = svc.instantiate(
            instance_id=inst,
            request={
                "flavourId": "default",
                "instantiationLevelId": "small",
                "extVirtualLinks": [PUBLIC_LINK],
                "additionalParams": NO_HOOKS,
            },
            vim_name="bed",
        )
        farm.times.append(("INSTANTIATE", time.monotonic() - started))
        assert op["operationState"] == "COMPLETED", json.dumps(op.get("error"))[:4000]
        yield farm
    finally:
        row = svc.store.instance(inst)
        if row is not None and row.instantiation_state == "INSTANTIATED":
            with contextlib.suppress(Exception):
                svc.terminate(
                    instance_id=inst,
                    request={"terminationType": "FORCEFUL", "additionalParams": NO_HOOKS},
                )
        brute_force_cleanup(sdk, inst)
        for net in farm.networks:
            with contextlib.suppress(Exception):
                sdk.network.delete_network(net)
        print("\noperation times on the bed: " + ", ".join(f"{o} {t:.1f}s" for o, t in farm.times))


# -- the tests, in order ------------------------------------------------------------------------
def test_instantiated_servers_ports_groups_and_volumes(farm: Farm) -> None:
    snap = farm.records_match_the_vim()
    assert sorted(snap.servers) == ["lb-0", "web-0", "web-1"]
    assert farm.doc()["instantiatedVnfInfo"]["vnfState"] == "STARTED"
    (group,) = snap.groups
    assert group.policy == ("soft-anti-affinity" if farm.one_host else "anti-affinity")
    assert set(group.member_ids) == {snap.servers["web-0"].id, snap.servers["web-1"].id}
    if farm.cinder:
        for vnfc in ("web-0", "web-1"):
            (vol,) = [v for v in snap.volumes.values() if v.metadata.get("vnfm-vnfc") == vnfc]
            assert [a["server_id"] for a in vol.attachments] == [snap.servers[vnfc].id]


def test_scale_out_to_level_and_in(farm: Farm) -> None:
    before = farm.snap()
    farm.run("SCALE", {"type": "SCALE_OUT", "aspectId": "web", "numberOfSteps": 1})
    out = farm.records_match_the_vim()
    assert sorted(out.servers) == ["lb-0", "web-0", "web-1", "web-2"]
    for vnfc in ("lb-0", "web-0", "web-1"):  # nothing else touched
        assert out.untouched()[vnfc] == before.untouched()[vnfc]
    web2 = farm.vnfcs()["web-2"]
    (cp,) = web2["cps"]
    assert out.ips("web-2") == {cp["name"]: cp["ipAddresses"]} and cp["ipAddresses"]
    (group,) = out.groups
    webs = {out.servers[v].id for v in ("web-0", "web-1", "web-2")}
    assert set(group.member_ids) == webs
    if farm.cinder:
        assert any(v.metadata.get("vnfm-vnfc") == "web-2" for v in out.volumes.values())

    farm.run("SCALE_TO_LEVEL", {"instantiationLevelId": "large"})
    large = farm.records_match_the_vim()
    assert sorted(large.servers) == ["lb-0", "web-0", "web-1", "web-2", "web-3"]
    assert large.ids()["web-2"] == out.ids()["web-2"]
    (group,) = large.groups
    assert len(group.member_ids) == 4

    farm.run("SCALE", {"type": "SCALE_IN", "aspectId": "web", "numberOfSteps": 2})
    back = farm.records_match_the_vim()
    assert back.ids() == before.ids()
    assert back.port_view() == before.port_view()  # web-2/3's ports gone, the others kept
    (group,) = back.groups
    assert set(group.member_ids) == {before.servers["web-0"].id, before.servers["web-1"].id}
    assert sorted(back.volumes) == sorted(before.volumes)


def test_operate_one_vnfc_forceful_stop_then_start(farm: Farm) -> None:
    before = farm.snap()
    started = time.monotonic()
    farm.run(
        "OPERATE",
        {"changeStateTo": "STOPPED", "stopType": "FORCEFUL", "vnfcInstanceId": ["web-1"]},
    )
    print(f"\nstop 1 server (FORCEFUL), whole operation: {time.monotonic() - started:.1f}s")
    stopped = farm.records_match_the_vim()
    assert stopped.status() == {"lb-0": "ACTIVE", "web-0": "ACTIVE", "web-1": "SHUTOFF"}
    assert stopped.ids() == before.ids() and stopped.port_view() == before.port_view()
    for vnfc in ("lb-0", "web-0"):
        assert stopped.untouched()[vnfc] == before.untouched()[vnfc]
    info = farm.doc()["instantiatedVnfInfo"]
    assert info["vnfState"] == "STARTED"  # one VNFC stopped, not the VNF
    assert {v["id"]: v["vnfcState"] for v in info["vnfcInfo"]}["web-1"] == "STOPPED"

    farm.run("OPERATE", {"changeStateTo": "STARTED", "vnfcInstanceId": ["web-1"]})
    started_again = farm.records_match_the_vim()
    assert set(started_again.status().values()) == {"ACTIVE"}
    assert started_again.ids() == before.ids()


def test_operate_whole_vnf_graceful_stop_and_scale_out_while_stopped(farm: Farm) -> None:
    before = farm.snap()
    started = time.monotonic()
    op = farm.run("OPERATE", {"changeStateTo": "STOPPED", "gracefulStopTimeout": 30})
    took = time.monotonic() - started
    print(f"\nstop {len(before.servers)} servers (GRACEFUL), whole operation: {took:.1f}s")
    stopped = farm.records_match_the_vim()
    assert set(stopped.status().values()) == {"SHUTOFF"}
    assert stopped.ids() == before.ids() and stopped.port_view() == before.port_view()
    assert farm.doc()["instantiatedVnfInfo"]["vnfState"] == "STOPPED"
    changed = {c["id"] for c in op["resourceChanges"]["affectedVnfcs"]}
    assert changed == set(before.servers)  # each VNFC's power changed, reported as such

    # a VNFC created while the VNF is stopped is stopped once created
    farm.run("SCALE", {"type": "SCALE_OUT", "aspectId": "web", "numberOfSteps": 1})
    grown = farm.records_match_the_vim()
    assert grown.status() == {v: "SHUTOFF" for v in ("lb-0", "web-0", "web-1", "web-2")}
    assert {v: grown.ids()[v] for v in before.servers} == before.ids()


def test_rollback_of_an_interrupted_scale_in(farm: Farm) -> None:
    """A scale-in cancelled (FORCEFUL) once the VIM began removing web-2, then rolled
    back: web-2 is back on its ports, with its fixed IP and volume, still stopped."""
    from vnfm_runner.lcm import Vnfm
    from vnfm_runner.settings import Settings

    before = farm.snap()
    web2_ips = before.ips("web-2")
    other = Vnfm.open(Settings(home=farm.home, default_vim="local"), recover=False)
    result: dict[str, Any] = {}

    def scale_in() -> None:
        result["op"] = other.run_operation(
            instance_id=farm.id,
            operation="SCALE",
            request={
                "type": "SCALE_IN",
                "aspectId": "web",
                "numberOfSteps": 1,
                "additionalParams": NO_HOOKS,
            },
        )

    worker = threading.Thread(target=scale_in)
    worker.start()
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and worker.is_alive():
        server = farm.sdk.compute.find_server(before.servers["web-2"].id, all_projects=True)
        if server is None or server.task_state == "deleting" or server.status == "DELETED":
            break  # the reconcile is under way: stop the job now
        time.sleep(0.2)
    ops = farm.svc.store.operations(farm.id)
    op_id = ops[-1].id
    if not worker.is_alive():
        pytest.fail(f"the scale-in ended before it could be cancelled: {result}")
    farm.svc.cancel(op_id, "FORCEFUL")
    worker.join(300)
    failed = farm.svc.operation(op_id)
    assert failed["operationState"] == "FAILED_TEMP", failed
    assert "cancel" in json.dumps(failed["error"]).lower()

    rolled = farm.svc.rollback(op_id)
    assert rolled["operationState"] == "ROLLED_BACK", json.dumps(rolled.get("error"))[:4000]
    after = farm.records_match_the_vim()
    assert sorted(after.servers) == sorted(before.servers)
    assert after.ips("web-2") == web2_ips
    assert after.status()["web-2"] == "SHUTOFF"  # the plan before: the VNF is stopped
    print(
        "\nrollback: web-2 "
        + ("recreated" if after.ids()["web-2"] != before.ids()["web-2"] else "kept")
    )
    if farm.cinder:
        (vol,) = [v for v in after.volumes.values() if v.metadata.get("vnfm-vnfc") == "web-2"]
        assert [a["server_id"] for a in vol.attachments] == [after.servers["web-2"].id]
    (group,) = after.groups
    assert after.servers["web-2"].id in group.member_ids

    started = time.monotonic()
    farm.run("OPERATE", {"changeStateTo": "STARTED"})
    print(f"start {len(after.servers)} servers, whole operation: {time.monotonic() - started:.1f}s")
    running = farm.records_match_the_vim()
    assert set(running.status().values()) == {"ACTIVE"} and running.ids() == after.ids()


def test_heal_recreates_the_server_on_its_ports_and_volume(farm: Farm) -> None:
    before = farm.snap()
    farm.run("HEAL", {"vnfcInstanceId": ["web-0"]})
    after = farm.records_match_the_vim()
    assert after.ids()["web-0"] != before.ids()["web-0"]
    assert after.ips("web-0") == before.ips("web-0")
    assert after.port_view() == before.port_view()  # same ports, moved to the new server
    for vnfc in set(before.servers) - {"web-0"}:
        assert after.untouched()[vnfc] == before.untouched()[vnfc]
    if farm.cinder:
        (vol,) = [v for v in after.volumes.values() if v.metadata.get("vnfm-vnfc") == "web-0"]
        assert [a["server_id"] for a in vol.attachments] == [after.servers["web-0"].id]
        assert vol.id == next(v.id for v in before.volumes.values() if v.name == vol.name)
    (group,) = after.groups
    assert after.servers["web-0"].id in group.member_ids


def test_change_external_connectivity_moves_the_external_port(farm: Farm) -> None:
    # a network of the driver's own project: its owner may choose fixed IPs on it
    net = farm.demo.network.create_network(name=f"vnfm-test-ext-{uuid.uuid4().hex[:8]}")
    farm.networks.append(net.id)
    farm.demo.network.create_subnet(
        network_id=net.id, cidr=EXT2_CIDR, ip_version=4, is_dhcp_enabled=False
    )
    before = farm.snap()
    cp_config = {
        "lb-0": {
            "cpProtocolData": [
                {
                    "layerProtocol": "IP_OVER_ETHERNET",
                    "ipOverEthernet": {
                        "ipAddresses": [{"type": "IPV4", "fixedAddresses": [EXT2_ADDRESS]}]
                    },
                }
            ]
        }
    }
    link = {
        "id": "ext",
        "resourceId": net.id,
        "extCps": [{"cpdId": "lb_ext_cp", "cpConfig": cp_config}],
    }
    farm.run("CHANGE_EXT_CONN", {"extVirtualLinks": [link]})
    after = farm.records_match_the_vim()
    (ext_name,) = [n for n in after.ports if n.endswith("-lb_ext_cp")]
    port = after.ports[ext_name]
    assert port.network_id == net.id
    assert [ip["ip_address"] for ip in port.fixed_ips] == [EXT2_ADDRESS]
    assert port.device_id == after.servers["lb-0"].id
    assert before.ports[ext_name].network_id != net.id
    for vnfc in ("web-0", "web-1", "web-2"):
        assert after.untouched()[vnfc] == before.untouched()[vnfc]
    (ext,) = farm.doc()["instantiatedVnfInfo"]["extCpInfo"]
    assert ext["extLinkPortId"] == port.id
    addresses = ext["cpProtocolInfo"][0]["ipOverEthernet"]["ipAddresses"][0]["addresses"]
    assert addresses == [EXT2_ADDRESS]


def test_change_package_without_new_images_touches_no_server(farm: Farm, tmp_path: Path) -> None:
    vnfd_id = str(uuid.uuid4())
    farm.svc.onboard(_variant(tmp_path / "webfarm-v2", vnfd_id))
    before = farm.snap()
    farm.run("CHANGE_VNFPKG", {"vnfdId": vnfd_id})
    after = farm.records_match_the_vim()
    assert after.untouched() == before.untouched()
    assert after.port_view() == before.port_view()
    row = farm.svc.instance(farm.id)
    assert row.vnfd_id == vnfd_id and farm.doc()["vnfdId"] == vnfd_id


def test_modify_info_makes_no_vim_call(farm: Farm) -> None:
    before = farm.snap()
    farm.run(
        "MODIFY_INFO",
        {"vnfInstanceName": "renamed on the bed", "metadata": {"owner": "os-operations"}},
    )
    after = farm.snap()
    assert after.untouched() == before.untouched()
    assert after.port_view() == before.port_view()
    assert {n: v.updated_at for n, v in after.volumes.items()} == {
        n: v.updated_at for n, v in before.volumes.items()
    }
    doc = farm.doc()
    assert doc["vnfInstanceName"] == "renamed on the bed"
    assert doc["metadata"]["owner"] == "os-operations"


def test_change_flavour_to_compact(farm: Farm) -> None:
    farm.run(
        "CHANGE_FLAVOUR",
        {
            "newFlavourId": "compact",
            "instantiationLevelId": "single",
            "extVirtualLinks": [PUBLIC_LINK],
        },
    )
    after = farm.records_match_the_vim()
    assert sorted(after.servers) == ["lb-0", "web-0"]
    info = farm.doc()["instantiatedVnfInfo"]
    assert info["flavourId"] == "compact"
    recorded = {v["id"]: v["metadata"]["flavor"] for v in info["vnfcResourceInfo"]}
    for vnfc, server in after.servers.items():
        assert recorded[vnfc] in (server.flavor.get("original_name"), server.flavor.get("name"))
    wanted = {v["name"] for v in farm.plan()["volumes"]}
    assert set(after.volumes) == wanted


def test_terminate_graceful_leaves_nothing(farm: Farm) -> None:
    started = time.monotonic()
    op = farm.svc.terminate(
        instance_id=farm.id,
        request={
            "terminationType": "GRACEFUL",
            "gracefulTerminationTimeout": 10,
            "additionalParams": NO_HOOKS,
        },
    )
    farm.times.append(("TERMINATE GRACEFUL", time.monotonic() - started))
    assert op["operationState"] == "COMPLETED", json.dumps(op.get("error"))[:4000]
    assert leftovers(farm.sdk, farm.id) == {}
    assert farm.svc.instance(farm.id).instantiation_state == "NOT_INSTANTIATED"


def test_terminate_forceful_leaves_nothing(farm: Farm) -> None:
    """Instantiated again (flavour compact), then terminated FORCEFUL."""
    op = farm.svc.instantiate(
        instance_id=farm.id,
        request={
            "flavourId": "compact",
            "extVirtualLinks": [PUBLIC_LINK],
            "additionalParams": NO_HOOKS,
        },
        vim_name="bed",
    )
    assert op["operationState"] == "COMPLETED", json.dumps(op.get("error"))[:4000]
    assert sorted(farm.records_match_the_vim().servers) == ["lb-0", "web-0"]
    started = time.monotonic()
    op = farm.svc.terminate(
        instance_id=farm.id,
        request={"terminationType": "FORCEFUL", "additionalParams": NO_HOOKS},
    )
    farm.times.append(("TERMINATE FORCEFUL", time.monotonic() - started))
    assert op["operationState"] == "COMPLETED", json.dumps(op.get("error"))[:4000]
    assert leftovers(farm.sdk, farm.id) == {}
