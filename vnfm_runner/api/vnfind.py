"""SOL003 VNF indicator v1: ``/vnfind/v1`` — the indicators' current values and their
subscriptions.

Thin: values are what the indicator service stored (vnfm_runner/assurance/indicators.py);
lists are SOL013 pages (filter, attribute selectors, marker) of those documents.
Indicator subscriptions share the registry, the callback and address checks and the
sealed authentication of LCM ones (api/subscriptions.py, ``api = 'vnfind'``); their
notifications go through the same outbox and delivery worker
(vnfm_runner/notify/indicators.py). Every answer carries ``Version``.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import Field

from vnfm_runner.api import lists, schemas, subscriptions
from vnfm_runner.api.context import respond
from vnfm_runner.api.deps import AUTH, Ctx, ListingParams, Registry
from vnfm_runner.api.models import Sol, SubscriptionAuthentication, VnfInstanceSubscriptionFilter
from vnfm_runner.api.problems import ApiProblem
from vnfm_runner.api.versions import add_version_routes
from vnfm_runner.assurance import indicators as service
from vnfm_runner.notify import indicators as notes
from vnfm_runner.store.tables import IND_API

PREFIX = notes.PREFIX
API_VERSION = notes.VERSION
INDICATORS = notes.INDICATORS
SUBSCRIPTIONS = notes.SUBSCRIPTIONS
HEADERS = {"Version": API_VERSION}


def answer(doc: Any, status: int = 200, headers: dict[str, str] | None = None) -> JSONResponse:
    return respond(doc, status, {**HEADERS, **(headers or {})})


# -- requests ---------------------------------------------------------------------------------
class VnfIndicatorNotificationsFilter(Sol):
    """SOL003 8.5.3.2; each attribute a list of values, any of which matches."""

    vnfInstanceSubscriptionFilter: VnfInstanceSubscriptionFilter | None = None
    notificationTypes: (
        list[
            Literal[
                "VnfIndicatorValueChangeNotification",
                "SupportedIndicatorsChangeNotification",
            ]
        ]
        | None
    ) = None
    indicatorIds: list[str] | None = None


class VnfIndicatorSubscriptionRequest(Sol):
    """SOL003 8.5.2.4."""

    filter: VnfIndicatorNotificationsFilter | None = None
    callbackUri: str = Field(min_length=1)
    authentication: SubscriptionAuthentication | None = None


# -- responses --------------------------------------------------------------------------------
class VnfIndicator(schemas.Doc):
    """SOL003 8.5.2.2."""

    id: str
    name: str | None = None
    value: Any
    vnfInstanceId: str
    links: schemas.Obj = Field(alias="_links")


class VnfIndicatorSubscription(schemas.Doc):
    """SOL003 8.5.2.3."""

    id: str
    filter: schemas.Obj | None = None
    callbackUri: str
    links: schemas.Obj = Field(alias="_links")


VnfIndicatorSelected = schemas.selected(VnfIndicator)
VnfIndicatorSubscriptionSelected = schemas.selected(VnfIndicatorSubscription)

router = APIRouter(tags=["vnf indicators"], dependencies=AUTH, responses=schemas.ERRORS)


# -- API versions -----------------------------------------------------------------------------
add_version_routes(router, "/vnfind", PREFIX, API_VERSION, HEADERS)


# -- indicators -------------------------------------------------------------------------------
@router.get(
    INDICATORS,
    summary="List the VNF indicators of every instance (filter, paging)",
    response_model=list[VnfIndicatorSelected],  # type: ignore[valid-type]
)
def list_indicators(ctx: Ctx, request: Request, listing: ListingParams) -> Response:
    docs = service.indicators(ctx.service.store)
    page, headers = lists.memory_page(ctx, request, listing, docs, INDICATORS)
    return answer(page, 200, headers)


@router.get(
    f"{INDICATORS}/{{vnfInstanceId}}",
    summary="List the VNF indicators of one instance (filter, paging)",
    response_model=list[VnfIndicatorSelected],  # type: ignore[valid-type]
)
def instance_indicators(
    vnfInstanceId: str, ctx: Ctx, request: Request, listing: ListingParams
) -> Response:
    if not service.instance_known(ctx.service.store, vnfInstanceId):
        raise ApiProblem(404, f"no VNF instance {vnfInstanceId}")
    docs = service.indicators(ctx.service.store, vnfInstanceId)
    page, headers = lists.memory_page(ctx, request, listing, docs, f"{INDICATORS}/{vnfInstanceId}")
    return answer(page, 200, headers)


@router.get(
    f"{INDICATORS}/{{vnfInstanceId}}/{{indicatorId}}",
    summary="Read one VNF indicator of an instance",
    response_model=VnfIndicator,
)
def show_indicator(vnfInstanceId: str, indicatorId: str, ctx: Ctx) -> Response:
    doc = service.indicator(ctx.service.store, vnfInstanceId, indicatorId)
    if doc is None:
        raise ApiProblem(404, f"no indicator {indicatorId} of VNF instance {vnfInstanceId}")
    return answer(doc)


# -- subscriptions ----------------------------------------------------------------------------
@router.post(
    SUBSCRIPTIONS,
    status_code=201,
    summary="Subscribe to VNF indicator notifications",
    response_model=VnfIndicatorSubscription,
)
def subscribe(body: VnfIndicatorSubscriptionRequest, ctx: Ctx, registry: Registry) -> Response:
    return subscriptions.subscribe(ctx, registry, IND_API, SUBSCRIPTIONS, body, HEADERS)


@router.get(
    SUBSCRIPTIONS,
    summary="List VNF indicator subscriptions (filter, paging)",
    response_model=list[VnfIndicatorSubscriptionSelected],  # type: ignore[valid-type]
)
def list_subscriptions(
    ctx: Ctx, registry: Registry, request: Request, listing: ListingParams
) -> Response:
    docs, headers = lists.memory_page(ctx, request, listing, registry.all(IND_API), SUBSCRIPTIONS)
    return answer(docs, 200, headers)


@router.get(
    f"{SUBSCRIPTIONS}/{{subscriptionId}}",
    summary="Read a VNF indicator subscription",
    response_model=VnfIndicatorSubscription,
)
def show_subscription(subscriptionId: str, registry: Registry) -> Response:
    return answer(subscriptions.subscription_of(registry, subscriptionId, IND_API))


@router.delete(
    f"{SUBSCRIPTIONS}/{{subscriptionId}}",
    status_code=204,
    summary="Unsubscribe",
    response_class=Response,
)
def unsubscribe(subscriptionId: str, registry: Registry) -> Response:
    subscriptions.unsubscribe(registry, subscriptionId, IND_API)
    return Response(status_code=204, headers=HEADERS)
