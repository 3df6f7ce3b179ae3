"""Rolling change of the current VNF package (CHANGE_VNFPKG) of webfarm, on the local VIM for real.

One instance serves the module (instantiated ``small``: lb-0, web-0, web-1); the
tests run in file order, each starting from the state the previous one left.
A v2 package changes the web software (``web.py`` answers ``<id> v2``), so the
webs are replaced batch by batch while a background HTTP client keeps asking
the load balancer: it must never see a failed request. Real CLI, real
ansible-runner, real namespaces and HTTP; no mocks. Needs root and iproute2.
"""

from __future__ import annotations

import http.client
import itertools
import json
import shutil
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import REPO_ROOT, Lifecycle, have_ip, privileged, requires_root
from tests.integration.test_lifecycle import assert_serves, one_error_line
from tests.integration.test_operations import (
    WEBFARM_VNFD,
    addresses,
    build_variant,
    ensure_webs,
    inodes,
    last_op_id,
    op_doc,
    the_ext_address,
    webs,
)

pytestmark = [*requires_root, pytest.mark.timeout(1800)]

FAIL_STEP = "Fail on purpose in the second batch"


# -- a client that keeps asking the load balancer -------------------------------------------------
@dataclass
class Traffic:
    """GET / on the service address every 50 ms in a thread; every answer and error kept."""

    address: str
    answers: list[tuple[float, str]] = field(default_factory=list)
    errors: list[tuple[float, str]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def _one(self) -> None:
        conn = http.client.HTTPConnection(self.address, 80, timeout=10)
        try:
            conn.request("GET", "/")
            resp = conn.getresponse()
            body = resp.read().decode().strip()
            if resp.status == 200:
                self.answers.append((time.monotonic(), body))
            else:
                self.errors.append((time.monotonic(), f"HTTP {resp.status}: {body}"))
        except OSError as exc:
            self.errors.append((time.monotonic(), f"{type(exc).__name__}: {exc}"))
        finally:
            conn.close()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._one()
            self._stop.wait(0.05)

    def __enter__(self) -> Traffic:
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=15)

    def bodies(self) -> set[str]:
        return {body for _t, body in self.answers}

    def last(self, n: int) -> set[str]:
        return {body for _t, body in self.answers[-n:]}


# -- packages ------------------------------------------------------------------------------------
def variant(dst: Path, marker: str, *, fail_flag: Path | None = None) -> tuple[Path, str]:
    """webfarm with web.py answering ``<id> <marker>`` (a new vnfdId); optionally a
    coordinate-new step that fails in the second batch while ``fail_flag`` exists."""
    vnfd = str(uuid.uuid4())
    pkg = build_variant(dst, vnfd_id=vnfd, software_version=marker.lstrip("v"), web_marker=marker)
    if fail_flag is not None:
        step = pkg / "Scripts" / "steps" / "coordinate_new.yml"
        failing = (
            "---\n"
            "- name: Look for the test's flag file\n"
            "  ansible.builtin.stat:\n"
            f"    path: {fail_flag}\n"
            "  delegate_to: localhost\n"
            "  run_once: true\n"
            "  register: webfarm_test_flag\n"
            f"- name: {FAIL_STEP}\n"
            "  ansible.builtin.fail:\n"
            "    msg: the flag file exists\n"
            "  when: webfarm_test_flag.stat.exists and vnfm_batch_index | int == 1\n"
        )
        step.write_text(failing + step.read_text().removeprefix("---\n"))
        subprocess.run(
            [sys.executable, str(REPO_ROOT / "scripts" / "package-manifest.py"), str(pkg)],
            check=True,
            capture_output=True,
        )
    return pkg, vnfd


# -- the module's instance -----------------------------------------------------------------------
@dataclass
class Farm:
    lc: Lifecycle
    id: str
    tmp: Path
    flag: Path
    v2: str = ""
    v3: str = ""

    def show(self) -> dict[str, Any]:
        return self.lc.show(self.id)

    @property
    def ext(self) -> str:
        return the_ext_address(self.show())

    def change(
        self, vnfd: str, params: dict[str, Any] | None = None
    ) -> subprocess.CompletedProcess[str]:
        args = ["change-package", self.id, "--vnfd-id", vnfd, "-q"]
        if params is not None:
            path = self.tmp / f"params-{uuid.uuid4().hex[:8]}.json"
            path.write_text(json.dumps({"vnfdId": vnfd, "additionalParams": params}))
            args += ["--params", str(path)]
        return self.lc.cli(*args)


@pytest.fixture(scope="module")
def farm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Farm]:
    """webfarm instantiated ``small`` (lb-0, web-0, web-1) for the whole module."""
    if not privileged() or not have_ip():
        pytest.skip("needs root and iproute2")
    tmp = tmp_path_factory.mktemp("change-package")
    lc = Lifecycle(home=tmp / "vnfm-home", tmp=tmp)
    # a path the batch steps can see (outside pytest's private tmp directories)
    flag_dir = Path(f"/tmp/vnfm-test-flag-{uuid.uuid4().hex[:12]}")
    flag_dir.mkdir()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("VNFM_HOME", str(lc.home))
        try:
            inst = lc.create(lc.onboard(), name="e2e-change-package")
            lc.cli_ok("instantiate", inst, "--flavour", "default", "--level", "small", "-q")
            farm = Farm(lc, inst, tmp, flag_dir / "fail")
            assert_serves(farm.ext, {"web-0", "web-1"})
            yield farm
        finally:
            lc.cleanup()
            shutil.rmtree(flag_dir, ignore_errors=True)


def generations(instance_id: str) -> dict[str, str]:
    """VNFC id -> the software generation the local VIM records on it (known ones), read
    from the kernel (``lo``'s alias); the instance's record may predate a failed attempt."""
    found: dict[str, str] = {}
    for netns in sorted(p.name for p in Path("/run/netns").glob(f"vnfm-{instance_id}-*")):
        vnfc_id = netns.removeprefix(f"vnfm-{instance_id}-")
        if vnfc_id == "vim":
            continue
        out = subprocess.run(
            ["ip", "-n", netns, "-json", "link", "show", "dev", "lo"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        fields = str(json.loads(out)[0].get("ifalias") or "").split(":")
        if len(fields) == 7 and fields[5] != "-":  # vnfm:vnfc:<inst>:<id>:<vdu>:<gen>:<token>
            found[vnfc_id] = fields[5]
    return found


def replaced_batches(op: dict[str, Any]) -> list[list[str]]:
    return [b["vnfcs"] for b in op["vnfcChanges"]["batches"]]


def assert_one_batch_at_a_time(op: dict[str, Any]) -> None:
    batches = op["vnfcChanges"]["batches"]
    for before, after in itertools.pairwise(batches):
        assert before["completedAt"] <= after["startedAt"], batches


# -- tests ---------------------------------------------------------------------------------------
def test_rolling_upgrade_keeps_traffic_up(farm: Farm) -> None:
    lc, inst = farm.lc, farm.id
    v2_pkg, farm.v2 = variant(farm.tmp / "webfarm-v2", "v2")
    assert lc.onboard(v2_pkg) == farm.v2
    before = inodes(inst)
    ips = {vnfc: addresses(inst, vnfc) for vnfc in ("lb-0", "web-0", "web-1")}
    with Traffic(farm.ext) as traffic:
        time.sleep(1)
        proc = farm.change(farm.v2)  # no parameters: webfarm's own steps, batches of 1
        time.sleep(1)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert traffic.errors == [], traffic.errors[:10]
    assert len(traffic.answers) > 50
    # old answers first, then a mix, and only v2 at the end
    assert {"web-0", "web-1"} & traffic.bodies()
    assert traffic.last(6) == {"web-0 v2", "web-1 v2"}
    assert_serves(farm.ext, {"web-0 v2", "web-1 v2"})

    after = inodes(inst)
    assert after["lb-0"] == before["lb-0"], "the lb (unchanged VDU) was recreated"
    assert after["web-0"] != before["web-0"] and after["web-1"] != before["web-1"]
    assert {vnfc: addresses(inst, vnfc) for vnfc in ips} == ips

    op = op_doc(lc, last_op_id(lc, inst))
    assert op["operationState"] == "COMPLETED"
    assert op["vnfcChanges"]["replaced"] == ["web-0", "web-1"]
    assert op["vnfcChanges"]["changedVdus"] == {"web": ["artifact software changed"]}
    assert replaced_batches(op) == [["web-0"], ["web-1"]]
    assert_one_batch_at_a_time(op)
    modified = {c["id"] for c in op["resourceChanges"]["affectedVnfcs"]}
    assert modified == {"web-0", "web-1"}
    assert op["playbookRuns"] == 1
    doc = farm.show()
    assert doc["vnfdId"] == farm.v2
    assert doc["vnfSoftwareVersion"] == "2"


def test_same_change_again_changes_nothing(farm: Farm) -> None:
    lc, inst = farm.lc, farm.id
    before = inodes(inst)
    proc = farm.change(farm.v2)
    assert proc.returncode == 0, proc.stderr[-3000:]
    op = op_doc(lc, last_op_id(lc, inst))
    assert op["vnfcChanges"]["replaced"] == [] and op["vnfcChanges"]["batches"] == []
    assert op["resourceChanges"]["affectedVnfcs"] == []
    assert inodes(inst) == before
    assert_serves(farm.ext, {"web-0 v2", "web-1 v2"})


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"batchSize": 0}, "additionalParams.batchSize must be a positive integer, got 0"),
        ({"batchSize": "2"}, "additionalParams.batchSize must be a positive integer, got '2'"),
        ({"upgrade_type": "BlueGreen"}, "additionalParams.upgrade_type must be one of"),
        (
            {"lcm-operation-coordinate-old-vnf": "../webfarm/Scripts/steps/coordinate_old.yml"},
            "additionalParams.lcm-operation-coordinate-old-vnf: '../webfarm/Scripts/steps/"
            "coordinate_old.yml' leaves the package",
        ),
        (
            {"lcm-operation-coordinate-new-vnf": "/etc/hosts.yml"},
            "additionalParams.lcm-operation-coordinate-new-vnf: '/etc/hosts.yml' is absolute",
        ),
        (
            {"lcm-operation-coordinate-new-vnf": "Scripts/steps/nope.yml"},
            "'Scripts/steps/nope.yml' is not a file of the VNF package",
        ),
    ],
)
def test_bad_request_is_refused_before_anything_runs(
    farm: Farm, params: dict[str, Any], message: str
) -> None:
    lc, inst = farm.lc, farm.id
    before, ops = inodes(inst), len(lc.service().store.operations(inst))
    line = one_error_line(farm.change(WEBFARM_VNFD, params))
    assert message in line, line
    assert inodes(inst) == before
    assert len(lc.service().store.operations(inst)) == ops  # no operation was even recorded
    assert farm.show()["vnfdId"] == farm.v2


def test_batches_of_two_back_to_v1(farm: Farm) -> None:
    lc, inst = farm.lc, farm.id
    ensure_webs(lc, inst, 4)
    assert_serves(farm.ext, {f"web-{i} v2" for i in range(4)})
    before = inodes(inst)
    with Traffic(farm.ext) as traffic:
        time.sleep(1)
        proc = farm.change(WEBFARM_VNFD, {"batchSize": 2})
        time.sleep(1)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert traffic.errors == [], traffic.errors[:10]
    assert traffic.last(8) == {f"web-{i}" for i in range(4)}
    op = op_doc(lc, last_op_id(lc, inst))
    assert replaced_batches(op) == [["web-0", "web-1"], ["web-2", "web-3"]]
    assert_one_batch_at_a_time(op)
    after = inodes(inst)
    assert after["lb-0"] == before["lb-0"]
    assert all(after[w] != before[w] for w in webs(inst))
    assert farm.show()["vnfdId"] == WEBFARM_VNFD


def test_failure_in_the_middle_then_rollback_replaces_only_the_upgraded(farm: Farm) -> None:
    """Batches of one: web-0 is upgraded, web-1's batch fails after its recreation, web-2 and
    web-3 wait. The rollback replaces web-0 (on v3) and web-1 (its batch did not complete,
    so its software is unknown), and leaves web-2 and web-3, still on v1, untouched."""
    lc, inst = farm.lc, farm.id
    ensure_webs(lc, inst, 4)
    v3_pkg, farm.v3 = variant(farm.tmp / "webfarm-v3", "v3", fail_flag=farm.flag)
    assert lc.onboard(v3_pkg) == farm.v3
    before = inodes(inst)
    farm.flag.touch()
    with Traffic(farm.ext) as traffic:
        proc = farm.change(farm.v3)
        assert proc.returncode != 0, proc.stdout
        op_id = last_op_id(lc, inst)
        op = op_doc(lc, op_id)
        assert op["operationState"] == "FAILED_TEMP"
        assert FAIL_STEP in op["error"]["detail"], op["error"]
        # web-0 runs v3; web-1 (failed batch) is out of the load balancer; the rest is v1
        assert_serves(farm.ext, {"web-0 v3", "web-2", "web-3"})
        assert farm.show()["vnfdId"] == WEBFARM_VNFD  # only completion changes the record
        failed = inodes(inst)
        assert failed["web-0"] != before["web-0"] and failed["web-1"] != before["web-1"]
        assert generations(inst)["web-0"] != generations(inst)["web-2"]
        assert "web-1" not in generations(inst)  # its batch did not complete

        lc.cli_ok("op", "rollback", op_id, "-q")
        time.sleep(1)
    assert traffic.errors == [], traffic.errors[:10]
    op = op_doc(lc, op_id)
    assert op["operationState"] == "ROLLED_BACK"
    assert replaced_batches(op) == [["web-0"], ["web-1"]]
    after = inodes(inst)
    assert after["web-0"] != failed["web-0"] and after["web-1"] != failed["web-1"]
    for kept in ("lb-0", "web-2", "web-3"):
        assert after[kept] == before[kept], f"{kept} (never upgraded) was replaced"
    assert_serves(farm.ext, {f"web-{i}" for i in range(4)})
    assert len(set(generations(inst)[w] for w in webs(inst))) == 1  # all on v1 again
    doc = farm.show()
    assert doc["vnfdId"] == WEBFARM_VNFD and doc["vnfSoftwareVersion"] == "1.0"


def test_failure_in_the_middle_then_retry_replaces_only_what_is_left(farm: Farm) -> None:
    """The same failure; the retry does not replace web-0 (finished), does not recreate web-1
    again (recreated by the failed attempt: its batch steps run again), replaces web-2 and
    web-3, and completes."""
    lc, inst = farm.lc, farm.id
    before = inodes(inst)
    farm.flag.touch()
    proc = farm.change(farm.v3)
    assert proc.returncode != 0, proc.stdout
    op_id = last_op_id(lc, inst)
    assert op_doc(lc, op_id)["operationState"] == "FAILED_TEMP"
    failed = inodes(inst)
    assert failed["web-0"] != before["web-0"] and failed["web-1"] != before["web-1"]

    farm.flag.unlink()
    with Traffic(farm.ext) as traffic:
        lc.cli_ok("op", "retry", op_id, "-q")
        time.sleep(1)
    assert traffic.errors == [], traffic.errors[:10]
    op = op_doc(lc, op_id)
    assert op["operationState"] == "COMPLETED"
    assert replaced_batches(op) == [["web-1"], ["web-2"], ["web-3"]]
    after = inodes(inst)
    assert after["web-0"] == failed["web-0"], "the retry replaced web-0 again"
    assert after["web-1"] == failed["web-1"], "the retry recreated web-1 again"
    assert after["web-2"] != before["web-2"] and after["web-3"] != before["web-3"]
    assert after["lb-0"] == before["lb-0"]
    assert_serves(farm.ext, {f"web-{i} v3" for i in range(4)})
    gens = generations(inst)
    assert len({gens[w] for w in webs(inst)}) == 1 and gens["web-0"] != gens["lb-0"]
    assert farm.show()["vnfdId"] == farm.v3

    # the same change again: every VNFC records the new generation, nothing is replaced
    assert farm.change(farm.v3).returncode == 0
    assert op_doc(lc, last_op_id(lc, inst))["vnfcChanges"]["replaced"] == []
    assert inodes(inst) == after
