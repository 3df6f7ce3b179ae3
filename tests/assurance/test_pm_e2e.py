"""PM end to end: a real ``vnfm serve`` with its embedded Prometheus, a real subscriber.

Prometheus scrapes (every second) a real prometheus-client exporter this test runs,
exposing the contract's series for one VNFC with values the test sets: so the expected
report values are known exactly. The VNF instance is a record made INSTANTIATED in the
server's store (PM reads its VNFCs and CPs from it; no VNFC needs to run for that). The
server is restarted in the middle: no report is lost or written twice.
"""

from __future__ import annotations

import itertools
import json
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx
from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from tests.api.server import WEBFARM, Server, make_server, onboard_via_api, opened_store, zip_dir
from tests.assurance.helpers import need
from tests.notify.subscriber import Subscriber
from vnfm_runner.store.tables import InstanceRow

JOBS = "/vnfpm/v2/pm_jobs"
THRESHOLDS = "/vnfpm/v2/thresholds"
AVAILABLE = "PerformanceInformationAvailableNotification"
LABELS = ["vnf_instance_id", "vnfc_id", "vdu_id"]
CP_LABELS = [*LABELS, "cpd_id", "cp_type"]
SETTINGS = {
    "monitoring": "true",
    "monitoring_scrape_interval": "1",
    "pm_tick": "0.2",
    "pm_delay": "1.5",
    "pm_threshold_period": "2",
    "notify_poll_interval": "0.2",
    "notify_retry_min": "0.2",
    "notify_retry_max": "1",
}


class Values(Collector):
    """The contract's series of one VNFC (web-0 of ``instance``), values set by the test."""

    def __init__(self, instance: str) -> None:
        self.instance = instance
        self.lock = threading.Lock()
        self.packets_in = 5000.0  # a counter that did not start at zero
        self.memory = 300.0
        self.memory_size = 1000.0
        self.scrapes = 0

    def collect(self) -> Iterator[Any]:
        with self.lock:
            self.scrapes += 1
            vnfc = [self.instance, "web-0", "web"]
            packets = CounterMetricFamily(
                "vnfm_cp_received_packets", "packets into the CP", labels=CP_LABELS
            )
            packets.add_metric([*vnfc, "web_cp", "int"], self.packets_in)
            memory = GaugeMetricFamily("vnfm_vnfc_memory_bytes", "in use", labels=LABELS)
            memory.add_metric(vnfc, self.memory)
            size = GaugeMetricFamily("vnfm_vnfc_memory_size_bytes", "size", labels=LABELS)
            size.add_metric(vnfc, self.memory_size)
        yield from (packets, memory, size)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _instantiated(server: Server, instance_id: str) -> None:
    """The record as an instantiation leaves it, for what PM reads: VNFCs and CPs."""
    info = {
        "flavourId": "default",
        "vnfState": "STARTED",
        "vnfcResourceInfo": [
            {
                "id": "web-0",
                "vduId": "web",
                "vnfcCpInfo": [{"id": "web-0-web_cp", "cpdId": "web_cp"}],
            }
        ],
        "extCpInfo": [],
    }
    with opened_store(server) as store, store.session() as s:
        row = s.get(InstanceRow, instance_id)
        assert row is not None
        row.instantiation_state = "INSTANTIATED"
        row.doc = {**row.doc, "instantiationState": "INSTANTIATED", "instantiatedVnfInfo": info}


def _wait(what: str, check: Any, timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = check()
        if got:
            return got
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _epoch(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def _of(sub: Subscriber, kind: str) -> list[dict[str, Any]]:
    with sub.lock:
        return [n for n in sub.received if n["notificationType"] == kind]


def _memory_steps(values: Values, steps: list[float], hold: float) -> None:
    for v in steps:
        with values.lock:
            values.memory = v
        time.sleep(hold)


def test_reports_thresholds_and_a_restart(tmp_path: Any) -> None:
    need(shutil.which("prometheus") is not None, "needs /usr/bin/prometheus")
    need(shutil.which("prometheus-alertmanager") or shutil.which("alertmanager"), "alertmanager")
    sub = Subscriber()
    server = make_server(tmp_path, **SETTINGS).start()
    try:
        with server.client(headers={}) as c:
            vnfd = onboard_via_api(c, zip_dir(WEBFARM))["vnfdId"]
            r = c.post(
                "/vnflcm/v2/vnf_instances",
                json={"vnfdId": vnfd},
                headers={"Version": "2.0.0"},
            )
            assert r.status_code == 201, r.text
            instance = r.json()["id"]
        _instantiated(server, instance)
        values = Values(instance)
        registry = CollectorRegistry()
        registry.register(values)
        port = _free_port()
        start_http_server(port, addr="127.0.0.1", registry=registry)
        targets = server.home / "monitoring" / "prometheus" / "targets" / "pm-test.json"
        targets.write_text(f'[{{"targets": ["127.0.0.1:{port}"], "labels": {{}}}}]')

        # the job starts counting once Prometheus has the series (file_sd: up to 5 s)
        _wait("scrapes", lambda: values.scrapes >= 2, 30)
        pm = server.client(headers={"Version": "2.1.0"})
        r = pm.post(
            JOBS,
            json={
                "objectType": "VnfIntCp",
                "objectInstanceIds": [instance],
                "criteria": {
                    "performanceMetric": [f"PacketIncomingVnfIntCp.{instance}"],
                    "collectionPeriod": 1,
                    "reportingPeriod": 2,
                },
                "callbackUri": sub.url,
            },
        )
        assert r.status_code == 201, r.text
        assert r.headers["Version"] == "2.1.0"
        job = r.json()
        r = pm.post(
            THRESHOLDS,
            json={
                "objectType": "Vnfc",
                "objectInstanceId": instance,
                "subObjectInstanceIds": ["web-0"],
                "criteria": {
                    "performanceMetric": "VMemoryUsageMeanVnf",
                    "thresholdType": "SIMPLE",
                    "simpleThresholdDetails": {"thresholdValue": 50, "hysteresis": 10},
                },
                "callbackUri": sub.url,
            },
        )
        assert r.status_code == 201, r.text
        threshold = r.json()

        # packets: 1000 more, in three bursts, one while the server is down
        time.sleep(3)
        with values.lock:
            values.packets_in += 400
        _wait("3 reports", lambda: len(_of(sub, AVAILABLE)) >= 3, 30)
        with values.lock:
            values.packets_in += 350
        down = time.time()
        server.stop()  # a restart: periods end while it is down
        time.sleep(3)
        with values.lock:
            values.packets_in += 250
        server.start()
        up = time.time()
        # memory (% of size): inside the band, UP, inside, inside, DOWN
        _memory_steps(values, [550, 700, 550, 450, 300], 4.0)
        _wait("12 reports", lambda: len(_of(sub, AVAILABLE)) >= 12, 40)
        time.sleep(1.5)  # anything late or duplicated would arrive now

        notes = _of(sub, AVAILABLE)
        hrefs = [n["_links"]["performanceReport"]["href"] for n in notes]
        assert len(hrefs) == len(set(hrefs)), "a report notified twice"
        assert all(n["pmJobId"] == job["id"] and n["objectInstanceId"] == instance for n in notes)
        r = pm.get(f"{JOBS}/{job['id']}")
        assert r.status_code == 200
        refs = [ref["href"] for ref in r.json()["reports"]]
        assert len(refs) == len(set(refs))
        assert set(hrefs) <= set(refs) and len(refs) - len(hrefs) <= 1  # one may be on its way
        # every period reported once, in order: the timestamps of the values tile the time
        stamps: list[str] = []
        total = 0.0
        for ref in refs:
            report = pm.get(ref).json()
            for entry in report["entries"]:
                assert entry["objectInstanceId"] == instance
                assert entry["subObjectInstanceId"] == "web-0-web_cp"
                assert entry["performanceMetric"] == "PacketIncomingVnfIntCp"
                stamps += [v["timeStamp"] for v in entry["performanceValues"]]
                total += sum(v["value"] for v in entry["performanceValues"])
        assert len(stamps) == len(set(stamps)), "a collection period reported twice"
        ends = sorted(_epoch(t) for t in stamps)
        assert [b - a for a, b in itertools.pairwise(ends)] == [1.0] * (len(ends) - 1), (
            "a collection period is missing (the ones that ended while down included)"
        )
        # on time: written within delay + tick + slack of the period's end, but those that
        # ended while the server was down (written once it is back)
        by_href = {n["_links"]["performanceReport"]["href"]: n for n in notes}
        late = []
        for ref in refs:
            if ref not in by_href:
                continue
            end = max(
                _epoch(v["timeStamp"])
                for v in pm.get(ref).json()["entries"][0]["performanceValues"]
            )
            lag = _epoch(by_href[ref]["timeStamp"]) - end
            if not down - 1 <= end <= up + 1:
                late += [lag] if lag > 3.0 else []
        assert not late, f"reports written late: {late}"
        assert total == 1000.0, f"the counters add up to {total}, not the 1000 packets sent"

        crossings = _of(sub, "ThresholdCrossedNotification")
        assert [n["crossingDirection"] for n in crossings] == ["UP", "DOWN"], crossings
        assert all(n["thresholdId"] == threshold["id"] for n in crossings)
        assert crossings[0]["performanceValue"] >= 60 and crossings[1]["performanceValue"] <= 40
        assert crossings[0]["subObjectInstanceId"] == "web-0"
        assert crossings[0]["_links"]["threshold"]["href"].endswith(threshold["id"])
        pm.close()
    except BaseException:
        print(server.log()[-5000:])
        raise
    finally:
        server.stop()
        sub.close()


def test_job_crud_and_validation(tmp_path: Any) -> None:
    """Without monitoring: CRUD, the authentication never returned, refusals naming the field."""
    sub = Subscriber()
    server = make_server(tmp_path).start()
    try:
        with server.client(headers={}) as c:
            vnfd = onboard_via_api(c, zip_dir(WEBFARM))["vnfdId"]
            r = c.post(
                "/vnflcm/v2/vnf_instances", json={"vnfdId": vnfd}, headers={"Version": "2.0.0"}
            )
            idle = r.json()["id"]
            r = c.post(
                "/vnflcm/v2/vnf_instances", json={"vnfdId": vnfd}, headers={"Version": "2.0.0"}
            )
            instance = r.json()["id"]
        _instantiated(server, instance)
        pm = server.client(headers={"Version": "2.1.0"})
        good: dict[str, Any] = {
            "objectType": "Vnf",
            "objectInstanceIds": [instance],
            "criteria": {
                "performanceMetricGroup": ["VirtualisedComputeResource"],
                "collectionPeriod": 10,
                "reportingPeriod": 60,
            },
            "callbackUri": sub.url,
            "authentication": {
                "authType": ["BASIC"],
                "paramsBasic": {"userName": "u", "password": "Pm-Secr3t-77"},
            },
        }
        refusals = [
            ({"objectInstanceIds": [idle]}, 422, "objectInstanceIds[0]"),
            ({"objectInstanceIds": ["nope"]}, 422, "objectInstanceIds[0]"),
            ({"objectType": "Vnfd"}, 400, "objectType"),
            ({"criteria": {**good["criteria"], "reportingPeriod": 25}}, 400, "reportingPeriod"),
            (
                {"criteria": {**good["criteria"], "collectionPeriod": 10**12}},
                400,
                "collectionPeriod",
            ),
            (
                {"criteria": {**good["criteria"], "performanceMetricGroup": ["VnfExternalCp"]}},
                400,
                "performanceMetricGroup[0]",
            ),
            (
                {
                    "criteria": {
                        "performanceMetric": ["ByteIncomingVnfExtCp"],
                        "collectionPeriod": 1,
                        "reportingPeriod": 1,
                    }
                },
                400,
                "performanceMetric[0]",
            ),
            ({"subObjectInstanceIds": ["web-9"]}, 422, "subObjectInstanceIds[0]"),
            ({"callbackUri": "http://127.0.0.1:1/none"}, 422, "callbackUri"),
            ({"objectInstanceIds": ["\udcff"]}, 4, ""),
        ]
        for change, status, field in refusals:
            body = json.dumps({**good, **change})  # ASCII: a lone surrogate as its escape
            r = pm.post(JOBS, content=body, headers={"Content-Type": "application/json"})
            assert str(r.status_code).startswith(str(status)), (change, r.status_code, r.text)
            assert field in r.json().get("detail", ""), (change, r.text)
        r = pm.post(JOBS, json=good)
        assert r.status_code == 201, r.text
        job = r.json()
        assert "authentication" not in job and "Pm-Secr3t-77" not in r.text
        assert pm.get(f"{JOBS}/{job['id']}").json()["criteria"]["collectionPeriod"] == 10
        listed = pm.get(JOBS, params={"filter": "(eq,objectType,Vnf)"}).json()
        assert [j["id"] for j in listed] == [job["id"]]
        r = pm.patch(
            f"{JOBS}/{job['id']}",
            json={"callbackUri": sub.url + "?v=2"},
            headers={"Content-Type": "application/merge-patch+json"},
        )
        assert r.status_code == 200 and r.json() == {"callbackUri": sub.url + "?v=2"}, r.text
        assert pm.get(f"{JOBS}/{job['id']}/reports/none").status_code == 404
        assert pm.delete(f"{JOBS}/{job['id']}").status_code == 204
        assert pm.get(f"{JOBS}/{job['id']}").status_code == 404

        th: dict[str, Any] = {
            "objectType": "Vnf",
            "objectInstanceId": instance,
            "criteria": {
                "performanceMetric": "VCpuUsageMeanVnf",
                "thresholdType": "SIMPLE",
                "simpleThresholdDetails": {"thresholdValue": 80, "hysteresis": 5},
            },
            "callbackUri": sub.url,
        }
        # raw JSON: a number too large for a double, NaN, a negative hysteresis
        head = json.dumps({**th, "criteria": {**th["criteria"], "simpleThresholdDetails": 0}})
        for details, field in [
            ('{"thresholdValue": 80, "hysteresis": -1}', "hysteresis"),
            ('{"thresholdValue": 1e400, "hysteresis": 1}', "thresholdValue"),
            ('{"thresholdValue": NaN, "hysteresis": 1}', "thresholdValue"),
        ]:
            body = head.replace(
                '"simpleThresholdDetails": 0', f'"simpleThresholdDetails": {details}'
            )
            r = pm.post(THRESHOLDS, content=body, headers={"Content-Type": "application/json"})
            assert r.status_code == 400 and field in r.text, r.text
        r = pm.post(THRESHOLDS, json=th)
        assert r.status_code == 201, r.text
        t_id = r.json()["id"]
        assert pm.get(THRESHOLDS).json()[0]["id"] == t_id
        assert pm.delete(f"{THRESHOLDS}/{t_id}").status_code == 204
        assert pm.get(f"{THRESHOLDS}/{t_id}").status_code == 404
        assert httpx.get(f"{server.url}/vnfpm/v2/api_versions").status_code in (200, 401)
        pm.close()
    finally:
        server.stop()
        sub.close()
