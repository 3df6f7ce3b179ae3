"""The Alertmanager webhook for real: a real Alertmanager (the embedded stack's, with its
generated configuration: one receiver, send_resolved, the bearer token) posts to a
real ``vnfm serve``; a real HTTP subscriber gets the FM notifications.

An alert about a VNFC raises one alarm (its fingerprint is the fault: re-sent, it
stays one alarm), its resolution clears it once; an alert about no instance of ours
is ignored; the VNFM's own probe alert adds no second alarm to a VNFC that already
has one; a request without the token changes nothing. Alerts are put into
Alertmanager through its own API (``POST /api/v2/alerts``), as Prometheus does.
"""

from __future__ import annotations

import json
import os
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.api.server import WEBFARM, Server, onboard_via_api, running, zip_dir
from tests.assurance.helpers import need
from tests.notify.subscriber import Subscriber
from vnfm_runner.api.alertmanager import PATH, ensure_token
from vnfm_runner.assurance.alarms import AlarmService
from vnfm_runner.assurance.stack import ALERTMANAGER_BIN, MonitoringStack, StackSettings
from vnfm_runner.bootstrap import SystemClock, open_store
from vnfm_runner.domain import EventType, PerceivedSeverity
from vnfm_runner.settings import Settings

ALARMS = "/vnffm/v1/alarms"
FM = {"Version": "1.3.0"}
SETTINGS = {
    "notify_poll_interval": "0.2",
    "notify_retry_min": "0.2",
    "notify_retry_max": "1",
    "watch": "false",  # the webhook alone raises alarms here
    "monitoring": "false",  # this test runs its own stack, pointed at the server
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running(tmp_path_factory.mktemp("vnfm-am-webhook"), **SETTINGS) as srv:
        yield srv


@pytest.fixture(scope="module")
def stack(server: Server) -> Iterator[MonitoringStack]:
    need(os.path.exists(ALERTMANAGER_BIN), "needs prometheus-alertmanager")
    token = ensure_token(server.home)  # what an operator's Alertmanager is given
    settings = StackSettings(
        home=server.home / "monitoring",
        webhook_url=f"{server.url}{PATH}",
        webhook_token=token,
        group_wait_s=0.2,
        group_interval_s=0.5,
        repeat_interval_s=3600,
        scrape_interval_s=1,
        evaluation_interval_s=1,
    )
    with MonitoringStack(settings).start() as s:
        yield s


def push(
    stack: MonitoringStack, labels: dict[str, str], *, resolved: bool = False, **annotations: str
) -> None:
    """An alert into Alertmanager as Prometheus sends it (endsAt in the past: resolved)."""
    now = datetime.now(UTC)
    alert: dict[str, Any] = {
        "labels": labels,
        "annotations": annotations,
        "startsAt": (now - timedelta(seconds=5)).isoformat(),
        "endsAt": (
            now - timedelta(seconds=1) if resolved else now + timedelta(minutes=5)
        ).isoformat(),
    }
    req = urllib.request.Request(
        f"{stack.alertmanager_url}/api/v2/alerts",
        data=json.dumps([alert]).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(req, timeout=5) as resp:
        assert resp.status == 200


def wait(predicate: Any, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("timed out")


def test_alertmanager_raises_and_clears_alarms(
    server: Server, stack: MonitoringStack, subscriber: Subscriber
) -> None:
    with server.client(headers={}) as c:
        vnfd = onboard_via_api(c, zip_dir(WEBFARM))["vnfdId"]
        r = c.post(
            "/vnflcm/v2/vnf_instances",
            json={"vnfdId": vnfd, "vnfInstanceName": "am"},
            headers={"Version": "2.0.0"},
        )
        assert r.status_code == 201
        iid = r.json()["id"]
    with server.client(headers=FM) as c:
        r = c.post("/vnffm/v1/subscriptions", json={"callbackUri": subscriber.url})
        assert r.status_code == 201, r.text

        def open_alarms() -> list[dict[str, Any]]:
            return [a for a in c.get(ALARMS).json() if "alarmClearedTime" not in a]

        labels = {
            "alertname": "VnfcTargetDown",
            "vnf_instance_id": iid,
            "vnfc_id": "web-0",
            "severity": "critical",
            "event_type": "COMMUNICATIONS_ALARM",
        }
        started = time.monotonic()
        push(stack, labels, summary="scrape target of web-0 is down")
        (alarm,) = wait(open_alarms)
        raised_after = time.monotonic() - started
        assert alarm["managedObjectId"] == iid and alarm["vnfcInstanceIds"] == ["web-0"]
        assert alarm["perceivedSeverity"] == "CRITICAL"
        assert alarm["eventType"] == "COMMUNICATIONS_ALARM"
        assert alarm["faultType"] == "VnfcTargetDown"
        assert alarm["probableCause"] == "scrape target of web-0 is down"
        assert "source: alertmanager" in alarm["faultDetails"]

        push(stack, labels, summary="scrape target of web-0 is down")  # re-sent: one alarm
        push(stack, {**labels, "vnf_instance_id": "not-an-instance-of-ours"})
        time.sleep(2.0)
        assert [a["id"] for a in open_alarms()] == [alarm["id"]]
        assert len(c.get(ALARMS).json()) == 1

        # the VNFM's own probe result coming back through Prometheus: the VNFC has an alarm
        push(stack, {**labels, "alertname": "VnfcProbeFailed", "severity": "major"})
        time.sleep(2.0)
        assert [a["id"] for a in open_alarms()] == [alarm["id"]]

        started = time.monotonic()
        push(stack, labels, resolved=True)
        wait(lambda: not open_alarms())
        cleared_after = time.monotonic() - started
        cleared = c.get(f"{ALARMS}/{alarm['id']}").json()
        assert cleared["alarmClearedTime"] and cleared["perceivedSeverity"] == "CLEARED"

    got = wait(lambda: subscriber.received if len(subscriber.received) >= 2 else None)
    time.sleep(1.0)
    assert [n["notificationType"] for n in subscriber.received] == [
        "AlarmNotification",
        "AlarmClearedNotification",
    ]
    assert got[0]["alarm"]["id"] == alarm["id"] == got[1]["alarmId"]
    print(
        f"\nAlertmanager -> alarm {raised_after:.2f} s, resolved -> cleared {cleared_after:.2f} s"
    )


def test_the_webhook_needs_the_token(server: Server, stack: MonitoringStack) -> None:
    body = {
        "version": "4",
        "status": "firing",
        "alerts": [
            {
                "status": "firing",
                "labels": {"alertname": "X", "vnf_instance_id": "i"},
                "fingerprint": "abc",
            }
        ],
    }
    url = f"{server.url}{PATH}"
    assert httpx.post(url, json=body).status_code == 401
    assert httpx.post(url, json=body, headers={"Authorization": "Bearer wrong"}).status_code == 401
    basic = server.client(headers={})  # the API's own credentials are not the webhook's
    assert basic.post(PATH, json=body).status_code == 401
    token = ensure_token(server.home)
    ok = httpx.post(url, json=body, headers={"Authorization": f"Bearer {token}"})
    assert ok.status_code == 200 and ok.json() == {"raised": 0, "cleared": 0, "ignored": 1}
    bad = httpx.post(url, json={"alerts": "no"}, headers={"Authorization": f"Bearer {token}"})
    assert bad.status_code == 400


def test_probe_alert_without_an_alarm_raises_one(server: Server, stack: MonitoringStack) -> None:
    """The webhook's own mapping, on the server's store: VnfcProbeFailed on a VNFC with no
    alarm raises one (Prometheus saw it first), with the instance's VNFC resource."""
    store = open_store(Settings(home=server.home).db_url)
    try:
        with server.client(headers=FM) as c:
            iids = [a["managedObjectId"] for a in c.get(ALARMS).json()]
        iid = iids[0]
        token = ensure_token(server.home)
        body = {
            "alerts": [
                {
                    "status": "firing",
                    "labels": {
                        "alertname": "VnfcProbeFailed",
                        "vnf_instance_id": iid,
                        "vnfc_id": "web-1",
                    },
                    "annotations": {"summary": "web-1 fails its http probe"},
                    "fingerprint": "f00d",
                }
            ]
        }
        r = httpx.post(
            f"{server.url}{PATH}", json=body, headers={"Authorization": f"Bearer {token}"}
        )
        assert r.json() == {"raised": 1, "cleared": 0, "ignored": 0}
        svc = AlarmService(store, SystemClock())
        (alarm,) = [a for a in svc.open_alarms(iid) if a.key == "alertmanager/f00d"]
        assert alarm.perceivedSeverity == PerceivedSeverity.INDETERMINATE
        assert alarm.eventType == EventType.PROCESSING_ERROR_ALARM
        body["alerts"][0]["status"] = "resolved"
        r = httpx.post(
            f"{server.url}{PATH}", json=body, headers={"Authorization": f"Bearer {token}"}
        )
        assert r.json() == {"raised": 0, "cleared": 1, "ignored": 0}
        r = httpx.post(
            f"{server.url}{PATH}", json=body, headers={"Authorization": f"Bearer {token}"}
        )
        assert r.json() == {"raised": 0, "cleared": 0, "ignored": 1}  # cleared once
    finally:
        store.engine.dispose()
