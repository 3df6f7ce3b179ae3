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


class Sol(BaseModel):
    model_config = ConfigDict(extra="forbid")

    def body(self) -> dict[str, Any]:
        """The request as the service takes it (only what the client sent)."""
        return self.model_dump(exclude_unset=True, by_alias=True)


class CreateVnfRequest(Sol):
    vnfdId: str = Field(min_length=1)
    vnfInstanceName: str | None = None
    vnfInstanceDescription: str | None = None
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
    vnfdId: str = Field(min_length=1)
    extVirtualLinks: list[Obj] | None = None
    extManagedVirtualLinks: list[Obj] | None = None
    vimConnectionInfo: dict[str, Obj] | None = None
    additionalParams: Obj | None = None
    extensions: Obj | None = None
    vnfConfigurableProperties: Obj | None = None


class VnfInfoModificationRequest(Sol):
    vnfInstanceName: str | None = None
    vnfInstanceDescription: str | None = None
    vnfdId: str | None = None
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
