"""SOL003 VNF fault management (``/vnffm/v1``) end to end: a real ``vnfm serve``, real
HTTP subscribers, alarms raised on the server's store by another process (as the
watcher or the Alertmanager webhook would), delivered through the outbox.

AlarmNotification, AlarmClearedNotification, AlarmListRebuiltNotification after a
restart (and no duplicate alarm), subscription filters, the alarm list's filters and
paging, PATCH ackState, and 4xx for bad input.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.api.server import WEBFARM, Server, onboard_via_api, opened_store, running, zip_dir
from tests.notify.subscriber import Subscriber, new_subscriber
from vnfm_runner.assurance.alarms import AlarmService
from vnfm_runner.bootstrap import SystemClock
from vnfm_runner.domain import EventType, PerceivedSeverity
from vnfm_runner.settings import Settings
from vnfm_runner.store.db import Store

ALARMS = "/vnffm/v1/alarms"
SUBS = "/vnffm/v1/subscriptions"
ALARM = "AlarmNotification"
CLEARED = "AlarmClearedNotification"
REBUILT = "AlarmListRebuiltNotification"
MERGE = {"Content-Type": "application/merge-patch+json"}
CALLBACK_SECRET = "Fm-Callback-Secr3t-9d1e"
SETTINGS = {
    "notify_timeout": "3",
    "notify_retry_min": "0.2",
    "notify_retry_max": "1",
    "notify_poll_interval": "0.2",
    "api_page_size": "2",
    "watch": "false",  # nothing but this test raises alarms
    "monitoring": "false",
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running(tmp_path_factory.mktemp("vnfm-vnffm"), **SETTINGS) as srv:
        yield srv


@pytest.fixture(scope="module")
def store(server: Server) -> Iterator[Store]:
    with opened_store(server) as s:  # another process's view of it
        yield s


@pytest.fixture(scope="module")
def instances(server: Server) -> tuple[str, str]:
    with server.client(headers={}) as c:
        vnfd = onboard_via_api(c, zip_dir(WEBFARM))["vnfdId"]
        ids = []
        for name in ("fm-one", "fm-two"):
            r = c.post(
                "/vnflcm/v2/vnf_instances",
                json={"vnfdId": vnfd, "vnfInstanceName": name},
                headers={"Version": "2.0.0"},
            )
            assert r.status_code == 201, r.text
            ids.append(r.json()["id"])
    return ids[0], ids[1]


def fm_client(server: Server) -> httpx.Client:
    return server.client(headers={"Version": "1.3.0"})


@pytest.fixture
def client(server: Server) -> Iterator[httpx.Client]:
    with fm_client(server) as c:
        yield c


def subscribe(c: httpx.Client, url: str, **request: Any) -> str:
    r = c.post(SUBS, json={"callbackUri": url, **request})
    assert r.status_code == 201, r.text
    assert r.headers["Location"] == f"{SUBS}/{r.json()['id']}"
    assert r.headers["Version"] == "1.3.0"
    return str(r.json()["id"])


def fault(instance_id: str, key: str, **over: Any) -> dict[str, Any]:
    report: dict[str, Any] = {
        "key": key,
        "instance_id": instance_id,
        "vnfc_ids": ["web-0"],
        "severity": PerceivedSeverity.MAJOR,
        "event_type": EventType.PROCESSING_ERROR_ALARM,
        "probable_cause": "health probe failed",
        "fault_type": "VNFC_UNHEALTHY",
        "root_cause_resource": None,
        "fault_details": [],
        "source": "test",
    }
    report.update(over)
    return report


def kinds(sub: Subscriber) -> list[str]:
    with sub.lock:
        return [n["notificationType"] for n in sub.received]


def settle(sub: Subscriber, count: int, timeout: float = 20) -> list[dict[str, Any]]:
    """Exactly ``count`` notifications (waits for them, then a little for extras)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and len(kinds(sub)) < count:
        time.sleep(0.05)
    time.sleep(0.8)
    with sub.lock:
        got = list(sub.received)
    assert len(got) == count, [n["notificationType"] for n in got]
    return got


def test_api_versions(client: httpx.Client) -> None:
    for path, prefix in (
        ("/vnffm/api_versions", "/vnffm"),
        ("/vnffm/v1/api_versions", "/vnffm/v1"),
    ):
        r = client.get(path)
        assert r.status_code == 200 and r.headers["Version"] == "1.3.0"
        assert r.json() == {
            "uriPrefix": prefix,
            "apiVersions": [{"version": "1.3.0", "isDeprecated": False}],
        }


def test_alarm_notifications_with_filters_and_callback_auth(
    server: Server,
    client: httpx.Client,
    store: Store,
    instances: tuple[str, str],
    subscribers: list[Subscriber],
) -> None:
    one, two = instances
    everyone = new_subscriber(subscribers)
    subscribe(
        client,
        everyone.url,
        authentication={
            "authType": ["BASIC"],
            "paramsBasic": {"userName": "nfvo-fm", "password": CALLBACK_SECRET},
        },
    )
    critical = new_subscriber(subscribers)
    subscribe(client, critical.url, filter={"perceivedSeverities": ["CRITICAL"]})
    by_name = new_subscriber(subscribers)
    subscribe(
        client,
        by_name.url,
        filter={
            "vnfInstanceSubscriptionFilter": {"vnfInstanceNames": ["fm-two"]},
            "notificationTypes": [ALARM],
        },
    )
    svc = AlarmService(store, SystemClock())
    raised = svc.raise_or_update(**fault(one, "api/one/web-0"))
    svc.raise_or_update(**fault(one, "api/one/web-0"))  # the same fault again: nothing new
    svc.raise_or_update(**fault(one, "api/one/web-0", severity=PerceivedSeverity.CRITICAL))
    svc.clear(key=raised.key)
    svc.clear(key=raised.key)  # cleared once
    svc.raise_or_update(**fault(two, "api/two/web-1", vnfc_ids=["web-1"]))

    got = settle(everyone, 4)
    # in order per (subscription, instance): instance two's queue runs beside one's
    of_one = [
        n for n in got if n.get("alarmId") or n.get("alarm", {}).get("managedObjectId") == one
    ]
    assert [n["notificationType"] for n in of_one] == [ALARM, ALARM, CLEARED]
    first, changed, cleared = of_one
    (other,) = [n for n in got if n not in of_one]
    assert first["alarm"]["id"] == raised.id == cleared["alarmId"]
    assert first["alarm"]["perceivedSeverity"] == "MAJOR"
    assert changed["alarm"]["perceivedSeverity"] == "CRITICAL"
    assert changed["alarm"]["alarmChangedTime"]
    assert cleared["alarmClearedTime"]
    assert other["alarm"]["managedObjectId"] == two
    for n in got:  # the same callback authentication as LCM subscriptions
        assert n["subscriptionId"] and n["timeStamp"]
        assert n["_links"]["subscription"]["href"].endswith(f"{SUBS}/{n['subscriptionId']}")
    with everyone.lock:
        assert all(h["authorization"].startswith("Basic ") for h in everyone.headers)
        assert {h["version"] for h in everyone.headers} == {"1.3.0"}  # the vnffm API's
    assert [n["notificationType"] for n in settle(critical, 2)] == [ALARM, CLEARED]
    named = settle(by_name, 1)
    assert named[0]["alarm"]["managedObjectId"] == two


def test_alarm_list_filters_paging_and_one(
    client: httpx.Client, store: Store, instances: tuple[str, str]
) -> None:
    one, two = instances
    svc = AlarmService(store, SystemClock())
    for n in range(3):
        svc.raise_or_update(**fault(two, f"list/{n}", vnfc_ids=[f"web-{n}"]))
    r = client.get(ALARMS, params={"filter": f"(eq,managedObjectId,{two})"})
    assert r.status_code == 200 and r.headers["Version"] == "1.3.0"
    page = r.json()
    assert len(page) == 2 and "Link" in r.headers  # VNFM_API_PAGE_SIZE=2
    seen = [a["id"] for a in page]
    while "Link" in r.headers:
        nxt = r.headers["Link"].split(";")[0].strip("<>")
        r = client.get(nxt)
        assert r.status_code == 200
        seen += [a["id"] for a in r.json()]
    mine = [a.id for a in svc.alarms(two)]
    assert seen == mine and len(set(seen)) == len(seen)

    r = client.get(ALARMS, params={"filter": "(eq,perceivedSeverity,CLEARED)"})
    assert r.status_code == 200
    assert r.json() and all(a["alarmClearedTime"] for a in r.json())
    assert all(a["managedObjectId"] == one for a in r.json())
    r = client.get(ALARMS, params={"filter": "(eq,vnfcInstanceIds,web-2)"})
    assert [a["vnfcInstanceIds"] for a in r.json()] == [["web-2"]]

    alarm = svc.open_alarms(two)[0]
    r = client.get(f"{ALARMS}/{alarm.id}")
    assert r.status_code == 200 and r.json() == alarm.document()
    assert client.get(f"{ALARMS}/no-such-alarm").status_code == 404
    assert client.get(ALARMS, params={"filter": "(eq,perceivedSeverity"}).status_code == 400
    bad_marker = client.get(ALARMS, params={"nextpage_opaque_marker": "!!"})
    assert bad_marker.status_code == 400


def test_patch_ack_state(client: httpx.Client, store: Store, instances: tuple[str, str]) -> None:
    alarm = AlarmService(store, SystemClock()).raise_or_update(**fault(instances[0], "ack/1"))
    url = f"{ALARMS}/{alarm.id}"
    r = client.patch(url, json={"ackState": "ACKNOWLEDGED"}, headers=MERGE)
    assert r.status_code == 200 and r.json() == {"ackState": "ACKNOWLEDGED"}
    doc = client.get(url).json()
    assert doc["ackState"] == "ACKNOWLEDGED" and doc["alarmAcknowledgedTime"]
    again = client.patch(url, json={"ackState": "ACKNOWLEDGED"}, headers=MERGE)
    assert again.status_code == 409
    assert again.headers["content-type"].startswith("application/problem+json")
    assert client.patch(url, json={"ackState": "MAYBE"}, headers=MERGE).status_code == 400
    assert client.patch(url, json={"perceivedSeverity": "MINOR"}, headers=MERGE).status_code == 400
    plain = client.patch(
        url, content=b'{"ackState": "UNACKNOWLEDGED"}', headers={"Content-Type": "text/plain"}
    )
    assert plain.status_code == 415
    missing = client.patch(f"{ALARMS}/nope", json={"ackState": "ACKNOWLEDGED"}, headers=MERGE)
    assert missing.status_code == 404
    r = client.patch(url, json={"ackState": "UNACKNOWLEDGED"}, headers=MERGE)
    assert r.status_code == 200 and "alarmAcknowledgedTime" not in client.get(url).json()


def test_subscription_resources_and_bad_requests(
    client: httpx.Client, subscribers: list[Subscriber]
) -> None:
    sub = new_subscriber(subscribers)
    sub_id = subscribe(client, sub.url, filter={"eventTypes": ["QOS_ALARM"]})
    doc = client.get(f"{SUBS}/{sub_id}").json()
    assert doc["callbackUri"] == sub.url and doc["filter"] == {"eventTypes": ["QOS_ALARM"]}
    assert doc["_links"]["self"]["href"].endswith(f"{SUBS}/{sub_id}")
    listed = client.get(SUBS, params={"filter": f"(eq,id,{sub_id})"}).json()
    assert [s["id"] for s in listed] == [sub_id]
    # not one of the LCM API's, nor the other way round
    assert (
        client.get(f"/vnflcm/v2/subscriptions/{sub_id}", headers={"Version": "2.0.0"}).status_code
        == 404
    )
    for bad in (
        {
            "callbackUri": sub.url,
            "filter": {"notificationTypes": ["VnfLcmOperationOccurrenceNotification"]},
        },
        {"callbackUri": sub.url, "filter": {"perceivedSeverities": ["HUGE"]}},
        {"callbackUri": sub.url, "filter": {"eventTypes": "QOS_ALARM"}},
        {"callbackUri": sub.url, "filter": {"unknown": 1}},
        {"callbackUri": sub.url, "authentication": {"authType": ["BASIC"]}},
        {"filter": {}},
    ):
        r = client.post(SUBS, json=bad)
        assert r.status_code == 400, (bad, r.text)
    down = Subscriber()
    down.refuse()
    assert client.post(SUBS, json={"callbackUri": down.url}).status_code == 422  # test GET failed
    assert client.delete(f"{SUBS}/{sub_id}").status_code == 204
    assert client.get(f"{SUBS}/{sub_id}").status_code == 404
    assert client.delete(f"{SUBS}/{sub_id}").status_code == 404
    assert httpx.get(f"{client.base_url}{ALARMS}").status_code == 401  # no credentials


def test_restart_rebuilds_the_list_without_duplicates(
    server: Server,
    client: httpx.Client,
    store: Store,
    instances: tuple[str, str],
    subscribers: list[Subscriber],
) -> None:
    sub = new_subscriber(subscribers)
    subscribe(client, sub.url)
    svc = AlarmService(store, SystemClock())
    lasting = svc.raise_or_update(**fault(instances[0], "restart/1"))
    settle(sub, 1)
    before = client.get(ALARMS, params={"filter": "(neq,perceivedSeverity,CLEARED)"})
    server.stop()
    server.start()
    got = settle(sub, 2)
    assert got[1]["notificationType"] == REBUILT
    assert got[1]["_links"]["alarms"]["href"].endswith(ALARMS)
    # the fault is still there: its source reports it again, the alarm stays the one
    assert svc.raise_or_update(**fault(instances[0], "restart/1")).id == lasting.id
    with fm_client(server) as c:
        after = c.get(ALARMS, params={"filter": "(neq,perceivedSeverity,CLEARED)"})
    assert after.status_code == 200
    assert [a["id"] for a in after.json()] == [a["id"] for a in before.json()]
    settle(sub, 2)  # nothing more was announced


def test_cli_and_python_api_share_the_alarms(
    server: Server, client: httpx.Client, store: Store, instances: tuple[str, str]
) -> None:
    import json

    from vnfm_runner import AlarmService as Facade

    svc = Facade.open(Settings(home=server.home))
    alarm = svc.raise_or_update(**fault(instances[1], "cli/1", severity=PerceivedSeverity.MINOR))
    listed = json.loads(
        server.cli(
            "alarm", "list", "--instance", instances[1], "--severity", "minor", "--format", "json"
        )
    )
    assert [a["id"] for a in listed] == [alarm.id]
    assert json.loads(server.cli("alarm", "show", alarm.id)) == alarm.document()
    assert server.cli("alarm", "ack", alarm.id).strip() == f"alarm {alarm.id}: ACKNOWLEDGED"
    assert client.get(f"{ALARMS}/{alarm.id}").json()["ackState"] == "ACKNOWLEDGED"
    r = client.patch(f"{ALARMS}/{alarm.id}", json={"ackState": "UNACKNOWLEDGED"}, headers=MERGE)
    assert r.status_code == 200
    assert svc.get(alarm.id) is not None and svc.get(alarm.id).ackState == "UNACKNOWLEDGED"  # type: ignore[union-attr]
    svc.clear(key="cli/1")
    assert json.loads(
        server.cli("alarm", "list", "--instance", instances[1], "--format", "json")
    ) == [a.document() for a in svc.open_alarms(instances[1])]
    everything = json.loads(server.cli("alarm", "list", "--all", "--format", "json"))
    assert alarm.id in {a["id"] for a in everything}


def test_a_wrong_major_version_is_refused(server: Server) -> None:
    with server.client() as c:
        r = c.get("/vnffm/v1/alarms", headers={"Version": "2.0.0"})
        assert r.status_code == 406, r.text
        r = c.get("/vnffm/v1/alarms", headers={"Version": "1.3.0"})
        assert r.status_code == 200, r.text
        assert r.headers["Version"] == "1.3.0"
