"""The modules nfv.vnfm.vnf_package_info and nfv.vnfm.vnf_plan, run as Ansible runs them.

Each test writes a playbook into a private ansible-runner data directory and
runs it against localhost (local connection, this interpreter), with the
collection found through ANSIBLE_COLLECTIONS_PATH. No root needed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ansible_runner = pytest.importorskip("ansible_runner")

ROOT = Path(__file__).resolve().parents[2]
COLLECTIONS = ROOT / "collections"
WEBFARM = ROOT / "examples" / "packages" / "webfarm"
INSTANCE = "6f1c2a9b-0000-4000-8000-000000000001"
ENV = {
    "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS),
    "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    "ANSIBLE_NOCOLOR": "1",
}

PLAYBOOK = """\
- name: Read and plan a VNF package
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Read the package
      nfv.vnfm.vnf_package_info:
        path: "{{ package }}"
      register: info
      ignore_errors: "{{ tolerate_failure | default(false) }}"

    - name: Plan by level
      nfv.vnfm.vnf_plan:
        package: "{{ package }}"
        vnf_instance_id: "{{ instance_id }}"
        flavour_id: default
        instantiation_level_id: large
      register: by_level
      when: info is succeeded

    - name: Plan by aspect
      nfv.vnfm.vnf_plan:
        package: "{{ package }}"
        vnf_instance_id: "{{ instance_id }}"
        flavour_id: default
        aspect_levels:
          web: 6
        ext_virtual_links:
          - id: ext
            resourceId: vnfm-ext0
            extCps:
              - cpdId: lb_ext_cp
                cpConfig:
                  lb_ext_cp_0:
                    cpProtocolData:
                      - layerProtocol: IP_OVER_ETHERNET
                        ipOverEthernet:
                          ipAddresses:
                            - type: IPV4
                              fixedAddresses: [172.30.250.20]
      register: by_aspect
      when: info is succeeded
"""

PLAN_ERROR_PLAYBOOK = """\
- name: Plan beyond the limits
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Plan too many web servers
      nfv.vnfm.vnf_plan:
        package: "{{ package }}"
        vnf_instance_id: "{{ instance_id }}"
        flavour_id: default
        aspect_levels:
          web: 8
"""


def run_playbook(tmp_path: Path, playbook: str, check: bool = False, **extravars: Any) -> Any:
    pdd = tmp_path / "runner"
    (pdd / "project").mkdir(parents=True, exist_ok=True)
    (pdd / "project" / "site.yml").write_text(playbook)
    return ansible_runner.run(
        private_data_dir=str(pdd),
        playbook="site.yml",
        inventory={
            "all": {
                "hosts": {
                    "localhost": {
                        "ansible_connection": "local",
                        "ansible_python_interpreter": sys.executable,
                    }
                }
            }
        },
        extravars={"package": str(WEBFARM), "instance_id": INSTANCE, **extravars},
        envvars=ENV,
        cmdline="--check" if check else None,
        quiet=True,
        timeout=300,
    )


def task_results(runner: Any) -> dict[str, dict[str, Any]]:
    """Result of each task that ran (ok or failed), by task name."""
    out: dict[str, dict[str, Any]] = {}
    for ev in runner.events:
        if ev.get("event") in ("runner_on_ok", "runner_on_failed"):
            data = ev["event_data"]
            out[data["task"]] = {**data["res"], "_failed": ev["event"] == "runner_on_failed"}
    return out


def _counts(plan: dict[str, Any]) -> dict[str, int]:
    out: dict[str, int] = {}
    for v in plan["vnfcs"]:
        out[v["vduId"]] = out.get(v["vduId"], 0) + 1
    return out


@pytest.fixture(scope="module")
def normal_and_check(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Any]:
    normal = run_playbook(tmp_path_factory.mktemp("normal"), PLAYBOOK)
    checked = run_playbook(tmp_path_factory.mktemp("check"), PLAYBOOK, check=True)
    return normal, checked


def test_package_info_returns_the_model(normal_and_check: tuple[Any, Any]) -> None:
    runner, _ = normal_and_check
    assert runner.status == "successful", runner.stdout.read()
    info = task_results(runner)["Read the package"]
    assert info["changed"] is False
    vnf = info["vnf"]
    assert vnf["vnfdId"] == "8c6a1e5f-2b7d-4f1a-9c3e-5d0b7a4e2f61"
    assert (vnf["provider"], vnf["productName"]) == ("vnfm-toolkit", "webfarm")
    assert [f["flavourId"] for f in vnf["flavours"]] == ["compact", "default"]
    default = vnf["flavours"][1]
    assert {v["id"]: [v["minInstances"], v["maxInstances"]] for v in default["vdus"]} == {
        "lb": [1, 1],
        "web": [1, 8],
    }
    assert [(a["id"], a["maxScaleLevel"]) for a in default["scalingAspects"]] == [("web", 7)]
    assert info["warnings_list"] == []
    assert "model" not in info


def test_plan_module_by_level_and_by_aspect(normal_and_check: tuple[Any, Any]) -> None:
    runner, _ = normal_and_check
    results = task_results(runner)
    by_level = results["Plan by level"]
    assert by_level["changed"] is False
    plan = by_level["plan"]
    assert (plan["vnfInstanceId"], plan["instantiationLevelId"]) == (INSTANCE, "large")
    assert _counts(plan) == {"lb": 1, "web": 4}

    by_aspect = results["Plan by aspect"]
    assert by_aspect["changed"] is False
    plan = by_aspect["plan"]
    assert plan["scaleLevels"] == {"web": 6}
    assert _counts(plan) == {"lb": 1, "web": 7}
    lb = next(v for v in plan["vnfcs"] if v["id"] == "lb-0")
    ext = next(cp for cp in lb["cps"] if cp["cpdId"] == "lb_ext_cp")
    assert (ext["ipAddresses"], ext["extVirtualLinkId"]) == (["172.30.250.20"], "ext")


def test_check_mode_gives_the_same_result(normal_and_check: tuple[Any, Any]) -> None:
    normal, checked = normal_and_check
    assert checked.status == "successful", checked.stdout.read()
    a, b = task_results(normal), task_results(checked)
    assert sorted(a) == sorted(b) == ["Plan by aspect", "Plan by level", "Read the package"]
    for task in a:
        assert b[task]["changed"] is False
        for key in ("vnf", "plan"):
            if key in a[task]:
                assert json.dumps(a[task][key], sort_keys=True) == json.dumps(
                    b[task][key], sort_keys=True
                ), task


def test_bad_package_fails_naming_file_and_line(tmp_path: Path) -> None:
    pkg = tmp_path / "bad"
    shutil.copytree(WEBFARM, pkg)
    df = pkg / "Definitions" / "webfarm_df_default.yaml"
    text = df.read_text().replace(
        "type: tosca.nodes.nfv.VnfVirtualLink", "type: acme.nodes.Unknown"
    )
    df.write_text(text)
    line = next(n for n, s in enumerate(text.splitlines(), 1) if "acme.nodes.Unknown" in s)
    expected = (
        f"Definitions/webfarm_df_default.yaml:{line}: "
        "node template 'internal_vl': unknown node type 'acme.nodes.Unknown'"
    )
    runner = run_playbook(tmp_path, PLAYBOOK, package=str(pkg), tolerate_failure=True)
    results = task_results(runner)
    info = results["Read the package"]
    assert info["_failed"] is True
    assert info["msg"].startswith("invalid VNF package:\n")
    assert expected in info["msg"].splitlines()
    assert expected in info["problems"]
    # The manifest no longer matches either: reported at its Hash line.
    assert any(
        p.startswith("webfarm.mf:") and "Definitions/webfarm_df_default.yaml: hash mismatch" in p
        for p in info["problems"]
    )
    assert "Traceback" not in info["msg"]
    assert "Plan by level" not in results


def test_plan_error_fails_with_a_clear_message(tmp_path: Path) -> None:
    runner = run_playbook(tmp_path, PLAN_ERROR_PLAYBOOK)
    assert runner.status == "failed"
    result = task_results(runner)["Plan too many web servers"]
    assert result["_failed"] is True
    assert result["msg"] == "cannot plan: aspect 'web': scale level 8 is outside 0..7"


@pytest.mark.parametrize("module", ["nfv.vnfm.vnf_plan", "nfv.vnfm.vnf_package_info"])
def test_ansible_doc(module: str) -> None:
    result = subprocess.run(
        [str(Path(sys.executable).parent / "ansible-doc"), module],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **ENV},
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert module in result.stdout
    assert "[WARNING]" not in result.stderr


def _run_module_file(args: dict[str, Any]) -> dict[str, Any]:
    """nfv.vnfm.vnf_plan run as a module (its file, arguments as JSON), as Ansible ran it
    before the action plugin of the same name took the task to the controller."""
    module = COLLECTIONS / "ansible_collections/nfv/vnfm/plugins/modules/vnf_plan.py"
    done = subprocess.run(
        [sys.executable, str(module), json.dumps({"ANSIBLE_MODULE_ARGS": args})],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPATH": str(COLLECTIONS)},
        timeout=120,
    )
    out: dict[str, Any] = json.loads(done.stdout)
    return out


def test_action_plugin_answers_as_the_module(normal_and_check: tuple[Any, Any]) -> None:
    """The playbook's tasks ran through plugins/action/vnf_plan.py; the module itself,
    given the same arguments, returns the same plan, heal and VNFC changes."""
    runner, _ = normal_and_check
    by_level = task_results(runner)["Plan by level"]
    module = _run_module_file(
        {
            "package": str(WEBFARM),
            "vnf_instance_id": INSTANCE,
            "flavour_id": "default",
            "instantiation_level_id": "large",
        }
    )
    for key in ("plan", "heal", "vnfc_changes", "rolling", "changed"):
        assert json.dumps(by_level[key], sort_keys=True) == json.dumps(module[key], sort_keys=True)


def test_action_plugin_rejects_bad_arguments_as_the_module(tmp_path: Path) -> None:
    playbook = PLAN_ERROR_PLAYBOOK.replace(
        "        aspect_levels:\n          web: 8\n", ""
    ).replace(
        "        flavour_id: default\n", "        flavour_id: default\n        operation: NOPE\n"
    )
    runner = run_playbook(tmp_path, playbook)
    result = task_results(runner)["Plan too many web servers"]
    module = _run_module_file(
        {
            "package": str(WEBFARM),
            "vnf_instance_id": INSTANCE,
            "flavour_id": "default",
            "operation": "NOPE",
        }
    )
    assert result["_failed"] is True and module["failed"] is True
    assert "operation" in result["msg"] and "NOPE" in result["msg"]
    assert module["msg"] == result["msg"]
