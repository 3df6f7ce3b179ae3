"""The runner's typed domain: the vocabulary of SOL003/SOL005 records.

Operation types and their table come from the shared core (the collection's
``module_utils/operations.py``), so the planner and the runner cannot disagree.
"""

from vnfm_runner.domain.fm import AckState, EventType, FaultyResourceType, PerceivedSeverity
from vnfm_runner.domain.states import (
    CancelMode,
    InstantiationState,
    OnboardingState,
    OperationalState,
    OperationState,
    PackageOperationalState,
    UsageState,
)
from vnfm_runner.domain.table import GENERIC, OPERATIONS, Operation, OperationSpec, Rollback, spec

__all__ = [
    "GENERIC",
    "OPERATIONS",
    "AckState",
    "CancelMode",
    "EventType",
    "FaultyResourceType",
    "InstantiationState",
    "OnboardingState",
    "Operation",
    "OperationSpec",
    "OperationState",
    "OperationalState",
    "PackageOperationalState",
    "PerceivedSeverity",
    "Rollback",
    "UsageState",
    "spec",
]
