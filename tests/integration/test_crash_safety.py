"""Durable engine: kill -9 of the process running an operation, and concurrent operations.

An operation started with ``--no-wait`` runs in a detached ``python -m vnfm_runner
execute-operation OPID --mode run`` process. The tests follow its ansible-runner
job events (``VNFM_HOME/runs/<op>/<ident>/artifacts/<ident>/job_events/*.json``)
to SIGKILL that process at a chosen point (while the VIM is reconciled, while a
package hook starts a daemon, between the two), then check what the issue
"durable engine" promises: the next ``vnfm`` command finds the expired lease
and reports the operation FAILED_TEMP ("engine stopped"), no ansible-playbook
process of it survives, ``op retry`` converges (exactly the planned namespaces,
every web answers) and ``op rollback`` returns to the state before, and the
VNF's own daemons are not killed by the recovery. Real CLI, real kernel;
no mocks. Needs root and iproute2.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import (
    Lifecycle,
    daemon_processes,
    have_ip,
    instance_netns,
    privileged,
    requires_root,
    wait_until,
)
from tests.integration.test_lifecycle import (
    assert_serves,
    assert_vim_empty,
    ext_addresses,
    one_error_line,
)

pytestmark = [*requires_root, pytest.mark.timeout(1800)]

RECOVERY_DEADLINE = 60.0  # lease TTL 20 s + renewal period + a slow CLI start on a busy host
CONCURRENT_INSTANCES = 6  # the issue says 20; a 2-core host needs ~40 s per operation alone


# -- helpers -----------------------------------------------------------------------------------------
def vnfcs(instance_id: str) -> list[str]:
    prefix = f"vnfm-{instance_id}-"
    return sorted(
        n.removeprefix(prefix) for n in instance_netns(instance_id) if n != f"{prefix}vim"
    )


def expected_vnfcs(web_count: int) -> list[str]:
    return ["lb-0", *(f"web-{i}" for i in range(web_count))]


def scale_level(doc: dict[str, Any]) -> int:
    (status,) = doc["instantiatedVnfInfo"]["scaleStatus"]
    return int(status["scaleLevel"])


def events(lc: Lifecycle, op_id: str) -> list[dict[str, Any]]:
    """The job events written so far by every run of the operation, in order."""
    found = []
    for path in (lc.home / "runs" / op_id).glob("*/artifacts/*/job_events/*.json"):
        try:
            event = json.loads(path.read_text())
        except (OSError, ValueError):
            continue  # being written
        found.append((path.parts[-4], int(event.get("counter", 0)), event))
    return [e for _run, _counter, e in sorted(found, key=lambda t: (t[0], t[1]))]


def task_started(lc: Lifecycle, op_id: str, task: str) -> bool:
    return any(
        e.get("event") == "playbook_on_task_start"
        and task in str((e.get("event_data") or {}).get("task", ""))
        for e in events(lc, op_id)
    )


def proc_pids(predicate: Any) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            environ = (entry / "environ").read_bytes().split(b"\0")
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if stat.rsplit(")", 1)[-1].split()[:1] == ["Z"]:
            continue
        if predicate(cmdline, environ):
            pids.append(int(entry.name))
    return pids


def worker_pids(op_id: str) -> list[int]:
    return proc_pids(lambda cmd, _env: "execute-operation" in cmd and op_id in cmd)


def playbook_pids(op_id: str) -> list[int]:
    """ansible-playbook processes (and their workers) of the operation's run."""
    needle = f"VNFM_OP_ID={op_id}".encode()
    return proc_pids(lambda cmd, env: "ansible" in cmd and needle in env)


def start_no_wait(lc: Lifecycle, *args: str) -> str:
    return lc.cli_ok(*args, "--no-wait").strip().splitlines()[-1]


def op_show(lc: Lifecycle, op_id: str) -> dict[str, Any]:
    return dict(json.loads(lc.cli_ok("op", "show", op_id)))


def kill_when(lc: Lifecycle, op_id: str, task: str, timeout: float = 300) -> float:
    """SIGKILL the operation's worker once ``task`` has started; the time of the kill."""
    assert wait_until(lambda: task_started(lc, op_id, task), timeout=timeout, interval=0.05), (
        f"task {task!r} never started; events: "
        f"{[e.get('event_data', {}).get('task') for e in events(lc, op_id)][-10:]}"
    )
    pids = worker_pids(op_id)
    assert len(pids) == 1, f"execute-operation workers of {op_id}: {pids}"
    os.kill(pids[0], signal.SIGKILL)
    killed = time.monotonic()
    assert wait_until(lambda: not worker_pids(op_id), timeout=10)
    return killed


def wait_recovered(lc: Lifecycle, op_id: str, killed: float) -> dict[str, Any]:
    """Poll ``vnfm op show`` (every command recovers expired leases) until FAILED_TEMP."""
    doc: dict[str, Any] = {}
    deadline = killed + RECOVERY_DEADLINE
    while time.monotonic() < deadline:
        doc = op_show(lc, op_id)
        if doc["operationState"] not in ("STARTING", "PROCESSING", "ROLLING_BACK"):
            break
        time.sleep(1)
    took = time.monotonic() - killed
    assert doc.get("operationState") == "FAILED_TEMP", (
        f"{took:.0f} s after the kill: {doc.get('operationState')}"
    )
    assert (doc.get("error") or {}).get("title") == "engine stopped", doc.get("error")
    return doc


def stable_daemons(instance_id: str, vnfc_ids: list[str]) -> dict[str, set[int]]:
    out: dict[str, set[int]] = {}
    for pid, cmd in daemon_processes(instance_id).items():
        for vnfc in vnfc_ids:
            if f"/{vnfc}/" in cmd:
                out.setdefault(vnfc, set()).add(pid)
    return out


def assert_converged(lc: Lifecycle, instance_id: str, web_count: int) -> None:
    """Exactly the planned namespaces (VNFCs + the vim one), every web answers via the LB."""
    names = instance_netns(instance_id)
    assert len(names) == len(set(names)) == web_count + 2, names
    assert vnfcs(instance_id) == expected_vnfcs(web_count)
    doc = lc.show(instance_id)
    assert scale_level(doc) == web_count - 1
    (ext,) = ext_addresses(doc)
    assert_serves(ext, {f"web-{i}" for i in range(web_count)})


# -- the instance the kill tests share ---------------------------------------------------------------------
class Farm:
    def __init__(self, lc: Lifecycle, instance_id: str) -> None:
        self.lc = lc
        self.id = instance_id


@pytest.fixture(scope="module")
def farm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Farm]:
    if not privileged() or not have_ip():
        pytest.skip("needs root and iproute2")
    tmp = tmp_path_factory.mktemp("crash")
    lc = Lifecycle(home=tmp / "vnfm-home", tmp=tmp)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("VNFM_HOME", str(lc.home))
        try:
            inst = lc.create(lc.onboard(), name="e2e-crash")
            lc.cli_ok("instantiate", inst, "--flavour", "default", "--level", "small", "-q")
            assert vnfcs(inst) == expected_vnfcs(2)
            yield Farm(lc, inst)
        finally:
            lc.cleanup()


def kill_and_recover(farm: Farm, task: str, then: str) -> None:
    """Scale out by 2 with --no-wait, SIGKILL its engine when ``task`` starts, then retry or
    roll back; check the recovery and what it left."""
    lc, inst = farm.lc, farm.id
    webs_before = len(vnfcs(inst)) - 1
    level_before = scale_level(lc.show(inst))
    old = stable_daemons(inst, vnfcs(inst))
    assert set(old) == set(vnfcs(inst)), old

    op_id = start_no_wait(
        lc, "scale", inst, "--type", "SCALE_OUT", "--aspect", "web", "--steps", "2"
    )
    killed = kill_when(lc, op_id, task)
    doc = wait_recovered(lc, op_id, killed)
    assert inst in str(doc.get("vnfInstanceId")), doc
    assert wait_until(lambda: not playbook_pids(op_id), timeout=10), (
        f"ansible processes of {op_id} survived the recovery: {playbook_pids(op_id)}"
    )
    # the daemons that ran before the operation survived the engine's death and the recovery
    now = stable_daemons(inst, list(old))
    assert {v: now.get(v) for v in old} == old, "the recovery killed the VNF's daemons"

    if then == "retry":
        lc.cli_ok("op", "retry", op_id, "-q")
        assert op_show(lc, op_id)["operationState"] == "COMPLETED"
        assert_converged(lc, inst, webs_before + 2)
    else:
        lc.cli_ok("op", "rollback", op_id, "-q")
        assert op_show(lc, op_id)["operationState"] == "ROLLED_BACK"
        assert scale_level(lc.show(inst)) == level_before
        assert_converged(lc, inst, webs_before)
    assert not playbook_pids(op_id)
    # the scale out restarts none of the daemons that ran before it (the lb reloads in place)
    now = stable_daemons(inst, list(old))
    assert {v: now.get(v) for v in old} == old, "the operation restarted existing daemons"


def test_kill_during_reconcile_then_retry(farm: Farm) -> None:
    kill_and_recover(farm, "Reconcile the VIM to the plan", "retry")


def test_kill_during_hook_then_retry(farm: Farm) -> None:
    kill_and_recover(farm, "Bring the VNFC's software up", "retry")


def test_kill_between_reconcile_and_hook_then_rollback(farm: Farm) -> None:
    # the last task of the reconcile phase (the VNFCs are in the inventory, no hook ran)
    kill_and_recover(farm, "Publish the result", "rollback")


def test_kill_during_reconcile_then_rollback(farm: Farm) -> None:
    kill_and_recover(farm, "Reconcile the VIM to the plan", "rollback")


# -- concurrency ------------------------------------------------------------------------------------------------
def test_concurrent_instantiations(lifecycle: Lifecycle) -> None:
    lc = lifecycle
    vnfd_id = lc.onboard()
    ids = [lc.create(vnfd_id, name=f"e2e-many-{i}") for i in range(CONCURRENT_INSTANCES)]
    ops = {
        inst: start_no_wait(lc, "instantiate", inst, "--flavour", "default", "--level", "small")
        for inst in ids
    }
    svc = lc.service()
    try:
        # a second operation on a busy instance is refused, and nothing is recorded for it
        # (the last one submitted: the first ones may be done by now on a fast host)
        last = ids[-1]
        assert svc.operation(ops[last])["operationState"] in ("STARTING", "PROCESSING")
        busy = lc.cli("terminate", last, "-q")
        line = one_error_line(busy)
        assert "busy" in line and ops[last] in line, line
        assert [o.id for o in svc.store.operations(last)] == [ops[last]]

        def states() -> dict[str, str]:
            return {inst: svc.operation(op)["operationState"] for inst, op in ops.items()}

        final = ("COMPLETED", "FAILED_TEMP", "FAILED", "ROLLED_BACK")
        assert wait_until(lambda: all(s in final for s in states().values()), 1200, 2), states()
        assert set(states().values()) == {"COMPLETED"}, states()
        addresses = set()
        for inst in ids:
            assert vnfcs(inst) == expected_vnfcs(2)
            (ext,) = ext_addresses(lc.show(inst))
            addresses.add(ext)
            assert_serves(ext, {"web-0", "web-1"})
        assert len(addresses) == len(ids), "two instances got the same external address"
    finally:
        terms = {}
        for inst in ids:
            with contextlib.suppress(AssertionError):
                terms[inst] = start_no_wait(lc, "terminate", inst, "--forceful")
        for op in terms.values():
            wait_until(
                lambda op=op: svc.operation(op)["operationState"] not in ("STARTING", "PROCESSING"),
                600,
                2,
            )
    for inst, op in terms.items():
        assert svc.operation(op)["operationState"] == "COMPLETED"
        # forceful: no hooks, so the package's runtime directory is the hooks' to remove
        assert_vim_empty(inst)
