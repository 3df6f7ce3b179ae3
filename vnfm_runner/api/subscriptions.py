"""LCM notification subscriptions (SOL003 5.4.18/5.4.19): storage and the seam for delivery.

This module keeps subscriptions: it checks the callback at creation (SOL003
5.4.18.3.1: a GET on ``callbackUri`` must answer 204), stores the
``authentication`` sealed (write-only: it is never returned), and answers
who wants a notification. Delivery (outbox, retries) is vnfm_runner.notify,
which uses :class:`SubscriptionRegistry`:

- ``registry.all()`` — every subscription (``LccnSubscription`` documents);
- ``registry.matching(notification, instance)`` — those whose filter selects a
  notification document about a VnfInstance (``VnfLcmOperationOccurrenceNotification``,
  ``VnfIdentifierCreationNotification``, ``VnfIdentifierDeletionNotification``);
- ``registry.authentication(sub_id)`` — the unsealed SubscriptionAuthentication
  to call the callback with (for the sender only; never log it).
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import select

from vnfm_runner.api import filters, paging
from vnfm_runner.api.context import ApiContext, base_url, respond
from vnfm_runner.api.models import LccnSubscriptionRequest
from vnfm_runner.api.problems import ApiProblem
from vnfm_runner.api.tables import SubscriptionRow
from vnfm_runner.notify.documents import selects
from vnfm_runner.secrets import SecretBox
from vnfm_runner.store.db import Store, now

BASE = "/vnflcm/v2/subscriptions"
CALLBACK_TIMEOUT = 10.0


class SubscriptionRegistry:
    """The subscriptions of one store (the seam for notification delivery)."""

    def __init__(self, store: Store, box: SecretBox) -> None:
        self.store = store
        self.box = box

    def add(self, request: dict[str, Any]) -> dict[str, Any]:
        sub_id = str(uuid.uuid4())
        doc: dict[str, Any] = {
            "id": sub_id,
            "filter": request.get("filter") or {},
            "callbackUri": request["callbackUri"],
            "verbosity": request.get("verbosity") or "FULL",
            "_links": {"self": {"href": f"{BASE}/{sub_id}"}},
        }
        auth = request.get("authentication")
        sealed = self.box.seal(auth) if auth else None
        with self.store.session() as s:
            s.add(SubscriptionRow(id=sub_id, doc=doc, authentication=sealed, created_at=now()))
        return doc

    def get(self, sub_id: str) -> dict[str, Any] | None:
        with self.store.session() as s:
            row = s.get(SubscriptionRow, sub_id)
            return dict(row.doc) if row is not None else None

    def remove(self, sub_id: str) -> bool:
        with self.store.session() as s:
            row = s.get(SubscriptionRow, sub_id)
            if row is None:
                return False
            s.delete(row)
            return True

    def all(self) -> list[dict[str, Any]]:
        with self.store.session() as s:
            rows = s.scalars(
                select(SubscriptionRow).order_by(SubscriptionRow.created_at, SubscriptionRow.id)
            )
            return [dict(r.doc) for r in rows]

    def authentication(self, sub_id: str) -> dict[str, Any] | None:
        with self.store.session() as s:
            row = s.get(SubscriptionRow, sub_id)
            token = row.authentication if row is not None else None
        return self.box.open(token) if token else None

    def matching(
        self, notification: dict[str, Any], instance: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """The subscriptions whose filter selects a notification about ``instance``
        (the VnfInstance: names, vnfdId and products are filtered on it)."""
        return [s for s in self.all() if selects(s.get("filter") or {}, notification, instance)]


def _check_callback(uri: str, auth: dict[str, Any] | None) -> None:
    """SOL003: GET the callback URI; it must answer 204 No Content, else 422."""
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


def router(ctx: ApiContext, registry: SubscriptionRegistry, auth_dep: Any) -> APIRouter:
    api = APIRouter(prefix=BASE, tags=["subscriptions"], dependencies=[Depends(auth_dep)])

    @api.post("", status_code=201, summary="Subscribe to LCM notifications")
    def create(body: LccnSubscriptionRequest) -> Response:
        request = body.body()
        auth = request.get("authentication")
        if auth and "BASIC" in auth.get("authType", []) and not auth.get("paramsBasic"):
            raise ApiProblem(400, "authentication.paramsBasic: needed with authType BASIC")
        if ctx.settings.api_verify_callback:
            _check_callback(body.callbackUri, auth)
        doc = registry.add(request)
        return respond(doc, 201, {"Location": f"{BASE}/{doc['id']}"})

    @api.get("", summary="List subscriptions")
    def list_subs(
        request: Request, filter: str | None = None, nextpage_opaque_marker: str | None = None
    ) -> Response:
        terms = filters.parse(filter)
        docs = [d for d in registry.all() if filters.matches(terms, d)]
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
                base_url(request), BASE, dict(request.query_params), marker
            )
        return respond(chunk, 200, headers)

    @api.get("/{sub_id}", summary="Read a subscription")
    def show(sub_id: str) -> Response:
        doc = registry.get(sub_id)
        if doc is None:
            raise ApiProblem(404, f"no subscription {sub_id}")
        return respond(doc)

    @api.delete("/{sub_id}", status_code=204, summary="Unsubscribe")
    def delete(sub_id: str) -> Response:
        if not registry.remove(sub_id):
            raise ApiProblem(404, f"no subscription {sub_id}")
        return Response(status_code=204)

    return api
