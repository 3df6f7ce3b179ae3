# Copyright: vnfm-toolkit developers
# Apache License 2.0 (see LICENSE)
"""The one table of the SOL003 lifecycle operations.

Everything that differs from one operation to the next is written here once:
its role and playbook, the VNFD interface prefix of its hooks, its CLI verb,
its API task path and request model, whether it needs an instantiated VNF,
whether it changes the VIM (grant + reconcile) and how it rolls back. The
planner (decide), the runner, the API, the CLI, the docs and the tests read
this table; ``tests/unit/test_operation_table.py`` proves they agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Operation(StrEnum):
    """SOL003 ``LcmOperationType`` (and the package-defined operations: CUSTOM)."""

    INSTANTIATE = "INSTANTIATE"
    SCALE = "SCALE"
    SCALE_TO_LEVEL = "SCALE_TO_LEVEL"
    CHANGE_FLAVOUR = "CHANGE_FLAVOUR"
    TERMINATE = "TERMINATE"
    HEAL = "HEAL"
    OPERATE = "OPERATE"
    CHANGE_EXT_CONN = "CHANGE_EXT_CONN"
    MODIFY_INFO = "MODIFY_INFO"
    CHANGE_VNFPKG = "CHANGE_VNFPKG"
    CUSTOM = "CUSTOM"  # a vendor interface of the VNFD; not a SOL003 type


class Rollback(StrEnum):
    """How a FAILED_TEMP occurrence of the operation is rolled back."""

    EMPTY = "empty"  # reconcile to nothing (a failed instantiation)
    BEFORE = "before"  # reconcile to the desired state saved before the operation
    PACKAGE = "package"  # a rolling change back to the old package
    RECORD = "record"  # nothing was applied: only the record moves on


@dataclass(frozen=True)
class OperationSpec:
    operation: Operation
    role: str  # roles/<role>; playbooks/runner/<playbook> and playbooks/<playbook>
    hook_prefix: str  # VNFD Vnflcm interface: <prefix>_start, <prefix>_end, <prefix>_rollback
    cli: str  # `vnfm <cli> ...`
    api_task: str  # POST /vnflcm/v2/vnf_instances/{id}/<api_task>; "" for PATCH (modify)
    request_model: str  # the SOL003 request data type
    needs_instantiated: bool
    changes_vim: bool  # asks a grant and reconciles the VIM
    rollback: Rollback
    summary: str

    @property
    def playbook(self) -> str:
        return self.role + ".yml"

    def hooks(self, *phases: str) -> list[str]:
        """Hook names of the given phases (``start``, ``end``, ``rollback``)."""
        return [f"{self.hook_prefix}_{phase}" for phase in phases]


def _spec(
    op: Operation,
    role: str,
    prefix: str,
    cli: str,
    api_task: str,
    model: str,
    instantiated: bool,
    changes_vim: bool,
    rollback: Rollback,
    summary: str,
) -> OperationSpec:
    return OperationSpec(
        op, role, prefix, cli, api_task, model, instantiated, changes_vim, rollback, summary
    )


_O = Operation
_R = Rollback
OPERATIONS: dict[Operation, OperationSpec] = {
    s.operation: s
    for s in (
        _spec(
            _O.INSTANTIATE,
            "instantiate",
            "instantiate",
            "instantiate",
            "instantiate",
            "InstantiateVnfRequest",
            False,
            True,
            _R.EMPTY,
            "everything, from the InstantiateVnfRequest",
        ),
        _spec(
            _O.SCALE,
            "scale",
            "scale",
            "scale",
            "scale",
            "ScaleVnfRequest",
            True,
            True,
            _R.BEFORE,
            "the scale level of one aspect",
        ),
        _spec(
            _O.SCALE_TO_LEVEL,
            "scale_to_level",
            "scale_to_level",
            "scale-to-level",
            "scale_to_level",
            "ScaleVnfToLevelRequest",
            True,
            True,
            _R.BEFORE,
            "the instantiation level, or the scale level of each aspect",
        ),
        _spec(
            _O.CHANGE_FLAVOUR,
            "change_flavour",
            "change_flavour",
            "change-flavour",
            "change_flavour",
            "ChangeVnfFlavourRequest",
            True,
            True,
            _R.BEFORE,
            "the deployment flavour and its level",
        ),
        _spec(
            _O.TERMINATE,
            "terminate",
            "terminate",
            "terminate",
            "terminate",
            "TerminateVnfRequest",
            True,
            True,
            _R.BEFORE,
            "empty",
        ),
        _spec(
            _O.HEAL,
            "heal",
            "heal",
            "heal",
            "heal",
            "HealVnfRequest",
            True,
            True,
            _R.BEFORE,
            "nothing: the VNFCs to recreate",
        ),
        _spec(
            _O.OPERATE,
            "operate",
            "operate",
            "operate",
            "operate",
            "OperateVnfRequest",
            True,
            True,
            _R.BEFORE,
            "the power state of the VNF or of some VNFCs",
        ),
        _spec(
            _O.CHANGE_EXT_CONN,
            "change_ext_conn",
            "change_external_connectivity",
            "change-ext-conn",
            "change_ext_conn",
            "ChangeExtVnfConnectivityRequest",
            True,
            True,
            _R.BEFORE,
            "the external virtual links",
        ),
        _spec(
            _O.MODIFY_INFO,
            "modify_info",
            "modify_information",
            "modify",
            "",
            "VnfInfoModificationRequest",
            False,
            False,
            _R.RECORD,
            "nothing on the VIM: the record",
        ),
        _spec(
            _O.CHANGE_VNFPKG,
            "change_vnfpkg",
            "change_current_package",
            "change-package",
            "change_vnfpkg",
            "ChangeCurrentVnfPkgRequest",
            True,
            True,
            _R.PACKAGE,
            "the package; VNFCs whose software changed are replaced batch by batch",
        ),
        _spec(
            _O.CUSTOM,
            "custom_operation",
            "",
            "run-operation",
            "",
            "",
            True,
            False,
            _R.RECORD,
            "nothing: the package's own playbook runs on the VNFCs",
        ),
    )
}

# The operations of an instantiated VNF that share the generic decide/reconcile path.
GENERIC = tuple(
    op
    for op in OPERATIONS
    if op not in (Operation.INSTANTIATE, Operation.TERMINATE, Operation.CUSTOM)
)


def spec(operation: str) -> OperationSpec:
    """The table's row of an operation (KeyError naming it when unknown)."""
    try:
        return OPERATIONS[Operation(operation)]
    except ValueError:
        raise KeyError(f"unknown LCM operation {operation!r}") from None
