"""Integration tests of the ``openstack`` VIM driver against a REAL OpenStack.

They run against the project's test bed (``scripts/openstack-testbed up``): the
``openstack_cloud`` fixture of ``tests/openstack/conftest.py`` when present, else
``OS_CLIENT_CONFIG_FILE``/``OS_CLOUD`` from ``scripts/openstack-testbed env``; they
skip when no cloud answers. What the driver did is checked with openstacksdk
directly, independently of the driver's discovery code. Every test uses its own
instance id and removes it (driver removal, then brute force by tag/name).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ansible_collections.nfv.vnfm.plugins.module_utils.plan.planner import PlanRequest
from ansible_collections.nfv.vnfm.plugins.module_utils.plan.planner import plan as make_plan
from ansible_collections.nfv.vnfm.plugins.module_utils.vim import VimError, get_driver
from ansible_collections.nfv.vnfm.plugins.module_utils.vnfd.loader import load_vnf

openstack = pytest.importorskip("openstack")

REPO = Path(__file__).resolve().parents[2]
WEBFARM = REPO / "examples" / "packages" / "webfarm"
TESTBED = REPO / "scripts" / "openstack-testbed"
COLLECTIONS = REPO / "collections"
IMAGE = "cirros"  # the test bed's image
PUBLIC = "public"


# -- the cloud -----------------------------------------------------------------------------------
class Cloud:
    """clouds.yaml, the admin cloud (inspection) and a non-admin cloud (the driver's)."""

    def __init__(self, path: str, admin: str, demo: str | None) -> None:
        self.path, self.admin = path, admin
        self.demo = demo or admin


def _from_fixture(value: Any) -> Cloud:
    path = getattr(value, "clouds_yaml", None)
    admin = getattr(value, "cloud", None)
    if path is None and isinstance(value, (tuple, list)):
        path, admin = value[0], value[1]
    return Cloud(str(path), str(admin), getattr(value, "demo_cloud", None))


def _from_testbed_env() -> Cloud | None:
    if not TESTBED.exists():
        return None
    try:
        out = subprocess.run(
            [str(TESTBED), "env"], capture_output=True, text=True, timeout=60, check=False
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    found: dict[str, str] = {}
    for line in out.splitlines():
        line = line.strip().removeprefix("export ")
        if "=" in line:
            key, value = line.split("=", 1)
            found[key] = value.strip().strip("'\"")
    path, cloud = found.get("OS_CLIENT_CONFIG_FILE"), found.get("OS_CLOUD")
    if not path or not cloud or not Path(path).is_file():
        return None
    demo = f"{cloud}-demo" if f"{cloud}-demo:" in Path(path).read_text() else None
    return Cloud(path, cloud, demo)


def _testbed_up(tries: int = 4) -> bool:
    """``scripts/openstack-testbed status`` passes (a few tries: it is slow under load)."""
    for attempt in range(tries):
        status = [str(TESTBED), "status"]
        if subprocess.run(status, capture_output=True, timeout=180, check=False).returncode == 0:
            return True
        if attempt + 1 < tries:
            time.sleep(10)
    return False


@pytest.fixture(scope="module")
def cloud(request: pytest.FixtureRequest) -> Iterator[Cloud]:
    """A reachable OpenStack, exported for openstacksdk (``OS_CLIENT_CONFIG_FILE``)."""
    found: Cloud | None
    if TESTBED.exists() and not _testbed_up() and os.environ.get("VNFM_TESTBED") != "up":
        pytest.skip("the OpenStack test bed is not up (scripts/openstack-testbed up)")
    try:
        found = _from_fixture(request.getfixturevalue("openstack_cloud"))
    except pytest.FixtureLookupError:
        found = _from_testbed_env()
    if found is None:
        pytest.skip("no OpenStack test bed (scripts/openstack-testbed up)")
    mp = pytest.MonkeyPatch()
    mp.setenv("OS_CLIENT_CONFIG_FILE", found.path)
    try:
        conn = openstack.connect(cloud=found.admin)
        conn.authorize()
    except Exception as exc:
        mp.undo()
        pytest.skip(f"OpenStack cloud {found.admin!r} does not answer: {exc}")
    yield found
    mp.undo()


@pytest.fixture(scope="module")
def sdk(cloud: Cloud) -> Any:
    """Admin connection for independent inspection (sees every project)."""
    return openstack.connect(cloud=cloud.admin)


@pytest.fixture(scope="module")
def one_host(sdk: Any) -> bool:
    """The test bed has a single compute host: hard anti-affinity fits one server per group."""
    try:
        return len(list(sdk.compute.hypervisors())) <= 1
    except Exception:  # not admin: assume the small bed
        return True


@pytest.fixture
def instances(cloud: Cloud, sdk: Any) -> Iterator[list[str]]:
    """Instance ids a test creates; removed at the end whatever happened."""
    ids: list[str] = []
    yield ids
    for inst in ids:
        with contextlib.suppress(Exception):
            get_driver({"vimType": "openstack", "cloud": cloud.demo}).remove(inst, check_mode=False)
        brute_force_cleanup(sdk, inst)


# -- independent inspection (openstacksdk, not the driver's code) ----------------------------------
def tag_of(inst: str) -> str:
    return f"vnfm-instance={inst}"


def prefix_of(inst: str) -> str:
    return "vnf-" + hashlib.sha256(inst.encode()).hexdigest()[:8]


def leftovers(sdk: Any, inst: str) -> dict[str, list[str]]:
    tag, prefix = tag_of(inst), prefix_of(inst)
    out = {
        "servers": [
            s.name
            for s in sdk.compute.servers(details=True, all_projects=True)
            if s.name.startswith(prefix + "-") or (s.metadata or {}).get("vnfm-instance") == inst
        ],
        "ports": [p.name for p in sdk.network.ports(tags=tag)]
        + [p.name for p in sdk.network.ports() if (p.name or "").startswith(prefix + "-")],
        "networks": [n.name for n in sdk.network.networks(tags=tag)]
        + [n.name for n in sdk.network.networks() if (n.name or "").startswith(prefix + "-")],
        "subnets": [s.name for s in sdk.network.subnets(tags=tag)],
        "security groups": [g.name for g in sdk.network.security_groups(tags=tag)]
        + [g.name for g in sdk.network.security_groups() if (g.name or "").startswith(prefix)],
        "server groups": [
            g.name
            for g in sdk.compute.server_groups(all_projects=True)
            if g.name.startswith(prefix + "-")
        ],
        "floating ips": [f.floating_ip_address for f in sdk.network.ips(tags=tag)],
    }
    if sdk.has_service("block-storage"):
        out["volumes"] = [
            v.name
            for v in sdk.block_storage.volumes(details=True, all_projects=True)
            if (v.metadata or {}).get("vnfm-instance") == inst
            or (v.name or "").startswith(prefix + "-")
        ]
    return {k: v for k, v in out.items() if v}


def brute_force_cleanup(sdk: Any, inst: str) -> None:
    prefix = prefix_of(inst)
    for s in list(sdk.compute.servers(details=True, all_projects=True)):
        if s.name.startswith(prefix + "-"):
            with contextlib.suppress(Exception):
                sdk.compute.delete_server(s.id)
                sdk.compute.wait_for_delete(s, wait=60)

    def named(items: Any) -> list[Any]:  # by tag or by name (a creation cut short is untagged)
        return [
            r
            for r in items
            if tag_of(inst) in (r.tags or []) or (r.name or "").startswith(prefix + "-")
        ]

    for p in named(sdk.network.ports()):
        with contextlib.suppress(Exception):
            sdk.network.delete_port(p.id)
    if sdk.has_service("block-storage"):
        for v in list(sdk.block_storage.volumes(details=True, all_projects=True)):
            if (v.name or "").startswith(prefix + "-"):
                with contextlib.suppress(Exception):
                    sdk.block_storage.delete_volume(v.id, force=True)
    for n in named(sdk.network.networks()):
        with contextlib.suppress(Exception):
            sdk.network.delete_network(n.id)
    for g in named(sdk.network.security_groups()):
        with contextlib.suppress(Exception):
            sdk.network.delete_security_group(g.id)
    for g in list(sdk.compute.server_groups(all_projects=True)):
        if g.name.startswith(prefix + "-"):
            with contextlib.suppress(Exception):
                sdk.compute.delete_server_group(g.id)


def servers_of(sdk: Any, inst: str) -> dict[str, Any]:
    prefix = prefix_of(inst)
    return {
        s.name: s
        for s in sdk.compute.servers(details=True, all_projects=True)
        if s.name.startswith(prefix + "-") and (s.metadata or {}).get("vnfm-instance") == inst
    }


def port_ips(sdk: Any, server_id: str) -> dict[str, list[str]]:
    return {
        p.name: sorted(ip["ip_address"] for ip in p.fixed_ips)
        for p in sdk.network.ports(device_id=server_id)
    }


# -- plans -------------------------------------------------------------------------------------
_MODEL: list[Any] = []


def webfarm_plan(inst: str, webs: int | None = None, **kw: Any) -> dict[str, Any]:
    if not _MODEL:
        _MODEL.append(load_vnf(WEBFARM)[0])
    req = PlanRequest(
        inst,
        "default",
        None if webs is not None else "small",
        scale_levels={"web": webs - 1} if webs is not None else None,
        ext_virtual_links=[{"id": "ext", "resourceId": PUBLIC, "extCps": [{"cpdId": "lb_ext_cp"}]}],
        vim_mapping={"images": {"web": IMAGE, "lb": IMAGE}},
        **kw,
    )
    return make_plan(_MODEL[0], req)


def new_instance(instances: list[str]) -> str:
    inst = str(uuid.uuid4())
    instances.append(inst)
    return inst


def vim_of(cloud: Cloud, one_host: bool, **extra: Any) -> dict[str, Any]:
    return {
        "vimType": "openstack",
        "cloud": cloud.demo,
        "softPlacementPolicies": one_host,
        **extra,
    }


# -- tests -------------------------------------------------------------------------------------

# webfarm's image, and the bed's cirros that stands in for it
BED_IMAGES = {"debian-12-genericcloud": "cirros"}


def add_bed_vim(
    svc: Any, *, cloud: str, clouds_file: str, one_host: bool, name: str = "bed", **options: Any
) -> None:
    """Register the bed as a VIM of ``svc`` as every bed test needs it: webfarm's image
    mapped to cirros, and soft placement on one compute host (hard anti-affinity would
    refuse the second web server)."""
    svc.vims.add(
        name=name,
        vim_type="openstack",
        cloud=cloud,
        clouds_file=clouds_file,
        options={"imageMap": dict(BED_IMAGES), "softPlacementPolicies": one_host, **options},
    )


def test_webfarm_lifecycle(cloud: Cloud, sdk: Any, one_host: bool, instances: list[str]) -> None:
    inst = new_instance(instances)
    drv = get_driver(vim_of(cloud, one_host), timeout=180)
    plan = webfarm_plan(inst)
    cinder = sdk.has_service("block-storage")

    dry = drv.reconcile(plan, heal=[], check_mode=True)
    assert dry.changed and not servers_of(sdk, inst)

    started = time.monotonic()
    first = drv.reconcile(plan, heal=[], check_mode=False)
    took = time.monotonic() - started
    print(f"\nfirst reconcile of webfarm/small (3 VNFCs): {took:.1f}s")
    assert first.changed
    servers = servers_of(sdk, inst)
    assert sorted(servers) == sorted(v["name"] for v in plan["vnfcs"])
    assert {s.status for s in servers.values()} == {"ACTIVE"}
    # planned fixed IPs and MACs on the ports of each server
    for vnfc in plan["vnfcs"]:
        server = servers[vnfc["name"]]
        ips = port_ips(sdk, server.id)
        for cp in vnfc["cps"]:
            assert cp["name"] in ips, (cp["name"], ips)
            if cp["ipAddresses"]:
                assert ips[cp["name"]] == cp["ipAddresses"]
        macs = {p.name: p.mac_address for p in sdk.network.ports(device_id=server.id)}
        internal = [cp for cp in vnfc["cps"] if not cp["extVirtualLinkId"]]
        assert all(macs[cp["name"]] == cp["macAddress"] for cp in internal)
    # external CP on the public network, in its CIDR
    lb = servers[f"{plan['namePrefix']}-lb-0"]
    ext_port = next(p for p in sdk.network.ports(device_id=lb.id) if "lb_ext_cp" in p.name)
    assert ext_port.network_id == sdk.network.find_network(PUBLIC).id
    assert ext_port.fixed_ips[0]["ip_address"].startswith("203.0.113.")
    # server group with the anti-affinity policy, holding the web servers
    (group,) = [
        g
        for g in sdk.compute.server_groups(all_projects=True)
        if g.name.startswith(plan["namePrefix"])
    ]
    assert group.policy in ("anti-affinity", "soft-anti-affinity")
    assert (group.policy == "anti-affinity") == (not one_host)
    webs = {s.id for n, s in servers.items() if "-web-" in n}
    assert set(group.member_ids) == webs
    # security group on the external CP's port
    (sg,) = list(sdk.network.security_groups(tags=tag_of(inst)))
    assert ext_port.security_group_ids == [sg.id]
    assert any(
        r["direction"] == "ingress" and r["port_range_min"] == 80 for r in sg.security_group_rules
    )
    # volumes attached to their VNFC (when the bed has Cinder)
    if cinder:
        vols = {
            v.name: v
            for v in sdk.block_storage.volumes(details=True, all_projects=True)
            if (v.metadata or {}).get("vnfm-instance") == inst
        }
        assert sorted(vols) == sorted(v["name"] for v in plan["volumes"])
        for vol in plan["volumes"]:
            server = servers[f"{plan['namePrefix']}-{vol['vnfcId']}"]
            assert [a["server_id"] for a in vols[vol["name"]].attachments] == [server.id]
        assert len(first.resources["virtualStorageResourceInfo"]) == 2
    else:
        assert any("block storage" in a for a in first.actions)
    # SOL003 resource info
    res = first.resources
    web0 = next(v for v in res["vnfcResourceInfo"] if v["id"] == "web-0")
    assert web0["computeResource"]["vimLevelResourceType"] == "OS::Nova::Server"
    assert web0["computeResource"]["resourceId"] == servers[f"{plan['namePrefix']}-web-0"].id
    (vl,) = res["virtualLinkResourceInfo"]
    assert vl["networkResource"]["vimLevelResourceType"] == "OS::Neutron::Net"
    (ext,) = res["extCpInfo"]
    assert ext["extLinkPortId"] == ext_port.id
    assert "password" not in json.dumps(first.as_dict()).lower()

    # idempotent
    started = time.monotonic()
    second = drv.reconcile(plan, heal=[], check_mode=False)
    print(f"second reconcile (no change): {time.monotonic() - started:.1f}s")
    assert not second.changed, second.actions

    # a server deleted behind our back comes back with the same IP
    web1 = servers[f"{plan['namePrefix']}-web-1"]
    ips_before = port_ips(sdk, web1.id)
    sdk.compute.delete_server(web1.id)
    sdk.compute.wait_for_delete(web1, wait=120)
    back = drv.reconcile(plan, heal=[], check_mode=False)
    assert back.changed
    created = [a for a in back.actions if a.startswith("create server ")]
    assert len(created) == 1 and created[0].startswith(f"create server {web1.name} ")
    new_web1 = servers_of(sdk, inst)[web1.name]
    assert new_web1.id != web1.id and new_web1.status == "ACTIVE"
    assert port_ips(sdk, new_web1.id) == ips_before

    # heal recreates web-0 on its ports (same IP), volume reattached
    web0_before = servers_of(sdk, inst)[f"{plan['namePrefix']}-web-0"]
    web0_ips = port_ips(sdk, web0_before.id)
    healed = drv.reconcile(plan, heal=["web-0"], check_mode=False)
    assert healed.changed
    web0_after = servers_of(sdk, inst)[web0_before.name]
    assert web0_after.id != web0_before.id
    assert port_ips(sdk, web0_after.id) == web0_ips
    assert web0_ips[f"{plan['namePrefix']}-web-0-web_cp"] == ["10.10.10.11"]
    assert not drv.reconcile(plan, heal=[], check_mode=False).changed

    # heal with a token (an operation): once; the same token again recreates nothing. The
    # server's metadata records the plan's software generation and the token's digest.
    token = f"op-{uuid.uuid4()}"
    web0_name = web0_before.name
    generation = next(v for v in plan["vnfcs"] if v["id"] == "web-0")["softwareGeneration"]
    once = drv.reconcile(plan, heal=["web-0"], check_mode=False, heal_token=token)
    assert once.changed
    web0_once = servers_of(sdk, inst)[web0_name]
    assert web0_once.id != web0_after.id
    assert web0_once.metadata["vnfm-software-generation"] == generation
    assert web0_once.metadata["vnfm-heal-token"] == hashlib.sha256(token.encode()).hexdigest()[:16]
    retry = drv.reconcile(plan, heal=["web-0"], check_mode=False, heal_token=token)
    assert not retry.changed, retry.actions
    assert servers_of(sdk, inst)[web0_name].id == web0_once.id
    info = {v["id"]: v["metadata"] for v in drv.resources(inst, plan)["vnfcResourceInfo"]}
    assert info["web-0"]["softwareGeneration"] == generation
    # another generation in the plan replaces nothing; the token's own run records it in place
    upgraded = webfarm_plan(inst)
    for vnfc in upgraded["vnfcs"]:
        vnfc["softwareGeneration"] = "0123456789ab"
    assert not drv.reconcile(upgraded, heal=[], check_mode=False).changed
    recorded = drv.reconcile(upgraded, heal=[], check_mode=False, heal_token=token)
    assert recorded.actions == [
        f"record software generation 0123456789ab on server {web0_name} (was {generation})"
    ]
    web0_now = servers_of(sdk, inst)[web0_name]
    assert web0_now.id == web0_once.id
    assert web0_now.metadata["vnfm-software-generation"] == "0123456789ab"
    assert not drv.reconcile(plan, heal=[], check_mode=False).changed

    # power: web-1 stopped (SHUTOFF), nothing else touched; a second reconcile calls nothing
    before = {n: (s.id, s.status, s.updated_at) for n, s in servers_of(sdk, inst).items()}
    web1_name = f"{plan['namePrefix']}-web-1"
    off = webfarm_plan(inst, power_off=["web-1"])
    started = time.monotonic()
    stopped = drv.reconcile(off, heal=[], check_mode=False)
    print(f"stop 1 server: {time.monotonic() - started:.1f}s")
    assert stopped.actions == [f"stop server {web1_name} (GRACEFUL; VNFC web-1 stopped)"]
    now = {n: (s.id, s.status, s.updated_at) for n, s in servers_of(sdk, inst).items()}
    assert now[web1_name][:2] == (before[web1_name][0], "SHUTOFF")
    assert {n: v for n, v in now.items() if n != web1_name} == {
        n: v for n, v in before.items() if n != web1_name
    }
    power = {v["id"]: v["metadata"]["powerState"] for v in stopped.resources["vnfcResourceInfo"]}
    assert power == {"lb-0": "on", "web-0": "on", "web-1": "off"}
    again = drv.reconcile(off, heal=[], check_mode=False)
    assert not again.changed, again.actions
    assert servers_of(sdk, inst)[web1_name].updated_at == now[web1_name][2]
    # heal of a stopped VNFC: a new server, stopped once created
    healed_off = drv.reconcile(off, heal=["web-1"], check_mode=False)
    assert f"stop server {web1_name} once created" in " ".join(healed_off.actions)
    new_web1 = servers_of(sdk, inst)[web1_name]
    assert new_web1.id != before[web1_name][0] and new_web1.status == "SHUTOFF"
    started_back = drv.reconcile(plan, heal=[], check_mode=False)
    assert started_back.actions == [f"start server {web1_name} (VNFC web-1 started)"]
    assert servers_of(sdk, inst)[web1_name].status == "ACTIVE"

    # scale web 2 -> 3 -> 1
    for webs in (3, 1):
        started = time.monotonic()
        scaled = drv.reconcile(webfarm_plan(inst, webs), heal=[], check_mode=False)
        print(f"scale web to {webs}: {time.monotonic() - started:.1f}s")
        assert scaled.changed
        names = sorted(n for n in servers_of(sdk, inst) if "-web-" in n)
        assert names == [f"{plan['namePrefix']}-web-{i}" for i in range(webs)]
        assert not drv.reconcile(webfarm_plan(inst, webs), heal=[], check_mode=False).changed

    # remove with no plan: nothing of the instance remains
    started = time.monotonic()
    gone = drv.remove(inst, check_mode=False)
    print(f"remove: {time.monotonic() - started:.1f}s")
    assert gone.changed
    assert leftovers(sdk, inst) == {}
    assert not drv.remove(inst, check_mode=False).changed


def test_no_flavor_fits_is_a_clear_error_and_remove_cleans(
    cloud: Cloud, sdk: Any, one_host: bool, instances: list[str]
) -> None:
    inst = new_instance(instances)
    drv = get_driver(vim_of(cloud, one_host), timeout=120)
    plan = webfarm_plan(inst)
    for vnfc in plan["vnfcs"]:
        if vnfc["vduId"] == "web":
            vnfc["compute"].update(numVirtualCpu=1024, flavourHint="no-such-flavor")
    with pytest.raises(VimError) as err:
        drv.reconcile(plan, heal=[], check_mode=False)
    msg = str(err.value)
    assert "web-0" in msg and "1024 vCPU" in msg and "no-such-flavor" in msg
    assert "Traceback" not in msg
    drv.remove(inst, check_mode=False)
    assert leftovers(sdk, inst) == {}


def test_boot_failure_names_the_server_and_remove_cleans(
    cloud: Cloud, sdk: Any, one_host: bool, instances: list[str]
) -> None:
    """Hard anti-affinity for 2 web servers on a 1-host bed: Nova refuses the second."""
    if not one_host:
        pytest.skip("needs a single compute host")
    inst = new_instance(instances)
    drv = get_driver(vim_of(cloud, False), timeout=120)
    with pytest.raises(VimError) as err:
        drv.reconcile(webfarm_plan(inst), heal=[], check_mode=False)
    assert "server vnf-" in str(err.value) and "ERROR" in str(err.value)
    assert servers_of(sdk, inst)  # created part-way
    drv.remove(inst, check_mode=False)
    assert leftovers(sdk, inst) == {}


def test_reconcile_times_1_and_8_vnfcs(
    cloud: Cloud, sdk: Any, one_host: bool, instances: list[str]
) -> None:
    times = {}
    for webs in (1, 8):
        inst = new_instance(instances)
        drv = get_driver(vim_of(cloud, one_host), timeout=300)
        plan = webfarm_plan(inst, webs)
        plan["volumes"] = []  # compute and network only
        for vnfc in plan["vnfcs"]:
            vnfc["volumes"] = []
        started = time.monotonic()
        drv.reconcile(plan, heal=[], check_mode=False)
        times[webs] = time.monotonic() - started
        assert len(servers_of(sdk, inst)) == webs + 1
        started = time.monotonic()
        drv.remove(inst, check_mode=False)
        times[f"remove {webs}"] = time.monotonic() - started
        assert leftovers(sdk, inst) == {}
    print(
        f"\nreconcile from empty: {times[1]:.1f}s for 2 VNFCs (lb + 1 web), "
        f"{times[8]:.1f}s for 9 VNFCs (lb + 8 webs); remove {times['remove 1']:.1f}s / "
        f"{times['remove 8']:.1f}s"
    )
    assert times[8] < 3 * times[1] + 10  # creations run in parallel


# -- the module, through ansible-runner ----------------------------------------------------------
PLAYBOOK = """\
- name: Reconcile a VNF on OpenStack
  hosts: localhost
  gather_facts: false
  vars_files:
    - plan.json
  tasks:
    - name: Reconcile
      nfv.vnfm.vnf_resources:
        plan: "{{ vnf_plan }}"
        vim: "{{ vnf_vim }}"
        state: "{{ vnf_state | default('present') }}"
        vnf_instance_id: "{{ vnf_plan.vnfInstanceId }}"
        timeout: 180
      register: reconciled
"""


def _run_playbook(tmp: Path, cloud: Cloud, extravars: dict[str, Any] | None = None) -> Any:
    ansible_runner = pytest.importorskip("ansible_runner")
    return ansible_runner.run(
        private_data_dir=str(tmp),
        playbook="site.yml",
        inventory="localhost ansible_connection=local",
        extravars={"ansible_python_interpreter": sys.executable, **(extravars or {})},
        envvars={
            "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS),
            "OS_CLIENT_CONFIG_FILE": cloud.path,
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        },
        quiet=True,
        timeout=400,
    )


def _task_result(runner: Any) -> dict[str, Any]:
    for ev in runner.events:
        done = ev.get("event") in ("runner_on_ok", "runner_on_failed")
        if done and ev["event_data"]["task"] == "Reconcile":
            return dict(ev["event_data"]["res"])
    raise AssertionError(runner.stdout.read())


def test_module_through_ansible_runner(
    cloud: Cloud, sdk: Any, one_host: bool, instances: list[str], tmp_path: Path
) -> None:
    inst = new_instance(instances)
    pdd = tmp_path / "runner"
    (pdd / "project").mkdir(parents=True)
    (pdd / "project" / "site.yml").write_text(PLAYBOOK)
    plan = webfarm_plan(inst, 1)
    (pdd / "project" / "plan.json").write_text(
        json.dumps({"vnf_plan": plan, "vnf_vim": vim_of(cloud, one_host)})
    )
    first = _run_playbook(pdd, cloud)
    assert first.status == "successful", first.stdout.read()
    res = _task_result(first)
    assert res["changed"] is True
    assert len(res["resources"]["vnfcResourceInfo"]) == 2
    second = _run_playbook(pdd, cloud)
    assert second.status == "successful", second.stdout.read()
    assert _task_result(second)["changed"] is False
    gone = _run_playbook(pdd, cloud, {"vnf_state": "absent"})
    assert gone.status == "successful", gone.stdout.read()
    assert _task_result(gone)["changed"] is True
    assert leftovers(sdk, inst) == {}
