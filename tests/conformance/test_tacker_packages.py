"""Real VNF packages of another VNFM's release must read correctly (../shared/conformance)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from vnfm_runner.core import PlanRequest, load_vnf, package_summary, plan

ROOT = Path(__file__).resolve().parents[2]
CONFORMANCE = ROOT.parent / "shared" / "conformance" / "tacker-packages"
EXPECTED: dict[str, Any] = (
    json.loads((CONFORMANCE / "expected.json").read_text()) if CONFORMANCE.is_dir() else {}
)

pytestmark = pytest.mark.skipif(not EXPECTED, reason="../shared/conformance is not present")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_package_reads_as_expected(name: str) -> None:
    model, _warnings = load_vnf(CONFORMANCE / name)
    summary = package_summary(model)
    found = {}
    for fl in summary["flavours"]:
        found[fl["flavourId"]] = {
            "vdus": {v["id"]: [v["minInstances"], v["maxInstances"]] for v in fl["vdus"]},
            "aspects": {a["id"]: a["maxScaleLevel"] for a in fl["scalingAspects"]},
            "levels": {lv["id"]: lv["vduInstances"] for lv in fl["instantiationLevels"]},
        }
    assert found == EXPECTED[name]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_cli_validate_and_show_json(name: str) -> None:
    path = str(CONFORMANCE / name)
    ok = subprocess.run(
        [sys.executable, "-m", "vnfm_runner", "package", "validate", path],
        capture_output=True,
        text=True,
        check=False,
    )
    assert ok.returncode == 0, ok.stderr
    assert "Traceback" not in ok.stderr
    shown = subprocess.run(
        [sys.executable, "-m", "vnfm_runner", "package", "show", path, "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
    )
    doc = json.loads(shown.stdout)
    for key in ("vnfdId", "provider", "productName", "softwareVersion", "vnfdVersion"):
        assert doc[key], key
    assert sorted(f["flavourId"] for f in doc["flavours"]) == sorted(EXPECTED[name])


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_level_plans_within_limits(name: str) -> None:
    """Each flavour plans at each of its levels with the VNFC counts the level names."""
    model, _warnings = load_vnf(CONFORMANCE / name)
    for flavour_id, expected in EXPECTED[name].items():
        for level_id, counts in expected["levels"].items():
            result = plan(
                model, PlanRequest("c0ffee00-0000-4000-8000-000000000001", flavour_id, level_id)
            )
            got: dict[str, int] = {}
            for vnfc in result["vnfcs"]:
                got[vnfc["vduId"]] = got.get(vnfc["vduId"], 0) + 1
            assert got == {k: v for k, v in counts.items() if v}
