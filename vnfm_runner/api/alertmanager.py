"""The Alertmanager webhook: ``POST /vnfm/v1/alertmanager`` raises and clears alarms.

Alertmanager (the embedded one of vnfm_runner/assurance/stack.py, or the
operator's) posts its webhook notifications here with ``send_resolved``,
presenting the stack's bearer token (``<home>/monitoring/alertmanager/webhook.token``,
0600; :func:`ensure_token` makes one). The path is outside the API's own
authentication (an Alertmanager holds no API account); the token is checked here,
in constant time, and nothing is done without it.

Each alert is one fault: its ``fingerprint`` (the hash of its labels, stable
while it fires and after a restart of either side) is the alarm's key, so a
re-sent alert updates its alarm and never duplicates it; ``resolved`` clears
it once. Labels say what it is about: ``vnf_instance_id`` (required: an alert
about no VNF instance the VNFM holds is ignored), ``vnfc_id``, ``severity``
(critical, major, minor, warning; else INDETERMINATE), ``event_type`` (a SOL003
EventType). ``VnfcProbeFailed`` is the VNFM's own probe result coming back
through Prometheus: when the VNFC already has an open alarm (the watcher saw
the same probe fail first) it adds no second alarm for the same fault.
"""

from __future__ import annotations

import contextlib
import hmac
import os
import secrets
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from vnfm_runner.api import schemas
from vnfm_runner.api.context import respond
from vnfm_runner.api.deps import Ctx
from vnfm_runner.api.problems import ApiProblem
from vnfm_runner.assurance.alarms import KEY_MAX, AlarmService
from vnfm_runner.assurance.fm_ports import UTC_CLOCK
from vnfm_runner.domain import EventType, FaultyResourceType, PerceivedSeverity
from vnfm_runner.store.db import Store

PATH = "/vnfm/v1/alertmanager"
SOURCE = "alertmanager"
PROBE_ALERT = "VnfcProbeFailed"  # rules.probe_rules: the watcher's own probe, via Prometheus
SEVERITIES = {
    "critical": PerceivedSeverity.CRITICAL,
    "major": PerceivedSeverity.MAJOR,
    "error": PerceivedSeverity.MAJOR,
    "minor": PerceivedSeverity.MINOR,
    "warning": PerceivedSeverity.WARNING,
}


def token_file(home: Path) -> Path:
    """Where the embedded stack keeps the webhook's bearer token (stack.py, home =
    ``<VNFM_HOME>/monitoring``)."""
    return Path(home) / "monitoring" / "alertmanager" / "webhook.token"


def ensure_token(home: Path) -> str:
    """The webhook token of a home, made (random, 0600) when there is none yet: what
    ``StackSettings.webhook_token`` is given."""
    path = token_file(home)
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(token)
    return token


def _check_token(request: Request, token: str | None, home: Path) -> None:
    """The server's own token (its closed loop configured the embedded stack with it) or
    the home's (an external Alertmanager set up with ensure_token)."""
    accepted = [token] if token else []
    with contextlib.suppress(OSError):  # no file: only the server's token
        accepted.append(token_file(home).read_text().strip())
    header = request.headers.get("authorization", "")
    scheme, _, given = header.partition(" ")
    ok = scheme.lower() == "bearer" and given.strip() != ""
    # every candidate compared (constant time each): no early answer tells which one
    matches = [hmac.compare_digest(given.strip().encode(), t.encode()) for t in accepted if t]
    if not (ok and any(matches)):
        raise ApiProblem(
            401, "the Alertmanager webhook token is needed", headers={"WWW-Authenticate": "Bearer"}
        )


# -- Alertmanager's webhook payload (version 4) -----------------------------------------------
class Alert(BaseModel):
    model_config = ConfigDict(extra="allow")

    status: Literal["firing", "resolved"]
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    startsAt: datetime | None = None
    endsAt: datetime | None = None
    fingerprint: str = Field(min_length=1, max_length=KEY_MAX - len(SOURCE) - 1)


class WebhookMessage(BaseModel):
    model_config = ConfigDict(extra="allow")

    version: str | None = None
    status: Literal["firing", "resolved"] | None = None
    alerts: list[Alert] = Field(max_length=10000)


def alert_key(alert: Alert) -> str:
    return f"{SOURCE}/{alert.fingerprint}"


def _vnfc_resource(instance: dict[str, Any], vnfc_id: str | None) -> dict[str, Any] | None:
    """The VNFC's VIM resource (its computeResource handle), as a FaultyResourceInfo."""
    if not vnfc_id:
        return None
    for info in (instance.get("instantiatedVnfInfo") or {}).get("vnfcResourceInfo") or []:
        if isinstance(info, dict) and info.get("id") == vnfc_id and info.get("computeResource"):
            return {
                "faultyResource": dict(info["computeResource"]),
                "faultyResourceType": FaultyResourceType.COMPUTE.value,
            }
    return None


def _event_type(label: str | None) -> EventType:
    try:
        return EventType(str(label or "").upper())
    except ValueError:
        return EventType.PROCESSING_ERROR_ALARM


class Receiver:
    """Turns one webhook message into raises and clears (separate from the route so the
    mapping reads on its own)."""

    def __init__(self, store: Store, alarms: AlarmService) -> None:
        self.store = store
        self.alarms = alarms
        self.counts = {"raised": 0, "cleared": 0, "ignored": 0}

    def take(self, message: WebhookMessage) -> dict[str, int]:
        for alert in message.alerts:
            if alert.status == "resolved":
                done = self.alarms.clear(key=alert_key(alert)) is not None
                self.counts["cleared" if done else "ignored"] += 1
            else:
                self.counts["raised" if self._fire(alert) else "ignored"] += 1
        return self.counts

    def _fire(self, alert: Alert) -> bool:
        labels = alert.labels
        instance_id = labels.get("vnf_instance_id")
        row = self.store.instance(instance_id) if instance_id else None
        if instance_id is None or row is None:
            return False  # about no VNF instance of ours: nobody to tell
        vnfc_id = labels.get("vnfc_id") or None
        name = labels.get("alertname") or "alert"
        key = alert_key(alert)
        if name == PROBE_ALERT and vnfc_id and self._already_alarmed(instance_id, vnfc_id, key):
            return False
        summary = alert.annotations.get("summary") or alert.annotations.get("description")
        details = [f"{k}={v}" for k, v in sorted(labels.items())]
        if alert.annotations.get("description"):
            details.append(alert.annotations["description"])
        self.alarms.raise_or_update(
            key=key,
            instance_id=instance_id,
            vnfc_ids=[vnfc_id] if vnfc_id else [],
            severity=SEVERITIES.get(
                labels.get("severity", "").lower(), PerceivedSeverity.INDETERMINATE
            ),
            event_type=_event_type(labels.get("event_type")),
            probable_cause=summary or name,
            fault_type=name,
            root_cause_resource=_vnfc_resource(row.doc, vnfc_id),
            fault_details=details,
            source=SOURCE,
            event_time=alert.startsAt,
        )
        return True

    def _already_alarmed(self, instance_id: str, vnfc_id: str, key: str) -> bool:
        return any(
            a.key != key and vnfc_id in a.vnfcInstanceIds
            for a in self.alarms.open_alarms(instance_id)
        )


router = APIRouter(tags=["alertmanager"], responses=schemas.ERRORS)


async def _authorised(request: Request, ctx: Ctx) -> None:
    loop = getattr(request.app.state, "loop", None)  # the server's closed loop: its token
    _check_token(request, getattr(loop, "webhook_token", None), ctx.settings.home)


async def _alarms(request: Request, ctx: Ctx) -> AlarmService:
    alarms = getattr(request.app.state, "alarms", None)
    return (
        alarms if isinstance(alarms, AlarmService) else AlarmService(ctx.service.store, UTC_CLOCK)
    )


@router.post(
    PATH,
    summary="Alertmanager webhook (bearer token of the monitoring stack)",
    response_model=schemas.AlertmanagerReceipt,
    dependencies=[Depends(_authorised)],
)
def webhook(
    message: WebhookMessage, ctx: Ctx, alarms: Annotated[AlarmService, Depends(_alarms)]
) -> Response:
    return respond(Receiver(ctx.service.store, alarms).take(message))
