"""LCM notification subscriptions (SOL003 5.4.18/5.4.19) and what the package management
ones (pkgm_subscriptions.py) share with them.

At creation the callback is checked (SOL003 5.4.18.3.1, SOL005 9.4.8.3.1: a
GET on ``callbackUri`` must answer 204), the ``authentication`` is stored
sealed (write-only: it is never returned). The callback and an OAuth token
endpoint must be addresses the outbound policy allows (vnfm_runner/outbound.py,
422 otherwise, nothing stored), and the test GET goes through that policy with
a wall-clock deadline; its error tells the status code at most, never what the
target sent. Records, matching and delivery are
vnfm_runner.notify: the store writes the notifications a change is for in the
change's own transaction, whichever process makes it.
"""

from __future__ import annotations

from typing import Any, Literal

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import Field

from vnfm_runner.api import lists, schemas
from vnfm_runner.api.context import ApiContext, respond
from vnfm_runner.api.deps import AUTH, Ctx, ListingParams, Registry
from vnfm_runner.api.models import LccnSubscriptionRequest, Sol, VnfInstanceSubscriptionFilter
from vnfm_runner.api.problems import ApiProblem
from vnfm_runner.notify.subscriptions import SubscriptionRegistry
from vnfm_runner.outbound import OutboundError, Policy, client
from vnfm_runner.store.tables import LCM_API

__all__ = [
    "BASE",
    "SubscriptionRegistry",
    "add_resource_routes",
    "check_request",
    "router",
    "subscribe",
    "subscription_of",
    "unsubscribe",
]

BASE = "/vnflcm/v2/subscriptions"
CALLBACK_TIMEOUT = 10.0  # seconds of wall-clock time for the test GET
TOKEN_FIELD = "authentication.paramsOauth2ClientCredentials.tokenEndpoint"


# -- the filter, checked when subscribing (SOL003 5.5.3.12, 4.4.1.5) -----------------------------
class LifecycleChangeNotificationsFilter(Sol):
    vnfInstanceSubscriptionFilter: VnfInstanceSubscriptionFilter | None = None
    notificationTypes: (
        list[
            Literal[
                "VnfLcmOperationOccurrenceNotification",
                "VnfIdentifierCreationNotification",
                "VnfIdentifierDeletionNotification",
            ]
        ]
        | None
    ) = None
    operationTypes: list[str] | None = None  # SOL003's, or a package-defined operation
    operationStates: (
        list[
            Literal[
                "STARTING",
                "PROCESSING",
                "COMPLETED",
                "FAILED_TEMP",
                "FAILED",
                "ROLLING_BACK",
                "ROLLED_BACK",
            ]
        ]
        | None
    ) = None


class SubscriptionRequest(LccnSubscriptionRequest):
    """LccnSubscriptionRequest with its filter checked: a filter the journal could not
    evaluate would select nothing, silently."""

    filter: LifecycleChangeNotificationsFilter | None = Field(default=None)  # type: ignore[assignment]


def _check_address(policy: Policy, uri: str, name: str) -> None:
    try:
        policy.check_uri(uri)
    except OutboundError as exc:
        raise ApiProblem(exc.status, f"{name}: {exc}") from None


def _check_callback(policy: Policy, uri: str, auth: dict[str, Any] | None) -> None:
    """GET the callback URI; it must answer 204 No Content, else 422."""
    basic = None
    if auth and "BASIC" in (auth.get("authType") or []):
        params = auth.get("paramsBasic") or {}
        basic = (str(params.get("userName", "")), str(params.get("password", "")))
    try:
        with client(policy, timeout=CALLBACK_TIMEOUT) as http:
            status = http.get(uri, auth=basic).status_code
    except OutboundError as exc:  # the name now resolves to a refused address
        raise ApiProblem(exc.status, f"callbackUri: {exc}") from None
    except httpx.HTTPError as exc:
        raise ApiProblem(
            422, f"callbackUri did not answer the test GET ({type(exc).__name__})"
        ) from None
    if status != 204:
        raise ApiProblem(422, f"callbackUri answered the test GET with {status}, not 204")


def check_request(ctx: ApiContext, request: dict[str, Any]) -> None:
    """What a subscription request needs beyond its schema (both APIs)."""
    auth = request.get("authentication")
    if auth and "BASIC" in auth.get("authType", []) and not auth.get("paramsBasic"):
        raise ApiProblem(400, "authentication.paramsBasic: needed with authType BASIC")
    oauth = "OAUTH2_CLIENT_CREDENTIALS"
    if auth and oauth in auth.get("authType", []) and not auth.get("paramsOauth2ClientCredentials"):
        raise ApiProblem(
            400, f"authentication.paramsOauth2ClientCredentials: needed with authType {oauth}"
        )
    policy = Policy.from_settings(ctx.settings)
    uri = str(request["callbackUri"])
    _check_address(policy, uri, "callbackUri")
    params = (auth or {}).get("paramsOauth2ClientCredentials")
    if auth and oauth in auth.get("authType", []) and isinstance(params, dict):
        _check_address(policy, str(params.get("tokenEndpoint") or ""), TOKEN_FIELD)
    if ctx.settings.api_verify_callback:
        _check_callback(policy, uri, auth)


def subscribe(
    ctx: ApiContext,
    registry: SubscriptionRegistry,
    kind: str,
    base: str,
    body: Sol,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    """201 with a new subscription of ``kind`` under ``base``, its request checked."""
    request = body.body()
    check_request(ctx, request)
    doc = registry.add(kind, base, request, **extra)
    return respond(doc, 201, {**(headers or {}), "Location": f"{base}/{doc['id']}"})


def subscription_of(registry: SubscriptionRegistry, sub_id: str, kind: str) -> dict[str, Any]:
    doc = registry.get(sub_id, kind)
    if doc is None:
        raise ApiProblem(404, f"no subscription {sub_id}")
    return doc


def unsubscribe(registry: SubscriptionRegistry, sub_id: str, kind: str) -> None:
    if not registry.remove(sub_id, kind):
        raise ApiProblem(404, f"no subscription {sub_id}")


def add_resource_routes(api: APIRouter, kind: str, base: str) -> None:
    """GET (list, with filter and paging), GET one and DELETE of the subscriptions of ``kind``."""

    @api.get(
        "",
        summary="List subscriptions",
        response_model=list[schemas.SubscriptionSelected],  # type: ignore[valid-type]
    )
    def list_subs(
        ctx: Ctx, registry: Registry, request: Request, listing: ListingParams
    ) -> Response:
        docs, headers = lists.memory_page(ctx, request, listing, registry.all(kind), base)
        return respond(docs, 200, headers)

    @api.get("/{sub_id}", summary="Read a subscription", response_model=schemas.Subscription)
    def show(sub_id: str, registry: Registry) -> Response:
        return respond(subscription_of(registry, sub_id, kind))

    @api.delete("/{sub_id}", status_code=204, summary="Unsubscribe", response_class=Response)
    def delete(sub_id: str, registry: Registry) -> Response:
        unsubscribe(registry, sub_id, kind)
        return Response(status_code=204)


router = APIRouter(prefix=BASE, tags=["subscriptions"], dependencies=AUTH, responses=schemas.ERRORS)


@router.post(
    "",
    status_code=201,
    summary="Subscribe to LCM notifications",
    response_model=schemas.Subscription,
)
def create(body: SubscriptionRequest, ctx: Ctx, registry: Registry) -> Response:
    return subscribe(ctx, registry, LCM_API, BASE, body, verbosity=body.verbosity or "FULL")


add_resource_routes(router, LCM_API, BASE)
