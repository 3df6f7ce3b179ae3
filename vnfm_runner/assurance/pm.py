"""Performance management (SOL003 ``/vnfpm/v2``): PM jobs, their reports, thresholds.

Records: ``pm_jobs``, ``pm_reports`` and ``pm_thresholds`` (migration 0006). A job's or
threshold's callbackUri and sealed authentication are a subscription row of the same id
(``api_subscriptions``, api ``vnfpm``): PM's notifications are outbox rows like every
other notification, delivered by the same worker, and dropped if the job is deleted.

Time is cut in periods from a job's ``anchor`` (its creation, whole second): collection
period ``k`` is ``(anchor + k*C, anchor + (k+1)*C]``, reporting period ``r`` holds the
collections ``r*m .. (r+1)*m - 1`` (``m = reportingPeriod / collectionPeriod``). A
collection is computed ``delay`` seconds after its end (the last scrape before the
boundary is then in Prometheus) from instant queries at the boundaries (pm_metrics.py).
A report is written once its period ended, with its PerformanceInformationAvailable
notifications in the same transaction; ``(pm_job_id, period_index)`` is unique, so a
report is written at most once whoever tries (a restart, a second server).

Restart: reports resume with the first period not reported. A period that ended while
the server was down is reported once after the start, computed from what Prometheus kept
(its TSDB is on disk; with nothing scraped while down, the counters' increase lands in
the periods around the gap and the sums stay exact); only the last ``catch_up`` missed
periods are, older ones are skipped and logged.

Thresholds (SIMPLE) are evaluated every ``threshold_period`` seconds over the last
period: UP when the value reaches thresholdValue + hysteresis, DOWN when it reaches
thresholdValue - hysteresis after an UP; nothing while it moves inside the band. The
crossing state per measured object is committed with the ThresholdCrossedNotification,
and the crossing listeners are called after the commit.
"""

from __future__ import annotations

import copy
import logging
import math
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from vnfm_runner.assurance.pm_events import DOWN, UP, CrossingListener, ThresholdCrossing
from vnfm_runner.assurance.pm_metrics import (
    OBJECT_GROUP,
    OBJECT_METRICS,
    OBJECT_TYPES,
    Collector,
    Topology,
    Value,
    base_name,
    metrics_of,
    topology,
)
from vnfm_runner.assurance.promql import PromClient, PromError
from vnfm_runner.errors import LcmError, NotFound
from vnfm_runner.notify.outbox import outbox_row
from vnfm_runner.secrets import SecretBox
from vnfm_runner.store.db import Store, iso, now
from vnfm_runner.store.tables import (
    PM_API,
    InstanceRow,
    PmJobRow,
    PmReportRow,
    PmThresholdRow,
    SubscriptionRow,
)

log = logging.getLogger("vnfm.pm")

PREFIX = "/vnfpm/v2"
JOBS = f"{PREFIX}/pm_jobs"
THRESHOLDS = f"{PREFIX}/thresholds"
INSTANCES = "/vnflcm/v2/vnf_instances"
AVAILABLE = "PerformanceInformationAvailableNotification"
CROSSED = "ThresholdCrossedNotification"
TYPES = (AVAILABLE, CROSSED)

MAX_PERIOD = 31 * 24 * 3600  # a month: periods are seconds (SOL003 UnsignedInt)
MAX_COLLECTIONS = 1000  # collections per report: reportingPeriod / collectionPeriod
MAX_OBJECTS = 100  # objectInstanceIds, subObjectInstanceIds of one job
ID_MAX = 255


class PmError(LcmError):
    """A PM request that cannot be carried out; the message names the field."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message, status)


@dataclass(frozen=True)
class PmSettings:
    tick_s: float = 1.0  # how often due collections, reports and thresholds are looked for
    delay_s: float = 2.0  # after a boundary, before its collection (last scrape in)
    threshold_period_s: float = 10.0  # thresholds: evaluated over, and every, this period
    scrape_s: float = 5.0  # the Prometheus scrape interval (peaks: one rate per scrape)
    reports_kept: int = 100  # per job: older reports are deleted
    catch_up: int = 10  # missed reporting periods reported after a restart, at most


# -- validation -------------------------------------------------------------------------------
def _finite(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PmError(f"{name}: not a number")
    if not math.isfinite(value):
        raise PmError(f"{name}: not a finite number")
    return float(value)


def _period(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise PmError(f"{name}: not an integer number of seconds")
    if not 1 <= value <= MAX_PERIOD:
        raise PmError(f"{name}: {value} is not between 1 and {MAX_PERIOD} seconds")
    return value


def _ids(value: Any, name: str, *, required: bool) -> list[str] | None:
    if value is None and not required:
        return None
    if not isinstance(value, list) or (required and not value):
        raise PmError(f"{name}: a non-empty list of identifiers is needed")
    if len(value) > MAX_OBJECTS:
        raise PmError(f"{name}: more than {MAX_OBJECTS} identifiers")
    out = []
    for i, item in enumerate(value):
        if not isinstance(item, str) or not 1 <= len(item) <= ID_MAX:
            raise PmError(f"{name}[{i}]: not an identifier")
        if item not in out:
            out.append(item)
    return out


def _object_type(value: Any) -> str:
    if value not in OBJECT_TYPES:
        raise PmError(f"objectType: {str(value)[:40]!r} is not one of {', '.join(OBJECT_TYPES)}")
    return str(value)


def _metric(value: Any, object_type: str, name: str) -> str:
    if not isinstance(value, str) or not value or len(value) > ID_MAX:
        raise PmError(f"{name}: not a performance metric name")
    if base_name(value) not in OBJECT_METRICS[object_type]:
        known = ", ".join(OBJECT_METRICS[object_type])
        raise PmError(f"{name}: {value[:80]!r} does not measure a {object_type} ({known})")
    return value


def _boundary(value: Any) -> str | None:
    if value is None:
        return None
    try:
        stamp = datetime.fromisoformat(str(value))
    except ValueError:
        raise PmError("criteria.reportingBoundary: not a date-time") from None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    return iso(stamp)


def _epoch(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def _stamp(t: float) -> str:
    return iso(datetime.fromtimestamp(t, UTC))


def check_job(request: dict[str, Any]) -> dict[str, Any]:
    """A CreatePmJobRequest's job part, normalised; PmError naming the field."""
    object_type = _object_type(request.get("objectType"))
    objects = _ids(request.get("objectInstanceIds"), "objectInstanceIds", required=True)
    subs = _ids(request.get("subObjectInstanceIds"), "subObjectInstanceIds", required=False)
    if subs is not None and len(objects or []) != 1:
        raise PmError("subObjectInstanceIds: only with exactly one objectInstanceIds entry")
    criteria = request.get("criteria")
    if not isinstance(criteria, dict):
        raise PmError("criteria: an object is needed")
    metrics = criteria.get("performanceMetric") or []
    groups = criteria.get("performanceMetricGroup") or []
    if not isinstance(metrics, list) or not isinstance(groups, list):
        raise PmError("criteria.performanceMetric: a list is needed")
    if not metrics and not groups:
        raise PmError("criteria: performanceMetric or performanceMetricGroup is needed")
    for i, metric in enumerate(metrics):
        _metric(metric, object_type, f"criteria.performanceMetric[{i}]")
    for i, group in enumerate(groups):
        if group != OBJECT_GROUP[object_type]:
            raise PmError(
                f"criteria.performanceMetricGroup[{i}]: {str(group)[:80]!r} does not measure "
                f"a {object_type} ({OBJECT_GROUP[object_type]})"
            )
    collection = _period(criteria.get("collectionPeriod"), "criteria.collectionPeriod")
    reporting = _period(criteria.get("reportingPeriod"), "criteria.reportingPeriod")
    if reporting % collection:
        raise PmError(
            f"criteria.reportingPeriod: {reporting} is not a multiple of the "
            f"collectionPeriod {collection}"
        )
    if reporting // collection > MAX_COLLECTIONS:
        raise PmError(f"criteria.reportingPeriod: more than {MAX_COLLECTIONS} collection periods")
    out_criteria: dict[str, Any] = {"collectionPeriod": collection, "reportingPeriod": reporting}
    if metrics:
        out_criteria["performanceMetric"] = list(dict.fromkeys(metrics))
    if groups:
        out_criteria["performanceMetricGroup"] = list(dict.fromkeys(groups))
    boundary = _boundary(criteria.get("reportingBoundary"))
    if boundary is not None:
        out_criteria["reportingBoundary"] = boundary
    job: dict[str, Any] = {"objectType": object_type, "objectInstanceIds": objects}
    if subs is not None:
        job["subObjectInstanceIds"] = subs
    job["criteria"] = out_criteria
    return job


def check_threshold(request: dict[str, Any]) -> dict[str, Any]:
    """A CreateThresholdRequest's threshold part, normalised; PmError naming the field."""
    object_type = _object_type(request.get("objectType"))
    instance = request.get("objectInstanceId")
    if not isinstance(instance, str) or not 1 <= len(instance) <= ID_MAX:
        raise PmError("objectInstanceId: not an identifier")
    subs = _ids(request.get("subObjectInstanceIds"), "subObjectInstanceIds", required=False)
    criteria = request.get("criteria")
    if not isinstance(criteria, dict):
        raise PmError("criteria: an object is needed")
    metric = _metric(criteria.get("performanceMetric"), object_type, "criteria.performanceMetric")
    if criteria.get("thresholdType") != "SIMPLE":
        raise PmError("criteria.thresholdType: only SIMPLE is supported")
    details = criteria.get("simpleThresholdDetails")
    if not isinstance(details, dict):
        raise PmError("criteria.simpleThresholdDetails: needed with thresholdType SIMPLE")
    value = _finite(details.get("thresholdValue"), "criteria.simpleThresholdDetails.thresholdValue")
    hysteresis = _finite(details.get("hysteresis"), "criteria.simpleThresholdDetails.hysteresis")
    if hysteresis < 0:
        raise PmError("criteria.simpleThresholdDetails.hysteresis: negative")
    out: dict[str, Any] = {"objectType": object_type, "objectInstanceId": instance}
    if subs is not None:
        out["subObjectInstanceIds"] = subs
    out["criteria"] = {
        "performanceMetric": metric,
        "thresholdType": "SIMPLE",
        "simpleThresholdDetails": {"thresholdValue": value, "hysteresis": hysteresis},
    }
    return out


# -- notifications ----------------------------------------------------------------------------
def _links_of(kind_base: str, rec_id: str, instance_id: str) -> dict[str, Any]:
    return {
        "self": {"href": f"{kind_base}/{rec_id}"},
        "objectInstance": {"href": f"{INSTANCES}/{instance_id}"},
    }


def available_notification(
    job: dict[str, Any], report_id: str, instance_id: str, subs: list[str] | None
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "notificationType": AVAILABLE,
        "subscriptionId": job["id"],
        "timeStamp": iso(now()),
        "pmJobId": job["id"],
        "objectType": job["objectType"],
        "objectInstanceId": instance_id,
    }
    if subs:
        out["subObjectInstanceIds"] = subs
    out["_links"] = {
        "objectInstance": {"href": f"{INSTANCES}/{instance_id}"},
        "pmJob": {"href": f"{JOBS}/{job['id']}"},
        "performanceReport": {"href": f"{JOBS}/{job['id']}/reports/{report_id}"},
    }
    return out


def crossed_notification(th: dict[str, Any], crossing: ThresholdCrossing) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "notificationType": CROSSED,
        "subscriptionId": th["id"],
        "timeStamp": _stamp(crossing.at),
        "thresholdId": th["id"],
        "crossingDirection": crossing.direction,
        "objectType": th["objectType"],
        "objectInstanceId": crossing.vnf_instance_id,
        "performanceMetric": crossing.performance_metric,
        "performanceValue": crossing.value,
    }
    if crossing.sub_object_instance_id is not None:
        out["subObjectInstanceId"] = crossing.sub_object_instance_id
    out["_links"] = {
        "objectInstance": {"href": f"{INSTANCES}/{crossing.vnf_instance_id}"},
        "threshold": {"href": f"{THRESHOLDS}/{th['id']}"},
    }
    return out


def crossing_of(
    state: str | None, value: float, threshold: float, hysteresis: float
) -> tuple[str | None, bool]:
    """(the new state, whether it is a crossing to notify). UP at or above the band,
    DOWN at or below it; the first DOWN of an object never seen UP is no crossing."""
    if value >= threshold + hysteresis and state != UP:
        return UP, True
    if value <= threshold - hysteresis and state != DOWN:
        return DOWN, state == UP
    return state, False


# -- the service ------------------------------------------------------------------------------
class PmService:
    """PM jobs and thresholds over the store; :meth:`start` runs the collection."""

    def __init__(
        self,
        store: Store,
        box: SecretBox,
        settings: PmSettings | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.box = box
        self.settings = settings or PmSettings()
        self.clock = clock
        self._listeners: list[CrossingListener] = []
        self._collector: Collector | None = None
        self._prom_url: Callable[[], str | None] = lambda: None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._topologies: dict[str, tuple[Any, Topology]] = {}
        # (job id, collection index) -> values: collected as each period ends
        self._collected: dict[tuple[str, int], dict[str, list[Value]]] = {}
        self._reported: dict[str, int] = {}  # job id -> last reported period index
        self._evaluated: dict[str, int] = {}  # threshold id -> last evaluated index
        self.passes = 0

    # -- listeners ---------------------------------------------------------------------------
    def add_crossing_listener(self, fn: CrossingListener) -> None:
        """``fn`` is called with every crossing, after it is committed (in PM's thread)."""
        self._listeners.append(fn)

    # -- instances ---------------------------------------------------------------------------
    def _instance(self, s: Session, instance_id: str, name: str) -> Topology:
        row = s.get(InstanceRow, instance_id)
        if row is None:
            raise PmError(f"{name}: no VNF instance {instance_id[:80]}", 422)
        if row.instantiation_state != "INSTANTIATED":
            raise PmError(f"{name}: VNF instance {instance_id} is not INSTANTIATED", 422)
        return topology(row.doc)

    @staticmethod
    def _check_subs(topo: Topology, object_type: str, subs: list[str] | None) -> None:
        if subs is None:
            return
        known = topo.sub_objects(object_type)
        for i, sub in enumerate(subs):
            if sub not in known:
                what = "VNFC" if object_type in ("Vnf", "Vnfc") else "connection point"
                raise PmError(
                    f"subObjectInstanceIds[{i}]: no {what} {sub[:80]} of the instance", 422
                )

    def _callback(self, s: Session, rec_id: str, base: str, request: dict[str, Any]) -> None:
        auth = request.get("authentication")
        doc = {
            "id": rec_id,
            "filter": {},
            "callbackUri": request["callbackUri"],
            "_links": {"self": {"href": f"{base}/{rec_id}"}},
        }
        s.add(
            SubscriptionRow(
                id=rec_id,
                api=PM_API,
                doc=doc,
                authentication=self.box.seal(auth) if auth else None,
                created_at=now(),
            )
        )

    # -- PM jobs -----------------------------------------------------------------------------
    def create_job(self, request: dict[str, Any]) -> dict[str, Any]:
        """A new PM job (the callback has been checked by the caller)."""
        job = check_job(request)
        job_id = str(uuid.uuid4())
        doc = {"id": job_id, **job, "callbackUri": str(request["callbackUri"]), "reports": []}
        doc["_links"] = {
            "self": {"href": f"{JOBS}/{job_id}"},
            "objects": [{"href": f"{INSTANCES}/{i}"} for i in job["objectInstanceIds"]],
        }
        with self.store.session() as s:
            for i, instance_id in enumerate(job["objectInstanceIds"]):
                topo = self._instance(s, instance_id, f"objectInstanceIds[{i}]")
                self._check_subs(topo, job["objectType"], job.get("subObjectInstanceIds"))
            s.add(
                PmJobRow(
                    id=job_id, doc=doc, anchor=float(math.ceil(self.clock())), created_at=now()
                )
            )
            self._callback(s, job_id, JOBS, request)
        return doc

    def job(self, job_id: str) -> dict[str, Any]:
        with self.store.reading() as s:
            row = s.get(PmJobRow, job_id)
            if row is None:
                raise NotFound(f"no PM job {job_id}")
            return dict(row.doc)

    def jobs(self) -> list[dict[str, Any]]:
        with self.store.reading() as s:
            q = select(PmJobRow.doc).order_by(PmJobRow.created_at, PmJobRow.id)
            return [dict(d) for d in s.scalars(q)]

    def _modify(
        self,
        row_type: type[PmJobRow] | type[PmThresholdRow],
        rec_id: str,
        what: str,
        mods: dict[str, Any],
    ) -> dict[str, Any]:
        with self.store.session() as s:
            row = s.get(PmJobRow, rec_id) if row_type is PmJobRow else s.get(PmThresholdRow, rec_id)
            sub = s.get(SubscriptionRow, rec_id)
            if row is None or sub is None:
                raise NotFound(f"no {what} {rec_id}")
            if "callbackUri" in mods:
                row.doc = {**row.doc, "callbackUri": mods["callbackUri"]}
                sub.doc = {**sub.doc, "callbackUri": mods["callbackUri"]}
            if "authentication" in mods:
                auth = mods["authentication"]
                sub.authentication = self.box.seal(auth) if auth else None
        return {k: v for k, v in mods.items() if k == "callbackUri"}

    def update_job(self, job_id: str, mods: dict[str, Any]) -> dict[str, Any]:
        """PmJobModifications: callbackUri and/or authentication (returned without it)."""
        return self._modify(PmJobRow, job_id, "PM job", mods)

    def delete_job(self, job_id: str) -> None:
        with self.store.session() as s:
            row = s.get(PmJobRow, job_id)
            if row is None:
                raise NotFound(f"no PM job {job_id}")
            s.delete(row)
            s.execute(delete(PmReportRow).where(PmReportRow.pm_job_id == job_id))
            s.execute(delete(SubscriptionRow).where(SubscriptionRow.id == job_id))
        self._reported.pop(job_id, None)

    def report(self, job_id: str, report_id: str) -> dict[str, Any]:
        with self.store.reading() as s:
            row = s.get(PmReportRow, report_id)
            if row is None or row.pm_job_id != job_id:
                raise NotFound(f"no report {report_id} of PM job {job_id}")
            return dict(row.doc)

    def reports(self, job_id: str) -> list[tuple[int, dict[str, Any]]]:
        """(period index, report) of a job, oldest first."""
        with self.store.reading() as s:
            q = (
                select(PmReportRow.period_index, PmReportRow.doc)
                .where(PmReportRow.pm_job_id == job_id)
                .order_by(PmReportRow.period_index)
            )
            return [(int(i), dict(d)) for i, d in s.execute(q)]

    # -- thresholds --------------------------------------------------------------------------
    def create_threshold(self, request: dict[str, Any]) -> dict[str, Any]:
        th = check_threshold(request)
        th_id = str(uuid.uuid4())
        doc = {"id": th_id, **th, "callbackUri": str(request["callbackUri"])}
        doc["_links"] = {
            "self": {"href": f"{THRESHOLDS}/{th_id}"},
            "object": {"href": f"{INSTANCES}/{th['objectInstanceId']}"},
        }
        with self.store.session() as s:
            topo = self._instance(s, th["objectInstanceId"], "objectInstanceId")
            self._check_subs(topo, th["objectType"], th.get("subObjectInstanceIds"))
            s.add(
                PmThresholdRow(
                    id=th_id,
                    vnf_instance_id=th["objectInstanceId"],
                    doc=doc,
                    state={"anchor": float(math.ceil(self.clock())), "objects": {}},
                    created_at=now(),
                )
            )
            self._callback(s, th_id, THRESHOLDS, request)
        return doc

    def threshold(self, th_id: str) -> dict[str, Any]:
        with self.store.reading() as s:
            row = s.get(PmThresholdRow, th_id)
            if row is None:
                raise NotFound(f"no threshold {th_id}")
            return dict(row.doc)

    def thresholds(self) -> list[dict[str, Any]]:
        with self.store.reading() as s:
            q = select(PmThresholdRow.doc).order_by(PmThresholdRow.created_at, PmThresholdRow.id)
            return [dict(d) for d in s.scalars(q)]

    def update_threshold(self, th_id: str, mods: dict[str, Any]) -> dict[str, Any]:
        return self._modify(PmThresholdRow, th_id, "threshold", mods)

    def delete_threshold(self, th_id: str) -> None:
        with self.store.session() as s:
            row = s.get(PmThresholdRow, th_id)
            if row is None:
                raise NotFound(f"no threshold {th_id}")
            s.delete(row)
            s.execute(delete(SubscriptionRow).where(SubscriptionRow.id == th_id))
        self._evaluated.pop(th_id, None)

    # -- running -----------------------------------------------------------------------------
    def start(self, prometheus_url: Callable[[], str | None]) -> None:
        """Collect, report and evaluate thresholds in a thread until :meth:`stop`."""
        self._prom_url = prometheus_url
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="vnfm-pm", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(self.settings.tick_s):
            try:
                self.run_once()
            except Exception:
                log.exception("PM pass failed")

    def collector(self) -> Collector | None:
        url = self._prom_url()
        if url is None:
            return None
        if self._collector is None or self._collector.prom.base_url != url:
            self._collector = Collector(PromClient(url), self.settings.scrape_s)
        return self._collector

    def run_once(self, prometheus_url: str | None = None) -> None:
        """One pass: every due collection, report and threshold evaluation."""
        if prometheus_url is not None:
            self._prom_url = lambda: prometheus_url
        collector = self.collector()
        if collector is None:
            return
        t = self.clock()
        with self.store.reading() as s:
            jobs = [(r.id, dict(r.doc), r.anchor) for r in s.scalars(select(PmJobRow))]
            thresholds = [
                (r.id, dict(r.doc), dict(r.state)) for r in s.scalars(select(PmThresholdRow))
            ]
        for job_id, doc, anchor in jobs:
            try:
                self._job_pass(collector, job_id, doc, anchor, t)
            except PromError as exc:
                log.warning("PM job %s: %s", job_id, exc)
        for th_id, doc, state in thresholds:
            try:
                self._threshold_pass(collector, th_id, doc, state, t)
            except PromError as exc:
                log.warning("threshold %s: %s", th_id, exc)
        self.passes += 1

    def _topology(self, instance_id: str) -> Topology | None:
        with self.store.reading() as s:
            row = s.get(InstanceRow, instance_id)
            if row is None or row.instantiation_state != "INSTANTIATED":
                return None
            stamp = row.doc.get("instantiatedVnfInfo")
            have = self._topologies.get(instance_id)
            if have is not None and have[0] == stamp:
                return have[1]
            topo = topology(row.doc)
        self._topologies[instance_id] = (copy.deepcopy(stamp), topo)
        return topo

    def _collect(
        self, collector: Collector, doc: dict[str, Any], t0: float, t1: float
    ) -> dict[str, list[Value]]:
        """The values of one collection period, by object instance."""
        criteria = doc["criteria"]
        metrics = metrics_of(
            doc["objectType"],
            criteria.get("performanceMetric") or [],
            criteria.get("performanceMetricGroup") or [],
        )
        out: dict[str, list[Value]] = {}
        for instance_id in doc["objectInstanceIds"]:
            topo = self._topology(instance_id)
            if topo is None:
                continue
            out[instance_id] = collector.measure(
                instance_id=instance_id,
                topo=topo,
                object_type=doc["objectType"],
                metrics=metrics,
                subs=doc.get("subObjectInstanceIds"),
                t0=t0,
                t1=t1,
            )
        return out

    def _last_reported(self, job_id: str) -> int:
        if job_id not in self._reported:
            with self.store.reading() as s:
                last = s.scalar(
                    select(func.max(PmReportRow.period_index)).where(
                        PmReportRow.pm_job_id == job_id
                    )
                )
            self._reported[job_id] = -1 if last is None else int(last)
        return self._reported[job_id]

    def _job_pass(
        self, collector: Collector, job_id: str, doc: dict[str, Any], anchor: float, t: float
    ) -> None:
        criteria = doc["criteria"]
        cp, rp = int(criteria["collectionPeriod"]), int(criteria["reportingPeriod"])
        m = rp // cp
        ready = t - self.settings.delay_s  # boundaries up to here are in Prometheus
        boundary = criteria.get("reportingBoundary")
        limit = _epoch(boundary) if boundary else math.inf
        last = self._last_reported(job_id)
        # collections of the period being filled, as each ends
        done_k = math.floor((ready - anchor) / cp) - 1  # the last collection that ended
        first_k = (last + 1) * m
        for k in range(max(first_k, done_k - m + 1), done_k + 1):
            if (job_id, k) not in self._collected:
                t0 = anchor + k * cp
                self._collected[(job_id, k)] = self._collect(collector, doc, t0, t0 + cp)
        due_r = math.floor((ready - anchor) / rp) - 1
        first_r = last + 1
        if due_r - first_r + 1 > self.settings.catch_up:
            skipped = due_r - self.settings.catch_up + 1 - first_r
            log.warning("PM job %s: %d missed reporting periods skipped", job_id, skipped)
            first_r = due_r - self.settings.catch_up + 1
        for r in range(first_r, due_r + 1):
            if anchor + (r + 1) * rp > limit:
                break
            self._write_report(collector, job_id, doc, anchor, r, m, cp)
        for key in [k for k in self._collected if k[0] == job_id and k[1] < (due_r + 1) * m]:
            del self._collected[key]

    def _write_report(
        self,
        collector: Collector,
        job_id: str,
        doc: dict[str, Any],
        anchor: float,
        r: int,
        m: int,
        cp: int,
    ) -> None:
        entries: dict[tuple[str, str | None, str], list[dict[str, Any]]] = {}
        for k in range(r * m, (r + 1) * m):
            t0 = anchor + k * cp
            values = self._collected.get((job_id, k))
            if values is None:
                values = self._collect(collector, doc, t0, t0 + cp)
            for instance_id, vals in values.items():
                for v in vals:
                    entries.setdefault((instance_id, v.sub, v.metric), []).append(
                        {"timeStamp": _stamp(t0 + cp), "value": v.value}
                    )
        report_id = str(uuid.uuid4())
        report: dict[str, Any] = {"entries": []}
        for (instance_id, sub, metric), points in entries.items():
            entry: dict[str, Any] = {
                "objectType": doc["objectType"],
                "objectInstanceId": instance_id,
                "performanceMetric": metric,
                "performanceValues": points,
            }
            if sub is not None:
                entry["subObjectInstanceId"] = sub
            report["entries"].append(entry)
        ready = now()
        try:
            with self.store.session() as s:
                row = s.get(PmJobRow, job_id)
                if row is None:
                    return  # deleted meanwhile
                s.add(
                    PmReportRow(
                        id=report_id, pm_job_id=job_id, period_index=r, doc=report, created_at=ready
                    )
                )
                refs = list(row.doc.get("reports") or [])
                refs.append(
                    {"href": f"{JOBS}/{job_id}/reports/{report_id}", "readyTime": iso(ready)}
                )
                kept = refs[-self.settings.reports_kept :]
                row.doc = {**row.doc, "reports": kept}
                s.flush()  # the unique (job, period) key: a second writer stops here
                if len(refs) > len(kept):
                    old = s.scalars(
                        select(PmReportRow.id)
                        .where(PmReportRow.pm_job_id == job_id)
                        .order_by(PmReportRow.period_index)
                        .limit(len(refs) - len(kept))
                    ).all()
                    s.execute(delete(PmReportRow).where(PmReportRow.id.in_(old)))
                for instance_id in doc["objectInstanceIds"]:
                    note = available_notification(
                        doc, report_id, instance_id, doc.get("subObjectInstanceIds")
                    )
                    key = f"pm-report:{job_id}:{r}:{instance_id}"
                    s.add(outbox_row(note, key, instance_id, ready))
        except IntegrityError:
            log.info("PM job %s: report %d already written", job_id, r)
        self._reported[job_id] = max(r, self._reported.get(job_id, -1))

    def _threshold_pass(
        self,
        collector: Collector,
        th_id: str,
        doc: dict[str, Any],
        state: dict[str, Any],
        t: float,
    ) -> None:
        period = self.settings.threshold_period_s
        anchor = float(state.get("anchor") or 0.0)
        k = math.floor((t - self.settings.delay_s - anchor) / period)
        if k < 1 or k <= self._evaluated.get(th_id, int(state.get("k", 0))):
            return  # a restart: only the latest period is evaluated (thresholds are "now")
        self._evaluated[th_id] = k
        instance_id = doc["objectInstanceId"]
        topo = self._topology(instance_id)
        if topo is None:
            return
        details = doc["criteria"]["simpleThresholdDetails"]
        metric = base_name(doc["criteria"]["performanceMetric"])
        t1 = anchor + k * period
        values = collector.measure(
            instance_id=instance_id,
            topo=topo,
            object_type=doc["objectType"],
            metrics=[metric],
            subs=doc.get("subObjectInstanceIds"),
            t0=t1 - period,
            t1=t1,
        )
        crossings: list[ThresholdCrossing] = []
        with self.store.session() as s:
            row = s.execute(
                select(PmThresholdRow).where(PmThresholdRow.id == th_id).with_for_update()
            ).scalar_one_or_none()
            if row is None:
                return
            objects = dict(row.state.get("objects") or {})
            for v in values:
                obj = v.sub or ""
                new, crossed = crossing_of(
                    objects.get(obj),
                    v.value,
                    float(details["thresholdValue"]),
                    float(details["hysteresis"]),
                )
                objects[obj] = new
                if crossed and new is not None:
                    c = ThresholdCrossing(
                        threshold_id=th_id,
                        vnf_instance_id=instance_id,
                        performance_metric=doc["criteria"]["performanceMetric"],
                        sub_object_instance_id=v.sub,
                        direction=new,
                        value=v.value,
                        at=t1,
                    )
                    crossings.append(c)
                    key = f"pm-threshold:{th_id}:{obj}:{k}"
                    s.add(outbox_row(crossed_notification(doc, c), key, instance_id, now()))
            row.state = {**row.state, "objects": objects, "k": k}
        for c in crossings:
            for fn in list(self._listeners):
                try:
                    fn(c)
                except Exception:
                    log.exception("threshold crossing listener failed")
