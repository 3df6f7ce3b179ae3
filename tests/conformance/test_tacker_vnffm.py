"""python-tackerclient's ``openstack vnffm alarm list|show|update`` and ``openstack vnffm
sub create|list|show|delete`` against ``vnfm serve``, unchanged, with a real HTTP
subscriber: an alarm raised on the server's store (as the watcher or the
Alertmanager webhook would) is listed, shown and acknowledged through the client,
and its AlarmNotification reaches a subscription made through the client, with the
client's Basic callback authentication; nothing once the subscription is deleted.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.api.server import WEBFARM, Server, opened_store, running
from tests.conformance.test_tackerclient import OPENSTACK, osc, osc_json, upload
from tests.notify.subscriber import Subscriber
from vnfm_runner.assurance.alarms import AlarmService
from vnfm_runner.bootstrap import SystemClock
from vnfm_runner.domain import EventType, PerceivedSeverity
from vnfm_runner.store.db import Store

pytestmark = pytest.mark.skipif(
    not OPENSTACK.exists(), reason="python-openstackclient / python-tackerclient are not installed"
)

CALLBACK_USER = "fm-callback"
CALLBACK_SECRET = "Fm-Callback-Secr3t-tacker-4e1a"
SETTINGS = {
    "notify_poll_interval": "0.2",
    "notify_retry_min": "0.2",
    "notify_retry_max": "1",
    "watch": "false",  # only this test raises alarms
    "monitoring": "false",
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running(tmp_path_factory.mktemp("vnfm-tacker-vnffm"), **SETTINGS) as srv:
        yield srv


@pytest.fixture(scope="module")
def store(server: Server) -> Iterator[Store]:
    with opened_store(server) as s:
        yield s


def raise_alarm(store: Store, iid: str, key: str, vnfc: str) -> Any:
    return AlarmService(store, SystemClock()).raise_or_update(
        key=key,
        instance_id=iid,
        vnfc_ids=[vnfc],
        severity=PerceivedSeverity.MAJOR,
        event_type=EventType.PROCESSING_ERROR_ALARM,
        probable_cause=f"{vnfc}: health probe web_health failed",
        fault_type="VNFC_UNHEALTHY",
        root_cause_resource={
            "faultyResource": {
                "resourceId": f"vnfm-{iid}-{vnfc}",
                "vimLevelResourceType": "linux_netns",
            },
            "faultyResourceType": "COMPUTE",
        },
        fault_details=["GET /health: connection refused"],
        source="conformance",
    )


def test_vnffm_alarm_and_subscription_commands(
    server: Server, store: Store, subscriber: Subscriber, tmp_path: Path
) -> None:
    pkg_id = upload(server, WEBFARM, tmp_path)
    vnfd_id = osc_json(server, "vnf", "package", "show", pkg_id)["VNFD ID"]
    iid = str(osc_json(server, "vnflcm", "create", vnfd_id, v2=True)["ID"])
    first = raise_alarm(store, iid, "conformance/web-0", "web-0")

    # -- alarms ---------------------------------------------------------------------------
    listed = osc_json(server, "vnffm", "alarm", "list", v2=True)
    assert {
        "ID": first.id,
        "Managed Object Id": iid,
        "Ack State": "UNACKNOWLEDGED",
        "Event Type": "PROCESSING_ERROR_ALARM",
        "Perceived Severity": "MAJOR",
        "Probable Cause": "web-0: health probe web_health failed",
    } in listed
    flt = f"(eq,managedObjectId,{iid});(eq,perceivedSeverity,MAJOR)"
    only = osc_json(server, "vnffm", "alarm", "list", "--filter", flt, v2=True)
    assert [a["ID"] for a in only] == [first.id]
    none = osc_json(
        server, "vnffm", "alarm", "list", "--filter", "(eq,perceivedSeverity,MINOR)", v2=True
    )
    assert none == []

    shown = osc_json(server, "vnffm", "alarm", "show", first.id, v2=True)
    doc = first.document()
    assert shown["ID"] == first.id and shown["Managed Object Id"] == iid
    assert shown["Vnfc Instance Ids"] == ["web-0"]
    assert shown["Root Cause Faulty Resource"] == doc["rootCauseFaultyResource"]
    assert shown["Alarm Raised Time"] == doc["alarmRaisedTime"]
    assert shown["Event Time"] == doc["eventTime"]
    assert shown["Fault Type"] == "VNFC_UNHEALTHY" and shown["Is Root Cause"] is True
    assert shown["Fault Details"] == doc["faultDetails"]
    assert shown["Links"]["self"]["href"].endswith(f"/vnffm/v1/alarms/{first.id}")
    missing = osc(server, "vnffm", "alarm", "show", "no-such-alarm", check=False, v2=True)
    assert missing.returncode != 0 and "no alarm no-such-alarm" in missing.stderr

    updated = osc_json(
        server, "vnffm", "alarm", "update", first.id, "--ack-state", "ACKNOWLEDGED", v2=True
    )
    assert updated == {"Ack State": "ACKNOWLEDGED"}
    assert (
        osc_json(server, "vnffm", "alarm", "show", first.id, v2=True)["Ack State"] == "ACKNOWLEDGED"
    )
    twice = osc(
        server,
        "vnffm",
        "alarm",
        "update",
        first.id,
        "--ack-state",
        "ACKNOWLEDGED",
        check=False,
        v2=True,
    )
    assert twice.returncode != 0 and "already ACKNOWLEDGED" in twice.stderr
    back = osc_json(
        server, "vnffm", "alarm", "update", first.id, "--ack-state", "UNACKNOWLEDGED", v2=True
    )
    assert back == {"Ack State": "UNACKNOWLEDGED"}

    # -- subscriptions --------------------------------------------------------------------
    request = {
        "filter": {
            "vnfInstanceSubscriptionFilter": {"vnfInstanceIds": [iid]},
            "notificationTypes": ["AlarmNotification", "AlarmClearedNotification"],
            "perceivedSeverities": ["MAJOR", "CRITICAL"],
        },
        "callbackUri": subscriber.url,
        "authentication": {
            "authType": ["BASIC"],
            "paramsBasic": {"userName": CALLBACK_USER, "password": CALLBACK_SECRET},
        },
    }
    req_file = tmp_path / "fm-subscription.json"
    req_file.write_text(json.dumps(request))
    created_out = osc(server, "vnffm", "sub", "create", str(req_file), "-f", "json", v2=True)
    created = json.loads(created_out.stdout)
    sub_id = str(created["ID"])
    assert created["Callback Uri"] == subscriber.url and created["Filter"] == request["filter"]
    assert CALLBACK_SECRET not in created_out.stdout + created_out.stderr
    assert {"ID": sub_id, "Callback Uri": subscriber.url} in osc_json(
        server, "vnffm", "sub", "list", v2=True
    )
    only_sub = osc_json(server, "vnffm", "sub", "list", "--filter", f"(eq,id,{sub_id})", v2=True)
    assert only_sub == [{"ID": sub_id, "Callback Uri": subscriber.url}]
    shown_sub = osc_json(server, "vnffm", "sub", "show", sub_id, v2=True)
    assert shown_sub["ID"] == sub_id and shown_sub["Filter"] == request["filter"]
    assert shown_sub["Links"]["self"]["href"].endswith(f"/vnffm/v1/subscriptions/{sub_id}")
    with server.client(headers={"Version": "1.3.0"}) as c:
        raw = c.get(f"/vnffm/v1/subscriptions/{sub_id}").text
    assert "authentication" not in raw and CALLBACK_SECRET not in raw

    second = raise_alarm(store, iid, "conformance/web-1", "web-1")
    AlarmService(store, SystemClock()).clear(key="conformance/web-1")
    got = _wait(subscriber, 2)  # FM notifications name no vnfInstanceId at the top
    assert [n["notificationType"] for n in got] == [
        "AlarmNotification",
        "AlarmClearedNotification",
    ]
    assert got[0]["alarm"]["id"] == second.id == got[1]["alarmId"]
    assert all(n["subscriptionId"] == sub_id for n in got)
    basic = base64.b64encode(f"{CALLBACK_USER}:{CALLBACK_SECRET}".encode()).decode()
    assert {h.get("authorization") for h in subscriber.headers} == {f"Basic {basic}"}
    assert {h.get("version") for h in subscriber.headers} == {"1.3.0"}  # vnffm v1

    out = osc(server, "vnffm", "sub", "delete", sub_id, v2=True).stdout
    assert f"VNF FM subscription '{sub_id}' deleted successfully" in out
    gone = osc(server, "vnffm", "sub", "show", sub_id, check=False, v2=True)
    assert gone.returncode != 0 and f"no subscription {sub_id}" in gone.stderr
    raise_alarm(store, iid, "conformance/web-2", "web-2")
    time.sleep(1.5)
    assert len(subscriber.received) == 2  # deleted: nothing more


def _wait(subscriber: Subscriber, count: int, timeout: float = 30) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and len(subscriber.received) < count:
        time.sleep(0.05)
    with subscriber.lock:
        return list(subscriber.received)
