#!/usr/bin/env python3
"""PM bench (issue 14): threshold crossing to notification, and the cost of collection.

Real pieces: an embedded Prometheus (MonitoringStack, scrape every second) scraping a
prometheus-client exporter this bench runs with N VNFCs of one instance; a PmService on
a SQLite store; the notification DeliveryWorker; an HTTP subscriber. Sections are plain
functions taking a ``Bed`` so the METRICS and SCALE benches can add theirs:

- ``crossing_latency``: a VNFC's memory steps over (and back under) a threshold; the
  time from the step to the ThresholdCrossedNotification arriving. Goal: p95 <= the
  threshold period + 5 s.
- ``collection_cost``: one PM collection pass (every compute and CP metric) over N VNFCs:
  wall time per pass and per VNFC, Prometheus queries per pass.
- ``metrics_section`` (bench/metrics_bench.py; root): the exporter's and Prometheus' CPU
  and memory with 10 and 50 real VNFCs, the exporter's scrape time per VNFC.
- ``scaleout_timing`` (root): webfarm (its own ``web_autoscale``) through a real ``vnfm
  serve`` with auto-scale on, paced HTTP load through its load balancer; seconds from the
  policy's value passing its threshold (read back from the server's Prometheus) to the
  automatic SCALE_OUT COMPLETED, a fresh instance per run. Goal: <= 30 s.

    .venv/bin/python bench/pm_bench.py                  # 10 crossings, 50 VNFCs
    .venv/bin/python bench/pm_bench.py --crossings 20 --vnfcs 200 --period 2
    .venv/bin/python bench/pm_bench.py --sections metrics scale --metrics-vnfcs 10 50
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from prometheus_client import CollectorRegistry, start_http_server  # noqa: E402
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily  # noqa: E402
from prometheus_client.registry import Collector as PromCollector  # noqa: E402

from bench.metrics_bench import metrics_section  # noqa: E402
from tests.api.server import make_server  # noqa: E402
from tests.assurance.test_autoscale_e2e import LOAD_RPS, Load, passed_at  # noqa: E402
from tests.assurance.test_metrics_webfarm import prometheus_of  # noqa: E402
from tests.integration.conftest import cleanup_instance, wait_until  # noqa: E402
from tests.notify.subscriber import Subscriber  # noqa: E402
from vnfm_runner.assurance.pm import PmService, PmSettings  # noqa: E402
from vnfm_runner.assurance.pm_metrics import COMPUTE, INT_CP, Collector, topology  # noqa: E402
from vnfm_runner.assurance.promql import PromClient  # noqa: E402
from vnfm_runner.assurance.rules import TargetGroup  # noqa: E402
from vnfm_runner.assurance.stack import MonitoringStack, StackSettings  # noqa: E402
from vnfm_runner.bootstrap import open_store  # noqa: E402
from vnfm_runner.demo import ext_addresses, sample_backends  # noqa: E402
from vnfm_runner.notify.config import NotifySettings  # noqa: E402
from vnfm_runner.notify.subscriptions import SubscriptionRegistry  # noqa: E402
from vnfm_runner.notify.worker import DeliveryWorker  # noqa: E402
from vnfm_runner.secrets import SecretBox  # noqa: E402
from vnfm_runner.store.db import Store, now  # noqa: E402
from vnfm_runner.store.tables import InstanceRow, PackageRow  # noqa: E402

LABELS = ["vnf_instance_id", "vnfc_id", "vdu_id"]


class Series(PromCollector):
    """The contract's series for ``n`` VNFCs of one instance; memory settable per VNFC."""

    def __init__(self, instance: str, n: int) -> None:
        self.instance, self.n = instance, n
        self.memory = {f"web-{i}": 300.0 for i in range(n)}
        self.lock = threading.Lock()
        self.started = time.time()

    def collect(self) -> Iterator[Any]:
        t = time.time() - self.started
        fams = {
            "cpu": CounterMetricFamily("vnfm_vnfc_cpu_seconds", "cpu", labels=LABELS),
            "vcpus": GaugeMetricFamily("vnfm_vnfc_vcpus", "vcpus", labels=LABELS),
            "mem": GaugeMetricFamily("vnfm_vnfc_memory_bytes", "mem", labels=LABELS),
            "size": GaugeMetricFamily("vnfm_vnfc_memory_size_bytes", "size", labels=LABELS),
        }
        cp_labels = [*LABELS, "cpd_id", "cp_type"]
        cps = [
            CounterMetricFamily(f"vnfm_cp_{d}_{u}", d, labels=cp_labels)
            for d in ("received", "sent")
            for u in ("bytes", "packets")
        ]
        with self.lock:
            for vnfc, mem in self.memory.items():
                lab = [self.instance, vnfc, "web"]
                fams["cpu"].add_metric(lab, 0.25 * t)
                fams["vcpus"].add_metric(lab, 1.0)
                fams["mem"].add_metric(lab, mem)
                fams["size"].add_metric(lab, 1000.0)
                for fam in cps:
                    fam.add_metric([*lab, "web_cp", "int"], 1000.0 * t)
        yield from fams.values()
        yield from cps


@dataclass
class Bed:
    store: Store
    pm: PmService
    prom: PromClient
    series: Series
    subscriber: Subscriber
    instance: str
    period: float


def _instance(store: Store, n: int) -> str:
    iid = str(uuid.uuid4())
    info = {
        "vnfcResourceInfo": [
            {
                "id": f"web-{i}",
                "vduId": "web",
                "vnfcCpInfo": [{"id": f"web-{i}-cp", "cpdId": "web_cp"}],
            }
            for i in range(n)
        ]
    }
    with store.session() as s:
        s.add(
            PackageRow(
                id=iid,
                vnfd_id="bench",
                path="/p",
                summary={},
                onboarding_state="ONBOARDED",
                operational_state="ENABLED",
                created_at=now(),
            )
        )
        s.flush()
        s.add(
            InstanceRow(
                id=iid,
                vnfd_id="bench",
                package_id=iid,
                instantiation_state="INSTANTIATED",
                doc={"id": iid, "instantiatedVnfInfo": info},
                created_at=now(),
            )
        )
    return iid


def crossing_latency(bed: Bed, crossings: int) -> dict[str, float]:
    """Step web-0's memory over / under a threshold of 50 % (hysteresis 10): seconds from
    the step to the notification's arrival."""
    bed.pm.create_threshold(
        {
            "objectType": "Vnfc",
            "objectInstanceId": bed.instance,
            "subObjectInstanceIds": ["web-0"],
            "criteria": {
                "performanceMetric": "VMemoryUsageMeanVnf",
                "thresholdType": "SIMPLE",
                "simpleThresholdDetails": {"thresholdValue": 50, "hysteresis": 10},
            },
            "callbackUri": bed.subscriber.url,
        }
    )
    time.sleep(2 * bed.period + 2)  # the first evaluation (below: no crossing) is done
    lat: list[float] = []
    for i in range(crossings):
        with bed.subscriber.lock:
            seen = len(bed.subscriber.received)
        with bed.series.lock:
            bed.series.memory["web-0"] = 800.0 if i % 2 == 0 else 200.0
        start = time.time()
        while time.time() - start < 60:
            with bed.subscriber.lock:
                if len(bed.subscriber.received) > seen:
                    break
            time.sleep(0.02)
        lat.append(time.time() - start)
    lat.sort()
    return {
        "p50_s": statistics.median(lat),
        "p95_s": lat[min(len(lat) - 1, int(0.95 * len(lat)))],
        "max_s": lat[-1],
        "goal_s": bed.period + 5,
    }


def collection_cost(bed: Bed, passes: int = 5) -> dict[str, float]:
    """One collection pass over every VNFC: compute metrics per VNFC and CP counters."""
    with bed.store.reading() as s:
        row = s.get(InstanceRow, bed.instance)
        assert row is not None
        topo = topology(row.doc)
    col = Collector(bed.prom, 1.0)
    times = []
    queries = 0
    for _ in range(passes):
        t1 = float(int(time.time()) - 2)
        before = col.queries
        started = time.perf_counter()
        col.measure(
            instance_id=bed.instance,
            topo=topo,
            object_type="Vnfc",
            metrics=list(COMPUTE),
            subs=None,
            t0=t1 - bed.period,
            t1=t1,
        )
        col.measure(
            instance_id=bed.instance,
            topo=topo,
            object_type="VnfIntCp",
            metrics=list(INT_CP),
            subs=None,
            t0=t1 - bed.period,
            t1=t1,
        )
        times.append(time.perf_counter() - started)
        queries = col.queries - before
        time.sleep(1)
    per_pass = statistics.median(times)
    return {
        "pass_ms": 1000 * per_pass,
        "per_vnfc_ms": 1000 * per_pass / bed.series.n,
        "queries_per_pass": float(queries),
    }


def _epoch(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def _scaled(client: Any, inst: str) -> dict[str, Any] | None:
    """The instance's first SCALE occurrence COMPLETED, if any."""
    occs = client.get(
        "/vnflcm/v2/vnf_lcm_op_occs",
        params={"filter": f"(eq,vnfInstanceId,{inst});(eq,operation,SCALE)"},
    ).json()
    ok = [o for o in occs if o["operationState"] == "COMPLETED"]
    return ok[0] if ok else None


def scaleout_timing(runs: int) -> dict[str, float]:
    """webfarm's own auto-scale policy (10 req/s per web for 10 s, rate over 15 s), one
    fresh instance per run: seconds from the policy's value passing 10/s to the automatic
    SCALE_OUT COMPLETED, and from the load's start."""
    home = Path(tempfile.mkdtemp(prefix="pm-bench-scale-"))
    srv = make_server(
        home, watch="true", monitoring="true", monitoring_scrape_interval="1",
        autoscale_tick="1", pm="false", api_verify_callback="false",
    )  # fmt: skip
    srv.start()
    passed: list[float] = []
    from_load: list[float] = []
    try:
        webfarm = str(REPO / "examples" / "packages" / "webfarm")
        vnfd = srv.cli("package", "onboard", webfarm).strip().splitlines()[-1]
        params = home / "on.json"
        params.write_text(json.dumps({"vnfConfigurableProperties": {"isAutoscaleEnabled": True}}))
        prom = PromClient(prometheus_of(home))
        for _ in range(runs):
            inst = srv.cli("create", "--vnfd-id", vnfd).strip().splitlines()[-1]
            try:
                srv.cli("instantiate", inst, "--flavour", "default", "--level", "small", "-q",
                        "--params", str(params))  # fmt: skip
                doc = json.loads(srv.cli("show", inst, "--format", "json"))
                address = ext_addresses(doc)[0]
                sample_backends(address, 4)
                load = Load(address, LOAD_RPS)
                t0 = time.time()
                load.thread.start()
                with srv.client() as c:
                    found = wait_until(lambda c=c, i=inst: _scaled(c, i), 90, 0.2)
                    occ = _scaled(c, inst)
                load.stop.set()
                load.thread.join(5)
                if not found or occ is None:
                    print("  run: no scale-out within 90 s")
                    continue
                t_done = _epoch(occ["stateEnteredTime"])
                t_pass = passed_at(prom, inst, 2, t0, _epoch(occ["startTime"]), "15s")
                passed.append(t_done - t_pass)
                from_load.append(t_done - t0)
                print(f"  run: passed {t_pass - t0:.1f} s after load start, COMPLETED "
                      f"{t_done - t_pass:.1f} s after passing")  # fmt: skip
            finally:
                srv.cli("terminate", inst, "--forceful", "-q")
                srv.cli("delete", inst)
                cleanup_instance(inst)
    finally:
        srv.stop()
    if not passed:
        return {"runs": 0.0}
    return {
        "runs": float(len(passed)),
        "pass_to_completed_p50_s": statistics.median(passed),
        "pass_to_completed_max_s": max(passed),
        "load_to_completed_p50_s": statistics.median(from_load),
        "goal_s": 30.0,
    }


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--crossings", type=int, default=10)
    ap.add_argument("--vnfcs", type=int, default=50)
    ap.add_argument("--period", type=float, default=2.0, help="threshold period (s)")
    ap.add_argument("--sections", nargs="+", default=["pm", "metrics", "scale"],
                    choices=["pm", "metrics", "scale"])  # fmt: skip
    ap.add_argument("--metrics-vnfcs", type=int, nargs="+", default=[10, 50])
    ap.add_argument("--metrics-seconds", type=float, default=30.0)
    ap.add_argument("--metrics-scrape", type=float, default=5.0)
    ap.add_argument("--scaleouts", type=int, default=3, help="scale-out timing runs")
    args = ap.parse_args()
    if "pm" in args.sections:
        pm_sections(args)
    root = os.geteuid() == 0
    if "metrics" in args.sections:
        for n in args.metrics_vnfcs if root else []:
            r = metrics_section(n, args.metrics_seconds, args.metrics_scrape)
            print(f"exporter/Prometheus with {n} VNFCs:", {k: round(v, 2) for k, v in r.items()})
        if not root:
            print("metrics section skipped: needs root")
    if "scale" in args.sections:
        if root:
            print(
                "load passing the policy -> scale-out COMPLETED:", scaleout_timing(args.scaleouts)
            )
        else:
            print("scale-out section skipped: needs root")


def pm_sections(args: argparse.Namespace) -> None:
    """The PM sections on their own bed (Prometheus, PmService, delivery, subscriber)."""
    with tempfile.TemporaryDirectory(prefix="pm-bench-") as tmp:
        home = Path(tmp)
        store = open_store(f"sqlite:///{home / 'vnfm.db'}")
        instance = _instance(store, args.vnfcs)
        series = Series(instance, args.vnfcs)
        registry = CollectorRegistry()
        registry.register(series)
        server, _thread = start_http_server(0, addr="127.0.0.1", registry=registry)
        port = server.server_address[1]
        stack = MonitoringStack(
            StackSettings(
                home=home / "monitoring",
                webhook_url="http://127.0.0.1:9/none",
                scrape_interval_s=1,
                evaluation_interval_s=1,
                file_sd_refresh_s=1,
            )
        )
        stack.start(supervise=False)
        stack.write_targets("bench", [TargetGroup([f"127.0.0.1:{port}"])])
        box = SecretBox(home)
        worker = DeliveryWorker(
            store, SubscriptionRegistry(store, box), NotifySettings(poll_interval=0.2)
        ).start()
        pm = PmService(
            store,
            box,
            PmSettings(tick_s=0.2, delay_s=1.5, threshold_period_s=args.period, scrape_s=1.0),
        )
        pm.start(lambda: stack.prometheus_url)
        sub = Subscriber()
        bed = Bed(store, pm, PromClient(stack.prometheus_url), series, sub, instance, args.period)
        try:
            time.sleep(4)  # the first scrapes
            print("collection cost:", collection_cost(bed))
            print("crossing -> notification:", crossing_latency(bed, args.crossings))
        finally:
            pm.stop()
            worker.stop()
            stack.stop()
            sub.close()
            server.shutdown()


if __name__ == "__main__":
    main()
