"""Integration tests of the ``nfv.vnfm.netns`` connection plugin.

They create real network namespaces and run real playbooks through
ansible-runner, so they need root and iproute2.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
COLLECTIONS = REPO_ROOT / "collections"

pytestmark = [
    pytest.mark.root,
    pytest.mark.skipif(
        not hasattr(os, "geteuid") or os.geteuid() != 0,
        reason="needs root to create network namespaces",
    ),
    pytest.mark.skipif(shutil.which("ip") is None, reason="needs the iproute2 'ip' command"),
]

ansible_runner = pytest.importorskip("ansible_runner")

NS_ADDR = "10.250.99.1"


def _ip(*args: str) -> str:
    return subprocess.run(["ip", *args], check=True, capture_output=True, text=True).stdout


@pytest.fixture
def netns() -> Iterator[str]:
    name = f"vnfmtest-{uuid.uuid4().hex[:10]}"
    _ip("netns", "add", name)
    try:
        _ip("-n", name, "link", "set", "lo", "up")
        # a veth pair with both ends inside the namespace (dummy may be unavailable)
        _ip("-n", name, "link", "add", "vnfmt0", "type", "veth", "peer", "name", "vnfmt1")
        _ip("-n", name, "addr", "add", f"{NS_ADDR}/24", "dev", "vnfmt0")
        _ip("-n", name, "link", "set", "vnfmt0", "up")
        _ip("-n", name, "link", "set", "vnfmt1", "up")
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False, capture_output=True)


def _write_inventory(path: Path, hosts: dict[str, dict[str, Any]]) -> Path:
    inv = path / "inventory.json"
    inv.write_text(json.dumps({"all": {"hosts": hosts}}, indent=2))
    return inv


def _host(ns: str, **extra: Any) -> dict[str, Any]:
    return {
        "ansible_connection": "nfv.vnfm.netns",
        "vnfm_netns": ns,
        "ansible_python_interpreter": sys.executable,
        **extra,
    }


def _run(tmp_path: Path, playbook: str, hosts: dict[str, dict[str, Any]]) -> Any:
    pdd = tmp_path / "runner"
    (pdd / "project").mkdir(parents=True, exist_ok=True)
    (pdd / "project" / "site.yml").write_text(playbook)
    inventory = _write_inventory(tmp_path, hosts)
    return ansible_runner.run(
        private_data_dir=str(pdd),
        playbook="site.yml",
        inventory=str(inventory),
        envvars={
            "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS),
            # ansible-playbook of the interpreter running the tests (venv not activated)
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
            "ANSIBLE_HOST_KEY_CHECKING": "False",
            "ANSIBLE_RETRY_FILES_ENABLED": "False",
        },
        quiet=True,
        timeout=300,
    )


def _results(runner: Any, event: str = "runner_on_ok") -> dict[tuple[str, str], dict[str, Any]]:
    """Map (host, task name) -> module result for the given event type."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for ev in runner.events:
        if ev.get("event") != event:
            continue
        data = ev["event_data"]
        out[(data["host"], data["task"])] = data["res"]
    return out


PLAYBOOK = """\
- name: Exercise the netns connection
  hosts: all
  gather_facts: false
  vars:
    workdir: "{{ scratch }}/{{ inventory_hostname }}"
  tasks:
    - name: List addresses
      ansible.builtin.command: ip -o addr
      register: addrs
      changed_when: false

    - name: Create the work directory
      ansible.builtin.file:
        path: "{{ workdir }}"
        state: directory
        mode: "0755"

    - name: Copy content
      ansible.builtin.copy:
        content: "hello from {{ inventory_hostname }}\\n"
        dest: "{{ workdir }}/copied.txt"
        mode: "0644"

    - name: Template a file
      ansible.builtin.template:
        src: tpl.j2
        dest: "{{ workdir }}/templated.txt"
        mode: "0644"

    - name: Slurp the templated file
      ansible.builtin.slurp:
        src: "{{ workdir }}/templated.txt"
      register: slurped

    - name: Fetch the copied file
      ansible.builtin.fetch:
        src: "{{ workdir }}/copied.txt"
        dest: "{{ scratch }}/fetched/"

    - name: Shell with a pipe
      ansible.builtin.shell: >-
        ip -o link | awk -F': ' '{print $2}' | sort
      register: links
      changed_when: false

    - name: Become to root is a no-op
      ansible.builtin.command: id -u
      become: true
      register: become_id
      changed_when: false
"""


def test_modules_run_inside_namespace(netns: str, tmp_path: Path) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    project = tmp_path / "runner" / "project"
    project.mkdir(parents=True)
    (project / "tpl.j2").write_text("ns={{ vnfm_netns }} host={{ inventory_hostname }}\n")
    hosts = {
        "vnfc-plain": _host(netns, scratch=str(scratch)),
        "vnfc-pipelined": _host(netns, scratch=str(scratch), ansible_pipelining=True),
    }
    r = _run(tmp_path, PLAYBOOK, hosts)
    assert r.rc == 0, r.stdout.read()
    assert r.status == "successful"
    for host in hosts:
        assert r.stats["failures"].get(host, 0) == 0
        assert r.stats["dark"].get(host, 0) == 0
    assert set(r.stats["ok"]) == set(hosts)

    ok = _results(r)
    host_links = {
        line.split(": ")[1].split("@")[0] for line in _ip("-o", "link").splitlines() if line.strip()
    } - {"lo"}
    for host in hosts:
        addrs = ok[(host, "List addresses")]
        assert addrs["rc"] == 0
        out = addrs["stdout"]
        assert "127.0.0.1" in out
        assert NS_ADDR in out
        # the namespace's addresses are on lo and vnfmt0 only; no host interface
        ifaces = {line.split()[1] for line in out.splitlines()}
        assert ifaces <= {"lo", "vnfmt0", "vnfmt1"}
        assert {"lo", "vnfmt0"} <= ifaces
        assert not ifaces & host_links

        links = ok[(host, "Shell with a pipe")]
        assert links["rc"] == 0
        assert links["stdout"].split() == ["lo", "vnfmt0@vnfmt1", "vnfmt1@vnfmt0"]

        assert ok[(host, "Become to root is a no-op")]["stdout"] == "0"

        workdir = scratch / host
        assert (workdir / "copied.txt").read_text() == f"hello from {host}\n"
        assert (workdir / "templated.txt").read_text() == f"ns={netns} host={host}\n"
        assert oct((workdir / "copied.txt").stat().st_mode & 0o777) == "0o644"
        assert ok[(host, "Copy content")]["changed"] is True
        slurped = ok[(host, "Slurp the templated file")]["content"]
        assert base64.b64decode(slurped).decode() == f"ns={netns} host={host}\n"
        fetched = scratch / "fetched" / host / str(workdir / "copied.txt").lstrip("/")
        assert fetched.read_text() == f"hello from {host}\n"


def test_missing_namespace_fails_clearly(tmp_path: Path) -> None:
    missing = f"vnfmtest-missing-{uuid.uuid4().hex[:8]}"
    assert not Path("/run/netns", missing).exists()
    playbook = """\
- name: Try a missing namespace
  hosts: all
  gather_facts: false
  tasks:
    - name: Ping
      ansible.builtin.ping:
"""
    r = _run(tmp_path, playbook, {"ghost": _host(missing)})
    assert r.rc != 0
    assert r.stats["dark"].get("ghost") == 1
    unreachable = _results(r, "runner_on_unreachable")
    msg = unreachable[("ghost", "Ping")]["msg"]
    assert f"network namespace {missing} does not exist" in msg


NON_ROOT_PROBE = """\
import json, os, shlex, sys
from ansible.playbook.play_context import PlayContext
from ansible.plugins.loader import connection_loader, init_plugin_loader

init_plugin_loader([sys.argv[1]])
conn = connection_loader.get("nfv.vnfm.netns", PlayContext())
netns = sys.modules[type(conn).__module__]
conn.set_options(var_options={"vnfm_netns": "vnfm-x-web-0"})
result = {"root": conn._build_argv("echo hi")}
# Ansible's own form: its /bin/sh -c is exec'd directly, in no shell of ours
result["ansible"] = conn._build_argv("/bin/sh -c " + shlex.quote("python3 -c 'x' && sleep 0"))
result["env"] = netns.vnfc_env()
result["joins"] = [conn._join() is not None, netns.cgroup.detect() is not None]
os.geteuid = lambda: 1000
os.getegid = lambda: 1000
result["user"] = conn._build_argv("echo hi")
print(json.dumps(result))
"""


def test_argv_root_and_non_root() -> None:
    """Check the command line built as root and as an ordinary user.

    Runs in a subprocess so that the collection loader does not leak into
    the test process.
    """
    proc = subprocess.run(
        [sys.executable, "-c", NON_ROOT_PROBE, str(COLLECTIONS)],
        check=True,
        capture_output=True,
        text=True,
    )
    argv = json.loads(proc.stdout.strip().splitlines()[-1])
    root = argv["root"]
    # as root: ip netns exec runs the command; the cgroup is joined before (preexec) and
    # the environment is clean (Popen's env), with no process of ours in between
    assert root[1:4] == ["netns", "exec", "vnfm-x-web-0"]
    assert root[4:] == ["/bin/sh", "-c", "echo hi"]
    assert argv["ansible"][4:] == ["/bin/sh", "-c", "python3 -c 'x' && sleep 0"]
    assert sorted(argv["env"]) == ["HOME", "LANG", "PATH"]
    joins, has_cgroups = argv["joins"]
    assert joins == has_cgroups
    user = argv["user"]
    assert user[:2] == ["sudo", "-n"]
    assert user[3:6] == ["netns", "exec", "vnfm-x-web-0"]
    assert user[6:10] == ["setpriv", "--reuid=1000", "--regid=1000", "--init-groups"]
    assert user[10:12] == ["env", "-i"]  # sudo keeps an environment of its own choice
    assert user[-3:] == ["/bin/sh", "-c", "echo hi"]
