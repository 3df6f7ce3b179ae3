"""Drift detection and rule generation as pure functions (no VIM, no process).

The inputs are the shapes the real code exchanges: a plan (docs/plan-format.md),
the VIM report of ``vnf_resources_info`` and probe results. The real thing runs
in tests/assurance/test_drift_webfarm.py.
"""

from __future__ import annotations

import copy
from typing import Any

from vnfm_runner.assurance.drift import DriftKind, MarkedResource, detect_drift, find_orphans
from vnfm_runner.assurance.health import (
    HEALTH_HEALTHY,
    HEALTH_UNHEALTHY,
    Attempt,
    HealthProbe,
    ProbeResult,
    ProbeTarget,
)
from vnfm_runner.assurance.rules import probe_rules, rules_document, target_down_rules
from vnfm_runner.assurance.sync import InstanceSpec, sync_pass

INST = "0f0e"
PLAN: dict[str, Any] = {
    "vnfcs": [
        {
            "id": f"web-{i}",
            "vduId": "web",
            "name": f"vnf-x-web-{i}",
            "powerState": "on",
            "cps": [{"cpdId": "web_cp", "ipAddresses": [f"10.0.0.{10 + i}"], "macAddress": f"fa:16:3e:00:00:0{i}"}],
        }
        for i in range(2)
    ]
}  # fmt: skip


def report(plan: dict[str, Any] = PLAN) -> dict[str, Any]:
    """What a VIM holding exactly ``plan`` reports."""
    return {
        "vnfcResourceInfo": [
            {
                "id": v["id"],
                "vduId": v["vduId"],
                "computeResource": {"resourceId": f"ns-{v['id']}", "vimLevelResourceType": "linux.netns"},
                "metadata": {"powerState": v["powerState"]},
                "vnfcCpInfo": [
                    {
                        "cpdId": cp["cpdId"],
                        "cpProtocolInfo": [{"ipOverEthernet": {"macAddress": cp["macAddress"].upper(), "ipAddresses": [{"addresses": cp["ipAddresses"]}]}}],
                    }
                    for cp in v["cps"]
                ],
            }
            for v in plan["vnfcs"]
        ]
    }  # fmt: skip


PROBE = HealthProbe("web_health", "web", "http", cp_id="web_cp", port=80, path="/health")


def result(vnfc: str, health: str, failures: int = 0) -> ProbeResult:
    target = ProbeTarget(INST, vnfc, "web", PROBE, "netns", "10.0.0.10", f"ns-{vnfc}", f"ns-{vnfc}")
    return ProbeResult(target, health, failures, Attempt(False, "connection refused", 0.01, 0.0))


def test_no_drift_when_the_vim_holds_the_plan() -> None:
    assert detect_drift(INST, PLAN, report(), [result("web-0", HEALTH_HEALTHY)]) == []


def test_every_kind_of_drift() -> None:
    seen = report()
    seen["vnfcResourceInfo"].pop(1)  # web-1 missing
    web0 = seen["vnfcResourceInfo"][0]
    web0["metadata"]["powerState"] = "off"
    web0["vnfcCpInfo"][0]["cpProtocolInfo"][0]["ipOverEthernet"]["ipAddresses"][0]["addresses"] = [
        "10.0.0.99"
    ]
    extra = copy.deepcopy(web0)
    extra["id"], extra["computeResource"]["resourceId"] = "web-7", "ns-web-7"
    seen["vnfcResourceInfo"].append(extra)
    drifts = detect_drift(INST, PLAN, seen, [result("web-1", HEALTH_UNHEALTHY, 3)])
    assert [(d.kind, d.vnfc_id, d.expected, d.observed) for d in drifts] == [
        (DriftKind.ADDRESS, "web-0", "10.0.0.10", "10.0.0.99"),
        (DriftKind.POWER_STATE, "web-0", "on", "off"),
        (DriftKind.VNFC_MISSING, "web-1", "present", "absent"),  # missing: not unhealthy too
        (DriftKind.VNFC_EXTRA, "web-7", "absent", "present"),
    ]  # fmt: skip
    assert drifts[3].resource_id == "ns-web-7"
    assert drifts[2].as_dict()["resourceId"] == "vnf-x-web-1"


def test_unhealthy_and_mac_drift() -> None:
    seen = report()
    seen["vnfcResourceInfo"][1]["vnfcCpInfo"][0]["cpProtocolInfo"][0]["ipOverEthernet"][
        "macAddress"
    ] = "fa:16:3e:ff:ff:ff"
    drifts = detect_drift(INST, PLAN, seen, [result("web-0", HEALTH_UNHEALTHY, 2)])
    assert [(d.kind, d.vnfc_id) for d in drifts] == [
        (DriftKind.VNFC_UNHEALTHY, "web-0"),
        (DriftKind.ADDRESS, "web-1"),
    ]  # fmt: skip
    assert drifts[0].resource_id == "ns-web-0"
    assert "failed 2 times in a row: connection refused" in drifts[0].detail


def test_a_vnfc_planned_stopped_is_not_unhealthy() -> None:
    plan = copy.deepcopy(PLAN)
    plan["vnfcs"][0]["powerState"] = "off"
    assert detect_drift(INST, plan, report(plan), [result("web-0", HEALTH_UNHEALTHY, 5)]) == []


def test_orphans_are_marks_of_unknown_instances() -> None:
    marked = [
        MarkedResource("local", "netns", "vnfm-a-web-0", "a"),
        MarkedResource("local", "netns", "vnfm-b-vim", "b"),
        MarkedResource("local", "directory", "/run/vnfm/b", "b"),
    ]
    orphans = find_orphans(marked, {"a"})
    assert [(d.kind, d.instance_id, d.resource_id) for d in orphans] == [
        (DriftKind.ORPHAN, "b", "/run/vnfm/b"),
        (DriftKind.ORPHAN, "b", "vnfm-b-vim"),
    ]


def test_sync_pass_through_ports_reports_vim_errors_per_instance() -> None:
    def discover(spec: InstanceSpec) -> dict[str, Any]:
        if spec.instance_id == "broken":
            raise RuntimeError("VIM unreachable")
        return report()

    specs = [InstanceSpec(INST, PLAN, [PROBE]), InstanceSpec("broken", PLAN)]
    done = sync_pass(specs, discover=discover, prober=lambda ts: [result(t.vnfc_id, HEALTH_UNHEALTHY, 2) for t in ts])  # fmt: skip
    ok, broken = done.instances
    assert [(d.kind, d.vnfc_id) for d in ok.drifts] == [
        (DriftKind.VNFC_UNHEALTHY, "web-0"),
        (DriftKind.VNFC_UNHEALTHY, "web-1"),
    ]
    assert broken.error == "RuntimeError: VIM unreachable" and broken.drifts == []
    assert set(done.as_dict()["cost"]["perInstance"]) == {"wallS", "cpuS"}


def test_generated_rules_quote_their_labels() -> None:
    (rule,) = probe_rules('x"} or vector(1) #', [PROBE])
    assert rule.expr == (
        'vnfm_vnfc_probe_healthy{vnf_instance_id="x\\"} or vector(1) #",'
        'vdu_id="web",probe="web_health"} == 0'
    )
    (down,) = target_down_rules(INST, for_s=7.5)
    doc = rules_document(INST, [rule, down])
    assert doc["groups"][0]["name"] == f"vnfm-{INST}"
    assert doc["groups"][0]["rules"][1]["for"] == "7500ms"
