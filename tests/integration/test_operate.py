"""End-to-end SOL003 Operate (start/stop) of the webfarm VNF on the local VIM.

Real CLI (``python -m vnfm_runner`` with ``VNFM_HOME`` in ``tmp_path``), real
ansible-runner, real kernel objects; no mocks. What runs and what answers is
checked on the host itself (HTTP from the host, ``/proc``, ``/run/netns``).
Needs root and iproute2; the ``lifecycle`` fixture cleans up by instance id.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.integration.conftest import (
    Lifecycle,
    daemon_processes,
    instance_netns,
    requires_root,
    wait_until,
)
from tests.integration.test_lifecycle import (
    assert_gone,
    assert_serves,
    ext_addresses,
    http_answers,
    operations,
)

pytestmark = requires_root
OPERATIONS_TIMEOUT = 1800  # nine CLI operations; each takes 10-100 s depending on the host's load


def inodes(instance_id: str) -> dict[str, int]:
    return {n: os.stat(f"/run/netns/{n}").st_ino for n in instance_netns(instance_id)}


def daemons_of(instance_id: str, vnfc: str) -> dict[int, str]:
    """The webfarm daemons running from VNFC ``vnfc``'s runtime directory."""
    return {pid: cmd for pid, cmd in daemon_processes(instance_id).items() if f"/{vnfc}/" in cmd}


def assert_no_answer(address: str) -> None:
    seen = http_answers(address, 2)
    assert all(k.startswith("error") for k in seen), f"{address} still answers: {dict(seen)}"


def vnfc_states(doc: dict[str, Any]) -> dict[str, str]:
    info = doc["instantiatedVnfInfo"]
    return {v["id"]: v["vnfcState"] for v in info["vnfcInfo"]}


def power_states(doc: dict[str, Any]) -> dict[str, str]:
    info = doc["instantiatedVnfInfo"]
    return {v["id"]: v["metadata"]["powerState"] for v in info["vnfcResourceInfo"]}


def timed(record: Callable[[str, Any], None], name: str, lc: Lifecycle, *args: str) -> float:
    start = time.monotonic()
    lc.cli_ok(*args)
    took = time.monotonic() - start
    record(name, round(took, 2))
    return took


@pytest.mark.timeout(OPERATIONS_TIMEOUT)
def test_operate_stop_start_whole_vnf_and_one_vnfc(
    lifecycle: Lifecycle, record_property: Callable[[str, Any], None]
) -> None:
    lc = lifecycle
    inst = lc.create(lc.onboard(), name="e2e-operate")
    lc.cli_ok("instantiate", inst, "--flavour", "default", "--level", "small", "-q")
    doc = lc.show(inst)
    (ext,) = ext_addresses(doc)
    assert_serves(ext, {"web-0", "web-1"})
    namespaces = inodes(inst)
    assert len(namespaces) == 4, namespaces  # vim, lb-0, web-0, web-1
    assert power_states(doc) == {"lb-0": "on", "web-0": "on", "web-1": "on"}

    # -- the whole VNF stops: nothing answers, nothing runs, the namespaces stay
    timed(record_property, "operate_stop_s", lc, "operate", inst, "--state", "STOPPED", "-q")
    assert_no_answer(ext)
    doc = lc.show(inst)
    assert doc["instantiatedVnfInfo"]["vnfState"] == "STOPPED"
    assert set(vnfc_states(doc).values()) == {"STOPPED"}
    assert set(power_states(doc).values()) == {"off"}
    assert ext_addresses(doc) == [ext]
    assert wait_until(lambda: not daemon_processes(inst), timeout=5), daemon_processes(inst)
    assert inodes(inst) == namespaces

    # a second stop changes nothing in the VIM
    lc.cli_ok("operate", inst, "--state", "STOPPED", "-q")
    last = operations(lc, inst)[-1]
    assert (last.operation, last.state) == ("OPERATE", "COMPLETED")
    assert not daemon_processes(inst) and inodes(inst) == namespaces

    # -- the whole VNF starts again: both webs answer through the lb
    timed(record_property, "operate_start_s", lc, "operate", inst, "--state", "STARTED", "-q")
    doc = lc.show(inst)
    assert doc["instantiatedVnfInfo"]["vnfState"] == "STARTED"
    assert set(power_states(doc).values()) == {"on"}
    assert ext_addresses(doc) == [ext]
    assert_serves(ext, {"web-0", "web-1"})
    assert len(daemon_processes(inst)) == 3  # lb + 2 webs
    assert inodes(inst) == namespaces

    # -- one VNFC stops: the lb only sends to web-0, web-1 runs nothing
    web0_before = daemons_of(inst, "web-0")
    lb_before = daemons_of(inst, "lb-0")
    timed(
        record_property,
        "operate_stop_vnfc_s",
        lc,
        "operate",
        inst,
        "--state",
        "STOPPED",
        "--vnfc",
        "web-1",
        "-q",
    )
    assert_serves(ext, {"web-0"})
    assert wait_until(lambda: not daemons_of(inst, "web-1"), timeout=5)
    assert daemons_of(inst, "web-0") == web0_before and daemons_of(inst, "lb-0") == lb_before
    doc = lc.show(inst)
    assert doc["instantiatedVnfInfo"]["vnfState"] == "STARTED"
    assert vnfc_states(doc) == {"lb-0": "STARTED", "web-0": "STARTED", "web-1": "STOPPED"}
    assert power_states(doc) == {"lb-0": "on", "web-0": "on", "web-1": "off"}
    assert inodes(inst) == namespaces

    # -- healing the stopped VNFC recreates it stopped: new namespace, nothing runs there
    lc.cli_ok("heal", inst, "--vnfc", "web-1", "-q")
    web1_ns = f"vnfm-{inst}-web-1"
    healed = inodes(inst)
    assert healed[web1_ns] != namespaces[web1_ns]
    assert {n: i for n, i in healed.items() if n != web1_ns} == {
        n: i for n, i in namespaces.items() if n != web1_ns
    }
    namespaces = healed
    assert power_states(lc.show(inst)) == {"lb-0": "on", "web-0": "on", "web-1": "off"}
    assert not daemons_of(inst, "web-1")
    assert_serves(ext, {"web-0"})

    # -- and starts again: both webs answer
    timed(
        record_property,
        "operate_start_vnfc_s",
        lc,
        "operate",
        inst,
        "--state",
        "STARTED",
        "--vnfc",
        "web-1",
        "-q",
    )
    assert_serves(ext, {"web-0", "web-1"})
    assert daemons_of(inst, "web-0") == web0_before and daemons_of(inst, "lb-0") == lb_before
    doc = lc.show(inst)
    assert set(vnfc_states(doc).values()) == {"STARTED"}
    assert set(power_states(doc).values()) == {"on"}
    assert inodes(inst) == namespaces

    ops = [(o.operation, o.state) for o in operations(lc, inst)]
    assert ops == [("INSTANTIATE", "COMPLETED")] + [("OPERATE", "COMPLETED")] * 4 + [
        ("HEAL", "COMPLETED"),
        ("OPERATE", "COMPLETED"),
    ]

    # -- terminate + delete: nothing of the instance remains
    lc.cli_ok("terminate", inst, "-q")
    assert_gone(inst)
    assert inst in lc.cli_ok("delete", inst)
