"""The closed loop wired for ``vnfm serve``: settings, the watcher's real ports, the stack.

:class:`ClosedLoop` is what the server's lifespan starts and stops: the embedded
Prometheus and Alertmanager (unless external URLs are configured or
``VNFM_MONITORING=false``), whose targets and rules it rewrites when the set of
instances changes, and the :class:`~vnfm_runner.assurance.watcher.Watcher`
(unless ``VNFM_WATCH=false``) with its real ports:

* :class:`StoreInstances` - the INSTANTIATED instances, their plans, probes, VIM
  connection and auto-heal switch, from the store; the drift written on the
  VnfInstance (``instantiatedVnfInfo.vnfmDrift``) in a transaction that first
  checks no operation of the instance runs;
* :class:`LcmHealer` - the LCM service's ``run_operation(HEAL, wait=False,
  automatic=True)``: the server's queue and engine, like any heal;
* the alarm service (alarms.py), the VIM drivers' discovery, a ProbeRunner.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import select

from vnfm_runner.assurance.alarms import AlarmService
from vnfm_runner.assurance.app_endpoints import EndpointBook, write_endpoints
from vnfm_runner.assurance.autoheal import AutohealPolicy, AutohealSettings, autoheal_enabled
from vnfm_runner.assurance.autoscale import (
    AutoScaler,
    AutoscaleSettings,
    LcmScaler,
    StoreScalables,
    stored_indicator,
)
from vnfm_runner.assurance.drift import MarkedResource
from vnfm_runner.assurance.health import HealthProbe, ProbeRunner
from vnfm_runner.assurance.indicators import IndicatorService, IndicatorSettings
from vnfm_runner.assurance.instances import StampedCache, read_instantiated
from vnfm_runner.assurance.metrics import ProbeCollector
from vnfm_runner.assurance.openstack_metrics import OpenStackMetrics, StoreOsInstances
from vnfm_runner.assurance.orphans import (
    VimTargetSpec,
    local_marked_resources,
    vim_marked_resources,
)
from vnfm_runner.assurance.pm import PmService, PmSettings
from vnfm_runner.assurance.promql import PromClient
from vnfm_runner.assurance.rules import TargetGroup, probe_rules
from vnfm_runner.assurance.stack import MonitoringStack, StackSettings
from vnfm_runner.assurance.sync import InstanceSpec, vim_discovery
from vnfm_runner.assurance.watcher import Busy, Watched, Watcher, WatchSettings
from vnfm_runner.domain import InstantiationState, Operation
from vnfm_runner.domain.records import VnfPackageRecord
from vnfm_runner.errors import LcmError
from vnfm_runner.lcm import Vnfm
from vnfm_runner.package_models import package_model
from vnfm_runner.secrets import SecretBox
from vnfm_runner.store.db import FINAL_STATES, Store
from vnfm_runner.store.stamp import change_stamp
from vnfm_runner.store.tables import InstanceRow, OperationRow
from vnfm_runner.vims import VimRegistry, VimTarget

log = logging.getLogger("vnfm.assurance")
DRIFT_FIELD = "vnfmDrift"  # instantiatedVnfInfo.vnfmDrift: the watcher's latest drift
SELF_TARGET = "vnfm"  # the targets file of the VNFM's own /metrics (probe results)
EXPORTER_TARGET = "vnfm-exporter"  # the targets file of the VNFC metrics exporter


class AssuranceSettings(BaseSettings):
    """The loop's settings (``VNFM_*`` environment variables)."""

    model_config = SettingsConfigDict(env_prefix="VNFM_", extra="ignore")

    watch: bool = True  # run the watcher in `vnfm serve`
    watch_tick: float = Field(default=1.0, gt=0)  # seconds between passes (probes: own interval)
    watch_interval: float = Field(default=5.0, gt=0)  # local VIM read again after (drift <= 10 s)
    watch_remote_interval: float = Field(default=30.0, gt=0)  # other VIMs (drift <= 60 s)
    watch_orphan_interval: float = Field(default=60.0, gt=0)
    autoheal_cooldown: float = Field(default=60.0, ge=0)  # per VNFC
    autoheal_storm_heals: int = Field(default=3, ge=1)  # more heals than this in the window...
    autoheal_storm_window: float = Field(default=600.0, gt=0)  # ...suspend auto-heal
    autoscale: bool = True  # evaluate the packages' auto-scale policies (autoscale.py)
    autoscale_tick: float = Field(default=5.0, gt=0)  # seconds between evaluations
    monitoring: bool = True  # start the embedded Prometheus and Alertmanager
    prometheus_url: str | None = None  # external stack: nothing started
    alertmanager_url: str | None = None
    monitoring_scrape_interval: float = Field(default=5.0, gt=0)
    exporter: bool = True  # the VNFC metrics exporter, beside the embedded Prometheus
    openstack_metrics: bool = True  # OpenStack VNFCs' Nova diagnostics on /metrics
    # where Prometheus reaches this VNFM (host:port of /metrics, and the webhook); `vnfm
    # serve` sets it from --host/--port
    self_address: str | None = None
    pm: bool = True  # PM jobs and thresholds collect (assurance/pm.py), when Prometheus runs
    pm_tick: float = Field(default=1.0, gt=0)  # seconds between looks for due collections
    pm_delay: float = Field(default=2.0, ge=0)  # after a period's end, before its collection
    pm_threshold_period: float = Field(default=10.0, gt=0)  # thresholds evaluated every...
    pm_reports_kept: int = Field(default=100, ge=1)  # per PM job
    indicators: bool = True  # evaluate the packages' VNF indicators (indicators.py)
    indicators_tick: float = Field(default=1.0, gt=0)  # seconds between looks for due ones

    def watch_settings(self) -> WatchSettings:
        return WatchSettings(
            tick_s=self.watch_tick,
            interval_s=self.watch_interval,
            remote_interval_s=self.watch_remote_interval,
            orphan_interval_s=self.watch_orphan_interval,
        )

    def autoscale_settings(self) -> AutoscaleSettings:
        # a duration survives an evaluation that came late, not a stop of the loop
        return AutoscaleSettings(
            tick_s=self.autoscale_tick, max_gap_s=max(30.0, 3 * self.autoscale_tick)
        )

    def autoheal_settings(self) -> AutohealSettings:
        return AutohealSettings(
            cooldown_s=self.autoheal_cooldown,
            storm_heals=self.autoheal_storm_heals,
            storm_window_s=self.autoheal_storm_window,
        )


# -- the watcher's real ports --------------------------------------------------------------------
class StoreInstances:
    """The instances to watch, read from the store; drift written back on the record."""

    def __init__(
        self, store: Store, vims: VimRegistry, stamp: Callable[[], int] | None = None
    ) -> None:
        self.store = store
        self.vims = vims
        # Every tick asks for the instances; rebuild them only when the store changed.
        self._cache: StampedCache[Watched] = StampedCache(stamp)
        self._models: dict[tuple[str, str], list[HealthProbe]] = {}  # (package, flavour)
        self._credentials: dict[str, dict[str, Any]] = {}
        self._vims: dict[str, VimTarget] = {}  # the remote VIMs of the instances, by name

    def _probes(self, pkg: VnfPackageRecord | None, flavour_id: str) -> list[HealthProbe]:
        if pkg is None:
            return []
        key = (pkg.id, flavour_id)
        if key not in self._models:
            model = package_model(pkg.path)
            flavour = model.flavour(flavour_id)
            self._models[key] = list(flavour.health_probes) if flavour else []
        return self._models[key]

    def credentials(self, spec: InstanceSpec) -> dict[str, Any] | None:
        return self._credentials.get(spec.instance_id)

    def watched(self) -> list[Watched]:
        return self._cache.get(self._read)

    def _read(self) -> list[Watched]:
        with self.store.reading() as s:
            view = read_instantiated(s)
        active, packages = view.active, view.packages
        out = []
        for row in view.instances:
            plan = row.desired_state or {}
            op = active.get(row.id)
            busy = f"operation {op.id} ({op.operation}) is {op.state}" if op is not None else None
            pkg = packages.get(row.package_id)
            try:
                target = self.vims.unseal(row.vim)
                probes = self._probes(pkg, str(plan.get("flavourId") or ""))
                if (row.doc.get("extensions") or {}).get("vnfmHooks") is False:
                    # Instantiated without hooks: nothing started the package's software,
                    # so its probes would only ever fail (and auto-heal would loop). The
                    # VIM side is still watched.
                    probes = []
            except Exception as exc:
                log.warning("instance %s cannot be watched: %s", row.id, exc)
                continue
            self._credentials[row.id] = dict(target.credentials)
            if target.driver.builtin_name is None:
                self._vims[target.name] = target
            info = row.doc.get("instantiatedVnfInfo") or {}
            out.append(
                Watched(
                    spec=InstanceSpec(row.id, plan, probes, dict(target.connection)),
                    autoheal=autoheal_enabled(row.doc, pkg.summary if pkg else {}),
                    local=target.driver.builtin_name is not None,
                    busy=busy,
                    vim_name=target.name,
                    recorded_drift=info.get(DRIFT_FIELD) or [],
                )
            )
        return out

    def vim_targets(self) -> list[VimTargetSpec]:
        """The VIMs whose marks are listed for orphans (the local one apart): every
        registered VIM, and those the watched instances were given in their request."""
        targets = dict(self._vims)
        for row in self.store.vims():
            try:
                target = self.vims.resolve(row.name, None, row.name)
                if target.driver.builtin_name is None:
                    targets[target.name] = target
            except Exception as exc:
                log.warning("VIM %s: %s", row.name, exc)
        return [(t.name, t.connection, t.credentials) for _, t in sorted(targets.items())]

    def known_ids(self) -> set[str]:
        with self.store.reading() as s:
            inst = set(
                s.scalars(
                    select(InstanceRow.id).where(
                        InstanceRow.instantiation_state == InstantiationState.INSTANTIATED
                    )
                )
            )
            busy = set(
                s.scalars(
                    select(OperationRow.vnf_instance_id).where(
                        OperationRow.state.not_in(FINAL_STATES)
                    )
                )
            )
        return inst | busy

    def record_drift(self, instance_id: str, drift: list[dict[str, Any]]) -> bool:
        with self.store.unit_of_work() as uow:
            s = uow.session
            busy = s.scalars(
                select(OperationRow.id).where(
                    OperationRow.vnf_instance_id == instance_id,
                    OperationRow.state.not_in(FINAL_STATES),
                )
            ).first()
            row = s.get(InstanceRow, instance_id)
            if busy is not None or row is None or not row.doc.get("instantiatedVnfInfo"):
                return False  # the operation writes the instance; the next pass sees it
            info = dict(row.doc["instantiatedVnfInfo"])
            if drift:
                info[DRIFT_FIELD] = drift
            else:
                info.pop(DRIFT_FIELD, None)
            uow.instance(instance_id, doc={**row.doc, "instantiatedVnfInfo": info})
        return True


class LcmHealer:
    """Auto-heal through the LCM service: one ordinary HEAL, ``isAutomaticInvocation``."""

    def __init__(self, service: Vnfm) -> None:
        self.service = service

    def heal(self, instance_id: str, vnfc_ids: list[str], cause: str) -> str:
        try:
            op = self.service.run_operation(
                instance_id=instance_id,
                operation=Operation.HEAL,
                request={"vnfcInstanceId": list(vnfc_ids), "cause": cause},
                wait=False,
                automatic=True,
            )
        except LcmError as exc:
            if exc.status == 409:
                raise Busy(str(exc)) from None
            raise
        return str(op["id"])


# -- the loop's figures ----------------------------------------------------------------------------
class LoopMetrics:
    """Watcher pass duration, heals triggered, instances watched, orphans (an Observer)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.pass_duration = Histogram(
            "vnfm_watcher_pass_duration_seconds",
            "Wall time of one watcher pass over the instances",
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=registry,
        )
        self.instances = Gauge(
            "vnfm_watcher_instances", "Instances the last watcher pass looked at", registry=registry
        )
        self.heals = Counter(
            "vnfm_autoheal_heals_triggered", "Automatic HEAL operations started", registry=registry
        )
        self.orphans = Gauge(
            "vnfm_orphan_resources",
            "VIM resources carrying the marks of no instance the VNFM holds",
            registry=registry,
        )

    def on_pass(self, seconds: float, instances: int) -> None:
        self.pass_duration.observe(seconds)
        self.instances.set(instances)

    def on_heal(self, instance_id: str, vnfc_ids: list[str]) -> None:
        self.heals.inc()

    def on_orphans(self, count: int) -> None:
        self.orphans.set(count)


class AlarmsOpen(Collector):
    """``vnfm_alarms_open{severity}``: counted in the store at scrape."""

    def __init__(self, alarms: AlarmService) -> None:
        self.alarms = alarms

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "vnfm_alarms_open",
            "Open (not cleared) alarms by perceived severity",
            labels=["severity"],
        )
        for severity, count in sorted(self.alarms.open_count().items()):
            family.add_metric([severity], count)
        yield family


# -- the loop ---------------------------------------------------------------------------------------
class ClosedLoop:
    """The monitoring stack and the watcher of one server."""

    def __init__(
        self,
        settings: AssuranceSettings,
        *,
        home: Path,
        service: Vnfm,
        alarms: AlarmService,
        registry: CollectorRegistry,
        webhook_path: str = "/vnfm/v1/alertmanager",
        webhook_token: str | None = None,
    ) -> None:
        self.settings = settings
        self.service = service
        self.alarms = alarms
        self.webhook_token = webhook_token or secrets.token_urlsafe(32)
        self.instances = StoreInstances(service.store, service.vims, change_stamp(service.store))
        self.prober = ProbeRunner()
        self.watcher = Watcher(
            instances=self.instances,
            discover=vim_discovery(credentials=self.instances.credentials),
            prober=self.prober,
            alarms=alarms,
            healer=LcmHealer(service),
            policy=AutohealPolicy(settings.autoheal_settings()),
            settings=settings.watch_settings(),
            list_marked=self._marked,
            observer=LoopMetrics(registry),
            on_instances=self._targets,
        )
        registry.register(ProbeCollector(self.watcher.health))
        registry.register(AlarmsOpen(alarms))
        self.os_metrics: OpenStackMetrics | None = None
        if settings.openstack_metrics:
            self.os_metrics = OpenStackMetrics(
                StoreOsInstances(service.store, service.vims, change_stamp(service.store)),
                max_age_s=settings.monitoring_scrape_interval,
            )
            registry.register(self.os_metrics)
        self.stack: MonitoringStack | None = None
        external = settings.prometheus_url is not None
        if (settings.monitoring or external) and settings.self_address:
            self.stack = MonitoringStack(
                StackSettings(
                    home=home / "monitoring",
                    webhook_url=f"http://{settings.self_address}{webhook_path}",
                    webhook_token=self.webhook_token,
                    prometheus_url=settings.prometheus_url,
                    alertmanager_url=settings.alertmanager_url,
                    scrape_interval_s=settings.monitoring_scrape_interval,
                    evaluation_interval_s=settings.monitoring_scrape_interval,
                    exporter_port=0 if settings.exporter else None,
                )
            )
        self.endpoint_book = EndpointBook(service.store)
        self.autoscaler = AutoScaler(
            scalables=StoreScalables(service.store, change_stamp(service.store)),
            scaler=LcmScaler(service),
            prometheus=None,  # set once the stack runs
            indicators=stored_indicator(service.store),
            settings=settings.autoscale_settings(),
            registry=registry,
        )
        self.indicators = IndicatorService(
            service.store,
            prometheus=lambda: self.stack.prometheus_url if self.stack is not None else None,
            settings=IndicatorSettings(tick_s=settings.indicators_tick),
        )
        self.pm = PmService(
            service.store,
            SecretBox(home),
            PmSettings(
                tick_s=settings.pm_tick,
                delay_s=settings.pm_delay,
                threshold_period_s=settings.pm_threshold_period,
                scrape_s=settings.monitoring_scrape_interval,
                reports_kept=settings.pm_reports_kept,
            ),
        )
        # vnfpm/v2 thresholds a package names in its auto-scale policy (pm_threshold)
        self.pm.add_crossing_listener(self.autoscaler.on_crossing)
        self._stopping = threading.Event()

    def _marked(self, known: Iterable[str]) -> list[MarkedResource]:
        ids = list(known)
        try:
            found = local_marked_resources(known_instance_ids=ids)
        except Exception as exc:  # no local VIM here (not root): no local orphans either
            log.debug("local VIM not readable: %s", exc)
            found = []
        return found + vim_marked_resources(self.instances.vim_targets(), known_instance_ids=ids)

    def _targets(self, watched: list[Watched]) -> None:
        """The instances changed: their rules (and the VNFM's own scrape target)."""
        if self.stack is None:
            return
        ids = {w.instance_id for w in watched}
        for w in watched:
            self.stack.write_rules(w.instance_id, probe_rules(w.instance_id, w.spec.probes))
        rules_dir = self.stack.prom_dir / "rules"
        for path in rules_dir.glob("*.yml") if rules_dir.is_dir() else []:
            if path.stem not in ids:
                self.stack.forget(path.stem)
        if self.stack.exporter_url:
            write_endpoints(self.stack.endpoints_file, self.endpoint_book.endpoints(ids))

    def start(self) -> None:
        if self.stack is not None:
            try:
                self.stack.start()
                assert self.settings.self_address is not None
                self.stack.write_targets(SELF_TARGET, [TargetGroup([self.settings.self_address])])
                if self.stack.exporter_url:
                    exporter = self.stack.exporter_url.removeprefix("http://")
                    self.stack.write_targets(EXPORTER_TARGET, [TargetGroup([exporter])])
            except Exception as exc:
                log.error("monitoring stack not started: %s", exc)
                self.stack = None
        if self.settings.autoscale and self.stack is not None:
            self.autoscaler.prometheus = PromClient(self.stack.prometheus_url)
            self.autoscaler.start()
        if self.settings.indicators:
            self.indicators.start()
        if self.settings.pm and self.stack is not None:
            self.pm.start(lambda: self.stack.prometheus_url if self.stack is not None else None)
        if self.settings.watch:
            threading.Thread(target=self._first, name="vnfm-watcher-start", daemon=True).start()
        else:
            self.alarms.rebuild()

    def _first(self) -> None:
        """One full pass (the alarms brought up to date), then the rebuilt-list
        notification, then the continuous watcher."""
        try:
            self.watcher.run_pass(force_discovery=True)
        except Exception:
            log.exception("first watcher pass failed")
        try:
            self.alarms.rebuild()
        except Exception:
            log.exception("AlarmListRebuiltNotification not written")
        if not self._stopping.is_set():
            self.watcher.start()

    def stop(self) -> None:
        self._stopping.set()
        self.pm.stop()
        self.indicators.stop()
        self.autoscaler.stop()
        self.watcher.stop()
        if self.os_metrics is not None:
            self.os_metrics.close()
        if self.stack is not None:
            self.stack.stop()
