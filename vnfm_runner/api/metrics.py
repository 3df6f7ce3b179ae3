"""``/metrics`` in the Prometheus text format (one registry per app)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from fastapi.responses import Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from starlette.types import Scope

from vnfm_runner.domain import OperationState
from vnfm_runner.store.db import FINAL_STATES, Store
from vnfm_runner.store.tables import InstanceRow, OperationRow

DURATION_BUCKETS = (1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600)
# The ``method`` label's values: any other method a client makes up counts as OTHER
# (one series per made-up method would let anyone grow /metrics without end).
KNOWN_METHODS = frozenset(
    {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"}
)


class _StoreCollector(Collector):
    """Operations by type and state, instances by state: counted in the store at scrape."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def collect(self) -> Iterator[GaugeMetricFamily]:
        ops = GaugeMetricFamily(
            "vnfm_lcm_operations",
            "LCM operation occurrences by type and state",
            labels=["operation", "state"],
        )
        inst = GaugeMetricFamily(
            "vnfm_vnf_instances", "VNF instances by instantiation state", labels=["state"]
        )
        with self.store.session() as s:
            for operation, state, count in s.execute(
                select(OperationRow.operation, OperationRow.state, func.count()).group_by(
                    OperationRow.operation, OperationRow.state
                )
            ):
                ops.add_metric([operation, state], count)
            for state, count in s.execute(
                select(InstanceRow.instantiation_state, func.count()).group_by(
                    InstanceRow.instantiation_state
                )
            ):
                inst.add_metric([state], count)
        yield ops
        yield inst


class Metrics:
    def __init__(self, store: Store) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "vnfm_api_requests",
            "API requests",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "vnfm_api_request_duration_seconds",
            "API request latency",
            ["method", "route"],
            registry=self.registry,
        )
        self.op_duration = Histogram(
            "vnfm_lcm_operation_duration_seconds",
            "Time from start to a final or FAILED_TEMP state, of the operations this server saw",
            ["operation", "state"],
            buckets=DURATION_BUCKETS,
            registry=self.registry,
        )
        self.registry.register(_StoreCollector(store))

    def on_change(self, kind: str, doc: dict[str, Any]) -> None:
        """A ``Vnfm.listeners`` entry: observe how long operations took."""
        state = doc.get("operationState")
        if kind != "operation" or state not in (*FINAL_STATES, OperationState.FAILED_TEMP):
            return
        try:
            start = _parse(str(doc["startTime"]))
            end = _parse(str(doc["stateEnteredTime"]))
        except (KeyError, ValueError):
            return
        self.op_duration.labels(str(doc.get("operation")), str(state)).observe(
            max(0.0, (end - start).total_seconds())
        )

    def render(self) -> Response:
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)

    def observe_request(self, method: str, scope: Scope, status: int, seconds: float) -> None:
        route = _route_of(scope)
        method = method if method in KNOWN_METHODS else "OTHER"
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)


def _parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def _route_of(scope: Scope) -> str:
    """The route template (``/vnflcm/v2/vnf_instances/{instance_id}``): bounded label values."""
    route = scope.get("route")
    path = getattr(route, "path_format", None) or getattr(route, "path", None)
    return str(path) if path else "unmatched"
