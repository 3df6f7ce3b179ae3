"""The local-VIM lifecycle matrix of one package: instantiate (hooks off) at a flavour and
level, scale each aspect to the highest level its VDUs allow, heal one VNFC, terminate;
the VNFCs checked against the plan after each step and nothing of the instance left.

Used by tests/corpus/test_corpus.py (a few packages), tests/openstack/test_corpus_openstack.py
(one package on the OpenStack test bed) and bench/corpus.py (all of them). The caller gives a
``Lifecycle`` (tests/integration/conftest.py): the real CLI on a private VNFM_HOME and the
host's kernel; ``register_openstack`` and ``openstack_residue`` put the test bed in its place.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.integration.conftest import Lifecycle, leftovers, netns_names
from vnfm_runner.core import PlanError, PlanRequest, load_vnf, plan

STEPS = ("instantiate", "scale", "heal", "terminate")
OPENSTACK_VIM = "bed"
OPENSTACK_IMAGE = "cirros"  # the one image the test bed has (docs/openstack-testbed.md)


@dataclass
class Outcome:
    package: str
    flavour: str
    level: str | None
    steps: dict[str, str] = field(default_factory=dict)  # step -> "ok" or the error

    @property
    def clean(self) -> bool:
        return all(self.steps.get(s) == "ok" for s in STEPS)


def _counts(vnfcs: list[dict[str, Any]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for v in vnfcs:
        out[v["vduId"]] = out.get(v["vduId"], 0) + 1
    return out


def _check(lc: Lifecycle, inst: str, desired: dict[str, Any], kernel: bool = True) -> str:
    """'ok', or how the VNF differs from the plan (record, and the kernel on the local VIM)."""
    doc = lc.show(inst)
    info = doc.get("instantiatedVnfInfo") or {}
    got = _counts(info.get("vnfcResourceInfo") or [])
    want = _counts(desired["vnfcs"])
    if got != want:
        return f"VNFCs {got} != plan {want}"
    if not kernel:
        return "ok"
    spaces = set(netns_names())
    missing = [v["id"] for v in desired["vnfcs"] if f"vnfm-{inst}-{v['id']}" not in spaces]
    return f"no namespace for {missing}" if missing else "ok"


def _levels(doc: dict[str, Any]) -> dict[str, int]:
    info = doc.get("instantiatedVnfInfo") or {}
    return {s["aspectId"]: int(s["scaleLevel"]) for s in (info.get("scaleStatus") or [])}


def _run(lc: Lifecycle, *args: str) -> str:
    proc = lc.cli(*args, "-q")
    if proc.returncode == 0:
        return "ok"
    return (proc.stderr.strip() or proc.stdout.strip()).splitlines()[-1][:300]


def max_levels(
    model: Any, flavour_id: str, level: str | None, base: dict[str, int] | None = None
) -> dict[str, int]:
    """Per aspect, the highest scale level that plans (an aspect's max_scale_level may ask
    more instances than its VDUs allow; the VNFM refuses only that request), the other
    aspects at their ``base`` levels (those the instantiation level set)."""
    flavour = model.flavour(flavour_id)
    out: dict[str, int] = {}
    for aspect in flavour.scaling_aspects:
        top = 0
        for n in range(1, aspect.max_scale_level + 1):
            try:
                plan(
                    model,
                    PlanRequest(
                        "0" * 8 + "-0000-4000-8000-" + "0" * 12,
                        flavour_id,
                        None,
                        scale_levels={**(base or {}), aspect.id: n},
                    ),
                )
            except PlanError:
                break
            top = n
        out[aspect.id] = top
    return out


def provide_flavors(clouds_file: str, admin_cloud: str, model: Any) -> list[str]:
    """Create, as the cloud's admin, a public flavor for every VDU that no flavor of the
    cloud serves (its hint absent and none large enough), named by its hint with the sizes
    it asks; returns the names created. A cloud that runs these packages has such flavors
    (Tacker's own tests create them); the test bed ships three small ones only."""
    import openstack.config
    import openstack.connection
    from ansible_collections.nfv.vnfm.plugins.module_utils.vim import VimError
    from ansible_collections.nfv.vnfm.plugins.module_utils.vim._openstack.model import (
        Flavor,
        pick_flavor,
    )

    region = openstack.config.OpenStackConfig(config_files=[clouds_file]).get_one(admin_cloud)
    conn = openstack.connection.Connection(config=region)
    try:
        have = [
            Flavor(f.id, f.name, f.vcpus, f.ram, f.disk)
            for f in conn.compute.flavors(is_public=None)
        ]
        created: list[str] = []
        for flavour in model.flavours:
            for vdu in flavour.vdus:
                compute = {
                    "numVirtualCpu": vdu.num_virtual_cpu,
                    "virtualMemSizeMb": vdu.virtual_mem_size_mb,
                    "localStorageGb": vdu.local_storage_gb,
                    "flavourHint": vdu.flavour_hints[0] if vdu.flavour_hints else None,
                }
                try:  # the driver's own choice decides whether one is missing
                    pick_flavor({"id": vdu.id, "compute": compute}, have, {})
                    continue
                except VimError:
                    pass
                vcpus = math.ceil(float(vdu.num_virtual_cpu or 1))
                ram = math.ceil(float(vdu.virtual_mem_size_mb or 512))
                disk = math.ceil(float(vdu.local_storage_gb or 1))
                name = compute["flavourHint"] or f"corpus-{vcpus}c-{ram}m-{disk}g"
                made = conn.compute.create_flavor(
                    name=name, vcpus=vcpus, ram=ram, disk=disk, is_public=True
                )
                have.append(Flavor(made.id, name, vcpus, ram, disk))
                created.append(name)
        return created
    finally:
        conn.close()


def register_openstack(
    lc: Lifecycle, clouds_file: str, cloud: str, model: Any, admin_cloud: str | None = None
) -> str:
    """Register an OpenStack cloud as VIM ``bed`` of ``lc``'s home (soft placement: the
    test bed has one compute host), every VDU's image (by VDU id and by image name) mapped
    to the bed's cirros; returns the VIM's name. With ``admin_cloud``, the flavors the
    package needs and the cloud lacks are created first (``provide_flavors``)."""
    if admin_cloud is not None:
        provide_flavors(clouds_file, admin_cloud, model)
    images: dict[str, str] = {}
    for flavour in model.flavours:
        for vdu in flavour.vdus:
            images[vdu.id] = OPENSTACK_IMAGE
            if vdu.sw_image is not None and vdu.sw_image.name:
                images[vdu.sw_image.name] = OPENSTACK_IMAGE
    svc = lc.service()
    if OPENSTACK_VIM in {v["name"] for v in svc.vims.list()}:
        svc.vims.remove(OPENSTACK_VIM)
    svc.vims.add(
        name=OPENSTACK_VIM,
        vim_type="openstack",
        cloud=cloud,
        clouds_file=clouds_file,
        options={"imageMap": images, "softPlacementPolicies": True},
    )
    return OPENSTACK_VIM


def openstack_residue(clouds_file: str, cloud: str) -> Callable[[str], dict[str, Any]]:
    """What the OpenStack driver still finds of an instance (empty when it is gone)."""

    def residue(inst: str) -> dict[str, Any]:
        from ansible_collections.nfv.vnfm.plugins.module_utils.vim import get_driver

        vim = {"vimType": "openstack", "cloud": cloud, "cloudsFile": clouds_file}
        found = get_driver(vim, timeout=120).resources(inst)
        return {k: v for k, v in found.items() if v}

    return residue


def run_matrix(
    lc: Lifecycle,
    package: Path,
    flavour_id: str,
    level: str | None,
    *,
    vim: str | None = None,
    residue: Callable[[str], dict[str, Any]] = leftovers,
) -> Outcome:
    """One pass of the matrix; every step's result, cleanup by the caller's fixture.

    ``vim``: a registered VIM's name (default: the local VIM, whose kernel is checked too);
    ``residue``: what of the instance is still on the VIM after terminate (empty: nothing).
    """
    kernel = vim is None
    model, _ = load_vnf(package)
    out = Outcome(package.name, flavour_id, level)
    vnfd_id = lc.cli_ok("package", "onboard", str(package)).strip().splitlines()[-1]
    inst = lc.create(vnfd_id)
    args = ["instantiate", inst, "--flavour", flavour_id, "--no-hooks"]
    args += ["--vim", vim] if vim else []
    out.steps["instantiate"] = _run(lc, *args, *(["--level", level] if level else []))
    if out.steps["instantiate"] != "ok":
        return out
    desired = plan(model, PlanRequest(inst, flavour_id, level))
    out.steps["instantiate"] = _check(lc, inst, desired, kernel)
    # the levels the instantiation level set (the instance's own record, as scale reads it)
    current = _levels(lc.show(inst)) or dict(desired.get("scaleLevels") or {})
    scale = "ok"
    for aspect_id, top in max_levels(model, flavour_id, level, current).items():
        steps = top - int(current.get(aspect_id, 0))
        if steps <= 0:
            continue
        scale = _run(
            lc,
            "scale",
            inst,
            "--type",
            "SCALE_OUT",
            "--aspect",
            aspect_id,
            "--steps",
            str(steps),
            "--no-hooks",
        )
        if scale != "ok":
            break
        current[aspect_id] = top
        levels = _levels(lc.show(inst))
        desired = plan(model, PlanRequest(inst, flavour_id, None, scale_levels=levels))
        scale = _check(lc, inst, desired, kernel)
        if scale != "ok":
            break
    out.steps["scale"] = scale
    # heal one VNFC (the first planned), the others staying as they are
    one = [arg for v in desired["vnfcs"][:1] for arg in ("--vnfc", v["id"])]
    out.steps["heal"] = _run(lc, "heal", inst, *one, "--no-hooks")
    if out.steps["heal"] == "ok":
        out.steps["heal"] = _check(lc, inst, desired, kernel)
    out.steps["terminate"] = _run(lc, "terminate", inst, "--forceful")
    if out.steps["terminate"] == "ok":
        left = residue(inst)
        out.steps["terminate"] = "ok" if not left else f"left behind: {json.dumps(left)[:200]}"
    return out
