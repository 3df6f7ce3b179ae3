"""Faults from the VIM: operations through a fault-injecting proxy in front of the test bed.

The VNFM reaches the bed only through :mod:`tests.openstack.fault_proxy` (its clouds.yaml's
``auth_url`` is the proxy's, and the proxy rewrites the service catalog), which answers a
chosen call with an HTTP error, no answer at all (a hang, cut by the VIM connection's
``apiTimeout``), a reset connection, a slow answer, or one of those after forwarding the call
(the VIM did the work; the answer is lost). Each case checks that the operation ends
COMPLETED or FAILED_TEMP within its bounds, that the VIM holds nothing the instance cannot
find again (every resource named for it carries its mark, no name twice) and nothing outside
the plans before and after, then that ``retry`` with the fault gone COMPLETES with exactly the
planned servers, ports and volumes, matching the records, and that terminate leaves nothing.
The VIM is inspected with openstacksdk directly (admin, not through the proxy). Hooks off:
the bed has no data plane.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.openstack.fault_proxy import Fault, FaultProxy, Rule
from tests.openstack.test_openstack_vim import (
    _from_fixture,
    _testbed_up,
    add_bed_vim,
    brute_force_cleanup,
    prefix_of,
    tag_of,
)

openstack = pytest.importorskip("openstack")

pytestmark = [pytest.mark.openstack, pytest.mark.timeout(1200)]

REPO = Path(__file__).resolve().parents[2]
WEBFARM = REPO / "examples" / "packages" / "webfarm"
PUBLIC_LINK = {"id": "ext", "resourceId": "public", "extCps": [{"cpdId": "lb_ext_cp"}]}
API_TIMEOUT = 10  # seconds one API call may take (VIM connection apiTimeout): a hang costs this
# additionalParams of every request: hooks off; bounds that keep nothing PROCESSING for long
PARAMS = {"vnfm_hooks": False, "vnfm_task_timeout": 300, "vnfm_operation_timeout": 420}
BOUND = 480  # seconds: no operation of these tests may take longer

# the calls hurt (paths as the bed's catalog makes them)
SERVERS = r"^/v2\.1/servers$"
SERVER = r"^/v2\.1/servers/[0-9a-f-]+$"
LIST_SERVERS = r"^/v2\.1/servers/detail$"
PORTS = r"^/v2\.0/ports$"
PORT = r"^/v2\.0/ports/[0-9a-f-]+$"
VOLUMES = r"^/v3/[0-9a-f]+/volumes$"


# -- the VIM as the admin sees it ---------------------------------------------------------------
@dataclass(frozen=True)
class Item:
    kind: str
    name: str
    id: str
    marked: bool  # carries the instance's mark (tag or metadata)
    findable: bool  # marked, or a Neutron resource with the description its creation sets


def vim_items(sdk: Any, inst: str) -> list[Item]:
    """Every resource named for the instance or marked with it, in every project."""
    prefix, tag = prefix_of(inst) + "-", tag_of(inst)

    def mine(name: str | None, marked: bool) -> bool:
        return marked or (name or "").startswith(prefix)

    out = []
    for s in sdk.compute.servers(details=True, all_projects=True):
        marked = (s.metadata or {}).get("vnfm-instance") == inst
        if mine(s.name, marked):
            out.append(Item("server", s.name, s.id, marked, marked))
    for kind, listing in (
        ("port", sdk.network.ports),
        ("network", sdk.network.networks),
        ("subnet", sdk.network.subnets),
        ("security group", sdk.network.security_groups),
    ):
        for r in listing():
            marked = tag in (r.tags or [])
            if mine(r.name, marked):
                out.append(Item(kind, r.name, r.id, marked, marked or r.description == tag))
    if sdk.has_service("block-storage"):
        for v in sdk.block_storage.volumes(details=True, all_projects=True):
            marked = (v.metadata or {}).get("vnfm-instance") == inst
            if mine(v.name, marked):
                out.append(Item("volume", v.name, v.id, marked, marked))
    return out


def names(items: list[Item], kind: str) -> list[str]:
    return sorted(i.name for i in items if i.kind == kind)


def planned(plan: dict[str, Any]) -> dict[str, list[str]]:
    """server, port and volume names of a saved plan."""
    vnfcs = plan.get("vnfcs") or []
    return {
        "server": sorted(v["name"] for v in vnfcs),
        "port": sorted(cp["name"] for v in vnfcs for cp in v["cps"]),
        "volume": sorted(v["name"] for v in plan.get("volumes") or []),
    }


# -- the bed behind the proxy ---------------------------------------------------------------------
@dataclass
class Bed:
    svc: Any  # vnfm_runner.lcm.Vnfm
    sdk: Any  # admin, direct
    proxy: FaultProxy
    vnfd_id: str
    cinder: bool

    def new_instance(self, name: str) -> str:
        return str(self.svc.create(vnfd_id=self.vnfd_id, name=name)["id"])

    def bounded(self, what: str, start: Any) -> dict[str, Any]:
        """Run an operation (waited for); it must end in a final or FAILED_TEMP state."""
        started = time.monotonic()
        op = dict(start())
        took = time.monotonic() - started
        state = op["operationState"]
        assert state in ("COMPLETED", "FAILED_TEMP", "ROLLED_BACK"), (what, state)
        assert took < BOUND, f"{what} took {took:.0f} s"
        print(f"{what}: {state} in {took:.1f} s")
        return op

    def instantiate(self, inst: str, *, auto_rollback: bool = False) -> dict[str, Any]:
        request = {
            "flavourId": "default",
            "instantiationLevelId": "small",
            "extVirtualLinks": [PUBLIC_LINK],
            "additionalParams": PARAMS,
        }
        return self.bounded(
            "instantiate",
            lambda: self.svc.instantiate(
                instance_id=inst, request=request, vim_name="faulty", auto_rollback=auto_rollback
            ),
        )

    def run(self, inst: str, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        body = {**request, "additionalParams": PARAMS}
        if operation == "TERMINATE":
            return self.bounded(
                operation, lambda: self.svc.terminate(instance_id=inst, request=body)
            )
        return self.bounded(
            operation,
            lambda: self.svc.run_operation(instance_id=inst, operation=operation, request=body),
        )

    def retry(self, op: dict[str, Any]) -> dict[str, Any]:
        done = self.bounded("retry", lambda: self.svc.retry(op["id"]))
        assert done["operationState"] == "COMPLETED", json.dumps(done.get("error"))[:3000]
        return done

    def plan(self, inst: str) -> dict[str, Any]:
        return dict(self.svc.instance(inst).desired_state or {})

    # -- checks --------------------------------------------------------------------------------
    def recoverable(self, inst: str, *plans: dict[str, Any]) -> list[Item]:
        """After a failure: nothing the instance cannot find again, nothing twice, nothing
        outside the plans (before and after the operation)."""
        items = vim_items(self.sdk, inst)
        lost = [i for i in items if not i.findable]
        assert not lost, f"resources the instance cannot find again: {lost}"
        for kind in ("server", "port", "volume", "network", "subnet", "security group"):
            found = names(items, kind)
            assert len(found) == len(set(found)), f"duplicated {kind}s: {found}"
        for kind in ("server", "port", "volume"):
            allowed = {n for p in plans for n in planned(p)[kind]}
            extra = set(names(items, kind)) - allowed
            assert not extra, f"{kind}s outside the plans: {sorted(extra)}"
        return items

    def exactly_planned(self, inst: str) -> list[Item]:
        """COMPLETED: the VIM holds the plan's servers, ports and volumes once each (by the
        instance's mark), and the records name those very resources."""
        items = self.recoverable(inst, self.plan(inst))
        unmarked = [i for i in items if not i.marked]
        assert not unmarked, f"resources without the instance's mark: {unmarked}"
        want = planned(self.plan(inst))
        for kind in ("server", "port", "volume"):
            if kind == "volume" and not self.cinder:
                continue
            assert names(items, kind) == want[kind], (kind, names(items, kind), want[kind])
        ids = {(i.kind, i.name): i.id for i in items}
        info = self.svc.instance(inst).doc["instantiatedVnfInfo"]
        by_vnfc = {v["id"]: v["name"] for v in self.plan(inst)["vnfcs"]}
        for vnfc in info["vnfcResourceInfo"]:
            server = ids[("server", by_vnfc[vnfc["id"]])]
            assert vnfc["computeResource"]["resourceId"] == server, vnfc["id"]
            for cp in vnfc["vnfcCpInfo"]:
                assert cp["vnfLinkPortId"] == ids[("port", cp["id"])], cp["id"]
        assert sorted(v["id"] for v in info["vnfcResourceInfo"]) == sorted(by_vnfc)
        if self.cinder:
            for vs in info.get("virtualStorageResourceInfo") or []:
                assert vs["storageResource"]["resourceId"] == ids[("volume", vs["id"])]
            for vol in self.sdk.block_storage.volumes(details=True, all_projects=True):
                if (vol.metadata or {}).get("vnfm-instance") == inst:
                    server = ids[("server", f"{prefix_of(inst)}-{vol.metadata['vnfm-vnfc']}")]
                    assert [a["server_id"] for a in vol.attachments] == [server], vol.name
        return items

    def nothing_left(self, inst: str) -> None:
        items = vim_items(self.sdk, inst)
        groups = [
            g.name
            for g in self.sdk.compute.server_groups(all_projects=True)
            if g.name.startswith(prefix_of(inst) + "-")
        ]
        assert not items and not groups, (items, groups)

    def cleanup(self, inst: str) -> None:
        self.proxy.clear()
        row = self.svc.store.instance(inst)
        if row is not None and row.instantiation_state == "INSTANTIATED":
            with contextlib.suppress(Exception):
                if self.svc.store.active_operation(inst) is None:
                    self.svc.terminate(
                        instance_id=inst,
                        request={"terminationType": "FORCEFUL", "additionalParams": PARAMS},
                    )
        brute_force_cleanup(self.sdk, inst)


@pytest.fixture(scope="module")
def bed(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bed]:
    if not _testbed_up():
        pytest.skip("the OpenStack test bed is not up (scripts/openstack-testbed up)")
    cloud = _from_fixture(request.getfixturevalue("openstack_cloud"))
    from vnfm_runner.lcm import Vnfm
    from vnfm_runner.settings import Settings

    sdk = request.getfixturevalue("openstack_cloud").connect(cloud.admin)
    one_host = len(list(sdk.compute.hypervisors())) <= 1
    clouds = yaml.safe_load(Path(cloud.path).read_text())
    demo = clouds["clouds"][cloud.demo]
    home = tmp_path_factory.mktemp("vim-faults")
    with FaultProxy(demo["auth"]["auth_url"]) as proxy:
        demo["auth"]["auth_url"] = proxy.auth_url
        through = home / "clouds.yaml"
        through.write_text(yaml.safe_dump({"clouds": {"faulty": demo}}))
        through.chmod(0o600)
        svc = Vnfm.open(Settings(home=home / "vnfm-home", default_vim="local"), recover=False)
        add_bed_vim(
            svc,
            name="faulty",
            cloud="faulty",
            clouds_file=str(through),
            one_host=one_host,
            apiTimeout=API_TIMEOUT,
        )
        pkg = svc.onboard(WEBFARM)
        yield Bed(svc, sdk, proxy, pkg.vnfd_id, sdk.has_service("block-storage"))


# -- instantiate, one fault per case ---------------------------------------------------------------
@dataclass(frozen=True)
class Case:
    id: str
    rule: Rule
    error: str  # in the FAILED_TEMP operation's error ("" : the operation completes)
    needs_cinder: bool = False


def _instantiate_cases() -> list[Case]:
    return [
        # the 2nd server is created, its answer lost: the retry must not create it again
        Case("server-created-answer-lost", Rule("POST", SERVERS, Fault("error", 500, forward=True), nth=2), "HTTP 500"),
        # the 1st port is created, the connection reset before the answer
        Case("port-created-connection-reset", Rule("POST", PORTS, Fault("reset", forward=True)), "create port"),
        # the 2nd port: reset after the headers (an answer cut short), nothing created
        Case("port-answer-cut-short", Rule("POST", PORTS, Fault("reset_after_headers"), nth=2), "create port"),
        # a volume create never answers (the API timeout ends it)
        Case("volume-create-hangs", Rule("POST", VOLUMES, Fault("hang")), "create volume", needs_cinder=True),
        # discovery: the server listing fails
        Case("server-list-503", Rule("GET", LIST_SERVERS, Fault("error", 503)), "list servers"),
        # every server create answers late, within the API timeout: completes as is
        Case("server-create-slow", Rule("POST", SERVERS, Fault("slow", delay=3.0), times=0), ""),
    ]  # fmt: skip


# VNFM_FAULT_MATRIX=full (bench/vim_fault_matrix.sh): every fault at every call site below
SITES = {  # site -> (method, path, nth, the operation's error names it so)
    "server-create": ("POST", SERVERS, 2, "create server"),
    "port-create": ("POST", PORTS, 1, "create port"),
    "volume-create": ("POST", VOLUMES, 1, "create volume"),
    "server-list": ("GET", LIST_SERVERS, 1, "list servers"),
    "port-list": ("GET", PORTS, 1, "list ports"),
}
FAULTS = [
    Fault("error", 500),
    Fault("hang"),
    Fault("reset"),
    Fault("reset_after_headers"),
    Fault("slow", delay=3.0),
    *(Fault(kind, forward=True) for kind in ("error", "hang", "reset", "reset_after_headers")),
]


def _full_matrix() -> list[Case]:
    return [
        Case(
            f"{site}-{str(fault).replace(' ', '')}",
            Rule(method, path, fault, nth=nth),
            "" if fault.kind == "slow" else what,
            needs_cinder=site == "volume-create",
        )
        for site, (method, path, nth, what) in SITES.items()
        for fault in FAULTS
    ]


@pytest.mark.parametrize(
    "case",
    _full_matrix() if os.environ.get("VNFM_FAULT_MATRIX") == "full" else _instantiate_cases(),
    ids=lambda c: c.id,
)
def test_instantiate_fault_then_retry(bed: Bed, case: Case) -> None:
    if case.needs_cinder and not bed.cinder:
        pytest.skip("the test bed runs without Cinder")
    inst = bed.new_instance(f"fault-{case.id}")
    try:
        with bed.proxy.fault(case.rule) as rule:
            op = bed.instantiate(inst)
        assert rule.fired >= 1, f"the fault never fired: {rule}"
        if case.error:
            assert op["operationState"] == "FAILED_TEMP"
            assert case.error in json.dumps(op["error"]), op["error"]
            assert bed.svc.instance(inst).instantiation_state == "NOT_INSTANTIATED"
            bed.recoverable(inst, bed.plan(inst) or _plan_of(bed, op))
            bed.retry(op)
        else:
            assert op["operationState"] == "COMPLETED", op.get("error")
        bed.exactly_planned(inst)
        done = bed.run(inst, "TERMINATE", {"terminationType": "FORCEFUL"})
        assert done["operationState"] == "COMPLETED", done.get("error")
        bed.nothing_left(inst)
    finally:
        bed.cleanup(inst)


def _plan_of(bed: Bed, op: dict[str, Any]) -> dict[str, Any]:
    """The plan an instantiation was applying (the instance records it only once done)."""
    from ansible_collections.nfv.vnfm.plugins.module_utils.plan.planner import PlanRequest
    from ansible_collections.nfv.vnfm.plugins.module_utils.plan.planner import plan as make_plan
    from ansible_collections.nfv.vnfm.plugins.module_utils.vnfd.loader import load_vnf

    model, _warnings = load_vnf(str(WEBFARM))
    return make_plan(
        model,
        PlanRequest(
            vnf_instance_id=op["vnfInstanceId"],
            flavour_id="default",
            instantiation_level_id="small",
            ext_virtual_links=[PUBLIC_LINK],
        ),
    )


def test_failed_instantiation_rolled_back_leaves_nothing(bed: Bed) -> None:
    """Auto-rollback after a port whose answer was lost: nothing of the instance is left."""
    inst = bed.new_instance("fault-rollback")
    try:
        with bed.proxy.fault(Rule("POST", PORTS, Fault("error", 502, forward=True), nth=3)):
            op = bed.instantiate(inst, auto_rollback=True)
        assert op["operationState"] == "ROLLED_BACK", op.get("error")
        bed.nothing_left(inst)
    finally:
        bed.cleanup(inst)


# -- scale out, heal, terminate of one instance (in file order) -------------------------------------
@pytest.fixture(scope="module")
def farm(bed: Bed) -> Iterator[str]:
    inst = bed.new_instance("fault-lifecycle")
    try:
        op = bed.instantiate(inst)
        assert op["operationState"] == "COMPLETED", op.get("error")
        yield inst
    finally:
        bed.cleanup(inst)


def _faulty_op(
    bed: Bed, inst: str, rule: Rule, operation: str, request: dict[str, Any], error: str
) -> dict[str, Any]:
    before = bed.plan(inst)
    with bed.proxy.fault(rule):
        op = bed.run(inst, operation, request)
    assert rule.fired >= 1, f"the fault never fired: {rule}"
    assert op["operationState"] == "FAILED_TEMP", op["operationState"]
    assert error in json.dumps(op["error"]), op["error"]
    bed.recoverable(inst, before, *_grown(before))
    return bed.retry(op)


def _grown(plan: dict[str, Any]) -> list[dict[str, Any]]:
    """The plan with one more web VNFC (a scale out's target), for the 'outside' check."""
    web = [v for v in plan["vnfcs"] if v["vduId"] == "web"]
    n = len(web)
    prefix = plan["namePrefix"]
    extra_vnfc = {
        "name": f"{prefix}-web-{n}",
        "cps": [{"name": cp["name"].replace("-web-0-", f"-web-{n}-")} for cp in web[0]["cps"]],
    }
    extra_vol = [
        {"name": v["name"].replace("-web-0-", f"-web-{n}-")}
        for v in plan.get("volumes") or []
        if "-web-0-" in v["name"]
    ]
    return [{"vnfcs": [extra_vnfc], "volumes": extra_vol}]


def test_scale_out_server_created_answer_hangs(bed: Bed, farm: str) -> None:
    rule = Rule("POST", SERVERS, Fault("hang", forward=True))
    request = {"type": "SCALE_OUT", "aspectId": "web", "numberOfSteps": 1}
    _faulty_op(bed, farm, rule, "SCALE", request, "create server")
    items = bed.exactly_planned(farm)
    assert len(names(items, "server")) == 4


def test_scale_out_volume_created_connection_reset(bed: Bed, farm: str) -> None:
    if not bed.cinder:
        pytest.skip("the test bed runs without Cinder")
    rule = Rule("POST", VOLUMES, Fault("reset", forward=True))
    request = {"type": "SCALE_OUT", "aspectId": "web", "numberOfSteps": 1}
    _faulty_op(bed, farm, rule, "SCALE", request, "create volume")
    items = bed.exactly_planned(farm)
    assert len(names(items, "server")) == 5 and len(names(items, "volume")) == 4


def test_heal_server_deleted_answer_lost(bed: Bed, farm: str) -> None:
    old = {i.name: i.id for i in vim_items(bed.sdk, farm) if i.kind == "server"}
    rule = Rule("DELETE", SERVER, Fault("error", 500, forward=True))
    _faulty_op(bed, farm, rule, "HEAL", {"vnfcInstanceId": ["web-0"]}, "HTTP 500")
    items = bed.exactly_planned(farm)
    now = {i.name: i.id for i in items if i.kind == "server"}
    healed = f"{prefix_of(farm)}-web-0"
    assert now[healed] != old[healed]
    assert {n: i for n, i in now.items() if n != healed} == {
        n: i for n, i in old.items() if n != healed
    }


def test_terminate_port_delete_fails_then_retry(bed: Bed, farm: str) -> None:
    rule = Rule("DELETE", PORT, Fault("error", 503), nth=2)
    before = bed.plan(farm)
    with bed.proxy.fault(rule):
        op = bed.run(farm, "TERMINATE", {"terminationType": "FORCEFUL"})
    assert rule.fired == 1
    assert op["operationState"] == "FAILED_TEMP"
    assert "delete port" in json.dumps(op["error"]), op["error"]
    bed.recoverable(farm, before)
    bed.retry(op)
    bed.nothing_left(farm)
    assert bed.svc.instance(farm).instantiation_state == "NOT_INSTANTIATED"
