"""The records the runner's layers pass each other: a VNF package as onboarded, a VNF
instance and an LCM operation occurrence (SOL003 ``VnfInstance`` and ``VnfLcmOpOcc``).

The store maps its rows to these and back (vnfm_runner/store/mapping.py): the LCM
handlers, the services, the CLI and the assurance loops get records, never ORM rows
(only SQL read models keep to the tables: the API's keyset listings, the notification
journal's flush hook). States are the domain's enums, so a misspelt state is a type
error. ``doc`` is the SOL003 document as the API shows it (its schema is
the API's models); the typed fields beside it are what the runner itself decides on.

A handler's record is its working copy: it may change ``doc``/``state`` in memory,
and only a unit of work (``Records.unit_of_work``) writes a change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from vnfm_runner.domain.states import (
    InstantiationState,
    OnboardingState,
    OperationState,
    PackageOperationalState,
)
from vnfm_runner.domain.table import Operation


@dataclass(slots=True)
class VnfPackageRecord:
    """An onboarded VNF package: where its files are and what the VNFD says of it."""

    id: str
    vnfd_id: str
    path: str
    summary: dict[str, Any]  # vnfm_runner.core.package_summary: provider, flavours, ...
    onboarding_state: OnboardingState
    operational_state: PackageOperationalState
    created_at: datetime


@dataclass(slots=True)
class VnfInstanceRecord:
    """A VNF instance: its SOL003 document, the desired state last reconciled to, and
    the VIM it lives on ({name, connection, credentials: a sealed token or None})."""

    id: str
    vnfd_id: str
    package_id: str
    instantiation_state: InstantiationState
    doc: dict[str, Any]
    desired_state: dict[str, Any] | None
    vim: dict[str, Any] | None
    created_at: datetime

    @property
    def instantiated(self) -> bool:
        return self.instantiation_state == InstantiationState.INSTANTIATED


@dataclass(slots=True)
class VnfLcmOpOccRecord:
    """An LCM operation occurrence: its SOL003 document, the playbook run it is at, the
    desired states around it (rollback reconciles to ``desired_before``) and the lease
    of the engine running it."""

    id: str
    vnf_instance_id: str
    operation: Operation
    state: OperationState
    doc: dict[str, Any]
    created_at: datetime
    runner_ident: str | None = None
    artifacts_dir: str | None = None
    desired_before: dict[str, Any] | None = None
    desired_after: dict[str, Any] | None = None
    engine_id: str | None = None
    lease_expires_at: datetime | None = None
