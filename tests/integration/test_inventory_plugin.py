"""The inventory plugin nfv.vnfm.vnfm (issue 16, item 4) against a real ``vnfm serve``
with webfarm instantiated: ``ansible-inventory --list`` shows its VNFCs grouped by
instance, VDU and product with their addresses and the local VIM's connection, and a
playbook runs a command inside every web VNFC's network namespace through it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.api.server import (
    PASSWORD,
    REPO_ROOT,
    USER,
    WEBFARM,
    Server,
    onboard_via_api,
    op_id_of,
    running,
    wait_op,
    zip_dir,
)
from tests.integration.conftest import cleanup_instance, requires_root, short_id

pytestmark = requires_root

BIN = Path(sys.executable).parent
INST = "/vnflcm/v2/vnf_instances"

IDENTIFY = """---
- name: Which namespace does each web VNFC run in
  hosts: web
  gather_facts: false
  tasks:
    - name: Ask the kernel
      ansible.builtin.command: ip netns identify
      register: where
      changed_when: false

    - name: Write it down
      ansible.builtin.copy:
        content: "{{ where.stdout }}"
        dest: "{{ out_dir }}/{{ inventory_hostname }}"
        mode: "0644"
      delegate_to: localhost
"""


def env(server: Server | None, **extra: str) -> dict[str, str]:
    out = {k: v for k, v in os.environ.items() if not k.startswith("VNFM_")}
    out.update(
        {
            "ANSIBLE_COLLECTIONS_PATH": str(REPO_ROOT / "collections"),
            "ANSIBLE_NOCOLOR": "1",
            "PATH": f"{BIN}:{os.environ.get('PATH', '/usr/bin:/bin')}",
            **extra,
        }
    )
    if server is not None:
        out.update({"VNFM_API_USER": USER, "VNFM_API_PASSWORD": PASSWORD})
    return out


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running(tmp_path_factory.mktemp("vnfm-home")) as srv:
        yield srv


@pytest.fixture(scope="module")
def webfarm(server: Server) -> Iterator[str]:
    """A webfarm instantiated through the API (small level: lb-0, web-0, web-1)."""
    with server.client() as client:
        pkg = onboard_via_api(client, zip_dir(WEBFARM))
        iid = client.post(INST, json={"vnfdId": pkg["vnfdId"], "vnfInstanceName": "inv"}).json()[
            "id"
        ]
        try:
            r = client.post(
                f"{INST}/{iid}/instantiate",
                json={"flavourId": "default", "instantiationLevelId": "small"},
            )
            op = wait_op(client, op_id_of(r), ("COMPLETED", "FAILED_TEMP", "FAILED"))
            assert op["operationState"] == "COMPLETED", op.get("error")
            yield iid
        finally:
            cleanup_instance(iid)


def plain(value: Any) -> Any:
    """``ansible-inventory --list`` output without its unsafe markers (the values came
    from the API: the plugin hands them to Ansible as untrusted, never templated)."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return value["__ansible_unsafe"]
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def inventory_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "webfarm.vnfm.yml"
    path.write_text(text)
    return path


def test_inventory_list_and_a_command_on_every_web_vnfc(
    server: Server, webfarm: str, tmp_path: Path
) -> None:
    iid = webfarm
    inv = inventory_file(tmp_path, f"---\nplugin: nfv.vnfm.vnfm\nurl: {server.url}\n")
    done = subprocess.run(
        [str(BIN / "ansible-inventory"), "-i", str(inv), "--list"],
        env=env(server),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    raw = json.loads(done.stdout)
    # what came from the API is marked untrusted (not templated by Ansible)
    assert raw["_meta"]["hostvars"][f"vnf-{short_id(iid)}-web-0"]["vnfc_id"] == {
        "__ansible_unsafe": "web-0"
    }
    listed = plain(raw)
    prefix = f"vnf-{short_id(iid)}"
    webs = {f"{prefix}-web-0", f"{prefix}-web-1"}
    assert set(listed["web"]["hosts"]) == webs
    assert listed["lb"]["hosts"] == [f"{prefix}-lb-0"]
    everything = webs | {f"{prefix}-lb-0"}
    assert set(listed["vnfcs"]["hosts"]) == everything
    assert set(listed[f"vnf_{iid.replace('-', '_')}"]["hosts"]) == everything
    assert set(listed["product_webfarm"]["hosts"]) == everything
    hostvars = listed["_meta"]["hostvars"]
    web0 = hostvars[f"{prefix}-web-0"]
    assert web0["ansible_connection"] == "nfv.vnfm.netns"
    assert web0["vnfm_netns"] == f"vnfm-{iid}-web-0"
    assert (web0["vnfc_id"], web0["vnfc_vdu_id"], web0["vnf_instance_id"]) == ("web-0", "web", iid)
    assert web0["vnf_product_name"] == "webfarm" and web0["vnfc_addresses"]
    lb = hostvars[f"{prefix}-lb-0"]
    assert any(cp["external"] and cp["ipAddresses"] for cp in lb["vnfc_cps"])

    # a playbook through the inventory runs inside each web VNFC's namespace
    playbook = tmp_path / "identify.yml"
    playbook.write_text(IDENTIFY)
    ran = subprocess.run(
        [str(BIN / "ansible-playbook"), "-i", str(inv), str(playbook), "-e", f"out_dir={tmp_path}"],
        env=env(server),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr[-2000:]
    for host in webs:
        assert (tmp_path / host).read_text().strip() == hostvars[host]["vnfm_netns"]
    assert not (tmp_path / f"{prefix}-lb-0").exists()


def test_bad_credentials_and_no_url_are_clear_errors(server: Server, tmp_path: Path) -> None:
    inv = inventory_file(tmp_path, f"---\nplugin: nfv.vnfm.vnfm\nurl: {server.url}\n")
    wrong = env(None, VNFM_API_USER=USER, VNFM_API_PASSWORD="not-the-password")
    done = subprocess.run(
        [str(BIN / "ansible-inventory"), "-i", str(inv), "--list"],
        env={**wrong, "ANSIBLE_INVENTORY_UNPARSED_FAILED": "true"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode != 0 and "HTTP 401" in done.stderr, done.stderr[-2000:]
    assert "not-the-password" not in done.stdout + done.stderr
    nourl = inventory_file(tmp_path, "---\nplugin: nfv.vnfm.vnfm\n")
    done = subprocess.run(
        [str(BIN / "ansible-inventory"), "-i", str(nourl), "--list"],
        env={**env(None), "ANSIBLE_INVENTORY_UNPARSED_FAILED": "true"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode != 0 and "VNFM_URL" in done.stderr, done.stderr[-2000:]
