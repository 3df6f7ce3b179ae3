"""The typed changes of one transaction: what ``Store.unit_of_work`` yields."""

from __future__ import annotations

import copy
from enum import Enum
from typing import Any

from sqlalchemy.orm import Session

from vnfm_runner.domain.records import VnfPackageRecord
from vnfm_runner.domain.states import InstantiationState, OperationState
from vnfm_runner.store.tables import InstanceRow, OperationRow


class Unset(Enum):
    """A field an update leaves as it is (None is a value: "no desired state")."""

    UNSET = "unset"


UNSET = Unset.UNSET


class UnitOfWork:
    """The typed changes of one transaction (``Store.unit_of_work``); values are copied,
    so a caller's later change of a dict never reaches the record."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def instance(
        self,
        instance_id: str,
        *,
        doc: dict[str, Any] | Unset = UNSET,
        instantiation_state: InstantiationState | Unset = UNSET,
        desired_state: dict[str, Any] | Unset | None = UNSET,
        vim: dict[str, Any] | Unset | None = UNSET,
        package: VnfPackageRecord | Unset = UNSET,
    ) -> None:
        row = self.session.get(InstanceRow, instance_id)
        if row is None:
            raise KeyError(instance_id)
        if not isinstance(doc, Unset):
            row.doc = copy.deepcopy(doc)
        if not isinstance(instantiation_state, Unset):
            row.instantiation_state = str(instantiation_state)
        if not isinstance(desired_state, Unset):
            row.desired_state = copy.deepcopy(desired_state)
        if not isinstance(vim, Unset):
            row.vim = copy.deepcopy(vim)
        if not isinstance(package, Unset):  # the VNF now runs (or will run) this package
            row.package_id = package.id
            row.vnfd_id = package.vnfd_id

    def operation(
        self,
        op_id: str,
        *,
        state: OperationState | Unset = UNSET,
        doc: dict[str, Any] | Unset = UNSET,
        runner_ident: str | Unset | None = UNSET,
        artifacts_dir: str | Unset | None = UNSET,
        desired_after: dict[str, Any] | Unset | None = UNSET,
    ) -> None:
        row = self.session.get(OperationRow, op_id)
        if row is None:
            raise KeyError(op_id)
        if not isinstance(state, Unset):
            row.state = str(state)
        if not isinstance(doc, Unset):
            row.doc = copy.deepcopy(doc)
        if not isinstance(runner_ident, Unset):
            row.runner_ident = runner_ident
        if not isinstance(artifacts_dir, Unset):
            row.artifacts_dir = artifacts_dir
        if not isinstance(desired_after, Unset):
            row.desired_after = copy.deepcopy(desired_after)
