"""Liberal in what is accepted, strict where it matters (issue 15 item 2).

A dangling reference in a part a deployment may not use is a warning at validation and
onboarding, and an error naming FILE:LINE and the request field only for a request that
uses that part; ``vnfm package validate --strict`` refuses the package as before.
Integrity failures stay errors.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.unit.vnfd_builders import base_vnfd, line_of, policy, write_vnfd
from vnfm_runner.core import (
    PackageError,
    PlanError,
    PlanRequest,
    decide_plan,  # noqa: F401  (the same check in decide)
    load_vnf,
    plan,
)

VNFD = "Definitions/vnfd.yaml"
INSTANCE = "c0ffee00-0000-4000-8000-000000000002"


def _validate(path: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vnfm_runner", "package", "validate", str(path), *flags],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_level_naming_an_unknown_aspect_warns_and_fails_only_when_used(tmp_path: Path) -> None:
    doc = base_vnfd()
    levels = policy(doc, "instantiation_levels")["properties"]["levels"]
    levels["instantiation_level_2"]["scale_info"]["other_aspect"] = {"scale_level": 0}
    text = write_vnfd(tmp_path / "pkg", doc)
    where = f"{VNFD}:{line_of(text, 'other_aspect:')}"

    model, warnings = load_vnf(tmp_path / "pkg")
    assert [str(w) for w in warnings] == [
        f"{where}: warning: instantiation level 'instantiation_level_2' names unknown "
        "aspect 'other_aspect'"
    ]
    plan(model, PlanRequest(INSTANCE, "simple", "instantiation_level_1"))  # unaffected
    with pytest.raises(PlanError) as info:
        plan(model, PlanRequest(INSTANCE, "simple", "instantiation_level_2"))
    assert str(info.value).startswith("instantiationLevelId 'instantiation_level_2' uses")
    assert where in str(info.value)

    lenient = _validate(tmp_path / "pkg")
    assert lenient.returncode == 0, lenient.stderr
    assert "warning: instantiation level" in lenient.stderr
    strict = _validate(tmp_path / "pkg", "--strict")
    assert strict.returncode != 0
    assert f"{where}: instantiation level" in strict.stderr + strict.stdout
    assert "Traceback" not in strict.stderr

    # onboarding accepts it and shows the same warning; stdout stays the vnfdId alone
    onboarded = subprocess.run(
        [sys.executable, "-m", "vnfm_runner", "package", "onboard", str(tmp_path / "pkg")],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env={**os.environ, "VNFM_HOME": str(tmp_path / "home")},
    )
    assert onboarded.returncode == 0, onboarded.stderr
    assert onboarded.stdout.strip() == model.vnfd_id
    assert f"{where}: warning: instantiation level" in onboarded.stderr
    # the warnings are kept with the package: onboarding it again (accepted, identical)
    # shows them from the record
    again = subprocess.run(
        onboarded.args,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env={**os.environ, "VNFM_HOME": str(tmp_path / "home")},
    )
    assert again.returncode == 0 and again.stdout == onboarded.stdout, again.stderr
    assert f"{where}: warning: instantiation level" in again.stderr


def test_deltas_of_an_unknown_aspect_fail_only_a_scale_of_it(tmp_path: Path) -> None:
    doc = base_vnfd()
    policy(doc, "VDU1_scaling_aspect_deltas")["properties"]["aspect"] = "VDU9_aspect"
    text = write_vnfd(tmp_path / "pkg", doc)
    where = f"{VNFD}:{line_of(text, 'aspect: VDU9_aspect')}"
    model, warnings = load_vnf(tmp_path / "pkg")
    assert any(where in str(w) for w in warnings)
    with pytest.raises(PlanError) as info:
        plan(model, PlanRequest(INSTANCE, "simple", None, scale_levels={"VDU9_aspect": 1}))
    assert f"aspectId 'VDU9_aspect' uses a defect of the VNFD: {where}" in str(info.value)
    with pytest.raises(PackageError):
        load_vnf(tmp_path / "pkg", strict=True)


def test_integrity_failures_stay_errors(tmp_path: Path) -> None:
    write_vnfd(tmp_path / "pkg", base_vnfd())
    meta = tmp_path / "pkg" / "TOSCA-Metadata" / "TOSCA.meta"
    meta.parent.mkdir(exist_ok=True)
    meta.write_text(
        "TOSCA-Meta-File-Version: 1.0\nCSAR-Version: 1.1\nCreated-by: t\n"
        "Entry-Definitions: Definitions/vnfd.yaml\nETSI-Entry-Manifest: vnfd.mf\n"
    )
    proc = _validate(tmp_path / "pkg")
    assert proc.returncode != 0
    assert "ETSI-Entry-Manifest not found: vnfd.mf" in proc.stderr + proc.stdout
