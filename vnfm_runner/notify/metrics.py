"""Prometheus metrics of notification delivery (on the API's registry when there is one)."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from vnfm_runner.notify.outbox import Outbox
from vnfm_runner.store.db import now

LAG_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600, 21600, 86400)


class _Backlog(Collector):
    """The outbox's backlog, counted in the store at scrape time (every worker's)."""

    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox

    def collect(self) -> Iterator[GaugeMetricFamily]:
        count, oldest = self.outbox.backlog()
        yield GaugeMetricFamily(
            "vnfm_notifications_pending", "LCM notifications not delivered yet", value=count
        )
        age = max(0.0, (now() - oldest).total_seconds()) if oldest is not None else 0.0
        yield GaugeMetricFamily(
            "vnfm_notifications_oldest_pending_seconds",
            "Age of the oldest notification not delivered yet",
            value=age,
        )


class NotifyMetrics:
    def __init__(self, outbox: Outbox, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.sent = Counter(
            "vnfm_notifications_sent",
            "LCM notifications delivered (2xx from the subscriber)",
            ["type"],
            registry=self.registry,
        )
        self.failed = Counter(
            "vnfm_notification_attempts_failed",
            "Delivery attempts that failed (to be retried)",
            registry=self.registry,
        )
        self.dropped = Counter(
            "vnfm_notifications_dropped",
            "LCM notifications given up on",
            ["reason"],
            registry=self.registry,
        )
        self.lag = Histogram(
            "vnfm_notification_delivery_lag_seconds",
            "Time from the event to its delivery",
            buckets=LAG_BUCKETS,
            registry=self.registry,
        )
        self.registry.register(_Backlog(outbox))
