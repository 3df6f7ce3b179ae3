"""The SOL003 / SOL005 API over real HTTP against a real ``vnfm serve`` (no root needed).

Every route, the error codes (400 naming the field, 401, 404, 409, 415, 422),
paging and filters over many instances made through the service layer,
package upload and onboarding (with FILE:LINE failures), subscriptions,
security (Basic, OAuth2 tokens, expiry), /metrics, /openapi.json, and that
no credential ever comes back in a response or reaches the server's log.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import shutil
import ssl
import subprocess
import sys
import threading
import time
import uuid
import zipfile
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest

from tests.api.server import (
    OAUTH_ID,
    OAUTH_SECRET,
    PASSWORD,
    REPO_ROOT,
    WEBFARM,
    Server,
    make_server,
    onboard_via_api,
    op_id_of,
    wait_op,
    zip_dir,
)

PKGS = "/vnfpkgm/v1/vnf_packages"
INST = "/vnflcm/v2/vnf_instances"
OPS = "/vnflcm/v2/vnf_lcm_op_occs"
VIM_PASSWORD = "Vim-Passw0rd-never-shown-51f0"


def problem(r: httpx.Response, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json"), r.headers
    doc: dict[str, Any] = r.json()
    assert doc["status"] == status and doc["title"] and doc["detail"] and doc["type"]
    return doc


@pytest.fixture(scope="module")
def package(server: Server) -> dict[str, Any]:
    with server.client() as c:
        doc = onboard_via_api(c, zip_dir(WEBFARM))
    assert doc["onboardingState"] == "ONBOARDED", doc
    return doc


def create_instance(c: httpx.Client, vnfd_id: str, name: str = "api-test") -> str:
    r = c.post(INST, json={"vnfdId": vnfd_id, "vnfInstanceName": name})
    assert r.status_code == 201, r.text
    assert r.headers["Location"] == f"{INST}/{r.json()['id']}"
    return str(r.json()["id"])


def insert_operation(server: Server, instance_id: str, state: str, **fields: Any) -> str:
    """An LcmOpOcc put straight into the store (a state no VIM needs to produce)."""
    from vnfm_runner import records
    from vnfm_runner.domain import Operation, OperationState
    from vnfm_runner.domain.records import VnfLcmOpOccRecord
    from vnfm_runner.store.db import now

    store = server.service().store
    op_id = str(uuid.uuid4())
    doc = records.new_operation(
        op_id=op_id, instance_id=instance_id, operation="SCALE", params={"aspectId": "web"}
    )
    doc["operationState"] = state
    store.start_operation(
        VnfLcmOpOccRecord(
            id=op_id,
            vnf_instance_id=instance_id,
            operation=Operation.SCALE,
            state=OperationState(state),
            doc=doc,
            runner_ident=None,
            artifacts_dir=None,
            desired_before=None,
            desired_after=None,
            engine_id=fields.get("engine_id"),
            lease_expires_at=now() + timedelta(hours=1) if fields.get("engine_id") else None,
            created_at=now(),
        )
    )
    return op_id


# -- versions, openapi, metrics ------------------------------------------------------------------
def test_api_versions_and_version_header(client: httpx.Client) -> None:
    for path in ("/vnflcm/api_versions", "/vnflcm/v2/api_versions"):
        r = client.get(path)
        assert r.status_code == 200 and r.headers["Version"] == "2.0.0"
        assert r.json()["apiVersions"][0]["version"] == "2.0.0"
    r = client.get(INST, headers={"Version": "1.3.0"})
    problem(r, 406)
    assert client.get(PKGS).headers["Version"].startswith("2.")


def test_openapi_and_metrics(server: Server, client: httpx.Client) -> None:
    spec = httpx.get(f"{server.url}/openapi.json").json()
    for path in (INST, f"{INST}/{{instance_id}}/instantiate", OPS, PKGS, "/oauth2/token"):
        assert path in spec["paths"], path
    client.get(INST)
    text = httpx.get(f"{server.url}/metrics").text
    assert 'vnfm_api_requests_total{method="GET",route="/vnflcm/v2/vnf_instances"' in text
    assert "vnfm_lcm_operations" in text and "vnfm_lcm_operation_duration_seconds" in text


# -- security ------------------------------------------------------------------------------------
def _sign(home: Path, claims: dict[str, Any]) -> str:
    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).decode().rstrip("=")

    head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64(json.dumps(claims).encode())
    key = (home / "api" / "token.key").read_bytes()
    sig = b64(hmac.new(key, f"{head}.{body}".encode(), hashlib.sha256).digest())
    return f"{head}.{body}.{sig}"


def test_authentication(server: Server) -> None:
    url = f"{server.url}{INST}"
    doc = problem(httpx.get(url), 401)
    assert "credentials" in doc["detail"]
    assert "Basic" in httpx.get(url).headers["WWW-Authenticate"]
    problem(httpx.get(url, auth=("nfvo", "wrong")), 401)
    problem(httpx.get(url, auth=("someone", PASSWORD)), 401)
    problem(httpx.get(url, headers={"Authorization": "Digest abc"}), 401)
    assert httpx.get(url, auth=("nfvo", PASSWORD)).status_code == 200

    token_url = f"{server.url}/oauth2/token"
    form = {"grant_type": "client_credentials"}
    assert httpx.post(token_url, data=form, auth=(OAUTH_ID, "nope")).status_code == 401
    bad_grant = {"grant_type": "password"}
    assert httpx.post(token_url, data=bad_grant, auth=(OAUTH_ID, OAUTH_SECRET)).status_code == 400
    r = httpx.post(token_url, data=form, auth=(OAUTH_ID, OAUTH_SECRET))
    assert r.status_code == 200, r.text
    token = r.json()
    assert token["token_type"] == "Bearer" and token["expires_in"] > 0
    bearer = {"Authorization": f"Bearer {token['access_token']}"}
    assert httpx.get(url, headers=bearer).status_code == 200
    # client id and secret in the form work too
    r = httpx.post(token_url, data={**form, "client_id": OAUTH_ID, "client_secret": OAUTH_SECRET})
    assert r.status_code == 200

    expired = _sign(server.home, {"sub": OAUTH_ID, "iat": 1, "exp": int(time.time()) - 5})
    doc = problem(httpx.get(url, headers={"Authorization": f"Bearer {expired}"}), 401)
    assert "expired" in doc["detail"]
    forged = token["access_token"][:-4] + (
        "AAAA" if not token["access_token"].endswith("AAAA") else "BBBB"
    )
    problem(httpx.get(url, headers={"Authorization": f"Bearer {forged}"}), 401)
    unknown = _sign(server.home, {"sub": "ghost", "exp": int(time.time()) + 60})
    problem(httpx.get(url, headers={"Authorization": f"Bearer {unknown}"}), 401)


def test_anonymous_server(tmp_path: Path) -> None:
    srv = make_server(tmp_path, api_anonymous="true").start()
    try:
        assert httpx.get(f"{srv.url}{INST}").status_code == 200
    finally:
        srv.stop()


# -- VNF instances ---------------------------------------------------------------------------------
def test_instance_routes_and_errors(client: httpx.Client, package: dict[str, Any]) -> None:
    doc = problem(client.post(INST, json={"vnfInstanceName": "x"}), 400)
    assert "vnfdId" in doc["detail"]
    doc = problem(client.post(INST, json={"vnfdId": package["vnfdId"], "bogus": 1}), 400)
    assert "bogus" in doc["detail"]
    doc = problem(
        client.post(INST, content=b"{not json", headers={"Content-Type": "application/json"}),
        400,
    )
    problem(client.post(INST, json={"vnfdId": "no-such-vnfd"}), 422)

    r = client.post(
        INST,
        json={"vnfdId": package["vnfdId"], "vnfInstanceName": "one", "metadata": {"k": "v"}},
    )
    assert r.status_code == 201
    created = r.json()
    iid = created["id"]
    assert created["instantiationState"] == "NOT_INSTANTIATED"
    assert created["vnfPkgId"] == package["id"]
    shown = client.get(f"{INST}/{iid}").json()
    assert shown["metadata"] == {"k": "v"} and shown["vnfInstanceName"] == "one"
    problem(client.get(f"{INST}/{uuid.uuid4()}"), 404)

    # task resources: bad bodies name the field; wrong state is 409; unknown instance 404
    doc = problem(client.post(f"{INST}/{iid}/instantiate", json={}), 400)
    assert "flavourId" in doc["detail"]
    doc = problem(client.post(f"{INST}/{iid}/scale", json={"type": "UP", "aspectId": "web"}), 400)
    assert "type" in doc["detail"]
    doc = problem(
        client.post(
            f"{INST}/{iid}/scale", json={"type": "SCALE_OUT", "aspectId": "web", "numberOfSteps": 0}
        ),
        400,
    )
    assert "numberOfSteps" in doc["detail"]
    problem(client.post(f"{INST}/{iid}/instantiate", json={"flavourId": "nope"}), 422)
    problem(client.post(f"{INST}/{uuid.uuid4()}/instantiate", json={"flavourId": "default"}), 404)
    for task, body in (
        ("terminate", {"terminationType": "FORCEFUL"}),
        ("scale", {"type": "SCALE_OUT", "aspectId": "web"}),
        ("scale_to_level", {"instantiationLevelId": "large"}),
        ("change_flavour", {"newFlavourId": "compact"}),
        ("heal", {}),
        ("operate", {"changeStateTo": "STOPPED"}),
        ("change_ext_conn", {"extVirtualLinks": []}),
        ("change_vnfpkg", {"vnfdId": package["vnfdId"]}),
    ):
        problem(client.post(f"{INST}/{iid}/{task}", json=body), 409)
    doc = problem(client.post(f"{INST}/{iid}/operate", json={}), 400)
    assert "changeStateTo" in doc["detail"]
    problem(client.post(f"{INST}/{iid}/scale_to_level", json={}), 400)

    # PATCH = ModifyVnfInfo: 202 + an operation that completes in the server's pool
    problem(
        client.patch(f"{INST}/{iid}", content=b"{}", headers={"Content-Type": "text/plain"}), 415
    )
    r = client.patch(
        f"{INST}/{iid}",
        content=json.dumps({"vnfInstanceName": "renamed", "metadata": {"k": None, "n": 1}}),
        headers={"Content-Type": "application/merge-patch+json"},
    )
    op = wait_op(client, op_id_of(r), ("COMPLETED", "FAILED_TEMP"), timeout=60)
    assert op["operationState"] == "COMPLETED" and op["operation"] == "MODIFY_INFO"
    shown = client.get(f"{INST}/{iid}").json()
    assert shown["vnfInstanceName"] == "renamed" and shown["metadata"] == {"n": 1}

    r = client.delete(f"{INST}/{iid}")
    assert r.status_code == 204
    problem(client.get(f"{INST}/{iid}"), 404)
    problem(client.delete(f"{INST}/{iid}"), 404)


def test_busy_instance_and_op_task_resources(
    server: Server, client: httpx.Client, package: dict[str, Any]
) -> None:
    iid = create_instance(client, package["vnfdId"], "busy")
    running = insert_operation(server, iid, "PROCESSING", engine_id="elsewhere:1:test")
    doc = problem(client.post(f"{INST}/{iid}/instantiate", json={"flavourId": "default"}), 409)
    assert "busy" in doc["detail"]
    problem(client.delete(f"{INST}/{iid}"), 409)
    problem(client.patch(f"{INST}/{iid}", json={"vnfInstanceName": "x"}), 409)
    problem(client.post(f"{OPS}/{running}/retry"), 409)
    problem(client.post(f"{OPS}/{running}/rollback"), 409)
    problem(client.post(f"{OPS}/{running}/fail"), 409)
    doc = problem(client.post(f"{OPS}/{running}/cancel", json={"cancelMode": "SOFT"}), 400)
    assert "cancelMode" in doc["detail"]
    assert (
        client.post(f"{OPS}/{running}/cancel", json={"cancelMode": "GRACEFUL"}).status_code == 202
    )
    assert client.get(f"{OPS}/{running}").json()["isCancelPending"] is True

    # a FAILED_TEMP one can be failed (200 with the operation, FAILED is final)
    store = server.service().store
    store.update_operation(
        running,
        state="FAILED_TEMP",
        doc={**store.operation(running).doc, "operationState": "FAILED_TEMP"},
    )
    r = client.post(f"{OPS}/{running}/fail")
    assert r.status_code == 200 and r.json()["operationState"] == "FAILED"
    assert "vnfmExecution" not in r.json()
    problem(client.post(f"{OPS}/{running}/fail"), 409)
    problem(client.post(f"{OPS}/{uuid.uuid4()}/retry"), 404)
    problem(client.get(f"{OPS}/{uuid.uuid4()}"), 404)

    # a STARTING operation nobody runs is cancelled at once (ROLLED_BACK)
    waiting = insert_operation(server, iid, "STARTING")
    assert client.post(f"{OPS}/{waiting}/cancel").status_code == 202
    assert client.get(f"{OPS}/{waiting}").json()["operationState"] == "ROLLED_BACK"
    assert client.delete(f"{INST}/{iid}").status_code == 204


# -- paging and filters -----------------------------------------------------------------------------
def walk(client: httpx.Client, path: str, **params: str) -> tuple[list[dict[str, Any]], int]:
    items: list[dict[str, Any]] = []
    pages = 0
    url: str | None = path
    while url:
        r = client.get(url, params=params if url == path else None)
        assert r.status_code == 200, r.text
        pages += 1
        items += r.json()
        link = r.headers.get("Link")
        url = None
        if link:
            assert link.endswith('rel="next"')
            url = link[link.index("<") + 1 : link.index(">")]
    return items, pages


def test_paging_and_filters(server: Server, client: httpx.Client, package: dict[str, Any]) -> None:
    svc = server.service()
    tag = uuid.uuid4().hex[:6]
    made = [
        svc.create(vnfd_id=package["vnfdId"], name=f"pg-{tag}-{n:02d}")["id"] for n in range(25)
    ]
    for n, iid in enumerate(made[:5]):
        insert_operation(server, iid, "COMPLETED" if n % 2 else "FAILED")
    everything, pages = walk(client, INST)
    ids = [d["id"] for d in everything]
    assert len(ids) == len(set(ids)) and set(made) <= set(ids)
    assert pages == -(-len(ids) // 10)  # page size 10 on this server
    # default: complex attributes left out; all_fields puts them back
    assert "metadata" not in everything[0] and "vimConnectionInfo" not in everything[0]
    full = client.get(INST, params={"all_fields": ""}).json()[0]
    assert "metadata" in full and "vimConnectionInfo" in full
    some = client.get(INST, params={"fields": "metadata"}).json()[0]
    assert "metadata" in some and "vimConnectionInfo" not in some
    less = client.get(INST, params={"exclude_fields": "vnfProvider,_links.self"}).json()[0]
    assert "vnfProvider" not in less and "self" not in less["_links"] and "metadata" in less

    mine, _ = walk(client, INST, filter=f"(cont,vnfInstanceName,pg-{tag}-)")
    assert sorted(d["id"] for d in mine) == sorted(made)
    assert [d["vnfInstanceName"] for d in mine] == sorted(d["vnfInstanceName"] for d in mine)
    flt = f"(cont,vnfInstanceName,pg-{tag}-);(in,vnfInstanceName,pg-{tag}-03,pg-{tag}-07)"
    assert {d["id"] for d in client.get(INST, params={"filter": flt}).json()} == {made[3], made[7]}
    flt = f"(eq,vnfdId,{package['vnfdId']});(neq,instantiationState,INSTANTIATED);(gte,vnfInstanceName,pg-{tag}-20);(lt,vnfInstanceName,pg-{tag}-22)"
    assert [d["id"] for d in client.get(INST, params={"filter": flt}).json()] == made[20:22]
    flt = f"(eq,_links/self/href,{INST}/{made[4]})"
    assert [d["id"] for d in client.get(INST, params={"filter": flt}).json()] == [made[4]]
    flt = f"(nin,id,{','.join(ids[1:])})"
    assert [d["id"] for d in client.get(INST, params={"filter": flt}).json()] == [ids[0]]
    flt = f"(ncont,vnfInstanceName,pg-);(eq,vnfInstanceName,'pg-{tag}-01')"
    assert client.get(INST, params={"filter": flt}).json() == []
    for bad in ("eq,id,x", "(zz,id,x)", "(eq,id)", "(eq,id,x)(eq,id,y)", "(eq,id,'x"):
        doc = problem(client.get(INST, params={"filter": bad}), 400)
        assert "filter" in doc["detail"]
    problem(client.get(INST, params={"nextpage_opaque_marker": "garbage!"}), 400)
    problem(client.get(INST, params={"all_fields": "", "fields": "metadata"}), 400)

    ops, _ = walk(client, OPS, filter=f"(in,vnfInstanceId,{','.join(made[:5])})")
    assert len(ops) == 5 and "operationParams" not in ops[0]
    failed = client.get(
        OPS,
        params={"filter": f"(eq,operationState,FAILED);(in,vnfInstanceId,{','.join(made[:5])})"},
    ).json()
    assert {o["vnfInstanceId"] for o in failed} == {made[0], made[2], made[4]}
    full_op = client.get(OPS, params={"filter": f"(eq,vnfInstanceId,{made[0]})", "all_fields": ""})
    assert full_op.json()[0]["operationParams"] == {"aspectId": "web"}


# -- VNF packages -----------------------------------------------------------------------------------
def test_attribute_selectors_share_but_never_change_the_document() -> None:
    """Listings select from documents without copying them whole: what is dropped or
    kept is right, and the document read from the store is left as it was."""
    from vnfm_runner.api import filters

    doc = {
        "id": "i",
        "metadata": {"k": "v"},
        "instantiatedVnfInfo": {"flavourId": "f", "vnfcResourceInfo": [{"id": "c", "x": 1}]},
        "links": [{"href": "a", "extra": 1}, {"href": "b"}],
    }
    before = json.loads(json.dumps(doc))

    def sel(**given: str) -> dict[str, Any]:
        opts: dict[str, Any] = dict.fromkeys(
            ("all_fields", "fields", "exclude_fields", "exclude_default")
        )
        opts.update(given)
        return filters.selector(**opts, default_excluded=("metadata", "instantiatedVnfInfo")).apply(
            doc
        )

    assert sel() == {"id": "i", "links": doc["links"]}
    assert sel(all_fields="") is doc
    assert sel(fields="instantiatedVnfInfo/flavourId") == {
        "id": "i",
        "links": doc["links"],
        "instantiatedVnfInfo": {"flavourId": "f"},
    }
    assert sel(exclude_fields="links/extra,instantiatedVnfInfo/vnfcResourceInfo/x") == {
        "id": "i",
        "metadata": {"k": "v"},
        "instantiatedVnfInfo": {"flavourId": "f", "vnfcResourceInfo": [{"id": "c"}]},
        "links": [{"href": "a"}, {"href": "b"}],
    }
    assert doc == before


def test_package_routes(server: Server, client: httpx.Client, package: dict[str, Any]) -> None:
    pid = package["id"]
    listed = client.get(PKGS).json()
    assert pid in [p["id"] for p in listed]
    assert client.get(PKGS, params={"filter": f"(eq,vnfdId,{package['vnfdId']})"}).json()
    for key in ("vnfdId", "vnfProvider", "vnfProductName", "vnfSoftwareVersion", "vnfdVersion"):
        assert package[key], key
    assert package["operationalState"] == "ENABLED" and package["usageState"] == "NOT_IN_USE"
    assert package["checksum"]["algorithm"] == "SHA-256"

    r = client.get(f"{PKGS}/{pid}/vnfd", headers={"Accept": "text/plain"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    assert r.text == (WEBFARM / "Definitions" / "webfarm_top.yaml").read_text()
    r = client.get(f"{PKGS}/{pid}/vnfd", headers={"Accept": "application/zip"})
    names = zipfile.ZipFile(io.BytesIO(r.content)).namelist()
    assert "Definitions/webfarm_top.yaml" in names and "TOSCA-Metadata/TOSCA.meta" in names
    problem(client.get(f"{PKGS}/{pid}/vnfd", headers={"Accept": "image/png"}), 406)

    r = client.get(f"{PKGS}/{pid}/artifacts/Scripts/instantiate_end.yml")
    assert r.status_code == 200
    assert r.content == (WEBFARM / "Scripts" / "instantiate_end.yml").read_bytes()
    for escape in (
        "../../../../etc/passwd",
        "..%2F..%2F..%2Fetc%2Fpasswd",
        "%2Fetc%2Fpasswd",
        "Nope.txt",
    ):
        r = client.get(f"{PKGS}/{pid}/artifacts/{escape}")
        assert r.status_code == 404, (escape, r.status_code, r.text[:200])
        assert "root:" not in r.text
    r = client.get(f"{PKGS}/{pid}/package_content")
    assert r.headers["content-type"] == "application/zip"
    assert "TOSCA-Metadata/TOSCA.meta" in zipfile.ZipFile(io.BytesIO(r.content)).namelist()

    # state rules: upload only once; delete only when DISABLED and not in use
    r = client.put(
        f"{PKGS}/{pid}/package_content", content=b"PK", headers={"Content-Type": "application/zip"}
    )
    problem(r, 409)
    problem(client.delete(f"{PKGS}/{pid}"), 409)
    problem(client.patch(f"{PKGS}/{pid}", json={"operationalState": "PAUSED"}), 400)
    r = client.patch(
        f"{PKGS}/{pid}",
        content=json.dumps({"operationalState": "DISABLED"}),
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert r.status_code == 200 and r.json() == {"operationalState": "DISABLED"}
    problem(client.post(INST, json={"vnfdId": package["vnfdId"]}), 422)
    problem(client.patch(f"{PKGS}/{pid}", json={"operationalState": "DISABLED"}), 409)
    assert client.patch(f"{PKGS}/{pid}", json={"operationalState": "ENABLED"}).status_code == 200
    iid = create_instance(client, package["vnfdId"])
    assert client.get(f"{PKGS}/{pid}").json()["usageState"] == "IN_USE"
    client.patch(f"{PKGS}/{pid}", json={"operationalState": "DISABLED"})
    problem(client.delete(f"{PKGS}/{pid}"), 409)  # in use
    assert client.delete(f"{INST}/{iid}").status_code == 204
    client.patch(f"{PKGS}/{pid}", json={"operationalState": "ENABLED"})
    problem(client.get(f"{PKGS}/{uuid.uuid4()}"), 404)


def test_package_upload_errors_and_delete(
    server: Server, client: httpx.Client, tmp_path: Path
) -> None:
    pid = client.post(PKGS, json={}).json()["id"]
    assert client.get(f"{PKGS}/{pid}").json()["onboardingState"] == "CREATED"
    problem(client.get(f"{PKGS}/{pid}/vnfd"), 409)
    problem(client.get(f"{PKGS}/{pid}/package_content"), 409)
    r = client.put(
        f"{PKGS}/{pid}/package_content", content=b"x", headers={"Content-Type": "text/plain"}
    )
    problem(r, 415)
    problem(client.post(PKGS, json={"userDefinedData": "not-an-object"}), 400)
    assert client.delete(f"{PKGS}/{pid}").status_code == 204
    problem(client.get(f"{PKGS}/{pid}"), 404)

    # a broken VNFD: onboarding ends in ERROR with every FILE:LINE problem
    broken = tmp_path / "broken"
    shutil.copytree(WEBFARM, broken)
    top = broken / "Definitions" / "webfarm_df_default.yaml"
    top.write_text(top.read_text().replace("vdu_profile:", "vdu_profile_typo:", 1))
    doc = onboard_via_api(client, zip_dir(broken))
    assert doc["onboardingState"] == "ERROR" and doc["operationalState"] == "DISABLED"
    details = doc["onboardingFailureDetails"]
    assert details["status"] == 422 and details["problems"], details
    assert any(":" in p and p.split(":")[1].strip().isdigit() for p in details["problems"]), details
    assert "webfarm_df_default.yaml" in details["detail"]
    assert client.delete(f"{PKGS}/{doc['id']}").status_code == 204

    doc = onboard_via_api(client, b"this is not a zip")
    assert doc["onboardingState"] == "ERROR"
    assert "zip" in doc["onboardingFailureDetails"]["detail"]


# -- subscriptions --------------------------------------------------------------------------------
class _Callback(BaseHTTPRequestHandler):
    status = 204
    seen: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        _Callback.seen.append(self.headers.get("Authorization", ""))
        self.send_response(self.status if "good" in self.path else 404)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def callback() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Callback)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()


def test_subscriptions(client: httpx.Client, callback: str) -> None:
    secret = "Callback-Passw0rd-4e9"
    body = {
        "callbackUri": f"{callback}/good",
        "filter": {"operationTypes": ["INSTANTIATE"], "operationStates": ["COMPLETED"]},
        "authentication": {
            "authType": ["BASIC"],
            "paramsBasic": {"userName": "u", "password": secret},
        },
    }
    r = client.post("/vnflcm/v2/subscriptions", json=body)
    assert r.status_code == 201, r.text
    sub = r.json()
    assert r.headers["Location"] == f"/vnflcm/v2/subscriptions/{sub['id']}"
    assert "authentication" not in sub and secret not in r.text
    assert _Callback.seen[-1].startswith("Basic ")
    assert (
        client.get(f"/vnflcm/v2/subscriptions/{sub['id']}").json()["callbackUri"]
        == body["callbackUri"]
    )
    listed = client.get("/vnflcm/v2/subscriptions")
    assert sub["id"] in [s["id"] for s in listed.json()] and secret not in listed.text
    problem(
        client.post("/vnflcm/v2/subscriptions", json={**body, "callbackUri": f"{callback}/bad"}),
        422,
    )
    problem(client.post("/vnflcm/v2/subscriptions", json={"filter": {}}), 400)
    problem(client.post("/vnflcm/v2/subscriptions", json={"callbackUri": "ftp://x"}), 400)
    assert client.delete(f"/vnflcm/v2/subscriptions/{sub['id']}").status_code == 204
    problem(client.get(f"/vnflcm/v2/subscriptions/{sub['id']}"), 404)
    problem(client.delete(f"/vnflcm/v2/subscriptions/{sub['id']}"), 404)


# -- credentials never leave ------------------------------------------------------------------------
def test_vim_credentials_never_returned_nor_logged(
    server: Server, client: httpx.Client, package: dict[str, Any]
) -> None:
    """Instantiate on an (unreachable) OpenStack VIM given with a password: the operation
    fails, and neither its documents nor any response nor the server log hold the password."""
    iid = create_instance(client, package["vnfdId"], "with-secret")
    vim = {
        "vim1": {
            "vimId": "vim1",
            "vimType": "ETSINFV.OPENSTACK_KEYSTONE.V_3",
            "interfaceInfo": {"endpoint": "http://127.0.0.1:9/identity/v3"},
            "accessInfo": {
                "username": "admin",
                "password": VIM_PASSWORD,
                "project": "p",
                "userDomain": "Default",
                "projectDomain": "Default",
                "region": "RegionOne",
            },
        }
    }
    texts: list[str] = []
    # validation errors must not echo the input either
    r = client.post(
        f"{INST}/{iid}/instantiate",
        json={"flavourId": "default", "vimConnectionInfo": {"v": VIM_PASSWORD}},
    )
    texts.append(problem(r, 400) and r.text)
    r = client.post(f"{INST}/{iid}/instantiate", json={"flavourId": 5, "vimConnectionInfo": vim})
    texts.append(r.text)
    r = client.post(
        f"{INST}/{iid}/instantiate",
        json={"flavourId": "default", "instantiationLevelId": "small", "vimConnectionInfo": vim},
    )
    op_id = op_id_of(r)
    op = wait_op(client, op_id, ("FAILED_TEMP", "COMPLETED"), timeout=300)
    assert op["operationState"] == "FAILED_TEMP", op  # no automatic rollback over the API
    for path in (f"{OPS}/{op_id}", f"{INST}/{iid}", INST, OPS):
        for params in ({}, {"all_fields": ""}):
            texts.append(client.get(path, params=params).text)
    full = client.get(f"{OPS}/{op_id}").json()
    assert (
        full["operationParams"]["vimConnectionInfo"]["vim1"]["accessInfo"]["password"] == "********"
    )
    texts.append(client.post(f"{OPS}/{op_id}/fail").text)
    assert client.get(f"{OPS}/{op_id}").json()["operationState"] == "FAILED"
    texts.append(client.get("/metrics").text)
    for text in texts:
        assert VIM_PASSWORD not in text
    log = server.log()
    for secret in (VIM_PASSWORD, PASSWORD, OAUTH_SECRET):
        assert secret not in log


def test_cli_works_alongside_the_server(
    server: Server, client: httpx.Client, package: dict[str, Any]
) -> None:
    iid = create_instance(client, package["vnfdId"], "seen-by-cli")
    out = server.cli("show", iid, "--format", "json", timeout=60)
    assert json.loads(out)["vnfInstanceName"] == "seen-by-cli"
    cli_id = subprocess.run(
        [
            sys.executable,
            "-m",
            "vnfm_runner",
            "create",
            "--vnfd-id",
            package["vnfdId"],
            "--name",
            "from-cli",
        ],
        env=server.env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.strip()
    assert client.get(f"{INST}/{cli_id}").json()["vnfInstanceName"] == "from-cli"


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl to make a certificate")
def test_tls(tmp_path: Path) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    srv = make_server(tmp_path / "home", tls_cert=str(cert), tls_key=str(key))
    srv.home.mkdir()
    try:
        srv.start()
        assert srv.url.startswith("https://")
        ctx = ssl.create_default_context(cafile=str(cert))
        r = httpx.get(f"{srv.url}{INST}", verify=ctx, auth=("nfvo", PASSWORD))
        assert r.status_code == 200
        assert httpx.get(f"{srv.url}{INST}", verify=ctx).status_code == 401
        with pytest.raises(httpx.HTTPError):  # no plain HTTP on the TLS port
            httpx.get(f"http://127.0.0.1:{srv.port}{INST}", timeout=5)
    finally:
        srv.stop()
