"""VNFC metrics of OpenStack VIMs: Nova server diagnostics as the contract's series.

The local VIM's VNFCs are measured by the exporter (``exporter.py``, kernel counters).
An OpenStack VNFC is a Nova server the VNFM cannot look into, so this collector asks
Nova what the hypervisor reports (``GET /servers/{id}/diagnostics``, microversion
2.48, the standardised format) and exports, with the same names and labels:

* ``vnfm_vnfc_cpu_seconds_total``: ``cpu_details[].time`` (ns) summed, in seconds;
* ``vnfm_vnfc_vcpus``: ``num_cpus``;
* ``vnfm_vnfc_memory_bytes`` / ``vnfm_vnfc_memory_size_bytes``: ``memory_details``
  ``used`` / ``maximum`` (MiB) in bytes;
* ``vnfm_cp_{received,sent}_{bytes,packets}_total``: ``nic_details[]``
  ``rx/tx_octets/packets``, matched to the VNFC's CPs by MAC address (a NIC whose MAC
  is none of the VNFC's CPs is not exported: a counter never goes to the wrong CP).

It is registered on the VNFM's own ``/metrics`` registry (Prometheus' ``vnfm``
target), so PM, thresholds, indicators and auto-scale read OpenStack VNFCs as they
read local ones. Nova is asked at most once per ``max_age_s`` (the scrape interval),
all servers concurrently, within ``timeout_s``; a server that did not answer in time
is left out of that scrape. The diagnostics API is admin-only by Nova's default
policy: a 403 is logged once per VIM and the VIM is not asked again for
``forbidden_retry_s``. Nova's answers are untrusted: size, types, ranges and NaN
are checked field by field; a bad field drops that value only.
"""

from __future__ import annotations

import json
import logging
import math
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import select

from vnfm_runner.assurance.rules import INSTANCE_LABEL
from vnfm_runner.domain import InstantiationState
from vnfm_runner.store.db import Store
from vnfm_runner.store.tables import InstanceRow
from vnfm_runner.vims import VimRegistry

log = logging.getLogger("vnfm.openstack_metrics")

VNFC_LABELS = (INSTANCE_LABEL, "vnfc_id", "vdu_id")
CP_LABELS = (*VNFC_LABELS, "cpd_id", "cp_type")
MICROVERSION = "2.48"  # the standardised diagnostics format (cpu_details, nic_details...)
MIB = 1024 * 1024
MAX_ANSWER_BYTES = 256 * 1024
MAX_CPUS = 4096
MAX_NICS = 256
MAX_COUNTER = float(2**64)  # a 64-bit hypervisor counter; beyond: not a counter
MAX_MEMORY_MIB = float(2**40)
_MAC_RE = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")
NIC_FIELDS = {  # nic_details key -> vnfm_cp_* series ("rx" is into the VNFC: Incoming)
    "rx_octets": "received_bytes",
    "tx_octets": "sent_bytes",
    "rx_packets": "received_packets",
    "tx_packets": "sent_packets",
}


class Forbidden(Exception):
    """The VIM's policy refuses diagnostics to these credentials (HTTP 403)."""


# -- what is measured ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Cp:
    cpd_id: str
    cp_type: str  # "int" | "ext"
    mac: str


@dataclass(frozen=True)
class Vnfc:
    vnfc_id: str
    vdu_id: str
    server_id: str
    cps: tuple[Cp, ...] = ()


@dataclass(frozen=True)
class OsInstance:
    """An INSTANTIATED instance on an OpenStack VIM and its servers."""

    instance_id: str
    vim_name: str
    connection: Mapping[str, Any] = field(repr=False)
    credentials: Mapping[str, Any] = field(repr=False)
    vnfcs: tuple[Vnfc, ...] = ()


def _mac(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    mac = value.strip().lower()
    return mac if _MAC_RE.match(mac) else None


def vnfcs_of(doc: Mapping[str, Any]) -> tuple[Vnfc, ...]:
    """The servers and CPs (with their MACs) of an instance record's ``vnfcResourceInfo``."""
    info = doc.get("instantiatedVnfInfo") or {}
    out = []
    for vnfc in info.get("vnfcResourceInfo") or [] if isinstance(info, dict) else []:
        if not isinstance(vnfc, dict) or not vnfc.get("id"):
            continue
        server = (vnfc.get("computeResource") or {}).get("resourceId")
        if not isinstance(server, str) or not server:
            continue  # not created (yet): nothing to ask
        cps = []
        for cp in vnfc.get("vnfcCpInfo") or []:
            if not isinstance(cp, dict) or not cp.get("cpdId"):
                continue
            for proto in cp.get("cpProtocolInfo") or []:
                mac = _mac(((proto or {}).get("ipOverEthernet") or {}).get("macAddress"))
                if mac:
                    kind = "ext" if cp.get("vnfExtCpId") else "int"
                    cps.append(Cp(str(cp["cpdId"]), kind, mac))
                    break
        out.append(Vnfc(str(vnfc["id"]), str(vnfc.get("vduId") or ""), server, tuple(cps)))
    return tuple(out)


# -- Nova's answer, untrusted ----------------------------------------------------------------
@dataclass(frozen=True)
class Diagnostics:
    cpu_seconds: float | None = None
    vcpus: float | None = None
    memory_bytes: float | None = None
    memory_size_bytes: float | None = None
    nics: Mapping[str, Mapping[str, float]] = field(default_factory=dict)  # MAC -> series -> value


def _number(value: object, high: float) -> float | None:
    """A finite number in [0, high] (JSON's bool is not a number here)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) and 0 <= number <= high else None


def parse_diagnostics(doc: object) -> Diagnostics:
    """Nova's diagnostics document (2.48 format) as values; what is malformed is left out."""
    if not isinstance(doc, dict):
        return Diagnostics()
    cpu_seconds: float | None = None
    cpus = doc.get("cpu_details")
    if isinstance(cpus, list) and 0 < len(cpus) <= MAX_CPUS:
        times = [_number(c.get("time") if isinstance(c, dict) else None, MAX_COUNTER) for c in cpus]
        # one vCPU without a time and the sum would fall back: a counter must not go down
        if all(t is not None for t in times):
            cpu_seconds = sum(t for t in times if t is not None) / 1e9
    vcpus = _number(doc.get("num_cpus"), MAX_CPUS)
    used = maximum = None
    memory = doc.get("memory_details")
    if isinstance(memory, dict):
        used = _number(memory.get("used"), MAX_MEMORY_MIB)
        maximum = _number(memory.get("maximum"), MAX_MEMORY_MIB)
    nics: dict[str, dict[str, float]] = {}
    details = doc.get("nic_details")
    for nic in details[:MAX_NICS] if isinstance(details, list) else []:
        mac = _mac(nic.get("mac_address")) if isinstance(nic, dict) else None
        if mac is None or mac in nics:
            if mac is not None:
                nics[mac] = {}  # two NICs with one MAC: which is which is unknown
            continue
        values = {series: _number(nic.get(key), MAX_COUNTER) for key, series in NIC_FIELDS.items()}
        nics[mac] = {k: v for k, v in values.items() if v is not None}
    return Diagnostics(
        cpu_seconds=cpu_seconds,
        vcpus=vcpus,
        memory_bytes=used * MIB if used is not None else None,
        memory_size_bytes=maximum * MIB if maximum is not None else None,
        nics=nics,
    )


# -- reading Nova --------------------------------------------------------------------------------
Reader = Callable[[OsInstance, str], object]  # (instance, server id) -> the JSON document


class NovaReader:
    """``GET /servers/{id}/diagnostics`` with the instance's VIM credentials; one
    openstacksdk connection per VIM (and credentials), kept."""

    def __init__(self, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        self._conns: dict[str, tuple[str, Any]] = {}
        self._lock = threading.Lock()

    def _connection(self, inst: OsInstance) -> Any:
        from vnfm_runner import paths

        paths.ensure_core_importable()
        from ansible_collections.nfv.vnfm.plugins.module_utils.vim import get_driver

        key = json.dumps([inst.connection, inst.credentials], sort_keys=True, default=str)
        with self._lock:
            held = self._conns.get(inst.vim_name)
            if held is not None and held[0] == key:
                return held[1]
        driver = get_driver(dict(inst.connection), dict(inst.credentials), timeout=self.timeout_s)
        conn = driver.connection()  # type: ignore[attr-defined]
        with self._lock:
            self._conns[inst.vim_name] = (key, conn)
        return conn

    def __call__(self, inst: OsInstance, server_id: str) -> object:
        conn = self._connection(inst)
        res = conn.compute.get(
            f"/servers/{server_id}/diagnostics", microversion=MICROVERSION, raise_exc=False
        )
        if res.status_code == 403:
            raise Forbidden(f"HTTP 403: {res.text[:200]}")
        if res.status_code != 200:
            raise RuntimeError(f"HTTP {res.status_code}")
        body = res.content
        if len(body) > MAX_ANSWER_BYTES:
            raise RuntimeError(f"answer of {len(body)} bytes")
        return json.loads(body)


# -- the collector -------------------------------------------------------------------------------
class OpenStackMetrics(Collector):
    """The contract's VNFC and CP series of the OpenStack VIMs' VNFCs (see the module)."""

    def __init__(
        self,
        instances: Callable[[], list[OsInstance]],
        *,
        read: Reader | None = None,
        max_age_s: float = 5.0,
        timeout_s: float = 3.0,
        forbidden_retry_s: float = 600.0,
        workers: int = 8,
    ) -> None:
        self.instances = instances
        self.read: Reader = read if read is not None else NovaReader(timeout_s)
        self.max_age_s = max_age_s
        self.timeout_s = timeout_s
        self.forbidden_retry_s = forbidden_retry_s
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="vnfm-osdiag")
        self._lock = threading.Lock()
        self._at: float | None = None
        self._values: list[tuple[OsInstance, Vnfc, Diagnostics]] = []
        self._forbidden: dict[str, float] = {}  # VIM name -> monotonic time of the 403
        self._told: set[str] = set()  # VIMs whose 403 was logged

    def describe(self) -> list[Metric]:
        return []  # no read at registration

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def refresh(self) -> list[tuple[OsInstance, Vnfc, Diagnostics]]:
        """The diagnostics of every server, read now (concurrently, within the timeout)."""
        now = time.monotonic()
        try:
            instances = self.instances()
        except Exception as exc:
            log.warning("instances not read: %s", exc)
            return []
        jobs: list[tuple[OsInstance, Vnfc, Future[object]]] = []
        for inst in instances:
            since = self._forbidden.get(inst.vim_name)
            if since is not None and now - since < self.forbidden_retry_s:
                continue
            for vnfc in inst.vnfcs:
                jobs.append((inst, vnfc, self._pool.submit(self.read, inst, vnfc.server_id)))
        wait([f for _, _, f in jobs], timeout=self.timeout_s)
        out: list[tuple[OsInstance, Vnfc, Diagnostics]] = []
        for inst, vnfc, fut in jobs:
            if not fut.done():
                fut.cancel()
                log.debug("server %s: no diagnostics within %.1f s", vnfc.server_id, self.timeout_s)
                continue
            error = fut.exception()
            if isinstance(error, Forbidden):
                self._forbidden[inst.vim_name] = now
                if inst.vim_name not in self._told:
                    self._told.add(inst.vim_name)
                    log.warning(
                        "VIM %s: the policy refuses server diagnostics to the VNFM's "
                        "credentials (%s); its VNFCs are not measured",
                        inst.vim_name,
                        error,
                    )
                continue
            if error is not None:
                log.debug("server %s: diagnostics not read: %s", vnfc.server_id, error)
                continue
            self._forbidden.pop(inst.vim_name, None)
            out.append((inst, vnfc, parse_diagnostics(fut.result())))
        return out

    def _current(self) -> list[tuple[OsInstance, Vnfc, Diagnostics]]:
        with self._lock:  # two scrapes at once read Nova once
            now = time.monotonic()
            if self._at is None or now - self._at >= self.max_age_s:
                self._values = self.refresh()
                self._at = time.monotonic()
            return self._values

    def collect(self) -> Iterator[Metric]:
        cpu = CounterMetricFamily(
            "vnfm_vnfc_cpu_seconds", "CPU time of the VNFC (Nova diagnostics)", labels=VNFC_LABELS
        )
        vcpus = GaugeMetricFamily("vnfm_vnfc_vcpus", "Virtual CPUs of the VNFC", labels=VNFC_LABELS)
        mem = GaugeMetricFamily(
            "vnfm_vnfc_memory_bytes",
            "Memory in use by the VNFC (Nova diagnostics)",
            labels=VNFC_LABELS,
        )
        mem_size = GaugeMetricFamily(
            "vnfm_vnfc_memory_size_bytes", "Virtual memory size of the VNFC", labels=VNFC_LABELS
        )
        cps = {
            series: CounterMetricFamily(
                f"vnfm_cp_{series}",
                f"{series.replace('_', ' ').capitalize()} on the CP (Nova diagnostics)",
                labels=CP_LABELS,
            )
            for series in NIC_FIELDS.values()
        }
        for inst, vnfc, diag in self._current():
            labels = [inst.instance_id, vnfc.vnfc_id, vnfc.vdu_id]
            for family, value in (
                (cpu, diag.cpu_seconds),
                (vcpus, diag.vcpus),
                (mem, diag.memory_bytes),
                (mem_size, diag.memory_size_bytes),
            ):
                if value is not None:
                    family.add_metric(labels, value)
            for cp in vnfc.cps:
                for series, value in diag.nics.get(cp.mac, {}).items():
                    cps[series].add_metric([*labels, cp.cpd_id, cp.cp_type], value)
        yield from (cpu, vcpus, mem, mem_size, *cps.values())


# -- the instances, from the store -------------------------------------------------------------
class StoreOsInstances:
    """The INSTANTIATED instances on OpenStack VIMs, with their VIM credentials; rebuilt
    only when the store changed."""

    def __init__(
        self, store: Store, vims: VimRegistry, stamp: Callable[[], int] | None = None
    ) -> None:
        self.store = store
        self.vims = vims
        self._stamp = stamp
        self._seen: tuple[int, list[OsInstance]] | None = None

    def __call__(self) -> list[OsInstance]:
        stamp = self._stamp() if self._stamp is not None else None
        if stamp is None or self._seen is None or self._seen[0] != stamp:
            out = self._read()
            if stamp is None:
                return out
            self._seen = (stamp, out)
        return list(self._seen[1])

    def _read(self) -> list[OsInstance]:
        with self.store.reading() as s:
            rows = list(
                s.scalars(
                    select(InstanceRow).where(
                        InstanceRow.instantiation_state == InstantiationState.INSTANTIATED
                    )
                )
            )
        out = []
        for row in rows:
            try:
                target = self.vims.unseal(row.vim)
                if not target.driver.server_diagnostics:
                    continue
            except Exception as exc:
                log.debug("instance %s: VIM not resolved: %s", row.id, exc)
                continue
            vnfcs = vnfcs_of(row.doc or {})
            if vnfcs:
                out.append(
                    OsInstance(row.id, target.name, target.connection, target.credentials, vnfcs)
                )
        return out
