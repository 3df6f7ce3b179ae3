"""End-to-end lifecycle of the webfarm VNF on the local VIM: create → instantiate → terminate → delete.

Real CLI (``python -m vnfm_runner`` with ``VNFM_HOME``), real ansible-runner,
real kernel objects; no mocks. Every assertion about what exists is made
against the host itself (``ip -json``, ``/proc``, HTTP from the host), not
against the driver's own discovery. Needs root and iproute2.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.integration.conftest import (
    COLLECTIONS_DIR,
    PLAYBOOKS_DIR,
    REPO_ROOT,
    RUN_DIR,
    WEBFARM,
    Lifecycle,
    daemon_processes,
    instance_netns,
    leftovers,
    netns_names,
    requires_root,
    short_id,
    wait_until,
)

pytestmark = requires_root

DEFAULT_EXT_CIDR = ipaddress.ip_network("172.30.250.0/24")  # the local VIM's default ext network


# -- helpers ------------------------------------------------------------------------------------
def ext_addresses(doc: dict[str, Any]) -> list[str]:
    out: list[str] = []
    for cp in (doc.get("instantiatedVnfInfo") or {}).get("extCpInfo", []):
        for proto in cp.get("cpProtocolInfo", []):
            for ip in (proto.get("ipOverEthernet") or {}).get("ipAddresses", []):
                out.extend(ip.get("addresses", []))
    return out


def http_answers(address: str, requests: int = 12) -> Counter[str]:
    """Bodies of ``requests`` GETs from the host to http://ADDRESS:80/ (errors counted too)."""
    seen: Counter[str] = Counter()
    for _ in range(requests):
        try:
            with urllib.request.urlopen(f"http://{address}:80/", timeout=10) as resp:
                seen[resp.read().decode().strip()] += 1
        except (urllib.error.URLError, OSError) as exc:
            seen[f"error: {exc}"] += 1
    return seen


def assert_serves(address: str, webs: set[str], settle: float = 30.0) -> None:
    """Every request through ``address`` is answered, by exactly ``webs``.

    A request that gets no answer (a daemon still starting, a loaded CI machine) is
    tried again with the whole round until ``settle`` seconds have passed; an answer
    from a web not in ``webs`` fails at once: traffic must never reach it.
    """
    deadline = time.monotonic() + settle
    while True:
        seen = http_answers(address, 4 * len(webs) + 4)
        errors = {k: v for k, v in seen.items() if k.startswith("error")}
        strangers = {k for k in seen if not k.startswith("error")} - webs
        assert not strangers, f"{address} answered by {sorted(strangers)}, expected {sorted(webs)}"
        if not errors or time.monotonic() >= deadline:
            break
        time.sleep(1)
    assert not errors, f"HTTP errors from {address}: {errors}"
    assert set(seen) == webs, f"{address} answered by {dict(seen)}, expected {sorted(webs)}"


def netns_addresses(ns: str) -> set[str]:
    out = subprocess.run(
        ["ip", "-n", ns, "-json", "addr", "show"], capture_output=True, text=True, check=True
    ).stdout
    return {a["local"] for link in json.loads(out or "[]") for a in link.get("addr_info", [])}


def assert_gone(instance_id: str) -> None:
    """Nothing of the instance remains (daemons may take a moment to be reaped)."""
    wait_until(lambda: not leftovers(instance_id), timeout=5)
    assert leftovers(instance_id) == {}


def assert_vim_empty(instance_id: str) -> None:
    """Nothing of the instance remains in the VIM: netns, links, processes, volumes."""
    wait_until(lambda: not _vim_leftovers(instance_id), timeout=5)
    assert _vim_leftovers(instance_id) == {}


def _vim_leftovers(instance_id: str) -> dict[str, Any]:
    left = leftovers(instance_id)
    left.pop("runtime dir", None)
    return left


def one_error_line(proc: subprocess.CompletedProcess[str]) -> str:
    """The CLI's single ``error:`` line on stderr (no traceback, nothing else)."""
    assert proc.returncode != 0, f"expected a failure, got rc 0: {proc.stdout}"
    assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.startswith("error:")]
    assert len(errors) == 1 and len(lines) == 1, f"expected one error line, got: {proc.stderr!r}"
    return errors[0]


def operations(lc: Lifecycle, instance_id: str) -> list[Any]:
    return list(lc.service().store.operations(instance_id))


def instantiate_ok(lc: Lifecycle, instance_id: str, *extra: str) -> None:
    lc.cli_ok("instantiate", instance_id, "--flavour", "default", *extra, "-q")


# -- re-running an operation playbook with the service's own inputs ---------------------------------
def instantiate_recording_inputs(lc: Lifecycle, instance_id: str, request: dict[str, Any]) -> Any:
    """Instantiate through the service layer, recording the ``run_playbook`` arguments it used.

    The real ``run_playbook`` runs; it is only wrapped to keep its keyword
    arguments (the service deletes its extra vars file after each run, since it
    may hold VIM credentials, so they cannot be read back afterwards).
    """
    from vnfm_runner import executor

    calls: list[dict[str, Any]] = []
    real = executor.run_playbook

    def recording(**kwargs: Any) -> Any:
        calls.append(dict(kwargs))
        return real(**kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("vnfm_runner.lcm.playbooks.run_playbook", recording)
        op = lc.service().instantiate(instance_id=instance_id, request=request)
    assert op["operationState"] == "COMPLETED", op.get("error")
    assert len(calls) == 1, f"the service ran {len(calls)} playbooks"
    return calls[0]


# -- 1. the whole lifecycle through the CLI ----------------------------------------------------------
def test_lifecycle_create_instantiate_terminate_delete(lifecycle: Lifecycle) -> None:
    from vnfm_runner.executor import run_playbook

    lc = lifecycle
    vnfd_id = lc.onboard()
    inst = lc.create(vnfd_id, name="e2e-webfarm")
    assert lc.show(inst)["instantiationState"] == "NOT_INSTANTIATED"

    # instantiate through the service (recording the playbook inputs for the re-run below)
    inputs = instantiate_recording_inputs(
        lc, inst, {"flavourId": "default", "instantiationLevelId": "small"}
    )

    # the SOL003 VnfInstance, through the CLI
    doc = lc.show(inst)
    assert doc["id"] == inst
    assert doc["instantiationState"] == "INSTANTIATED"
    info = doc["instantiatedVnfInfo"]
    assert info["flavourId"] == "default"
    vnfcs = {v["id"]: v for v in info["vnfcResourceInfo"]}
    assert sorted(vnfcs) == ["lb-0", "web-0", "web-1"]
    assert {v["vduId"] for v in vnfcs.values()} == {"lb", "web"}
    namespaces = set(netns_names())
    for vnfc_id, vnfc in vnfcs.items():
        netns = vnfc["computeResource"]["resourceId"]
        assert netns == f"vnfm-{inst}-{vnfc_id}"
        assert netns in namespaces, f"{netns} is reported but does not exist"
    assert f"vnfm-{inst}-vim" in namespaces
    addresses = ext_addresses(doc)
    assert len(addresses) == 1, info["extCpInfo"]
    ext = addresses[0]
    assert ipaddress.ip_address(ext) in DEFAULT_EXT_CIDR
    assert info["extCpInfo"][0]["cpdId"] == "lb_ext_cp"
    assert ext in netns_addresses(f"vnfm-{inst}-lb-0"), "extCpInfo address is not on the lb VNFC"
    assert any(link.startswith(f"vx{short_id(inst)}") for link in leftovers(inst)["host links"])

    # the operation record: one COMPLETED INSTANTIATE, one ansible-playbook run
    ops = operations(lc, inst)
    assert [(o.operation, o.state) for o in ops] == [("INSTANTIATE", "COMPLETED")]
    assert ops[0].doc.get("playbookRuns") == 1

    # traffic from the host through the load balancer reaches both web VNFCs
    assert_serves(ext, {"web-0", "web-1"})
    daemons = daemon_processes(inst)
    assert len(daemons) == 3, daemons  # lb + 2 webs

    # the same playbook with the same inputs changes nothing
    assert inputs["playbook"] == "instantiate.yml"
    assert inputs["variables"]["vnfm_vnf_instance_id"] == inst
    assert inputs["variables"]["vnfm_hooks"]["instantiate_end"].endswith("instantiate_end.yml")
    inputs.update(private_data_dir=lc.tmp / "rerun", ident="rerun")
    events: list[dict[str, Any]] = []
    inputs["on_event"] = events.append
    rerun = run_playbook(**inputs)
    assert rerun.ok, rerun.failures or rerun.stdout_tail()
    assert rerun.playbook_runs == 1
    result = rerun.stats["vnfm_result"]
    assert result["changed"] in (False, "False"), result["actions"]
    assert result["actions"] == []
    reconcile = [
        e["event_data"]
        for e in events
        if e["event"] == "runner_on_ok"
        and e["event_data"].get("resolved_action") == "nfv.vnfm.vnf_resources"
    ]
    assert len(reconcile) == 1 and reconcile[0]["res"]["changed"] is False
    stats = next(e["event_data"] for e in events if e["event"] == "playbook_on_stats")
    changed = {host: n for host, n in (stats.get("changed") or {}).items() if n}
    assert changed == {}, f"the re-run changed something: {changed}"
    assert daemon_processes(inst) == daemons, "the re-run restarted daemons"
    assert_serves(ext, {"web-0", "web-1"})

    # an INSTANTIATED instance cannot be deleted
    refused = one_error_line(lc.cli("delete", inst))
    assert "INSTANTIATED" in refused and "terminate" in refused

    # terminate: nothing of the instance remains
    lc.cli_ok("terminate", inst, "-q")
    assert_gone(inst)
    assert not (RUN_DIR / inst).exists()
    doc = lc.show(inst)
    assert doc["instantiationState"] == "NOT_INSTANTIATED"
    assert "instantiatedVnfInfo" not in doc
    ops = operations(lc, inst)
    assert [(o.operation, o.state) for o in ops][-1] == ("TERMINATE", "COMPLETED")
    assert ops[-1].doc.get("playbookRuns") == 1

    # delete: the instance is gone for good
    assert inst in lc.cli_ok("delete", inst)
    gone = lc.cli("show", inst)
    line = one_error_line(gone)
    assert inst in line and "no VNF instance" in line


# -- 2. two instances side by side ----------------------------------------------------------------
def test_two_instances_side_by_side(lifecycle: Lifecycle) -> None:
    lc = lifecycle
    vnfd_id = lc.onboard()
    a, b = lc.create(vnfd_id, name="side-a"), lc.create(vnfd_id, name="side-b")
    # instantiate both at once: they share the host's external bridge
    procs = {
        inst: lc.popen("instantiate", inst, "--flavour", "default", "--level", "small", "-q")
        for inst in (a, b)
    }
    for inst, proc in procs.items():
        out, err = proc.communicate(timeout=420)
        assert proc.returncode == 0, f"instantiate {inst} failed:\n{out[-3000:]}\n{err[-3000:]}"
    addr = {inst: ext_addresses(lc.show(inst)) for inst in (a, b)}
    assert len(addr[a]) == 1 and len(addr[b]) == 1
    assert addr[a][0] != addr[b][0], addr
    assert_serves(addr[a][0], {"web-0", "web-1"})
    assert_serves(addr[b][0], {"web-0", "web-1"})

    lc.cli_ok("terminate", a, "-q")
    assert_gone(a)
    assert len(instance_netns(b)) == 4  # vim, lb-0, web-0, web-1
    assert len(daemon_processes(b)) == 3
    assert_serves(addr[b][0], {"web-0", "web-1"})

    lc.cli_ok("terminate", b, "-q")
    assert_gone(b)


# -- 3. terminate by instance id alone, after the records are lost ---------------------------------
def test_terminate_playbook_without_records(lifecycle: Lifecycle) -> None:
    lc = lifecycle
    inst = lc.create(lc.onboard())
    instantiate_ok(lc, inst, "--level", "small")
    assert len(instance_netns(inst)) == 4 and len(daemon_processes(inst)) == 3

    # the records are lost: a brand-new VNFM_HOME knows nothing of the instance
    shutil.rmtree(lc.home)
    lost = lc.cli("show", inst)
    assert lost.returncode != 0 and "no VNF instance" in lost.stderr

    extra = lc.tmp / "terminate-vars.yml"
    extra.write_text(yaml.safe_dump({"vnfm_vnf_instance_id": inst}))
    venv_bin = Path(sys.executable).parent
    env = {
        **os.environ,
        "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS_DIR),
        "PATH": f"{venv_bin}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_RETRY_FILES_ENABLED": "false",
    }
    proc = subprocess.run(
        [
            str(venv_bin / "ansible-playbook"),
            "-i",
            str(REPO_ROOT / "inventories" / "local" / "hosts.yml"),
            str(PLAYBOOKS_DIR / "terminate.yml"),
            "-e",
            f"@{extra}",
        ],
        cwd=lc.tmp,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    assert_vim_empty(inst)
    # The package's runtime directory lives on the host filesystem, outside the VIM;
    # without records no terminate hook runs, so only the VIM's removal is asserted.


# -- 4. bad input and failures ------------------------------------------------------------------------
def test_unknown_flavour_and_level_are_refused_before_anything_runs(lifecycle: Lifecycle) -> None:
    lc = lifecycle
    inst = lc.create(lc.onboard())

    line = one_error_line(lc.cli("instantiate", inst, "--flavour", "nope", "--level", "small"))
    assert "nope" in line and "compact" in line and "default" in line

    line = one_error_line(lc.cli("instantiate", inst, "--flavour", "default", "--level", "huge"))
    assert "huge" in line and "small" in line and "large" in line

    assert operations(lc, inst) == []
    assert not (lc.home / "runs").exists() or not any((lc.home / "runs").iterdir())
    assert leftovers(inst) == {}
    assert lc.show(inst)["instantiationState"] == "NOT_INSTANTIATED"

    # terminate of a NOT_INSTANTIATED instance
    line = one_error_line(lc.cli("terminate", inst))
    assert inst in line and "NOT_INSTANTIATED" in line
    assert operations(lc, inst) == []

    # unknown instance
    line = one_error_line(lc.cli("instantiate", str(uuid.uuid4()), "--flavour", "default"))
    assert "no VNF instance" in line


def test_delete_of_instantiated_instance_is_refused(lifecycle: Lifecycle) -> None:
    lc = lifecycle
    inst = lc.create(lc.onboard())
    instantiate_ok(lc, inst, "--level", "small", "--no-hooks")
    assert len(instance_netns(inst)) == 4
    assert daemon_processes(inst) == {}  # no hooks, no software

    line = one_error_line(lc.cli("delete", inst))
    assert inst in line and "INSTANTIATED" in line
    assert lc.show(inst)["instantiationState"] == "INSTANTIATED"

    lc.cli_ok("terminate", inst, "--forceful", "-q")
    assert_gone(inst)
    lc.cli_ok("delete", inst)


def broken_webfarm(dest: Path) -> Path:
    """webfarm whose instantiate_end hook fails in a named task after the daemons started."""
    shutil.copytree(WEBFARM, dest)
    hook = dest / "Scripts" / "instantiate_end.yml"
    plays = yaml.safe_load(hook.read_text())
    assert plays[-1]["hosts"] == "web:lb"  # one play starts every VNFC's daemon
    plays[-1]["tasks"].append(
        {
            "name": "Fail on purpose after the load balancer started",
            "ansible.builtin.fail": {"msg": "injected failure for the rollback test"},
            "when": "'lb' in group_names",
        }
    )
    hook.write_text("---\n" + yaml.safe_dump(plays, sort_keys=False))
    subprocess.run(
        [sys.executable, str(REPO_ROOT / "scripts" / "package-manifest.py"), str(dest)],
        check=True,
        capture_output=True,
    )
    return dest


def test_failing_instantiate_end_hook_is_rolled_back(lifecycle: Lifecycle) -> None:
    lc = lifecycle
    package = broken_webfarm(lc.tmp / "webfarm-broken")
    inst = lc.create(lc.onboard(package))

    proc = lc.cli("instantiate", inst, "--flavour", "default", "--level", "small", "-q")
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1, proc.stderr
    assert "Fail on purpose after the load balancer started" in errors[0]
    assert f"vnf-{short_id(inst)}-lb-0" in errors[0]
    assert "injected failure for the rollback test" in errors[0]

    ops = operations(lc, inst)
    assert [(o.operation, o.state) for o in ops] == [("INSTANTIATE", "ROLLED_BACK")]
    assert "Fail on purpose" in json.dumps(ops[0].doc.get("error"))
    assert lc.show(inst)["instantiationState"] == "NOT_INSTANTIATED"
    assert_vim_empty(inst)
    # the hook wrote runtime files under the local VIM's runDir: they went with the VNFCs
    assert not (RUN_DIR / inst).exists(), sorted(p.name for p in (RUN_DIR / inst).iterdir())


def test_instantiate_without_net_admin_is_refused_clearly(lifecycle: Lifecycle) -> None:
    """An unprivileged user gets a clear 'root or CAP_NET_ADMIN' error and changes nothing.

    The venv's interpreter lives under /root (mode 0700) on the CI image, so the
    unprivileged user keeps CAP_DAC_READ_SEARCH (read and traverse files) and
    nothing else: no CAP_NET_ADMIN, uid 65534.
    """
    if shutil.which("setpriv") is None:
        pytest.skip("needs setpriv (util-linux)")
    lc = lifecycle
    home = Path(tempfile.mkdtemp(prefix="vnfm-unpriv-"))
    lc.homes.append(home)
    try:
        onboard = lc.cli("package", "onboard", str(WEBFARM), home=home)
        assert onboard.returncode == 0, onboard.stderr
        created = lc.cli("create", "--vnfd-id", onboard.stdout.strip(), home=home)
        assert created.returncode == 0, created.stderr
        inst = lc.track(created.stdout.strip())
        for path in [home, *home.rglob("*")]:
            os.chmod(path, 0o777 if path.is_dir() else 0o666)
        proc = subprocess.run(
            [
                "setpriv",
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                "--inh-caps=-all,+dac_read_search",
                "--ambient-caps=+dac_read_search",
                "--bounding-set=-all,+dac_read_search",
                "env",
                f"HOME={home}",
                f"VNFM_HOME={home}",
                sys.executable,
                "-m",
                "vnfm_runner",
                "instantiate",
                inst,
                "--flavour",
                "default",
                "--level",
                "small",
                "-q",
            ],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert proc.returncode != 0, proc.stdout
        assert "Traceback" not in proc.stderr, proc.stderr
        errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("error:")]
        assert len(errors) == 1, proc.stderr
        assert "root or CAP_NET_ADMIN" in errors[0]
        assert leftovers(inst) == {}
    finally:
        shutil.rmtree(home, ignore_errors=True)


# -- 5. the README's demo -------------------------------------------------------------------------
def test_demo(lifecycle: Lifecycle) -> None:
    proc = lifecycle.cli("demo", "-q")
    found = re.search(r"instance ([0-9a-f-]{36})", proc.stdout)
    if found:
        lifecycle.track(found.group(1))
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    assert "every web VNFC answered: web-0, web-1" in proc.stdout
    assert found is not None
    assert_gone(found.group(1))


# -- 6. one operation per instance at a time ----------------------------------------------------------
def test_second_operation_on_busy_instance_is_refused(lifecycle: Lifecycle) -> None:
    from vnfm_runner import records
    from vnfm_runner.domain import Operation, OperationState
    from vnfm_runner.domain.records import VnfLcmOpOccRecord
    from vnfm_runner.store.db import BusyError, now

    lc = lifecycle
    # instantiate_end waits while HOLD exists: the checks run while the operation is surely busy,
    # however slow or fast the machine is
    hold = lc.tmp / "HOLD"
    held = shutil.copytree(WEBFARM, lc.tmp / "webfarm-held")
    hook = held / "Scripts" / "instantiate_end.yml"
    hook.write_text(
        "---\n- name: Hold the instantiation while the test checks\n  hosts: localhost\n"
        "  gather_facts: false\n  tasks:\n    - name: Wait while the test holds\n"
        f"      ansible.builtin.wait_for:\n        path: {hold}\n        state: absent\n"
        "        timeout: 300\n" + hook.read_text().removeprefix("---\n")
    )
    subprocess.run(
        [sys.executable, str(REPO_ROOT / "scripts" / "package-manifest.py"), str(held)],
        check=True,
        capture_output=True,
    )
    hold.touch()
    inst = lc.create(lc.onboard(held))
    running = lc.popen("instantiate", inst, "--flavour", "default", "--level", "small", "-q")
    try:
        store = lc.service().store
        assert wait_until(
            lambda: (op := store.active_operation(inst)) is not None and op.state == "PROCESSING",
            timeout=60,
        ), "the instantiate never reached PROCESSING"
        first = store.active_operation(inst)
        assert first is not None

        for args in (
            ("instantiate", inst, "--flavour", "default", "--level", "small"),
            ("terminate", inst),
            ("delete", inst),
        ):
            line = one_error_line(lc.cli(*args))
            assert "busy" in line and first.id in line, line

        # the store itself refuses a second non-final operation
        op_id = str(uuid.uuid4())
        with pytest.raises(BusyError, match=first.id):
            store.start_operation(
                VnfLcmOpOccRecord(
                    id=op_id,
                    vnf_instance_id=inst,
                    operation=Operation.TERMINATE,
                    state=OperationState.STARTING,
                    doc=records.new_operation(
                        op_id=op_id, instance_id=inst, operation="TERMINATE", params={}
                    ),
                    runner_ident=None,
                    artifacts_dir=None,
                    created_at=now(),
                )
            )
        assert running.poll() is None, "the instantiate ended before the checks; they prove nothing"
        hold.unlink()
        out, err = running.communicate(timeout=420)
        assert running.returncode == 0, out[-3000:] + err[-3000:]
    finally:
        hold.unlink(missing_ok=True)
        if running.poll() is None:
            running.kill()
            running.wait()
    assert [(o.operation, o.state) for o in operations(lc, inst)] == [("INSTANTIATE", "COMPLETED")]

    lc.cli_ok("terminate", inst, "-q")
    assert_gone(inst)
