"""The runner's ``vnfm_warm`` strategy (Mitogen): a VNFC of the local VIM is reached
through one Python started inside its namespace and cgroup, with a clean environment,
kept for the whole run; the same playbook run cold (stock Ansible, ``nfv.vnfm.netns``)
sees the same VNFC.

Real network namespaces, a real cgroup, real ansible-runner runs: root and iproute2.
"""

from __future__ import annotations

import json
import marshal
import os
import re
import shutil
import stat
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._local import cgroup

from vnfm_runner.executor import run_playbook, strategy_env

pytestmark = [
    pytest.mark.root,
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root to create network namespaces"),
    pytest.mark.skipif(shutil.which("ip") is None, reason="needs the iproute2 'ip' command"),
]


@pytest.fixture
def vnfc() -> Iterator[str]:
    """A VNFC as the local VIM makes one: a namespace with a link, and its cgroup."""
    name = f"vnfm-warmtest-{uuid.uuid4().hex[:8]}-web-0"
    subprocess.run(["ip", "netns", "add", name], check=True)
    tree = cgroup.detect()
    try:
        subprocess.run(
            ["ip", "-n", name, "link", "add", "warm0", "type", "veth", "peer", "name", "warm1"],
            check=True,
        )
        if tree is not None:
            tree.create(name, {"vnfInstanceId": "warmtest", "vnfcId": "web-0"})
        yield name
    finally:
        if tree is not None:
            tree.remove(name, 0.5)
        subprocess.run(["ip", "netns", "del", name], check=False)


# The VNFC joins the inventory as the vnfc_inventory role adds VNFCs (the vnfc_hosts filter).
PLAY = """
- name: Add the VNFC
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Add
      ansible.builtin.add_host:
        name: vnfc
        ansible_connection: "{{ item.vars.ansible_connection }}"
        vnfm_netns: "{{ item.vars.vnfm_netns }}"
        vnfm_warm_python: "{{ item.vars.vnfm_warm_python | default(omit) }}"
        ansible_python_interpreter: "{{ item.vars.ansible_python_interpreter
          | default(ansible_playbook_python) }}"
      loop: '{{ VNFCS | nfv.vnfm.vnfc_hosts }}'
- name: Look around inside the VNFC
  hosts: vnfc
  gather_facts: false
  tasks:
    - name: Links
      ansible.builtin.command: ip -o link show
      register: links
      changed_when: false
    - name: Cgroups, environment and the parent of two shells
      ansible.builtin.shell: cat /proc/self/cgroup; env; echo "parent=$PPID"
      register: first
      changed_when: false
    - name: Again
      ansible.builtin.shell: echo "parent=$PPID"
      register: second
      changed_when: false
    - name: A raw task (no Python needed in the VNFC)
      ansible.builtin.raw: ip -o link show; cat /proc/self/cgroup; env; echo "raw=$PPID"
      register: raw
      changed_when: false
    - name: Report
      ansible.builtin.set_stats:
        data:
          links: "{{ links.stdout }}"
          first: "{{ first.stdout }}"
          second: "{{ second.stdout }}"
          raw: "{{ raw.stdout }}"
          connection: "{{ ansible_connection }}"
          interpreter: "{{ ansible_python_interpreter }}"
"""


def _run(tmp_path: Path, netns: str, warm: bool, play: str = PLAY) -> tuple[dict[str, Any], str]:
    vnfcs = [
        {
            "host": "vnfc",
            "id": "web-0",
            "vduId": "web",
            "resourceType": "linux.netns",
            "resourceId": netns,
        }
    ]
    label = "warm" if warm else "cold"
    book = tmp_path / f"{label}.yml"
    book.write_text(play.replace("VNFCS", json.dumps(vnfcs)))
    result = run_playbook(
        playbook=str(book),
        private_data_dir=tmp_path / label,
        ident=label,
        variables={},
        # -vvv: the strategy says when it starts Mitogen
        extra_env={"VNFM_SECRET_PROBE": "leak", "ANSIBLE_PROBE": "leak", "ANSIBLE_VERBOSITY": "3"},
        warm=warm,
    )
    assert result.ok, (result.status, result.failures, result.stdout_tail())
    stats: dict[str, Any] = result.stats
    return stats, (result.artifacts_dir / "stdout").read_text()


def _parents(stats: dict[str, Any]) -> list[str]:
    return [
        line
        for text in (stats["first"], stats["second"])
        for line in text.splitlines()
        if line.startswith("parent=")
    ]


@pytest.mark.skipif(not strategy_env(), reason="Mitogen is not installed")
@pytest.mark.parametrize("warm", [True, False], ids=["warm", "cold"])
def test_a_vnfc_is_reached_inside_its_namespace_and_cgroup(
    tmp_path: Path, vnfc: str, warm: bool
) -> None:
    stats, log = _run(tmp_path, vnfc, warm)

    # its own links only: warm0/warm1 and lo, none of the host's
    names = sorted(line.split(":")[1].strip().split("@")[0] for line in stats["links"].splitlines())
    assert names == ["lo", "warm0", "warm1"]
    tree = cgroup.detect()
    if tree is not None:
        assert f"/vnfm/{vnfc}" in stats["first"], stats["first"]
    env = stats["first"]
    assert "VNFM_SECRET_PROBE" not in env and "ANSIBLE_PROBE" not in env
    assert "PATH=/usr/local/sbin:" in env
    # what hooks see is a Python they can run scripts with, warm or not
    assert Path(stats["interpreter"]).is_file()

    parents = _parents(stats)
    assert len(parents) == 2
    # the raw task ran in the VNFC too: its links, its cgroup, a clean environment
    raw = stats["raw"]
    raw_links = re.findall(r"^\d+: ([^:@\s]+)", raw, flags=re.MULTILINE)
    assert sorted(raw_links) == ["lo", "warm0", "warm1"]
    if tree is not None:
        assert f"/vnfm/{vnfc}" in raw, raw
    assert "VNFM_SECRET_PROBE" not in raw and "ANSIBLE_PROBE" not in raw
    raw_parent = [line for line in raw.splitlines() if line.startswith("raw=")]
    assert len(raw_parent) == 1
    if warm:
        # one Python in the VNFC ran both tasks
        assert stats["connection"] == "local"
        assert parents[0] == parents[1]
        # ...but not the raw one: it went through nfv.vnfm.netns, no interpreter needed
        assert raw_parent[0].split("=")[1] != parents[0].split("=")[1]
        # Mitogen started with the first task that needed it, not with the run
        assert "starting Mitogen's multiplexers for task 'Links' on vnfc" in log
    else:
        assert stats["connection"] == "nfv.vnfm.netns"
        assert parents[0] != parents[1]


# What webfarm's operations do: tasks in the controller's worker, raw commands in VNFCs
# (and module tasks that are skipped).
RAW_ONLY_PLAY = (
    PLAY.split("- name: Look around inside the VNFC")[0]
    + """
- name: Raw commands only
  hosts: vnfc
  gather_facts: false
  tasks:
    - name: Links
      ansible.builtin.raw: ip -o link show
      register: links
      changed_when: false
    - name: A module task that is skipped
      ansible.builtin.command: ip -o link show
      when: links.stdout | length == 0
      changed_when: false
    - name: Report
      ansible.builtin.set_stats:
        data:
          links: "{{ links.stdout }}"
"""
)


@pytest.mark.skipif(not strategy_env(), reason="Mitogen is not installed")
def test_a_run_without_python_tasks_never_starts_mitogen(tmp_path: Path, vnfc: str) -> None:
    stats, log = _run(tmp_path, vnfc, True, RAW_ONLY_PLAY)

    assert "warm0" in stats["links"]
    assert "vnfm_warm: starting Mitogen" not in log
    # the run was verbose enough to say so if it had
    assert "TASK [Links]" in log and "<vnfc>" in log


# A filter of the playbook's own and templates of every kind a run compiles: task
# arguments, a condition, a loop, play variables.
CACHE_PLAY = """
- name: Templates
  hosts: localhost
  gather_facts: false
  vars:
    doubled: "{{ numbers | map('twice') | list }}"
  tasks:
    - name: Render
      ansible.builtin.set_stats:
        data:
          out: "{{ doubled | join(',') }}-{{ label | upper }}"
          kind: "{{ 'twice' if doubled[0] == 2 else 'once' }}"
          vdus: "{{ [{'vduId': 'web'}] | nfv.vnfm.vnfcs_by_vdu | list }}"
      when: numbers | length > 1
      vars:
        numbers: [1, 2, 3]
        label: run
"""

FILTER = """
def twice(value):
    return value * MULTIPLIER


MULTIPLIER = 2


class FilterModule:
    def filters(self):
        return {"twice": twice}
"""


@pytest.mark.skipif(not strategy_env(), reason="Mitogen is not installed")
def test_a_warm_run_keeps_its_compiled_templates_for_the_next(tmp_path: Path) -> None:
    """The first run compiles and writes templates and collection modules; the next
    renders the same from the files and writes nothing; a changed filter plugin starts a
    new generation."""
    (tmp_path / "filter_plugins").mkdir()
    plugin = tmp_path / "filter_plugins" / "mine.py"
    plugin.write_text(FILTER)
    book = tmp_path / "cache.yml"
    book.write_text(CACHE_PLAY)
    cache = tmp_path / "templates"

    def run(label: str) -> dict[str, Any]:
        result = run_playbook(
            playbook=str(book),
            private_data_dir=tmp_path / label,
            ident=label,
            variables={},
            compile_cache=cache,
        )
        assert result.ok, (result.status, result.failures, result.stdout_tail())
        stats: dict[str, Any] = result.stats
        return stats

    def files() -> set[Path]:
        return {p for p in cache.glob("*/*/*") if not p.name.startswith(".")}

    assert run("first") == {"out": "2,4,6-RUN", "kind": "twice", "vdus": ["web"]}
    (generation,) = cache.iterdir()
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700
    written = files()
    assert len(written) >= 6  # the three values, the condition, the play variable...
    # and the collection's Python modules the run imported (for its filter), compiled once
    compiled = {marshal.loads(p.read_bytes()).co_filename for p in written}
    assert any("/ansible_collections/nfv/vnfm/plugins/module_utils/" in f for f in compiled)
    assert run("second") == {"out": "2,4,6-RUN", "kind": "twice", "vdus": ["web"]}
    assert files() == written
    plugin.write_text(FILTER.replace("MULTIPLIER = 2", "MULTIPLIER = 10"))
    os.utime(plugin, (plugin.stat().st_atime, plugin.stat().st_mtime + 5))
    assert run("changed") == {"out": "10,20,30-RUN", "kind": "once", "vdus": ["web"]}
    assert len(list(cache.iterdir())) == 2
    assert generation.is_dir()


@pytest.mark.skipif(not strategy_env(), reason="Mitogen is not installed")
def test_a_cache_directory_others_can_write_is_not_used(tmp_path: Path) -> None:
    cache = tmp_path / "templates"
    cache.mkdir()
    cache.chmod(0o777)
    book = tmp_path / "cache.yml"
    book.write_text(CACHE_PLAY.replace("map('twice')", "map('int')"))
    result = run_playbook(
        playbook=str(book),
        private_data_dir=tmp_path / "run",
        ident="run",
        variables={},
        compile_cache=cache,
    )
    assert result.ok, (result.status, result.failures, result.stdout_tail())
    assert result.stats == {"out": "1,2,3-RUN", "kind": "once", "vdus": ["web"]}
    assert list(cache.iterdir()) == []
