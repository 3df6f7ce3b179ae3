"""Unit tests of the package comparison and the rolling update plan (plan/package_change.py).

Real packages written into ``tmp_path`` and loaded by the real loader; the
rolling update is a pure function of the two models, the current plan and
the request.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from ansible_collections.nfv.vnfm.plugins.module_utils.errors import PlanError
from ansible_collections.nfv.vnfm.plugins.module_utils.plan.decide import decide_plan
from ansible_collections.nfv.vnfm.plugins.module_utils.plan.package_change import (
    batch_size,
    batches,
    package_change,
    package_file,
    replacements,
    rolling_plan,
    vdu_changes,
)
from ansible_collections.nfv.vnfm.plugins.module_utils.vnfd.loader import load_vnf
from ansible_collections.nfv.vnfm.plugins.module_utils.vnfd.model import VnfModel

from tests.unit.vnfd_builders import base_vnfd, nodes, write_package

INST = "0b7c3f1e-5d2a-4c6b-9e8f-1a2b3c4d5e6f"
IMAGE = {
    "name": "tiny-os",
    "version": "1.0",
    "checksum": {"algorithm": "sha-256", "hash": "a" * 64},
    "container_format": "bare",
    "disk_format": "qcow2",
    "min_disk": "1 GB",
    "size": "1 GB",
}
STEP = "---\n- name: A step\n  ansible.builtin.debug:\n    msg: step\n"


def package(
    root: Path,
    *,
    image_version: str = "1.0",
    software: str = "print('v1')\n",
    steps: bool = False,
    artifact_name: str = "software",
    flavour: str = "simple",
) -> Path:
    """A two-VDU package: VDU1 with an image, VDU2 with a software artifact."""
    doc = base_vnfd()
    doc["topology_template"]["substitution_mappings"]["properties"]["flavour_id"] = flavour
    n = nodes(doc)
    n["VDU1"]["properties"]["sw_image_data"] = {**IMAGE, "version": image_version}
    n["VDU2"]["artifacts"] = {
        artifact_name: {"type": "tosca.artifacts.Implementation.Python", "file": "../Files/app.py"}
    }
    files: dict[str, Any] = {"Definitions/vnfd.yaml": doc, "Files/app.py": software}
    if steps:
        n["VNF"]["interfaces"] = {
            "PackageChange": {
                "coordinate_old_vnf": {"implementation": "old"},
                "coordinate_new_vnf": {"implementation": "new"},
            }
        }
        n["VNF"]["artifacts"] = {
            "old": {"type": "tosca.artifacts.Implementation", "file": "../Steps/old.yml"},
            "new": {"type": "tosca.artifacts.Implementation", "file": "../Steps/new.yml"},
        }
        files.update({"Steps/old.yml": STEP, "Steps/new.yml": STEP, "Steps/other.yml": STEP})
    return write_package(root, files)


def load(root: Path) -> VnfModel:
    model, _warnings = load_vnf(root)
    return model


def instantiated(model: VnfModel, level: str = "instantiation_level_2") -> dict[str, Any]:
    request = {"flavourId": "simple", "instantiationLevelId": level}
    current, _decision, _delta = decide_plan(model, INST, "INSTANTIATE", request, None)
    return current


# -- what changed ---------------------------------------------------------------------------------
def test_vdu_artifacts_carry_their_digest(tmp_path: Path) -> None:
    model = load(package(tmp_path / "p"))
    vdu2 = model.flavours[0].vdu("VDU2")
    assert vdu2 is not None and vdu2.sw_image is None
    [art] = vdu2.artifacts
    assert (art.name, art.file, art.type) == (
        "software",
        "Files/app.py",
        "tosca.artifacts.Implementation.Python",
    )
    assert art.sha256 is not None and len(art.sha256) == 64


def test_same_package_changes_nothing(tmp_path: Path) -> None:
    old, new = load(package(tmp_path / "a")), load(package(tmp_path / "b"))
    assert vdu_changes(old, new, "simple") == {}


def test_image_change_names_the_field(tmp_path: Path) -> None:
    old = load(package(tmp_path / "a"))
    new = load(package(tmp_path / "b", image_version="1.1"))
    assert vdu_changes(old, new, "simple") == {"VDU1": ["swImage.version '1.0' -> '1.1'"]}


def test_software_change_replaces_only_its_vdu(tmp_path: Path) -> None:
    old = load(package(tmp_path / "a"))
    new = load(package(tmp_path / "b", software="print('v2')\n"))
    assert vdu_changes(old, new, "simple") == {"VDU2": ["artifact software changed"]}


def test_renamed_artifact_is_a_change(tmp_path: Path) -> None:
    old = load(package(tmp_path / "a"))
    new = load(package(tmp_path / "b", artifact_name="app"))
    assert vdu_changes(old, new, "simple") == {
        "VDU2": ["artifact app added", "artifact software removed"]
    }


def test_new_package_without_the_flavour_is_refused(tmp_path: Path) -> None:
    old = load(package(tmp_path / "a"))
    new = load(package(tmp_path / "b", flavour="other"))
    with pytest.raises(PlanError, match=r"has no deployment flavour 'simple'.*it has: other"):
        decide_plan(
            new,
            INST,
            "CHANGE_VNFPKG",
            {},
            instantiated(old),
            current_model=old,
            package_dir=str(tmp_path / "b"),
        )


# -- which VNFCs, in which batches ------------------------------------------------------------------
def test_package_change_replaces_the_changed_vdus_vnfcs_in_batches(tmp_path: Path) -> None:
    old_root, new_root = package(tmp_path / "a"), package(tmp_path / "b", image_version="2.0")
    old, new = load(old_root), load(new_root)
    current = instantiated(old)  # 3 x VDU1, 1 x VDU2
    request = {"vnfdId": new.vnfd_id, "additionalParams": {"batchSize": 2}}
    after, decision, delta = decide_plan(
        new, INST, "CHANGE_VNFPKG", request, current, current_model=old, package_dir=str(new_root)
    )
    assert delta == {"added": [], "removed": [], "kept": ["VDU1-0", "VDU1-1", "VDU1-2", "VDU2-0"]}
    assert decision.rolling == {
        "upgradeType": "RollingUpdate",
        "batchSize": 2,
        "changedVdus": {"VDU1": ["swImage.version '1.0' -> '2.0'"]},
        "replace": ["VDU1-0", "VDU1-1", "VDU1-2"],
        "batches": [["VDU1-0", "VDU1-1"], ["VDU1-2"]],
        "steps": {"coordinateOld": None, "configure": None, "coordinateNew": None},
    }
    assert after["vnfcs"][0]["image"]["version"] == "2.0"


def test_replacements_skip_vnfcs_the_new_plan_drops() -> None:
    current = {"vnfcs": [{"id": f"web-{i}", "vduId": "web"} for i in range(3)]}
    new = {"vnfcs": [{"id": "web-0", "vduId": "web"}, {"id": "web-1", "vduId": "web"}]}
    assert replacements(current, new, {"web": ["x"]}) == ["web-0", "web-1"]
    assert replacements(current, new, {"lb": ["x"]}) == []


def test_batches_split_in_order() -> None:
    ids = ["a", "b", "c", "d", "e"]
    assert batches(ids, 1) == [["a"], ["b"], ["c"], ["d"], ["e"]]
    assert batches(ids, 2) == [["a", "b"], ["c", "d"], ["e"]]
    assert batches(ids, 9) == [ids]
    assert batches([], 2) == []


@pytest.mark.parametrize("value", [0, -1, True, "2", 1.5, None])
def test_bad_batch_size(value: Any) -> None:
    with pytest.raises(PlanError, match=r"additionalParams\.batchSize must be a positive integer"):
        batch_size({"batchSize": value})


def test_batch_size_default_is_one() -> None:
    assert batch_size({}) == 1


def test_unknown_upgrade_type(tmp_path: Path) -> None:
    root = package(tmp_path / "a")
    model = load(root)
    request = {"additionalParams": {"upgrade_type": "BlueGreen"}}
    with pytest.raises(
        PlanError, match="upgrade_type must be one of RollingUpdate, got 'BlueGreen'"
    ):
        package_change(model, model, instantiated(model), instantiated(model), request, str(root))


# -- the package's steps ---------------------------------------------------------------------------
def test_steps_from_the_vnfd_and_from_the_request(tmp_path: Path) -> None:
    root = package(tmp_path / "a", steps=True)
    model = load(root)
    plan = instantiated(model)
    declared = package_change(model, model, plan, plan, {}, str(root))["steps"]
    assert declared == {
        "coordinateOld": str(root.resolve() / "Steps/old.yml"),
        "configure": None,
        "coordinateNew": str(root.resolve() / "Steps/new.yml"),
    }
    params = {
        "lcm-operation-coordinate-old-vnf": "Steps/other.yml",
        "lcm-operation-configure-new-vnfc": "Steps/other.yml",
        "lcm-operation-coordinate-new-vnf": None,  # none at all, whatever the VNFD says
    }
    asked = package_change(model, model, plan, plan, {"additionalParams": params}, str(root))
    assert asked["steps"] == {
        "coordinateOld": str(root.resolve() / "Steps/other.yml"),
        "configure": str(root.resolve() / "Steps/other.yml"),
        "coordinateNew": None,
    }


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("../outside.yml", "leaves the package ('..' is not allowed)"),
        ("Steps/../../outside.yml", "leaves the package ('..' is not allowed)"),
        ("/etc/outside.yml", "is absolute"),
        ("Steps/{{ lookup('pipe', 'id') }}.yml", "may only contain letters"),
        ("Steps/old.txt", "is not an Ansible task file"),
        ("Steps/missing.yml", "is not a file of the VNF package"),
        ("Steps", "is not an Ansible task file"),
        ("", "must be a path in the VNF package"),
        (42, "must be a path in the VNF package, got 42"),
        ("link.yml", "leaves the package (through a symbolic link)"),
    ],
)
def test_bad_step_paths(tmp_path: Path, path: Any, message: str) -> None:
    root = package(tmp_path / "pkg", steps=True)
    (tmp_path / "outside.yml").write_text(STEP)
    os.symlink(tmp_path / "outside.yml", root / "link.yml")
    with pytest.raises(PlanError) as err:
        package_file(str(root), path, "additionalParams.lcm-operation-coordinate-old-vnf")
    assert str(err.value).startswith("additionalParams.lcm-operation-coordinate-old-vnf")
    assert message in str(err.value)


def test_change_vnfpkg_needs_the_current_package(tmp_path: Path) -> None:
    model = load(package(tmp_path / "a"))
    with pytest.raises(PlanError, match="needs the current package"):
        decide_plan(model, INST, "CHANGE_VNFPKG", {}, instantiated(model))


# -- the plan of one batch -------------------------------------------------------------------------
def test_rolling_plan_keeps_the_pending_vnfcs_as_they_are(tmp_path: Path) -> None:
    old = load(package(tmp_path / "a"))
    new = load(package(tmp_path / "b", image_version="2.0"))
    current, target = instantiated(old), instantiated(new)
    step = rolling_plan(target, current, ["VDU1-2"])
    versions = {v["id"]: (v["image"] or {}).get("version") for v in step["vnfcs"]}
    assert versions == {"VDU1-0": "2.0", "VDU1-1": "2.0", "VDU1-2": "1.0", "VDU2-0": None}
    assert [v["id"] for v in step["vnfcs"]] == [v["id"] for v in target["vnfcs"]]
    assert target["vnfcs"][2]["image"]["version"] == "2.0"  # inputs untouched
    assert rolling_plan(target, current, []) == target
