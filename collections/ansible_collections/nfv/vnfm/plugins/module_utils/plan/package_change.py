# Copyright: vnfm-toolkit developers
# Apache License 2.0 (see LICENSE)
"""Change of the current VNF package (SOL003 CHANGE_VNFPKG) as a rolling update.

Compares the VNF's current package with the new one VDU by VDU: the VNFCs of
a VDU whose software image or software artifacts differ are *replaced*
(recreated at the same addresses and configured with the new package), one
batch at a time; the other VNFCs are kept. Each batch goes through the new
package's steps (Ansible task files): coordinate-old (take the batch out of
service), configure (install and start the new software on the recreated
VNFCs), coordinate-new (put them back in service). The request's
``additionalParams`` can name other step files (Tacker v2 naming); the VNFD
declares the defaults as operations of a VNF specific interface (one derived
from ``tosca.interfaces.nfv.ChangeCurrentVnfPackage``). Pure functions.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import posixpath
import re
from typing import Any

from ansible_collections.nfv.vnfm.plugins.module_utils.errors import PlanError
from ansible_collections.nfv.vnfm.plugins.module_utils.vnfd.model import SwImage, Vdu, VnfModel

UPGRADE_TYPES = ("RollingUpdate",)
BATCH_SIZE = "batchSize"
UPGRADE_TYPE = "upgrade_type"
# step -> (additionalParams key, VNFD operation name), in the order a batch runs them.
STEPS: dict[str, tuple[str, str]] = {
    "coordinateOld": ("lcm-operation-coordinate-old-vnf", "coordinate_old_vnf"),
    "configure": ("lcm-operation-configure-new-vnfc", "configure_new_vnfc"),
    "coordinateNew": ("lcm-operation-coordinate-new-vnf", "coordinate_new_vnf"),
}
# VNFD operations that are steps of a package change, not operations of their own.
STEP_OPERATIONS = frozenset(op for _param, op in STEPS.values())
TASK_FILE_EXTENSIONS = (".yml", ".yaml")
_SAFE_PATH = re.compile(r"^[A-Za-z0-9._/-]+$")

# The fields of a software image that make it another image.
_IMAGE_FIELDS = (
    ("name", "name"),
    ("version", "version"),
    ("checksum", "checksum"),
    ("container_format", "containerFormat"),
    ("disk_format", "diskFormat"),
    ("min_disk_gb", "minDisk"),
    ("min_ram_mb", "minRam"),
    ("size_gb", "size"),
)


# Key of a VNFC's software generation in SOL003 resource info (``vnfcResourceInfo[].metadata``).
GENERATION_KEY = "softwareGeneration"


def software_generation(vdu: Vdu) -> str:
    """Short digest of what makes a VDU's software: its image and its software artifacts.

    Built from the fields :func:`vdu_changes` compares, so two packages give
    the same generation exactly when that VDU did not change between them.
    """
    image = vdu.sw_image
    doc = {
        "image": None
        if image is None
        else {label: getattr(image, attr) for attr, label in _IMAGE_FIELDS},
        "artifacts": sorted([a.name, a.sha256] for a in vdu.artifacts),
    }
    text = json.dumps(doc, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _image_changes(old: SwImage | None, new: SwImage | None) -> list[str]:
    if old is None and new is None:
        return []
    if old is None or new is None:
        return ["swImage added" if old is None else "swImage removed"]
    return [
        f"swImage.{label} {getattr(old, attr)!r} -> {getattr(new, attr)!r}"
        for attr, label in _IMAGE_FIELDS
        if getattr(old, attr) != getattr(new, attr)
    ]


def _artifact_changes(old: Vdu, new: Vdu) -> list[str]:
    before = {a.name: a.sha256 for a in old.artifacts}
    after = {a.name: a.sha256 for a in new.artifacts}
    out = [f"artifact {n} added" for n in sorted(after.keys() - before.keys())]
    out += [f"artifact {n} removed" for n in sorted(before.keys() - after.keys())]
    out += [
        f"artifact {n} changed"
        for n in sorted(before.keys() & after.keys())
        if before[n] != after[n]
    ]
    return out


def vdu_changes(old: VnfModel, new: VnfModel, flavour_id: str) -> dict[str, list[str]]:
    """VDU id -> why its VNFCs must be replaced, for the VDUs that changed.

    A VDU only the new package has is not *changed*: its VNFCs are created.
    """
    new_flavour = new.flavour(flavour_id)
    if new_flavour is None:
        raise PlanError(_no_flavour(new, flavour_id))
    old_flavour = old.flavour(flavour_id)
    changed: dict[str, list[str]] = {}
    for vdu in sorted(new_flavour.vdus, key=lambda v: v.id):
        before = old_flavour.vdu(vdu.id) if old_flavour else None
        if before is None:
            continue
        reasons = _image_changes(before.sw_image, vdu.sw_image) + _artifact_changes(before, vdu)
        if reasons:
            changed[vdu.id] = reasons
    return changed


def _no_flavour(model: VnfModel, flavour_id: str) -> str:
    known = ", ".join(sorted(f.id for f in model.flavours)) or "none"
    return (
        f"the new package (vnfdId {model.vnfd_id}) has no deployment flavour {flavour_id!r}, "
        f"the VNF's flavour (it has: {known})"
    )


def check_flavour(model: VnfModel, flavour_id: str) -> None:
    """PlanError unless the new package has the VNF's flavour."""
    if model.flavour(flavour_id) is None:
        raise PlanError(_no_flavour(model, flavour_id))


def observed_generations(resources: dict[str, Any] | None) -> dict[str, str]:
    """VNFC id -> the software generation the VIM recorded on it (known ones only)."""
    out: dict[str, str] = {}
    for info in (resources or {}).get("vnfcResourceInfo") or []:
        if not isinstance(info, dict):
            continue
        generation = (info.get("metadata") or {}).get(GENERATION_KEY)
        if isinstance(generation, str) and generation:
            out[str(info.get("id"))] = generation
    return out


def replacements(
    current_plan: dict[str, Any],
    new_plan: dict[str, Any],
    changed: dict[str, list[str]],
    observed: dict[str, str] | None = None,
) -> list[str]:
    """VNFCs to replace: existing VNFCs the new plan keeps that are not on its software yet.

    A VNFC whose generation the VIM recorded (``observed``) is replaced when that
    generation differs from the new plan's: a retry leaves what an earlier attempt
    finished, a rollback replaces only what was upgraded. A VNFC of unknown
    generation (created before generations, or whose batch did not complete) is
    replaced when its VDU changed between the packages. In plan order.
    """
    wanted = {v["id"]: v.get(GENERATION_KEY) for v in new_plan.get("vnfcs", [])}
    seen = observed or {}
    out = []
    for vnfc in current_plan.get("vnfcs", []):
        vnfc_id = vnfc["id"]
        if vnfc_id not in wanted:
            continue
        if vnfc_id in seen and wanted[vnfc_id]:
            if seen[vnfc_id] != wanted[vnfc_id]:
                out.append(str(vnfc_id))
        elif vnfc.get("vduId") in changed:
            out.append(str(vnfc_id))
    return out


def batch_size(params: dict[str, Any]) -> int:
    value = params.get(BATCH_SIZE, 1)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise PlanError(f"additionalParams.{BATCH_SIZE} must be a positive integer, got {value!r}")
    return value


def batches(ids: list[str], size: int) -> list[list[str]]:
    return [ids[i : i + size] for i in range(0, len(ids), size)]


def package_file(package_dir: str, relpath: Any, field: str) -> str:
    """Absolute path of a task file inside the package; PlanError naming ``field`` otherwise."""
    if not isinstance(relpath, str) or not relpath.strip():
        raise PlanError(f"{field} must be a path in the VNF package, got {relpath!r}")
    if relpath.startswith(("/", "\\")) or (len(relpath) > 1 and relpath[1] == ":"):
        raise PlanError(f"{field}: {relpath!r} is absolute; give a path relative to the package")
    parts = relpath.replace("\\", "/").split("/")
    if ".." in parts:
        raise PlanError(f"{field}: {relpath!r} leaves the package ('..' is not allowed)")
    if not _SAFE_PATH.match(relpath):
        # The path reaches include_tasks: nothing Jinja could read as a template.
        raise PlanError(
            f"{field}: {relpath!r} may only contain letters, digits, '.', '_', '-' and '/'"
        )
    if not relpath.endswith(TASK_FILE_EXTENSIONS):
        raise PlanError(f"{field}: {relpath!r} is not an Ansible task file (.yml or .yaml)")
    root = os.path.realpath(package_dir)
    full = os.path.realpath(os.path.join(root, posixpath.normpath(relpath)))
    if not full.startswith(root + os.sep):
        raise PlanError(f"{field}: {relpath!r} leaves the package (through a symbolic link)")
    if not os.path.isfile(full):
        raise PlanError(f"{field}: {relpath!r} is not a file of the VNF package")
    return full


def steps(
    model: VnfModel, flavour_id: str, params: dict[str, Any], package_dir: str
) -> dict[str, str | None]:
    """Step -> absolute task file: the request's, else the VNFD's, else none."""
    flavour = model.flavour(flavour_id)
    out: dict[str, str | None] = {}
    for step, (param, op_name) in STEPS.items():
        if param in params:
            value = params[param]
            out[step] = (
                None
                if value in (None, "")
                else package_file(package_dir, value, f"additionalParams.{param}")
            )
            continue
        op = flavour.operation(op_name) if flavour else None
        file = op.artifact_file if op is not None else None
        out[step] = (
            package_file(package_dir, file, f"the VNFD's operation {op.interface}.{op_name}")
            if op is not None and file
            else None
        )
    return out


def package_change(
    current_model: VnfModel,
    new_model: VnfModel,
    current_plan: dict[str, Any],
    new_plan: dict[str, Any],
    request: dict[str, Any],
    package_dir: str,
    resources: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """What a change to ``new_model`` replaces and how (see docs/operations.md).

    ``resources`` (SOL003 resource info as the VIM reports it now) gives the
    software generation each VNFC runs; without it, the VDU comparison decides.
    """
    params = request.get("additionalParams") or {}
    if not isinstance(params, dict):
        raise PlanError("additionalParams must be an object")
    kind = params.get(UPGRADE_TYPE, UPGRADE_TYPES[0])
    if kind not in UPGRADE_TYPES:
        raise PlanError(
            f"additionalParams.{UPGRADE_TYPE} must be one of {', '.join(UPGRADE_TYPES)}, "
            f"got {kind!r}"
        )
    size = batch_size(params)
    flavour_id = str(new_plan.get("flavourId"))
    check_flavour(new_model, flavour_id)
    changed = vdu_changes(current_model, new_model, flavour_id)
    replace = replacements(current_plan, new_plan, changed, observed_generations(resources))
    vdu_of = {v["id"]: v.get("vduId") for v in new_plan.get("vnfcs", [])}
    for vnfc_id in replace:  # on another package's software (an unfinished change)
        vdu_id = str(vdu_of[vnfc_id])
        if vdu_id not in changed:
            changed[vdu_id] = ["VNFCs on another software generation"]
    return {
        "upgradeType": kind,
        "batchSize": size,
        "changedVdus": changed,
        "replace": replace,
        "batches": batches(replace, size),
        "steps": steps(new_model, flavour_id, params, package_dir),
    }


def rolling_plan(
    new_plan: dict[str, Any],
    current_plan: dict[str, Any],
    pending: list[str],
    installing: list[str] | None = None,
) -> dict[str, Any]:
    """The new plan, except for the VNFCs of the batches still to come and of the batch now.

    The ``pending`` VNFCs (not replaced yet) keep their entry of the current plan,
    so that a VIM which replaces a server whose image differs leaves them alone.
    The ``installing`` VNFCs (the batch being replaced) take their new entry. Both
    have no ``softwareGeneration``: the VIM records a VNFC's generation only once
    its batch completed (see docs/operations.md), and never for one left waiting.
    """
    before = {v["id"]: v for v in current_plan.get("vnfcs", [])}
    waiting = set(pending)
    unknown = waiting | set(installing or [])
    out = dict(new_plan)
    vnfcs = []
    for vnfc in new_plan.get("vnfcs", []):
        entry = before[vnfc["id"]] if vnfc["id"] in waiting and vnfc["id"] in before else vnfc
        if vnfc["id"] in unknown:
            entry = {**copy.deepcopy(entry), GENERATION_KEY: None}
        vnfcs.append(entry)
    out["vnfcs"] = vnfcs
    return out
