"""The rest of SOL003 on the podman VIM, for real: operate, modify, rolling change-package,
rollback and retry of failed operations, on one webfarm-cnf instance.

One instance serves the module (instantiated ``small``: lb-0, web-0, web-1); the tests
run in file order, each starting from the state the previous one left. What exists is
read from podman itself (pod ids, states, addresses and MACs of the infra containers,
volumes and networks by the instance label), and the service is checked with HTTP from
the host through the load balancer. Package variants are built from the sample in the
test: v2 runs the webs from another image tag (``localhost/webfarm-cnf:2``, a tag of
the sample's image) answering ``<pod> v2``; v3 answers ``<pod> v3`` and carries a
package-change step and a scale hook that fail while the test's flag files exist.
Real CLI, real ansible-runner, real pods; no mocks. Needs root and podman.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import REPO_ROOT, Lifecycle, wait_until
from tests.integration.test_change_package import Traffic
from tests.integration.test_cnf_lifecycle import (
    IMAGE,
    LABEL_INSTANCE,
    WEBFARM_CNF,
    Podman,
    ensure_image,
    ext_addresses,
    http_answers,
    podman_skip_reason,
    vnfcs,
)

pytestmark = [pytest.mark.root, pytest.mark.timeout(600)]

IMAGE_V2 = "localhost/webfarm-cnf:2"
LABEL_GENERATION = "vnfm.etsi.org/software-generation"
WEBFARM_CNF_VNFD = "94046c7f-9329-4324-8da0-73b56641585c"
FAIL_STEP = "Fail on purpose in the second batch"
FAIL_HOOK = "Fail on purpose while the scale flag exists"
WEB_ARGS = 'exec python3 /opt/webfarm/web.py --id "$(hostname)" --port 80'


# -- package variants ----------------------------------------------------------------------------
def variant(
    dst: Path,
    marker: str,
    *,
    image: str = IMAGE,
    step_flag: Path | None = None,
    scale_flag: Path | None = None,
) -> tuple[Path, str]:
    """webfarm-cnf with its webs answering ``<pod> <marker>`` from ``image`` (a new vnfdId
    and software version); with ``step_flag`` a coordinate-new step
    (Scripts/steps/fail_coordinate_new.yml, then the package's own) that fails in the
    second batch while the flag exists; with ``scale_flag`` a scale_end hook
    that fails while that flag exists."""
    shutil.copytree(WEBFARM_CNF, dst, ignore=shutil.ignore_patterns("__pycache__"))
    vnfd = str(uuid.uuid4())
    defs = dst / "Definitions"
    for path in defs.glob("*.yaml"):
        text = path.read_text().replace(WEBFARM_CNF_VNFD, vnfd)
        path.write_text(text.replace("software_version: '1.0'", f"software_version: '{marker}'"))
    types = defs / "webfarm_cnf_types.yaml"
    old = "software_version:\n        type: string\n        constraints: [valid_values: ['1.0']]\n        default: '1.0'"
    text = types.read_text()
    assert old in text
    types.write_text(text.replace(old, old.replace("'1.0'", f"'{marker}'")))
    web = dst / "Files" / "kubernetes" / "web.yaml"
    text = web.read_text()
    assert WEB_ARGS in text and f"image: {IMAGE}" in text
    text = text.replace(WEB_ARGS, WEB_ARGS.replace('"$(hostname)"', f'"$(hostname) {marker}"'))
    web.write_text(text.replace(f"image: {IMAGE}", f"image: {image}"))
    meta = dst / "TOSCA-Metadata" / "TOSCA.meta"
    digest = hashlib.sha256(web.read_bytes()).hexdigest()
    meta.write_text(
        re.sub(
            r"(Name: Files/kubernetes/web.yaml\n(?:.*\n)*?Hash: )[0-9a-f]{64}",
            lambda m: m.group(1) + digest,
            meta.read_text(),
        )
    )
    if step_flag is not None:
        (dst / "Scripts" / "steps" / "fail_coordinate_new.yml").write_text(
            "---\n"
            "- name: Look for the test's flag file\n"
            "  ansible.builtin.stat:\n"
            f"    path: {step_flag}\n"
            "  delegate_to: localhost\n"
            "  run_once: true\n"
            "  register: webfarm_test_flag\n"
            f"- name: {FAIL_STEP}\n"
            "  ansible.builtin.fail:\n"
            "    msg: the flag file exists\n"
            "  when: webfarm_test_flag.stat.exists and vnfm_batch_index | int == 1\n"
            "- name: Then the package's own step\n"
            "  ansible.builtin.include_tasks: coordinate_new.yml\n"
        )
    if scale_flag is not None:
        (dst / "Scripts" / "scale_end.yml").write_text(
            "---\n"
            "- name: Fail while the test's scale flag exists\n"
            "  hosts: localhost\n"
            "  gather_facts: false\n"
            "  tasks:\n"
            "    - name: Look for the flag file\n"
            "      ansible.builtin.stat:\n"
            f"        path: {scale_flag}\n"
            "      register: webfarm_test_flag\n"
            f"    - name: {FAIL_HOOK}\n"
            "      ansible.builtin.fail:\n"
            "        msg: the flag file exists\n"
            "      when: webfarm_test_flag.stat.exists\n"
            "\n"
            "- name: Then point the load balancer at the webs\n"
            "  ansible.builtin.import_playbook: backends.yml\n"
        )
        df = defs / "webfarm_cnf_df_default.yaml"
        text = df.read_text()
        old = "          scale_end:\n            implementation: backends_playbook\n"
        assert old in text
        text = text.replace(old, old.replace("backends_playbook", "scale_end_playbook"))
        old = "      artifacts:\n        backends_playbook:\n"
        text = text.replace(
            old,
            "      artifacts:\n"
            "        scale_end_playbook:\n"
            "          description: Fails while the test's flag exists, then backends.yml\n"
            "          type: vnfm.artifacts.Implementation.Ansible\n"
            "          file: ../Scripts/scale_end.yml\n"
            "        backends_playbook:\n",
        )
        df.write_text(text)
    subprocess.run(
        [sys.executable, str(REPO_ROOT / "scripts" / "package-manifest.py"), str(dst)],
        check=True,
        capture_output=True,
    )
    return dst, vnfd


# -- what podman holds ---------------------------------------------------------------------------
@dataclass
class Farm:
    lc: Lifecycle
    id: str
    tmp: Path
    pm: Podman
    step_flag: Path
    scale_flag: Path
    prefix: str = ""  # of the pod names: <prefix>-<vnfc id>
    v2: str = ""
    v3: str = ""

    def show(self) -> dict[str, Any]:
        return self.lc.show(self.id)

    @property
    def ext(self) -> str:
        (address,) = ext_addresses(self.show())
        return address

    def pods(self) -> dict[str, dict[str, Any]]:
        """Pod name -> podman's listing entry, of the instance's pods."""
        found = self.pm.listing("pod", "ps", "--filter", f"label={LABEL_INSTANCE}={self.id}")
        return {str(p["Name"]): p for p in found}

    def pod_ids(self) -> dict[str, str]:
        """VNFC id -> podman id of its pod (a recreated pod has a new id)."""
        return {n.removeprefix(f"{self.prefix}-"): str(p["Id"]) for n, p in self.pods().items()}

    def pod_states(self) -> dict[str, str]:
        return {n.removeprefix(f"{self.prefix}-"): str(p["Status"]) for n, p in self.pods().items()}

    def addresses(self) -> dict[str, dict[str, tuple[str, str]]]:
        """VNFC id -> network -> (address, MAC) of its pod, from the infra containers."""
        out: dict[str, dict[str, tuple[str, str]]] = {}
        for name, pod in self.pods().items():
            (infra,) = json.loads(self.pm.run("container", "inspect", str(pod["InfraId"])))
            nets = (infra.get("NetworkSettings") or {}).get("Networks") or {}
            out[name.removeprefix(f"{self.prefix}-")] = {
                n: (str(a.get("IPAddress")), str(a.get("MacAddress")).lower())
                for n, a in nets.items()
            }
        return out

    def generations(self) -> dict[str, str | None]:
        """VNFC id -> software generation as podman holds it: the pod's record (a volume
        ``<pod>.record`` naming the pod's id) once written, else the pod's own label."""
        records = {
            str(v["Name"]): v.get("Labels") or {}
            for v in self.pm.listing(
                "volume", "ls", "--filter", f"label={LABEL_INSTANCE}={self.id}"
            )
        }
        out: dict[str, str | None] = {}
        for name, pod in self.pods().items():
            record = records.get(f"{name}.record") or {}
            if record.get("vnfm.etsi.org/pod-id") == pod["Id"]:
                gen = record.get(LABEL_GENERATION)
            else:
                gen = (pod.get("Labels") or {}).get(LABEL_GENERATION)
            out[name.removeprefix(f"{self.prefix}-")] = gen or None
        return out

    def objects(self) -> dict[str, list[str]]:
        """Names of the instance's networks and volumes, as podman lists them."""
        return {
            "networks": self.pm.marked("network", self.id),
            "volumes": self.pm.marked("volume", self.id),
        }

    def change(self, vnfd: str, params: dict[str, Any] | None = None) -> Any:
        args = ["change-package", self.id, "--vnfd-id", vnfd, "-q"]
        if params is not None:
            path = self.tmp / f"params-{uuid.uuid4().hex[:8]}.json"
            path.write_text(json.dumps({"vnfdId": vnfd, "additionalParams": params}))
            args += ["--params", str(path)]
        return self.lc.cli(*args)


def generations(doc: dict[str, Any]) -> dict[str, str | None]:
    """VNFC id -> the software generation vnfm show reports (what the VIM recorded)."""
    info = doc["instantiatedVnfInfo"]["vnfcResourceInfo"]
    return {v["id"]: (v.get("metadata") or {}).get("softwareGeneration") for v in info}


def power_states(doc: dict[str, Any]) -> dict[str, str]:
    info = doc["instantiatedVnfInfo"]["vnfcResourceInfo"]
    return {v["id"]: v["metadata"]["powerState"] for v in info}


def planned_generations(farm: Farm) -> dict[str, str]:
    plan = farm.lc.service().store.instance(farm.id).desired_state or {}
    return {v["id"]: v["softwareGeneration"] for v in plan["vnfcs"]}


def op_doc(lc: Lifecycle, op_id: str) -> dict[str, Any]:
    return dict(json.loads(lc.cli_ok("op", "show", op_id)))


def last_op_id(lc: Lifecycle, instance_id: str) -> str:
    return str(lc.service().store.operations(instance_id)[-1].id)


def serves(farm: Farm, answers: set[str], settle: float = 20.0) -> None:
    """HTTP through the LB is answered by exactly ``answers`` (``<pod>[ <marker>]``)."""
    deadline = time.monotonic() + settle
    while True:
        seen = http_answers(farm.ext, 3 * max(len(answers), 1))
        if set(seen) == answers:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"through the LB: {dict(seen)}; expected {sorted(answers)}")
        time.sleep(0.3)


def answers(farm: Farm, webs: list[str], marker: str = "") -> set[str]:
    return {f"{farm.prefix}-{w}{f' {marker}' if marker else ''}" for w in webs}


def reconcile_again(farm: Farm, package: Path) -> Any:
    from ansible_collections.nfv.vnfm.plugins.module_utils.vim import get_driver

    plan = dict(farm.lc.service().store.instance(farm.id).desired_state or {})
    return get_driver({"vimType": "podman"}, timeout=120, package_dir=str(package)).reconcile(
        plan, heal=[], check_mode=False
    )


def real_changes(result: Any) -> list[str]:
    return [a for a in result.actions if not a.startswith("warning:")]


# -- the module's instance -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def farm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Farm]:
    reason = podman_skip_reason()
    if reason:
        pytest.skip(reason)
    pm = Podman()
    ensure_image(pm)
    pm.run("tag", IMAGE, IMAGE_V2)
    tmp = tmp_path_factory.mktemp("cnf-operations")
    lc = Lifecycle(home=tmp / "vnfm-home", tmp=tmp)
    flags = Path(f"/tmp/vnfm-test-flag-{uuid.uuid4().hex[:12]}")  # seen by the hooks
    flags.mkdir()
    inst = ""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("VNFM_HOME", str(lc.home))
        try:
            lc.cli_ok("vim", "add", "cnf", "--type", "podman")
            inst = lc.create(lc.onboard(WEBFARM_CNF), name="cnf-operations")
            lc.cli_ok("instantiate", inst, "--vim", "cnf", "--flavour", "default",
                      "--level", "small", "-q")  # fmt: skip
            farm = Farm(lc, inst, tmp, pm, flags / "step", flags / "scale")
            farm.prefix = vnfcs(farm.show())["lb-0"].removesuffix("-lb-0")
            serves(farm, answers(farm, ["web-0", "web-1"]))
            yield farm
        finally:
            if inst:
                pm.cleanup(inst)
            lc.cleanup()
            shutil.rmtree(flags, ignore_errors=True)
            pm.run("rmi", IMAGE_V2, check=False)  # the tag only: the image keeps :1


# -- operate --------------------------------------------------------------------------------------
def test_operate_one_pod_then_the_whole_vnf(farm: Farm) -> None:
    lc, inst = farm.lc, farm.id
    ids, addrs = farm.pod_ids(), farm.addresses()
    lc.cli_ok("operate", inst, "--state", "STOPPED", "--vnfc", "web-1", "-q")
    assert farm.pod_states() == {"lb-0": "Running", "web-0": "Running", "web-1": "Exited"}
    doc = farm.show()
    assert power_states(doc) == {"lb-0": "on", "web-0": "on", "web-1": "off"}
    states = {v["id"]: v["vnfcState"] for v in doc["instantiatedVnfInfo"]["vnfcInfo"]}
    assert states == {"lb-0": "STARTED", "web-0": "STARTED", "web-1": "STOPPED"}
    serves(farm, answers(farm, ["web-0"]))  # the LB left the stopped web out
    again = reconcile_again(farm, WEBFARM_CNF)
    assert again.changed is False and real_changes(again) == [], again.actions

    # a graceful stop with the request's timeout (podman pod stop --time 3)
    lc.cli_ok("operate", inst, "--state", "STOPPED", "--stop-type", "GRACEFUL",
              "--graceful-timeout", "3", "-q")  # fmt: skip
    assert set(farm.pod_states().values()) == {"Exited"}
    doc = farm.show()
    assert doc["instantiatedVnfInfo"]["vnfState"] == "STOPPED"
    assert set(power_states(doc).values()) == {"off"}
    assert all(a.startswith("error") for a in http_answers(farm.ext, 2))
    again = reconcile_again(farm, WEBFARM_CNF)
    assert again.changed is False and real_changes(again) == [], again.actions

    lc.cli_ok("operate", inst, "--state", "STARTED", "-q")
    assert set(farm.pod_states().values()) == {"Running"}
    doc = farm.show()
    assert doc["instantiatedVnfInfo"]["vnfState"] == "STARTED"
    assert set(power_states(doc).values()) == {"on"}
    serves(farm, answers(farm, ["web-0", "web-1"]))
    assert farm.pod_ids() == ids, "operate recreated pods"
    assert farm.addresses() == addrs, "a pod came back with another address or MAC"
    again = reconcile_again(farm, WEBFARM_CNF)
    assert again.changed is False and real_changes(again) == [], again.actions


# -- modify ---------------------------------------------------------------------------------------
def test_modify_info_and_extensions_changes_no_pod(farm: Farm) -> None:
    lc, inst = farm.lc, farm.id
    ids, objects = farm.pod_ids(), farm.objects()
    body = farm.tmp / "modify.json"
    body.write_text(json.dumps({"extensions": {"tier": "gold"}}))
    lc.cli_ok("modify", inst, "--name", "cnf-renamed", "--set", "owner=ops",
              "--params", str(body), "-q")  # fmt: skip
    doc = farm.show()
    assert doc["vnfInstanceName"] == "cnf-renamed"
    assert (doc.get("metadata") or {}).get("owner") == "ops", doc.get("metadata")
    assert (doc.get("extensions") or {}).get("tier") == "gold", doc.get("extensions")
    op = op_doc(lc, last_op_id(lc, inst))
    assert (op["operation"], op["operationState"]) == ("MODIFY_INFO", "COMPLETED")
    assert farm.pod_ids() == ids and farm.objects() == objects
    serves(farm, answers(farm, ["web-0", "web-1"]))


# -- rolling change-package -----------------------------------------------------------------------
def test_rolling_change_package_replaces_only_the_webs(farm: Farm) -> None:
    lc, inst = farm.lc, farm.id
    v2_pkg, farm.v2 = variant(farm.tmp / "webfarm-cnf-v2", "v2", image=IMAGE_V2)
    assert lc.onboard(v2_pkg) == farm.v2
    ids, addrs, objects = farm.pod_ids(), farm.addresses(), farm.objects()
    old = generations(farm.show())
    with Traffic(farm.ext) as traffic:  # a client asking the LB every 50 ms throughout
        time.sleep(0.5)
        proc = farm.change(farm.v2)  # batches of one web, the package's coordinate steps
        time.sleep(0.5)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert traffic.errors == [], traffic.errors[:10]
    assert len(traffic.answers) > 20
    # old answers first, then a mix, and only v2 at the end
    assert answers(farm, ["web-0", "web-1"]) & traffic.bodies()
    assert traffic.last(4) == answers(farm, ["web-0", "web-1"], "v2")
    serves(farm, answers(farm, ["web-0", "web-1"], "v2"))

    after = farm.pod_ids()
    assert after["lb-0"] == ids["lb-0"], "the lb (unchanged VDU) was recreated"
    assert after["web-0"] != ids["web-0"] and after["web-1"] != ids["web-1"]
    assert farm.addresses() == addrs, "a replaced pod lost its address or MAC"
    assert farm.objects() == {
        "networks": objects["networks"],
        "volumes": sorted(
            [*objects["volumes"], *(f"{farm.prefix}-{w}.record" for w in ("web-0", "web-1"))]
        ),
    }
    images = {
        str(p["Name"]): {str(c.get("Image")) for c in json.loads(
            farm.pm.run("ps", "--all", "--format", "json", "--filter", f"pod={p['Id']}")
        ) if not c.get("IsInfra")}
        for p in farm.pods().values()
    }  # fmt: skip
    assert images == {
        f"{farm.prefix}-lb-0": {IMAGE},
        f"{farm.prefix}-web-0": {IMAGE_V2},
        f"{farm.prefix}-web-1": {IMAGE_V2},
    }

    op = op_doc(lc, last_op_id(lc, inst))
    assert op["operationState"] == "COMPLETED"
    changes = op["vnfcChanges"]
    assert changes["replaced"] == ["web-0", "web-1"]
    assert list(changes["changedVdus"]) == ["web"]
    assert [b["vnfcs"] for b in changes["batches"]] == [["web-0"], ["web-1"]]
    for before, later in itertools.pairwise(changes["batches"]):
        assert before["completedAt"] <= later["startedAt"], changes["batches"]
    # the generation of the replaced pods is the new package's, visible afterwards
    doc = farm.show()
    assert doc["vnfdId"] == farm.v2 and doc["vnfSoftwareVersion"] == "v2"
    gens = generations(doc)
    assert gens == planned_generations(farm) == farm.generations()
    assert gens["lb-0"] == old["lb-0"] and gens["web-0"] == gens["web-1"] != old["web-0"]

    # the same change again replaces nothing; a reconcile of the new plan changes nothing
    proc = farm.change(farm.v2)
    assert proc.returncode == 0, proc.stderr[-3000:]
    op = op_doc(lc, last_op_id(lc, inst))
    assert op["vnfcChanges"]["replaced"] == [] and op["vnfcChanges"]["batches"] == []
    assert farm.pod_ids() == after
    again = reconcile_again(farm, v2_pkg)
    assert again.changed is False and real_changes(again) == [], again.actions


# -- failures: rollback and retry -----------------------------------------------------------------
def test_failed_change_package_rollback(farm: Farm) -> None:
    """Batches of one: web-0 is upgraded, web-1's batch fails after its recreation. The
    rollback replaces both (web-0 runs v3, web-1's software is unknown), keeps the lb, and
    leaves the pods, networks and volumes as they were."""
    lc, inst = farm.lc, farm.id
    v3_pkg, farm.v3 = variant(
        farm.tmp / "webfarm-cnf-v3", "v3", step_flag=farm.step_flag, scale_flag=farm.scale_flag
    )
    assert lc.onboard(v3_pkg) == farm.v3
    params = {"lcm-operation-coordinate-new-vnf": "Scripts/steps/fail_coordinate_new.yml"}
    ids, addrs, objects = farm.pod_ids(), farm.addresses(), farm.objects()
    v2_gens = generations(farm.show())

    farm.step_flag.touch()
    proc = farm.change(farm.v3, params)
    assert proc.returncode != 0, proc.stdout
    op_id = last_op_id(lc, inst)
    op = op_doc(lc, op_id)
    assert op["operationState"] == "FAILED_TEMP"
    assert FAIL_STEP in op["error"]["detail"], op["error"]
    failed = farm.pod_ids()
    assert failed["web-0"] != ids["web-0"] and failed["web-1"] != ids["web-1"]
    assert failed["lb-0"] == ids["lb-0"]
    # read from podman: the instance's record changes only when an operation completes
    gens = farm.generations()
    assert gens["web-0"] not in (None, v2_gens["web-0"])  # finished its batch: v3 recorded
    assert gens["web-1"] is None  # its batch failed: unknown
    assert gens["lb-0"] == v2_gens["lb-0"]

    lc.cli_ok("op", "rollback", op_id, "-q")
    op = op_doc(lc, op_id)
    assert op["operationState"] == "ROLLED_BACK"
    assert [b["vnfcs"] for b in op["vnfcChanges"]["batches"]] == [["web-0"], ["web-1"]]
    back = farm.pod_ids()
    assert back["lb-0"] == ids["lb-0"]
    assert back["web-0"] != failed["web-0"] and back["web-1"] != failed["web-1"]
    assert farm.addresses() == addrs and farm.objects() == objects
    doc = farm.show()
    assert doc["vnfdId"] == farm.v2 and generations(doc) == v2_gens == farm.generations()
    serves(farm, answers(farm, ["web-0", "web-1"], "v2"))


def test_failed_change_package_retry(farm: Farm) -> None:
    """The same failure, then a retry: web-0 (finished) and web-1 (recreated by the failed
    attempt) are not replaced again, and every web records v3's generation."""
    lc, inst = farm.lc, farm.id
    params = {"lcm-operation-coordinate-new-vnf": "Scripts/steps/fail_coordinate_new.yml"}
    addrs, v2_gens = farm.addresses(), generations(farm.show())
    farm.step_flag.touch()
    proc = farm.change(farm.v3, params)
    assert proc.returncode != 0, proc.stdout
    op_id = last_op_id(lc, inst)
    assert op_doc(lc, op_id)["operationState"] == "FAILED_TEMP"
    failed = farm.pod_ids()
    farm.step_flag.unlink()
    lc.cli_ok("op", "retry", op_id, "-q")
    op = op_doc(lc, op_id)
    assert op["operationState"] == "COMPLETED"
    assert [b["vnfcs"] for b in op["vnfcChanges"]["batches"]] == [["web-1"]]
    assert farm.pod_ids() == failed, "the retry recreated a pod again"
    doc = farm.show()
    assert doc["vnfdId"] == farm.v3
    gens = generations(doc)
    assert gens == planned_generations(farm) == farm.generations()
    assert gens["web-0"] == gens["web-1"] not in (None, v2_gens["web-0"])
    serves(farm, answers(farm, ["web-0", "web-1"], "v3"))
    assert farm.addresses() == addrs


def test_failed_scale_out_rollback(farm: Farm) -> None:
    """v3's scale_end hook fails after podman made web-2: the rollback removes web-2 and
    leaves every other pod, network and volume as it was."""
    lc, inst = farm.lc, farm.id
    ids, objects = farm.pod_ids(), farm.objects()
    farm.scale_flag.touch()
    proc = lc.cli("scale", inst, "--type", "SCALE_OUT", "--aspect", "web", "-q")
    assert proc.returncode != 0, proc.stdout
    op_id = last_op_id(lc, inst)
    op = op_doc(lc, op_id)
    assert op["operationState"] == "FAILED_TEMP"
    assert FAIL_HOOK in op["error"]["detail"], op["error"]
    assert sorted(farm.pod_ids()) == ["lb-0", "web-0", "web-1", "web-2"]  # podman did change

    lc.cli_ok("op", "rollback", op_id, "-q")
    assert op_doc(lc, op_id)["operationState"] == "ROLLED_BACK"
    assert farm.pod_ids() == ids and farm.objects() == objects
    assert sorted(vnfcs(farm.show())) == ["lb-0", "web-0", "web-1"]
    serves(farm, answers(farm, ["web-0", "web-1"], "v3"))


def test_failed_scale_out_retry(farm: Farm) -> None:
    """The same failure, then a retry: web-2 (created by the failed attempt) is kept, every
    other pod too, and it serves with v3's generation recorded at creation."""
    lc, inst = farm.lc, farm.id
    ids = farm.pod_ids()
    farm.scale_flag.touch()
    proc = lc.cli("scale", inst, "--type", "SCALE_OUT", "--aspect", "web", "-q")
    assert proc.returncode != 0, proc.stdout
    op_id = last_op_id(lc, inst)
    created = farm.pod_ids()["web-2"]
    farm.scale_flag.unlink()
    lc.cli_ok("op", "retry", op_id, "-q")
    assert op_doc(lc, op_id)["operationState"] == "COMPLETED"
    now = farm.pod_ids()
    assert now == {**ids, "web-2": created}, "the retry recreated a pod"
    doc = farm.show()
    assert sorted(vnfcs(doc)) == ["lb-0", "web-0", "web-1", "web-2"]
    gens = generations(doc)
    assert gens == planned_generations(farm) and gens["web-2"] == gens["web-0"]
    serves(farm, answers(farm, ["web-0", "web-1", "web-2"], "v3"))


def test_terminate_leaves_nothing(farm: Farm) -> None:
    farm.lc.cli_ok("terminate", farm.id, "-q")
    assert wait_until(lambda: not farm.pm.leftovers(farm.id), 30), farm.pm.leftovers(farm.id)
