"""``vnfm keys rotate``: token keys revoke at once without a restart, sealing keys re-seal everything.

A real ``vnfm serve`` keeps running while the CLI (another process on the
same home) rotates its token key or the key file is deleted: bearer tokens
issued before stop working on the next request. The sealing rotation runs on
a home holding every kind of sealed value (a VIM's options, an instance's VIM
credentials, a subscription's authentication, the extra vars a killed run
left): afterwards each opens to what it was, and the old key opens none.
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
from cryptography.fernet import Fernet, InvalidToken

from tests.api.server import OAUTH_ID, OAUTH_SECRET, REPO_ROOT, WEBFARM, Server, make_server
from vnfm_runner.executor import _sealed_vars
from vnfm_runner.lcm import Vnfm, instantiation
from vnfm_runner.notify.subscriptions import SubscriptionRegistry
from vnfm_runner.secrets import SecretBox
from vnfm_runner.settings import Settings
from vnfm_runner.store.tables import SubscriptionRow, VimRow
from vnfm_runner.unsafe import dump_extravars


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = make_server(tmp_path_factory.mktemp("keys-home")).start()
    try:
        yield srv
    finally:
        srv.stop()


def token(server: Server) -> str:
    r = httpx.post(
        f"{server.url}/oauth2/token",
        data={"grant_type": "client_credentials"},
        auth=(OAUTH_ID, OAUTH_SECRET),
    )
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


def status_with(server: Server, bearer: str) -> int:
    r = httpx.get(
        f"{server.url}/vnflcm/v2/vnf_instances",
        headers={"Authorization": f"Bearer {bearer}", "Version": "2.0.0"},
    )
    return r.status_code


def vnfm(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vnfm_runner", *args],
        env={**os.environ, "VNFM_HOME": str(home)},
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


# -- tokens ---------------------------------------------------------------------------------------------
def test_token_rotation_revokes_old_tokens_without_restart(server: Server) -> None:
    old = token(server)
    assert status_with(server, old) == 200
    done = vnfm(server.home, "keys", "rotate", "--tokens")
    assert done.returncode == 0, done.stderr
    assert "revoked" in done.stdout
    assert status_with(server, old) == 401  # same server process, next request
    fresh = token(server)
    assert status_with(server, fresh) == 200


def test_deleting_the_token_key_revokes_every_token(server: Server) -> None:
    old = token(server)
    assert status_with(server, old) == 200
    (server.home / "api" / "token.key").unlink()
    assert status_with(server, old) == 401
    fresh = token(server)
    assert status_with(server, fresh) == 200
    assert len((server.home / "api" / "token.key").read_bytes()) == 32


def test_a_token_key_cut_short_is_never_used(server: Server) -> None:
    """A key file emptied by a crash while written is replaced, not signed with."""
    old = token(server)
    (server.home / "api" / "token.key").write_bytes(b"")
    assert status_with(server, old) == 401
    assert status_with(server, token(server)) == 200
    assert len((server.home / "api" / "token.key").read_bytes()) == 32


# -- sealing ----------------------------------------------------------------------------------------------
def sealed_everything(home: Path) -> dict[str, Any]:
    """A home with one sealed value of each kind; what each must open to."""
    svc = Vnfm.open(Settings(home=home), recover=False)
    box: SecretBox = svc.vims.box
    svc.vims.add(
        name="os1",
        vim_type="openstack",
        cloud="c",
        options={"password": "vim-pw", "auth": {"password": "auth-pw", "username": "u"}},
    )
    vnfd_id = svc.onboard(WEBFARM).vnfd_id
    instance_id = svc.create(vnfd_id=vnfd_id)["id"]
    target = svc.vims.resolve(
        None,
        {
            "v": {
                "vimType": "ETSINFV.OPENSTACK_KEYSTONE.V_3",
                "interfaceInfo": {"endpoint": "http://127.0.0.1:1/v3"},
                "accessInfo": {"username": "u", "password": "access-pw", "apiKey": "k"},
            }
        },
        "local",
    )
    svc.store.update_instance(instance_id, vim=svc.vims.seal(target))
    sub = SubscriptionRegistry(svc.store, box).add(
        "lcm",
        "/vnflcm/v2/subscriptions",
        {
            "callbackUri": "http://127.0.0.1:9/cb",
            "authentication": {"authType": ["BASIC"], "paramsBasic": {"password": "sub-pw"}},
        },
    )
    # the extra vars of a run killed before it could remove them
    run = home / "runs" / "op-killed" / "1-instantiate"
    sealed = _sealed_vars({"vnfm_vim_credentials": {"password": "run-pw"}}, None, run)
    (run / "env").mkdir(parents=True)
    (run / "env" / "extravars").write_text(dump_extravars(sealed))
    return {
        "svc": svc,
        "instance": instance_id,
        "subscription": sub["id"],
        "extravars": run / "env" / "extravars",
    }


def sealed_values(setup: dict[str, Any]) -> dict[str, str]:
    svc = setup["svc"]
    vim = svc.store.vim("os1")
    assert isinstance(vim, VimRow) and vim.credentials
    instance = svc.store.instance(setup["instance"])
    with svc.store.reading() as s:
        sub = s.get(SubscriptionRow, setup["subscription"])
        assert sub is not None and sub.authentication
        auth = sub.authentication
    text = setup["extravars"].read_text()
    (run_token,) = [w.strip("'\"") for w in text.split() if w.strip("'\"").startswith("gAAAAA")]
    return {
        "vim": vim.credentials,
        "instance": instance.vim["credentials"],
        "subscription": auth,
        "run": run_token,
    }


EXPECTED = {
    "vim": {"password": "vim-pw", "auth": {"password": "auth-pw"}},
    "instance": {"password": "access-pw", "apiKey": "k"},
    "subscription": {"authType": ["BASIC"], "paramsBasic": {"password": "sub-pw"}},
    "run": {"password": "run-pw"},
}


def test_sealing_rotation_reseals_everything_and_retires_the_old_key(tmp_path: Path) -> None:
    home = tmp_path / "home"
    setup = sealed_everything(home)
    box = SecretBox(home)
    before = sealed_values(setup)
    assert {k: box.open(v) for k, v in before.items()} == EXPECTED
    old_key = (home / "secret.key").read_bytes().split()
    assert len(old_key) == 1

    done = vnfm(home, "keys", "rotate", "--sealing")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 stored secrets and 1 run files re-sealed" in done.stdout

    keys = (home / "secret.key").read_bytes().split()
    assert len(keys) == 1 and keys != old_key
    assert (home / "secret.key").stat().st_mode & 0o777 == 0o600
    after = sealed_values(setup)
    assert {k: box.open(v) for k, v in after.items()} == EXPECTED  # every value still opens
    old = Fernet(old_key[0])
    for name, value in after.items():
        assert value != before[name]
        with pytest.raises(InvalidToken):
            old.decrypt(value.encode())  # the old key is useless
    # the registry and the instance's VIM still work through the service
    assert setup["svc"].vims.resolve("os1", None, "local").credentials == EXPECTED["vim"]
    # a token rotation alone leaves the sealing key as it is
    assert vnfm(home, "keys", "rotate", "--tokens").returncode == 0
    assert (home / "secret.key").read_bytes().split() == keys


def test_sealing_rotation_waits_for_running_operations(tmp_path: Path) -> None:
    home = tmp_path / "home"
    svc = Vnfm.open(Settings(home=home), recover=False)
    instance_id = svc.create(vnfd_id=svc.onboard(WEBFARM).vnfd_id)["id"]
    started = instantiation.begin(  # recorded, not run
        svc.ports,
        instance_id=instance_id,
        request={"flavourId": "default", "instantiationLevelId": "small"},
        vim_name=None,
        default_vim=svc.settings.default_vim,
        auto_rollback=True,
    )
    key = (home / "secret.key").read_bytes() if (home / "secret.key").exists() else None
    done = vnfm(home, "keys", "rotate", "--sealing")
    assert done.returncode == 4  # busy: operations are running
    assert started.id in done.stderr and "running" in done.stderr
    assert "Traceback" not in done.stderr
    after = (home / "secret.key").read_bytes() if (home / "secret.key").exists() else None
    assert after == key  # nothing changed
