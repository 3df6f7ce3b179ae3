"""The probe results as Prometheus metrics (what the generated probe rules watch).

A collector reads the latest results when scraped; register it on the
registry of whatever serves ``/metrics`` (the second wave: ``vnfm serve``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from vnfm_runner.assurance.health import HEALTH_HEALTHY, HEALTH_UNHEALTHY, ProbeResult
from vnfm_runner.assurance.rules import INSTANCE_LABEL, PROBE_METRIC

LABELS = [INSTANCE_LABEL, "vnfc_id", "vdu_id", "probe"]


class ProbeCollector(Collector):
    """``vnfm_vnfc_probe_healthy`` (1 healthy, 0 unhealthy; nothing while unknown or
    not probed: absence fires no rule) and the consecutive failures of each probe."""

    def __init__(self, results: Callable[[], Iterable[ProbeResult]]) -> None:
        self._results = results

    def collect(self) -> Iterator[GaugeMetricFamily]:
        healthy = GaugeMetricFamily(
            PROBE_METRIC, "1 when the VNFC's health probe passes, 0 when it failed", labels=LABELS
        )
        failures = GaugeMetricFamily(
            "vnfm_vnfc_probe_consecutive_failures",
            "Consecutive failures of the VNFC's health probe",
            labels=LABELS,
        )
        for r in self._results():
            t = r.target
            labels = [t.instance_id, t.vnfc_id, t.vdu_id, t.probe.id]
            if r.health in (HEALTH_HEALTHY, HEALTH_UNHEALTHY):
                healthy.add_metric(labels, 1.0 if r.health == HEALTH_HEALTHY else 0.0)
            failures.add_metric(labels, float(r.consecutive_failures))
        yield healthy
        yield failures
