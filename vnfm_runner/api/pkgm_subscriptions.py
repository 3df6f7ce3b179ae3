"""VNF package management subscriptions (SOL005 9.4.8/9.4.9): ``/vnfpkgm/v1/subscriptions``.

Subscribers hear of packages being onboarded (``VnfPackageOnboardingNotification``)
and of their operational state changing or their deletion
(``VnfPackageChangeNotification``), through the same outbox and delivery
worker as LCM notifications (vnfm_runner/notify/packages.py builds them).
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from pydantic import Field

from vnfm_runner.api.context import ApiContext, respond
from vnfm_runner.api.models import Sol, SubscriptionAuthentication
from vnfm_runner.api.subscriptions import add_resource_routes, check_request
from vnfm_runner.notify import packages
from vnfm_runner.notify.subscriptions import SubscriptionRegistry
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


def router(ctx: ApiContext, registry: SubscriptionRegistry, auth_dep: Any) -> APIRouter:
    api = APIRouter(
        prefix=BASE, tags=["vnf package subscriptions"], dependencies=[Depends(auth_dep)]
    )

    @api.post("", status_code=201, summary="Subscribe to VNF package notifications")
    def create(body: PkgmSubscriptionRequest) -> Response:
        request = body.body()
        check_request(ctx, request)
        doc = registry.add(PKGM_API, BASE, request)
        return respond(doc, 201, {"Location": f"{BASE}/{doc['id']}"})

    add_resource_routes(api, ctx, registry, PKGM_API, BASE)
    return api
