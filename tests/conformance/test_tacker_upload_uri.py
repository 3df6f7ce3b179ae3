"""python-tackerclient's ``openstack vnf package upload --url URI [--user-name U
--password P]`` against ``vnfm serve``: the server fetches the zip from a real
local HTTP server (tests/api/file_server.py) and onboards it.

Where the client and SOL005 disagree, SOL005 wins:
- the client sends ``userName``/``password`` without ``authType`` (the SOL005
  2.x form); SOL005 3.3.1 9.5.2.4 adds ``authType: BASIC``. The server takes
  both: credentials without an authType mean BASIC.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import pytest

from tests.api.file_server import BASIC_PASSWORD, BASIC_USER, FileServer
from tests.api.server import PASSWORD, WEBFARM, Server, make_server, zip_dir
from tests.conformance.test_tackerclient import OPENSTACK, osc, osc_json, wait_for

pytestmark = pytest.mark.skipif(
    not OPENSTACK.exists(), reason="python-openstackclient / python-tackerclient are not installed"
)
WEBFARM_ZIP = zip_dir(WEBFARM)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = make_server(tmp_path_factory.mktemp("vnfm-tacker-uri")).start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def files() -> Iterator[FileServer]:
    fs = FileServer({"/webfarm.zip": WEBFARM_ZIP, "/basic/webfarm.zip": WEBFARM_ZIP})
    try:
        yield fs
    finally:
        fs.close()


def settled(server: Server, pkg_id: str) -> dict[str, Any]:
    def done() -> dict[str, Any] | None:
        doc: dict[str, Any] = osc_json(server, "vnf", "package", "show", pkg_id)
        return doc if doc["Onboarding State"] in ("ONBOARDED", "ERROR") else None

    return dict(wait_for(done, timeout=120))


def test_upload_from_url(server: Server, files: FileServer) -> None:
    pkg_id = str(osc_json(server, "vnf", "package", "create")["ID"])
    out = osc(server, "vnf", "package", "upload", "--url", files.url("/webfarm.zip"), pkg_id)
    assert f"Upload request for VNF package {pkg_id} has been accepted" in out.stdout
    shown = settled(server, pkg_id)
    assert shown["Onboarding State"] == "ONBOARDED" and shown["Operational State"] == "ENABLED"
    assert shown["Checksum"]["hash"] == hashlib.sha256(WEBFARM_ZIP).hexdigest()
    assert shown["VNF Provider"] == "vnfm-toolkit"
    assert ("GET", "/webfarm.zip", "") in files.requests


def test_upload_from_url_with_credentials(server: Server, files: FileServer) -> None:
    pkg_id = str(osc_json(server, "vnf", "package", "create")["ID"])
    url = files.url("/basic/webfarm.zip")
    credentials = ("--user-name", BASIC_USER, "--password", BASIC_PASSWORD)
    osc(server, "vnf", "package", "upload", "--url", url, *credentials, pkg_id)
    shown = settled(server, pkg_id)
    assert shown["Onboarding State"] == "ONBOARDED", shown.get("Onboarding Failure Details")
    assert any(p == "/basic/webfarm.zip" and a.startswith("Basic ") for _m, p, a in files.requests)
    raw = osc(server, "vnf", "package", "show", pkg_id, "-f", "json").stdout
    for text in (raw, server.log()):
        assert BASIC_PASSWORD not in text and PASSWORD not in text


def test_upload_from_url_errors(server: Server, files: FileServer) -> None:
    pkg_id = str(osc_json(server, "vnf", "package", "create")["ID"])
    bad = "ftp://127.0.0.1/p.zip"
    refused = osc(server, "vnf", "package", "upload", "--url", bad, pkg_id, check=False)
    assert refused.returncode != 0 and "addressInformation" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert osc_json(server, "vnf", "package", "show", pkg_id)["Onboarding State"] == "CREATED"
    # a URI that answers 404: accepted, then ERROR with the reason
    osc(server, "vnf", "package", "upload", "--url", files.url("/nothing.zip"), pkg_id)
    shown = settled(server, pkg_id)
    assert shown["Onboarding State"] == "ERROR"
    with server.client() as c:  # the client has no column for onboardingFailureDetails
        failure = c.get(f"/vnfpkgm/v1/vnf_packages/{pkg_id}").json()["onboardingFailureDetails"]
    assert failure["status"] == 502 and "answered HTTP 404" in failure["detail"]
