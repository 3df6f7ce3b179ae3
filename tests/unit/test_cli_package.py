"""``vnfm package validate|show`` and ``vnfm plan`` as a user runs them (subprocess)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from vnfd_builders import base_vnfd, line_of, nodes, policy, write_package, write_vnfd

ROOT = Path(__file__).resolve().parents[2]
WEBFARM = str(ROOT / "examples" / "packages" / "webfarm")
VNFD = "Definitions/vnfd.yaml"
LOCATED = re.compile(r"^(?P<file>[^:\s][^:]*):(?P<line>\d+): (?P<msg>\S.*)$")


def vnfm(*args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "vnfm_runner", *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        timeout=120,
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result


@pytest.fixture(scope="module")
def shown_json() -> dict[str, Any]:
    result = vnfm("package", "show", WEBFARM, "--format", "json")
    assert result.returncode == 0, result.stderr
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


# -- valid package ------------------------------------------------------------------------
def test_validate_webfarm() -> None:
    result = vnfm("package", "validate", WEBFARM)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.strip() == (
        f"{WEBFARM}: valid VNF package, vnfdId 8c6a1e5f-2b7d-4f1a-9c3e-5d0b7a4e2f61, "
        "flavours compact, default"
    )


def test_validate_prints_warnings_and_still_succeeds(tmp_path: Path) -> None:
    doc = base_vnfd()
    policy(doc, "scaling_aspects")["properties"]["aspects"]["VDU1_aspect"]["max_scale_level"] = 9
    text = write_vnfd(tmp_path / "pkg", doc)
    result = vnfm("package", "validate", str(tmp_path / "pkg"))
    assert result.returncode == 0
    line = line_of(text, "  VDU1:")
    assert result.stderr.splitlines() == [
        f"{VNFD}:{line + 1}: warning: VDU 'VDU1': the aspects' max_scale_level allow 10 instances "
        "but max_number_of_instances is 5; scaling beyond it will be refused"
    ]


def test_show_json_has_the_contract_keys(shown_json: dict[str, Any]) -> None:
    doc = shown_json
    assert doc["vnfdId"] == "8c6a1e5f-2b7d-4f1a-9c3e-5d0b7a4e2f61"
    assert (doc["provider"], doc["productName"], doc["softwareVersion"], doc["vnfdVersion"]) == (
        "vnfm-toolkit",
        "webfarm",
        "1.0",
        "1.0",
    )
    assert [f["flavourId"] for f in doc["flavours"]] == ["compact", "default"]
    for fl in doc["flavours"]:
        for key in (
            "vdus",
            "virtualLinks",
            "extCps",
            "scalingAspects",
            "instantiationLevels",
            "lcmOperations",
        ):
            assert isinstance(fl[key], list), key
        for vdu in fl["vdus"]:
            assert {"id", "minInstances", "maxInstances"} <= set(vdu)
        for aspect in fl["scalingAspects"]:
            assert {"id", "maxScaleLevel"} <= set(aspect)
        for level in fl["instantiationLevels"]:
            assert {"id", "vduInstances"} <= set(level)
    default = doc["flavours"][1]
    assert [(v["id"], v["minInstances"], v["maxInstances"]) for v in default["vdus"]] == [
        ("lb", 1, 1),
        ("web", 1, 8),
    ]
    assert [(a["id"], a["maxScaleLevel"]) for a in default["scalingAspects"]] == [("web", 7)]
    assert {lv["id"]: lv["vduInstances"] for lv in default["instantiationLevels"]} == {
        "large": {"lb": 1, "web": 4},
        "small": {"lb": 1, "web": 2},
    }
    assert [vl["id"] for vl in default["virtualLinks"]] == ["internal_vl"]
    assert [c["id"] for c in default["extCps"]] == ["lb_ext_cp"]
    assert {o["name"]: o["artifactFile"] for o in default["lcmOperations"]}["instantiate_end"] == (
        "Scripts/instantiate_end.yml"
    )


def test_show_yaml_is_the_same_document(shown_json: dict[str, Any]) -> None:
    result = vnfm("package", "show", WEBFARM, "--format", "yaml")
    assert result.returncode == 0, result.stderr
    assert yaml.safe_load(result.stdout) == shown_json


def test_show_table() -> None:
    result = vnfm("package", "show", WEBFARM, "--format", "table")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "webfarm 1.0 by vnfm-toolkit" in out
    assert "flavour compact: VDUs" in out and "flavour default: VDUs" in out
    assert "instantiation levels" in out and "small" in out and "large" in out
    assert "external CPs: lb_ext_cp" in out


def test_show_full_includes_the_model(shown_json: dict[str, Any]) -> None:
    result = vnfm("package", "show", WEBFARM, "--format", "json", "--full")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["model"]["vnfdId"] == shown_json["vnfdId"]
    assert [f["flavourId"] for f in doc["model"]["flavours"]] == ["compact", "default"]


# -- plan ------------------------------------------------------------------------------------
def _plan(*args: str) -> dict[str, Any]:
    result = vnfm("plan", WEBFARM, "--flavour", "default", "--format", "json", *args)
    assert result.returncode == 0, result.stderr
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


def _counts(doc: dict[str, Any]) -> dict[str, int]:
    out: dict[str, int] = {}
    for v in doc["vnfcs"]:
        out[v["vduId"]] = out.get(v["vduId"], 0) + 1
    return out


def test_plan_json_with_a_level() -> None:
    doc = _plan("--level", "large", "--instance-id", "11111111-2222-4333-8444-555555555555")
    assert doc["vnfInstanceId"] == "11111111-2222-4333-8444-555555555555"
    assert (doc["instantiationLevelId"], doc["scaleLevels"]) == ("large", {"web": 3})
    assert _counts(doc) == {"lb": 1, "web": 4}


def test_plan_json_with_an_aspect() -> None:
    doc = _plan("--aspect", "web=3")
    assert (doc["instantiationLevelId"], doc["scaleLevels"]) == (None, {"web": 3})
    assert _counts(doc) == {"lb": 1, "web": 4}
    assert doc["vnfInstanceId"] == "00000000-0000-0000-0000-000000000000"


def test_plan_json_is_deterministic() -> None:
    first = vnfm("plan", WEBFARM, "--flavour", "default", "--format", "json")
    second = vnfm("plan", WEBFARM, "--flavour", "default", "--format", "json")
    assert first.returncode == 0 and first.stdout == second.stdout


def test_plan_table() -> None:
    result = vnfm("plan", WEBFARM, "--flavour", "compact")
    assert result.returncode == 0, result.stderr
    assert "VNFCs" in result.stdout and "web-0" in result.stdout and "lb-0" in result.stdout
    assert "10.10.10.0/24" in result.stdout


def test_plan_level_and_aspect_together_is_an_error() -> None:
    result = vnfm("plan", WEBFARM, "--flavour", "default", "--level", "small", "--aspect", "web=1")
    assert result.returncode != 0
    assert result.stdout == ""
    assert result.stderr.strip() == "give either --level or --aspect, not both"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--flavour", "huge"], "has no deployment flavour 'huge' (known: compact, default)"),
        (
            ["--flavour", "default", "--level", "medium"],
            "flavour 'default' has no instantiation level 'medium' (known: small, large)",
        ),
        (
            ["--flavour", "default", "--aspect", "db=1"],
            "flavour 'default' has no scaling aspect 'db' (known: web)",
        ),
        (
            ["--flavour", "default", "--aspect", "web=8"],
            "aspect 'web': scale level 8 is outside 0..7",
        ),
        (["--flavour", "default", "--aspect", "web"], "--aspect 'web': expected ASPECT=LEVEL"),
        (
            ["--flavour", "default", "--aspect", "web=-1"],
            "--aspect 'web=-1': expected ASPECT=LEVEL",
        ),
    ],
)
def test_plan_refusals_are_one_clear_line(args: list[str], message: str) -> None:
    result = vnfm("plan", WEBFARM, *args, "--format", "json")
    assert result.returncode != 0
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert message in line


def test_plan_requires_a_flavour() -> None:
    result = vnfm("plan", WEBFARM)
    assert result.returncode == 2
    assert "--flavour" in result.stderr


# -- bad packages -------------------------------------------------------------------------------
def _bad_package(tmp_path: Path) -> tuple[Path, str]:
    """Three located problems in one VNFD."""
    doc = base_vnfd()
    nodes(doc)["VDU1_CP"]["requirements"][1] = {"virtual_link": "nowhere"}
    policy(doc, "VDU1_anti_affinity")["type"] = "acme.policies.Nope"
    policy(doc, "instantiation_levels")["properties"]["default_level"] = "gigantic"
    text = write_vnfd(tmp_path / "pkg", doc)
    return tmp_path / "pkg", text


@pytest.mark.parametrize(
    "command",
    [
        ["package", "validate"],
        ["package", "show"],
        ["package", "show", "--format", "json"],
        ["plan", "--flavour", "simple"],
    ],
    ids=["validate", "show", "show-json", "plan"],
)
def test_bad_package_gives_one_located_line_per_problem(tmp_path: Path, command: list[str]) -> None:
    pkg, text = _bad_package(tmp_path)
    if command[0] == "plan":
        result = vnfm("plan", str(pkg), *command[1:])
    else:
        result = vnfm(*command[:2], str(pkg), *command[2:])
    assert result.returncode == 2  # invalid input
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines == [
        f"{VNFD}:{line_of(text, '- virtual_link: nowhere')}: "
        "CP 'VDU1_CP': virtual_link names unknown virtual link 'nowhere'",
        f"{VNFD}:{line_of(text, 'type: acme.policies.Nope')}: "
        "policy 'VDU1_anti_affinity': unknown policy type 'acme.policies.Nope'",
        f"{VNFD}:{line_of(text, 'default_level: gigantic')}: "
        "default_level 'gigantic' is not an instantiation level",
    ]
    for line in lines:
        assert LOCATED.match(line), line


def test_invalid_yaml_gives_its_line(tmp_path: Path) -> None:
    text = "tosca_definitions_version: tosca_simple_yaml_1_3\nimports:\n  - [unclosed\nfoo: bar\n"
    pkg = write_package(tmp_path / "pkg", {VNFD: text})
    result = vnfm("package", "validate", str(pkg))
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    match = LOCATED.match(line)
    assert match, line
    assert match["file"] == VNFD and match["msg"].startswith("YAML error: ")
    assert int(match["line"]) in (3, 4)


def test_missing_package() -> None:
    result = vnfm("package", "validate", "/nonexistent/package")
    assert result.returncode == 2
    assert result.stderr.strip() == "/nonexistent/package: no such file or directory"
