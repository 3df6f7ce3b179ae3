"""The watcher: the closed loop's continuous pass - observe, compare, alarm, heal.

Every ``tick_s`` it runs one :func:`sync.sync_pass` over the instantiated
instances that are idle (an instance whose operation holds a lease or is
FAILED_TEMP is not even looked at): the VIM is read again when its interval has
passed (``interval_s`` for the local VIM, ``remote_interval_s`` for the others;
in between the last report is reused; on the local VIM, once that interval has
passed, only if an rtnetlink event or a namespace added/removed says its kernel
state may have changed, or ``quiet_interval_s`` passed - netwatch.py), the probes
run when theirs has (``only_due``). The pass and probe threads are started once,
not per pass. Then, per instance:

* the drift is recorded on the VnfInstance (``instantiatedVnfInfo.vnfmDrift``)
  when it changed;
* one alarm per (VNFC, drift kind), raised or changed through the alarm port,
  cleared once the VNFC is there and healthy again (a probe that has not answered
  yet keeps it open);
* with auto-heal on, the VNFCs with an alarm are healed - all of one pass in ONE
  HEAL started through the LCM port (an ordinary VnfLcmOpOcc with
  ``isAutomaticInvocation: true``) - under the policy's cooldown and storm guard
  (autoheal.py); a busy instance is left for the next pass.

Orphans (marked resources of no instance) are listed every ``orphan_interval_s``
and reported (``orphans``, /metrics); they raise no alarm: no VNF instance owns
them. The watcher never changes a VIM: healing is the engine's, through the LCM
service, like any operation.

Its ports: ``instances`` (what to watch, where to record drift), ``discover``
and ``prober`` (sync.py), ``alarms`` (AlarmService), ``healer`` (the LCM
service), ``list_marked`` (orphans), a monotonic clock.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

from vnfm_runner.assurance.autoheal import AutohealPolicy
from vnfm_runner.assurance.drift import Drift, DriftKind, MarkedResource
from vnfm_runner.assurance.health import (
    HEALTH_HEALTHY,
    HEALTH_NOT_PROBED,
    ProbeResult,
    ProbeTarget,
)
from vnfm_runner.assurance.netwatch import NetlinkChanges
from vnfm_runner.assurance.sync import Discovery, InstanceSpec, InstanceSync, sync_one, sync_pass
from vnfm_runner.domain import EventType, PerceivedSeverity

log = logging.getLogger("vnfm.watcher")

SOURCE = "watcher"
# Drift a HEAL of the VNFC repairs (an extra VNFC is not the plan's: nothing to heal).
HEALABLE = frozenset(
    {DriftKind.VNFC_MISSING, DriftKind.VNFC_UNHEALTHY, DriftKind.POWER_STATE, DriftKind.ADDRESS}
)
# kind -> (perceivedSeverity, eventType, probableCause)
ALARM_OF: dict[DriftKind, tuple[PerceivedSeverity, EventType, str]] = {
    DriftKind.VNFC_MISSING: (
        PerceivedSeverity.CRITICAL,
        EventType.EQUIPMENT_ALARM,
        "VNFC missing on the VIM",
    ),
    DriftKind.VNFC_UNHEALTHY: (
        PerceivedSeverity.MAJOR,
        EventType.PROCESSING_ERROR_ALARM,
        "VNFC health probe failed",
    ),
    DriftKind.POWER_STATE: (
        PerceivedSeverity.MAJOR,
        EventType.EQUIPMENT_ALARM,
        "VNFC power state differs from the desired state",
    ),
    DriftKind.ADDRESS: (
        PerceivedSeverity.MAJOR,
        EventType.COMMUNICATIONS_ALARM,
        "VNFC connection point differs from the desired state",
    ),
    DriftKind.VNFC_EXTRA: (
        PerceivedSeverity.WARNING,
        EventType.EQUIPMENT_ALARM,
        "VNFC on the VIM that the VNF does not have",
    ),
}
STORM = "AUTOHEAL_SUSPENDED"


def alarm_key(instance_id: str, vnfc_id: str | None, kind: str) -> str:
    """One fault = one alarm: the watcher's alarm of a (VNFC, drift kind) of an instance."""
    return f"{SOURCE}/{instance_id}/{vnfc_id or '-'}/{kind}"


def parse_key(key: str) -> tuple[str, str | None, str] | None:
    parts = key.split("/")
    if len(parts) != 4 or parts[0] != SOURCE:
        return None
    return parts[1], (None if parts[2] == "-" else parts[2]), parts[3]


# -- ports ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Watched:
    """An INSTANTIATED instance (or one with an operation in flight: ``busy`` says why
    it is skipped)."""

    spec: InstanceSpec
    autoheal: bool = False
    local: bool = True  # on the local VIM (read every interval_s) or another one
    busy: str | None = None
    vim_name: str | None = None
    recorded_drift: Sequence[Mapping[str, Any]] | None = None  # as on the record now

    @property
    def instance_id(self) -> str:
        return self.spec.instance_id


class Instances(Protocol):
    def watched(self) -> list[Watched]:
        """The instances to watch: every INSTANTIATED one, busy ones marked."""

    def known_ids(self) -> set[str]:
        """Every instance the VNFM holds that may own VIM resources (for orphans)."""

    def record_drift(self, instance_id: str, drift: list[dict[str, Any]]) -> bool:
        """Write the instance's drift (``instantiatedVnfInfo.vnfmDrift``) unless an
        operation of it runs meanwhile; whether it was written."""


class Alarms(Protocol):
    """The AlarmService (alarms.py) as the watcher uses it."""

    def raise_or_update(
        self,
        *,
        key: str,
        instance_id: str,
        vnfc_ids: list[str],
        severity: PerceivedSeverity,
        event_type: EventType,
        probable_cause: str,
        fault_type: str,
        root_cause_resource: dict[str, Any] | None,
        fault_details: list[str],
        source: str,
    ) -> Any: ...

    def clear(self, *, key: str) -> Any: ...

    def open_alarms(self, instance_id: str | None = None) -> list[Any]: ...


class Busy(Exception):
    """The instance has an operation that is not final: try again next pass."""


class Healer(Protocol):
    def heal(self, instance_id: str, vnfc_ids: list[str], cause: str) -> str:
        """Start ONE automatic HEAL of these VNFCs; its operation id. Busy when the
        instance has an operation in flight; any other error is the heal's."""


class Prober(Protocol):
    def run(
        self, targets: Sequence[ProbeTarget], *, only_due: bool = False
    ) -> list[ProbeResult]: ...

    def forget(self, instance_id: str, vnfc_ids: Collection[str] | None = None) -> None: ...


class Observer(Protocol):
    """The loop's figures (metrics): a pass, a heal started, the orphans found."""

    def on_pass(self, seconds: float, instances: int) -> None: ...

    def on_heal(self, instance_id: str, vnfc_ids: list[str]) -> None: ...

    def on_orphans(self, count: int) -> None: ...


@dataclass(frozen=True)
class WatchSettings:
    tick_s: float = 1.0  # how often a pass runs (probes run at their own interval)
    interval_s: float = 5.0  # local VIM: read again after this long
    remote_interval_s: float = 30.0  # other VIMs (OpenStack...): API calls cost more
    orphan_interval_s: float = 60.0
    workers: int = 8
    # local VIM: without a kernel event (netwatch.py) the last report is reused up to this long
    quiet_interval_s: float = 60.0


@dataclass
class PassReport:
    instances: list[InstanceSync] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # instance -> why
    heals: dict[str, str] = field(default_factory=dict)  # instance -> op id
    orphans: list[Drift] = field(default_factory=list)
    seconds: float = 0.0


class Watcher:
    """The continuous pass over every instance (run in a thread by ``vnfm serve``)."""

    def __init__(
        self,
        *,
        instances: Instances,
        discover: Discovery,
        prober: Prober,
        alarms: Alarms,
        healer: Healer,
        policy: AutohealPolicy | None = None,
        settings: WatchSettings | None = None,
        list_marked: Callable[[Iterable[str]], Iterable[MarkedResource]] | None = None,
        observer: Observer | None = None,
        on_instances: Callable[[list[Watched]], None] | None = None,
        host_reachable: Sequence[str] = (),
        clock: Callable[[], float] = time.monotonic,
        changes: NetlinkChanges | None = None,
    ) -> None:
        self.instances = instances
        self._discover = discover
        self.prober = prober
        self.alarms = alarms
        self.healer = healer
        self.policy = policy or AutohealPolicy()
        self.settings = settings or WatchSettings()
        self.list_marked = list_marked
        self.observer = observer
        self.on_instances = on_instances  # the set of instances changed (stack targets)
        self.host_reachable = tuple(host_reachable)
        self.clock = clock
        # which local instances' kernel state may have changed (None: read every interval)
        self.changes = changes if changes is not None else NetlinkChanges()
        self._lock = threading.Lock()  # one pass at a time
        self._pool: ThreadPoolExecutor | None = None  # the passes' threads, started once
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._cache: dict[str, tuple[float, Mapping[str, Any]]] = {}  # last VIM report
        self._open: dict[str, PerceivedSeverity] | None = None  # our open alarms (key)
        self._drift: dict[str, list[dict[str, Any]]] = {}  # as recorded
        self._since: dict[tuple[str, ...], str] = {}  # drift key -> first seen (UTC)
        self._health: dict[str, list[ProbeResult]] = {}  # latest, of idle instances
        self._last_orphans = -1e18
        self._seen: frozenset[str] = frozenset()
        self.orphans: list[Drift] = []
        self.last: PassReport | None = None

    # -- running ----------------------------------------------------------------------------
    def start(self) -> Watcher:
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="vnfm-watcher", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        if self.changes is not None:
            self.changes.close()
        if self._pool is not None:
            self._pool.shutdown(wait=False)
            self._pool = None

    def _executor(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(
                max_workers=max(1, self.settings.workers), thread_name_prefix="vnfm-watch"
            )
        return self._pool

    def _loop(self) -> None:
        while not self._stop.is_set():
            started = self.clock()
            try:
                self.run_pass()
            except Exception:  # a pass that broke is logged; the next one tries again
                log.exception("watcher pass failed")
            self._stop.wait(max(0.05, self.settings.tick_s - (self.clock() - started)))

    def health(self) -> list[ProbeResult]:
        """The latest probe results of the idle instances (for /metrics)."""
        return [r for results in list(self._health.values()) for r in results]

    # -- one pass -----------------------------------------------------------------------------
    def run_pass(self, *, force_discovery: bool = False) -> PassReport:
        with self._lock:
            return self._pass(force_discovery)

    def _pass(self, force: bool) -> PassReport:
        started = self.clock()
        report = PassReport()
        if self._open is None:  # after a start: the alarms already open are ours to keep
            self._open = {}
            for alarm in self.alarms.open_alarms():
                if parse_key(str(getattr(alarm, "key", ""))) is not None:
                    self._open[alarm.key] = PerceivedSeverity(alarm.perceivedSeverity)
        watched = self.instances.watched()
        ids = frozenset(w.instance_id for w in watched)
        if ids != self._seen and self.on_instances is not None:
            try:
                self.on_instances(watched)
            except Exception:
                log.exception("writing the monitoring targets failed")
        gone, self._seen = self._seen - ids, ids
        idle = [w for w in watched if w.busy is None]
        for w in watched:
            if w.busy is not None:
                report.skipped[w.instance_id] = w.busy
                self._health.pop(w.instance_id, None)  # stale while it changes
                self._uncache(w.instance_id)
            elif w.instance_id not in self._drift and w.recorded_drift is not None:
                self._drift[w.instance_id] = [dict(d) for d in w.recorded_drift]
        by_id = {w.instance_id: w for w in idle}
        now = self.clock()
        if self.changes is not None:
            self.changes.poll_host()
        fresh: set[str] = set()  # instances whose VIM was read in this pass
        sync = sync_pass(
            [w.spec for w in idle],
            discover=self._cached_discovery(by_id, now, force, fresh),
            prober=lambda targets: self.prober.run(targets, only_due=not force),
            host_reachable=self.host_reachable,
            workers=self.settings.workers,
            executor=self._executor(),
        )
        results = []
        for result in sync.instances:
            if result.instance_id not in fresh and any(
                d.kind == DriftKind.VNFC_UNHEALTHY for d in result.drifts
            ):
                # a probe failing on a VNFC of an older VIM report: read the VIM first (a
                # VNFC gone is missing, not unhealthy - one fault, one alarm)
                result = sync_one(
                    by_id[result.instance_id].spec,
                    discover=self._cached_discovery(by_id, now, True, fresh),
                    prober=lambda targets: self.prober.run(targets, only_due=True),
                    host_reachable=self.host_reachable,
                )
            results.append(result)
        report.instances = results
        for result in results:
            try:
                self._after(by_id[result.instance_id], result, report)
            except Exception:
                log.exception("watcher: instance %s", result.instance_id)
        self._gone(ids, gone)
        if self.list_marked is not None and (
            force or now - self._last_orphans >= self.settings.orphan_interval_s
        ):
            self._last_orphans = now
            known = self.instances.known_ids()
            from vnfm_runner.assurance.drift import find_orphans

            try:
                self.orphans = find_orphans(self.list_marked(known), known)
            except Exception:
                log.exception("listing orphans failed")
            if self.observer is not None:
                self.observer.on_orphans(len(self.orphans))
        report.orphans = list(self.orphans)
        report.seconds = self.clock() - started
        if self.observer is not None:
            self.observer.on_pass(report.seconds, len(idle))
        self.last = report
        return report

    def _cached_discovery(
        self, by_id: Mapping[str, Watched], now: float, force: bool, fresh: set[str]
    ) -> Discovery:
        def discover(spec: InstanceSpec) -> Mapping[str, Any]:
            w = by_id[spec.instance_id]
            interval = self.settings.interval_s if w.local else self.settings.remote_interval_s
            cached = self._cache.get(spec.instance_id)
            if cached is not None and not force:
                age = now - cached[0]
                if age < interval:
                    return cached[1]
                if (
                    w.local
                    and self.changes is not None
                    and age < self.settings.quiet_interval_s
                    and not self.changes.changed(spec.instance_id)
                ):
                    return cached[1]  # no kernel event since that read: the same report
            if self.changes is not None:
                self.changes.reading(spec.instance_id)  # events from now on: next time
            resources = self._discover(spec)
            self._cache[spec.instance_id] = (now, resources)
            fresh.add(spec.instance_id)
            return resources

        return discover

    def _uncache(self, inst: str) -> None:
        """Forget the instance's VIM report (and hold none of its namespaces)."""
        self._cache.pop(inst, None)
        if self.changes is not None:
            self.changes.drop(inst)

    def _after(self, w: Watched, result: InstanceSync, report: PassReport) -> None:
        inst = w.instance_id
        if result.error is not None:
            # the VIM could not be read: nothing can be told, the alarms stay as they are
            self._uncache(inst)
            log.warning("instance %s: %s", inst, result.error)
            return
        self._health[inst] = list(result.health)
        self._record(inst, result.drifts)
        grouped: dict[str, list[Drift]] = defaultdict(list)
        for d in result.drifts:
            grouped[alarm_key(inst, d.vnfc_id, d.kind.value)].append(d)
        for key, drifts in grouped.items():
            self._raise(key, w, drifts)
        self._clear_recovered(w, result, set(grouped))
        now = self.clock()
        if not w.autoheal:
            self.policy.reset(inst)
            self._clear_key(alarm_key(inst, None, STORM))
            return
        if not result.drifts:
            if self.policy.clean(inst, now):
                self._clear_key(alarm_key(inst, None, STORM))
            return
        if self.policy.suspended(inst) is False and alarm_key(inst, None, STORM) in (
            self._open or {}
        ):
            self.policy.suspend(inst, now)  # suspended before a restart: still is
        wanted = sorted({d.vnfc_id for d in result.drifts if d.kind in HEALABLE and d.vnfc_id})
        decision = self.policy.decide(inst, wanted, now)
        if decision.storm:
            self._raise_storm(w)
            return
        if not decision.heal:
            return
        details = sorted(d.detail for d in result.drifts if d.vnfc_id in decision.heal)
        try:
            op_id = self.healer.heal(inst, decision.heal, "; ".join(details)[:1000])
        except Busy:
            return  # an operation came first: the next pass sees
        except Exception as exc:
            log.warning("auto-heal of %s %s not started: %s", inst, decision.heal, exc)
            return
        self.policy.healed(inst, decision.heal, now)
        self.prober.forget(inst, decision.heal)  # the healed VNFCs prove themselves again
        self._health.pop(inst, None)
        self._uncache(inst)
        report.heals[inst] = op_id
        if self.observer is not None:
            self.observer.on_heal(inst, decision.heal)
        log.info("auto-heal of %s %s: operation %s", inst, decision.heal, op_id)

    # -- drift on the record ------------------------------------------------------------------
    def _record(self, inst: str, drifts: list[Drift]) -> None:
        from vnfm_runner.store.db import iso, now

        stamp = iso(now())
        keys = {d.key for d in drifts}
        for key in [k for k in self._since if k[1] == inst and k not in keys]:
            del self._since[key]
        docs = []
        for d in drifts:
            since = self._since.setdefault(d.key, stamp)
            docs.append({**d.as_dict(), "since": since})
        old = self._drift.get(inst)
        if old is not None and _without_since(old) == _without_since(docs):
            return
        if self.instances.record_drift(inst, docs):
            self._drift[inst] = docs

    # -- alarms -----------------------------------------------------------------------------------
    def _raise(self, key: str, w: Watched, drifts: list[Drift]) -> None:
        assert self._open is not None
        kind = drifts[0].kind
        severity, event_type, cause = ALARM_OF[kind]
        if self._open.get(key) == severity:
            return  # the same fault, still there: the alarm is already open
        vnfc = drifts[0].vnfc_id
        rid = next((d.resource_id for d in drifts if d.resource_id), None)
        root = (
            {
                "faultyResource": {
                    "resourceId": rid,
                    **({"vimConnectionId": w.vim_name} if w.vim_name else {}),
                },
                "faultyResourceType": "COMPUTE",
            }
            if rid
            else None
        )
        self.alarms.raise_or_update(
            key=key,
            instance_id=w.instance_id,
            vnfc_ids=[vnfc] if vnfc else [],
            severity=severity,
            event_type=event_type,
            probable_cause=cause,
            fault_type=kind.value,
            root_cause_resource=root,
            fault_details=[d.detail for d in drifts],
            source=SOURCE,
        )
        self._open[key] = severity

    def _raise_storm(self, w: Watched) -> None:
        assert self._open is not None
        key = alarm_key(w.instance_id, None, STORM)
        if key in self._open:
            return
        s = self.policy.settings
        self.alarms.raise_or_update(
            key=key,
            instance_id=w.instance_id,
            vnfc_ids=[],
            severity=PerceivedSeverity.CRITICAL,
            event_type=EventType.PROCESSING_ERROR_ALARM,
            probable_cause="auto-heal suspended: heal storm",
            fault_type=STORM,
            root_cause_resource=None,
            fault_details=[
                f"more than {s.storm_heals} automatic heals within {s.storm_window_s:g} s: "
                "auto-heal is suspended for this VNF instance until it has been free of drift "
                f"for {s.storm_window_s:g} s or auto-heal is switched off and on again"
            ],
            source=SOURCE,
        )
        self._open[key] = PerceivedSeverity.CRITICAL
        log.warning("auto-heal suspended for %s (heal storm)", w.instance_id)

    def _clear_key(self, key: str) -> None:
        assert self._open is not None
        if key in self._open:
            self.alarms.clear(key=key)
            del self._open[key]

    def _clear_recovered(self, w: Watched, result: InstanceSync, current: set[str]) -> None:
        """Clear this instance's alarms whose fault is gone - once the VNFC is there and
        its probe (if any) said healthy: a VNFC not yet proven keeps its alarm."""
        assert self._open is not None
        present = {str(v.get("id")) for v in (result.resources or {}).get("vnfcResourceInfo") or []}
        health: dict[str, set[str]] = defaultdict(set)
        for r in result.health:
            health[r.target.vnfc_id].add(r.health)
        for key in list(self._open):
            parsed = parse_key(key)
            if parsed is None or parsed[0] != w.instance_id or key in current:
                continue
            _inst, vnfc, kind = parsed
            if kind == STORM:
                continue
            if kind != DriftKind.VNFC_EXTRA.value and vnfc is not None:
                if vnfc not in present:
                    continue
                if not health[vnfc] <= {HEALTH_HEALTHY, HEALTH_NOT_PROBED}:
                    continue
            self._clear_key(key)

    def _gone(self, ids: frozenset[str], gone: frozenset[str]) -> None:
        """Instances no longer instantiated (terminated, deleted): their alarms clear and
        what the watcher kept of them goes."""
        assert self._open is not None
        for key in list(self._open):
            parsed = parse_key(key)
            if parsed is not None and parsed[0] not in ids:
                self._clear_key(key)
        for inst in gone:
            self._health.pop(inst, None)
            self._uncache(inst)
            self._drift.pop(inst, None)
            self.prober.forget(inst)
            self.policy.reset(inst)


def _without_since(docs: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in d.items() if k != "since"} for d in docs]
