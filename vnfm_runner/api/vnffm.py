"""SOL003 VNF fault management v1: ``/vnffm/v1`` — alarms and FM subscriptions.

Thin: the alarm routes read and acknowledge through the AlarmService
(vnfm_runner/assurance/alarms.py); lists are keyset pages of ``fm_alarms`` with
SOL013 filters (api/paging.py). FM subscriptions share the registry, the
callback and address checks and the sealed authentication of LCM ones
(api/subscriptions.py); their notifications go through the same outbox and
delivery worker (vnfm_runner/notify/fm.py). Every answer carries ``Version``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from pydantic import Field

from vnfm_runner.api import lists, paging, schemas, subscriptions
from vnfm_runner.api.context import merge_patch, respond
from vnfm_runner.api.deps import AUTH, Ctx, ListingParams, Registry
from vnfm_runner.api.models import Sol, SubscriptionAuthentication, VnfInstanceSubscriptionFilter
from vnfm_runner.api.problems import ApiProblem
from vnfm_runner.api.versions import add_version_routes
from vnfm_runner.assurance.alarms import AlarmService
from vnfm_runner.assurance.fm_ports import UTC_CLOCK
from vnfm_runner.domain import AckState, EventType, FaultyResourceType, PerceivedSeverity
from vnfm_runner.notify import fm
from vnfm_runner.store.tables import FM_API, AlarmRow

PREFIX = fm.PREFIX
API_VERSION = fm.VERSION
ALARMS = fm.ALARMS
SUBSCRIPTIONS = fm.SUBSCRIPTIONS
HEADERS = {"Version": API_VERSION}


def alarm_doc(stored: dict[str, Any]) -> dict[str, Any]:
    return dict(stored)


ALARM_TABLE = paging.Table(
    AlarmRow,
    {
        "id": AlarmRow.id,
        "managedObjectId": AlarmRow.vnf_instance_id,
        "perceivedSeverity": AlarmRow.perceived_severity,
        "ackState": AlarmRow.ack_state,
    },
    alarm_doc,
)


async def alarm_service(ctx: Ctx) -> AlarmService:
    # stateless over the store: one per request costs nothing
    return AlarmService(ctx.service.store, UTC_CLOCK)


Alarms = Annotated[AlarmService, Depends(alarm_service)]


def answer(doc: Any, status: int = 200, headers: dict[str, str] | None = None) -> JSONResponse:
    return respond(doc, status, {**HEADERS, **(headers or {})})


# -- requests ---------------------------------------------------------------------------------
class AlarmModifications(Sol):
    """SOL003 7.5.2.8: only ``ackState`` may change."""

    ackState: AckState


class FmNotificationsFilter(Sol):
    """SOL003 7.5.3.2; each attribute a list of values, any of which matches."""

    vnfInstanceSubscriptionFilter: VnfInstanceSubscriptionFilter | None = None
    notificationTypes: (
        list[
            Literal[
                "AlarmNotification",
                "AlarmClearedNotification",
                "AlarmListRebuiltNotification",
            ]
        ]
        | None
    ) = None
    faultyResourceTypes: list[FaultyResourceType] | None = None
    perceivedSeverities: list[PerceivedSeverity] | None = None
    eventTypes: list[EventType] | None = None
    probableCauses: list[str] | None = None


class FmSubscriptionRequest(Sol):
    filter: FmNotificationsFilter | None = None
    callbackUri: str = Field(min_length=1)
    authentication: SubscriptionAuthentication | None = None


router = APIRouter(tags=["vnf fault management"], dependencies=AUTH, responses=schemas.ERRORS)


# -- API versions -----------------------------------------------------------------------------
add_version_routes(router, "/vnffm", PREFIX, API_VERSION, HEADERS)


# -- alarms -----------------------------------------------------------------------------------
@router.get(
    ALARMS,
    summary="List alarms (filter, paging)",
    response_model=list[schemas.AlarmSelected],  # type: ignore[valid-type]
)
async def list_alarms(ctx: Ctx, request: Request, listing: ListingParams) -> Response:
    return await lists.table_listing(ctx, request, listing, ALARM_TABLE, ALARMS, headers=HEADERS)


@router.get(f"{ALARMS}/{{alarm_id}}", summary="Read an alarm", response_model=schemas.Alarm)
def show_alarm(alarm_id: str, alarms: Alarms) -> Response:
    alarm = alarms.get(alarm_id)
    if alarm is None:
        raise ApiProblem(404, f"no alarm {alarm_id}")
    return answer(alarm.document())


@router.patch(
    f"{ALARMS}/{{alarm_id}}",
    summary="Acknowledge an alarm, or take the acknowledgement back (merge patch of ackState)",
    response_model=schemas.AlarmModifications,
    dependencies=[Depends(merge_patch)],
)
def patch_alarm(alarm_id: str, body: AlarmModifications, alarms: Alarms) -> Response:
    alarms.set_ack_state(alarm_id, body.ackState)  # 404 unknown, 409 already in that state
    return answer({"ackState": body.ackState.value})


# -- subscriptions ----------------------------------------------------------------------------
@router.post(
    SUBSCRIPTIONS,
    status_code=201,
    summary="Subscribe to alarm notifications",
    response_model=schemas.FmSubscription,
)
def subscribe(body: FmSubscriptionRequest, ctx: Ctx, registry: Registry) -> Response:
    return subscriptions.subscribe(ctx, registry, FM_API, SUBSCRIPTIONS, body, HEADERS)


@router.get(
    SUBSCRIPTIONS,
    summary="List FM subscriptions (filter, paging)",
    response_model=list[schemas.FmSubscriptionSelected],  # type: ignore[valid-type]
)
def list_subscriptions(
    ctx: Ctx, registry: Registry, request: Request, listing: ListingParams
) -> Response:
    docs, headers = lists.memory_page(ctx, request, listing, registry.all(FM_API), SUBSCRIPTIONS)
    return answer(docs, 200, headers)


@router.get(
    f"{SUBSCRIPTIONS}/{{sub_id}}",
    summary="Read an FM subscription",
    response_model=schemas.FmSubscription,
)
def show_subscription(sub_id: str, registry: Registry) -> Response:
    return answer(subscriptions.subscription_of(registry, sub_id, FM_API))


@router.delete(
    f"{SUBSCRIPTIONS}/{{sub_id}}",
    status_code=204,
    summary="Unsubscribe",
    response_class=Response,
)
def unsubscribe(sub_id: str, registry: Registry) -> Response:
    subscriptions.unsubscribe(registry, sub_id, FM_API)
    return Response(status_code=204, headers=HEADERS)
