"""Every operation as a plain job (issue 16, item 3): ``ansible-playbook playbooks/<op>.yml``
with flat ``-e`` values only, against a real ``vnfm serve``.

webfarm is instantiated (the instance created from its vnfdId), scaled out, healed and
terminated by four playbook runs; the VNFM records each as a VnfLcmOpOcc that is not an
automatic invocation, runs the package's hooks (the load balancer serves the webs), and
a real subscriber receives the notifications. A request the VNFM refuses fails its job
with the VNFM's reason.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.api.server import (
    PASSWORD,
    REPO_ROOT,
    USER,
    WEBFARM,
    Server,
    onboard_via_api,
    running,
    zip_dir,
)
from tests.integration.conftest import cleanup_instance, leftovers, requires_root
from tests.integration.test_lifecycle import assert_serves
from tests.notify.subscriber import Subscriber

pytestmark = requires_root

PLAYBOOKS = REPO_ROOT / "playbooks"
OPS = "/vnflcm/v2/vnf_lcm_op_occs"
# The operations a plain job can run: the table's rows with an API (CUSTOM has none).
API_OPERATIONS = (
    "instantiate",
    "scale",
    "scale_to_level",
    "change_flavour",
    "terminate",
    "heal",
    "operate",
    "change_ext_conn",
    "modify_info",
    "change_vnfpkg",
)


def playbook_env(server: Server) -> dict[str, str]:
    """The job's environment as an AWX credential injects it; nothing else of the VNFM's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VNFM_")}
    env.update(
        {
            "VNFM_URL": server.url,
            "VNFM_API_USER": USER,
            "VNFM_API_PASSWORD": PASSWORD,
            "ANSIBLE_COLLECTIONS_PATH": str(REPO_ROOT / "collections"),
            "ANSIBLE_NOCOLOR": "1",
            # print the set_stats data (what AWX passes to a workflow's next job)
            "ANSIBLE_SHOW_CUSTOM_STATS": "true",
            "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        }
    )
    return env


def job(server: Server, operation: str, **flat: str) -> subprocess.CompletedProcess[str]:
    """``ansible-playbook playbooks/<operation>.yml -e k=v ...`` (flat values only)."""
    args = [
        str(Path(sys.executable).parent / "ansible-playbook"),
        str(PLAYBOOKS / f"{operation}.yml"),
    ]
    for key, value in {"vnfm_poll_interval": "0.3", **flat}.items():
        args += ["-e", f"{key}={value}"]
    return subprocess.run(
        args,
        env=playbook_env(server),
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def job_ok(server: Server, operation: str, **flat: str) -> str:
    done = job(server, operation, **flat)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    return done.stdout


@pytest.fixture(scope="module")
def subscriber() -> Iterator[Subscriber]:
    sub = Subscriber()
    yield sub
    sub.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running(tmp_path_factory.mktemp("vnfm-home")) as srv:
        yield srv


@pytest.fixture(scope="module")
def client(server: Server) -> Iterator[httpx.Client]:
    with server.client() as c:
        yield c


@pytest.fixture(scope="module")
def vnfd_id(client: httpx.Client, subscriber: Subscriber) -> str:
    r = client.post("/vnflcm/v2/subscriptions", json={"callbackUri": subscriber.url})
    assert r.status_code == 201, r.text
    pkg = onboard_via_api(client, zip_dir(WEBFARM))
    assert pkg["onboardingState"] == "ONBOARDED", pkg
    return str(pkg["vnfdId"])


def test_every_api_operation_has_a_flat_playbook() -> None:
    for name in API_OPERATIONS:
        plays = yaml.safe_load((PLAYBOOKS / f"{name}.yml").read_text())
        task = plays[0]["tasks"][0]["nfv.vnfm.vnf_lcm_op_occ"]
        assert task["operation"] == name.upper(), name
        assert "vnfm_request" in task["request"] and "vnf_instance_id" in task["vnf_instance_id"]


def test_instantiate_scale_heal_terminate_as_plain_jobs(
    server: Server, client: httpx.Client, subscriber: Subscriber, vnfd_id: str
) -> None:
    out = job_ok(
        server,
        "instantiate",
        vnfd_id=vnfd_id,
        vnf_instance_name="awx-job",
        flavour_id="default",
        instantiation_level_id="small",
    )
    found = client.get(
        "/vnflcm/v2/vnf_instances", params={"filter": "(eq,vnfInstanceName,awx-job)"}
    ).json()
    assert len(found) == 1, found
    iid = found[0]["id"]
    try:
        assert f'"vnf_instance_id": "{iid}"' in out  # the job's set_stats names the instance
        info = client.get(f"/vnflcm/v2/vnf_instances/{iid}").json()["instantiatedVnfInfo"]
        ext = info["extCpInfo"][0]["cpProtocolInfo"][0]["ipOverEthernet"]["ipAddresses"][0]
        # instantiate_end configured the webs and the load balancer: the hooks ran
        assert_serves(ext["addresses"][0], {"web-0", "web-1"})

        job_ok(
            server,
            "scale",
            vnf_instance_id=iid,
            scale_type="SCALE_OUT",
            aspect_id="web",
            number_of_steps="1",
        )
        webs = {
            v["id"]
            for v in client.get(f"/vnflcm/v2/vnf_instances/{iid}").json()["instantiatedVnfInfo"][
                "vnfcInfo"
            ]
            if v["vduId"] == "web"
        }
        assert webs == {"web-0", "web-1", "web-2"}
        job_ok(server, "heal", vnf_instance_id=iid, vnfc_ids="web-1")

        # refused by the VNFM: the job fails with its reason (beyond the aspect's maximum)
        refused = job(
            server,
            "scale",
            vnf_instance_id=iid,
            scale_type="SCALE_OUT",
            aspect_id="web",
            number_of_steps="50",
        )
        assert refused.returncode != 0
        assert "exceeds its max_scale_level" in refused.stdout, refused.stdout[-3000:]
        assert "Traceback" not in refused.stdout + refused.stderr

        job_ok(server, "terminate", vnf_instance_id=iid, termination_type="GRACEFUL")
        # a second terminate changes nothing: the instance is not instantiated any more
        again = job_ok(server, "terminate", vnf_instance_id=iid)
        assert "changed=0" in again
        assert leftovers(iid) == {}

        ops: list[dict[str, Any]] = client.get(
            OPS, params={"filter": f"(eq,vnfInstanceId,{iid})"}
        ).json()
        done = [o for o in ops if o["operationState"] == "COMPLETED"]
        assert [o["operation"] for o in done] == ["INSTANTIATE", "SCALE", "HEAL", "TERMINATE"]
        assert all(o["isAutomaticInvocation"] is False for o in ops)
        # the subscriber heard of each operation from start to end
        notes = subscriber.wait_for(1 + 3 * len(done), iid)
        for op in done:
            states = [
                n["operationState"]
                for n in notes
                if n.get("vnfLcmOpOccId") == op["id"]
                and n["notificationType"] == "VnfLcmOperationOccurrenceNotification"
            ]
            assert states[0] == "STARTING" and states[-1] == "COMPLETED", (op["operation"], states)
        assert any(n["notificationType"] == "VnfIdentifierCreationNotification" for n in notes)
    finally:
        cleanup_instance(iid)
    assert client.delete(f"/vnflcm/v2/vnf_instances/{iid}").status_code == 204
    assert PASSWORD not in server.log()
