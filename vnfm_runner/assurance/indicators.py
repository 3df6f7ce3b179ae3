"""VNF indicators (SOL003 ``vnfind/v1``): valued periodically, stored, announced on change.

:class:`IndicatorService` runs in ``vnfm serve`` (started by the ClosedLoop). Each pass
looks at the INSTANTIATED instances:

* the indicators an instance supports are those its package declares for its flavour
  (``vnfd/indicators.py``). When the instance is new to the service (instantiated), its
  package is another one (a CHANGE_VNFPKG completed) or the set differs from the one
  last announced, the set is stored and a SupportedIndicatorsChangeNotification written
  in the same transaction;
* every indicator whose period has passed is evaluated - a PromQL expression through
  :class:`~vnfm_runner.assurance.promql.PromClient`, or a command inside the first VNFC
  of its VDU (local VIM: ``ip netns exec``) - and when the value differs from the stored
  one, the new value and its VnfIndicatorValueChangeNotification commit together.

Instances with an operation in flight are not evaluated (their VNFCs are changing);
values of instances no longer instantiated are dropped. Every value is untrusted: a
number must be finite (integral floats become integers, others keep 9 significant
digits), a string is one printable line of at most :data:`MAX_STRING` characters, a
command's output is read up to :data:`MAX_OUTPUT` bytes; anything else leaves the stored
value as it was (the reason is logged once).
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import re
import selectors
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, select

from vnfm_runner.assurance.instances import read_instantiated
from vnfm_runner.assurance.promql import PromClient, PromError
from vnfm_runner.notify import indicators as notes
from vnfm_runner.package_models import package_model
from vnfm_runner.store.db import Store, iso, now
from vnfm_runner.store.tables import (
    IndicatorRow,
    IndicatorSetRow,
    InstanceRow,
)

log = logging.getLogger("vnfm.indicators")

MAX_OUTPUT = 4096  # bytes of a command's standard output
MAX_STRING = 256  # characters of a string value
NETNS_RESOURCE_TYPE = "linux.netns"  # the local VIM's VNFC (health/probes.py says the same)
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d{1,3})?$")


class ValueRefused(ValueError):
    """A value that is not stored: why, in one sentence."""


# -- values ----------------------------------------------------------------------------------
def number(value: float) -> int | float:
    """A finite number as stored: integral values as integers, others to 9 significant
    digits (a float's last digits are noise that would look like a change)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueRefused(f"not a number: {type(value).__name__}")
    if not math.isfinite(value):
        raise ValueRefused(f"not a finite number: {value}")
    rounded = float(f"{value:.9g}")
    if rounded.is_integer() and abs(rounded) < 2**53:
        return int(rounded)
    return rounded


def from_output(raw: bytes) -> int | float | str:
    """The value a command printed: a number, or one printable line of text."""
    if len(raw) > MAX_OUTPUT:
        raise ValueRefused(f"the output exceeds {MAX_OUTPUT} bytes")
    try:
        text = raw.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise ValueRefused("the output is not UTF-8 text") from None
    if not text:
        raise ValueRefused("no output")
    if _NUMBER.match(text):
        return number(float(text))
    if len(text) > MAX_STRING:
        raise ValueRefused(f"the output is longer than {MAX_STRING} characters")
    if not text.isprintable():
        raise ValueRefused("the output holds control characters or several lines")
    return text


def allowed(value: Any, values: Sequence[str]) -> Any:
    """``value`` if the indicator may take it (its declared ``indicator_value``)."""
    if values and str(value) not in values:
        raise ValueRefused(f"{str(value)[:40]!r} is not one of the declared values")
    return value


# -- commands inside a VNFC ---------------------------------------------------------------------
def run_in_vnfc(netns: str, argv: Sequence[str], *, timeout: float, env: dict[str, str]) -> bytes:
    """``ip netns exec NETNS ARGV``; its standard output, read up to MAX_OUTPUT + 1 bytes
    within ``timeout`` (then the command is killed). A failure is ValueRefused."""
    if not netns or "/" in netns:
        raise ValueRefused(f"invalid network namespace {netns!r}")
    try:
        proc = subprocess.Popen(
            ["ip", "netns", "exec", netns, *argv],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env={"PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"), **env},
            start_new_session=True,  # its children die with it
        )
    except OSError as exc:
        raise ValueRefused(f"cannot run the command: {exc.strerror}") from None
    assert proc.stdout is not None
    out = bytearray()
    deadline = time.monotonic() + timeout
    timed_out = False
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        while len(out) <= MAX_OUTPUT:
            left = deadline - time.monotonic()
            if left <= 0:
                timed_out = True
                break
            if not sel.select(left):
                continue
            chunk = os.read(proc.stdout.fileno(), 65536)
            if not chunk:
                break
            out += chunk
    if not timed_out and len(out) <= MAX_OUTPUT:
        try:  # its output ended: it should be exiting
            proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            timed_out = True
    if timed_out or len(out) > MAX_OUTPUT:
        # Too long or too much: the whole session goes (a child may hold the pipe after
        # its parent exited); the leader is not reaped yet, so its pid names the group.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    proc.stdout.close()
    if timed_out:
        raise ValueRefused(f"the command ran longer than {timeout:g} s")
    if len(out) > MAX_OUTPUT:
        raise ValueRefused(f"the output exceeds {MAX_OUTPUT} bytes")
    if proc.returncode != 0:
        raise ValueRefused(f"the command exited with status {proc.returncode}")
    return bytes(out)


# -- the documents of vnfind/v1 -------------------------------------------------------------------
def indicator_doc(row: IndicatorRow) -> dict[str, Any]:
    """SOL003 8.5.2.2 VnfIndicator."""
    doc: dict[str, Any] = {"id": row.indicator_id}
    if row.name is not None:
        doc["name"] = row.name
    doc["value"] = row.value
    doc["vnfInstanceId"] = row.vnf_instance_id
    doc["_links"] = notes.indicator_links(row.vnf_instance_id, row.indicator_id)
    return doc


def indicators(store: Store, instance_id: str | None = None) -> list[dict[str, Any]]:
    """The valued indicators (of one instance), oldest first."""
    q = select(IndicatorRow).order_by(
        IndicatorRow.created_at, IndicatorRow.vnf_instance_id, IndicatorRow.indicator_id
    )
    if instance_id is not None:
        q = q.where(IndicatorRow.vnf_instance_id == instance_id)
    with store.reading() as s:
        return [indicator_doc(r) for r in s.scalars(q)]


def indicator(store: Store, instance_id: str, indicator_id: str) -> dict[str, Any] | None:
    with store.reading() as s:
        row = s.get(IndicatorRow, (instance_id, indicator_id))
        return indicator_doc(row) if row is not None else None


def instance_known(store: Store, instance_id: str) -> bool:
    with store.reading() as s:
        return s.get(InstanceRow, instance_id) is not None


def supported(store: Store, instance_id: str) -> list[dict[str, Any]] | None:
    """The indicators an instance supports as last announced; None: not known (yet)."""
    with store.reading() as s:
        row = s.get(IndicatorSetRow, instance_id)
        return list(row.indicators) if row is not None else None


# -- the service ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class IndicatorSettings:
    tick_s: float = 1.0  # how often the service looks for due indicators
    workers: int = 4  # indicators evaluated at once (commands wait on their VNFC)


@dataclass
class _Instance:
    id: str
    package_id: str
    doc: dict[str, Any]
    indicators: list[Any]  # vnfd.indicators.VnfIndicator
    busy: bool


@dataclass
class PassReport:
    """What one pass did (for tests and logs)."""

    instances: int = 0
    evaluated: int = 0
    changed: int = 0
    supported_changes: int = 0
    refused: dict[tuple[str, str], str] = field(default_factory=dict)


Evaluator = Callable[[Any, str, dict[str, Any]], Any]


class IndicatorService:
    """Evaluates, stores and announces the indicators of the instances of one store."""

    def __init__(
        self,
        store: Store,
        *,
        prometheus: Callable[[], str | None] = lambda: None,
        settings: IndicatorSettings | None = None,
        clock: Callable[[], float] = time.monotonic,
        run: Callable[..., bytes] = run_in_vnfc,
    ) -> None:
        self.store = store
        self.prometheus = prometheus
        self.settings = settings or IndicatorSettings()
        self.clock = clock
        self.run = run
        self._models: dict[tuple[str, str], list[Any]] = {}
        self._due: dict[tuple[str, str], float] = {}
        self._reasons: dict[tuple[str, str], str] = {}  # the last refusal, logged once
        self._pool = ThreadPoolExecutor(
            max_workers=max(1, self.settings.workers), thread_name_prefix="vnfm-ind"
        )
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._stamp = 0

    # -- the thread --------------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="vnfm-indicators", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_pass()
            except Exception:
                log.exception("indicator pass failed")
            self._stop.wait(self.settings.tick_s)

    # -- one pass ----------------------------------------------------------------------------------
    def run_pass(self, *, force: bool = False) -> PassReport:
        """Announce new supported sets, evaluate the due indicators (all with ``force``),
        store and announce the values that changed."""
        report = PassReport()
        instances = self._instances()
        report.instances = len(instances)
        self._forget_others({i.id for i in instances})
        for inst in instances:
            report.supported_changes += self._sync_supported(inst)
        tick = self.clock()
        jobs = []
        for inst in instances:
            if inst.busy:
                continue
            for ind in inst.indicators:
                key = (inst.id, ind.id)
                if ind.kind == "none" or (not force and self._due.get(key, 0.0) > tick):
                    continue
                self._due[key] = tick + ind.period_s
                jobs.append((inst, ind, self._pool.submit(self._evaluate, inst, ind)))
        for inst, ind, future in jobs:
            key = (inst.id, ind.id)
            report.evaluated += 1
            try:
                value = future.result()
            except ValueRefused as exc:
                report.refused[key] = str(exc)
                if self._reasons.get(key) != str(exc):
                    log.info("indicator %s of %s not valued: %s", ind.id, inst.id, exc)
                self._reasons[key] = str(exc)
                continue
            self._reasons.pop(key, None)
            if self._store_value(inst.id, ind, value):
                report.changed += 1
        return report

    def _instances(self) -> list[_Instance]:
        with self.store.reading() as s:
            view = read_instantiated(s)
        busy = set(view.active)
        paths = {i: str(p.path) for i, p in view.packages.items()}
        out = []
        for row in view.instances:
            flavour = str((row.desired_state or {}).get("flavourId") or "")
            try:
                declared = self._declared(row.package_id, paths.get(row.package_id), flavour)
            except Exception as exc:  # a package gone or unreadable: nothing to evaluate
                log.warning("instance %s: indicators not read: %s", row.id, exc)
                continue
            out.append(_Instance(row.id, row.package_id, dict(row.doc), declared, row.id in busy))
        return out

    def _declared(self, package_id: str, path: str | None, flavour_id: str) -> list[Any]:
        key = (package_id, flavour_id)
        if key not in self._models:
            if path is None:
                raise LookupError(f"package {package_id} is not in the store")
            model = package_model(path)
            flavour = model.flavour(flavour_id)
            self._models[key] = list(flavour.indicators) if flavour else []
        return self._models[key]

    def _forget_others(self, live: set[str]) -> None:
        """Values and sets of instances no longer instantiated go (nothing to announce)."""
        with self.store.reading() as s:
            held = set(s.scalars(select(IndicatorSetRow.vnf_instance_id))) | set(
                s.scalars(select(IndicatorRow.vnf_instance_id).distinct())
            )
        gone = held - live
        if gone:
            with self.store.session() as s:
                s.execute(delete(IndicatorRow).where(IndicatorRow.vnf_instance_id.in_(gone)))
                s.execute(delete(IndicatorSetRow).where(IndicatorSetRow.vnf_instance_id.in_(gone)))
        for key in [k for k in self._due if k[0] not in live]:
            self._due.pop(key, None)
            self._reasons.pop(key, None)

    def _next_stamp(self) -> str:
        self._stamp += 1
        return f"{iso(now())}#{self._stamp}"

    def _sync_supported(self, inst: _Instance) -> int:
        wanted = [
            {"vnfIndicatorId": i.id, **({"name": i.name} if i.name is not None else {})}
            for i in inst.indicators
        ]
        with self.store.reading() as s:  # most passes: nothing changed, nothing written
            seen = s.get(IndicatorSetRow, inst.id)
            if seen is not None and (seen.package_id, seen.indicators) == (inst.package_id, wanted):
                return 0
            if seen is None and not wanted:
                return 0  # a package without indicators: nothing to announce
        with self.store.session() as s:
            row = s.get(IndicatorSetRow, inst.id)
            if row is None:
                s.add(
                    IndicatorSetRow(
                        vnf_instance_id=inst.id,
                        package_id=inst.package_id,
                        indicators=wanted,
                        changed_at=now(),
                    )
                )
            else:
                row.package_id, row.indicators, row.changed_at = inst.package_id, wanted, now()
            kept = [w["vnfIndicatorId"] for w in wanted]
            s.execute(
                delete(IndicatorRow).where(
                    IndicatorRow.vnf_instance_id == inst.id, IndicatorRow.indicator_id.not_in(kept)
                )
            )
            notes.announce_supported(
                s, instance_id=inst.id, supported=wanted, stamp=self._next_stamp()
            )
        for key in [k for k in self._due if k[0] == inst.id]:
            self._due.pop(key, None)  # the new package's indicators are evaluated now
        return 1

    def _evaluate(self, inst: _Instance, ind: Any) -> Any:
        if ind.kind == "prometheus":
            url = self.prometheus()
            if not url:
                raise ValueRefused("no Prometheus (monitoring is off)")
            try:
                raw = PromClient(url, timeout_s=max(1.0, ind.timeout_s)).value(
                    ind.expression_for(inst.id)
                )
            except PromError as exc:
                raise ValueRefused(str(exc)[:300]) from None
            if raw is None:
                raise ValueRefused("the expression has no finite value now")
            return allowed(number(raw), ind.indicator_value)
        vnfc = self._vnfc(inst, ind.vdu_id)
        netns = vnfc[1]
        env = {"VNFM_VNF_INSTANCE_ID": inst.id, "VNFM_VNFC_ID": vnfc[0]}
        out = self.run(netns, list(ind.command), timeout=ind.timeout_s, env=env)
        return allowed(from_output(out), ind.indicator_value)

    @staticmethod
    def _vnfc(inst: _Instance, vdu_id: str) -> tuple[str, str]:
        """(VNFC id, network namespace) of the VDU's first VNFC, from the record."""
        info = inst.doc.get("instantiatedVnfInfo") or {}
        vnfcs = [v for v in info.get("vnfcResourceInfo") or [] if v.get("vduId") == vdu_id]
        if not vnfcs:
            raise ValueRefused(f"VDU {vdu_id} has no VNFC")
        first = min(vnfcs, key=lambda v: _natural(str(v.get("id"))))
        compute = first.get("computeResource") or {}
        rtype = str(compute.get("vimLevelResourceType") or "")
        if rtype != NETNS_RESOURCE_TYPE or not compute.get("resourceId"):
            raise ValueRefused(f"no way to run a command inside a {rtype or 'unknown'} VNFC")
        return str(first.get("id")), str(compute["resourceId"])

    def _store_value(self, instance_id: str, ind: Any, value: Any) -> bool:
        """Store a value that differs from the stored one and announce it, in one transaction."""
        with self.store.session() as s:
            live = s.get(IndicatorSetRow, instance_id)
            if live is None or ind.id not in {w["vnfIndicatorId"] for w in live.indicators}:
                return False  # the set changed meanwhile: the next pass values the new one
            row = s.get(IndicatorRow, (instance_id, ind.id))
            if row is not None and row.value == value and type(row.value) is type(value):
                return False
            stamp = now()
            if row is None:
                s.add(
                    IndicatorRow(
                        vnf_instance_id=instance_id,
                        indicator_id=ind.id,
                        name=ind.name,
                        value=value,
                        created_at=stamp,
                        changed_at=stamp,
                    )
                )
            else:
                row.value, row.name, row.changed_at = value, ind.name, stamp
            notes.announce_value(
                s,
                instance_id=instance_id,
                indicator_id=ind.id,
                name=ind.name,
                value=value,
                stamp=self._next_stamp(),
            )
        return True


def _natural(vnfc_id: str) -> tuple[str, int]:
    """web-10 after web-9."""
    head, _, tail = vnfc_id.rpartition("-")
    return (head, int(tail)) if tail.isdigit() else (vnfc_id, -1)
