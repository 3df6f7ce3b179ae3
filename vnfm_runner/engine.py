"""Crash safety: leases on running operations, and recovery of orphaned ones.

The process that runs an operation holds a lease on its record and renews it
every few seconds. If that process dies (kill -9, power loss), the lease
expires; the next ``vnfm`` command or a running server finds the operation
and moves it on (``STARTING`` → ``ROLLED_BACK``, ``PROCESSING``/``ROLLING_BACK``
→ ``FAILED_TEMP``) after killing what is left of its ansible-playbook run on
this host. Claiming is a compare-and-set in the store, so several engines
sharing one database never run the same operation twice.
"""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from types import TracebackType

from vnfm_runner.store.db import Store

LEASE_TTL = timedelta(seconds=20)
RENEW_EVERY = 5.0
ENGINE_ID = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
OP_ENV = "VNFM_OP_ID"  # every process of an operation's run carries it


class LeaseLost(Exception):
    """Another engine holds the operation (or recovered it from us)."""


class Lease:
    """Hold an operation while it runs; renewed by a daemon thread."""

    def __init__(self, store: Store, op_id: str, engine_id: str = ENGINE_ID) -> None:
        self.store = store
        self.op_id = op_id
        self.engine_id = engine_id
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Lease:
        if not self.store.claim_operation(self.op_id, self.engine_id, LEASE_TTL):
            raise LeaseLost(f"operation {self.op_id} is being run by another engine")
        self._thread = threading.Thread(target=self._renew, name=f"lease-{self.op_id}", daemon=True)
        self._thread.start()
        return self

    def _renew(self) -> None:
        while not self._stop.wait(RENEW_EVERY):
            try:
                if not self.store.renew_lease(self.op_id, self.engine_id, LEASE_TTL):
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
            self._thread.join(timeout=RENEW_EVERY)
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


def recover(store: Store, set_state: Callable[[str, str, str], None]) -> list[str]:
    """Move on every operation whose engine died; return their ids.

    ``set_state(op_id, state, detail)`` records the transition (the service's own
    bookkeeping, so the instance and the record stay consistent).
    """
    recovered = []
    host = socket.gethostname()
    for op in store.expired_operations():
        if not store.claim_operation(op.id, ENGINE_ID, LEASE_TTL):
            continue  # another engine recovers it right now
        try:
            if (op.engine_id or "").split(":", 1)[0] == host:
                kill_run(op.id)
            if op.state == "STARTING":
                set_state(
                    op.id, "ROLLED_BACK", "the engine that should run it stopped before it began"
                )
            else:
                set_state(
                    op.id,
                    "FAILED_TEMP",
                    f"the engine running it ({op.engine_id}) stopped while it was {op.state}; "
                    "retry or roll it back",
                )
            recovered.append(op.id)
        finally:
            store.release_lease(op.id, ENGINE_ID)
    return recovered


class CancelWatch:
    """The cancel callback of an ansible-runner job: lease lost, or cancel asked.

    A FORCEFUL cancel stops the job at once; a GRACEFUL one lets the task in
    flight finish and stops when the next task starts.
    """

    def __init__(self, store: Store, op_id: str, lease: Lease, poll: float = 1.0) -> None:
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
