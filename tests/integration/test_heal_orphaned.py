"""Heal converges from whatever the VIM holds: a VNFC namespace deleted by name.

``ip netns del`` of a running web VNFC only removes the name: the namespace lives on
in its web server, with its interfaces and their peers in the VIM namespace and on
the host. The first heal of that VNFC must complete (it used to fail FAILED_TEMP with
"RTNETLINK answers: File exists" on the peer's name), the web must serve again, and
nothing of the old namespace may be left: no process, no interface.
Real CLI, real kernel, real webfarm with its hooks. Needs root and iproute2.
"""

from __future__ import annotations

import json
import os
import subprocess
from typing import Any

import pytest

from tests.integration.conftest import (
    Lifecycle,
    daemon_processes,
    host_links,
    instance_netns,
    requires_root,
)
from tests.integration.test_lifecycle import assert_serves, ext_addresses

pytestmark = [*requires_root, pytest.mark.timeout(900)]


def ip_json(*args: str) -> list[dict[str, Any]]:
    out = subprocess.run(["ip", "-json", *args], check=True, capture_output=True, text=True)
    return list(json.loads(out.stdout or "[]"))


def netns_inode_of(pid: int) -> int:
    return os.stat(f"/proc/{pid}/ns/net").st_ino


def web_daemons(instance_id: str, vnfc: str) -> dict[int, str]:
    return {
        pid: cmd
        for pid, cmd in daemon_processes(instance_id).items()
        if f"/{vnfc}/" in cmd and "web.py" in cmd
    }


def ports_of(instance_id: str, vnfc: str) -> list[str]:
    """Interfaces in the VIM namespace and on the host whose alias names the VNFC's CPs."""
    vim_links = ip_json("-n", f"vnfm-{instance_id}-vim", "link", "show")
    tag = f"vnfm:port:{instance_id}:{vnfc}:"
    return sorted(
        f"{where}{link['ifname']}"
        for where, links in (("vim/", vim_links), ("host/", host_links()))
        for link in links
        if str(link.get("ifalias", "")).startswith(tag)
    )


def test_first_heal_of_a_vnfc_whose_netns_was_deleted_completes(lifecycle: Lifecycle) -> None:
    lc = lifecycle
    inst = lc.create(lc.onboard(), name="e2e-heal-orphaned")
    lc.cli_ok("instantiate", inst, "--flavour", "default", "--level", "small", "-q")
    doc = lc.show(inst)
    (ext,) = ext_addresses(doc)
    netns = f"vnfm-{inst}-web-1"
    (old_pid,) = web_daemons(inst, "web-1")
    orphan = netns_inode_of(old_pid)
    ports_before = ports_of(inst, "web-1")
    assert ports_before, "web-1 has no CP peers to leave behind"

    # delete the name only: the web server runs on in the now unnamed namespace
    subprocess.run(["ip", "netns", "del", netns], check=True)
    assert netns not in instance_netns(inst)
    assert netns_inode_of(old_pid) == orphan
    assert ports_of(inst, "web-1") == ports_before  # its peers are still attached

    # the first heal completes
    proc = lc.cli("heal", inst, "--vnfc", "web-1", "-q")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    ops = lc.service().store.operations(inst)
    assert [o.state for o in ops if o.operation == "HEAL"] == ["COMPLETED"]

    # web-1 is a new namespace with a new web server; the old one and its namespace are gone
    assert netns in instance_netns(inst)
    new_inode = os.stat(f"/run/netns/{netns}").st_ino
    assert new_inode != orphan
    pids = web_daemons(inst, "web-1")
    assert len(pids) == 1 and old_pid not in pids, pids
    assert netns_inode_of(next(iter(pids))) == new_inode
    assert not any(_ns_inode(p) == orphan for p in os.listdir("/proc") if p.isdigit()), (
        "a process still runs in the old namespace"
    )
    # exactly one set of peers: the new namespace's
    assert len(ports_of(inst, "web-1")) == len(ports_before)
    assert_serves(ext, {"web-0", "web-1"})


def _ns_inode(pid: str) -> int | None:
    try:
        return os.stat(f"/proc/{pid}/ns/net").st_ino
    except OSError:
        return None
