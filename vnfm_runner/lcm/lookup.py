"""The records an operation starts from, or the error that says why it cannot."""

from __future__ import annotations

from vnfm_runner.core import VnfModel
from vnfm_runner.domain import InstantiationState, OperationState
from vnfm_runner.domain.records import VnfInstanceRecord, VnfLcmOpOccRecord, VnfPackageRecord
from vnfm_runner.errors import LcmError, NotFound
from vnfm_runner.lcm.ports import Ports
from vnfm_runner.package_models import package_model


def operation(ports: Ports, op_id: str) -> VnfLcmOpOccRecord:
    row = ports.records.operation(op_id)
    if row is None:
        raise NotFound(f"no LCM operation occurrence {op_id}")
    return row


def failed_temp(ports: Ports, op_id: str) -> VnfLcmOpOccRecord:
    """The operation, refused unless it is FAILED_TEMP (retry, rollback and fail need it)."""
    op = operation(ports, op_id)
    if op.state != OperationState.FAILED_TEMP:
        raise LcmError(f"operation {op_id} is {op.state}; only a FAILED_TEMP operation can do that")
    return op


def instance(ports: Ports, instance_id: str) -> VnfInstanceRecord:
    row = ports.records.instance(instance_id)
    if row is None:
        raise NotFound(f"no VNF instance {instance_id}")
    return row


def idle_instance(ports: Ports, instance_id: str) -> VnfInstanceRecord:
    """The instance, refused (409) while one of its operations is not final."""
    row = instance(ports, instance_id)
    busy = ports.records.active_operation(instance_id)
    if busy is not None:
        raise LcmError(
            f"VNF instance {instance_id} is busy: operation {busy.id} "
            f"({busy.operation}) is {busy.state}"
        )
    return row


def instantiated(ports: Ports, instance_id: str) -> VnfInstanceRecord:
    """The idle instance, refused (409) unless it is INSTANTIATED."""
    row = idle_instance(ports, instance_id)
    if row.instantiation_state != InstantiationState.INSTANTIATED:
        raise LcmError(f"VNF instance {instance_id} is NOT_INSTANTIATED")
    return row


def package_for(
    ports: Ports, row: VnfInstanceRecord, package_id: str | None = None
) -> tuple[VnfPackageRecord, VnfModel]:
    """The instance's package (or the one named) and its VNF model."""
    pkg = ports.records.package(package_id or row.package_id)
    if pkg is None:
        raise LcmError(f"the package {row.package_id} of instance {row.id} is gone")
    model = package_model(pkg.path)
    return pkg, model
