"""VNF package management subscriptions (SOL005 9.4.8/9.4.9): ``/vnfpkgm/v1/subscriptions``.

Subscribers hear of packages being onboarded (``VnfPackageOnboardingNotification``)
and of their operational state changing or their deletion
(``VnfPackageChangeNotification``), through the same outbox and delivery
worker as LCM notifications (vnfm_runner/notify/packages.py builds them).
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import Field

from vnfm_runner.api import schemas
from vnfm_runner.api.deps import AUTH, Ctx, Registry
from vnfm_runner.api.models import Sol, SubscriptionAuthentication
from vnfm_runner.api.subscriptions import add_resource_routes, subscribe
from vnfm_runner.notify import packages
from vnfm_runner.store.tables import PKGM_API

BASE = packages.SUBSCRIPTIONS


class VnfProductVersion(Sol):
    vnfSoftwareVersion: str = Field(min_length=1)
    vnfdVersions: list[str] | None = None


class VnfProduct(Sol):
    vnfProductName: str = Field(min_length=1)
    versions: list[VnfProductVersion] | None = None


class VnfProductsFromProvider(Sol):
    vnfProvider: str = Field(min_length=1)
    vnfProducts: list[VnfProduct] | None = None


NotificationType = Literal["VnfPackageOnboardingNotification", "VnfPackageChangeNotification"]


class PkgmNotificationsFilter(Sol):
    """SOL005 9.5.3.2; each attribute a list of values, any of which matches."""

    notificationTypes: list[NotificationType] | None = None
    vnfProductsFromProviders: list[VnfProductsFromProvider] | None = None
    vnfdId: list[str] | None = None
    vnfPkgId: list[str] | None = None
    operationalState: list[Literal["ENABLED", "DISABLED"]] | None = None
    usageState: list[Literal["IN_USE", "NOT_IN_USE"]] | None = None


class PkgmSubscriptionRequest(Sol):
    filter: PkgmNotificationsFilter | None = None
    callbackUri: str = Field(min_length=1)
    authentication: SubscriptionAuthentication | None = None


router = APIRouter(
    prefix=BASE, tags=["vnf package subscriptions"], dependencies=AUTH, responses=schemas.ERRORS
)


@router.post(
    "",
    status_code=201,
    summary="Subscribe to VNF package notifications",
    response_model=schemas.Subscription,
)
def create(body: PkgmSubscriptionRequest, ctx: Ctx, registry: Registry) -> Response:
    return subscribe(ctx, registry, PKGM_API, BASE, body)


add_resource_routes(router, PKGM_API, BASE)
