"""``POST /vnfpkgm/v1/vnf_packages/{id}/package_content/upload_from_uri`` (SOL005 9.4.6):
a real server fetches the zip from a real HTTP server (tests/api/file_server.py),
then onboards it as a direct upload. A bad request is a 400 naming the field
before anything is fetched; a failed download leaves the package ERROR with a
ProblemDetails in ``onboardingFailureDetails``; no credential is ever logged or
returned. The server under test accepts packages up to 1 MB."""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.file_server import (
    BASIC_PASSWORD,
    BASIC_USER,
    OAUTH_CLIENT,
    OAUTH_SECRET,
    TOKEN,
    FileServer,
)
from tests.api.server import WEBFARM, Server, free_port, running, zip_dir
from vnfm_runner.api.package_fetch import FetchError, Source, fetch

PKGS = "/vnfpkgm/v1/vnf_packages"
WEBFARM_ZIP = zip_dir(WEBFARM)
BIG = os.urandom(1024 * 1024 + 4096)  # just over the server's 1 MB limit


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running(tmp_path_factory.mktemp("vnfm-uri"), api_max_package_mb="1") as srv:
        yield srv


@pytest.fixture(scope="module")
def files() -> Iterator[FileServer]:
    fs = FileServer(
        {
            "/webfarm.zip": WEBFARM_ZIP,
            "/basic/webfarm.zip": WEBFARM_ZIP,
            "/oauth/webfarm.zip": WEBFARM_ZIP,
            "/big.zip": BIG,
            "/chunked/big.zip": BIG,
            "/notes.txt": b"not a zip at all\n",
        }
    )
    try:
        yield fs
    finally:
        fs.close()


def new_package(client: httpx.Client) -> str:
    r = client.post(PKGS, json={})
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def from_uri(client: httpx.Client, pkg_id: str, body: dict[str, Any]) -> httpx.Response:
    return client.post(f"{PKGS}/{pkg_id}/package_content/upload_from_uri", json=body)


def settled(client: httpx.Client, pkg_id: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        doc: dict[str, Any] = client.get(f"{PKGS}/{pkg_id}").json()
        if doc["onboardingState"] in ("ONBOARDED", "ERROR"):
            return doc
        time.sleep(0.2)
    raise AssertionError(f"package {pkg_id} never settled")


def test_fetched_package_is_onboarded(client: httpx.Client, files: FileServer) -> None:
    pkg_id = new_package(client)
    r = from_uri(client, pkg_id, {"addressInformation": files.url("/webfarm.zip")})
    assert r.status_code == 202 and not r.content
    doc = settled(client, pkg_id)
    assert doc["onboardingState"] == "ONBOARDED", doc.get("onboardingFailureDetails")
    assert doc["operationalState"] == "ENABLED" and doc["vnfProvider"] == "vnfm-toolkit"
    assert doc["checksum"]["hash"] == hashlib.sha256(WEBFARM_ZIP).hexdigest()
    # what the server fetched is what it now serves as the package content
    assert client.get(f"{PKGS}/{pkg_id}/package_content").content == WEBFARM_ZIP
    # the content is there now: a second upload is refused
    again = from_uri(client, pkg_id, {"addressInformation": files.url("/webfarm.zip")})
    assert again.status_code == 409 and again.json()["status"] == 409


def test_put_is_accepted_too(client: httpx.Client, files: FileServer) -> None:
    pkg_id = new_package(client)
    r = client.put(
        f"{PKGS}/{pkg_id}/package_content/upload_from_uri",
        json={"addressInformation": files.url("/redirect/webfarm.zip")},
    )
    assert r.status_code == 202, r.text
    assert settled(client, pkg_id)["onboardingState"] == "ONBOARDED"


def test_basic_credentials_are_used_and_never_shown(
    server: Server, client: httpx.Client, files: FileServer
) -> None:
    pkg_id = new_package(client)
    body = {
        "addressInformation": files.url("/basic/webfarm.zip"),
        "userName": BASIC_USER,
        "password": BASIC_PASSWORD,
    }
    assert from_uri(client, pkg_id, body).status_code == 202
    doc = settled(client, pkg_id)
    assert doc["onboardingState"] == "ONBOARDED", doc.get("onboardingFailureDetails")

    wrong = new_package(client)
    body = {**body, "authType": "BASIC", "password": "not-" + BASIC_PASSWORD}
    assert from_uri(client, wrong, body).status_code == 202
    doc = settled(client, wrong)
    assert doc["onboardingState"] == "ERROR"
    failure = doc["onboardingFailureDetails"]
    assert failure["status"] == 502 and "answered HTTP 401" in failure["detail"]
    assert "addressInformation" in failure["detail"]
    listed = client.get(PKGS, params={"all_fields": ""}).text
    for text in (server.log(), listed, str(doc)):
        assert BASIC_PASSWORD not in text


def test_oauth2_client_credentials(client: httpx.Client, files: FileServer) -> None:
    pkg_id = new_package(client)
    body = {
        "addressInformation": files.url("/oauth/webfarm.zip"),
        "authType": "OAUTH2_CLIENT_CREDENTIALS",
        "paramsOauth2ClientCredentials": {
            "clientId": OAUTH_CLIENT,
            "clientPassword": OAUTH_SECRET,
            "tokenEndpoint": files.url("/token"),
        },
    }
    assert from_uri(client, pkg_id, body).status_code == 202
    doc = settled(client, pkg_id)
    assert doc["onboardingState"] == "ONBOARDED", doc.get("onboardingFailureDetails")
    assert ("GET", "/oauth/webfarm.zip", f"Bearer {TOKEN}") in files.requests


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"addressInformation": "ftp://127.0.0.1/webfarm.zip"}, "addressInformation"),
        ({"addressInformation": "file:///etc/passwd"}, "addressInformation"),
        ({"addressInformation": "http:///webfarm.zip"}, "addressInformation"),
        ({"addressInformation": "http://127.0.0.1:99999/x.zip"}, "addressInformation"),
        ({}, "addressInformation"),
        ({"addressInformation": "http://h/x.zip", "authType": "BASIC"}, "userName"),
        ({"addressInformation": "http://h/x.zip", "userName": "u"}, "password"),
        ({"addressInformation": "http://h/x.zip", "authType": "KERBEROS"}, "authType"),
        (
            {"addressInformation": "http://h/x.zip", "authType": "OAUTH2_CLIENT_CREDENTIALS"},
            "paramsOauth2ClientCredentials",
        ),
        ({"addressInformation": "http://h/x.zip", "checksum": "x"}, "checksum"),
    ],
)
def test_bad_requests_name_the_field(
    client: httpx.Client, files: FileServer, body: dict[str, Any], field: str
) -> None:
    pkg_id = new_package(client)
    before = len(files.requests)
    r = from_uri(client, pkg_id, body)
    assert r.status_code == 400, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    problem = r.json()
    assert problem["status"] == 400 and field in problem["detail"]
    assert client.get(f"{PKGS}/{pkg_id}").json()["onboardingState"] == "CREATED"
    assert len(files.requests) == before  # nothing was fetched


def test_unknown_package_is_404(client: httpx.Client, files: FileServer) -> None:
    r = from_uri(client, "no-such-package", {"addressInformation": files.url("/webfarm.zip")})
    assert r.status_code == 404 and r.json()["status"] == 404


@pytest.mark.parametrize(
    ("path", "status", "words"),
    [
        (None, 502, "cannot fetch"),  # nothing listens there
        ("/missing.zip", 502, "answered HTTP 404"),
        ("/big.zip", 413, "larger than 1 MB"),  # refused on its Content-Length
        ("/chunked/big.zip", 413, "larger than 1 MB"),  # counted while it streams
        ("/notes.txt", 422, "not a zip archive"),
    ],
)
def test_failed_download_is_an_onboarding_error(
    server: Server,
    client: httpx.Client,
    files: FileServer,
    path: str | None,
    status: int,
    words: str,
) -> None:
    uri = files.url(path) if path else f"http://127.0.0.1:{free_port()}/webfarm.zip"
    pkg_id = new_package(client)
    assert from_uri(client, pkg_id, {"addressInformation": uri + "?sig=s3cr3t"}).status_code == 202
    doc = settled(client, pkg_id)
    assert doc["onboardingState"] == "ERROR" and doc["operationalState"] == "DISABLED"
    failure = doc["onboardingFailureDetails"]
    assert failure["status"] == status and words in failure["detail"], failure
    assert failure["detail"].startswith("addressInformation: ")
    assert "s3cr3t" not in failure["detail"]  # a signed URL's query is not echoed
    assert not (server.home / "api" / "uploads" / f"{pkg_id}.zip").exists()
    # an ERROR package is DISABLED and can be deleted
    assert client.delete(f"{PKGS}/{pkg_id}").status_code == 204


def test_download_time_is_bounded(files: FileServer, tmp_path: Path) -> None:
    target = tmp_path / "p.zip"
    started = time.monotonic()
    with pytest.raises(FetchError) as err:
        fetch(Source(files.url("/hang")), target, limit=1024, timeout=1.0)
    assert time.monotonic() - started < 10
    assert err.value.status == 504 and "did not deliver in 1 s" in err.value.detail
    assert not target.exists()


def test_source_repr_hides_credentials() -> None:
    source = Source("http://u:pw@example.org/p.zip?sig=abc", basic=("u", "pw"))
    assert repr(source) == "Source('http://example.org/p.zip')"


@pytest.mark.parametrize(
    "uri",
    [
        "http://169.254.169.254/latest/meta-data",
        "http://[fe80::1]/p.zip",
        # the spellings that got past the first check (issue 11)
        "http://[::ffff:169.254.169.254]/p.zip",
        "http://[::ffff:a9fe:a9fe]/p.zip",
        "http://2852039166/p.zip",
        "http://0xa9fea9fe/p.zip",
        "http://169.254.43518/p.zip",
    ],
)
def test_link_local_addresses_are_never_fetched(uri: str, tmp_path: Path) -> None:
    # cloud metadata services live there: refused before any connection is tried (the
    # API refuses them at once, tests/api/test_outbound_policy.py; fetch checks again)
    target = tmp_path / "p.zip"
    started = time.monotonic()
    with pytest.raises(FetchError) as err:
        fetch(Source(uri), target, limit=1024, timeout=30.0)
    assert time.monotonic() - started < 5
    assert err.value.status == 422 and "link-local" in err.value.detail, err.value.detail
    assert not target.exists()
