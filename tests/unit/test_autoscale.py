"""Auto-scale: the pure policy (thresholds, durations, cooldown, hysteresis, bounds,
busy/FAILED_TEMP), the AutoScaler over in-memory ports (one operation per decision,
PM crossings, query errors), and the package declarations with FILE:LINE errors.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from vnfd_builders import base_vnfd, line_of, nodes, write_vnfd

from vnfm_runner.assurance.autoscale import (
    BUSY,
    COOLDOWN,
    FAILED_TEMP,
    HIGH,
    LOW,
    MAX_LEVEL,
    MID,
    MIN_LEVEL,
    NONE,
    SCALE_IN,
    SCALE_OUT,
    WOULD_FLAP,
    AutoScaler,
    AutoscaleRules,
    AutoscaleSettings,
    Busy,
    Rule,
    Scalable,
    Situation,
    Trigger,
    autoscale_enabled,
    stored_indicator,
)
from vnfm_runner.assurance.pm_events import ThresholdCrossing
from vnfm_runner.assurance.promql import PromError, Sample
from vnfm_runner.core import PackageError, Problem, load_vnf

RULE = Rule(
    id="r",
    aspect_id="web",
    scale_out_threshold=10,
    scale_in_threshold=3,
    scale_out_duration_s=10,
    scale_in_duration_s=20,
    cooldown_s=30,
)
IDLE = Situation(level=1, max_level=3, vnfcs=2, vnfcs_after_in=1)


def run(
    rules: AutoscaleRules, signals: list[tuple[float, str]], sit: Situation = IDLE
) -> list[Any]:
    return [rules.decide("i", RULE, s, sit, t, 20.0 if s == HIGH else 1.0) for t, s in signals]


def test_signal_band() -> None:
    assert [RULE.signal(v) for v in (None, 11, 10, 5, 3, 2.9)] == [NONE, HIGH, MID, MID, MID, LOW]


def test_out_only_after_the_signal_held_for_the_duration() -> None:
    rules = AutoscaleRules(max_gap_s=5)
    got = run(rules, [(0, HIGH), (5, HIGH), (9.9, HIGH), (10, HIGH)])
    assert [d.action for d in got] == [None, None, None, SCALE_OUT]
    assert got[-1].steps == 1


def test_a_dip_or_a_gap_restarts_the_duration() -> None:
    rules = AutoscaleRules(max_gap_s=5)
    got = run(rules, [(0, HIGH), (4, MID), (8, HIGH), (12, HIGH), (16, HIGH), (18, HIGH)])
    assert [d.action for d in got] == [None, None, None, None, None, SCALE_OUT]
    rules = AutoscaleRules(max_gap_s=5)
    got = run(rules, [(0, HIGH), (4, HIGH), (10, HIGH), (15, HIGH), (20, HIGH)])  # 6 s gap
    assert [d.action for d in got] == [None, None, None, None, SCALE_OUT]


def test_in_after_its_own_duration() -> None:
    rules = AutoscaleRules(max_gap_s=5)
    got = run(rules, [(t, LOW) for t in (0, 4, 8, 12, 16, 19)] + [(20, LOW)])
    assert [d.action for d in got][-2:] == [None, SCALE_IN]


def test_cooldown_after_an_automatic_operation_and_the_duration_counts_from_its_end() -> None:
    rules = AutoscaleRules(max_gap_s=5)
    sit = Situation(level=1, max_level=3, last_automatic_end=100.0)
    times = [95, 99, 103, 107, 111, 115, 119, 123, 127, 129, 130]
    got = run(rules, [(t, HIGH) for t in times], sit)
    # held since 95, but only counts from 100: due at 110, cooling until 130
    assert [d.suppressed for d in got] == [None] * 4 + [COOLDOWN] * 6 + [None]
    assert got[-1].action == SCALE_OUT


@pytest.mark.parametrize(
    ("sit", "signal", "reason"),
    [
        (Situation(level=3, max_level=3), HIGH, MAX_LEVEL),
        (Situation(level=0, max_level=3), LOW, MIN_LEVEL),
        (Situation(level=1, max_level=3, busy=True), HIGH, BUSY),
        (Situation(level=1, max_level=3, busy=True, failed_temp=True), LOW, FAILED_TEMP),
    ],
)
def test_bounds_busy_and_failed_temp(sit: Situation, signal: str, reason: str) -> None:
    rules = AutoscaleRules(max_gap_s=60)
    got = run(rules, [(0, signal), (30, signal)], sit)
    assert (got[-1].action, got[-1].suppressed) == (None, reason)


def test_steps_are_clipped_to_the_bounds() -> None:
    rule = Rule(id="r", aspect_id="web", scale_out_threshold=1, scale_in_threshold=0,
                scale_out_duration_s=0, scale_out_steps=5, scale_in_steps=5)  # fmt: skip
    rules = AutoscaleRules()
    out = rules.decide("i", rule, HIGH, Situation(level=1, max_level=3), 0, 2)
    assert (out.action, out.steps) == (SCALE_OUT, 2)


def test_scale_in_that_would_flap_back_is_suppressed() -> None:
    rules = AutoscaleRules(max_gap_s=60)
    # 2.9/VNFC over 4 VNFCs = 11.6 over 1: above 10 again at once
    sit = Situation(level=3, max_level=3, vnfcs=4, vnfcs_after_in=1)
    rules.decide("i", RULE, LOW, sit, 0, 2.9)
    assert rules.decide("i", RULE, LOW, sit, 25, 2.9).suppressed == WOULD_FLAP
    sit = Situation(level=3, max_level=3, vnfcs=4, vnfcs_after_in=3)
    assert rules.decide("i", RULE, LOW, sit, 50, 2.9).action == SCALE_IN


def test_started_requires_the_signal_to_hold_anew() -> None:
    rules = AutoscaleRules(max_gap_s=60)
    run(rules, [(0, HIGH)])
    assert run(rules, [(10, HIGH)])[0].action == SCALE_OUT
    rules.started("i", "r")
    assert run(rules, [(11, HIGH), (20, HIGH)])[-1].action is None


def test_switch_instance_then_package_then_off() -> None:
    on = {"vnfConfigurableProperties": {"isAutoscaleEnabled": True}}
    off = {"vnfConfigurableProperties": {"isAutoscaleEnabled": False}}
    assert autoscale_enabled(on, {}) is True
    assert autoscale_enabled(off, {"isAutoscaleEnabled": True}) is False
    assert autoscale_enabled({}, {"isAutoscaleEnabled": True}) is True
    assert autoscale_enabled({}, {"configurableProperties": {"is_autoscale_enabled": True}})
    assert autoscale_enabled({}, {}) is False
    assert (
        autoscale_enabled({"vnfConfigurableProperties": {"isAutoscaleEnabled": "yes"}}, {}) is False
    )


# -- the AutoScaler over in-memory ports ------------------------------------------------------
class Instances:
    def __init__(self, *items: Scalable) -> None:
        self.items = list(items)

    def scalables(self) -> list[Scalable]:
        return list(self.items)


class Scaler:
    def __init__(self, busy: bool = False) -> None:
        self.calls: list[tuple[str, str, str, int]] = []
        self.busy = busy

    def scale(self, instance_id: str, aspect_id: str, kind: str, steps: int) -> str:
        if self.busy:
            raise Busy("409")
        self.calls.append((instance_id, aspect_id, kind, steps))
        return f"op-{len(self.calls)}"


class Prom:
    def __init__(self) -> None:
        self.samples: list[Sample] = []
        self.queries: list[str] = []
        self.fail = False

    def query(self, expr: str, at: float | None = None) -> list[Sample]:
        self.queries.append(expr)
        if self.fail:
            raise PromError("down")
        return self.samples


def sample(inst: str, vnfc: str, value: float) -> Sample:
    return Sample({"vnf_instance_id": inst, "vnfc_id": vnfc}, value, 0.0)


def scalable(inst: str = "a", level: int = 1, **kw: Any) -> Scalable:
    trig = Trigger(rule=RULE, vdu_ids=("web",), metric="rate(x[15s])", removed_by_in={1: 1})
    return Scalable(inst, [trig], {"web": level}, {"web": 3}, {"web": level + 1}, **kw)


def scaler_with(items: Instances, prom: Prom, scaler: Scaler, clock: list[float]) -> AutoScaler:
    return AutoScaler(
        scalables=items,
        scaler=scaler,
        prometheus=prom,
        settings=AutoscaleSettings(tick_s=1, max_gap_s=5),
        registry=CollectorRegistry(),
        clock=lambda: clock[0],
    )


def test_the_scaler_averages_per_vnfc_and_starts_one_scale() -> None:
    prom, scaler, clock = Prom(), Scaler(), [0.0]
    # a: 2 webs at 12 + 10 = 11/web (above 10); b: 2 webs at 9 + 10 (9.5/web: in band)
    prom.samples = [sample("a", "web-0", 12), sample("a", "web-1", 10),
                    sample("b", "web-0", 9), sample("b", "web-1", 10)]  # fmt: skip
    auto = scaler_with(Instances(scalable("a"), scalable("b")), prom, scaler, clock)
    for t in range(0, 11):
        clock[0] = float(t)
        auto.evaluate()
    assert scaler.calls == [("a", "web", SCALE_OUT, 1)]
    assert len(prom.queries) == 11  # one query per expression and pass, not per instance
    assert auto.metrics.decisions.labels(SCALE_OUT)._value.get() == 1


def test_query_errors_break_the_duration_and_are_counted() -> None:
    prom, scaler, clock = Prom(), Scaler(), [0.0]
    prom.samples = [sample("a", "web-0", 30), sample("a", "web-1", 30)]
    auto = scaler_with(Instances(scalable("a")), prom, scaler, clock)
    for t in range(0, 17):
        clock[0] = float(t)
        prom.fail = t == 6
        auto.evaluate()
    assert scaler.calls == []  # held since 7 only
    clock[0] = 17.0
    assert auto.evaluate() == [("a", "web", SCALE_OUT, 1, "op-1")]
    assert auto.metrics.errors._value.get() == 1


def test_busy_answer_is_suppressed_and_retried() -> None:
    prom, scaler, clock = Prom(), Scaler(busy=True), [0.0]
    prom.samples = [sample("a", "web-0", 30)]
    auto = scaler_with(Instances(scalable("a")), prom, scaler, clock)
    for t in range(0, 12):
        clock[0] = float(t)
        auto.evaluate()
    assert auto.metrics.suppressed.labels(BUSY)._value.get() == 2
    scaler.busy = False
    clock[0] = 12.0
    assert auto.evaluate() == [("a", "web", SCALE_OUT, 1, "op-1")]


def test_pm_threshold_crossings_drive_a_rule() -> None:
    rule = Rule(id="cpu", aspect_id="web", scale_out_duration_s=2, scale_in_duration_s=2,
                cooldown_s=0)  # fmt: skip
    trig = Trigger(rule=rule, vdu_ids=("web",), pm_threshold="VCpuUsageMeanVnf")
    inst = Scalable("a", [trig], {"web": 1}, {"web": 3}, {"web": 2})
    scaler, clock = Scaler(), [0.0]
    auto = scaler_with(Instances(inst), Prom(), scaler, clock)

    def cross(direction: str, metric: str = "VCpuUsageMeanVnf", inst: str = "a") -> None:
        auto.on_crossing(ThresholdCrossing("t1", inst, metric, None, direction, 90.0, clock[0]))

    cross("UP", metric="ByteIncomingVnfExtCp")  # another metric
    cross("UP", inst="b")  # another instance
    for t in range(0, 4):
        clock[0] = float(t)
        auto.evaluate()
    assert scaler.calls == []
    cross("UP")
    for t in range(4, 7):
        clock[0] = float(t)
        auto.evaluate()
    assert scaler.calls == [("a", "web", SCALE_OUT, 1)]
    cross("DOWN")
    for t in range(7, 10):
        clock[0] = float(t)
        auto.evaluate()
    assert scaler.calls[-1] == ("a", "web", SCALE_IN, 1)


def test_indicator_values_drive_a_rule() -> None:
    """A VNF indicator as the trigger: its recorded numeric value against the band; a
    value that is not a finite number, or a store that fails, gives no signal."""
    rule = Rule(id="rps", aspect_id="web", scale_out_threshold=10, scale_in_threshold=3,
                scale_out_duration_s=2, scale_in_duration_s=2, cooldown_s=0, per_vnfc=False)  # fmt: skip
    trig = Trigger(rule=rule, vdu_ids=("web",), indicator="requests_per_second",
                   removed_by_in={1: 1, 2: 1})  # fmt: skip
    inst = Scalable("a", [trig], {"web": 1}, {"web": 3}, {"web": 2})
    values: dict[tuple[str, str], Any] = {("a", "requests_per_second"): "busy"}
    asked: list[tuple[str, str]] = []

    def indicator(instance_id: str, indicator_id: str) -> Any:
        asked.append((instance_id, indicator_id))
        value = values[(instance_id, indicator_id)]
        if isinstance(value, Exception):
            raise value
        return value

    scaler, clock = Scaler(), [0.0]
    auto = AutoScaler(
        scalables=Instances(inst),
        scaler=scaler,
        prometheus=Prom(),
        indicators=indicator,
        settings=AutoscaleSettings(tick_s=1, max_gap_s=5),
        registry=CollectorRegistry(),
        clock=lambda: clock[0],
    )

    def tick(until: int) -> None:
        while clock[0] < until:
            clock[0] += 1
            auto.evaluate()

    for value in ("busy", float("nan"), True, RuntimeError("store gone")):
        values[("a", "requests_per_second")] = value
        tick(int(clock[0]) + 4)
    assert scaler.calls == []
    assert auto.metrics.errors._value.get() == 4  # the failing store, once per pass
    values[("a", "requests_per_second")] = 25  # total, not per VNFC: 25 > 10
    tick(int(clock[0]) + 3)
    assert scaler.calls == [("a", "web", SCALE_OUT, 1)]
    values[("a", "requests_per_second")] = 1.5
    tick(int(clock[0]) + 3)
    assert scaler.calls[-1] == ("a", "web", SCALE_IN, 1)
    assert set(asked) == {("a", "requests_per_second")}


def test_stored_indicator_reads_what_the_indicator_service_recorded(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from vnfm_runner.bootstrap import open_store
    from vnfm_runner.store.tables import IndicatorRow

    store = open_store(f"sqlite:///{tmp_path / 'vnfm.db'}")
    stamp = datetime.now(UTC)
    with store.session() as s:
        s.add(IndicatorRow(vnf_instance_id="a", indicator_id="rps", name=None, value=12.5,
                           created_at=stamp, changed_at=stamp))  # fmt: skip
    read = stored_indicator(store)
    assert (read("a", "rps"), read("a", "other"), read("b", "rps")) == (12.5, None, None)


# -- declarations --------------------------------------------------------------------------
AUTOSCALE_TYPE = {
    "derived_from": "tosca.policies.Root",
    "properties": {
        "aspect": {"type": "string"},
        "metric": {"type": "string", "required": False},
        "pm_threshold": {"type": "string", "required": False},
        "indicator": {"type": "string", "required": False},
        "aggregation": {"type": "string", "default": "per_vnfc"},
        "scale_out_threshold": {"type": "float", "required": False},
        "scale_in_threshold": {"type": "float", "required": False},
        "scale_out_duration": {"type": "scalar-unit.time", "default": "30 s"},
        "scale_in_duration": {"type": "scalar-unit.time", "default": "60 s"},
        "scale_out_steps": {"type": "integer", "default": 1},
        "scale_in_steps": {"type": "integer", "default": 1},
        "cooldown": {"type": "scalar-unit.time", "default": "120 s"},
    },
}
GOOD = {
    "aspect": "VDU1_aspect",
    "metric": "rate(app_requests_total[30s])",
    "scale_out_threshold": 50,
    "scale_in_threshold": 10.5,
    "scale_out_duration": "15 s",
    "scale_out_steps": 2,
    "cooldown": "1 m",
}
VNFD = "Definitions/vnfd.yaml"


def with_policy(props: dict[str, Any], name: str = "as", **extra: Any) -> dict[str, Any]:
    doc = base_vnfd()
    doc["policy_types"] = {"vnfm.policies.AutoScale": AUTOSCALE_TYPE}
    body = {"type": "vnfm.policies.AutoScale", "properties": props, **extra}
    doc["topology_template"]["policies"].append({name: body})
    return doc


def test_a_good_policy_is_parsed_with_defaults(tmp_path: Path) -> None:
    write_vnfd(tmp_path / "pkg", with_policy(GOOD))
    model, _ = load_vnf(tmp_path / "pkg")
    (p,) = model.flavours[0].autoscale_policies
    assert (p.id, p.aspect_id, p.vdu_ids, p.metric, p.aggregation) == (
        "as", "VDU1_aspect", ["VDU1"], "rate(app_requests_total[30s])", "per_vnfc"
    )  # fmt: skip
    assert (p.scale_out_threshold, p.scale_in_threshold, p.scale_out_steps, p.scale_in_steps) == (
        50.0, 10.5, 2, 1
    )  # fmt: skip
    assert (p.scale_out_duration_s, p.scale_in_duration_s, p.cooldown_s) == (15.0, 60.0, 60.0)
    rule = Rule.of(p)
    assert rule.per_vnfc and rule.scale_out_steps == 2


def test_pm_threshold_policy_and_package_default(tmp_path: Path) -> None:
    doc = with_policy({"aspect": "VDU1_aspect", "pm_threshold": "VCpuUsageMeanVnf"})
    nodes(doc)["VNF"]["properties"]["configurable_properties"] = {"is_autoscale_enabled": True}
    write_vnfd(tmp_path / "pkg", doc)
    model, _ = load_vnf(tmp_path / "pkg")
    (p,) = model.flavours[0].autoscale_policies
    assert (p.pm_threshold, p.metric) == ("VCpuUsageMeanVnf", None)
    assert model.is_autoscale_enabled is True


INDICATOR_TYPE = {"derived_from": "tosca.policies.nfv.VnfIndicator",
                  "properties": {"prometheus": {"type": "string", "required": False}}}  # fmt: skip
RPS = {"source": "vnf", "prometheus": "sum(rate(x_total[30s]))"}


def with_indicator_policy(props: dict[str, Any]) -> dict[str, Any]:
    doc = with_policy(props)
    doc["policy_types"]["vnfm.policies.VnfIndicator"] = INDICATOR_TYPE
    doc["topology_template"]["policies"].append(
        {"rps": {"type": "vnfm.policies.VnfIndicator", "properties": RPS, "targets": ["VNF"]}}
    )
    return doc


def test_indicator_policy_is_parsed_with_total_aggregation(tmp_path: Path) -> None:
    props = {"aspect": "VDU1_aspect", "indicator": "rps", "scale_out_threshold": 40,
             "scale_in_threshold": 10}  # fmt: skip
    write_vnfd(tmp_path / "pkg", with_indicator_policy(props))
    model, _ = load_vnf(tmp_path / "pkg")
    (p,) = model.flavours[0].autoscale_policies
    assert (p.indicator, p.metric, p.pm_threshold, p.aggregation) == ("rps", None, None, "total")
    assert (p.scale_out_threshold, p.scale_in_threshold) == (40.0, 10.0)
    assert not Rule.of(p).per_vnfc
    write_vnfd(tmp_path / "pkg2", with_indicator_policy({**props, "aggregation": "per_vnfc"}))
    model, _ = load_vnf(tmp_path / "pkg2")
    assert Rule.of(model.flavours[0].autoscale_policies[0]).per_vnfc


def test_an_unknown_indicator_is_named_with_file_and_line(tmp_path: Path) -> None:
    props = {"aspect": "VDU1_aspect", "indicator": "nope", "scale_out_threshold": 40,
             "scale_in_threshold": 10}  # fmt: skip
    text = write_vnfd(tmp_path / "pkg", with_indicator_policy(props))
    with pytest.raises(PackageError) as info:
        load_vnf(tmp_path / "pkg")
    assert [str(p) for p in info.value.problems if p.severity == "error"] == [
        f"{VNFD}:{line_of(text, 'indicator: nope')}: auto-scale policy 'as': indicator 'nope' "
        "is not a VNF indicator of the flavour (rps)"
    ]
    props = {**props, "indicator": "rps", "metric": "rate(x[1m])"}
    text = write_vnfd(tmp_path / "pkg2", with_indicator_policy(props))
    with pytest.raises(PackageError) as info:
        load_vnf(tmp_path / "pkg2")
    (err,) = [str(p) for p in info.value.problems if p.severity == "error"]
    assert err == (
        f"{VNFD}:{line_of(text, 'metric: rate')}: auto-scale policy 'as': give exactly one of "
        "metric (a PromQL expression), pm_threshold and indicator"
    )


@pytest.mark.parametrize(
    ("props", "needle", "message"),
    [
        ({**GOOD, "aspect": "nope"}, "aspect: nope", "aspect 'nope' is not a scaling aspect of the flavour"),
        ({**GOOD, "scale_in_threshold": 50}, "scale_in_threshold: 50", "scale_in_threshold (50) must be below scale_out_threshold (50): the band between them keeps the policy from flapping"),
        ({**GOOD, "scale_out_threshold": "lots"}, "scale_out_threshold: lots", "scale_out_threshold 'lots' must be a number"),
        ({**GOOD, "scale_out_threshold": float("nan")}, "scale_out_threshold: .nan", "scale_out_threshold nan must be a number"),
        ({**GOOD, "scale_out_steps": 5}, "scale_out_steps: 5", "scale_out_steps 5 exceeds the max_scale_level (4) of aspect 'VDU1_aspect'"),
        ({**GOOD, "scale_in_steps": 0}, "scale_in_steps: 0", "scale_in_steps 0 must be an integer >= 1"),
        ({**GOOD, "cooldown": "soon"}, "cooldown: soon", "cooldown 'soon' is not a time (e.g. '30 s')"),
        ({**GOOD, "aggregation": "max"}, "aggregation: max", "aggregation must be one of per_vnfc, total, not 'max'"),
        ({**GOOD, "metric": "x{{ 1 }}"}, "metric: x{{ 1 }}", "metric must be a PromQL expression (at most 2000 characters, no template marks)"),
        ({**GOOD, "pm_threshold": "VCpuUsageMeanVnf"}, "metric: rate", "give exactly one of metric (a PromQL expression), pm_threshold and indicator"),
        ({"aspect": "VDU1_aspect", "pm_threshold": "VCpu", "scale_out_threshold": 3}, "scale_out_threshold: 3", "scale_out_threshold is not used with pm_threshold (the threshold's own value is)"),
    ],
)  # fmt: skip
def test_declaration_errors_name_file_and_line(
    tmp_path: Path, props: dict[str, Any], needle: str, message: str
) -> None:
    text = write_vnfd(tmp_path / "pkg", with_policy(props))
    with pytest.raises(PackageError) as info:
        load_vnf(tmp_path / "pkg")
    found = [
        str(p) for p in info.value.problems if isinstance(p, Problem) and p.severity == "error"
    ]
    assert found == [f"{VNFD}:{line_of(text, needle)}: auto-scale policy 'as': {message}"]


def test_two_policies_on_one_aspect_and_bad_targets(tmp_path: Path) -> None:
    doc = with_policy(GOOD)
    doc["topology_template"]["policies"].append(
        {"as2": {"type": "vnfm.policies.AutoScale", "properties": dict(GOOD), "targets": ["VL1"]}}
    )
    text = write_vnfd(tmp_path / "pkg", doc)
    with pytest.raises(PackageError) as info:
        load_vnf(tmp_path / "pkg")
    found = [str(p) for p in info.value.problems if p.severity == "error"]
    assert found == [
        f"{VNFD}:{line_of(text, '- VL1') - 1}: auto-scale policy 'as2': targets must be VDUs "
        "of the flavour, not ['VL1']"
    ]
    doc["topology_template"]["policies"][-1]["as2"].pop("targets")
    write_vnfd(tmp_path / "pkg2", doc)
    with pytest.raises(PackageError) as info:
        load_vnf(tmp_path / "pkg2")
    (err,) = [str(p) for p in info.value.problems if p.severity == "error"]
    assert err.endswith(
        "auto-scale policy 'as2': aspect 'VDU1_aspect' already has an auto-scale policy"
    )


def test_is_autoscale_enabled_must_be_a_boolean(tmp_path: Path) -> None:
    doc = base_vnfd()
    nodes(doc)["VNF"]["properties"]["configurable_properties"] = {"is_autoscale_enabled": "yes"}
    text = write_vnfd(tmp_path / "pkg", doc)
    with pytest.raises(PackageError) as info:
        load_vnf(tmp_path / "pkg")
    assert [str(p) for p in info.value.problems if p.severity == "error"] == [
        f"{VNFD}:{line_of(text, 'is_autoscale_enabled:')}: configurable_properties."
        "is_autoscale_enabled must be true or false, not 'yes'"
    ]


def test_webfarm_declares_its_policy() -> None:
    root = Path(__file__).resolve().parents[2] / "examples" / "packages" / "webfarm"
    model, _ = load_vnf(root)
    (p,) = model.flavour("default").autoscale_policies  # type: ignore[union-attr]
    assert (p.aspect_id, p.vdu_ids, p.aggregation) == ("web", ["web"], "per_vnfc")
    assert "webfarm_requests_total" in (p.metric or "")
    assert p.scale_in_threshold is not None and p.scale_out_threshold is not None
    assert p.scale_in_threshold < p.scale_out_threshold


# -- the switch in requests (instantiate, modify) ----------------------------------------------
@pytest.mark.parametrize("key", ["isAutoscaleEnabled", "isAutohealEnabled"])
def test_the_switches_must_be_booleans(key: str) -> None:
    from tests.unit.lcm.fakes import REQUEST, World
    from vnfm_runner.domain import Operation
    from vnfm_runner.errors import LcmError
    from vnfm_runner.lcm import instantiation, operations

    world = World()
    inst = world.instance()
    with pytest.raises(LcmError) as info:
        instantiation.begin(
            world.ports,
            instance_id=inst,
            request={**REQUEST, "vnfConfigurableProperties": {key: "on"}},
            vim_name=None,
            default_vim="local",
            auto_rollback=True,
        )
    assert (info.value.status, str(info.value)) == (
        400,
        f"vnfConfigurableProperties.{key} must be true or false, not 'on'",
    )
    with pytest.raises(LcmError) as info:
        operations.begin(
            world.ports,
            instance_id=inst,
            operation=Operation.MODIFY_INFO,
            request={"vnfConfigurableProperties": {key: 1}},
        )
    assert info.value.status == 400 and key in str(info.value)
    # true at instantiation, null in a modification (back to the package default): accepted
    operations.begin(
        world.ports,
        instance_id=inst,
        operation=Operation.MODIFY_INFO,
        request={"vnfConfigurableProperties": {key: None}},
    )
