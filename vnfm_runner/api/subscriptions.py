"""LCM notification subscriptions (SOL003 5.4.18/5.4.19) and what the package management
ones (pkgm_subscriptions.py) share with them.

At creation the callback is checked (SOL003 5.4.18.3.1, SOL005 9.4.8.3.1: a
GET on ``callbackUri`` must answer 204), the ``authentication`` is stored
sealed (write-only: it is never returned). Records, matching and delivery are
vnfm_runner.notify: the store writes the notifications a change is for in the
change's own transaction, whichever process makes it.
"""

from __future__ import annotations

from typing import Any, Literal

import httpx
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import Field

from vnfm_runner.api import filters, paging
from vnfm_runner.api.context import ApiContext, base_url, respond
from vnfm_runner.api.models import LccnSubscriptionRequest, Obj, Sol
from vnfm_runner.api.problems import ApiProblem
from vnfm_runner.notify.subscriptions import SubscriptionRegistry
from vnfm_runner.store.db import now
from vnfm_runner.store.tables import LCM_API

__all__ = ["BASE", "SubscriptionRegistry", "add_resource_routes", "check_request", "router"]

BASE = "/vnflcm/v2/subscriptions"
CALLBACK_TIMEOUT = 10.0


# -- the filter, checked when subscribing (SOL003 5.5.3.12, 4.4.1.5) -----------------------------
class VnfInstanceSubscriptionFilter(Sol):
    vnfdIds: list[str] | None = None
    vnfProductsFromProviders: list[Obj] | None = None
    vnfInstanceIds: list[str] | None = None
    vnfInstanceNames: list[str] | None = None


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


def _check_callback(uri: str, auth: dict[str, Any] | None) -> None:
    """GET the callback URI; it must answer 204 No Content, else 422."""
    if not uri.startswith(("http://", "https://")):
        raise ApiProblem(400, "callbackUri: must be an http or https URI")
    basic = None
    if auth and "BASIC" in (auth.get("authType") or []):
        params = auth.get("paramsBasic") or {}
        basic = (str(params.get("userName", "")), str(params.get("password", "")))
    try:
        resp = httpx.get(uri, auth=basic, timeout=CALLBACK_TIMEOUT, follow_redirects=False)
    except httpx.HTTPError as exc:
        raise ApiProblem(
            422, f"callbackUri did not answer the test GET ({type(exc).__name__})"
        ) from None
    if resp.status_code != 204:
        raise ApiProblem(422, f"callbackUri answered the test GET with {resp.status_code}, not 204")


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
    if ctx.settings.api_verify_callback:
        _check_callback(str(request["callbackUri"]), auth)
    elif not str(request["callbackUri"]).startswith(("http://", "https://")):
        raise ApiProblem(400, "callbackUri: must be an http or https URI")


def add_resource_routes(
    api: APIRouter, ctx: ApiContext, registry: SubscriptionRegistry, kind: str, base: str
) -> None:
    """GET (list, with filter and paging), GET one and DELETE of the subscriptions of ``kind``."""

    @api.get("", summary="List subscriptions")
    def list_subs(
        request: Request, filter: str | None = None, nextpage_opaque_marker: str | None = None
    ) -> Response:
        terms = filters.parse(filter)
        docs = [d for d in registry.all(kind) if filters.matches(terms, d)]
        size = ctx.settings.api_page_size
        start = 0
        if nextpage_opaque_marker:
            ids = [d["id"] for d in docs]
            _stamp, last_id = paging.decode_marker(nextpage_opaque_marker)
            start = ids.index(last_id) + 1 if last_id in ids else len(ids)
        chunk = docs[start : start + size]
        headers = {}
        if start + size < len(docs):
            marker = paging.encode_marker(now(), chunk[-1]["id"])
            headers["Link"] = paging.next_link(
                base_url(request), base, dict(request.query_params), marker
            )
        return respond(chunk, 200, headers)

    @api.get("/{sub_id}", summary="Read a subscription")
    def show(sub_id: str) -> Response:
        doc = registry.get(sub_id, kind)
        if doc is None:
            raise ApiProblem(404, f"no subscription {sub_id}")
        return respond(doc)

    @api.delete("/{sub_id}", status_code=204, summary="Unsubscribe")
    def delete(sub_id: str) -> Response:
        if not registry.remove(sub_id, kind):
            raise ApiProblem(404, f"no subscription {sub_id}")
        return Response(status_code=204)


def router(ctx: ApiContext, registry: SubscriptionRegistry, auth_dep: Any) -> APIRouter:
    api = APIRouter(prefix=BASE, tags=["subscriptions"], dependencies=[Depends(auth_dep)])

    @api.post("", status_code=201, summary="Subscribe to LCM notifications")
    def create(body: SubscriptionRequest) -> Response:
        request = body.body()
        check_request(ctx, request)
        doc = registry.add(LCM_API, BASE, request, verbosity=request.get("verbosity") or "FULL")
        return respond(doc, 201, {"Location": f"{BASE}/{doc['id']}"})

    add_resource_routes(api, ctx, registry, LCM_API, BASE)
    return api
