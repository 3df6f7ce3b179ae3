"""Crash safety: leases on running operations, and recovery of orphaned ones.

The process that runs an operation holds a lease on its record and renews it
every few seconds. If that process dies (kill -9, power loss), the lease
expires; the next ``vnfm`` command or a running server finds the operation
and moves it on (``STARTING`` → ``ROLLED_BACK``, ``PROCESSING``/``ROLLING_BACK``
→ ``FAILED_TEMP``) after killing what is left of its ansible-playbook run on
this host. Claiming is a compare-and-set in the store, so several engines
sharing one database never run the same operation twice.

A server owns the operations it accepted and queued for its workers
(``OperationQueue``): one heartbeat renews their leases until a worker claims
one, so a queued operation waits however long its turn takes, and is rolled
back by recovery only if the server dies before running it.
"""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from types import TracebackType
from typing import Protocol

from vnfm_runner.domain import OperationState
from vnfm_runner.domain.records import VnfLcmOpOccRecord
from vnfm_runner.errors import LcmError

LEASE_TTL = timedelta(seconds=20)  # the default of the lease_ttl setting
ENGINE_ID = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
OP_ENV = "VNFM_OP_ID"  # every process of an operation's run carries it
RETRY_AFTER = 10  # seconds a client refused by a full queue is told to wait


class LeaseStore(Protocol):
    """What the engine needs of the store: compare-and-set leases on operations
    (store.db.Store; the handler tests' fake)."""

    def claim_operation(self, op_id: str, engine_id: str, ttl: timedelta) -> bool: ...

    def renew_lease(self, op_id: str, engine_id: str, ttl: timedelta) -> bool: ...

    def renew_leases(self, op_ids: list[str], engine_id: str, ttl: timedelta) -> int: ...

    def release_lease(self, op_id: str, engine_id: str) -> None: ...

    def expired_operations(self) -> list[VnfLcmOpOccRecord]: ...

    def cancel_mode(self, op_id: str) -> str | None: ...


class LeaseLost(Exception):
    """Another engine holds the operation (or recovered it from us)."""


class Lease:
    """Hold an operation while it runs; renewed by a daemon thread."""

    def __init__(
        self,
        store: LeaseStore,
        op_id: str,
        engine_id: str = ENGINE_ID,
        ttl: timedelta = LEASE_TTL,
    ) -> None:
        self.store = store
        self.op_id = op_id
        self.engine_id = engine_id
        self.ttl = ttl
        self.renew_every = renew_period(ttl)
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Lease:
        if not self.store.claim_operation(self.op_id, self.engine_id, self.ttl):
            raise LeaseLost(f"operation {self.op_id} is being run by another engine")
        self._thread = threading.Thread(target=self._renew, name=f"lease-{self.op_id}", daemon=True)
        self._thread.start()
        return self

    def _renew(self) -> None:
        while not self._stop.wait(self.renew_every):
            try:
                if not self.store.renew_lease(self.op_id, self.engine_id, self.ttl):
                    self.lost.set()
                    return
            except Exception:  # a database hiccup: try again at the next tick
                continue

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.renew_every)
        self.store.release_lease(self.op_id, self.engine_id)


def kill_run(op_id: str) -> int:
    """Kill every local process of the operation's run (found by its environment)."""
    killed = 0
    needle = f"{OP_ENV}={op_id}".encode()
    own_netns = os.stat("/proc/self/ns/net").st_ino
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            environ = (proc / "environ").read_bytes()
            # ansible-playbook and its workers run here; a VNFC's software runs
            # in the VNFC's namespace and must survive its operation's engine.
            if os.stat(proc / "ns" / "net").st_ino != own_netns:
                continue
        except OSError:
            continue
        if needle in environ.split(b"\0"):
            try:
                os.kill(int(proc.name), signal.SIGKILL)
                killed += 1
            except OSError:
                pass
    return killed


def renew_period(ttl: timedelta) -> float:
    """Renew four times per lifetime: a lease survives a few missed renewals."""
    return ttl.total_seconds() / 4


def recover(
    store: LeaseStore,
    set_state: Callable[[str, str, str], None],
    ttl: timedelta = LEASE_TTL,
    *,
    kill: Callable[[str], int] | None = None,
) -> list[str]:
    """Move on every operation whose engine died; return their ids.

    ``set_state(op_id, state, detail)`` records the transition (the service's own
    bookkeeping, so the instance and the record stay consistent); ``kill(op_id)``
    ends what is left of its run on this host (default: ``kill_run``).
    """
    kill = kill or kill_run
    recovered = []
    host = socket.gethostname()
    for op in store.expired_operations():
        if op.engine_id == ENGINE_ID:
            continue  # this process is alive: what it holds is not orphaned (a late renewal)
        if not store.claim_operation(op.id, ENGINE_ID, ttl):
            continue  # another engine recovers it right now
        try:
            if (op.engine_id or "").split(":", 1)[0] == host:
                kill(op.id)
            if op.state == OperationState.STARTING:
                set_state(
                    op.id,
                    OperationState.ROLLED_BACK,
                    "the engine that should run it stopped before it began",
                )
            else:
                set_state(
                    op.id,
                    OperationState.FAILED_TEMP,
                    f"the engine running it ({op.engine_id}) stopped while it was {op.state}; "
                    "retry or roll it back",
                )
            recovered.append(op.id)
        finally:
            store.release_lease(op.id, ENGINE_ID)
    return recovered


class QueueFull(LcmError):
    """The server has as many operations waiting for a worker as it takes."""

    def __init__(self, depth: int, retry_after: int) -> None:
        super().__init__(
            f"the operation queue is full ({depth} accepted operations wait for a worker); "
            f"nothing was recorded, ask again in {retry_after} s",
            503,
        )
        self.retry_after = retry_after


class OperationQueue:
    """Operations this process accepted and that wait for one of its workers.

    The process owns them from acceptance until a worker claims one (``Lease``,
    same engine id): a single heartbeat renews all their leases, so recovery —
    which moves on only operations whose lease expired — never takes a queued
    operation from a live server, and still rolls it back if the server dies
    before running it. ``admit`` bounds the queue before anything is recorded.
    """

    def __init__(
        self,
        store: LeaseStore,
        depth: int,
        ttl: timedelta = LEASE_TTL,
        engine_id: str = ENGINE_ID,
        retry_after: int = RETRY_AFTER,
    ) -> None:
        self.store = store
        self.depth = depth
        self.ttl = ttl
        self.engine_id = engine_id
        self.retry_after = retry_after
        self._waiting: set[str] = set()
        self._admitting = 0  # requests between the depth check and their hold (or failure)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __len__(self) -> int:
        with self._lock:
            return len(self._waiting)

    @contextmanager
    def admit(self) -> Iterator[None]:
        """A place in the queue for the request checked and recorded inside; QueueFull
        before anything is recorded when there is none."""
        with self._lock:
            if len(self._waiting) + self._admitting >= self.depth:
                raise QueueFull(self.depth, self.retry_after)
            self._admitting += 1
        try:
            yield
        finally:
            with self._lock:
                self._admitting -= 1

    def hold(self, op_id: str) -> bool:
        """Take an accepted operation into the queue: its lease is now this process's.
        False if another engine took it first (a cancel from the CLI, say)."""
        if not self.store.claim_operation(op_id, self.engine_id, self.ttl):
            return False
        with self._lock:
            self._waiting.add(op_id)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._heartbeat, name="vnfm-queue", daemon=True
                )
                self._thread.start()
        return True

    def started(self, op_id: str) -> None:
        """A worker claimed the operation (or gave up on it): its own lease takes over."""
        with self._lock:
            self._waiting.discard(op_id)

    def stop(self) -> None:
        """No more renewals: what still waits expires and is rolled back by recovery."""
        self._stop.set()

    def _heartbeat(self) -> None:
        while not self._stop.wait(renew_period(self.ttl)):
            with self._lock:
                waiting = list(self._waiting)
            if not waiting:
                continue
            try:
                self.store.renew_leases(waiting, self.engine_id, self.ttl)
            except Exception:  # a database hiccup: the leases outlive a few missed beats
                continue


class CancelWatch:
    """The cancel callback of an ansible-runner job: lease lost, or cancel asked.

    A FORCEFUL cancel stops the job at once; a GRACEFUL one lets the task in
    flight finish and stops when the next task starts.
    """

    def __init__(self, store: LeaseStore, op_id: str, lease: Lease, poll: float = 1.0) -> None:
        self.store = store
        self.op_id = op_id
        self.lease = lease
        self.poll = poll
        self._checked = 0.0
        self._mode: str | None = None
        self.task_boundary = False

    def requested(self) -> str | None:
        if self._mode is None and time.monotonic() - self._checked >= self.poll:
            self._checked = time.monotonic()
            self._mode = self.store.cancel_mode(self.op_id)
        return self._mode

    def on_event(self, event: dict[str, object]) -> None:
        if event.get("event") == "playbook_on_task_start" and self.requested() == "GRACEFUL":
            self.task_boundary = True

    def __call__(self) -> bool:
        if self.lease.lost.is_set():
            return True
        mode = self.requested()
        return mode == "FORCEFUL" or (mode == "GRACEFUL" and self.task_boundary)
