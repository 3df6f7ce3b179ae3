"""python-tackerclient's ``openstack vnflcm subsc create|list|show|delete`` (API v2)
against ``vnfm serve``, with a real HTTP subscriber (tests/notify/subscriber.py):
the subscriber gets the START and RESULT notifications of an operation run
through the client (``vnflcm update`` of a NOT_INSTANTIATED instance: no playbook,
no root), and nothing once the subscription is deleted.

Where the client and SOL003 disagree, SOL003 wins:
- SOL003 5.5.2.16: ``authentication`` is write-only; the client's table has no
  column for it and the server never returns it (checked in the raw JSON too).
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.api.server import PASSWORD, WEBFARM, Server, make_server
from tests.conformance.test_tackerclient import OPENSTACK, osc, osc_json, upload, wait_for
from tests.notify.subscriber import Subscriber

pytestmark = pytest.mark.skipif(
    not OPENSTACK.exists(), reason="python-openstackclient / python-tackerclient are not installed"
)

CALLBACK_USER = "callback-user"
CALLBACK_SECRET = "Callback-Secr3t-tacker-never-shown-0b1f"
FAST_NOTIFY = {"notify_poll_interval": "0.2", "notify_retry_min": "0.2", "notify_retry_max": "1"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = make_server(tmp_path_factory.mktemp("vnfm-tacker-subsc"), **FAST_NOTIFY).start()
    try:
        yield srv
    finally:
        srv.stop()


def modify(server: Server, iid: str, tmp_path: Path, name: str) -> str:
    """``vnflcm update`` (MODIFY_INFO) through the client; the COMPLETED operation's id."""
    body = tmp_path / f"{name}.json"
    body.write_text(json.dumps({"vnfInstanceName": name}))
    assert "Update vnf" in osc(server, "vnflcm", "update", iid, "--I", str(body), v2=True).stdout
    flt = f"(eq,vnfInstanceId,{iid});(eq,operationState,COMPLETED)"

    def completed() -> list[Any]:
        with server.client() as c:
            ops = c.get(
                "/vnflcm/v2/vnf_lcm_op_occs", params={"filter": flt, "fields": "operationParams"}
            ).json()
        return [o["id"] for o in ops if o["operationParams"]["vnfInstanceName"] == name]

    (op_id,) = wait_for(completed, timeout=60, interval=0.3)
    return str(op_id)


def test_subscription_commands_and_notifications(
    server: Server, subscriber: Subscriber, tmp_path: Path
) -> None:
    pkg_id = upload(server, WEBFARM, tmp_path)
    vnfd_id = osc_json(server, "vnf", "package", "show", pkg_id)["VNFD ID"]
    iid = str(osc_json(server, "vnflcm", "create", vnfd_id, v2=True)["ID"])

    request = {
        "filter": {
            "vnfInstanceSubscriptionFilter": {"vnfInstanceIds": [iid]},
            "notificationTypes": ["VnfLcmOperationOccurrenceNotification"],
        },
        "callbackUri": subscriber.url,
        "authentication": {
            "authType": ["BASIC"],
            "paramsBasic": {"userName": CALLBACK_USER, "password": CALLBACK_SECRET},
        },
    }
    req_file = tmp_path / "subscription.json"
    req_file.write_text(json.dumps(request))
    created_out = osc(server, "vnflcm", "subsc", "create", str(req_file), "-f", "json", v2=True)
    created = json.loads(created_out.stdout)
    sub_id = str(created["ID"])
    assert created["Callback URI"] == subscriber.url
    assert created["Filter"] == request["filter"]
    assert CALLBACK_SECRET not in created_out.stdout + created_out.stderr

    listed = osc_json(server, "vnflcm", "subsc", "list", v2=True)
    assert {"ID": sub_id, "Callback URI": subscriber.url} in listed
    only = osc_json(server, "vnflcm", "subsc", "list", "--filter", f"(eq,id,{sub_id})", v2=True)
    assert only == [{"ID": sub_id, "Callback URI": subscriber.url}]
    shown = osc_json(server, "vnflcm", "subsc", "show", sub_id, v2=True)
    assert shown["ID"] == sub_id and shown["Filter"] == request["filter"]
    assert shown["Links"]["self"]["href"].endswith(f"/vnflcm/v2/subscriptions/{sub_id}")
    with server.client() as c:  # write-only, in the raw document as well
        raw = c.get(f"/vnflcm/v2/subscriptions/{sub_id}").text
    assert "authentication" not in raw and CALLBACK_SECRET not in raw

    op_id = modify(server, iid, tmp_path, "renamed-by-tacker")
    got = subscriber.wait_for(3, iid)  # STARTING, PROCESSING, COMPLETED
    mine = [n for n in got if n["vnfLcmOpOccId"] == op_id]
    assert [(n["notificationStatus"], n["operationState"]) for n in mine] == [
        ("START", "STARTING"),
        ("RESULT", "PROCESSING"),
        ("RESULT", "COMPLETED"),
    ]
    assert all(n["operation"] == "MODIFY_INFO" and n["subscriptionId"] == sub_id for n in mine)
    assert mine[-1]["changedInfo"] == {"vnfInstanceName": "renamed-by-tacker"}
    basic = base64.b64encode(f"{CALLBACK_USER}:{CALLBACK_SECRET}".encode()).decode()
    assert {h.get("authorization") for h in subscriber.headers} == {f"Basic {basic}"}
    # the op occurrence the client shows is the one notified
    op = osc_json(server, "vnflcm", "op", "show", op_id, v2=True)
    assert op["Operation State"] == "COMPLETED" and op["VNF Instance ID"] == iid

    out = osc(server, "vnflcm", "subsc", "delete", sub_id, v2=True).stdout
    assert f"Lccn Subscription '{sub_id}' is deleted successfully" in out
    gone = osc(server, "vnflcm", "subsc", "show", sub_id, v2=True, check=False)
    assert gone.returncode != 0 and f"no subscription {sub_id}" in gone.stderr
    assert sub_id not in [s["ID"] for s in osc_json(server, "vnflcm", "subsc", "list", v2=True)]
    before = len(subscriber.of(iid))
    modify(server, iid, tmp_path, "after-unsubscribe")
    time.sleep(2)  # ten outbox polls: anything queued would have been sent by now
    assert len(subscriber.of(iid)) == before

    osc(server, "vnflcm", "delete", iid, v2=True)
    log = server.log()
    assert CALLBACK_SECRET not in log and PASSWORD not in log


def test_subscription_to_a_dead_callback_is_refused(server: Server, tmp_path: Path) -> None:
    """SOL003 5.4.18.3.1: the VNFM tests the callback with a GET; no 204, no subscription."""
    dead = Subscriber()
    url = dead.url
    dead.close()
    req_file = tmp_path / "subscription.json"
    req_file.write_text(json.dumps({"callbackUri": url}))
    before = osc_json(server, "vnflcm", "subsc", "list", v2=True)
    result = osc(server, "vnflcm", "subsc", "create", str(req_file), v2=True, check=False)
    assert result.returncode != 0 and "callbackUri" in result.stderr
    assert "Traceback" not in result.stderr
    assert osc_json(server, "vnflcm", "subsc", "list", v2=True) == before
