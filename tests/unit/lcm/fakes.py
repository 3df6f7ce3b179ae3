"""In-memory fakes of the LCM handlers' ports (vnfm_runner/lcm/ports.py).

Only the ports are fake: the handlers, the planner and the VNF package
(examples/packages/webfarm) are the real ones. The records keep every
committed unit of work, so a test can say what changed together.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from vnfm_runner.core import decide_plan, load_vnf, package_summary
from vnfm_runner.domain import (
    InstantiationState,
    OnboardingState,
    OperationState,
    PackageOperationalState,
)
from vnfm_runner.domain.records import VnfInstanceRecord, VnfLcmOpOccRecord, VnfPackageRecord
from vnfm_runner.executor import RunResult
from vnfm_runner.grants import Grant, GrantError, GrantRefused
from vnfm_runner.lcm.ports import PlaybookRun, Ports
from vnfm_runner.store.changes import Unset
from vnfm_runner.store.db import BusyError
from vnfm_runner.store.tables import PkgInfoRow
from vnfm_runner.vims import VimTarget

WEBFARM = Path(__file__).resolve().parents[3] / "examples" / "packages" / "webfarm"
REQUEST = {"flavourId": "default", "instantiationLevelId": "small"}
T0 = datetime(2024, 1, 1, tzinfo=UTC)

# one committed unit of work: ("instance" | "operation", id, {field: value})
Commit = list[tuple[str, str, dict[str, Any]]]


class FakeChanges:
    def __init__(self) -> None:
        self.changes: Commit = []

    def instance(self, instance_id: str, **fields: Any) -> None:
        self.changes.append(("instance", instance_id, _set(fields)))

    def operation(self, op_id: str, **fields: Any) -> None:
        self.changes.append(("operation", op_id, _set(fields)))


def _set(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: copy.deepcopy(v) for k, v in fields.items() if not isinstance(v, Unset)}


class FakeRecords:
    def __init__(self) -> None:
        self.packages: dict[str, VnfPackageRecord] = {}
        self.enabled: dict[str, bool] = {}
        self.instances: dict[str, VnfInstanceRecord] = {}
        self.operations: dict[str, VnfLcmOpOccRecord] = {}
        self.commits: list[Commit] = []
        self.leases: dict[str, str] = {}

    # -- reads ---------------------------------------------------------------------------
    def package(self, package_id: str) -> VnfPackageRecord | None:
        return self.packages.get(package_id)

    def package_by_vnfd(self, vnfd_id: str) -> VnfPackageRecord | None:
        return next((p for p in self.packages.values() if p.vnfd_id == vnfd_id), None)

    def package_enabled(self, pkg: VnfPackageRecord) -> bool:
        return self.enabled.get(pkg.id, True)

    def add_package(self, row: VnfPackageRecord, info: PkgInfoRow | None = None) -> None:
        self.packages[row.id] = row

    def instance(self, instance_id: str) -> VnfInstanceRecord | None:
        row = self.instances.get(instance_id)
        return copy.deepcopy(row) if row else None

    def add_instance(self, row: VnfInstanceRecord) -> None:
        self.instances[row.id] = row

    def delete_instance(self, instance_id: str) -> None:
        self.instances.pop(instance_id, None)

    def operation(self, op_id: str) -> VnfLcmOpOccRecord | None:
        row = self.operations.get(op_id)
        return copy.deepcopy(row) if row else None

    def active_operation(self, instance_id: str) -> VnfLcmOpOccRecord | None:
        return next(
            (
                op
                for op in self.operations.values()
                if op.vnf_instance_id == instance_id and not OperationState(op.state).final
            ),
            None,
        )

    def start_operation(self, row: VnfLcmOpOccRecord) -> None:
        if self.active_operation(row.vnf_instance_id) is not None:
            raise BusyError(f"VNF instance {row.vnf_instance_id} is busy")
        self.operations[row.id] = copy.deepcopy(row)

    def cancel_mode(self, op_id: str) -> str | None:
        doc = self.operations[op_id].doc
        return str(doc.get("cancelMode") or "FORCEFUL") if doc.get("isCancelPending") else None

    # -- the unit of work: applied on a clean exit only -------------------------------
    @contextmanager
    def unit_of_work(self) -> Iterator[FakeChanges]:
        uow = FakeChanges()
        yield uow
        for kind, key, fields in uow.changes:
            row = (self.instances if kind == "instance" else self.operations)[key]
            for name, value in fields.items():
                if name == "package":
                    row.package_id, row.vnfd_id = value.id, value.vnfd_id
                else:
                    setattr(row, name, value)
        self.commits.append(uow.changes)

    # -- leases ------------------------------------------------------------------------
    def claim_operation(self, op_id: str, engine_id: str, ttl: timedelta) -> bool:
        if self.leases.get(op_id, engine_id) != engine_id:
            return False
        self.leases[op_id] = engine_id
        return True

    def renew_lease(self, op_id: str, engine_id: str, ttl: timedelta) -> bool:
        return self.leases.get(op_id) == engine_id

    def renew_leases(self, op_ids: list[str], engine_id: str, ttl: timedelta) -> int:
        return sum(self.renew_lease(op_id, engine_id, ttl) for op_id in op_ids)

    def release_lease(self, op_id: str, engine_id: str) -> None:
        if self.leases.get(op_id) == engine_id:
            del self.leases[op_id]

    def expired_operations(self) -> list[VnfLcmOpOccRecord]:
        return [
            copy.deepcopy(op)
            for op in self.operations.values()
            if OperationState(op.state).running
            and op.lease_expires_at is not None
            and op.lease_expires_at < T0
        ]

    # -- what tests look at --------------------------------------------------------------
    def states(self, op_id: str) -> list[str]:
        """Every state the operation's committed record went through, in order."""
        return [
            fields["state"]
            for commit in self.commits
            for kind, key, fields in commit
            if kind == "operation" and key == op_id and "state" in fields
        ]

    def commit_of(self, op_id: str, state: OperationState) -> Commit:
        return next(
            c
            for c in self.commits
            if any(k == "operation" and i == op_id and f.get("state") == state for k, i, f in c)
        )


def result(status: str = "successful", **stats: Any) -> RunResult:
    return RunResult(
        status=status,
        rc=0 if status == "successful" else 2,
        ident="",
        private_data_dir=Path("/nonexistent"),
        stats={"vnfm_result": stats} if stats else {},
        failures=[] if status != "failed" else [{"task": "t", "host": "h", "msg": "boom"}],
        playbook_runs=1,
    )


@dataclass
class FakePlaybooks:
    """Answers each run with the next scripted result (success without a plan by default)."""

    results: list[RunResult | Callable[[PlaybookRun], RunResult]] = field(default_factory=list)
    runs: list[PlaybookRun] = field(default_factory=list)

    def ident(self, op_id: str, name: str) -> tuple[str, str]:
        ident = f"{sum(r.op_id == op_id for r in self.runs) + 1}-{name}"
        return ident, f"/runs/{op_id}/{ident}/artifacts/{ident}"

    def run(self, run: PlaybookRun) -> RunResult:
        self.runs.append(run)
        answer = self.results.pop(0) if self.results else result()
        return answer(run) if callable(answer) else answer


class FakeVims:
    def resolve(self, name: str | None, vim_connection_info: Any, default: str) -> VimTarget:
        return VimTarget(name or default, {"vimType": "local"})

    def seal(self, target: VimTarget) -> dict[str, Any]:
        return {"name": target.name, "connection": target.connection, "credentials": None}

    def unseal(self, stored: dict[str, Any] | None) -> VimTarget:
        stored = stored or {"name": "local", "connection": {"vimType": "local"}}
        return VimTarget(stored["name"], dict(stored["connection"]))


@dataclass
class FakeGrants:
    answer: str = "grant"  # grant | refuse | error
    doc: dict[str, Any] = field(default_factory=dict)
    asked: list[dict[str, Any]] = field(default_factory=list)

    def ask(self, request: dict[str, Any]) -> Grant:
        self.asked.append(request)
        if self.answer == "refuse":
            raise GrantRefused("the NFVO said no")
        if self.answer == "error":
            raise GrantError("the NFVO did not answer")
        return Grant(id="grant-1", doc={"id": "grant-1", **self.doc})


class FakeClock:
    def __init__(self) -> None:
        self.at = T0

    def now(self) -> datetime:
        self.at += timedelta(seconds=1)
        return self.at


@dataclass
class Events:
    seen: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def __call__(self, kind: str, doc: dict[str, Any]) -> None:
        self.seen.append((kind, doc))


@dataclass
class World:
    """The fake ports, and helpers that put records in them."""

    records: FakeRecords = field(default_factory=FakeRecords)
    playbooks: FakePlaybooks = field(default_factory=FakePlaybooks)
    vims: FakeVims = field(default_factory=FakeVims)
    grants: FakeGrants = field(default_factory=FakeGrants)
    clock: FakeClock = field(default_factory=FakeClock)
    events: Events = field(default_factory=Events)

    @property
    def ports(self) -> Ports:
        return Ports(
            records=self.records,
            playbooks=self.playbooks,
            vims=self.vims,
            grants=self.grants,
            clock=self.clock,
            events=self.events,
            lease_ttl=timedelta(seconds=20),
        )

    def package(self, pkg_id: str = "pkg-1", path: Path = WEBFARM) -> VnfPackageRecord:
        model, _ = load_vnf(path)
        row = VnfPackageRecord(
            id=pkg_id,
            vnfd_id=model.vnfd_id if pkg_id == "pkg-1" else f"{model.vnfd_id}-{pkg_id}",
            path=str(path),
            summary=package_summary(model),
            onboarding_state=OnboardingState.ONBOARDED,
            operational_state=PackageOperationalState.ENABLED,
            created_at=T0,
        )
        self.records.add_package(row)
        return row

    def instance(self, *, instantiated: bool = False, pkg: VnfPackageRecord | None = None) -> str:
        pkg = pkg or self.records.packages.get("pkg-1") or self.package()
        instance_id = f"inst-{len(self.records.instances) + 1}"
        doc: dict[str, Any] = {"id": instance_id, "instantiationState": "NOT_INSTANTIATED"}
        desired = None
        if instantiated:
            model, _ = load_vnf(pkg.path)
            desired, _decision, _delta = decide_plan(
                model, instance_id, "INSTANTIATE", REQUEST, None
            )
            doc = {**doc, "instantiationState": "INSTANTIATED", "instantiatedVnfInfo": {}}
        self.records.add_instance(
            VnfInstanceRecord(
                id=instance_id,
                vnfd_id=pkg.vnfd_id,
                package_id=pkg.id,
                instantiation_state=InstantiationState.INSTANTIATED
                if instantiated
                else InstantiationState.NOT_INSTANTIATED,
                doc=doc,
                desired_state=desired,
                vim=self.vims.seal(VimTarget("local", {"vimType": "local"}))
                if instantiated
                else None,
                created_at=T0,
            )
        )
        return instance_id
