"""One synchronisation pass: read each instance's VIM and VNF, compare, report - and its cost.

:func:`sync_pass` takes its reads as ports, so the watcher (second wave) and
``vnfm sync`` give it the real ones and nothing here knows a store:

* ``discover(spec) -> resources`` - what the VIM holds for the instance
  (:func:`vim_discovery`: the driver's public ``resources()``, i.e. what
  ``vnf_resources_info`` returns);
* ``prober(targets) -> results`` - a :class:`ProbeRunner`'s ``run`` (with
  ``only_due=True`` in a loop that ticks faster than the probes' intervals);
* ``list_marked() -> marked resources`` - for orphans
  (:func:`orphans.local_marked_resources`), with the ids the store knows.

It never changes a VIM. Each instance is measured: wall time of its discovery,
its probes and the whole; the pass adds its CPU time (this process and the
commands it ran), so ``cost_per_instance`` is what one more instance costs.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from vnfm_runner.assurance.drift import Drift, MarkedResource, detect_drift, find_orphans
from vnfm_runner.assurance.health import HealthProbe, ProbeResult, ProbeTarget, targets_for
from vnfm_runner.assurance.orphans import LOCAL_TARGET


@dataclass(frozen=True)
class InstanceSpec:
    """What is wanted of one instance: its plan, its VDUs' probes and its VIM connection."""

    instance_id: str
    plan: Mapping[str, Any]
    probes: Sequence[HealthProbe] = ()
    vim: Mapping[str, Any] = field(default_factory=lambda: dict(LOCAL_TARGET[1]))


@dataclass(frozen=True)
class InstanceSync:
    instance_id: str
    drifts: list[Drift]
    health: list[ProbeResult]
    resources: Mapping[str, Any] | None
    error: str | None  # the VIM could not be read: no drift can be told
    discover_s: float
    probe_s: float
    total_s: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "vnfInstanceId": self.instance_id,
            "drifts": [d.as_dict() for d in self.drifts],
            "health": [r.as_dict() for r in self.health],
            "error": self.error,
            "cost": {
                "discoverS": round(self.discover_s, 4),
                "probeS": round(self.probe_s, 4),
                "totalS": round(self.total_s, 4),
            },
        }


@dataclass(frozen=True)
class SyncReport:
    instances: list[InstanceSync]
    orphans: list[Drift]
    wall_s: float
    cpu_s: float  # this process's CPU and its finished children's, during the pass

    @property
    def drifts(self) -> list[Drift]:
        return [d for i in self.instances for d in i.drifts] + list(self.orphans)

    def cost_per_instance(self) -> dict[str, float]:
        n = max(1, len(self.instances))
        return {
            "wallS": round(sum(i.total_s for i in self.instances) / n, 4),
            "cpuS": round(self.cpu_s / n, 4),
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "instances": [i.as_dict() for i in self.instances],
            "orphans": [d.as_dict() for d in self.orphans],
            "cost": {
                "wallS": round(self.wall_s, 4),
                "cpuS": round(self.cpu_s, 4),
                "perInstance": self.cost_per_instance(),
            },
        }


Discovery = Callable[[InstanceSpec], Mapping[str, Any]]
Prober = Callable[[Sequence[ProbeTarget]], list[ProbeResult]]


def vim_discovery(
    *,
    timeout: float = 60.0,
    credentials: Callable[[InstanceSpec], Mapping[str, Any] | None] | None = None,
) -> Discovery:
    """The VIM driver's own discovery (``VimDriver.resources``) as a :data:`Discovery`."""
    from vnfm_runner import paths

    paths.ensure_core_importable()
    from ansible_collections.nfv.vnfm.plugins.module_utils.vim import get_driver

    def discover(spec: InstanceSpec) -> Mapping[str, Any]:
        secret = credentials(spec) if credentials is not None else None
        driver = get_driver(dict(spec.vim), dict(secret) if secret else None, timeout=timeout)
        return driver.resources(spec.instance_id, dict(spec.plan))

    return discover


def _cpu() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def sync_one(
    spec: InstanceSpec,
    *,
    discover: Discovery,
    prober: Prober | None = None,
    host_reachable: Collection[str] = (),
) -> InstanceSync:
    start = time.monotonic()
    try:
        resources: Mapping[str, Any] | None = discover(spec)
        error = None
    except Exception as exc:  # any VIM failure is this instance's, never the pass's
        resources, error = None, f"{type(exc).__name__}: {exc}"
    found = time.monotonic()
    health: list[ProbeResult] = []
    if prober is not None and spec.probes and resources is not None:
        targets = targets_for(
            spec.instance_id, spec.plan, spec.probes, resources, host_reachable=host_reachable
        )
        health = prober(targets)
    probed = time.monotonic()
    drifts = (
        [] if resources is None else detect_drift(spec.instance_id, spec.plan, resources, health)
    )
    return InstanceSync(
        spec.instance_id,
        drifts,
        health,
        resources,
        error,
        found - start,
        probed - found,
        time.monotonic() - start,
    )


def sync_pass(
    instances: Iterable[InstanceSpec],
    *,
    discover: Discovery,
    prober: Prober | None = None,
    list_marked: Callable[[], Iterable[MarkedResource]] | None = None,
    known_instance_ids: Collection[str] | None = None,
    host_reachable: Collection[str] = (),
    workers: int = 8,
    executor: Executor | None = None,
) -> SyncReport:
    """One pass over ``instances`` (``workers`` at a time) and, with ``list_marked``,
    the orphans: marked resources of no instance in ``known_instance_ids`` (default:
    the instances of this pass). ``executor``: a pool that outlives the pass (the
    watcher's), used instead of ``workers`` threads started for it."""
    specs = list(instances)
    cpu0, wall0 = _cpu(), time.monotonic()

    def one(s: InstanceSpec) -> InstanceSync:
        return sync_one(s, discover=discover, prober=prober, host_reachable=host_reachable)

    if executor is not None:
        results = list(executor.map(one, specs))
    else:
        with ThreadPoolExecutor(max_workers=max(1, min(workers, len(specs) or 1))) as pool:
            results = list(pool.map(one, specs))
    orphans: list[Drift] = []
    if list_marked is not None:
        known = (
            set(known_instance_ids)
            if known_instance_ids is not None
            else {s.instance_id for s in specs}
        )
        orphans = find_orphans(list_marked(), known)
    return SyncReport(results, orphans, time.monotonic() - wall0, _cpu() - cpu0)
