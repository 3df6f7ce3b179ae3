"""Response bodies, for /openapi.json: what each route answers, as the API really writes it.

Routes answer with JSON they build (and cache) themselves; these models describe
it. They allow extra attributes (SOL003/SOL005 documents carry vendor ones), and
a list's items are the ``Selected`` variant, every attribute optional, because
``exclude_fields`` may take any of them out. ``tests/api/test_fuzz.py`` checks
every answer against them.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from vnfm_runner.domain import (
    AckState,
    EventType,
    FaultyResourceType,
    InstantiationState,
    OnboardingState,
    OperationState,
    PackageOperationalState,
    PerceivedSeverity,
    UsageState,
)
from vnfm_runner.domain import Operation as OperationType

Obj = dict[str, Any]


class Doc(BaseModel):
    model_config = ConfigDict(extra="allow")


class Link(Doc):
    href: str


class ProblemDetails(Doc):
    """RFC 7807 / SOL013 6.3 (``application/problem+json``)."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    invalidParams: list[Obj] | None = None


class ApiVersion(Doc):
    version: str
    isDeprecated: bool


class ApiVersionInformation(Doc):
    uriPrefix: str
    apiVersions: list[ApiVersion]


class VnfInstanceLinks(Doc):
    self: Link


class VnfInstance(Doc):
    """SOL003 5.5.2.2 (with the attributes a listing leaves out by default)."""

    id: str
    vnfInstanceName: str | None = None
    vnfInstanceDescription: str | None = None
    vnfdId: str
    vnfProvider: str
    vnfProductName: str
    vnfSoftwareVersion: str
    vnfdVersion: str
    vnfPkgId: str | None = None
    instantiationState: InstantiationState
    vimConnectionInfo: dict[str, Obj] | None = None
    instantiatedVnfInfo: Obj | None = None
    metadata: Obj | None = None
    extensions: Obj | None = None
    vnfConfigurableProperties: Obj | None = None
    links: VnfInstanceLinks = Field(alias="_links")


class VnfLcmOpOcc(Doc):
    """SOL003 5.5.2.13."""

    id: str
    operationState: OperationState
    stateEnteredTime: str
    startTime: str
    vnfInstanceId: str
    grantId: str | None = None
    operation: OperationType | str  # SOL003's, or a package-defined operation
    isAutomaticInvocation: bool
    operationParams: Obj | None = None
    isCancelPending: bool
    cancelMode: str | None = None
    error: ProblemDetails | None = None
    resourceChanges: Obj | None = None
    changedInfo: Obj | None = None
    changedExtConnectivity: list[Obj] | None = None
    links: Obj = Field(alias="_links")


class VnfPkgInfo(Doc):
    """SOL005 9.5.2.5."""

    id: str
    vnfdId: str | None = None
    vnfProvider: str | None = None
    vnfProductName: str | None = None
    vnfSoftwareVersion: str | None = None
    vnfdVersion: str | None = None
    checksum: Obj | None = None
    packageSecurityOption: Literal["OPTION_1", "OPTION_2"] | None = None
    softwareImages: list[Obj] | None = None
    additionalArtifacts: list[Obj] | None = None
    onboardingState: OnboardingState
    operationalState: PackageOperationalState
    usageState: UsageState
    onboardingFailureDetails: ProblemDetails | None = None
    userDefinedData: Obj | None = None
    links: Obj = Field(alias="_links")


class PkgInfoModifications(Doc):
    """What a PATCH of a package changed (SOL005 9.5.2.3)."""

    operationalState: PackageOperationalState | None = None
    userDefinedData: Obj | None = None


class Subscription(Doc):
    """SOL003 LccnSubscription (5.5.2.16) / SOL005 PkgmSubscription (9.5.2.9)."""

    id: str
    filter: Obj | None = None
    callbackUri: str
    verbosity: Literal["FULL", "SHORT"] | None = None
    links: Obj = Field(alias="_links")


class FaultyResourceInfo(Doc):
    """SOL003 7.5.3.4."""

    faultyResource: Obj
    faultyResourceType: FaultyResourceType


class Alarm(Doc):
    """SOL003 7.5.2.4."""

    id: str
    managedObjectId: str
    vnfcInstanceIds: list[str] | None = None
    rootCauseFaultyResource: FaultyResourceInfo | None = None
    alarmRaisedTime: str
    alarmChangedTime: str | None = None
    alarmClearedTime: str | None = None
    alarmAcknowledgedTime: str | None = None
    ackState: AckState
    perceivedSeverity: PerceivedSeverity
    eventTime: str
    eventType: EventType
    faultType: str | None = None
    probableCause: str
    isRootCause: bool
    correlatedAlarmIds: list[str] | None = None
    faultDetails: list[str] | None = None
    links: Obj = Field(alias="_links")


class AlarmModifications(Doc):
    """What a PATCH of an alarm changed (SOL003 7.5.2.8)."""

    ackState: AckState


class FmSubscription(Doc):
    """SOL003 7.5.2.3."""

    id: str
    filter: Obj | None = None
    callbackUri: str
    links: Obj = Field(alias="_links")


class AlertmanagerReceipt(Doc):
    """What the Alertmanager webhook did with a notification's alerts."""

    raised: int
    cleared: int
    ignored: int


class TokenResponse(Doc):
    access_token: str
    token_type: Literal["Bearer"]
    expires_in: int


class OAuthError(Doc):
    error: str
    error_description: str | None = None


class PmJob(Doc):
    """SOL003 6.5.2.7."""

    id: str
    objectType: str
    objectInstanceIds: list[str]
    subObjectInstanceIds: list[str] | None = None
    criteria: Obj
    callbackUri: str
    reports: list[Obj] | None = None
    links: Obj = Field(alias="_links")


class PerformanceReport(Doc):
    """SOL003 6.5.2.10."""

    entries: list[Obj]


class Threshold(Doc):
    """SOL003 6.5.2.9."""

    id: str
    objectType: str
    objectInstanceId: str
    subObjectInstanceIds: list[str] | None = None
    criteria: Obj
    callbackUri: str
    links: Obj = Field(alias="_links")


class PmModifications(Doc):
    """PmJobModifications / ThresholdModifications as answered (no authentication)."""

    callbackUri: str | None = None


def selected(model: type[Doc]) -> type[Doc]:
    """The model as a listing shows it: every attribute optional (attribute selectors
    may take any out), nested documents as plain objects."""
    fields: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            annotation = Obj
        fields[name] = (annotation, Field(default=None, alias=info.alias))
    return create_model(f"{model.__name__}Selected", __base__=Doc, **fields)


VnfInstanceSelected = selected(VnfInstance)
VnfLcmOpOccSelected = selected(VnfLcmOpOcc)
VnfPkgInfoSelected = selected(VnfPkgInfo)
SubscriptionSelected = selected(Subscription)
AlarmSelected = selected(Alarm)
FmSubscriptionSelected = selected(FmSubscription)
PmJobSelected = selected(PmJob)
ThresholdSelected = selected(Threshold)

PROBLEM = {"model": ProblemDetails, "description": "ProblemDetails"}
# Every route may refuse: errors are ProblemDetails (problems.py), whatever the status.
ERRORS: dict[int | str, dict[str, Any]] = {
    status: PROBLEM for status in (400, 401, 403, 404, 405, 406, 409, 413, 415, 422, 500, 503, 507)
}
