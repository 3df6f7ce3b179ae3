"""The podman VIM's diff (pure): addresses carried to a replacement pod, the software
generation recorded after a batch, records of pods gone or replaced, scale-in order."""

from __future__ import annotations

import dataclasses

from ansible_collections.nfv.vnfm.plugins.module_utils.vim._podman.diff import (
    carry_addresses,
    compute_changes,
    removal,
)
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._podman.model import (
    POWER_OFF,
    CpState,
    Desired,
    NetworkState,
    Observed,
    PodPlan,
    PodState,
)
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._podman.spec import VduSpec
from ansible_collections.nfv.vnfm.plugins.module_utils.vim.podman import PodmanDriver

INST = "i1"
EXT = NetworkState("vnfm-podman-ext0", "172.30.251.0/24", "ext")


def _pod(vnfc_id: str, ip: str | None = None, **kw: object) -> PodState:
    vdu = vnfc_id.rsplit("-", 1)[0]
    cp = CpState("ext_cp", EXT.name, "ext", "eth0", "02:00:00:00:00:01", ip, ext_cpd_id="ext")
    fields: dict[str, object] = {
        "vnfc_id": vnfc_id,
        "vdu_id": vdu,
        "name": f"vnf-i1-{vnfc_id}",
        "cps": (cp,),
        "containers": ("app",),
    }
    fields.update(kw)
    return PodState(**fields)  # type: ignore[arg-type]


def _plan(state: PodState) -> PodPlan:
    return PodPlan(
        state=state, vdu=VduSpec(workload=state.vdu_id, kind="Deployment", containers=()), labels={}
    )


def _desired(*states: PodState) -> Desired:
    return Desired(
        vnf_instance_id=INST,
        pods={s.vnfc_id: _plan(s) for s in states},
        networks={EXT.name: EXT},
        storage={},
        shared={},
        plan={},
    )


def _observed(*states: PodState, records: dict[str, dict[str, str]] | None = None) -> Observed:
    return Observed(
        pods={s.vnfc_id: s for s in states},
        all_networks={EXT.name: {"labels": {}}},
        records=records or {},
    )


def test_an_unchanged_instance_changes_nothing() -> None:
    have = _pod("web-0", "172.30.251.10", pod_id="p0")
    ch = compute_changes(_desired(_pod("web-0", "172.30.251.10")), _observed(have))
    assert not ch.changed
    assert ch.keep_pods == [have]


def test_a_replacement_keeps_the_address_the_driver_picked_for_the_old_pod() -> None:
    # the plan gives the external CP no address; the driver had pinned .10 on the old pod
    want = _pod("lb-0", None, containers=("app", "sidecar"))  # a changed pod: replaced
    have = _pod("lb-0", "172.30.251.10", pod_id="p0")
    ch = compute_changes(_desired(want), _observed(have))
    assert ch.delete_pods == [have]
    [created] = ch.create_pods
    assert [cp.ip for cp in created.state.cps] == ["172.30.251.10"]
    # a replaced pod is one a heal's hooks must start again
    assert PodmanDriver.created(PodmanDriver.__new__(PodmanDriver), ch) == ["lb-0"]


def test_carry_addresses_leaves_planned_and_internal_addresses_alone() -> None:
    planned = _pod("lb-0", "172.30.251.20")
    assert carry_addresses(_plan(planned), _pod("lb-0", "172.30.251.10")).state == planned
    internal = dataclasses.replace(
        _pod("web-0", None), cps=(CpState("web_cp", "vl", "vl", "eth0", "02:00:00:00:00:02", None),)
    )
    have = dataclasses.replace(
        internal,
        cps=(CpState("web_cp", "vl", "vl", "eth0", "02:00:00:00:00:02", "10.0.0.5"),),
    )
    assert carry_addresses(_plan(internal), have).state == internal


def test_a_pod_made_by_this_operation_gets_the_plans_generation_recorded() -> None:
    want = _pod("web-0", "172.30.251.11", generation="g2")
    have = _pod("web-0", "172.30.251.11", generation="g1", token="t1", pod_id="p0")
    ch = compute_changes(_desired(want), _observed(have), token="t1")
    assert ch.record_pods == [(have, "g2")]
    assert ch.delete_pods == [] and ch.create_pods == []
    # another operation's pod on the old software is not relabelled: it is not upgraded
    other = compute_changes(_desired(want), _observed(have), token="t2")
    assert other.record_pods == []


def test_records_of_pods_gone_or_replaced_are_deleted() -> None:
    kept = _pod("web-0", "172.30.251.11", record="vnf-i1-web-0.record", pod_id="p0")
    gone = _pod("web-1", "172.30.251.12", record="vnf-i1-web-1.record", pod_id="p1")
    records: dict[str, dict[str, str]] = {
        "vnf-i1-web-0.record": {},
        "vnf-i1-web-1.record": {},
        "vnf-i1-web-2.record": {},  # names no pod any more: stale
    }
    ch = compute_changes(
        _desired(_pod("web-0", "172.30.251.11")), _observed(kept, gone, records=records)
    )
    assert ch.delete_pods == [gone]
    assert ch.delete_records == ["vnf-i1-web-1.record", "vnf-i1-web-2.record"]


def test_scale_in_removes_the_highest_index_first() -> None:
    pods = [_pod(f"web-{n}", f"172.30.251.{20 + n}", pod_id=f"p{n}") for n in (0, 2, 9, 10)]
    ch = compute_changes(_desired(pods[0]), _observed(*pods))
    assert [p.vnfc_id for p in ch.delete_pods] == ["web-10", "web-9", "web-2"]


def test_a_stopped_pod_is_started_not_replaced() -> None:
    have = _pod("web-0", None, power=POWER_OFF, pod_id="p0")
    ch = compute_changes(_desired(_pod("web-0", "172.30.251.11")), _observed(have))
    assert ch.power_pods == [(have, "on")] and ch.delete_pods == []


def test_removal_takes_pods_records_and_volumes() -> None:
    obs = _observed(
        _pod("web-0", "172.30.251.11", record="vnf-i1-web-0.record"),
        records={"vnf-i1-web-0.record": {}},
    )
    obs.volumes = {"i1-data": {}}
    ch = removal(obs, INST)
    assert [p.vnfc_id for p in ch.delete_pods] == ["web-0"]
    assert ch.delete_records == ["vnf-i1-web-0.record"]
    assert ch.delete_volumes == ["i1-data"]
