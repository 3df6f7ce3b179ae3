"""Records for the store tests (and their worker processes); ``mapping.*_row`` turns one
into the row a test adds to a session of its own."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from vnfm_runner.domain import (
    InstantiationState,
    OnboardingState,
    Operation,
    OperationState,
    PackageOperationalState,
)
from vnfm_runner.domain.records import VnfInstanceRecord, VnfLcmOpOccRecord, VnfPackageRecord
from vnfm_runner.store.db import Store, now
from vnfm_runner.store.tables import VimRow


def package(vnfd_id: str = "vnfd-1", **fields: Any) -> VnfPackageRecord:
    values: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "vnfd_id": vnfd_id,
        "path": "/packages/p",
        "summary": {"vnfdId": vnfd_id, "flavours": ["default"]},
        "onboarding_state": OnboardingState.ONBOARDED,
        "operational_state": PackageOperationalState.ENABLED,
        "created_at": now(),
    }
    return VnfPackageRecord(**{**values, **fields})


def instance(package_id: str, **fields: Any) -> VnfInstanceRecord:
    values: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "vnfd_id": "vnfd-1",
        "package_id": package_id,
        "instantiation_state": InstantiationState.NOT_INSTANTIATED,
        "doc": {"id": "x", "instantiationState": "NOT_INSTANTIATED"},
        "desired_state": None,
        "vim": None,
        "created_at": now(),
    }
    return VnfInstanceRecord(**{**values, **fields})


def operation(
    instance_id: str,
    state: str = "STARTING",
    lease_expires_at: datetime | None = None,
    **fields: Any,
) -> VnfLcmOpOccRecord:
    op_id = fields.pop("id", None) or str(uuid.uuid4())
    values: dict[str, Any] = {
        "id": op_id,
        "vnf_instance_id": instance_id,
        "operation": Operation(fields.pop("operation", Operation.INSTANTIATE)),
        "state": OperationState(state),
        "doc": {"id": op_id, "operationState": state},
        "runner_ident": None,
        "artifacts_dir": None,
        "desired_before": None,
        "desired_after": None,
        "engine_id": None,
        "lease_expires_at": lease_expires_at or now() + timedelta(seconds=20),
        "created_at": now(),
    }
    return VnfLcmOpOccRecord(**{**values, **fields})


def vim(name: str = "lab") -> VimRow:
    return VimRow(
        name=name,
        vim_type="openstack",
        connection={"auth_url": "https://keystone:5000/v3", "region": "RegionOne"},
        credentials="sealed:abc",
        created_at=now(),
    )


def instances(store: Store, count: int) -> list[str]:
    """``count`` new instances of one new package; their ids."""
    pkg = package()
    store.add_package(pkg)
    rows = [instance(pkg.id) for _ in range(count)]
    for row in rows:
        store.add_instance(row)
    return [row.id for row in rows]
