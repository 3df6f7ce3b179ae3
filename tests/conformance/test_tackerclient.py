"""python-tackerclient (``openstack vnf package …`` and ``openstack vnflcm …``), unchanged,
drives ``vnfm serve`` over HTTP Basic.

How the client reaches us without a Keystone service catalog: keystoneauth's
``http_basic`` plugin with ``--os-endpoint`` sends every request to that endpoint
(whatever the service type), with ``Authorization: Basic``. So the invocation is

    openstack --os-auth-type http_basic --os-username U --os-password P \
              --os-endpoint http://127.0.0.1:PORT [--os-tacker-api-version 2] …

The package commands need no root; the vnflcm lifecycle runs on the local VIM (root).
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

from tests.api.server import PASSWORD, USER, WEBFARM, Server, make_server, zip_dir

OPENSTACK = Path(sys.executable).with_name("openstack")
pytestmark = pytest.mark.skipif(
    not OPENSTACK.exists() or (shutil.which("ip") is None and False),
    reason="python-openstackclient / python-tackerclient are not installed",
)


def _privileged() -> bool:
    import os

    return os.geteuid() == 0 and shutil.which("ip") is not None


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = make_server(tmp_path_factory.mktemp("vnfm-tacker")).start()
    try:
        yield srv
    finally:
        srv.stop()


def osc(
    server: Server, *args: str, v2: bool = False, check: bool = True
) -> subprocess.CompletedProcess[str]:
    cmd = [
        str(OPENSTACK),
        "--os-auth-type",
        "http_basic",
        "--os-username",
        USER,
        "--os-password",
        PASSWORD,
        "--os-endpoint",
        server.url,
    ]
    if v2:
        cmd += ["--os-tacker-api-version", "2"]
    result = subprocess.run([*cmd, *args], capture_output=True, text=True, timeout=300)
    if check:
        assert result.returncode == 0, f"{' '.join(args)}: {result.stderr[-2000:]}"
    return result


def osc_json(server: Server, *args: str, v2: bool = False) -> Any:
    return json.loads(osc(server, *args, "-f", "json", v2=v2).stdout)


def wait_for(predicate: Any, timeout: float = 400, interval: float = 1.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("timed out")


def upload(server: Server, package_dir: Path, tmp_path: Path) -> str:
    pkg = osc_json(server, "vnf", "package", "create", "--user-data", "owner=conformance")
    pkg_id = str(pkg["ID"])
    assert pkg["Onboarding State"] == "CREATED"
    archive = tmp_path / f"{package_dir.name}.zip"
    archive.write_bytes(zip_dir(package_dir))
    out = osc(server, "vnf", "package", "upload", "--path", str(archive), pkg_id).stdout
    assert "accepted" in out
    wait_for(
        lambda: (
            osc_json(server, "vnf", "package", "show", pkg_id)["Onboarding State"]
            in ("ONBOARDED", "ERROR")
        ),
        timeout=120,
    )
    return pkg_id


def test_vnf_package_commands(server: Server, tmp_path: Path) -> None:
    pkg_id = upload(server, WEBFARM, tmp_path)
    shown = osc_json(server, "vnf", "package", "show", pkg_id)
    assert shown["Onboarding State"] == "ONBOARDED" and shown["Operational State"] == "ENABLED"
    assert shown["VNFD ID"] and shown["VNF Provider"] == "vnfm-toolkit"
    listed = osc_json(server, "vnf", "package", "list")
    assert pkg_id in [p["Id"] for p in listed]
    # SOL005: a package is deleted only when DISABLED (the client does not disable it)
    refused = osc(server, "vnf", "package", "delete", pkg_id, check=False)
    assert refused.returncode != 0
    updated = osc_json(
        server, "vnf", "package", "update", "--operational-state", "DISABLED", pkg_id
    )
    assert updated["Operational State"] == "DISABLED"
    osc(server, "vnf", "package", "delete", pkg_id)
    gone = osc(server, "vnf", "package", "show", pkg_id, check=False)
    assert gone.returncode != 0


def test_vnf_package_download_vnfd(server: Server, tmp_path: Path) -> None:
    pkg_id = upload(server, WEBFARM, tmp_path)
    out = osc(server, "vnf", "package", "download", pkg_id, "--vnfd", "--type", "text/plain").stdout
    assert "tosca_definitions_version" in out


@pytest.mark.root
@pytest.mark.skipif(not _privileged(), reason="the local VIM needs root and iproute2")
def test_vnflcm_lifecycle(server: Server, tmp_path: Path) -> None:
    from tests.integration.conftest import cleanup_instance, leftovers

    pkg_id = upload(server, WEBFARM, tmp_path)
    vnfd_id = osc_json(server, "vnf", "package", "show", pkg_id)["VNFD ID"]
    inst = osc_json(server, "vnflcm", "create", vnfd_id, "--name", "tacker-made", v2=True)
    iid = str(inst["ID"])
    try:
        assert inst["Instantiation State"] == "NOT_INSTANTIATED"
        assert iid in [i["ID"] for i in osc_json(server, "vnflcm", "list", v2=True)]
        params = tmp_path / "instantiate.json"
        params.write_text(json.dumps({"flavourId": "default", "instantiationLevelId": "small"}))
        assert "accepted" in osc(server, "vnflcm", "instantiate", iid, str(params), v2=True).stdout

        def settled(operation: str) -> dict[str, Any] | None:
            # polled over plain HTTP (an openstack command takes seconds); the
            # client's own op list / op show are checked once at the end
            with server.client() as c:
                ops = c.get(
                    "/vnflcm/v2/vnf_lcm_op_occs", params={"filter": f"(eq,vnfInstanceId,{iid})"}
                ).json()
            op = ops[-1] if ops else None
            if (
                op
                and op["operation"] == operation
                and op["operationState"]
                in (
                    "COMPLETED",
                    "FAILED_TEMP",
                    "FAILED",
                    "ROLLED_BACK",
                )
            ):
                return {"Operation State": op["operationState"], "ID": op["id"]}
            return None

        assert wait_for(lambda: settled("INSTANTIATE"))["Operation State"] == "COMPLETED"
        shown = osc_json(server, "vnflcm", "show", iid, v2=True)
        assert shown["Instantiation State"] == "INSTANTIATED"

        out = osc(
            server, "vnflcm", "scale", "--type", "SCALE_OUT", "--aspect-id", "web", iid, v2=True
        )
        assert "accepted" in out.stdout
        assert wait_for(lambda: settled("SCALE"))["Operation State"] == "COMPLETED"

        info = shown["Instantiated Vnf Info"]
        web = sorted(v["id"] for v in info["vnfcInfo"] if v["vduId"] == "web")[0]
        out = osc(server, "vnflcm", "heal", "--vnfc-instance", web, "--", iid, v2=True)
        assert "accepted" in out.stdout
        assert wait_for(lambda: settled("HEAL"))["Operation State"] == "COMPLETED"

        out = osc(server, "vnflcm", "terminate", iid, v2=True)
        assert "accepted" in out.stdout
        assert wait_for(lambda: settled("TERMINATE"))["Operation State"] == "COMPLETED"
        assert leftovers(iid) == {}
        listed = osc_json(server, "vnflcm", "op", "list", v2=True)
        mine = [o for o in listed if o["VNF Instance ID"] == iid]
        assert [o["Operation"] for o in mine] == ["INSTANTIATE", "SCALE", "HEAL", "TERMINATE"]
        shown_op = osc_json(server, "vnflcm", "op", "show", mine[0]["ID"], v2=True)
        assert shown_op["Operation State"] == "COMPLETED"
        osc(server, "vnflcm", "delete", iid, v2=True)
        assert osc(server, "vnflcm", "show", iid, v2=True, check=False).returncode != 0
    finally:
        cleanup_instance(iid)


def test_server_without_credentials_refuses_the_client(tmp_path: Path) -> None:
    srv = make_server(tmp_path)
    srv.env["VNFM_API_PASSWORD"] = "another-password"
    srv.start()
    try:
        result = osc(srv, "vnf", "package", "list", check=False)
        assert result.returncode != 0 and "wrong user name or password" in result.stderr
    finally:
        srv.stop()
