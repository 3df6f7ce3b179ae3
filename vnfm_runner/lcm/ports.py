"""The ports of the LCM handlers: everything an operation touches outside itself.

A handler (instantiation.py, termination.py, operations.py, ...) receives a
``Ports`` and uses nothing else: the records and their unit of work, the
playbook runner, the VIM registry and its pre-flight check, the NFVO's grant
interface, a clock, and the in-process observers. The composition root
(vnfm_runner/bootstrap.py) wires the real ones; the handler unit tests
(tests/unit/lcm/) wire in-memory fakes.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from vnfm_runner.domain.records import VnfInstanceRecord, VnfLcmOpOccRecord, VnfPackageRecord
from vnfm_runner.domain.states import InstantiationState, OperationState
from vnfm_runner.engine import LeaseStore
from vnfm_runner.executor import EventSink, RunResult
from vnfm_runner.grants import Grant
from vnfm_runner.store.changes import UNSET, Unset
from vnfm_runner.store.tables import PkgInfoRow
from vnfm_runner.vims import VimTarget


class Changes(Protocol):
    """The typed changes of one transaction (store.db.UnitOfWork)."""

    def instance(
        self,
        instance_id: str,
        *,
        doc: dict[str, Any] | Unset = UNSET,
        instantiation_state: InstantiationState | Unset = UNSET,
        desired_state: dict[str, Any] | Unset | None = UNSET,
        vim: dict[str, Any] | Unset | None = UNSET,
        package: VnfPackageRecord | Unset = UNSET,
    ) -> None: ...

    def operation(
        self,
        op_id: str,
        *,
        state: OperationState | Unset = UNSET,
        doc: dict[str, Any] | Unset = UNSET,
        runner_ident: str | Unset | None = UNSET,
        artifacts_dir: str | Unset | None = UNSET,
        desired_after: dict[str, Any] | Unset | None = UNSET,
    ) -> None: ...


class Records(LeaseStore, Protocol):
    """The records the handlers read, and the unit of work they change them in."""

    def package(self, package_id: str) -> VnfPackageRecord | None: ...

    def package_by_vnfd(self, vnfd_id: str) -> VnfPackageRecord | None: ...

    def package_enabled(self, pkg: VnfPackageRecord) -> bool: ...

    def add_package(self, row: VnfPackageRecord, info: PkgInfoRow | None = None) -> None: ...

    def instance(self, instance_id: str) -> VnfInstanceRecord | None: ...

    def add_instance(self, row: VnfInstanceRecord) -> None: ...

    def delete_instance(self, instance_id: str) -> None: ...

    def operation(self, op_id: str) -> VnfLcmOpOccRecord | None: ...

    def active_operation(self, instance_id: str) -> VnfLcmOpOccRecord | None: ...

    def start_operation(self, row: VnfLcmOpOccRecord) -> None:
        """Insert the STARTING operation; BusyError when the instance has one running."""

    def unit_of_work(self) -> AbstractContextManager[Changes]: ...


@dataclass(frozen=True)
class PlaybookRun:
    """One run of an operation playbook (playbooks/runner/<playbook>)."""

    op_id: str
    ident: str  # <attempt>-<operation>[-rollback]: its own private data dir
    playbook: str
    variables: dict[str, Any]
    credentials: dict[str, Any]
    params: dict[str, Any]  # the request's additionalParams (vnfm_*_timeout)
    timeout: int | None
    on_event: EventSink | None
    cancel: Callable[[], bool] | None


class Playbooks(Protocol):
    def ident(self, op_id: str, name: str) -> tuple[str, str]:
        """The next run's ident and artifacts directory (recorded before it runs)."""

    def run(self, run: PlaybookRun) -> RunResult:
        """Run it to the end (never raises for a failed play)."""


class Vims(Protocol):
    def resolve(self, name: str | None, vim_connection_info: Any, default: str) -> VimTarget: ...

    def seal(self, target: VimTarget) -> dict[str, Any]: ...

    def unseal(self, stored: dict[str, Any] | None) -> VimTarget: ...


class Grants(Protocol):
    def ask(self, request: dict[str, Any]) -> Grant:
        """The NFVO's grant; GrantRefused (403) or GrantError when there is none."""


class Clock(Protocol):
    def now(self) -> datetime: ...


class Events(Protocol):
    """In-process observers: ("operation", VnfLcmOpOcc) at each state change,
    ("instance_created" | "instance_deleted", VnfInstance)."""

    def __call__(self, kind: str, doc: dict[str, Any]) -> None: ...


Preflight = Callable[[VimTarget], None]  # VimConfigError when the VIM cannot be used here


@dataclass(frozen=True)
class Ports:
    records: Records
    playbooks: Playbooks
    vims: Vims
    grants: Grants
    clock: Clock
    events: Events
    lease_ttl: timedelta
    preflight: Preflight = lambda target: None


@dataclass(frozen=True)
class Attempt:
    """What one engine's attempt at an operation passes to its playbook runs."""

    on_event: EventSink | None = None
    cancel: Callable[[], bool] | None = None
    watch: Callable[[dict[str, Any]], None] | None = None  # sees every event (cancel at a task)
