"""Auto-scale against a real Prometheus (the monitoring stack's) scraping a real
exporter whose request counters a load thread drives at a known rate.

The AutoScaler runs its real query path (PromClient, the policy's PromQL, the sum per
instance divided by its VNFCs) with in-memory instance records and a scaler that
"completes" each operation at once (level and VNFCs change, the end is recorded):
scale-out only after the load held above the threshold for the duration, a second
one after the cooldown, none beyond the max level, scale-in once the load stopped,
no two operations within the cooldown. The webfarm end to end (real serve, real
SCALE) is test_autoscale_e2e.py.
"""

from __future__ import annotations

import itertools
import os
import threading
import time
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, Counter, start_http_server

from tests.assurance.helpers import need
from vnfm_runner.assurance.autoscale import (
    MAX_LEVEL,
    SCALE_IN,
    SCALE_OUT,
    AutoScaler,
    AutoscaleSettings,
    Rule,
    Scalable,
    Trigger,
)
from vnfm_runner.assurance.promql import PromClient
from vnfm_runner.assurance.rules import TargetGroup
from vnfm_runner.assurance.stack import PROMETHEUS_BIN, MonitoringStack, StackSettings, free_port

pytestmark = pytest.mark.timeout(120)
INST = "5d1c2a9e-0000-4000-8000-00000000a5ca"
RULE = Rule(
    id="web_autoscale",
    aspect_id="web",
    scale_out_threshold=10,
    scale_in_threshold=3,
    scale_out_duration_s=3,
    scale_in_duration_s=3,
    cooldown_s=6,
)


class Farm:
    """In-memory records of one instance whose SCALEs complete at once."""

    def __init__(self, counter: Counter) -> None:
        self.counter = counter
        self.level = 1  # 2 webs
        self.last_end: float | None = None
        self.ops: list[tuple[float, str, int]] = []
        self.rate = 0.0  # requests per second over all webs
        self.lock = threading.Lock()

    def webs(self) -> list[str]:
        return [f"web-{i}" for i in range(self.level + 1)]

    def scalables(self) -> list[Scalable]:
        trig = Trigger(
            rule=RULE,
            vdu_ids=("web",),
            metric='rate(app_requests_total{vdu_id="web"}[2s])',
            removed_by_in={1: 1, 2: 1, 3: 1},
        )
        with self.lock:
            return [
                Scalable(
                    INST,
                    [trig],
                    {"web": self.level},
                    {"web": 3},
                    {"web": len(self.webs())},
                    last_automatic_end=self.last_end,
                )
            ]

    def scale(self, instance_id: str, aspect_id: str, kind: str, steps: int) -> str:
        with self.lock:
            now = time.time()
            self.ops.append((now, kind, steps))
            self.level += steps if kind == SCALE_OUT else -steps
            assert 0 <= self.level <= 3
            self.last_end = now + 0.5  # the operation took half a second
        return f"op-{len(self.ops)}"

    def load(self, stop: threading.Event) -> None:
        """Spread ``rate`` requests a second round-robin over the current webs."""
        n = 0
        while not stop.wait(0.05):
            with self.lock:
                webs, per_tick = self.webs(), self.rate * 0.05
            for _ in range(int(per_tick)):
                self.counter.labels(INST, webs[n % len(webs)], "web").inc()
                n += 1


def test_autoscale_decisions_on_real_prometheus(tmp_path: Any) -> None:
    need(os.access(PROMETHEUS_BIN, os.X_OK), f"needs {PROMETHEUS_BIN}")
    registry = CollectorRegistry()
    counter = Counter(
        "app_requests", "requests served", ["vnf_instance_id", "vnfc_id", "vdu_id"],
        registry=registry,
    )  # fmt: skip
    farm = Farm(counter)
    for web in farm.webs():
        counter.labels(INST, web, "web")
    port = free_port()
    httpd, _ = start_http_server(port, addr="127.0.0.1", registry=registry)
    stack = MonitoringStack(
        StackSettings(
            home=tmp_path / "monitoring",
            webhook_url="http://127.0.0.1:9/none",
            webhook_token="t",
            scrape_interval_s=0.5,
            evaluation_interval_s=0.5,
            file_sd_refresh_s=0.5,
        )
    )
    stop = threading.Event()
    stack.start()
    auto = AutoScaler(
        scalables=farm,
        scaler=farm,
        prometheus=PromClient(stack.prometheus_url),
        settings=AutoscaleSettings(tick_s=0.5, max_gap_s=5),
        registry=CollectorRegistry(),
    )
    loader = threading.Thread(target=farm.load, args=(stop,), daemon=True)
    try:
        stack.write_targets(INST, [TargetGroup([f"127.0.0.1:{port}"])])
        loader.start()
        auto.start()
        time.sleep(2)  # baseline: nothing happens without load
        assert farm.ops == []
        farm.rate = 60.0  # 30 per web: above 10
        loaded = time.time()
        deadline = loaded + 40
        while time.time() < deadline and len(farm.ops) < 2:
            time.sleep(0.2)
        assert [k for _, k, _ in farm.ops] == [SCALE_OUT, SCALE_OUT], farm.ops
        first = farm.ops[0][0] - loaded
        print(f"first scale-out {first:.1f} s after the load started")
        assert RULE.scale_out_duration_s <= first <= RULE.scale_out_duration_s + 6
        # then at the max level: due but suppressed, never above
        assert wait(lambda: auto.metrics.suppressed.labels(MAX_LEVEL)._value.get() > 0, 20)
        assert farm.level == 3
        farm.rate = 0.0
        stopped = time.time()
        assert wait(lambda: len(farm.ops) >= 3, 30), farm.ops
        assert farm.ops[2][1] == SCALE_IN
        print(f"scale-in {farm.ops[2][0] - stopped:.1f} s after the load stopped")
    finally:
        stop.set()
        auto.stop()
        stack.stop()
        httpd.shutdown()
    starts = [t for t, _, _ in farm.ops]
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert all(g >= RULE.cooldown_s for g in gaps), gaps  # no two within the cooldown


def wait(cond: Any, timeout: float) -> bool:
    end = time.time() + timeout
    while time.time() < end:
        if cond():
            return True
        time.sleep(0.2)
    return False
