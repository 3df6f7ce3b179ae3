"""The watcher and the auto-heal policy with in-memory ports: one alarm per fault, one heal
per pass for the VNFCs together, cooldown, storm guard, busy instances left alone, alarms
cleared only once the VNFC answers again, and nothing raised twice after a restart."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from vnfm_runner.assurance import sync
from vnfm_runner.assurance.autoheal import AutohealPolicy, AutohealSettings, autoheal_enabled
from vnfm_runner.assurance.health import (
    HEALTH_HEALTHY,
    HEALTH_UNHEALTHY,
    HEALTH_UNKNOWN,
    ProbeResult,
)
from vnfm_runner.assurance.sync import InstanceSpec
from vnfm_runner.assurance.watcher import Busy, Watched, Watcher, WatchSettings, alarm_key

INST = "i-1"
PLAN = {
    "vnfcs": [{"id": v, "vduId": v.split("-")[0], "cps": []} for v in ("lb-0", "web-0", "web-1")]
}


@dataclass
class Fakes:
    present: set[str] = field(default_factory=lambda: {"lb-0", "web-0", "web-1"})
    busy: str | None = None
    autoheal: bool = True
    raised: list[str] = field(default_factory=list)
    cleared: list[str] = field(default_factory=list)
    heals: list[list[str]] = field(default_factory=list)
    refuse: bool = False
    open: dict[str, Any] = field(default_factory=dict)
    drift: list[Any] = field(default_factory=list)
    now: float = 0.0

    # Instances
    def watched(self) -> list[Watched]:
        spec = InstanceSpec(INST, PLAN, [object()])  # type: ignore[list-item]
        return [Watched(spec, autoheal=self.autoheal, busy=self.busy)]

    def known_ids(self) -> set[str]:
        return {INST}

    def record_drift(self, instance_id: str, drift: list[dict[str, Any]]) -> bool:
        self.drift.append(drift)
        return True

    # discovery
    def discover(self, spec: InstanceSpec) -> dict[str, Any]:
        return {"vnfcResourceInfo": [{"id": v} for v in sorted(self.present)]}

    # Alarms
    def raise_or_update(self, *, key: str, **kw: Any) -> Any:
        self.raised.append(key)
        self.open[key] = type("A", (), {"key": key, "perceivedSeverity": kw["severity"]})()
        return self.open[key]

    def clear(self, *, key: str) -> Any:
        self.cleared.append(key)
        return self.open.pop(key, None)

    def open_alarms(self, instance_id: str | None = None) -> list[Any]:
        return list(self.open.values())

    # Healer
    def heal(self, instance_id: str, vnfc_ids: list[str], cause: str) -> str:
        if self.refuse:
            raise Busy("busy")
        self.heals.append(vnfc_ids)
        return f"op-{len(self.heals)}"


@dataclass
class Probes:
    health: dict[str, str] = field(default_factory=dict)  # vnfc -> health (default healthy)

    def run(self, targets: Sequence[Any], *, only_due: bool = False) -> list[ProbeResult]:
        return [ProbeResult(t, self.health.get(t.vnfc_id, HEALTH_HEALTHY)) for t in targets]

    def forget(self, instance_id: str, vnfc_ids: Collection[str] | None = None) -> None:
        for v in vnfc_ids or list(self.health):
            self.health[v] = HEALTH_UNKNOWN


@dataclass(frozen=True)
class Target:
    """What drift.py reads of a ProbeTarget."""

    instance_id: str
    vnfc_id: str
    probe: Any = field(default_factory=lambda: type("P", (), {"id": "http"})())
    resource_id: str | None = None

    def describe(self) -> str:
        return "GET /health"


def fake_targets(instance_id: str, plan: Any, probes: Any, resources: Any, **_: Any) -> list[Any]:
    return [Target(instance_id, v["id"]) for v in resources["vnfcResourceInfo"]]


def make(fakes: Fakes, probes: Probes, **policy: Any) -> Watcher:
    return Watcher(
        instances=fakes,
        discover=fakes.discover,
        prober=probes,
        alarms=fakes,
        healer=fakes,
        policy=AutohealPolicy(AutohealSettings(**policy)),
        settings=WatchSettings(interval_s=0),
        clock=lambda: fakes.now,
    )


def test_one_alarm_one_heal_cleared_once_healthy(monkeypatch: Any) -> None:
    monkeypatch.setattr(sync, "targets_for", fake_targets)
    fakes, probes = Fakes(), Probes()
    w = make(fakes, probes, cooldown_s=30)
    w.run_pass()
    assert fakes.raised == [] and fakes.heals == []
    probes.health = {"web-0": HEALTH_UNHEALTHY, "web-1": HEALTH_UNHEALTHY}
    fakes.now = 1
    w.run_pass()  # both alarms, ONE heal of both
    key0 = alarm_key(INST, "web-0", "VNFC_UNHEALTHY")
    assert sorted(fakes.raised) == sorted([key0, alarm_key(INST, "web-1", "VNFC_UNHEALTHY")])
    assert fakes.heals == [["web-0", "web-1"]]
    assert probes.health["web-0"] == HEALTH_UNKNOWN  # forgotten: proves itself again
    w.run_pass()  # not yet answered: alarms stay, no second heal (cooldown)
    assert fakes.cleared == [] and len(fakes.heals) == 1
    probes.health = {"web-0": HEALTH_HEALTHY, "web-1": HEALTH_UNHEALTHY}
    fakes.now = 2
    w.run_pass()
    assert fakes.cleared == [key0] and len(fakes.heals) == 1  # web-1 cooling down
    assert len(fakes.raised) == 2  # the lasting fault is not raised again
    fakes.now = 40
    w.run_pass()
    assert fakes.heals[-1] == ["web-1"]


def test_busy_instances_storm_and_restart(monkeypatch: Any) -> None:
    monkeypatch.setattr(sync, "targets_for", fake_targets)
    fakes, probes = Fakes(), Probes()
    w = make(fakes, probes, cooldown_s=0, storm_heals=2, storm_window_s=100)
    fakes.present.discard("web-1")  # missing: CRITICAL alarm, healed
    fakes.busy = "operation x (HEAL) is FAILED_TEMP"
    w.run_pass()
    assert fakes.raised == [] and fakes.heals == []  # never while busy or FAILED_TEMP
    fakes.busy = None
    fakes.refuse = True
    w.run_pass()
    assert fakes.raised == [alarm_key(INST, "web-1", "VNFC_MISSING")] and fakes.heals == []
    fakes.refuse = False
    for t in (1, 2, 3):
        fakes.now = t
        w.run_pass()
    assert len(fakes.heals) == 2  # then the storm guard
    storm = alarm_key(INST, None, "AUTOHEAL_SUSPENDED")
    assert storm in fakes.open
    raised = len(fakes.raised)
    # a restart: the open alarms are taken over, nothing raised again, still suspended
    w2 = make(fakes, probes, cooldown_s=0, storm_heals=2, storm_window_s=100)
    w2.run_pass()
    w2.run_pass()
    assert len(fakes.raised) == raised and len(fakes.heals) == 2
    # auto-heal switched off: the suspension ends
    fakes.autoheal = False
    w2.run_pass()
    assert storm in fakes.cleared


def test_autoheal_switch() -> None:
    assert autoheal_enabled({"vnfConfigurableProperties": {"isAutohealEnabled": False}},
                            {"isAutohealEnabled": True}) is False  # fmt: skip
    assert autoheal_enabled({}, {"isAutohealEnabled": True}) is True
    assert autoheal_enabled({}, {"isAutohealEnabled": None}) is False
