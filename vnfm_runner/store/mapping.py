"""Rows to domain records and back: the one place that knows both shapes.

A record's fields are its row's columns, by name: a record read takes its row's
values as they are (the row dies with its read session), with states and operation
types made the domain's enums; a row written copies the record's documents, so a
caller that goes on changing its record never changes what a session is about to
commit."""

from __future__ import annotations

import copy
import dataclasses
from enum import StrEnum
from typing import Any, TypeVar

from vnfm_runner.domain.records import VnfInstanceRecord, VnfLcmOpOccRecord, VnfPackageRecord
from vnfm_runner.domain.states import (
    InstantiationState,
    OnboardingState,
    OperationState,
    PackageOperationalState,
)
from vnfm_runner.domain.table import Operation
from vnfm_runner.store.tables import Base, InstanceRow, OperationRow, PackageRow

R = TypeVar("R", VnfPackageRecord, VnfInstanceRecord, VnfLcmOpOccRecord)
T = TypeVar("T", bound=Base)

# The typed columns of the three records (stored as plain strings).
_ENUMS: dict[type[Any], dict[str, type[StrEnum]]] = {
    VnfPackageRecord: {
        "onboarding_state": OnboardingState,
        "operational_state": PackageOperationalState,
    },
    VnfInstanceRecord: {"instantiation_state": InstantiationState},
    VnfLcmOpOccRecord: {"operation": Operation, "state": OperationState},
}


def _record(cls: type[R], row: Base) -> R:
    enums = _ENUMS[cls]
    values = {f.name: getattr(row, f.name) for f in dataclasses.fields(cls)}
    for name, enum in enums.items():
        values[name] = enum(values[name])
    return cls(**values)


def _row(table: type[T], rec: VnfPackageRecord | VnfInstanceRecord | VnfLcmOpOccRecord) -> T:
    values: dict[str, Any] = {}
    for f in dataclasses.fields(rec):
        value = getattr(rec, f.name)
        values[f.name] = str(value) if isinstance(value, StrEnum) else copy.deepcopy(value)
    return table(**values)


def package_record(row: PackageRow) -> VnfPackageRecord:
    return _record(VnfPackageRecord, row)


def package_row(rec: VnfPackageRecord) -> PackageRow:
    return _row(PackageRow, rec)


def instance_record(row: InstanceRow) -> VnfInstanceRecord:
    return _record(VnfInstanceRecord, row)


def instance_row(rec: VnfInstanceRecord) -> InstanceRow:
    return _row(InstanceRow, rec)


def operation_record(row: OperationRow) -> VnfLcmOpOccRecord:
    return _record(VnfLcmOpOccRecord, row)


def operation_row(rec: VnfLcmOpOccRecord) -> OperationRow:
    return _row(OperationRow, rec)
