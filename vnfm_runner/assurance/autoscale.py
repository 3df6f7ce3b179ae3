"""Auto-scale: the package's ``vnfm.policies.AutoScale`` rules, evaluated and acted on.

Shaped like auto-heal: a pure policy object decides (:class:`AutoscaleRules`, over
plain numbers and a clock), ports do the rest - :class:`Scalables` says what the
instances are (store), :class:`Scaler` runs ONE ordinary SCALE through the LCM
service (``run_operation(SCALE, wait=False, automatic=True)``: the engine's grants,
notifications, hooks; ``isAutomaticInvocation: true``), and :class:`AutoScaler`
evaluates every ``tick_s`` with Prometheus (promql.py) and listens to vnfpm/v2
threshold crossings (pm_events.py).

The switch is SOL003's ``vnfConfigurableProperties.isAutoscaleEnabled`` of the
instance, defaulting to the package's ``is_autoscale_enabled``; off when neither
says. Safety, per instance and aspect:

* "stays above X for D seconds" is measured over consecutive evaluations: a missing
  value, one inside the band, or a gap between evaluations longer than ``max_gap_s``
  (Prometheus unreachable, the server stopped) starts it again; it cannot start
  before the end of the instance's last automatic operation (the old capacity's load
  says nothing about the new one);
* a cooldown after every automatic operation of the instance, counted from its end
  as recorded on the VnfLcmOpOcc (``stateEnteredTime``): a restart keeps it;
* never above the aspect's max scale level nor below 0 (the steps are clipped; at
  the bound nothing is started); no decision while an operation of the instance is
  not final (FAILED_TEMP included: a person decides what happens to it);
* hysteresis: scale-in below Y < X only; with ``per_vnfc`` aggregation also not when
  the same load over the VNFCs left would be above X again (it would flap back).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from prometheus_client import CollectorRegistry, Counter
from sqlalchemy import select

from vnfm_runner.assurance.instances import StampedCache, read_instantiated
from vnfm_runner.assurance.pm_events import DOWN, UP, ThresholdCrossing
from vnfm_runner.assurance.promql import PromError
from vnfm_runner.assurance.rules import INSTANCE_LABEL
from vnfm_runner.domain import Operation, OperationState
from vnfm_runner.domain.records import VnfPackageRecord
from vnfm_runner.errors import LcmError
from vnfm_runner.package_models import package_model
from vnfm_runner.store.db import Store
from vnfm_runner.store.tables import IndicatorRow, OperationRow

log = logging.getLogger("vnfm.autoscale")

AUTOSCALE_PROPERTY = "isAutoscaleEnabled"
SCALE_OUT, SCALE_IN = "SCALE_OUT", "SCALE_IN"
HIGH, LOW, MID, NONE = "high", "low", "mid", "none"
# Reasons a due decision was not acted on (vnfm_autoscale_suppressed_total{reason})
COOLDOWN, BUSY, FAILED_TEMP = "cooldown", "busy", "failed_temp"
MAX_LEVEL, MIN_LEVEL, WOULD_FLAP, REFUSED = "max_level", "min_level", "would_flap", "refused"


def autoscale_enabled(instance_doc: Mapping[str, Any], package_summary: Mapping[str, Any]) -> bool:
    """The instance's switch, else the package's default, else off."""
    props = instance_doc.get("vnfConfigurableProperties") or {}
    value = props.get(AUTOSCALE_PROPERTY) if isinstance(props, Mapping) else None
    if isinstance(value, bool):
        return value
    if package_summary.get(AUTOSCALE_PROPERTY) is True:
        return True
    conf = package_summary.get("configurableProperties") or {}  # onboarded before the key
    return isinstance(conf, Mapping) and conf.get("is_autoscale_enabled") is True


# -- the policy (pure) ------------------------------------------------------------------------
@dataclass(frozen=True)
class Rule:
    """The numbers of one ``vnfm.policies.AutoScale`` policy (from the package model)."""

    id: str
    aspect_id: str
    scale_out_threshold: float | None = None  # None: the signal comes from PM thresholds
    scale_in_threshold: float | None = None
    scale_out_duration_s: float = 30.0
    scale_in_duration_s: float = 60.0
    scale_out_steps: int = 1
    scale_in_steps: int = 1
    cooldown_s: float = 120.0
    per_vnfc: bool = True

    @classmethod
    def of(cls, policy: Any) -> Rule:
        """From the model's ``AutoScalePolicy`` (vnfd/autoscale.py)."""
        return cls(
            id=policy.id,
            aspect_id=policy.aspect_id,
            scale_out_threshold=policy.scale_out_threshold,
            scale_in_threshold=policy.scale_in_threshold,
            scale_out_duration_s=policy.scale_out_duration_s,
            scale_in_duration_s=policy.scale_in_duration_s,
            scale_out_steps=policy.scale_out_steps,
            scale_in_steps=policy.scale_in_steps,
            cooldown_s=policy.cooldown_s,
            per_vnfc=policy.aggregation == "per_vnfc",
        )

    def signal(self, value: float | None) -> str:
        if value is None:
            return NONE
        if self.scale_out_threshold is not None and value > self.scale_out_threshold:
            return HIGH
        if self.scale_in_threshold is not None and value < self.scale_in_threshold:
            return LOW
        return MID


@dataclass(frozen=True)
class Situation:
    """What is known of the instance at one evaluation."""

    level: int  # the aspect's scale level now
    max_level: int
    busy: bool = False  # an operation of the instance is not final
    failed_temp: bool = False  # ... and it is FAILED_TEMP
    last_automatic_end: float | None = None  # end of its last automatic operation (epoch s)
    vnfcs: int = 0  # VNFCs of the rule's VDUs now (per_vnfc)
    vnfcs_after_in: int = 0  # ... after a scale-in by the rule's steps


@dataclass(frozen=True)
class Decision:
    action: str | None  # SCALE_OUT | SCALE_IN | None
    steps: int = 0
    suppressed: str | None = None  # why a due decision was not taken
    signal: str = NONE


@dataclass
class _Track:
    signal: str = NONE
    since: float | None = None  # the signal has held since (None: not HIGH/LOW)
    seen: float | None = None  # last evaluation


class AutoscaleRules:
    """How long each (instance, rule) signal has held; what to do now. Epoch seconds."""

    def __init__(self, max_gap_s: float = 30.0) -> None:
        self.max_gap_s = max_gap_s
        self._tracks: dict[tuple[str, str], _Track] = {}

    def held(self, instance_id: str, rule_id: str) -> tuple[str, float | None]:
        track = self._tracks.get((instance_id, rule_id))
        return (track.signal, track.since) if track else (NONE, None)

    def observe(self, instance_id: str, rule_id: str, signal: str, now: float) -> _Track:
        track = self._tracks.setdefault((instance_id, rule_id), _Track())
        gap = track.seen is not None and now - track.seen > self.max_gap_s
        if signal != track.signal or gap or signal not in (HIGH, LOW):
            track.since = now if signal in (HIGH, LOW) else None
        track.signal, track.seen = signal, now
        return track

    def decide(
        self,
        instance_id: str,
        rule: Rule,
        signal: str,
        situation: Situation,
        now: float,
        value: float | None = None,
    ) -> Decision:
        track = self.observe(instance_id, rule.id, signal, now)
        if track.since is None:
            return Decision(None, signal=signal)
        since = track.since
        if situation.last_automatic_end is not None:
            since = max(since, situation.last_automatic_end)
        out = signal == HIGH
        needed = rule.scale_out_duration_s if out else rule.scale_in_duration_s
        if now - since < needed:
            return Decision(None, signal=signal)  # not long enough yet
        action = SCALE_OUT if out else SCALE_IN

        def no(reason: str) -> Decision:
            return Decision(None, suppressed=reason, signal=signal)

        if situation.failed_temp:
            return no(FAILED_TEMP)
        if situation.busy:
            return no(BUSY)
        last = situation.last_automatic_end
        if last is not None and now - last < rule.cooldown_s:
            return no(COOLDOWN)
        if out:
            steps = min(rule.scale_out_steps, situation.max_level - situation.level)
            if steps <= 0:
                return no(MAX_LEVEL)
        else:
            steps = min(rule.scale_in_steps, situation.level)
            if steps <= 0:
                return no(MIN_LEVEL)
            if (
                rule.per_vnfc
                and value is not None
                and rule.scale_out_threshold is not None
                and situation.vnfcs_after_in > 0
            ):
                projected = value * situation.vnfcs / situation.vnfcs_after_in
                if projected > rule.scale_out_threshold:
                    return no(WOULD_FLAP)
        return Decision(action, steps, signal=signal)

    def started(self, instance_id: str, rule_id: str) -> None:
        """An operation was started for the rule: its signal must hold anew."""
        self._tracks.pop((instance_id, rule_id), None)

    def forget(self, instance_id: str) -> None:
        for key in [k for k in self._tracks if k[0] == instance_id]:
            del self._tracks[key]


# -- ports ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Trigger:
    """One rule of an instance and where its signal comes from."""

    rule: Rule
    vdu_ids: tuple[str, ...] = ()
    metric: str | None = None  # PromQL (samples labelled vnf_instance_id)
    pm_threshold: str | None = None  # performance metric of vnfpm/v2 thresholds
    indicator: str | None = None  # a VNF indicator of the instance (its numeric value)
    # VNFCs of the rule's VDUs removed by a scale-in from level n (n -> removed)
    removed_by_in: Mapping[int, int] = field(default_factory=dict)
    max_level: int = 0  # the aspect's, when the record does not say


@dataclass(frozen=True)
class Scalable:
    """An INSTANTIATED instance with auto-scale on, as the scaler sees it."""

    instance_id: str
    triggers: Sequence[Trigger]
    levels: Mapping[str, int]  # aspect -> scale level
    max_levels: Mapping[str, int]
    vnfcs_of: Mapping[str, int]  # VDU -> VNFCs now
    busy: bool = False
    failed_temp: bool = False
    last_automatic_end: float | None = None


class Scalables(Protocol):
    def scalables(self) -> list[Scalable]:
        """Every INSTANTIATED instance whose auto-scale switch is on (with its rules)."""


class Busy(Exception):
    """The instance has an operation in flight: the next evaluation sees it."""


class Scaler(Protocol):
    def scale(self, instance_id: str, aspect_id: str, kind: str, steps: int) -> str:
        """Start ONE automatic SCALE; its operation id. Busy when the instance has an
        operation in flight; any other error is the request's."""


class IndicatorValue(Protocol):
    """The last recorded value of a VNF indicator of an instance (None: not valued)."""

    def __call__(self, instance_id: str, indicator_id: str) -> Any: ...


class Query(Protocol):
    def query(self, expr: str, at: float | None = None) -> Sequence[Any]: ...


class AutoscaleMetrics:
    """``vnfm_autoscale_decisions_total{type}``, ``vnfm_autoscale_suppressed_total{reason}``."""

    def __init__(self, registry: CollectorRegistry | None) -> None:
        self.decisions = Counter(
            "vnfm_autoscale_decisions",
            "Automatic SCALE operations started, by type",
            ["type"],
            registry=registry,
        )
        self.suppressed = Counter(
            "vnfm_autoscale_suppressed",
            "Evaluations where a scale was due but not started, by reason",
            ["reason"],
            registry=registry,
        )
        self.errors = Counter(
            "vnfm_autoscale_query_errors",
            "Auto-scale metric queries Prometheus did not answer",
            registry=registry,
        )


@dataclass(frozen=True)
class AutoscaleSettings:
    tick_s: float = 5.0  # evaluation period
    max_gap_s: float = 30.0  # evaluations further apart than this restart a duration


class AutoScaler:
    """Evaluates every ``tick_s`` (a thread of ``vnfm serve``) and on PM crossings."""

    def __init__(
        self,
        *,
        scalables: Scalables,
        scaler: Scaler,
        prometheus: Query | None,
        indicators: IndicatorValue | None = None,
        settings: AutoscaleSettings | None = None,
        registry: CollectorRegistry | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.scalables = scalables
        self.scaler = scaler
        self.prometheus = prometheus
        self.indicators = indicators
        self.settings = settings or AutoscaleSettings()
        self.rules = AutoscaleRules(self.settings.max_gap_s)
        self.metrics = AutoscaleMetrics(registry)
        self.clock = clock
        self._lock = threading.Lock()  # one evaluation at a time
        self._crossings: dict[tuple[str, str], dict[str, str]] = {}  # (inst, metric) -> thr -> dir
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- PM thresholds -------------------------------------------------------------------
    def on_crossing(self, crossing: ThresholdCrossing) -> None:
        """A committed vnfpm/v2 threshold crossing (PmService listener)."""
        if crossing.direction not in (UP, DOWN):
            return
        key = (crossing.vnf_instance_id, crossing.performance_metric)
        with self._lock:
            self._crossings.setdefault(key, {})[crossing.threshold_id] = crossing.direction

    def _pm_signal(self, instance_id: str, metric: str) -> str:
        states = self._crossings.get((instance_id, metric)) or {}
        if any(d == UP for d in states.values()):
            return HIGH
        return LOW if states else NONE

    # -- evaluation ----------------------------------------------------------------------
    def _values(
        self, expr: str, cache: dict[str, dict[str, float] | None]
    ) -> dict[str, float] | None:
        """The expression's sum per instance (one query per expression and pass)."""
        if expr in cache:
            return cache[expr]
        out: dict[str, float] | None = None
        if self.prometheus is not None:
            try:
                sums: dict[str, float] = {}
                for s in self.prometheus.query(expr):
                    inst = s.labels.get(INSTANCE_LABEL)
                    if inst and s.finite:
                        sums[inst] = sums.get(inst, 0.0) + s.value
                out = sums
            except PromError as exc:
                self.metrics.errors.inc()
                log.warning("auto-scale: %s", exc)
        cache[expr] = out
        return out

    def _indicator(self, instance_id: str, indicator_id: str) -> float | None:
        """The indicator's last recorded value if it is a finite number (a string value,
        e.g. an enumerated state, gives no signal)."""
        if self.indicators is None:
            return None
        try:
            value = self.indicators(instance_id, indicator_id)
        except Exception as exc:  # the store is busy or gone: no signal this pass
            self.metrics.errors.inc()
            log.warning("auto-scale: indicator %s of %s: %s", indicator_id, instance_id, exc)
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        return float(value) if math.isfinite(value) else None

    def evaluate(self) -> list[tuple[str, str, str, int, str]]:
        """One pass; the operations started (instance, aspect, type, steps, op id)."""
        started = []
        with self._lock:
            now = self.clock()
            cache: dict[str, dict[str, float] | None] = {}
            seen = set()
            for inst in self.scalables.scalables():
                seen.add(inst.instance_id)
                for trig in inst.triggers:
                    op = self._one(inst, trig, now, cache)
                    if op is not None:
                        started.append(op)
                        break  # one operation per instance and pass
            for key in [k for k in self._crossings if k[0] not in seen]:
                del self._crossings[key]
        return started

    def _one(
        self,
        inst: Scalable,
        trig: Trigger,
        now: float,
        cache: dict[str, dict[str, float] | None],
    ) -> tuple[str, str, str, int, str] | None:
        rule = trig.rule
        value: float | None = None
        vnfcs = sum(inst.vnfcs_of.get(v, 0) for v in trig.vdu_ids)
        if trig.metric is not None or trig.indicator is not None:
            if trig.metric is not None:
                sums = self._values(trig.metric, cache)
                total = sums.get(inst.instance_id) if sums is not None else None
            else:
                total = self._indicator(inst.instance_id, trig.indicator or "")
            if total is not None and rule.per_vnfc:
                value = total / vnfcs if vnfcs else None
            else:
                value = total
            signal = rule.signal(value)
        else:
            signal = self._pm_signal(inst.instance_id, trig.pm_threshold or "")
        level = inst.levels.get(rule.aspect_id, 0)
        situation = Situation(
            level=level,
            max_level=inst.max_levels.get(rule.aspect_id, trig.max_level),
            busy=inst.busy,
            failed_temp=inst.failed_temp,
            last_automatic_end=inst.last_automatic_end,
            vnfcs=vnfcs,
            vnfcs_after_in=vnfcs - trig.removed_by_in.get(level, 0),
        )
        decision = self.rules.decide(inst.instance_id, rule, signal, situation, now, value)
        if decision.suppressed is not None:
            self.metrics.suppressed.labels(decision.suppressed).inc()
            return None
        if decision.action is None:
            return None
        try:
            op_id = self.scaler.scale(
                inst.instance_id, rule.aspect_id, decision.action, decision.steps
            )
        except Busy:
            self.metrics.suppressed.labels(BUSY).inc()
            return None
        except Exception as exc:  # refused (e.g. beyond a VDU's max): wait a cooldown
            self.metrics.suppressed.labels(REFUSED).inc()
            log.warning(
                "auto-scale %s of %s (%s) not started: %s",
                decision.action,
                inst.instance_id,
                rule.aspect_id,
                exc,
            )
            self.rules.started(inst.instance_id, rule.id)
            return None
        self.rules.started(inst.instance_id, rule.id)
        self.metrics.decisions.labels(decision.action).inc()
        log.info(
            "auto-scale: %s %s of %s by %d (value %s, rule %s): operation %s",
            decision.action,
            rule.aspect_id,
            inst.instance_id,
            decision.steps,
            "n/a" if value is None else f"{value:g}",
            rule.id,
            op_id,
        )
        return (inst.instance_id, rule.aspect_id, decision.action, decision.steps, op_id)

    # -- the thread ----------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="vnfm-autoscale", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.settings.tick_s):
            try:
                self.evaluate()
            except Exception:
                log.exception("auto-scale evaluation failed")

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None


# -- the real ports ----------------------------------------------------------------------------
def _epoch(value: Any) -> float | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


class StoreScalables:
    """The instances with auto-scale on and their rules, read from the store."""

    def __init__(self, store: Store, stamp: Callable[[], int] | None = None) -> None:
        self.store = store
        self._cache: StampedCache[Scalable] = StampedCache(stamp)
        self._models: dict[tuple[str, str], list[Trigger]] = {}

    def _triggers(self, pkg: VnfPackageRecord, flavour_id: str) -> list[Trigger]:
        key = (pkg.id, flavour_id)
        if key not in self._models:
            model = package_model(pkg.path)
            flavour = model.flavour(flavour_id)
            out = []
            for p in flavour.autoscale_policies if flavour else []:
                aspect = flavour.aspect(p.aspect_id) if flavour else None
                removed: dict[int, int] = {}
                if aspect is not None:
                    for level in range(aspect.max_scale_level + 1):
                        lower = max(0, level - p.scale_in_steps)
                        removed[level] = sum(
                            aspect.instances_added(v, level) - aspect.instances_added(v, lower)
                            for v in p.vdu_ids
                        )
                out.append(
                    Trigger(
                        rule=Rule.of(p),
                        vdu_ids=tuple(p.vdu_ids),
                        metric=p.metric,
                        pm_threshold=p.pm_threshold,
                        indicator=p.indicator,
                        removed_by_in=removed,
                        max_level=aspect.max_scale_level if aspect is not None else 0,
                    )
                )
            self._models[key] = out
        return self._models[key]

    def scalables(self) -> list[Scalable]:
        return self._cache.get(self._read)

    def _read(self) -> list[Scalable]:
        with self.store.reading() as s:
            view = read_instantiated(s)
            active = {inst: op.state for inst, op in view.active.items()}
            packages = view.packages
            chosen = [
                r
                for r in view.instances
                if r.package_id in packages
                and autoscale_enabled(r.doc, packages[r.package_id].summary)
            ]
            last: dict[str, float | None] = {}
            for row in chosen:
                op = s.scalars(
                    select(OperationRow)
                    .where(
                        OperationRow.vnf_instance_id == row.id,
                        OperationRow.doc["isAutomaticInvocation"].as_boolean(),
                    )
                    .order_by(OperationRow.created_at.desc())
                    .limit(1)
                ).first()
                last[row.id] = (
                    _epoch(op.doc.get("stateEnteredTime") or op.doc.get("startTime"))
                    if op is not None
                    else None
                )
        out = []
        for row in chosen:
            plan = row.desired_state or {}
            try:
                triggers = self._triggers(packages[row.package_id], str(plan.get("flavourId")))
            except Exception as exc:
                log.warning("instance %s: auto-scale rules not read: %s", row.id, exc)
                continue
            if not triggers:
                continue
            info = row.doc.get("instantiatedVnfInfo") or {}
            vnfcs: dict[str, int] = {}
            for v in plan.get("vnfcs") or []:
                vdu = str(v.get("vduId") or "")
                vnfcs[vdu] = vnfcs.get(vdu, 0) + 1
            state = active.get(row.id)
            out.append(
                Scalable(
                    instance_id=row.id,
                    triggers=triggers,
                    levels={str(k): int(v) for k, v in (plan.get("scaleLevels") or {}).items()},
                    max_levels=_levels(info.get("maxScaleLevels")),
                    vnfcs_of=vnfcs,
                    busy=state is not None,
                    failed_temp=state == OperationState.FAILED_TEMP,
                    last_automatic_end=last.get(row.id),
                )
            )
        return out


def _levels(items: Iterable[Any] | None) -> dict[str, int]:
    out: dict[str, int] = {}
    for item in items or []:
        if isinstance(item, Mapping) and isinstance(item.get("scaleLevel"), int):
            out[str(item.get("aspectId"))] = int(item["scaleLevel"])
    return out


def stored_indicator(store: Store) -> IndicatorValue:
    """The indicator values the VNFM recorded (``/vnfind/v1``, IndicatorService)."""

    def value(instance_id: str, indicator_id: str) -> Any:
        with store.reading() as s:
            row = s.get(IndicatorRow, (instance_id, indicator_id))
            return row.value if row is not None else None

    return value


class LcmScaler:
    """Auto-scale through the LCM service: one ordinary SCALE, ``isAutomaticInvocation``."""

    def __init__(self, service: Any) -> None:
        self.service = service

    def scale(self, instance_id: str, aspect_id: str, kind: str, steps: int) -> str:
        try:
            op = self.service.run_operation(
                instance_id=instance_id,
                operation=Operation.SCALE,
                request={"type": kind, "aspectId": aspect_id, "numberOfSteps": steps},
                wait=False,
                automatic=True,
            )
        except LcmError as exc:
            if exc.status == 409:
                raise Busy(str(exc)) from None
            raise
        return str(op["id"])
