"""What the assurance services read of the store on each tick, read one way.

The watcher, the auto-scaler and the indicator service each look at the INSTANTIATED
instances, the operations still in flight and the packages, every tick. They read them
in one read transaction (:func:`read_instantiated`) and rebuild what they derive from
them only when the store changed (:class:`StampedCache`, keyed by the store's change
stamp, ``store/stamp.py``), not every second.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from vnfm_runner.domain import InstantiationState
from vnfm_runner.domain.records import VnfInstanceRecord, VnfLcmOpOccRecord, VnfPackageRecord
from vnfm_runner.store import mapping
from vnfm_runner.store.db import FINAL_STATES
from vnfm_runner.store.tables import InstanceRow, OperationRow, PackageRow

T = TypeVar("T")


@dataclass(frozen=True)
class InstantiatedView:
    """The INSTANTIATED instances (oldest first), their operations in flight, the packages."""

    instances: list[VnfInstanceRecord]
    active: dict[str, VnfLcmOpOccRecord]  # instance id -> its operation not yet final
    packages: dict[str, VnfPackageRecord]


def read_instantiated(session: Session) -> InstantiatedView:
    """One consistent read of what every assurance pass starts from."""
    instances = [
        mapping.instance_record(row)
        for row in session.scalars(
            select(InstanceRow)
            .where(InstanceRow.instantiation_state == InstantiationState.INSTANTIATED)
            .order_by(InstanceRow.created_at)
        )
    ]
    active = {
        op.vnf_instance_id: mapping.operation_record(op)
        for op in session.scalars(
            select(OperationRow).where(OperationRow.state.not_in(FINAL_STATES))
        )
    }
    packages = {p.id: mapping.package_record(p) for p in session.scalars(select(PackageRow))}
    return InstantiatedView(instances, active, packages)


class StampedCache(Generic[T]):
    """A list rebuilt only when the store's change stamp moved (always, without a stamp)."""

    def __init__(self, stamp: Callable[[], int] | None) -> None:
        self._stamp = stamp
        self._seen: tuple[int, list[T]] | None = None

    def get(self, build: Callable[[], list[T]]) -> list[T]:
        stamp = self._stamp() if self._stamp is not None else None
        if stamp is not None and self._seen is not None and self._seen[0] == stamp:
            return list(self._seen[1])
        out = build()
        if stamp is not None:
            self._seen = (stamp, out)
        return list(out)
