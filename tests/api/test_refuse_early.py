"""Requests that cannot be done are refused before they are accepted, against a real server.

Re-upload of a vnfdId with other content (409, the upload back to CREATED), zips that
cannot be unpacked (a member that is a file and a directory), onboarding errors that
never name server paths, a full disk (507 from a real tmpfs), PATCH and
change_ext_conn requests that nothing could apply (4xx, no operation occurrence),
and a retried operation that completes without its old error.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
import time
import uuid
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from tests.api.server import (
    REPO_ROOT,
    WEBFARM,
    Server,
    make_server,
    onboard_via_api,
    op_id_of,
    wait_op,
    zip_dir,
)
from tests.integration.conftest import cleanup_instance, requires_root

PKGS = "/vnfpkgm/v1/vnf_packages"
F = TypeVar("F", bound=Callable[..., Any])


def needs_root(test: F) -> F:
    for mark in requires_root:
        test = mark(test)
    return test


INST = "/vnflcm/v2/vnf_instances"
OPS = "/vnflcm/v2/vnf_lcm_op_occs"


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/problem+json")
    doc: dict[str, Any] = response.json()
    assert doc["status"] == status
    return doc


def upload(client: httpx.Client, content: bytes) -> str:
    """A new package resource with ``content`` uploaded; its id (onboarding under way)."""
    r = client.post(PKGS, json={})
    assert r.status_code == 201, r.text
    pkg_id = str(r.json()["id"])
    r = client.put(
        f"{PKGS}/{pkg_id}/package_content",
        content=content,
        headers={"Content-Type": "application/zip"},
    )
    assert r.status_code == 202, r.text
    return pkg_id


def settled(client: httpx.Client, pkg_id: str, timeout: float = 120) -> dict[str, Any]:
    """The VnfPkgInfo once onboarding has ended (ONBOARDED, ERROR, or CREATED again)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        doc: dict[str, Any] = client.get(f"{PKGS}/{pkg_id}").json()
        if doc["onboardingState"] in ("ONBOARDED", "ERROR", "CREATED"):
            return doc
        time.sleep(0.2)
    raise AssertionError(f"package {pkg_id} never finished onboarding")


def changed_webfarm(tmp_path: Path) -> Path:
    """webfarm with one more file: a valid package, same vnfdId, other content."""
    root = tmp_path / "webfarm-changed"
    shutil.copytree(WEBFARM, root, ignore=shutil.ignore_patterns("__pycache__"))
    (root / "Files" / "extra.txt").write_text("not in the onboarded webfarm\n")
    return root


def no_server_paths(text: str, server: Server) -> None:
    assert "/tmp" not in text and str(server.home) not in text and "vnfm-pkg-" not in text, text


def vnfm_cli(server: Server, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vnfm_runner", *args],
        env=server.env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


# -- packages ---------------------------------------------------------------------------------
def test_reupload_of_a_changed_package_with_the_same_vnfd_id_is_refused(
    server: Server, client: httpx.Client, tmp_path: Path
) -> None:
    first = onboard_via_api(client, zip_dir(WEBFARM))
    assert first["onboardingState"] == "ONBOARDED"
    artifact = f"{PKGS}/{first['id']}/artifacts/Files/extra.txt"
    problem(client.get(artifact), 404)

    # a changed package with the same vnfdId: refused, the upload back to CREATED
    changed = changed_webfarm(tmp_path)
    pkg_id = upload(client, zip_dir(changed))
    doc = settled(client, pkg_id)
    assert doc["onboardingState"] == "CREATED", doc
    assert doc["operationalState"] == "DISABLED"
    failure = doc["onboardingFailureDetails"]
    assert failure["status"] == 409 and first["vnfdId"] in failure["detail"], failure
    assert "checksum" not in doc and "vnfdId" not in doc
    problem(client.get(f"{PKGS}/{pkg_id}/package_content"), 409)
    problem(client.get(artifact), 404)  # the onboarded package is the one that runs
    no_server_paths(json.dumps(doc), server)

    # the same resource takes a corrected upload: the byte-identical package is accepted
    r = client.put(
        f"{PKGS}/{pkg_id}/package_content",
        content=zip_dir(WEBFARM),
        headers={"Content-Type": "application/zip"},
    )
    assert r.status_code == 202, r.text
    doc = settled(client, pkg_id)
    assert doc["onboardingState"] == "ONBOARDED", doc
    assert "onboardingFailureDetails" not in doc
    assert doc["vnfdId"] == first["vnfdId"]

    # the CLI refuses the changed package too, with one clear line; the same one passes
    done = vnfm_cli(server, "package", "onboard", str(changed))
    assert done.returncode != 0
    assert "already onboarded" in done.stderr and "Traceback" not in done.stderr, done.stderr
    again = vnfm_cli(server, "package", "onboard", str(WEBFARM))
    assert again.returncode == 0 and again.stdout.strip() == first["vnfdId"], again.stderr


def test_a_zip_member_that_is_a_file_and_a_directory_is_named(
    server: Server, client: httpx.Client
) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for path in sorted(WEBFARM.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                zf.write(path, path.relative_to(WEBFARM).as_posix())
        zf.writestr("Files/clash", "a file")
        zf.writestr("Files/clash/inside.txt", "and a directory")
    doc = settled(client, upload(client, buf.getvalue()))
    assert doc["onboardingState"] == "ERROR", doc
    failure = doc["onboardingFailureDetails"]
    assert failure["status"] == 422, failure
    assert "'Files/clash' is a file and also a directory" in failure["detail"], failure
    no_server_paths(json.dumps(failure), server)


def test_onboarding_errors_name_no_server_path(server: Server, client: httpx.Client) -> None:
    doc = settled(client, upload(client, b"this is no zip"))
    assert doc["onboardingState"] == "ERROR"
    failure = doc["onboardingFailureDetails"]
    assert "not a zip" in failure["detail"], failure
    no_server_paths(json.dumps(failure), server)


# -- a full disk ----------------------------------------------------------------------------------
@pytest.fixture
def small_home(tmp_path: Path) -> Iterator[Path]:
    """A 8 MiB tmpfs as a server's VNFM_HOME (unmounted afterwards)."""
    home = tmp_path / "small-home"
    home.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=8m,mode=0700", "tmpfs", str(home)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs: {mounted.stderr.strip()}")
    try:
        yield home
    finally:
        subprocess.run(["umount", "-l", str(home)], check=False)


@needs_root
def test_a_full_disk_answers_507_and_stores_nothing(small_home: Path) -> None:
    srv = make_server(small_home).start()
    try:
        with srv.client() as client:
            # a package larger than the space left: 507, the resource back to CREATED
            r = client.post(PKGS, json={})
            assert r.status_code == 201, r.text
            pkg_id = r.json()["id"]
            big = b"PK" + bytes(12 * 1024 * 1024)
            doc = problem(
                client.put(
                    f"{PKGS}/{pkg_id}/package_content",
                    content=big,
                    headers={"Content-Type": "application/zip"},
                ),
                507,
            )
            no_server_paths(json.dumps(doc), srv)
            assert client.get(f"{PKGS}/{pkg_id}").json()["onboardingState"] == "CREATED"
            assert not list((small_home / "api" / "uploads").glob("*.zip"))

            # no room for a record: 507, and nothing was stored
            before = client.get(PKGS).json()
            filler = small_home / "filler"
            subprocess.run(
                ["dd", "if=/dev/zero", f"of={filler}", "bs=64k"], capture_output=True, check=False
            )
            doc = problem(client.post(PKGS, json={"userDefinedData": {"k": "v" * 4096}}), 507)
            no_server_paths(json.dumps(doc), srv)
            filler.unlink()
            assert client.get(PKGS).json() == before
            # space again: the same request is stored
            assert client.post(PKGS, json={}).status_code == 201
    finally:
        srv.stop()


# -- LCM requests --------------------------------------------------------------------------------
def op_count(client: httpx.Client, iid: str) -> int:
    r = client.get(OPS, params={"filter": f"(eq,vnfInstanceId,{iid})"})
    assert r.status_code == 200, r.text
    return len(r.json())


def merge_patch(client: httpx.Client, iid: str, body: dict[str, Any]) -> httpx.Response:
    return client.patch(
        f"{INST}/{iid}",
        content=json.dumps(body),
        headers={"Content-Type": "application/merge-patch+json"},
    )


def test_modifications_that_nothing_could_apply_are_refused(
    server: Server, client: httpx.Client, tmp_path: Path
) -> None:
    pkg = onboard_via_api(client, zip_dir(WEBFARM))
    iid = client.post(INST, json={"vnfdId": pkg["vnfdId"]}).json()["id"]

    doc = problem(merge_patch(client, iid, {"vnfdId": "nope"}), 422)
    assert "vnfdId" in doc["detail"] and "nope" in doc["detail"]
    doc = problem(
        merge_patch(client, iid, {"vimConnectionInfo": {"v1": {"vimType": "bogus"}}}), 422
    )
    assert "vimConnectionInfo.v1.vimType" in doc["detail"], doc
    assert op_count(client, iid) == 0  # nothing was recorded
    assert client.get(f"{INST}/{iid}").json()["vnfdId"] == pkg["vnfdId"]

    # the CLI goes through the same check
    params = tmp_path / "modify.json"
    params.write_text(json.dumps({"vnfdId": "nope"}))
    done = vnfm_cli(server, "modify", iid, "--params", str(params), "-q")
    assert done.returncode != 0 and "vnfdId 'nope'" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    assert op_count(client, iid) == 0

    # what can be applied still is, and shows
    r = merge_patch(client, iid, {"vnfdId": pkg["vnfdId"], "vnfInstanceName": "kept"})
    op = wait_op(client, op_id_of(r), ("COMPLETED", "FAILED_TEMP"), timeout=60)
    assert op["operationState"] == "COMPLETED", op
    assert client.get(f"{INST}/{iid}").json()["vnfInstanceName"] == "kept"
    assert client.delete(f"{INST}/{iid}").status_code == 204


@pytest.fixture
def ext_bridge() -> Iterator[str]:
    name = f"vt{uuid.uuid4().hex[:10]}"
    yield name
    subprocess.run(["ip", "link", "del", "dev", name], capture_output=True, check=False)


@needs_root
def test_change_ext_conn_is_checked_and_a_completed_retry_has_no_error(
    server: Server, client: httpx.Client, ext_bridge: str
) -> None:
    pkg = onboard_via_api(client, zip_dir(WEBFARM))
    iid = client.post(INST, json={"vnfdId": pkg["vnfdId"]}).json()["id"]
    try:
        # the external bridge has no address yet: the local VIM fails, FAILED_TEMP
        link = {"id": "ext", "resourceId": ext_bridge, "extCps": [{"cpdId": "lb_ext_cp"}]}
        r = client.post(
            f"{INST}/{iid}/instantiate",
            json={
                "flavourId": "default",
                "instantiationLevelId": "small",
                "extVirtualLinks": [link],
                "additionalParams": {"vnfm_hooks": False},
            },
        )
        op = wait_op(client, op_id_of(r), ("COMPLETED", "FAILED_TEMP"))
        assert op["operationState"] == "FAILED_TEMP" and op["error"], op
        # give the bridge its address, retry: COMPLETED, and no error left from the failure
        for cmd in (
            ["link", "add", "name", ext_bridge, "type", "bridge"],
            ["addr", "add", "198.51.100.1/24", "dev", ext_bridge],
            ["link", "set", "dev", ext_bridge, "up"],
        ):
            subprocess.run(["ip", *cmd], check=True)
        before = client.get(f"{OPS}/{op['id']}").json()
        assert client.post(f"{OPS}/{op['id']}/retry").status_code == 202
        deadline = time.monotonic() + 400
        while time.monotonic() < deadline:
            op = client.get(f"{OPS}/{op['id']}").json()
            if op["stateEnteredTime"] != before["stateEnteredTime"] and op["operationState"] in (
                "COMPLETED",
                "FAILED_TEMP",
            ):
                break
            time.sleep(0.5)
        assert op["operationState"] == "COMPLETED", op
        assert op.get("error") is None, op["error"]

        # an external link no VIM could attach: refused before anything is recorded
        count = op_count(client, iid)
        for links, field in (
            ([{"id": "x"}], "extVirtualLinks[0].resourceId"),
            ([{"id": "x", "resourceId": ext_bridge}], "extVirtualLinks[0].extCps"),
        ):
            doc = problem(
                client.post(f"{INST}/{iid}/change_ext_conn", json={"extVirtualLinks": links}),
                422,
            )
            assert field in doc["detail"], doc
        assert op_count(client, iid) == count
    finally:
        cleanup_instance(iid)
