"""The whole lifecycle over the API on the local VIM (root): create → instantiate →
scale out → heal → terminate → delete; and a failing hook: FAILED_TEMP → retry →
rollback → ROLLED_BACK with nothing left on the VIM."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.server import (
    PASSWORD,
    REPO_ROOT,
    WEBFARM,
    Server,
    onboard_via_api,
    op_id_of,
    wait_op,
    zip_dir,
)
from tests.integration.conftest import cleanup_instance, leftovers, requires_root

pytestmark = requires_root

INST = "/vnflcm/v2/vnf_instances"
OPS = "/vnflcm/v2/vnf_lcm_op_occs"
FINAL = ("COMPLETED", "FAILED_TEMP", "FAILED", "ROLLED_BACK")


@pytest.fixture
def tracked() -> Iterator[list[str]]:
    ids: list[str] = []
    yield ids
    for iid in ids:
        cleanup_instance(iid)


def run(client: httpx.Client, response: httpx.Response, want: str = "COMPLETED") -> dict[str, Any]:
    op = wait_op(client, op_id_of(response), FINAL)
    assert op["operationState"] == want, op.get("error")
    return op


def wait_moved(
    client: httpx.Client, before: dict[str, Any], timeout: float = 400
) -> dict[str, Any]:
    """The operation once it has left ``before``'s state entry and reached a stable state
    (after retry or rollback it is FAILED_TEMP until the worker takes it)."""
    deadline = time.monotonic() + timeout
    doc = before
    while time.monotonic() < deadline:
        doc = client.get(f"{OPS}/{before['id']}").json()
        moved = doc["stateEnteredTime"] != before["stateEnteredTime"]
        if moved and doc["operationState"] in FINAL:
            return doc
        time.sleep(0.5)
    raise AssertionError(f"operation {before['id']} did not move on: {doc}")


def vnfcs(client: httpx.Client, iid: str, vdu: str) -> list[str]:
    info = client.get(f"{INST}/{iid}").json()["instantiatedVnfInfo"]
    return sorted(v["id"] for v in info["vnfcInfo"] if v["vduId"] == vdu)


def test_lifecycle_over_the_api(server: Server, client: httpx.Client, tracked: list[str]) -> None:
    pkg = onboard_via_api(client, zip_dir(WEBFARM))
    assert pkg["onboardingState"] == "ONBOARDED"
    iid = client.post(INST, json={"vnfdId": pkg["vnfdId"], "vnfInstanceName": "api-life"}).json()[
        "id"
    ]
    tracked.append(iid)
    r = client.post(
        f"{INST}/{iid}/instantiate", json={"flavourId": "default", "instantiationLevelId": "small"}
    )
    op = run(client, r)
    assert op["operation"] == "INSTANTIATE" and op["resourceChanges"]["affectedVnfcs"]
    doc = client.get(f"{INST}/{iid}").json()
    assert doc["instantiationState"] == "INSTANTIATED"
    webs = vnfcs(client, iid, "web")
    # busy and wrong-state answers while instantiated
    assert client.delete(f"{INST}/{iid}").status_code == 409
    assert (
        client.post(f"{INST}/{iid}/instantiate", json={"flavourId": "default"}).status_code == 409
    )

    r = client.post(
        f"{INST}/{iid}/scale", json={"type": "SCALE_OUT", "aspectId": "web", "numberOfSteps": 1}
    )
    second = client.post(f"{INST}/{iid}/heal", json={})
    assert second.status_code == 409  # one operation at a time
    run(client, r)
    after = vnfcs(client, iid, "web")
    assert len(after) > len(webs) and set(webs) <= set(after)

    r = client.post(f"{INST}/{iid}/heal", json={"vnfcInstanceId": [after[0]], "cause": "test"})
    run(client, r)

    r = client.post(
        f"{INST}/{iid}/terminate",
        json={"terminationType": "GRACEFUL", "gracefulTerminationTimeout": 30},
    )
    run(client, r)
    assert client.get(f"{INST}/{iid}").json()["instantiationState"] == "NOT_INSTANTIATED"
    assert leftovers(iid) == {}
    assert client.delete(f"{INST}/{iid}").status_code == 204
    ops = client.get(OPS, params={"filter": f"(eq,vnfInstanceId,{iid})"}).json()
    assert [o["operation"] for o in ops] == ["INSTANTIATE", "SCALE", "HEAL", "TERMINATE"]
    assert all(o["operationState"] == "COMPLETED" for o in ops)
    assert PASSWORD not in server.log()


FAILING_HOOK = """---
- name: A hook that always fails
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Fail on purpose
      ansible.builtin.fail:
        msg: instantiate_end failed on purpose
"""


def test_failing_hook_retry_then_rollback(
    client: httpx.Client, tmp_path: Path, tracked: list[str]
) -> None:
    pkg_dir = tmp_path / "webfarm-failing"
    shutil.copytree(WEBFARM, pkg_dir)
    top = pkg_dir / "Definitions" / "webfarm_types.yaml"
    # a different vnfdId, so the package is onboarded apart from the good one
    vnfd_id = "0badf00d-0000-4000-8000-000000000001"
    for path in (pkg_dir / "Definitions").glob("*.yaml"):
        path.write_text(path.read_text().replace("8c6a1e5f-2b7d-4f1a-9c3e-5d0b7a4e2f61", vnfd_id))
    assert top.exists()
    (pkg_dir / "Scripts" / "instantiate_end.yml").write_text(FAILING_HOOK)
    subprocess.run(
        [sys.executable, str(REPO_ROOT / "scripts" / "package-manifest.py"), str(pkg_dir)],
        check=True,
    )
    pkg = onboard_via_api(client, zip_dir(pkg_dir))
    assert pkg["onboardingState"] == "ONBOARDED", pkg.get("onboardingFailureDetails")
    assert pkg["vnfdId"] == vnfd_id
    iid = client.post(INST, json={"vnfdId": vnfd_id}).json()["id"]
    tracked.append(iid)
    r = client.post(
        f"{INST}/{iid}/instantiate", json={"flavourId": "default", "instantiationLevelId": "small"}
    )
    op_id = op_id_of(r)
    op = wait_op(client, op_id, FINAL)
    assert op["operationState"] == "FAILED_TEMP", op  # no automatic rollback over the API
    assert "on purpose" in op["error"]["detail"]
    assert leftovers(iid)  # the VNFCs are still there for the NFVO to decide

    assert client.post(f"{OPS}/{op_id}/retry").status_code == 202
    op = wait_moved(client, op)
    assert op["operationState"] == "FAILED_TEMP", op

    assert client.post(f"{OPS}/{op_id}/rollback").status_code == 202
    op = wait_moved(client, op)
    assert op["operationState"] == "ROLLED_BACK", op
    assert leftovers(iid) == {}
    assert client.get(f"{INST}/{iid}").json()["instantiationState"] == "NOT_INSTANTIATED"
    assert client.delete(f"{INST}/{iid}").status_code == 204
