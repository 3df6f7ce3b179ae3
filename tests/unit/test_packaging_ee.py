"""The execution environment definition: ``ansible-builder create`` makes a build context
that installs the collection from this checkout, and ansible-builder's own introspection
finds the collection's Python and system dependencies in it.

No image is built here (no container engine in CI); the context is what ``podman build``
would get, and the two steps that decide the image's content (the galaxy install from
``_build/requirements.yml`` and ``introspect.py``) run for real.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COLLECTION = ROOT / "collections" / "ansible_collections" / "nfv" / "vnfm"
BIN = Path(sys.executable).parent


def _run(*args: str | Path, cwd: Path) -> str:
    proc = subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, timeout=180, cwd=cwd
    )
    assert proc.returncode == 0, f"{args}: exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


@pytest.fixture(scope="module")
def context(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("ee") / "context"
    _run(
        BIN / "ansible-builder",
        "create",
        "-f",
        ROOT / "execution-environment.yml",
        "-c",
        out,
        cwd=ROOT,
    )
    return out


def test_definition_is_schema_3_with_a_python_311_ansible_core() -> None:
    ee = yaml.safe_load((ROOT / "execution-environment.yml").read_text(encoding="utf-8"))
    assert ee["version"] == 3
    deps = ee["dependencies"]
    assert deps["python_interpreter"]["python_path"].endswith("python3.11")
    core = next(
        r for r in _pyproject_dependencies() if r.startswith("ansible-core")
    )  # the same ansible-core as the runner
    assert deps["ansible_core"]["package_pip"] == core


def _pyproject_dependencies() -> list[str]:
    import tomllib

    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return list(data["project"]["dependencies"])


def test_the_context_carries_the_collection(context: Path) -> None:
    assert (context / "Containerfile").is_file() or (context / "Dockerfile").is_file()
    build = context / "_build"
    requirements = yaml.safe_load((build / "requirements.yml").read_text(encoding="utf-8"))
    (entry,) = requirements["collections"]
    assert entry["type"] == "dir"
    source = build / entry["name"]
    for member in (
        "galaxy.yml",
        "LICENSE",
        "meta/execution-environment.yml",
        "requirements.txt",
        "bindep.txt",
        "plugins/modules/vnf_resources.py",
    ):
        assert (source / member).is_file(), member


def test_introspection_finds_the_collection_dependencies(context: Path, tmp_path: Path) -> None:
    build = context / "_build"
    # what the image's galaxy stage runs (--force: a checkout's nfv.vnfm is on sys.path)
    _run(
        BIN / "ansible-galaxy",
        "collection",
        "install",
        "--force",
        "-r",
        "requirements.yml",
        "-p",
        tmp_path,
        cwd=build,
    )
    assert (tmp_path / "ansible_collections" / "nfv" / "vnfm" / "MANIFEST.json").is_file()
    # what the image's builder stage runs
    out = _run(
        sys.executable, build / "scripts" / "introspect.py", "introspect", tmp_path, cwd=tmp_path
    )
    found: dict[str, Any] = yaml.safe_load(out)
    python = " ".join(found["python"])
    system = " ".join(found["system"])
    for name in ("netaddr", "cryptography", "openstacksdk"):
        assert name in python, found
    assert "iproute2 [platform:dpkg]" in system and "iproute [platform:rpm]" in system


def _collection_imports() -> set[str]:
    tops: set[str] = set()
    for path in (COLLECTION / "plugins").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                tops.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                tops.add(node.module.split(".")[0])
    return tops - set(sys.stdlib_module_names) - {"ansible", "ansible_collections", "__future__"}


def test_the_collection_requirements_name_every_import() -> None:
    from importlib.metadata import packages_distributions

    lines = (COLLECTION / "requirements.txt").read_text(encoding="utf-8").splitlines()
    declared = {
        line.split(">")[0].split("=")[0].split("#")[0].strip().lower()
        for line in lines
        if line.strip() and not line.startswith("#")
    }
    owners = packages_distributions()
    missing = {
        module: owners.get(module)
        for module in _collection_imports()
        if not {d.lower() for d in owners.get(module, [])} & declared
    }
    assert missing == {}, f"imported by the collection, not in its requirements.txt: {missing}"
