"""Request bodies with their SOL003 / SOL005 attribute names.

Top-level attributes are checked (an unknown one is a 400 naming it); nested
SOL003 structures the service reads itself (extVirtualLinks, vimConnectionInfo,
…) are passed through as objects. ``additionalParams``, ``extensions``,
``metadata`` and ``vnfConfigurableProperties`` take anything.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Obj = dict[str, Any]
# Lengths of the strings a record keeps and every listing shows (the store's vnfd_id
# column is 255 wide): a name is a label, not a place to keep data.
ID_MAX, NAME_MAX, DESCRIPTION_MAX = 255, 255, 4096


class Sol(BaseModel):
    model_config = ConfigDict(extra="forbid")

    def body(self) -> dict[str, Any]:
        """The request as the service takes it (only what the client sent)."""
        return self.model_dump(exclude_unset=True, by_alias=True)


class VnfInstanceSubscriptionFilter(Sol):
    """SOL003 4.4.1.5, shared by the LCM, FM and indicator subscription filters."""

    vnfdIds: list[str] | None = None
    vnfProductsFromProviders: list[Obj] | None = None
    vnfInstanceIds: list[str] | None = None
    vnfInstanceNames: list[str] | None = None


class CreateVnfRequest(Sol):
    vnfdId: str = Field(min_length=1, max_length=ID_MAX)
    vnfInstanceName: str | None = Field(default=None, max_length=NAME_MAX)
    vnfInstanceDescription: str | None = Field(default=None, max_length=DESCRIPTION_MAX)
    metadata: Obj | None = None


class InstantiateVnfRequest(Sol):
    flavourId: str = Field(min_length=1)
    instantiationLevelId: str | None = None
    targetScaleLevelInfo: list[Obj] | None = None
    extVirtualLinks: list[Obj] | None = None
    extManagedVirtualLinks: list[Obj] | None = None
    vimConnectionInfo: dict[str, Obj] | None = None
    localizationLanguage: str | None = None
    additionalParams: Obj | None = None
    extensions: Obj | None = None
    vnfConfigurableProperties: Obj | None = None


class ScaleVnfRequest(Sol):
    type: Literal["SCALE_OUT", "SCALE_IN"]
    aspectId: str = Field(min_length=1)
    numberOfSteps: int = Field(default=1, ge=1)
    additionalParams: Obj | None = None


class ScaleVnfToLevelRequest(Sol):
    instantiationLevelId: str | None = None
    scaleInfo: list[Obj] | None = None
    additionalParams: Obj | None = None


class ChangeVnfFlavourRequest(Sol):
    newFlavourId: str = Field(min_length=1)
    instantiationLevelId: str | None = None
    extVirtualLinks: list[Obj] | None = None
    extManagedVirtualLinks: list[Obj] | None = None
    vimConnectionInfo: dict[str, Obj] | None = None
    additionalParams: Obj | None = None
    extensions: Obj | None = None
    vnfConfigurableProperties: Obj | None = None


class TerminateVnfRequest(Sol):
    terminationType: Literal["GRACEFUL", "FORCEFUL"] = "GRACEFUL"
    gracefulTerminationTimeout: int | None = Field(default=None, ge=0)
    additionalParams: Obj | None = None


class HealVnfRequest(Sol):
    vnfcInstanceId: list[str] | None = None
    cause: str | None = None
    additionalParams: Obj | None = None
    healScript: str | None = None


class OperateVnfRequest(Sol):
    vnfcInstanceId: list[str] | None = None
    changeStateTo: Literal["STARTED", "STOPPED"]
    stopType: Literal["GRACEFUL", "FORCEFUL"] | None = None
    gracefulStopTimeout: int | None = Field(default=None, ge=0)
    additionalParams: Obj | None = None


class ChangeExtVnfConnectivityRequest(Sol):
    extVirtualLinks: list[Obj]
    vimConnectionInfo: dict[str, Obj] | None = None
    additionalParams: Obj | None = None


class ChangeCurrentVnfPkgRequest(Sol):
    vnfdId: str = Field(min_length=1, max_length=ID_MAX)
    extVirtualLinks: list[Obj] | None = None
    extManagedVirtualLinks: list[Obj] | None = None
    vimConnectionInfo: dict[str, Obj] | None = None
    additionalParams: Obj | None = None
    extensions: Obj | None = None
    vnfConfigurableProperties: Obj | None = None


class VnfInfoModificationRequest(Sol):
    vnfInstanceName: str | None = Field(default=None, max_length=NAME_MAX)
    vnfInstanceDescription: str | None = Field(default=None, max_length=DESCRIPTION_MAX)
    vnfdId: str | None = Field(default=None, max_length=ID_MAX)
    vnfConfigurableProperties: Obj | None = None
    metadata: Obj | None = None
    extensions: Obj | None = None
    vimConnectionInfo: dict[str, Obj | None] | None = None
    vnfcInfoModifications: list[Obj] | None = None
    vnfcInfoModificationsDeleteIds: list[str] | None = None


class CancelMode(Sol):
    cancelMode: Literal["GRACEFUL", "FORCEFUL"] = "GRACEFUL"


# -- subscriptions (SOL003 5.5.2.15) --------------------------------------------------------
class SubscriptionAuthentication(Sol):
    authType: list[Literal["BASIC", "OAUTH2_CLIENT_CREDENTIALS", "TLS_CERT"]] = Field(min_length=1)
    paramsBasic: Obj | None = None
    paramsOauth2ClientCredentials: Obj | None = None


class LccnSubscriptionRequest(Sol):
    filter: Obj | None = None
    callbackUri: str = Field(min_length=1)
    authentication: SubscriptionAuthentication | None = None
    verbosity: Literal["FULL", "SHORT"] | None = None


# -- VNF packages (SOL005 9.5.2) --------------------------------------------------------------
class CreateVnfPkgInfoRequest(Sol):
    userDefinedData: Obj | None = None


class VnfPkgInfoModifications(Sol):
    operationalState: Literal["ENABLED", "DISABLED"] | None = None
    userDefinedData: Obj | None = None


# -- performance management (SOL003 6.5.2, /vnfpm/v2) -----------------------------------------
# Shapes only: the service (assurance/pm.py) checks what the values mean and names the field.
PmObjectType = Literal["Vnf", "Vnfc", "VnfIntCp", "VnfExtCp"]


class PmJobCriteria(Sol):
    performanceMetric: list[str] | None = None
    performanceMetricGroup: list[str] | None = None
    collectionPeriod: int
    reportingPeriod: int
    reportingBoundary: str | None = None


class CreatePmJobRequest(Sol):
    objectType: PmObjectType
    objectInstanceIds: list[str] = Field(min_length=1)
    subObjectInstanceIds: list[str] | None = None
    criteria: PmJobCriteria
    callbackUri: str = Field(min_length=1)
    authentication: SubscriptionAuthentication | None = None


class PmJobModifications(Sol):
    """Also ThresholdModifications (SOL003 6.5.2.12 / 6.5.2.11): the same two attributes."""

    callbackUri: str | None = Field(default=None, min_length=1)
    authentication: SubscriptionAuthentication | None = None


class SimpleThresholdDetails(Sol):
    thresholdValue: float = Field(allow_inf_nan=False)
    hysteresis: float = Field(ge=0, allow_inf_nan=False)


class ThresholdCriteria(Sol):
    performanceMetric: str
    thresholdType: Literal["SIMPLE"]
    simpleThresholdDetails: SimpleThresholdDetails | None = None


class CreateThresholdRequest(Sol):
    objectType: PmObjectType
    objectInstanceId: str = Field(min_length=1)
    subObjectInstanceIds: list[str] | None = None
    criteria: ThresholdCriteria
    callbackUri: str = Field(min_length=1)
    authentication: SubscriptionAuthentication | None = None
