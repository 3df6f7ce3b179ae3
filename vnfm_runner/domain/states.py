"""States of the records, as SOL003 and SOL005 spell them."""

from __future__ import annotations

from enum import StrEnum


class OperationState(StrEnum):
    """SOL003 ``LcmOperationStateType``."""

    STARTING = "STARTING"
    PROCESSING = "PROCESSING"
    COMPLETED = "COMPLETED"
    FAILED_TEMP = "FAILED_TEMP"
    FAILED = "FAILED"
    ROLLING_BACK = "ROLLING_BACK"
    ROLLED_BACK = "ROLLED_BACK"

    @property
    def final(self) -> bool:
        return self in FINAL_STATES

    @property
    def running(self) -> bool:
        """An engine holds (or will hold) the operation: it has a lease."""
        return self in (
            OperationState.STARTING,
            OperationState.PROCESSING,
            OperationState.ROLLING_BACK,
        )


FINAL_STATES = frozenset(
    {OperationState.COMPLETED, OperationState.FAILED, OperationState.ROLLED_BACK}
)


class InstantiationState(StrEnum):
    NOT_INSTANTIATED = "NOT_INSTANTIATED"
    INSTANTIATED = "INSTANTIATED"


class OperationalState(StrEnum):
    """SOL003 ``VnfOperationalStateType`` (and a package's operational state, SOL005)."""

    STARTED = "STARTED"
    STOPPED = "STOPPED"


class PackageOperationalState(StrEnum):
    """SOL005 ``PackageOperationalStateType``."""

    ENABLED = "ENABLED"
    DISABLED = "DISABLED"


class CancelMode(StrEnum):
    GRACEFUL = "GRACEFUL"
    FORCEFUL = "FORCEFUL"


class OnboardingState(StrEnum):
    """SOL005 ``PackageOnboardingStateType``."""

    CREATED = "CREATED"
    UPLOADING = "UPLOADING"
    PROCESSING = "PROCESSING"
    ONBOARDED = "ONBOARDED"
    ERROR = "ERROR"


class UsageState(StrEnum):
    IN_USE = "IN_USE"
    NOT_IN_USE = "NOT_IN_USE"
