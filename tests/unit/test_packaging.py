"""Packaging metadata that must not drift: one version, the licence, the project's URLs,
every imported third-party package declared, no ``sys.path`` edits, and a bounded
``requires_ansible`` with a sanity ignore file for each ansible-core it admits.

The wheel itself is built, installed and run in tests/integration/test_wheel.py.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path
from typing import Any

import yaml

import vnfm_runner
from vnfm_runner import paths

ROOT = Path(__file__).resolve().parents[2]
COLLECTION = ROOT / "collections" / "ansible_collections" / "nfv" / "vnfm"
PROJECT_URL = "https://github.com/vnfm-toolkit/vnfm-toolkit"
# the code whose imports an installation must satisfy
SOURCES = (ROOT / "vnfm_runner", COLLECTION / "plugins")
FIRST_PARTY = {"vnfm_runner", "ansible_collections", "__future__"}


def _pyproject() -> dict[str, Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _galaxy() -> dict[str, Any]:
    data = yaml.safe_load((COLLECTION / "galaxy.yml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_name(requirement: str) -> str:
    found = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement)
    assert found, requirement
    return _canonical(found.group(0))


def _python_files() -> list[Path]:
    return [p for root in SOURCES for p in sorted(root.rglob("*.py"))]


def test_one_version_from_galaxy_yml() -> None:
    project = _pyproject()["project"]
    assert "version" not in project and "version" in project["dynamic"]
    version = str(_galaxy()["version"])
    assert re.fullmatch(r"\d+\.\d+\.\d+", version), version
    # the installed distribution (editable in a checkout: reinstall after a bump)
    assert metadata.version("vnfm-toolkit") == version
    assert vnfm_runner.__version__ == version
    # no other file restates it
    restated = [
        str(p.relative_to(ROOT))
        for p in (ROOT / "vnfm_runner").rglob("*.py")
        if re.search(r"__version__\s*=\s*['\"]", p.read_text(encoding="utf-8"))
    ]
    assert restated == []


def test_licence_in_the_repository_the_wheel_and_the_collection() -> None:
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in text and "Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text  # the full text, not a pointer
    assert (COLLECTION / "LICENSE").read_text(encoding="utf-8") == text
    project = _pyproject()["project"]
    assert project["license"] == "Apache-2.0"
    assert project["license-files"] == ["LICENSE"]
    assert _galaxy()["license"] == ["Apache-2.0"]


def test_project_urls_are_real_and_agree() -> None:
    galaxy = _galaxy()
    urls = _pyproject()["project"]["urls"]
    assert galaxy["repository"] == urls["Repository"] == PROJECT_URL
    assert galaxy["issues"] == urls["Issues"] == f"{PROJECT_URL}/issues"
    assert galaxy["documentation"] == urls["Documentation"]
    assert galaxy["documentation"].startswith(f"{PROJECT_URL}/")
    for path in (COLLECTION / "galaxy.yml", ROOT / "pyproject.toml"):
        assert "example.invalid" not in path.read_text(encoding="utf-8"), path


def _third_party_imports() -> dict[str, set[str]]:
    """Top-level module -> files importing it, for modules outside the standard library."""
    found: dict[str, set[str]] = {}
    for path in _python_files():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top not in FIRST_PARTY:
                    found.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    return found


def test_every_imported_package_is_declared() -> None:
    declared = {_requirement_name(r) for r in _pyproject()["project"]["dependencies"]}
    distributions = metadata.packages_distributions()
    imports = _third_party_imports()
    assert {"ansible", "cryptography", "pydantic", "starlette"} <= set(imports)
    undeclared = {}
    for module, files in sorted(imports.items()):
        owners = {_canonical(d) for d in distributions.get(module, [])}
        assert owners, f"{module} (imported by {sorted(files)}) is not installed"
        if not owners & declared:
            undeclared[module] = (sorted(owners), sorted(files)[:3])
    assert undeclared == {}, f"imported but not in [project.dependencies]: {undeclared}"


def test_nothing_edits_sys_path() -> None:
    offenders = []
    for path in _python_files():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and node.attr == "path"
                and isinstance(node.value, ast.Name)
                and node.value.id == "sys"
            ):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []


def test_checkout_paths_name_the_content() -> None:
    assert not paths.INSTALLED  # this is a checkout (the wheel: tests/integration)
    assert paths.COLLECTION_DIR == COLLECTION
    assert (paths.COLLECTIONS_DIR / "ansible_collections" / "nfv" / "vnfm") == COLLECTION
    assert (paths.RUNNER_PLAYBOOKS_DIR / "instantiate.yml").is_file()
    assert paths.LOCAL_INVENTORY.is_file()
    assert (paths.EXAMPLES_DIR / "webfarm").is_dir()
    paths.ensure_core_importable()


def _minor(version: str) -> tuple[int, int]:
    major, minor = version.split(".")[:2]
    return int(major), int(minor)


def test_requires_ansible_is_bounded_with_an_ignore_file_per_version() -> None:
    runtime = yaml.safe_load((COLLECTION / "meta" / "runtime.yml").read_text(encoding="utf-8"))
    spec = runtime["requires_ansible"]
    found = re.fullmatch(r">=\s*([\d.]+)\s*,\s*<\s*([\d.]+)", spec)
    assert found, f"requires_ansible {spec!r}: give a lower and an upper bound"
    low, high = _minor(found.group(1)), _minor(found.group(2))
    assert low[0] == high[0] == 2 and low < high
    admitted = {f"2.{m}" for m in range(low[1], high[1])}
    ignores = {p.name[len("ignore-") : -len(".txt")] for p in COLLECTION.glob("tests/sanity/*")}
    assert ignores == admitted, f"sanity ignore files {sorted(ignores)} for {spec}"
    # the runner's own ansible-core requirement admits the same versions
    core = next(r for r in _pyproject()["project"]["dependencies"] if r.startswith("ansible-core"))
    assert core.replace(" ", "") == f"ansible-core>={low[0]}.{low[1]},<{high[0]}.{high[1]}"
