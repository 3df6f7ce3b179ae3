"""Secrets sweep: planted secrets appear nowhere under VNFM_HOME, in the database or in any output.

Distinctive secrets are planted everywhere a user gives one: the server's
``VNFM_API_PASSWORD`` and ``VNFM_OAUTH_CLIENTS`` (and NFVO settings), a
registered VIM's ``--option password=``/``apiKey``/``auth.password``, an
instantiate request's ``accessInfo`` (``Password``, ``clientPassword``,
``apiKey``, nested ``auth.password``) and ``additionalParams``, a subscription's
Basic password. Then a whole lifecycle runs on the local VIM through the real
server and CLI, an OpenStack instantiation has its engine killed with SIGKILL
while its VIM task runs (its VIM is a socket that never answers, so the task
is surely running), and every file under VNFM_HOME (bytes: the SQLite
database, its WAL, run artifacts, job events, the server log), every API
response and every CLI output is searched: no secret may be found.

On the OpenStack test bed (tests/openstack), the same sweep follows a real
instantiate/terminate with the bed's password given as ``--option password=``.
Needs root and iproute2 (local VIM).
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.api.server import (
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
from tests.integration.conftest import cleanup_instance, have_ip, privileged, wait_until

pytestmark = [pytest.mark.timeout(1500)]

VIM_TASK = "Reconcile the VIM to the plan"

PLANTED = {
    "api password": PASSWORD,
    "oauth client secret": OAUTH_SECRET,
    "nfvo password": "Nfvo-Pw-sweep-3a2b61",
    "nfvo client secret": "Nfvo-ClientSecret-sweep-77d0",
    "vim option password": "VimOpt-Pw-sweep-4f1a09",
    "vim option apiKey": "VimOpt-ApiKey-sweep-77c2e",
    "vim option auth.password": "VimOpt-AuthPw-sweep-0b9e3",
    "accessInfo Password": "Access-Pw-sweep-1c3d55",
    "accessInfo clientPassword": "Access-ClientPw-sweep-5e6f1",
    "accessInfo apiKey": "Access-ApiKey-sweep-9a8b7",
    "accessInfo auth.password": "Access-NestedPw-sweep-2d4c8",
    "additionalParams adminPassword": "Param-AdminPw-sweep-6f7e2",
    "additionalParams db.secret": "Param-DbSecret-sweep-8c1a4",
    "subscription password": "Subscr-Pw-sweep-41be0",
}


class Sweep:
    """The server, its home, and every output seen (to be searched at the end)."""

    def __init__(self, server: Server, tmp: Path) -> None:
        self.server = server
        self.tmp = tmp  # outside VNFM_HOME: request files that hold planted secrets
        self.outputs: list[tuple[str, str]] = []
        self.instances: list[str] = []

    @property
    def home(self) -> Path:
        return self.server.home

    def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        with self.server.client() as client:
            r = client.request(method, path, **kwargs)
        self.outputs.append((f"{method} {path}", f"{r.headers}\n{r.text}"))
        return r

    def cli(
        self, *args: str, ok: bool = True, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [sys.executable, "-m", "vnfm_runner", *args],
            env=self.server.env,
            cwd=REPO_ROOT,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        self.outputs.append((f"vnfm {' '.join(args)}", done.stdout + done.stderr))
        if ok:
            assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        return done

    def request_file(self, name: str, body: dict[str, Any]) -> str:
        path = self.tmp / name
        path.write_text(yaml.safe_dump(body))
        return str(path)

    def hits(self) -> list[str]:
        """Where a planted secret was found (file or output, and which secret)."""
        found = []
        needles = {what: value.encode() for what, value in PLANTED.items()}
        for path in sorted(self.home.rglob("*")):
            if not path.is_file() or path.is_symlink():
                continue
            try:
                data = path.read_bytes()
            except OSError:
                continue
            found += [f"{path}: {what}" for what, needle in needles.items() if needle in data]
        for where, text in self.outputs:
            found += [f"{where}: {what}" for what, value in PLANTED.items() if value in text]
        return found


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sweep]:
    if not privileged() or not have_ip():
        pytest.skip("needs root and iproute2 (local VIM)")
    home = tmp_path_factory.mktemp("sweep-home")
    server = make_server(
        home,
        nfvo_password=PLANTED["nfvo password"],
        nfvo_client_secret=PLANTED["nfvo client secret"],
    )
    sw = Sweep(server.start(), tmp_path_factory.mktemp("requests"))
    try:
        yield sw
    finally:
        server.stop()
        for instance_id in sw.instances:
            cleanup_instance(instance_id)


@pytest.fixture
def blackhole() -> Iterator[str]:
    """A Keystone URL whose socket accepts connections and never answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/v3"
    finally:
        sock.close()


def access_info_request(endpoint: str) -> dict[str, Any]:
    return {
        "flavourId": "default",
        "instantiationLevelId": "small",
        "vimConnectionInfo": {
            "vim1": {
                "vimId": "vim1",
                "vimType": "ETSINFV.OPENSTACK_KEYSTONE.V_3",
                "interfaceInfo": {"endpoint": endpoint},
                "accessInfo": {
                    "username": "sweeper",
                    "project": "sweep",
                    "projectDomain": "Default",
                    "userDomain": "Default",
                    "region": "RegionOne",
                    "Password": PLANTED["accessInfo Password"],
                    "clientPassword": PLANTED["accessInfo clientPassword"],
                    "apiKey": PLANTED["accessInfo apiKey"],
                    "auth": {"password": PLANTED["accessInfo auth.password"]},
                },
            }
        },
        "additionalParams": {
            "adminPassword": PLANTED["additionalParams adminPassword"],
            "db": {"secret": PLANTED["additionalParams db.secret"]},
        },
    }


# -- local VIM ----------------------------------------------------------------------------------------
def test_registered_vim_secrets_are_sealed_and_never_shown(sweep: Sweep) -> None:
    auth = json.dumps({"username": "u", "password": PLANTED["vim option auth.password"]})
    sweep.cli(
        "vim", "add", "sweep-os", "--type", "openstack", "--cloud", "nowhere",
        "--option", f"password={PLANTED['vim option password']}",
        "--option", f"apiKey={PLANTED['vim option apiKey']}",
        "--option", f"auth={auth}",
    )  # fmt: skip
    shown = json.loads(sweep.cli("vim", "show", "sweep-os").stdout)
    # the secrets are there, by name only; what is not secret is shown as given
    assert shown["connection"]["password"] == "********"
    assert shown["connection"]["apiKey"] == "********"
    assert shown["connection"]["auth"] == {"username": "u", "password": "********"}
    assert shown["connection"]["cloud"] == "nowhere"
    sweep.cli("vim", "list", "--format", "json")
    # still usable: the registry opens what it sealed
    target = sweep.server.service().vims.resolve("sweep-os", None, "local")
    assert target.credentials == {
        "password": PLANTED["vim option password"],
        "apiKey": PLANTED["vim option apiKey"],
        "auth": {"password": PLANTED["vim option auth.password"]},
    }
    assert sweep.hits() == []


def test_vim_secrets_from_stdin_never_touch_the_command_line(sweep: Sweep) -> None:
    """``--secret-stdin KEY``: the value comes from standard input (ps never shows it),
    one line per key in order, sealed like ``--option``; bad use is one clear line."""
    args = ("vim", "add", "sweep-stdin", "--type", "openstack", "--cloud", "nowhere")
    secrets = (PLANTED["vim option password"], PLANTED["vim option apiKey"])
    sweep.cli(
        *args, "--secret-stdin", "password", "--secret-stdin", "apiKey",
        stdin="\n".join(secrets) + "\n",
    )  # fmt: skip
    target = sweep.server.service().vims.resolve("sweep-stdin", None, "local")
    assert target.credentials == {"password": secrets[0], "apiKey": secrets[1]}
    shown = json.loads(sweep.cli("vim", "show", "sweep-stdin").stdout)
    assert shown["connection"]["password"] == shown["connection"]["apiKey"] == "********"
    short = sweep.cli(
        "vim", "add", "sweep-short", "--type", "openstack", "--cloud", "nowhere",
        "--secret-stdin", "password", "--secret-stdin", "apiKey",
        ok=False, stdin="only-one-line\n",
    )  # fmt: skip
    assert short.returncode != 0 and "Traceback" not in short.stderr
    assert "--secret-stdin apiKey: standard input ended before its line" in short.stderr
    assert sweep.hits() == []


def test_lifecycle_on_the_local_vim(sweep: Sweep) -> None:
    with sweep.server.client() as client:
        pkg = onboard_via_api(client, zip_dir(WEBFARM))
    r = sweep.api("POST", "/vnflcm/v2/vnf_instances", json={"vnfdId": pkg["vnfdId"]})
    assert r.status_code == 201, r.text
    instance_id = r.json()["id"]
    sweep.instances.append(instance_id)
    sub = sweep.api(
        "POST",
        "/vnflcm/v2/subscriptions",
        json={
            "callbackUri": "http://127.0.0.1:9/never",
            "authentication": {
                "authType": ["BASIC"],
                "paramsBasic": {"userName": "nfvo", "password": PLANTED["subscription password"]},
            },
        },
    )
    request = {
        "flavourId": "default",
        "instantiationLevelId": "small",
        "additionalParams": access_info_request("")["additionalParams"],
    }
    op_id = op_id_of(
        sweep.api("POST", f"/vnflcm/v2/vnf_instances/{instance_id}/instantiate", json=request)
    )
    with sweep.server.client() as client:
        done = wait_op(client, op_id, ("COMPLETED", "FAILED_TEMP"))
    assert done["operationState"] == "COMPLETED", done.get("error")
    shown = sweep.api("GET", f"/vnflcm/v2/vnf_lcm_op_occs/{op_id}").json()
    assert shown["operationParams"]["additionalParams"] == {
        "adminPassword": "********",
        "db": {"secret": "********"},
    }
    sweep.api("GET", f"/vnflcm/v2/vnf_instances/{instance_id}")
    sweep.api("GET", "/vnflcm/v2/vnf_lcm_op_occs")
    sweep.api("GET", "/vnflcm/v2/vnf_instances")
    if sub.status_code == 201:
        sweep.api("GET", f"/vnflcm/v2/subscriptions/{sub.json()['id']}")
    sweep.api("GET", "/vnflcm/v2/subscriptions")
    sweep.cli("show", instance_id, "--format", "json")
    sweep.cli("op", "show", op_id)
    sweep.cli("op", "list", "--instance", instance_id)
    sweep.cli("op", "logs", op_id, ok=False)
    sweep.cli("terminate", instance_id, "--forceful", "-q")
    sweep.cli("delete", instance_id)
    assert sweep.hits() == []


def test_kill_9_during_an_openstack_instantiate(sweep: Sweep, blackhole: str) -> None:
    """The engine dies while the VIM task holds the credentials: nothing readable is left."""
    vnfd_id = sweep.cli("package", "onboard", str(WEBFARM)).stdout.strip().splitlines()[-1]
    instance_id = sweep.cli("create", "--vnfd-id", vnfd_id).stdout.strip().splitlines()[-1]
    sweep.instances.append(instance_id)
    params = sweep.request_file("instantiate.yaml", access_info_request(blackhole))
    op_id = (
        sweep.cli("instantiate", instance_id, "--params", params, "--no-hooks", "--no-wait")
        .stdout.strip()
        .splitlines()[-1]
    )
    run_dirs = sweep.home / "runs" / op_id
    assert wait_until(lambda: _task_started(run_dirs, VIM_TASK), timeout=300, interval=0.05)
    (worker,) = _pids(lambda cmd: "execute-operation" in cmd and op_id in cmd)
    os.kill(worker, signal.SIGKILL)
    assert wait_until(
        lambda: not _pids(lambda cmd: "execute-operation" in cmd and op_id in cmd), 10
    )
    # the run never removed its extra vars: they are on disk, with the credentials sealed
    (extravars,) = run_dirs.glob("*/env/extravars")
    text = extravars.read_text()
    assert "vnfmSealed" in text and "vnfm_vim_credentials" in text
    # the next command recovers the operation
    deadline = time.monotonic() + 90
    doc: dict[str, Any] = {}
    while time.monotonic() < deadline:
        doc = json.loads(sweep.cli("op", "show", op_id).stdout)
        if doc["operationState"] == "FAILED_TEMP":
            break
        time.sleep(1)
    assert doc["operationState"] == "FAILED_TEMP", doc
    access = doc["operationParams"]["vimConnectionInfo"]["vim1"]["accessInfo"]
    assert access["Password"] == access["apiKey"] == "********"
    assert access["auth"] == {"password": "********"}
    sweep.cli("show", instance_id, "--format", "json")
    sweep.api("GET", f"/vnflcm/v2/vnf_lcm_op_occs/{op_id}")
    sweep.cli("op", "fail", op_id)
    assert sweep.hits() == []


def _task_started(run_dirs: Path, task: str) -> bool:
    for path in run_dirs.glob("*/artifacts/*/job_events/*.json"):
        try:
            event = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if event.get("event") == "playbook_on_task_start" and task in str(
            (event.get("event_data") or {}).get("task", "")
        ):
            return True
    return False


def _pids(predicate: Any) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if predicate(cmdline) and entry.name != str(os.getpid()):
                pids.append(int(entry.name))
    return pids


def test_the_database_and_its_wal_were_searched(sweep: Sweep) -> None:
    """The sweep reads the store's files themselves (binary), not only the API."""
    names = {p.name for p in sweep.home.iterdir()}
    assert "vnfm.db" in names
    assert re.search(rb"vnfmExecution", (sweep.home / "vnfm.db").read_bytes() + _wal(sweep.home))
    assert sweep.hits() == []


def _wal(home: Path) -> bytes:
    wal = home / "vnfm.db-wal"
    return wal.read_bytes() if wal.exists() else b""


# -- the OpenStack test bed ---------------------------------------------------------------------------
def _bed() -> Any:
    """The test bed's clouds (tests/openstack), or skip: it is not started here unless CI is set."""
    pytest.importorskip("openstack")
    from tests.openstack.test_openstack_vim import TESTBED, _from_testbed_env, _testbed_up

    ci = os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")
    if not TESTBED.exists() or not _testbed_up(tries=1):
        if not ci or os.environ.get("VNFM_TESTBED") == "skip":
            pytest.skip("the OpenStack test bed is not up (scripts/openstack-testbed up)")
        up = subprocess.run([str(TESTBED), "up"], capture_output=True, text=True, timeout=1800)
        assert up.returncode == 0, up.stdout[-3000:] + up.stderr[-3000:]
    cloud = _from_testbed_env()
    if cloud is None:
        pytest.skip("the OpenStack test bed gives no clouds.yaml")
    return cloud


def test_lifecycle_and_kill_9_on_the_openstack_bed(
    sweep: Sweep, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The bed's real password, given as ``--option password=``, is never written in clear."""
    cloud = _bed()
    from tests.openstack.test_openstack_vim import brute_force_cleanup

    sdk = _connect(cloud.path, cloud.admin)
    # a user of the demo project whose password is distinctive (the bed's own are not)
    password = PLANTED["bed user password"] = f"Bed-UserPw-sweep-{uuid.uuid4().hex[:8]}"
    demo = yaml.safe_load(Path(cloud.path).read_text())["clouds"][cloud.demo]
    project = sdk.identity.find_project(demo["auth"]["project_name"], ignore_missing=False)
    user = sdk.identity.create_user(
        name=f"sweeper-{uuid.uuid4().hex[:6]}", password=password, default_project_id=project.id
    )
    role = sdk.identity.find_role("member", ignore_missing=False)
    sdk.identity.assign_project_role_to_user(project, user, role)
    # its clouds.yaml (outside VNFM_HOME) names the user; the password goes as --option
    auth = {k: v for k, v in demo["auth"].items() if k != "password"}
    clouds_file = sweep.tmp / "clouds.yaml"
    clouds_file.write_text(
        yaml.safe_dump({"clouds": {"sweep": {**demo, "auth": {**auth, "username": user.name}}}})
    )
    vnfd_id = sweep.cli("package", "onboard", str(WEBFARM)).stdout.strip().splitlines()[-1]
    sweep.cli(
        "vim", "add", "bed", "--type", "openstack", "--cloud", "sweep",
        "--clouds-file", str(clouds_file), "--image-map", "debian-12-genericcloud=cirros",
        "--option", "softPlacementPolicies=true", "--option", f"password={password}",
    )  # fmt: skip
    request = sweep.request_file(
        "bed.yaml",
        {
            "flavourId": "default",
            "instantiationLevelId": "small",
            "extVirtualLinks": [
                {"id": "ext", "resourceId": "public", "extCps": [{"cpdId": "lb_ext_cp"}]}
            ],
            "additionalParams": {
                "vnfm_hooks": False,
                "adminPassword": PLANTED["additionalParams adminPassword"],
            },
        },
    )
    ids = []
    try:
        # a whole lifecycle
        inst = sweep.cli("create", "--vnfd-id", vnfd_id).stdout.strip().splitlines()[-1]
        ids.append(inst)
        sweep.cli("instantiate", inst, "--vim", "bed", "--params", request, "-q")
        sweep.cli("show", inst, "--format", "json")
        sweep.api("GET", f"/vnflcm/v2/vnf_instances/{inst}")
        sweep.cli("op", "list", "--instance", inst)
        for op in sweep.api("GET", "/vnflcm/v2/vnf_lcm_op_occs").json():
            if op["vnfInstanceId"] == inst:
                sweep.cli("op", "show", op["id"])
        sweep.cli("terminate", inst, "--forceful", "--no-hooks", "-q")
        # an instantiation whose engine is killed while the VIM task runs, then rolled back
        inst = sweep.cli("create", "--vnfd-id", vnfd_id).stdout.strip().splitlines()[-1]
        ids.append(inst)
        op_id = (
            sweep.cli("instantiate", inst, "--vim", "bed", "--params", request, "--no-wait")
            .stdout.strip()
            .splitlines()[-1]
        )
        run_dirs = sweep.home / "runs" / op_id
        assert wait_until(lambda: _task_started(run_dirs, VIM_TASK), timeout=600, interval=0.05)
        for pid in _pids(lambda cmd: "execute-operation" in cmd and op_id in cmd):
            os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            state = json.loads(sweep.cli("op", "show", op_id).stdout)["operationState"]
            if state == "FAILED_TEMP":
                break
            time.sleep(2)
        assert password.encode() not in b"".join(
            p.read_bytes() for p in run_dirs.glob("*/env/extravars")
        )
        sweep.cli("op", "rollback", op_id, "-q", ok=False)
        assert sweep.hits() == []
    finally:
        for inst in ids:
            brute_force_cleanup(sdk, inst)
        sdk.identity.delete_user(user, ignore_missing=True)
        PLANTED.pop("bed user password", None)


def _connect(clouds_yaml: str, cloud: str) -> Any:
    import openstack.config
    import openstack.connection

    config = openstack.config.OpenStackConfig(config_files=[clouds_yaml])
    return openstack.connection.Connection(config=config.get_one(cloud=cloud))
