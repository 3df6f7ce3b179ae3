"""Notifications end to end: a real ``vnfm serve``, real HTTP subscribers, and changes
made by the server or by the ``vnfm`` CLI on the same store.

LCM operations that need no root: instance creation and deletion, MODIFY_INFO of a
NOT_INSTANTIATED instance (STARTING → PROCESSING → COMPLETED, no playbook) and
an instantiation on an unreachable OpenStack VIM (fails: FAILED_TEMP). Package
management: onboarding, operational state changes and deletion of a package.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.server import (
    PASSWORD,
    WEBFARM,
    Server,
    make_server,
    onboard_via_api,
    op_id_of,
    running,
    wait_op,
    zip_dir,
)
from tests.notify.subscriber import Subscriber, new_subscriber

SUBS = "/vnflcm/v2/subscriptions"
INST = "/vnflcm/v2/vnf_instances"
OPS = "/vnflcm/v2/vnf_lcm_op_occs"
CREATED = "VnfIdentifierCreationNotification"
DELETED = "VnfIdentifierDeletionNotification"
OP_OCC = "VnfLcmOperationOccurrenceNotification"
CALLBACK_SECRET = "Callback-Secr3t-never-logged-5c2d"
# Quick retries so that tests do not wait for the production backoff.
FAST = {
    "notify_timeout": "3",
    "notify_retry_min": "0.2",
    "notify_retry_max": "1",
    "notify_poll_interval": "0.2",
}
UNREACHABLE_VIM = {
    "vim1": {
        "vimId": "vim1",
        "vimType": "ETSINFV.OPENSTACK_KEYSTONE.V_3",
        "interfaceInfo": {"endpoint": "http://127.0.0.1:9/identity/v3"},
        "accessInfo": {
            "username": "admin",
            "password": "Vim-Pa55",
            "project": "p",
            "userDomain": "Default",
            "projectDomain": "Default",
            "region": "RegionOne",
        },
    }
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running(tmp_path_factory.mktemp("vnfm-notify"), **FAST) as srv:
        yield srv


@pytest.fixture
def client(server: Server) -> Iterator[httpx.Client]:
    with server.client() as c:
        yield c


@pytest.fixture(scope="module")
def vnfd_id(server: Server) -> str:
    with server.client() as c:
        doc = onboard_via_api(c, zip_dir(WEBFARM))
    assert doc["onboardingState"] == "ONBOARDED", doc
    return str(doc["vnfdId"])


def subscribe(c: httpx.Client, url: str, **request: Any) -> str:
    r = c.post(SUBS, json={"callbackUri": url, **request})
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def create(c: httpx.Client, vnfd_id: str, name: str) -> str:
    r = c.post(INST, json={"vnfdId": vnfd_id, "vnfInstanceName": name})
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def modify(c: httpx.Client, iid: str, description: str) -> str:
    """MODIFY_INFO (no playbook on a NOT_INSTANTIATED instance); waits for COMPLETED."""
    r = c.patch(
        f"{INST}/{iid}",
        json={"vnfInstanceDescription": description},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    op_id = op_id_of(r)
    wait_op(c, op_id, ("COMPLETED",), timeout=30)
    return op_id


def failed_instantiation(c: httpx.Client, iid: str) -> str:
    r = c.post(
        f"{INST}/{iid}/instantiate",
        json={
            "flavourId": "default",
            "instantiationLevelId": "small",
            "vimConnectionInfo": UNREACHABLE_VIM,
        },
    )
    op_id = op_id_of(r)
    op = wait_op(c, op_id, ("FAILED_TEMP", "COMPLETED"), timeout=300)
    assert op["operationState"] == "FAILED_TEMP", op
    return op_id


def delete(c: httpx.Client, iid: str) -> None:
    assert c.delete(f"{INST}/{iid}").status_code == 204


def shape(notifications: list[dict[str, Any]]) -> list[tuple[str, ...]]:
    """(type,) or (type, operation, state, status) of each notification."""
    out: list[tuple[str, ...]] = []
    for n in notifications:
        if n["notificationType"] == OP_OCC:
            out.append((OP_OCC, n["operation"], n["operationState"], n["notificationStatus"]))
        else:
            out.append((n["notificationType"],))
    return out


def modify_shape() -> list[tuple[str, ...]]:
    return [
        (OP_OCC, "MODIFY_INFO", "STARTING", "START"),
        (OP_OCC, "MODIFY_INFO", "PROCESSING", "RESULT"),
        (OP_OCC, "MODIFY_INFO", "COMPLETED", "RESULT"),
    ]


def settle(sub: Subscriber, iid: str, count: int, timeout: float = 30) -> list[dict[str, Any]]:
    """Exactly ``count`` notifications about iid (waits for them, then a little for extras)."""
    got = sub.wait_for(count, iid, timeout=timeout)
    time.sleep(0.6)
    got = sub.of(iid)
    assert len(got) == count, shape(got)
    return got


def metric(server: Server, name: str) -> float:
    """A metric's value, summed over its labels."""
    text = httpx.get(f"{server.url}/metrics").text
    values = [
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith((name + " ", name + "{"))
    ]
    assert values, f"no metric {name}"
    return sum(values)


# -- (1) + (6): every notification of an instance's life, with Basic callback auth --------------
def test_notifications_of_an_instance_life(
    server: Server, client: httpx.Client, vnfd_id: str, subscribers: list[Subscriber]
) -> None:
    sub = new_subscriber(subscribers)
    sub_id = subscribe(
        client,
        sub.url,
        authentication={
            "authType": ["BASIC"],
            "paramsBasic": {"userName": "nfvo-cb", "password": CALLBACK_SECRET},
        },
    )
    iid = create(client, vnfd_id, "life")
    mod_id = modify(client, iid, "described")
    inst_id = failed_instantiation(client, iid)
    r = client.post(f"{OPS}/{inst_id}/fail")
    assert r.status_code == 200 and r.json()["operationState"] == "FAILED", r.text
    delete(client, iid)

    deadline = time.monotonic() + 30
    got = sub.of(iid)
    while (not got or got[-1]["notificationType"] != DELETED) and time.monotonic() < deadline:
        time.sleep(0.1)
        got = sub.of(iid)
    got = settle(sub, iid, len(got))

    kinds = shape(got)
    inst = [k for k in kinds if k[:2] == (OP_OCC, "INSTANTIATE")]
    # STARTING is the start; every later state a (intermediate or final) result
    assert inst[0] == (OP_OCC, "INSTANTIATE", "STARTING", "START")
    assert inst[-2:] == [
        (OP_OCC, "INSTANTIATE", "FAILED_TEMP", "RESULT"),
        (OP_OCC, "INSTANTIATE", "FAILED", "RESULT"),
    ]
    assert all(k[2] == "PROCESSING" and k[3] == "RESULT" for k in inst[1:-2]), inst
    assert kinds == [(CREATED,), *modify_shape(), *inst, (DELETED,)]

    ids = [n["id"] for n in got]
    assert len(set(ids)) == len(ids)
    for n in got:
        assert n["subscriptionId"] == sub_id
        assert n["vnfInstanceId"] == iid
        datetime.fromisoformat(n["timeStamp"].replace("Z", "+00:00"))
        links = n["_links"]
        assert links["vnfInstance"]["href"].endswith(f"{INST}/{iid}")
        assert links["subscription"]["href"].endswith(f"{SUBS}/{sub_id}")
        if n["notificationType"] == OP_OCC:
            op_id = mod_id if n["operation"] == "MODIFY_INFO" else inst_id
            assert n["vnfLcmOpOccId"] == op_id
            assert links["vnfLcmOpOcc"]["href"].endswith(f"{OPS}/{op_id}")
            assert n["isAutomaticInvocation"] is False and n["verbosity"] == "FULL"
            assert ("error" in n) == (n["operationState"] in ("FAILED_TEMP", "FAILED"))
        else:
            assert "vnfLcmOpOcc" not in links
    completed = next(n for n in got if n.get("operationState") == "COMPLETED")
    assert completed["changedInfo"] == {"vnfInstanceDescription": "described"}
    assert "changedInfo" not in got[1]  # not on START
    assert got[-2]["error"]["title"]

    # headers: JSON, the API version, the subscription's Basic credentials
    for headers in sub.headers:
        assert headers["content-type"] == "application/json"
        assert headers["version"] == "2.0.0"
        user, _, password = (
            base64.b64decode(headers["authorization"].removeprefix("Basic "))
            .decode()
            .partition(":")
        )
        assert (user, password) == ("nfvo-cb", CALLBACK_SECRET)

    # the callback secret is never returned nor logged
    texts = [client.get(f"{SUBS}/{sub_id}").text, client.get(SUBS).text]
    texts.append(httpx.get(f"{server.url}/metrics").text)
    for text in texts:
        assert CALLBACK_SECRET not in text
    log = server.log()
    assert CALLBACK_SECRET not in log and PASSWORD not in log
    assert metric(server, "vnfm_notifications_sent_total") >= len(got)
    assert client.delete(f"{SUBS}/{sub_id}").status_code == 204


def test_oauth2_callback_auth(
    client: httpx.Client, vnfd_id: str, subscribers: list[Subscriber]
) -> None:
    sub = new_subscriber(subscribers)
    sub_id = subscribe(
        client,
        sub.url,
        filter={"notificationTypes": [CREATED, DELETED]},
        authentication={
            "authType": ["OAUTH2_CLIENT_CREDENTIALS"],
            "paramsOauth2ClientCredentials": {
                "clientId": "vnfm",
                "clientPassword": CALLBACK_SECRET,
                "tokenEndpoint": sub.token_url,
            },
        },
    )
    iid = create(client, vnfd_id, "oauth")
    delete(client, iid)
    assert shape(settle(sub, iid, 2)) == [(CREATED,), (DELETED,)]
    assert [h["authorization"] for h in sub.headers] == ["Bearer tok-123"] * 2
    assert len(sub.token_requests) == 1  # cached for the second notification
    assert base64.b64decode(sub.token_requests[0].removeprefix("Basic ")).decode() == (
        f"vnfm:{CALLBACK_SECRET}"
    )
    assert client.delete(f"{SUBS}/{sub_id}").status_code == 204


# -- (2) a subscriber down for a while gets everything, in order ---------------------------------
def test_subscriber_down_then_up(
    server: Server, client: httpx.Client, vnfd_id: str, subscribers: list[Subscriber]
) -> None:
    sub = new_subscriber(subscribers)
    sub_id = subscribe(client, sub.url)
    sub.refuse()  # connection refused
    started = time.monotonic()
    first = create(client, vnfd_id, "down-1")
    second = create(client, vnfd_id, "down-2")
    for n in range(2):
        modify(client, first, f"first {n}")
        modify(client, second, f"second {n}")
    delete(client, first)
    assert time.monotonic() - started < 20  # operations did not wait for the subscriber
    assert metric(server, "vnfm_notifications_pending") >= 15

    sub.mode = "503"
    sub.start()  # up again on the same port, but answering 503 for a while
    deadline = time.monotonic() + 10
    while sub.refused_posts == 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert sub.refused_posts > 0 and not sub.received
    sub.mode = "up"

    expected_first = [(CREATED,), *modify_shape() * 2, (DELETED,)]
    expected_second = [(CREATED,), *modify_shape() * 2]
    assert shape(settle(sub, first, len(expected_first))) == expected_first
    assert shape(settle(sub, second, len(expected_second))) == expected_second
    ids = [n["id"] for n in sub.received]
    assert len(ids) == len(set(ids)) == 15
    assert metric(server, "vnfm_notification_attempts_failed_total") > 0
    delete(client, second)
    assert client.delete(f"{SUBS}/{sub_id}").status_code == 204


# -- (3) a subscriber that never answers delays nobody -------------------------------------------
def test_hanging_subscriber_delays_nobody(
    client: httpx.Client, vnfd_id: str, subscribers: list[Subscriber]
) -> None:
    hanging = new_subscriber(subscribers)
    healthy = new_subscriber(subscribers)
    hanging_id = subscribe(client, hanging.url)
    healthy_id = subscribe(client, healthy.url)
    hanging.mode = "hang"  # accepts, reads, never answers

    started = time.monotonic()
    iid = create(client, vnfd_id, "hang")
    healthy.wait_for(1, iid, timeout=1.5)  # well within the 3 s the hanging one may take
    modify(client, iid, "while hanging")
    modify(client, iid, "still hanging")
    delete(client, iid)
    elapsed = time.monotonic() - started
    got = healthy.wait_for(8, iid, timeout=3)
    assert time.monotonic() - started < elapsed + 3
    assert shape(got) == [(CREATED,), *modify_shape() * 2, (DELETED,)]
    assert elapsed < 10, elapsed  # each operation ended as fast as without subscribers
    assert hanging.refused_posts >= 1 and not hanging.received
    for sub_id in (hanging_id, healthy_id):
        assert client.delete(f"{SUBS}/{sub_id}").status_code == 204


# -- (4) filters ---------------------------------------------------------------------------------
def test_subscription_filters(
    client: httpx.Client, vnfd_id: str, subscribers: list[Subscriber]
) -> None:
    filters: dict[str, dict[str, Any]] = {
        "instantiate_completed": {
            "filter": {"operationTypes": ["INSTANTIATE"], "operationStates": ["COMPLETED"]}
        },
        "instantiate_failed_temp": {
            "filter": {"operationTypes": ["INSTANTIATE"], "operationStates": ["FAILED_TEMP"]}
        },
        "modify_completed_short": {
            "filter": {"operationTypes": ["MODIFY_INFO"], "operationStates": ["COMPLETED"]},
            "verbosity": "SHORT",
        },
        "identifiers_by_name": {
            "filter": {
                "notificationTypes": [CREATED, DELETED],
                "vnfInstanceSubscriptionFilter": {"vnfInstanceNames": ["filtered"]},
            }
        },
        "other_vnfd": {"filter": {"vnfInstanceSubscriptionFilter": {"vnfdIds": ["nope"]}}},
        "this_vnfd_starts": {
            "filter": {
                "vnfInstanceSubscriptionFilter": {"vnfdIds": [vnfd_id]},
                "operationStates": ["STARTING"],
            }
        },
    }
    subs: dict[str, Subscriber] = {}
    ids: list[str] = []
    for name, request in filters.items():
        subs[name] = new_subscriber(subscribers)
        ids.append(subscribe(client, subs[name].url, **request))
    iid = create(client, vnfd_id, "filtered")
    other = create(client, vnfd_id, "not-filtered")
    modify(client, iid, "filtered")
    failed_instantiation(client, iid)
    delete(client, other)

    assert shape(settle(subs["instantiate_failed_temp"], iid, 1)) == [
        (OP_OCC, "INSTANTIATE", "FAILED_TEMP", "RESULT")
    ]
    short = settle(subs["modify_completed_short"], iid, 1)
    assert shape(short) == [(OP_OCC, "MODIFY_INFO", "COMPLETED", "RESULT")]
    assert short[0]["verbosity"] == "SHORT" and "changedInfo" not in short[0]
    assert shape(settle(subs["identifiers_by_name"], iid, 1)) == [(CREATED,)]
    assert shape(settle(subs["this_vnfd_starts"], iid, 2)) == [
        (OP_OCC, "MODIFY_INFO", "STARTING", "START"),
        (OP_OCC, "INSTANTIATE", "STARTING", "START"),
    ]
    assert not subs["instantiate_completed"].received
    assert not subs["other_vnfd"].received
    assert not subs["identifiers_by_name"].of(other)
    for sub_id in ids:
        assert client.delete(f"{SUBS}/{sub_id}").status_code == 204


# -- (5) undelivered notifications survive a restart ---------------------------------------------
def test_restart_delivers_what_was_left(tmp_path: Path, subscribers: list[Subscriber]) -> None:
    from vnfm_runner.notify.outbox import Outbox
    from vnfm_runner.store.db import Store

    home = tmp_path / "home"
    home.mkdir()
    first = make_server(home, **FAST).start()
    sub = new_subscriber(subscribers)
    try:
        with first.client() as c:
            vnfd = onboard_via_api(c, zip_dir(WEBFARM))["vnfdId"]
            subscribe(c, sub.url)
            sub.mode = "503"
            iid = create(c, vnfd, "restart")
            modify(c, iid, "before restart")
            delete(c, iid)
            deadline = time.monotonic() + 10
            while sub.refused_posts == 0 and time.monotonic() < deadline:
                time.sleep(0.1)
    finally:
        first.stop()
    assert sub.refused_posts > 0 and not sub.received
    rows = Outbox(Store(f"sqlite:///{home / 'vnfm.db'}")).rows()
    assert [r.status for r in rows] == ["PENDING"] * 5
    assert all(r.claimed_by is None for r in rows)  # the stopping worker gave its leases back

    sub.mode = "up"
    second = make_server(home, **FAST).start()
    try:
        got = settle(sub, iid, 5)
        assert shape(got) == [(CREATED,), *modify_shape(), (DELETED,)]
        assert [n["id"] for n in got] == [r.id for r in rows]
    finally:
        second.stop()


# -- (7) whichever process makes the change: the CLI next to the server ------------------------


def test_cli_operations_reach_subscribers(
    server: Server, client: httpx.Client, vnfd_id: str, subscribers: list[Subscriber]
) -> None:
    """Operations run by ``vnfm`` commands (in their own process, and in the detached
    process of --no-wait) are notified through the server's delivery worker."""
    sub = new_subscriber(subscribers)
    sub_id = subscribe(client, sub.url)
    iid = server.cli("create", "--vnfd-id", vnfd_id, "--name", "from-cli").strip()
    server.cli("modify", iid, "--description", "by the CLI", "--quiet")
    op_id = server.cli("modify", iid, "--description", "detached", "--no-wait").strip()
    wait_op(client, op_id, ("COMPLETED",), timeout=60)
    server.cli("delete", iid)

    got = settle(sub, iid, 8)
    assert shape(got) == [(CREATED,), *modify_shape() * 2, (DELETED,)]
    changed = [n["changedInfo"] for n in got if n.get("operationState") == "COMPLETED"]
    assert changed == [
        {"vnfInstanceDescription": "by the CLI"},
        {"vnfInstanceDescription": "detached"},
    ]
    assert client.delete(f"{SUBS}/{sub_id}").status_code == 204


# -- (8) package management subscriptions and notifications (SOL005) ---------------------------
PKG_SUBS = "/vnfpkgm/v1/subscriptions"
PACKAGES = "/vnfpkgm/v1/vnf_packages"
ONBOARDING = "VnfPackageOnboardingNotification"
CHANGE = "VnfPackageChangeNotification"


@pytest.fixture
def pkg_server(tmp_path: Path) -> Iterator[Server]:
    srv = make_server(tmp_path, **FAST).start()
    try:
        yield srv
    finally:
        srv.stop()


def pkg_shape(notifications: list[dict[str, Any]]) -> list[tuple[str, ...]]:
    return [
        (n["notificationType"], n.get("changeType", ""), n.get("operationalState", ""))
        for n in notifications
    ]


def test_package_subscription_resource(pkg_server: Server, subscribers: list[Subscriber]) -> None:
    sub = new_subscriber(subscribers)
    with pkg_server.client() as c:
        body = {
            "callbackUri": sub.url,
            "filter": {"notificationTypes": [CHANGE], "operationalState": ["DISABLED"]},
            "authentication": {
                "authType": ["BASIC"],
                "paramsBasic": {"userName": "nfvo", "password": CALLBACK_SECRET},
            },
        }
        r = c.post(PKG_SUBS, json=body)
        assert r.status_code == 201, r.text
        doc = r.json()
        assert r.headers["Location"] == f"{PKG_SUBS}/{doc['id']}"
        assert r.headers["Version"] == "2.1.0"
        assert doc["filter"] == body["filter"] and doc["callbackUri"] == sub.url
        assert doc["_links"]["self"]["href"] == f"{PKG_SUBS}/{doc['id']}"
        assert "authentication" not in doc and CALLBACK_SECRET not in r.text
        assert c.get(f"{PKG_SUBS}/{doc['id']}").json() == doc
        lcm = c.post(SUBS, json={"callbackUri": sub.url}).json()
        assert [d["id"] for d in c.get(PKG_SUBS).json()] == [doc["id"]]  # LCM ones apart
        assert [d["id"] for d in c.get(SUBS).json()] == [lcm["id"]]
        assert c.get(f"{PKG_SUBS}/{lcm['id']}").status_code == 404
        assert c.delete(f"{SUBS}/{doc['id']}").status_code == 404
        listed = c.get(PKG_SUBS, params={"filter": f"(eq,id,{doc['id']})"}).json()
        assert [d["id"] for d in listed] == [doc["id"]]

        # bad requests name the field; an unreachable callback is refused
        bad_filter = c.post(PKG_SUBS, json={"callbackUri": sub.url, "filter": {"vnfdIds": ["x"]}})
        assert bad_filter.status_code == 400 and "vnfdIds" in bad_filter.text
        bad_state = c.post(
            PKG_SUBS, json={"callbackUri": sub.url, "filter": {"operationalState": ["ON"]}}
        )
        assert bad_state.status_code == 400 and "operationalState" in bad_state.text
        assert c.post(PKG_SUBS, json={"filter": {}}).status_code == 400
        sub.refuse()
        assert c.post(PKG_SUBS, json={"callbackUri": sub.url}).status_code == 422
        sub.start()

        assert c.delete(f"{PKG_SUBS}/{doc['id']}").status_code == 204
        assert c.get(f"{PKG_SUBS}/{doc['id']}").status_code == 404
        assert c.delete(f"{PKG_SUBS}/{doc['id']}").status_code == 404
        # the LCM filter is checked too (it was taken as it came)
        r = c.post(SUBS, json={"callbackUri": sub.url, "filter": {"operationStates": ["DONE"]}})
        assert r.status_code == 400 and "operationStates" in r.text
    assert CALLBACK_SECRET not in pkg_server.log()


def test_package_notifications(pkg_server: Server, subscribers: list[Subscriber]) -> None:
    everything, onboarding, disabled, other = (new_subscriber(subscribers) for _ in range(4))
    with pkg_server.client() as c:
        subscribe_to = {
            everything: {},
            onboarding: {"notificationTypes": [ONBOARDING]},
            disabled: {"operationalState": ["DISABLED"]},
            other: {"vnfdId": ["another-vnfd"]},
        }
        for sub, flt in subscribe_to.items():
            r = c.post(PKG_SUBS, json={"callbackUri": sub.url, "filter": flt})
            assert r.status_code == 201, r.text
        lcm_sub = new_subscriber(subscribers)
        assert c.post(SUBS, json={"callbackUri": lcm_sub.url}).status_code == 201

        pkg = onboard_via_api(c, zip_dir(WEBFARM))
        assert pkg["onboardingState"] == "ONBOARDED", pkg
        pkg_id, vnfd = pkg["id"], pkg["vnfdId"]
        patch = {"Content-Type": "application/merge-patch+json"}
        for state in ("DISABLED", "ENABLED", "DISABLED"):
            r = c.patch(f"{PACKAGES}/{pkg_id}", json={"operationalState": state}, headers=patch)
            assert r.status_code == 200, r.text
        r = c.patch(f"{PACKAGES}/{pkg_id}", json={"userDefinedData": {"a": "b"}}, headers=patch)
        assert r.status_code == 200, r.text  # not a notified change
        assert c.delete(f"{PACKAGES}/{pkg_id}").status_code == 204

    onboarded = (ONBOARDING, "", "")
    deleted = (CHANGE, "PKG_DELETE", "")

    def op_state(state: str) -> tuple[str, ...]:
        return (CHANGE, "OP_STATE_CHANGE", state)

    got = settle(everything, pkg_id, 5)
    assert pkg_shape(got) == [
        onboarded,
        op_state("DISABLED"),
        op_state("ENABLED"),
        op_state("DISABLED"),
        deleted,
    ]
    assert pkg_shape(settle(onboarding, pkg_id, 1)) == [onboarded]
    assert pkg_shape(settle(disabled, pkg_id, 3)) == [
        op_state("DISABLED"),
        op_state("DISABLED"),
        deleted,
    ]
    time.sleep(0.5)
    assert not other.received and not lcm_sub.received
    for n in got:
        assert n["vnfPkgId"] == pkg_id and n["vnfdId"] == vnfd
        assert n["_links"]["vnfPackage"]["href"].endswith(f"{PACKAGES}/{pkg_id}")
        assert n["_links"]["subscription"]["href"].endswith(f"{PKG_SUBS}/{n['subscriptionId']}")
        datetime.fromisoformat(n["timeStamp"].replace("Z", "+00:00"))
    assert len({n["id"] for n in got}) == 5
    assert {h["version"] for h in everything.headers} == {"2.1.0"}


def test_cli_onboarding_is_announced_at_once(
    pkg_server: Server, subscribers: list[Subscriber], tmp_path: Path
) -> None:
    """A package onboarded by ``vnfm package onboard`` gets its VnfPkgInfo in the same
    transaction, so package subscribers hear of it without the API reading it first."""
    sub = new_subscriber(subscribers)
    with pkg_server.client() as c:
        r = c.post(PKG_SUBS, json={"callbackUri": sub.url, "filter": {}})
        assert r.status_code == 201, r.text
    vnfd = pkg_server.cli("package", "onboard", str(WEBFARM)).strip().splitlines()[-1]
    deadline = time.monotonic() + 30
    while not sub.received and time.monotonic() < deadline:
        time.sleep(0.2)
    assert [(n["notificationType"], n["vnfdId"]) for n in sub.received] == [(ONBOARDING, vnfd)]
    pkg_id = sub.received[0]["vnfPkgId"]
    with pkg_server.client() as c:  # the same VnfPkgInfo the API shows, listed once
        doc = c.get(f"{PACKAGES}/{pkg_id}").json()
        listed = c.get(PACKAGES, params={"filter": f"(eq,vnfdId,{vnfd})"}).json()
    assert doc["onboardingState"] == "ONBOARDED" and doc["vnfdId"] == vnfd
    assert doc["additionalArtifacts"], doc
    assert [p["id"] for p in listed] == [pkg_id]
