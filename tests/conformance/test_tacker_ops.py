"""python-tackerclient's ``openstack vnflcm op list|show|retry|rollback|fail|cancel``
against ``vnfm serve``, on webfarm and the local VIM (root).

The package is webfarm with two switches put in front of its ``scale_end`` hook:
while the file BREAK exists the hook fails, while HOLD exists it waits (an
operation in flight, to cancel). One VNF instance goes through:

1. instantiate (small: lb + 2 webs);
2. scale out, broken → FAILED_TEMP with a ProblemDetails; ``op list --filter`` finds
   it; the cause removed, ``op retry`` → COMPLETED, 3 webs answer through the LB;
3. scale out, broken → ``op rollback`` → ROLLED_BACK: the 4th VNFC's namespace is
   gone, the same 3 webs answer;
4. scale out, broken → ``op fail`` → FAILED (final: a retry is refused); the VNF
   stays as the failed operation left it;
5. scale out, held → ``op cancel`` (GRACEFUL): the task in flight finishes, the
   next one does not start → FAILED_TEMP "cancelled" → ``op rollback`` → back to 3 webs;
6. terminate and delete, nothing left on the host.

A subscription (``vnflcm subsc create``) follows the instance: the subscriber gets
the START and RESULT notifications of the failure and the retry.

Where the client and SOL003 disagree, SOL003 wins:
- ``op cancel`` exists in tackerclient only for API version 1 (Tacker's v2 API has
  no cancel) and posts to ``/vnflcm/v1/…/cancel``. SOL003 (this server: v2) has the
  cancel task under ``/vnflcm/v2``; the server answers the v1 path with the same
  task, so the command runs without ``--os-tacker-api-version 2``.
- that command then always exits 1 ("cannot unpack non-iterable NoneType object",
  a client bug: a ShowOne command whose take_action returns nothing), whatever the
  server answers; SOL003's answer is 202 with no body. The test checks the line
  it prints and, on the server, that the cancel is pending.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.api.server import REPO_ROOT, WEBFARM, Server, make_server
from tests.conformance.test_tackerclient import OPENSTACK, osc, osc_json, upload, wait_for
from tests.integration.conftest import (
    cleanup_instance,
    instance_netns,
    leftovers,
    requires_root,
    wait_until,
)
from tests.integration.test_lifecycle import assert_serves, ext_addresses
from tests.notify.subscriber import Subscriber

pytestmark = [
    *requires_root,
    pytest.mark.skipif(not OPENSTACK.exists(), reason="python-tackerclient is not installed"),
    pytest.mark.timeout(2400),
]

OPS = "/vnflcm/v2/vnf_lcm_op_occs"
FINAL = ("COMPLETED", "FAILED_TEMP", "FAILED", "ROLLED_BACK")
VNFD_ID = "7ac4e2d1-0c0f-4a5e-9d1b-3f6e8b2a5c70"  # this variant's own vnfdId
SWITCHES = """---
# Test switches (tests/conformance/test_tacker_ops.py): while HOLD exists the hook
# waits, while BREAK exists it fails; then webfarm's own scale_end.
- name: Test switches
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Wait while the test holds the operation
      ansible.builtin.wait_for:
        path: "{hold}"
        state: absent
        timeout: 300
    - name: Look for the break switch
      ansible.builtin.stat:
        path: "{broken}"
      register: conformance_break
    - name: Fail while the test breaks the VNF
      ansible.builtin.fail:
        msg: scale_end broken on purpose
      when: conformance_break.stat.exists
"""


class Switches:
    def __init__(self, root: Path) -> None:
        self.broken = root / "BREAK"
        self.hold = root / "HOLD"


def switched_webfarm(dest: Path, switches: Switches) -> Path:
    shutil.copytree(WEBFARM, dest)
    for path in (dest / "Definitions").glob("*.yaml"):
        path.write_text(path.read_text().replace("8c6a1e5f-2b7d-4f1a-9c3e-5d0b7a4e2f61", VNFD_ID))
    hook = dest / "Scripts" / "scale_end.yml"
    original = hook.read_text().removeprefix("---\n")
    hook.write_text(SWITCHES.format(hold=switches.hold, broken=switches.broken) + original)
    subprocess.run(
        [sys.executable, str(REPO_ROOT / "scripts" / "package-manifest.py"), str(dest)],
        check=True,
        capture_output=True,
    )
    return dest


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = make_server(
        tmp_path_factory.mktemp("vnfm-tacker-ops"),
        notify_poll_interval="0.2",
        notify_retry_min="0.2",
        notify_retry_max="1",
    ).start()
    try:
        yield srv
    finally:
        srv.stop()


# -- helpers: start with the client, follow over plain HTTP (an openstack command takes seconds)
def latest_op(server: Server, iid: str) -> dict[str, Any]:
    with server.client() as c:
        ops = c.get(OPS, params={"filter": f"(eq,vnfInstanceId,{iid})"}).json()
    return dict(ops[-1])


def settle(server: Server, op_id: str, after: str = "", timeout: float = 600) -> dict[str, Any]:
    """The operation once final (and, with ``after``, entered later than that time)."""

    def done() -> dict[str, Any] | None:
        with server.client() as c:
            doc: dict[str, Any] = c.get(f"{OPS}/{op_id}").json()
        moved = doc["stateEnteredTime"] != after
        return doc if doc["operationState"] in FINAL and moved else None

    return dict(wait_for(done, timeout=timeout))


def instance(server: Server, iid: str) -> dict[str, Any]:
    with server.client() as c:
        return dict(c.get(f"/vnflcm/v2/vnf_instances/{iid}").json())


def vnfcs_on_host(iid: str) -> list[str]:
    prefix = f"vnfm-{iid}-"
    return sorted(n.removeprefix(prefix) for n in instance_netns(iid) if n != f"{prefix}vim")


def webs(count: int) -> set[str]:
    return {f"web-{i}" for i in range(count)}


def assert_farm(server: Server, iid: str, web_count: int) -> None:
    """The record and the host agree: lb + N webs, each web answers through the LB."""
    doc = instance(server, iid)
    recorded = sorted(v["id"] for v in doc["instantiatedVnfInfo"]["vnfcInfo"])
    assert recorded == sorted(["lb-0", *webs(web_count)])
    assert vnfcs_on_host(iid) == recorded
    (ext,) = ext_addresses(doc)
    assert_serves(ext, webs(web_count))


def notified(
    subscriber: Subscriber, iid: str, op_id: str, last: str
) -> list[tuple[str, str]] | None:
    """(notificationStatus, operationState) of one operation, once ``last`` has come."""
    states = [
        (n["notificationStatus"], n["operationState"])
        for n in subscriber.of(iid)
        if n.get("vnfLcmOpOccId") == op_id
    ]
    return states if states and states[-1][1] == last else None


def scale_out(server: Server, iid: str) -> str:
    out = osc(server, "vnflcm", "scale", "--type", "SCALE_OUT", "--aspect-id", "web", iid, v2=True)
    assert "accepted" in out.stdout
    op = latest_op(server, iid)
    assert op["operation"] == "SCALE"
    return str(op["id"])


def failed_scale(server: Server, iid: str, switches: Switches) -> dict[str, Any]:
    switches.broken.touch()
    op_id = scale_out(server, iid)
    op = settle(server, op_id)
    assert op["operationState"] == "FAILED_TEMP", op
    return op


def test_op_commands_on_a_failing_hook(
    server: Server, subscriber: Subscriber, tmp_path: Path
) -> None:
    switches = Switches(tmp_path)
    pkg_id = upload(server, switched_webfarm(tmp_path / "webfarm-switched", switches), tmp_path)
    shown_pkg = osc_json(server, "vnf", "package", "show", pkg_id)
    assert shown_pkg["Onboarding State"] == "ONBOARDED" and shown_pkg["VNFD ID"] == VNFD_ID
    iid = str(osc_json(server, "vnflcm", "create", VNFD_ID, "--name", "tacker-ops", v2=True)["ID"])
    try:
        _lifecycle(server, subscriber, switches, iid, tmp_path)
    finally:
        switches.hold.unlink(missing_ok=True)
        cleanup_instance(iid)


def _lifecycle(
    server: Server, subscriber: Subscriber, switches: Switches, iid: str, tmp_path: Path
) -> None:
    sub_file = tmp_path / "subscription.json"
    sub_file.write_text(
        json.dumps(
            {
                "filter": {"vnfInstanceSubscriptionFilter": {"vnfInstanceIds": [iid]}},
                "callbackUri": subscriber.url,
            }
        )
    )
    sub_id = osc_json(server, "vnflcm", "subsc", "create", str(sub_file), v2=True)["ID"]

    # 1. instantiate
    params = tmp_path / "instantiate.json"
    params.write_text(json.dumps({"flavourId": "default", "instantiationLevelId": "small"}))
    assert "accepted" in osc(server, "vnflcm", "instantiate", iid, str(params), v2=True).stdout
    op = settle(server, latest_op(server, iid)["id"])
    assert op["operationState"] == "COMPLETED", op.get("error")
    assert_farm(server, iid, 2)

    # 2. a hook failure: FAILED_TEMP, found by op show and op list --filter; retry
    failed = failed_scale(server, iid, switches)
    op_id = failed["id"]
    shown = osc_json(server, "vnflcm", "op", "show", op_id, v2=True)
    assert shown["Operation State"] == "FAILED_TEMP" and shown["Operation"] == "SCALE"
    error = shown["Error"]  # a ProblemDetails (SOL013 6.3)
    assert error["status"] >= 400 and error["title"]
    assert "scale_end broken on purpose" in error["detail"]
    flt = f"(eq,vnfInstanceId,{iid});(eq,operationState,FAILED_TEMP)"
    listed = osc_json(server, "vnflcm", "op", "list", "--filter", flt, v2=True)
    assert listed == [
        {
            "ID": op_id,
            "Operation State": "FAILED_TEMP",
            "VNF Instance ID": iid,
            "Operation": "SCALE",
        }
    ]
    assert "web-2" in vnfcs_on_host(iid)  # reconciled before the hook failed: left for the NFVO
    switches.broken.unlink()  # the cause fixed
    out = osc(server, "vnflcm", "op", "retry", op_id, v2=True).stdout
    assert f"Retry request for LCM operation {op_id} has been accepted" in out
    op = settle(server, op_id, after=failed["stateEnteredTime"])
    assert op["operationState"] == "COMPLETED", op.get("error")
    assert osc_json(server, "vnflcm", "op", "show", op_id, v2=True)["Operation State"] == (
        "COMPLETED"
    )
    assert_farm(server, iid, 3)
    states = wait_for(lambda: notified(subscriber, iid, op_id, "COMPLETED"), timeout=30)
    assert states == [
        ("START", "STARTING"),
        ("RESULT", "PROCESSING"),
        ("RESULT", "FAILED_TEMP"),
        ("RESULT", "PROCESSING"),
        ("RESULT", "COMPLETED"),
    ], states
    failed_note = next(n for n in subscriber.of(iid) if n["operationState"] == "FAILED_TEMP")
    assert "scale_end broken on purpose" in failed_note["error"]["detail"]

    # 3. a failure rolled back: the VNF is as it was before the operation
    failed = failed_scale(server, iid, switches)
    assert "web-3" in vnfcs_on_host(iid)
    out = osc(server, "vnflcm", "op", "rollback", failed["id"], v2=True).stdout
    assert f"Rollback request for LCM operation {failed['id']} has been accepted" in out
    op = settle(server, failed["id"], after=failed["stateEnteredTime"])
    assert op["operationState"] == "ROLLED_BACK", op.get("error")
    switches.broken.unlink()
    assert_farm(server, iid, 3)

    # 4. a failure given up: FAILED is final; nothing is undone on the VIM
    failed = failed_scale(server, iid, switches)
    shown = osc_json(server, "vnflcm", "op", "fail", failed["id"], v2=True)
    assert shown["ID"] == failed["id"] and shown["Operation State"] == "FAILED"
    reread = osc_json(server, "vnflcm", "op", "show", failed["id"], v2=True)
    assert reread["Operation State"] == "FAILED"
    again = osc(server, "vnflcm", "op", "retry", failed["id"], v2=True, check=False)
    assert again.returncode != 0 and "FAILED_TEMP" in again.stderr
    switches.broken.unlink()
    assert "web-3" in vnfcs_on_host(iid)  # the failed operation's VNFC is still there
    (ext,) = ext_addresses(instance(server, iid))
    assert_serves(ext, webs(3))  # and the LB still sends to the 3 webs it knew

    # 5. cancel an operation in flight: GRACEFUL waits for the task in flight
    switches.hold.touch()
    op_id = scale_out(server, iid)

    def holding() -> bool:
        doc = latest_op(server, iid)
        events = Path(server.home, "runs", op_id).glob("*/artifacts/*/job_events/*.json")
        return doc["operationState"] == "PROCESSING" and any(
            "Wait while the test holds" in e.read_text(errors="replace") for e in events
        )

    wait_for(holding, timeout=600)
    cancel = osc(server, "vnflcm", "op", "cancel", op_id, check=False)  # API v1: see the top
    assert f"Cancel request for LCM operation {op_id} has been accepted" in cancel.stdout
    # tackerclient 2.6's cancel is a ShowOne whose take_action returns nothing: after
    # printing the line above it always exits 1 with this message (see the top)
    assert cancel.stderr.strip() == "cannot unpack non-iterable NoneType object"
    time.sleep(3)  # the held task is in flight: a graceful cancel lets it finish
    shown = osc_json(server, "vnflcm", "op", "show", op_id, v2=True)
    assert shown["Operation State"] == "PROCESSING" and shown["Is Cancel Pending"] is True
    assert shown["Cancel Mode"] == "GRACEFUL"
    switches.hold.unlink()
    op = settle(server, op_id)
    assert op["operationState"] == "FAILED_TEMP" and op["isCancelPending"] is False
    assert "cancelled (GRACEFUL)" in op["error"]["detail"]
    out = osc(server, "vnflcm", "op", "rollback", op_id, v2=True).stdout
    assert "accepted" in out
    op = settle(server, op_id, after=op["stateEnteredTime"])
    assert op["operationState"] == "ROLLED_BACK", op.get("error")
    assert_farm(server, iid, 3)  # the VNFC the FAILED operation left is gone too

    # 6. the end
    listed = osc_json(
        server, "vnflcm", "op", "list", "--filter", f"(eq,vnfInstanceId,{iid})", v2=True
    )
    assert [(o["Operation"], o["Operation State"]) for o in listed] == [
        ("INSTANTIATE", "COMPLETED"),
        ("SCALE", "COMPLETED"),
        ("SCALE", "ROLLED_BACK"),
        ("SCALE", "FAILED"),
        ("SCALE", "ROLLED_BACK"),
    ]
    assert "accepted" in osc(server, "vnflcm", "terminate", iid, v2=True).stdout
    op = settle(server, latest_op(server, iid)["id"])
    assert op["operation"] == "TERMINATE" and op["operationState"] == "COMPLETED", op
    wait_until(lambda: not leftovers(iid), timeout=10)
    assert leftovers(iid) == {}
    osc(server, "vnflcm", "delete", iid, v2=True)
    osc(server, "vnflcm", "subsc", "delete", sub_id, v2=True)
