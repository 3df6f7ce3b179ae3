"""Rows to domain records and back: the one place that knows both shapes.

A record read takes its row's documents as they are (the row dies with its read
session); a row written copies the record's, so a caller that goes on changing its
record never changes what a session is about to commit."""

from __future__ import annotations

import copy

from vnfm_runner.domain.records import VnfInstanceRecord, VnfLcmOpOccRecord, VnfPackageRecord
from vnfm_runner.domain.states import (
    InstantiationState,
    OnboardingState,
    OperationState,
    PackageOperationalState,
)
from vnfm_runner.domain.table import Operation
from vnfm_runner.store.tables import InstanceRow, OperationRow, PackageRow


def package_record(row: PackageRow) -> VnfPackageRecord:
    return VnfPackageRecord(
        id=row.id,
        vnfd_id=row.vnfd_id,
        path=row.path,
        summary=row.summary,
        onboarding_state=OnboardingState(row.onboarding_state),
        operational_state=PackageOperationalState(row.operational_state),
        created_at=row.created_at,
    )


def package_row(rec: VnfPackageRecord) -> PackageRow:
    return PackageRow(
        id=rec.id,
        vnfd_id=rec.vnfd_id,
        path=rec.path,
        summary=copy.deepcopy(rec.summary),
        onboarding_state=str(rec.onboarding_state),
        operational_state=str(rec.operational_state),
        created_at=rec.created_at,
    )


def instance_record(row: InstanceRow) -> VnfInstanceRecord:
    return VnfInstanceRecord(
        id=row.id,
        vnfd_id=row.vnfd_id,
        package_id=row.package_id,
        instantiation_state=InstantiationState(row.instantiation_state),
        doc=row.doc,
        desired_state=row.desired_state,
        vim=row.vim,
        created_at=row.created_at,
    )


def instance_row(rec: VnfInstanceRecord) -> InstanceRow:
    return InstanceRow(
        id=rec.id,
        vnfd_id=rec.vnfd_id,
        package_id=rec.package_id,
        instantiation_state=str(rec.instantiation_state),
        doc=copy.deepcopy(rec.doc),
        desired_state=copy.deepcopy(rec.desired_state),
        vim=copy.deepcopy(rec.vim),
        created_at=rec.created_at,
    )


def operation_record(row: OperationRow) -> VnfLcmOpOccRecord:
    return VnfLcmOpOccRecord(
        id=row.id,
        vnf_instance_id=row.vnf_instance_id,
        operation=Operation(row.operation),
        state=OperationState(row.state),
        doc=row.doc,
        created_at=row.created_at,
        runner_ident=row.runner_ident,
        artifacts_dir=row.artifacts_dir,
        desired_before=row.desired_before,
        desired_after=row.desired_after,
        engine_id=row.engine_id,
        lease_expires_at=row.lease_expires_at,
    )


def operation_row(rec: VnfLcmOpOccRecord) -> OperationRow:
    return OperationRow(
        id=rec.id,
        vnf_instance_id=rec.vnf_instance_id,
        operation=str(rec.operation),
        state=str(rec.state),
        doc=copy.deepcopy(rec.doc),
        runner_ident=rec.runner_ident,
        artifacts_dir=rec.artifacts_dir,
        desired_before=copy.deepcopy(rec.desired_before),
        desired_after=copy.deepcopy(rec.desired_after),
        engine_id=rec.engine_id,
        lease_expires_at=rec.lease_expires_at,
        created_at=rec.created_at,
    )
