"""IFA 027 performance metrics, computed from the exporter's Prometheus series.

Every value is for one collection period ``(t0, t1]`` and one measured object: a VNF
instance (``sub`` None: all its VNFCs together), a VNFC, or a connection point.

- Counters are exact: the raw counter value Prometheus holds at each boundary (an
  instant query at ``t0`` and at ``t1``: the last scrape at or before it) is
  differenced here. Successive periods share their boundary, so the periods add up to
  the counter's whole increase, with no extrapolation (``increase()`` extrapolates). A
  counter lower at ``t1`` than at ``t0`` was reset (the VNFC was healed): its value at
  ``t1`` is what it counted since; counts before a reset in the same period are lost.
  A series with no sample at ``t0`` is new, counted from zero.
- ``VCpuUsageMeanVnf``: CPU seconds used in the period over (period x vCPUs), in %.
  ``VCpuUsagePeakVnf``: the largest per-scrape rate (``irate`` evaluated at every
  scrape of the period) over the vCPUs, in %.
- ``VMemoryUsageMeanVnf`` / ``VMemoryUsagePeakVnf``: mean / largest memory in use over
  the period (``avg_over_time`` / ``max_over_time``) over the virtual memory size, in %.
- ``Byte|Packet Incoming|Outgoing VnfIntCp|VnfExtCp``: received / sent counters of the
  CP (IFA 027 "incoming" is into the VNFC), exact as above.
"""

from __future__ import annotations

import json
import math
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from vnfm_runner.assurance.promql import PromClient, Sample
from vnfm_runner.assurance.rules import INSTANCE_LABEL

CPU = "vnfm_vnfc_cpu_seconds_total"
VCPUS = "vnfm_vnfc_vcpus"
MEMORY = "vnfm_vnfc_memory_bytes"
MEMORY_SIZE = "vnfm_vnfc_memory_size_bytes"
CP_SERIES = {
    "ByteIncoming": "vnfm_cp_received_bytes_total",
    "ByteOutgoing": "vnfm_cp_sent_bytes_total",
    "PacketIncoming": "vnfm_cp_received_packets_total",
    "PacketOutgoing": "vnfm_cp_sent_packets_total",
}

COMPUTE = ("VCpuUsageMeanVnf", "VCpuUsagePeakVnf", "VMemoryUsageMeanVnf", "VMemoryUsagePeakVnf")
INT_CP = tuple(f"{kind}VnfIntCp" for kind in CP_SERIES)
EXT_CP = tuple(f"{kind}VnfExtCp" for kind in CP_SERIES)
GROUPS = {"VirtualisedComputeResource": COMPUTE, "VnfInternalCp": INT_CP, "VnfExternalCp": EXT_CP}
OBJECT_TYPES = ("Vnf", "Vnfc", "VnfIntCp", "VnfExtCp")
# which metrics (and which group) measure each object type
OBJECT_METRICS = {"Vnf": COMPUTE, "Vnfc": COMPUTE, "VnfIntCp": INT_CP, "VnfExtCp": EXT_CP}
OBJECT_GROUP = {
    "Vnf": "VirtualisedComputeResource",
    "Vnfc": "VirtualisedComputeResource",
    "VnfIntCp": "VnfInternalCp",
    "VnfExtCp": "VnfExternalCp",
}
RAW_CACHE = 4096  # boundary answers kept: a boundary ends one period and starts the next


def base_name(metric: str) -> str:
    """``VCpuUsageMeanVnf.<vnfInstanceId>`` (the per-object spelling Tacker uses) or
    ``VCpuUsageMeanVnf``: the IFA 027 name."""
    return metric.split(".", 1)[0]


def metrics_of(object_type: str, metrics: Iterable[str], groups: Iterable[str]) -> list[str]:
    """The IFA 027 names a job measures, in a stable order, no repeats."""
    wanted = {base_name(m) for m in metrics}
    for group in groups:
        wanted.update(GROUPS.get(group, ()))
    return [m for m in OBJECT_METRICS[object_type] if m in wanted]


@dataclass(frozen=True)
class Topology:
    """What of a VNF instance can be measured: its VNFCs and CPs, from its record."""

    vnfcs: tuple[str, ...] = ()
    # (vnfc id, cpd id) -> the CP instance id: vnfcCpInfo.id (every VNFC CP), the
    # VnfExtCp's id (those exposed as external CPs)
    int_cps: dict[tuple[str, str], str] = field(default_factory=dict)
    ext_cps: dict[tuple[str, str], str] = field(default_factory=dict)

    def sub_objects(self, object_type: str) -> set[str]:
        if object_type in ("Vnf", "Vnfc"):
            return set(self.vnfcs)
        return set((self.int_cps if object_type == "VnfIntCp" else self.ext_cps).values())


def topology(doc: dict[str, Any]) -> Topology:
    info = doc.get("instantiatedVnfInfo") or {}
    vnfcs: list[str] = []
    int_cps: dict[tuple[str, str], str] = {}
    ext_cps: dict[tuple[str, str], str] = {}
    for vnfc in info.get("vnfcResourceInfo") or []:
        if not isinstance(vnfc, dict) or not vnfc.get("id"):
            continue
        vnfc_id = str(vnfc["id"])
        vnfcs.append(vnfc_id)
        for cp in vnfc.get("vnfcCpInfo") or []:
            if not isinstance(cp, dict) or not cp.get("id"):
                continue
            key = (vnfc_id, str(cp.get("cpdId")))
            # the exporter tells a CP on an internal VL ("int") from an external one;
            # a VNFC CP that is both is measured under either name
            int_cps[key] = str(cp["id"])
            if cp.get("vnfExtCpId"):
                ext_cps[key] = str(cp["vnfExtCpId"])
    return Topology(tuple(vnfcs), int_cps, ext_cps)


@dataclass(frozen=True)
class Value:
    """One measured value of one collection period."""

    metric: str
    sub: str | None  # the sub-object (VNFC or CP instance id); None: the VNF as a whole
    value: float


def _sel(instance_id: str, extra: str = "") -> str:
    # JSON string quoting is PromQL's: an id can never change the expression
    return f"{{{INSTANCE_LABEL}={json.dumps(instance_id, ensure_ascii=False)}{extra}}}"


def _dur(seconds: float) -> str:
    return f"{max(1, round(seconds * 1000))}ms"


def _by_vnfc(samples: list[Sample]) -> dict[str, float]:
    out: dict[str, float] = {}
    for s in samples:
        vnfc = s.labels.get("vnfc_id")
        if vnfc and s.finite:
            out[vnfc] = out.get(vnfc, 0.0) + s.value
    return out


def counter_delta(before: float | None, after: float) -> float:
    """The increase of a counter between two boundaries (a reset: counted from zero)."""
    if before is None or after < before:
        return after
    return after - before


def _pct(part: float, whole: float) -> float | None:
    if whole <= 0 or not math.isfinite(part) or not math.isfinite(whole):
        return None
    return 100.0 * part / whole


class Collector:
    """Computes the values of collection periods from Prometheus instant queries."""

    def __init__(self, prom: PromClient, scrape_s: float) -> None:
        self.prom = prom
        self.scrape_s = scrape_s
        self._raw: OrderedDict[tuple[str, float], dict[tuple[str, str, str], float]] = OrderedDict()
        self.queries = 0  # for the bench: instant queries asked

    def _query(self, expr: str, at: float) -> list[Sample]:
        self.queries += 1
        return self.prom.query(expr, at)

    def raw(self, expr: str, at: float) -> dict[tuple[str, str, str], float]:
        """Raw counter values at a boundary, by (vnfc_id, cpd_id, cp_type)."""
        key = (expr, at)
        if key in self._raw:
            self._raw.move_to_end(key)
            return self._raw[key]
        out: dict[tuple[str, str, str], float] = {}
        for s in self._query(expr, at):
            if s.finite:
                lab = s.labels
                out[(lab.get("vnfc_id", ""), lab.get("cpd_id", ""), lab.get("cp_type", ""))] = (
                    s.value
                )
        self._raw[key] = out
        while len(self._raw) > RAW_CACHE:
            self._raw.popitem(last=False)
        return out

    def deltas(self, expr: str, t0: float, t1: float) -> dict[tuple[str, str, str], float]:
        before, after = self.raw(expr, t0), self.raw(expr, t1)
        return {k: counter_delta(before.get(k), v) for k, v in after.items()}

    def measure(
        self,
        *,
        instance_id: str,
        topo: Topology,
        object_type: str,
        metrics: list[str],
        subs: list[str] | None,
        t0: float,
        t1: float,
    ) -> list[Value]:
        """The values of ``metrics`` for one object instance over ``(t0, t1]``. ``subs``:
        the sub-objects asked for (None: the VNF as a whole for objectType Vnf, every
        VNFC or CP otherwise)."""
        out: list[Value] = []
        if object_type in ("Vnf", "Vnfc"):
            if object_type == "Vnfc" and subs is None:
                subs = list(topo.vnfcs)
            for metric in metrics:
                out.extend(self._compute(instance_id, metric, subs, t0, t1))
            return out
        cps = topo.int_cps if object_type == "VnfIntCp" else topo.ext_cps
        cp_type = "int" if object_type == "VnfIntCp" else "ext"
        wanted = None if subs is None else set(subs)
        for metric in metrics:
            series = CP_SERIES[metric[: -len("VnfIntCp")]]
            expr = f"{series}{_sel(instance_id, f',cp_type={json.dumps(cp_type)}')}"
            totals: dict[str, float] = {}
            for (vnfc, cpd, _kind), delta in self.deltas(expr, t0, t1).items():
                cp_id = cps.get((vnfc, cpd))
                if cp_id is not None and (wanted is None or cp_id in wanted):
                    totals[cp_id] = totals.get(cp_id, 0.0) + delta
            out.extend(Value(metric, cp, v) for cp, v in sorted(totals.items()))
        return out

    def _compute(
        self, instance_id: str, metric: str, subs: list[str] | None, t0: float, t1: float
    ) -> list[Value]:
        period = t1 - t0
        sel = _sel(instance_id)
        if metric.startswith("VCpu"):
            whole = _by_vnfc(self._query(f"{VCPUS}{sel}", t1))
            if metric == "VCpuUsageMeanVnf":
                used: dict[str, float] = {}
                for (vnfc, _c, _t), d in self.deltas(f"{CPU}{sel}", t0, t1).items():
                    used[vnfc] = used.get(vnfc, 0.0) + d / period
            else:
                used = self._peak(f"irate({CPU}{sel}[{_dur(3 * self.scrape_s)}])", subs, t1, period)
        else:
            whole = _by_vnfc(self._query(f"{MEMORY_SIZE}{sel}", t1))
            fn = "avg_over_time" if metric == "VMemoryUsageMeanVnf" else "max_over_time"
            if subs is None and fn == "max_over_time":
                used = self._peak(f"{MEMORY}{sel}", None, t1, period)
            else:
                used = _by_vnfc(self._query(f"{fn}({MEMORY}{sel}[{_dur(period)}])", t1))
        if subs is None:  # the VNF as a whole
            if "" in used:  # a peak of the sum
                pct = _pct(used[""], sum(whole.values()))
            else:
                have = [v for v in used if v in whole]
                pct = (
                    _pct(sum(used[v] for v in have), sum(whole[v] for v in have)) if have else None
                )
            return [] if pct is None else [Value(metric, None, pct)]
        out = []
        for vnfc in subs:
            if vnfc in used and vnfc in whole:
                pct = _pct(used[vnfc], whole[vnfc])
                if pct is not None:
                    out.append(Value(metric, vnfc, pct))
        return out

    def _peak(
        self, inner: str, subs: list[str] | None, t1: float, period: float
    ) -> dict[str, float]:
        """The largest value of ``inner`` at any scrape step of the period, per VNFC, or of
        its sum over the VNFCs (key "") when the VNF as a whole is measured."""
        step = _dur(self.scrape_s)
        if subs is None:
            expr = f"max_over_time((sum({inner}))[{_dur(period)}:{step}])"
            samples = self._query(expr, t1)
            return {"": samples[0].value} if samples and samples[0].finite else {}
        expr = f"max_over_time({inner}[{_dur(period)}:{step}])"
        return _by_vnfc(self._query(expr, t1))
