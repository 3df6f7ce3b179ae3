"""Real packages of other vendors (tests/corpus/corpus.py): every one read, classified and
planned at every flavour and level; a representative subset of the VM-based ones (one pass
per shape) runs the full local-VIM matrix (instantiate with hooks off, scale to max, heal,
terminate, nothing left behind); a container package is refused on the local VIM before
anything runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.corpus import corpus
from tests.integration.conftest import Lifecycle
from vnfm_runner.core import PlanError, PlanRequest, package_summary, plan

INSTANCE = "c0ffee00-0000-4000-8000-000000000015"


def _entries() -> list[Any]:
    params: list[Any] = [pytest.param(e, id=f"shared/{e.name}") for e in corpus.shared_entries()]
    try:
        tacker = corpus.tacker_entries()
    except corpus.CorpusUnavailable as exc:  # a network edge: the shared ones still run
        reason = str(exc)
        params.append(pytest.param(None, id="tacker", marks=pytest.mark.skip(reason=reason)))
    else:
        params += [pytest.param(e, id=f"tacker/{e.name}") for e in tacker]
    return params


@pytest.mark.parametrize("entry", _entries())
def test_package_is_read_classified_and_planned(entry: corpus.Entry) -> None:
    reading = corpus.read(entry)
    if reading.kind == "refused":
        # only integrity failures (and Tacker's image-only fragments) are refused
        assert reading.integrity, reading.problems
        return
    model = reading.model
    summary = package_summary(model)
    assert summary["deploymentKind"] == reading.kind
    for flavour in model.flavours:
        levels = [lv.id for lv in flavour.instantiation_levels] or [None]
        planned = 0
        for level in levels:
            try:
                result = plan(model, PlanRequest(INSTANCE, flavour.id, level))
            except PlanError as exc:  # a level beyond a VDU's max: that request alone fails
                assert "outside its limits" in str(exc) or "defect" in str(exc), str(exc)
                continue
            planned += 1
            for vnfc in result["vnfcs"]:
                orders = [cp["order"] for cp in vnfc["cps"]]
                assert len(set(orders)) == len(orders), (vnfc["id"], orders)
                assert all(isinstance(o, int) for o in orders), orders
        assert planned, f"flavour {flavour.id}: no level plans"


# CI runs the full lifecycle on a representative subset, one pass per shape (about 20 s
# each on the local VIM); bench/corpus.py runs every package, flavour and level
VM_SUBSET = [
    # CPs without order (the crasher); one VDU, no aspect, no level
    ("etsi_getting_started__tosca__sample_vnf_package_csar", "simple", None),
    # an aspect beyond its VDU's max; a storage; three levels (the default one here)
    ("mgmt_driver__ansible__ansible_vnf_package", "default", None),
    # three internal VLs, four external CPs (unbound), a storage, an explicit level
    ("tests__etc__samples__etsi__nfv__functional", "simple", "instantiation_level_2"),
    # two flavours in one package: the one without aspects or levels
    ("practical_vnf_package", "ha", None),
    # two VDUs each with a storage, five external CPs
    ("tests__functional__sol_v2_common__basic_lcms_max", "simple", "instantiation_level_1"),
]


def subset_path(name: str) -> Path:
    """The package directory of a subset entry (../shared, else Tacker's release)."""
    if (corpus.SHARED / name).is_dir():
        return corpus.SHARED / name
    try:
        tacker = {e.name: e.path for e in corpus.tacker_entries()}
    except corpus.CorpusUnavailable as exc:  # a network edge
        pytest.skip(str(exc))
    if name not in tacker:
        pytest.skip(f"{name}: not in ../shared/conformance nor in Tacker {corpus.TACKER_VERSION}")
    return tacker[name]


@pytest.mark.root
@pytest.mark.parametrize(("name", "flavour", "level"), VM_SUBSET)
def test_local_vim_matrix(lifecycle: Lifecycle, name: str, flavour: str, level: str | None) -> None:
    from tests.corpus.matrix import STEPS, run_matrix

    outcome = run_matrix(lifecycle, subset_path(name), flavour, level)
    assert outcome.steps == {s: "ok" for s in STEPS}


@pytest.mark.root
def test_container_package_is_refused_on_a_vm_vim(lifecycle: Lifecycle) -> None:
    path = corpus.SHARED / "tests__etc__samples__etsi__nfv__test_cnf_helmchart"
    if not path.is_dir():
        pytest.skip("../shared/conformance is not present")
    shown = json.loads(lifecycle.cli_ok("package", "show", str(path), "--format", "json"))
    assert shown["deploymentKind"] == "container"
    table = lifecycle.cli_ok("package", "show", str(path))
    assert "container package: runs on a kubernetes or podman VIM only" in table
    inst = lifecycle.create(lifecycle.onboard(path))
    flavour = shown["flavours"][0]["flavourId"]
    proc = lifecycle.cli("instantiate", inst, "--flavour", flavour, "--no-hooks", "-q")
    assert proc.returncode != 0
    assert "container VIM (kubernetes, podman)" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
    ops = json.loads(lifecycle.cli_ok("op", "list", "--format", "json"))
    assert ops == [] or all(o.get("vnfInstanceId") != inst for o in ops)  # nothing ran
