"""Unit tests of PM (assurance/pm.py, pm_metrics.py): request checks naming the field,
counter differencing, the hysteresis band, reports written once per period and the
crossing listeners called after the commit. A real SQLite store; Prometheus is the edge
cut here (a collector answering known values), the real one is in tests/assurance."""

from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from vnfm_runner.assurance.pm import (
    PmError,
    PmService,
    PmSettings,
    check_job,
    check_threshold,
    crossing_of,
)
from vnfm_runner.assurance.pm_events import ThresholdCrossing
from vnfm_runner.assurance.pm_metrics import Value, counter_delta, metrics_of, topology
from vnfm_runner.bootstrap import open_store
from vnfm_runner.secrets import SecretBox
from vnfm_runner.store.db import Store, now
from vnfm_runner.store.tables import (
    InstanceRow,
    NotificationOutboxRow,
    PackageRow,
    PmReportRow,
    SubscriptionRow,
)

INFO = {
    "vnfcResourceInfo": [
        {
            "id": "web-0",
            "vduId": "web",
            "vnfcCpInfo": [
                {"id": "web-0-int", "cpdId": "web_cp"},
                {"id": "web-0-ext0", "cpdId": "web_ext", "vnfExtCpId": "web-0-ext"},
            ],
        }
    ]
}
JOB: dict[str, Any] = {
    "objectType": "Vnf",
    "objectInstanceIds": ["i"],
    "criteria": {
        "performanceMetric": ["VCpuUsageMeanVnf"],
        "collectionPeriod": 5,
        "reportingPeriod": 10,
    },
}
THRESHOLD: dict[str, Any] = {
    "objectType": "Vnfc",
    "objectInstanceId": "i",
    "criteria": {
        "performanceMetric": "VMemoryUsageMeanVnf",
        "thresholdType": "SIMPLE",
        "simpleThresholdDetails": {"thresholdValue": 50, "hysteresis": 10},
    },
}


def _with(base: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    out = {**base, "criteria": dict(base["criteria"])}
    where = out
    *parents, last = path.split(".")
    for p in parents:
        where[p] = dict(where[p])
        where = where[p]
    where[last] = value
    return out


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        ("objectType", "Vnfd", "objectType"),
        ("objectType", None, "objectType"),
        ("objectInstanceIds", [], "objectInstanceIds"),
        ("objectInstanceIds", ["x" * 300], "objectInstanceIds[0]"),
        ("objectInstanceIds", [f"i{n}" for n in range(101)], "objectInstanceIds"),
        ("subObjectInstanceIds", ["a"], None),  # fine with one object instance
        ("criteria.performanceMetric", ["PacketIncomingVnfExtCp"], "criteria.performanceMetric[0]"),
        ("criteria.performanceMetric", [], "criteria: performanceMetric or"),
        ("criteria.collectionPeriod", 0, "criteria.collectionPeriod"),
        ("criteria.collectionPeriod", 1.5, "criteria.collectionPeriod"),
        ("criteria.collectionPeriod", True, "criteria.collectionPeriod"),
        ("criteria.reportingPeriod", 10**30, "criteria.reportingPeriod"),
        ("criteria.reportingPeriod", 12, "not a multiple"),
        ("criteria.reportingPeriod", 5 * 1001, "more than 1000"),
        ("criteria.reportingBoundary", "yesterday", "criteria.reportingBoundary"),
        ("criteria.performanceMetricGroup", ["VnfInternalCp"], "performanceMetricGroup[0]"),
    ],
)
def test_job_requests_are_refused_naming_the_field(
    path: str, value: Any, field: str | None
) -> None:
    request = _with(JOB, path, value)
    if field is None:
        assert check_job(request)["subObjectInstanceIds"] == ["a"]
        return
    with pytest.raises(PmError) as info:
        check_job(request)
    assert field in str(info.value) and info.value.status == 400


def test_a_job_is_normalised() -> None:
    job = check_job(
        _with(
            _with(JOB, "criteria.performanceMetric", ["VCpuUsageMeanVnf.i", "VCpuUsageMeanVnf.i"]),
            "criteria.reportingBoundary",
            "2030-01-01T00:00:00+01:00",
        )
    )
    assert job["criteria"]["performanceMetric"] == ["VCpuUsageMeanVnf.i"]
    assert job["criteria"]["reportingBoundary"] == "2029-12-31T23:00:00.000000Z"
    assert metrics_of("Vnf", ["VCpuUsageMeanVnf.i"], ["VirtualisedComputeResource"]) == [
        "VCpuUsageMeanVnf",
        "VCpuUsagePeakVnf",
        "VMemoryUsageMeanVnf",
        "VMemoryUsagePeakVnf",
    ]


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        ("objectInstanceId", "", "objectInstanceId"),
        ("criteria.thresholdType", "COMPLEX", "thresholdType"),
        ("criteria.simpleThresholdDetails", None, "simpleThresholdDetails"),
        ("criteria.simpleThresholdDetails.thresholdValue", math.nan, "thresholdValue"),
        ("criteria.simpleThresholdDetails.thresholdValue", math.inf, "thresholdValue"),
        ("criteria.simpleThresholdDetails.thresholdValue", "80", "thresholdValue"),
        ("criteria.simpleThresholdDetails.hysteresis", -0.5, "hysteresis"),
        ("criteria.performanceMetric", "ByteIncomingVnfIntCp", "criteria.performanceMetric"),
    ],
)
def test_threshold_requests_are_refused_naming_the_field(path: str, value: Any, field: str) -> None:
    with pytest.raises(PmError, match=field):
        check_threshold(_with(THRESHOLD, path, value))


def test_counters_are_differenced_and_a_reset_counts_from_zero() -> None:
    assert counter_delta(5000.0, 5400.0) == 400.0
    assert counter_delta(None, 12.0) == 12.0  # a new series
    assert counter_delta(5400.0, 30.0) == 30.0  # reset: what it counted since


def test_the_hysteresis_band() -> None:
    state, seen = None, []
    for value in [30, 55, 45, 60, 59, 65, 41, 40.5, 40, 39, 70, 70]:
        state, crossed = crossing_of(state, value, 50, 10)
        if crossed:
            seen.append((value, state))
    assert seen == [(60, "UP"), (40, "DOWN"), (70, "UP")]


def test_topology_of_an_instance() -> None:
    topo = topology({"instantiatedVnfInfo": INFO})
    assert topo.vnfcs == ("web-0",)
    assert topo.int_cps == {("web-0", "web_cp"): "web-0-int", ("web-0", "web_ext"): "web-0-ext0"}
    assert topo.ext_cps == {("web-0", "web_ext"): "web-0-ext"}
    assert (
        topology({"instantiatedVnfInfo": {"vnfcResourceInfo": ["\udcff", {"id": None}]}}).vnfcs
        == ()
    )


# -- the service on a real store ---------------------------------------------------------------
class Known:
    """The collector edge: values the test sets, per (instance, metric, sub)."""

    def __init__(self) -> None:
        self.values: dict[str, float] = {}
        self.calls: list[tuple[float, float]] = []

    def measure(
        self, *, metrics: list[str], subs: list[str] | None, t0: float, t1: float, **_: Any
    ) -> list[Value]:
        self.calls.append((t0, t1))
        return [
            Value(m, s, self.values[m])
            for m in metrics
            for s in (subs or [None])
            if m in self.values
        ]


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = open_store(f"sqlite:///{tmp_path / 'vnfm.db'}")
    pkg = PackageRow(
        id="p",
        vnfd_id="v",
        path="/p",
        summary={},
        onboarding_state="ONBOARDED",
        operational_state="ENABLED",
        created_at=now(),
    )
    row = InstanceRow(
        id="i",
        vnfd_id="v",
        package_id="p",
        instantiation_state="INSTANTIATED",
        doc={"id": "i", "instantiatedVnfInfo": INFO},
        created_at=now(),
    )
    with s.session() as ses:
        ses.add(pkg)
        ses.flush()
        ses.add(row)
    return s


class Clock:
    def __init__(self) -> None:
        self.t = 1_700_000_000.0

    def __call__(self) -> float:
        return self.t


def _service(store: Store, tmp_path: Path, clock: Clock, known: Known) -> PmService:
    svc = PmService(
        store, SecretBox(tmp_path), PmSettings(delay_s=1.0, threshold_period_s=5.0), clock
    )
    svc.collector = lambda: known  # type: ignore[assignment,method-assign,return-value]
    return svc


def test_one_report_per_period_even_from_two_services(store: Store, tmp_path: Path) -> None:
    clock, known = Clock(), Known()
    known.values["VCpuUsageMeanVnf"] = 12.5
    one = _service(store, tmp_path, clock, known)
    two = _service(store, tmp_path, clock, known)
    job = one.create_job(
        {
            **JOB,
            "callbackUri": "http://127.0.0.1:9/cb",
            "authentication": {
                "authType": ["BASIC"],
                "paramsBasic": {"userName": "u", "password": "Secr3t-Pm"},
            },
        }
    )
    with store.reading() as s:
        sub = s.get(SubscriptionRow, job["id"])
        assert sub is not None and sub.api == "vnfpm" and "Secr3t-Pm" not in str(sub.authentication)
    clock.t += 31.5  # three reporting periods of 10 s ended (and the delay passed)
    one.run_once()
    two.run_once()  # a second server on the same store: nothing more
    one.run_once()
    reports = one.reports(job["id"])
    assert [i for i, _ in reports] == [0, 1, 2]
    values = reports[0][1]["entries"][0]["performanceValues"]
    assert [v["value"] for v in values] == [12.5, 12.5]  # two collections per report
    with store.reading() as s:
        rows = s.scalars(
            select(NotificationOutboxRow).where(NotificationOutboxRow.subscription_id == job["id"])
        ).all()
    assert len(rows) == 3 and {r.notification_type for r in rows} == {
        "PerformanceInformationAvailableNotification"
    }
    links = rows[0].payload["_links"]
    assert links["pmJob"]["href"] == f"/vnfpm/v2/pm_jobs/{job['id']}"
    assert links["performanceReport"]["href"].startswith(f"/vnfpm/v2/pm_jobs/{job['id']}/reports/")
    # a restart: a new service resumes after the last period reported, catching up
    clock.t += 20
    three = _service(store, tmp_path, clock, known)
    three.run_once()
    assert [i for i, _ in three.reports(job["id"])] == [0, 1, 2, 3, 4]
    three.delete_job(job["id"])
    with store.reading() as s:
        assert s.scalars(select(PmReportRow)).all() == []
        assert s.get(SubscriptionRow, job["id"]) is None


def test_crossings_are_committed_then_told_to_listeners(store: Store, tmp_path: Path) -> None:
    clock, known = Clock(), Known()
    svc = _service(store, tmp_path, clock, known)
    th = svc.create_threshold(
        {**THRESHOLD, "subObjectInstanceIds": ["web-0"], "callbackUri": "http://127.0.0.1:9/cb"}
    )
    told: list[tuple[ThresholdCrossing, int]] = []

    def listener(c: ThresholdCrossing) -> None:
        with store.reading() as s:  # committed already: another session sees the notification
            count = len(s.scalars(select(NotificationOutboxRow)).all())
        told.append((c, count))

    svc.add_crossing_listener(listener)
    for value in [30, 55, 70, 65, 45, 35, 55]:
        known.values["VMemoryUsageMeanVnf"] = value
        clock.t += 5
        svc.run_once()
    assert [(c.direction, c.value, n) for c, n in told] == [("UP", 70, 1), ("DOWN", 35, 2)]
    c = told[0][0]
    assert (c.threshold_id, c.vnf_instance_id, c.sub_object_instance_id) == (th["id"], "i", "web-0")
    # the state survives a restart: a new service sends no second UP for the same state
    known.values["VMemoryUsageMeanVnf"] = 70
    clock.t += 5
    again = _service(store, tmp_path, clock, known)
    again.run_once()
    clock.t += 5
    again.run_once()
    with store.reading() as s:
        kinds = [
            r.payload["crossingDirection"]
            for r in s.scalars(select(NotificationOutboxRow).order_by(NotificationOutboxRow.seq))
        ]
    assert kinds == ["UP", "DOWN", "UP"]


def test_instances_and_sub_objects_are_checked(store: Store, tmp_path: Path) -> None:
    svc = _service(store, tmp_path, Clock(), Known())
    for change, field in [
        ({"objectInstanceIds": [str(uuid.uuid4())]}, "objectInstanceIds[0]"),
        ({"subObjectInstanceIds": ["web-9"]}, "subObjectInstanceIds[0]"),
        (
            {
                "objectType": "VnfExtCp",
                "subObjectInstanceIds": ["web-0-int"],
                "criteria": {
                    "performanceMetricGroup": ["VnfExternalCp"],
                    "collectionPeriod": 5,
                    "reportingPeriod": 5,
                },
            },
            "subObjectInstanceIds[0]",
        ),
    ]:
        with pytest.raises(PmError, match=field.replace("[", r"\[")) as info:
            svc.create_job({**JOB, **change, "callbackUri": "http://x"})
        assert info.value.status == 422
    job = svc.create_job(
        {
            **JOB,
            "objectType": "VnfExtCp",
            "subObjectInstanceIds": ["web-0-ext"],
            "criteria": {
                "performanceMetricGroup": ["VnfExternalCp"],
                "collectionPeriod": 5,
                "reportingPeriod": 5,
            },
            "callbackUri": "http://x",
        }
    )
    assert job["subObjectInstanceIds"] == ["web-0-ext"]


def test_no_report_after_the_reporting_boundary(store: Store, tmp_path: Path) -> None:
    clock, known = Clock(), Known()
    known.values["VCpuUsageMeanVnf"] = 1.0
    svc = _service(store, tmp_path, clock, known)
    boundary = datetime.fromtimestamp(math.ceil(clock.t) + 25, UTC).isoformat()
    job = svc.create_job(
        {**_with(JOB, "criteria.reportingBoundary", boundary), "callbackUri": "http://x"}
    )
    clock.t += 60
    svc.run_once()
    assert [i for i, _ in svc.reports(job["id"])] == [0, 1]  # periods ending at +10, +20
