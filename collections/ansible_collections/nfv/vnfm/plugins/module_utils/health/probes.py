# Copyright: vnfm-toolkit developers
# Apache License 2.0 (see LICENSE)
"""Health probes run for real: targets from a plan, attempts, thresholds, results.

* :func:`targets_for` - one :class:`ProbeTarget` per (VNFC, probe of its VDU), with
  the address of the probed CP (the plan's, or the VIM's for a dynamic address)
  and the way in: ``netns`` (the local VIM: the probe runs inside the VNFC's
  namespace, towards its CP address, so it meets the VNFC's software on the
  address its peers use), ``host`` (a VIM whose VNFC addresses this host reaches,
  when the caller says so), or ``none`` with the reason (e.g. the OpenStack test
  bed has no data plane) - reported as ``not_probed``, never as a failure.
* :class:`ProbeRunner` - runs attempts concurrently (at most ``workers`` at a
  time), each bounded by the probe's timeout, and keeps per target the count of
  consecutive failures: ``failure_threshold`` of them make it ``unhealthy``, one
  success makes it ``healthy``; before either it is ``unknown``.
"""

from __future__ import annotations

import http.client
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Collection, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.nfv.vnfm.plugins.module_utils.health import netns
from ansible_collections.nfv.vnfm.plugins.module_utils.vnfd.model import HealthProbe

HEALTHY = "healthy"
UNHEALTHY = "unhealthy"
UNKNOWN = "unknown"  # fewer failures than the threshold and no success yet
NOT_PROBED = "not_probed"  # no way to run it (stopped VNFC, VIM without data plane...)

ROUTE_NETNS = "netns"
ROUTE_HOST = "host"
ROUTE_NONE = "none"

NETNS_RESOURCE_TYPE = "linux.netns"  # the local VIM's vimLevelResourceType of a VNFC


@dataclass(frozen=True)
class ProbeTarget:
    """One probe of one VNFC, resolved: where it connects and how it gets there."""

    instance_id: str
    vnfc_id: str
    vdu_id: str
    probe: HealthProbe
    route: str  # ROUTE_NETNS | ROUTE_HOST | ROUTE_NONE
    address: str | None = None  # the probed CP's IP address (http, tcp)
    netns: str | None = None  # ROUTE_NETNS: the VNFC's namespace
    resource_id: str | None = None  # the VNFC's VIM resource (netns name, server id)
    reason: str | None = None  # ROUTE_NONE: why it is not probed

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.instance_id, self.vnfc_id, self.probe.id)

    def describe(self) -> str:
        p = self.probe
        if p.kind == "command":
            return f"command {' '.join(p.command)}"
        where = f"{self.address}:{p.port}"
        return f"GET http://{where}{p.path}" if p.kind == "http" else f"tcp {where}"


@dataclass(frozen=True)
class Attempt:
    ok: bool
    detail: str  # "HTTP 200", "connection refused", "timed out after 1 s"...
    duration_s: float
    at: float  # time.time() when it ended


@dataclass(frozen=True)
class ProbeResult:
    target: ProbeTarget
    health: str  # HEALTHY | UNHEALTHY | UNKNOWN | NOT_PROBED
    consecutive_failures: int = 0
    last: Attempt | None = None
    since: float | None = None  # time.time() when ``health`` last changed

    def as_dict(self) -> dict[str, Any]:
        t = self.target
        out: dict[str, Any] = {
            "vnfInstanceId": t.instance_id,
            "vnfcInstanceId": t.vnfc_id,
            "vduId": t.vdu_id,
            "probe": t.probe.id,
            "kind": t.probe.kind,
            "health": self.health,
            "consecutiveFailures": self.consecutive_failures,
            "route": t.route,
        }
        if t.route != ROUTE_NONE:
            out["check"] = t.describe()
        if t.reason:
            out["reason"] = t.reason
        if self.last is not None:
            out["lastDetail"] = self.last.detail
            out["lastDurationS"] = round(self.last.duration_s, 4)
        return out


# -- targets -------------------------------------------------------------------------------------
def _observed_addresses(vnfc_info: Mapping[str, Any], cpd_id: str) -> list[str]:
    for cp in vnfc_info.get("vnfcCpInfo") or []:
        if cp.get("cpdId") != cpd_id:
            continue
        out: list[str] = []
        for proto in cp.get("cpProtocolInfo") or []:
            for ip in (proto.get("ipOverEthernet") or {}).get("ipAddresses") or []:
                out += [str(a) for a in ip.get("addresses") or []]
        return out
    return []


def targets_for(
    instance_id: str,
    plan: Mapping[str, Any],
    probes: Iterable[HealthProbe],
    resources: Mapping[str, Any] | None,
    *,
    host_reachable: Collection[str] = (),
) -> list[ProbeTarget]:
    """The probe targets of an instance: every VNFC of ``plan`` times its VDU's probes.

    ``resources`` is what the VIM reports (``vnf_resources_info``); a VNFC it does
    not hold, a stopped VNFC, and a VNFC whose VIM resource type gives no way in are
    ``ROUTE_NONE`` with the reason. ``host_reachable``: resource types whose VNFC
    addresses this host reaches directly (probed from the host; never commands).
    """
    by_vdu: dict[str, list[HealthProbe]] = {}
    for p in probes:
        by_vdu.setdefault(p.vdu_id, []).append(p)
    observed = {
        str(v.get("id")): v for v in (resources or {}).get("vnfcResourceInfo") or [] if v.get("id")
    }
    out: list[ProbeTarget] = []
    for vnfc in plan.get("vnfcs") or []:
        vnfc_id, vdu_id = str(vnfc.get("id")), str(vnfc.get("vduId"))
        info = observed.get(vnfc_id)
        compute = (info or {}).get("computeResource") or {}
        resource_id = str(compute["resourceId"]) if compute.get("resourceId") else None
        rtype = str(compute.get("vimLevelResourceType") or "")
        for probe in sorted(by_vdu.get(vdu_id, []), key=lambda p: p.id):
            address: str | None = None
            if probe.kind != "command":
                cp = next((c for c in vnfc.get("cps") or [] if c.get("cpdId") == probe.cp_id), None)
                planned = [str(a) for a in (cp or {}).get("ipAddresses") or []]
                found = _observed_addresses(info, str(probe.cp_id)) if info else []
                address = next(iter(planned or found), None)
            route, reason = ROUTE_NONE, None
            if resources is None:
                reason = "the VIM was not read"
            elif info is None:
                reason = "the VNFC is missing on the VIM"
            elif str(vnfc.get("powerState") or "on") == "off":
                reason = "the VNFC is stopped (powerState off)"
            elif probe.kind != "command" and address is None:
                reason = f"connection point {probe.cp_id} has no address"
            elif rtype == NETNS_RESOURCE_TYPE and resource_id:
                route = ROUTE_NETNS
            elif rtype in host_reachable and probe.kind != "command":
                route = ROUTE_HOST
            elif probe.kind == "command":
                reason = f"no way to run a command inside a {rtype or 'unknown'} VNFC"
            else:
                reason = (
                    f"the VIM's {rtype or 'unknown'} VNFCs are not reachable from the VNFM "
                    "(no data plane here)"
                )
            out.append(
                ProbeTarget(
                    instance_id=instance_id,
                    vnfc_id=vnfc_id,
                    vdu_id=vdu_id,
                    probe=probe,
                    route=route,
                    address=address,
                    netns=resource_id if route == ROUTE_NETNS else None,
                    resource_id=resource_id,
                    reason=reason,
                )
            )
    return out


# -- one attempt ---------------------------------------------------------------------------------
class _Http(http.client.HTTPConnection):
    """HTTPConnection over a socket made by ``factory`` (one inside a namespace)."""

    def __init__(self, host: str, port: int, timeout: float, factory: Callable[[], socket.socket]):
        super().__init__(host, port, timeout=timeout)
        self._factory = factory

    def connect(self) -> None:
        sock = self._factory()
        sock.settimeout(self.timeout)
        try:
            sock.connect((self.host, self.port))
        except BaseException:
            sock.close()
            raise
        self.sock = sock


def _factory(target: ProbeTarget) -> Callable[[], socket.socket]:
    family = socket.AF_INET6 if ":" in str(target.address) else socket.AF_INET
    if target.route == ROUTE_NETNS:
        name = str(target.netns)
        return lambda: netns.socket_in(name, family)
    return lambda: socket.socket(family, socket.SOCK_STREAM)


def _http_ok(status: int, expected: list[int]) -> bool:
    return status in expected if expected else 200 <= status <= 399


def attempt(target: ProbeTarget) -> Attempt:
    """Run the probe once; never raises for what the VNFC does (refusals, timeouts...)."""
    probe = target.probe
    start = time.monotonic()
    ok, detail = False, ""
    try:
        if probe.kind == "command":
            proc = netns.run_in(str(target.netns), probe.command, timeout=probe.timeout_s)
            ok = proc.returncode == 0
            tail = (proc.stderr or proc.stdout).decode(errors="replace").strip()[-200:]
            detail = f"exit status {proc.returncode}" + (f": {tail}" if tail and not ok else "")
        elif probe.kind == "tcp":
            sock = _factory(target)()
            try:
                sock.settimeout(probe.timeout_s)
                sock.connect((str(target.address), int(probe.port or 0)))
            finally:
                sock.close()
            ok, detail = True, "connected"
        else:
            conn = _Http(
                str(target.address), int(probe.port or 0), probe.timeout_s, _factory(target)
            )
            try:
                conn.request("GET", probe.path, headers={"User-Agent": "vnfm-probe"})
                resp = conn.getresponse()
                resp.read(65536)  # bounded: only the status matters
            finally:
                conn.close()
            ok = _http_ok(resp.status, probe.expected_status)
            detail = f"HTTP {resp.status}"
    except FileNotFoundError:
        detail = f"network namespace {target.netns} does not exist"
    except (TimeoutError, subprocess.TimeoutExpired):
        detail = f"timed out after {probe.timeout_s:g} s"
    except (OSError, http.client.HTTPException) as exc:
        detail = str(exc) or type(exc).__name__
        if isinstance(exc, ConnectionRefusedError):
            detail = "connection refused"
    return Attempt(ok, detail, time.monotonic() - start, time.time())


# -- state across attempts -----------------------------------------------------------------------
@dataclass
class _State:
    health: str = UNKNOWN
    failures: int = 0
    last: Attempt | None = None
    since: float | None = None
    next_due: float = 0.0  # time.monotonic()


@dataclass
class ProbeRunner:
    """Runs probe attempts, at most ``workers`` at a time, and keeps each target's health.

    Thread-safe; one runner serves every instance (the state is keyed by
    ``ProbeTarget.key``). ``attempt`` is the function that runs one attempt.
    """

    workers: int = 16
    attempt: Callable[[ProbeTarget], Attempt] = attempt
    _states: dict[tuple[str, str, str], _State] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _pool: ThreadPoolExecutor | None = field(default=None, repr=False)

    def _executor(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(
                    max_workers=max(1, self.workers), thread_name_prefix="vnfm-probe"
                )
            return self._pool

    def close(self) -> None:
        """Stop the runner's threads (a later ``run`` starts them again)."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False)

    def run(self, targets: Iterable[ProbeTarget], *, only_due: bool = False) -> list[ProbeResult]:
        """One attempt of every target (``only_due``: of those whose interval has passed
        since their last attempt); the results of all of them, in the given order."""
        targets = list(targets)
        now = time.monotonic()
        with self._lock:
            todo = [
                t
                for t in targets
                if t.route != ROUTE_NONE
                and (not only_due or self._states.get(t.key, _State()).next_due <= now)
            ]
        if len(todo) == 1:
            self._record(todo[0], self.attempt(todo[0]))
        elif todo:
            # one pool for the runner's life: no thread started per round
            for target, result in zip(todo, self._executor().map(self.attempt, todo), strict=True):
                self._record(target, result)
        return [self.result(t) for t in targets]

    def _record(self, target: ProbeTarget, result: Attempt) -> None:
        with self._lock:
            state = self._states.setdefault(target.key, _State())
            state.last = result
            state.next_due = time.monotonic() + target.probe.interval_s
            state.failures = 0 if result.ok else state.failures + 1
            health = state.health
            if result.ok:
                health = HEALTHY
            elif state.failures >= target.probe.failure_threshold:
                health = UNHEALTHY
            if health != state.health or state.since is None:
                state.health, state.since = health, result.at

    def result(self, target: ProbeTarget) -> ProbeResult:
        if target.route == ROUTE_NONE:
            return ProbeResult(target, NOT_PROBED)
        with self._lock:
            s = self._states.get(target.key)
            if s is None:
                return ProbeResult(target, UNKNOWN)
            return ProbeResult(target, s.health, s.failures, s.last, s.since)

    def forget(self, instance_id: str, vnfc_ids: Collection[str] | None = None) -> None:
        """Drop the state of an instance (terminated) or of some of its VNFCs (healed:
        a recreated VNFC starts unknown, not with its predecessor's failures)."""
        with self._lock:
            for key in [k for k in self._states if k[0] == instance_id]:
                if vnfc_ids is None or key[1] in vnfc_ids:
                    del self._states[key]
