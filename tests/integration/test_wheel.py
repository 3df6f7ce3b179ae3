"""The wheel and the collection tarball, built from this checkout and used outside it.

A fresh virtualenv in a temporary directory gets ``pip install vnfm_toolkit-*.whl`` (a real
install: the dependencies come from the index or pip's cache) and, from a working
directory outside the checkout and with no ``ANSIBLE_COLLECTIONS_PATH``/``PYTHONPATH``
pointing back at it, its ``vnfm`` validates and onboards webfarm and runs ``vnfm demo``
(instantiate on the local VIM, traffic, the closed loop's heal, terminate). CI runs this
file as its own step of scripts/test.sh.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tarfile
import time
import venv
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.integration.conftest import cleanup_instance, have_ip, privileged

ROOT = Path(__file__).resolve().parents[2]
COLLECTION = ROOT / "collections" / "ansible_collections" / "nfv" / "vnfm"
JUNK = re.compile(r"(^|/)(__pycache__|\.[a-z_]*cache|tests/output)(/|$)|\.py[co]$")
PIP_TIMEOUT = 300


@dataclass
class Built:
    wheel: Path
    tarball: Path


def _run(*args: str | Path, timeout: float = PIP_TIMEOUT, **kw: object) -> str:
    proc = subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, timeout=timeout, **kw
    )  # type: ignore[call-overload]
    assert proc.returncode == 0, f"{args}: exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return str(proc.stdout)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    dist = tmp_path_factory.mktemp("dist")
    _run(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", dist, ROOT)
    galaxy = Path(sys.executable).parent / "ansible-galaxy"
    _run(galaxy, "collection", "build", COLLECTION, "--output-path", dist, "--force")
    (wheel,) = dist.glob("vnfm_toolkit-*.whl")
    (tarball,) = dist.glob("nfv-vnfm-*.tar.gz")
    return Built(wheel, tarball)


def _content_files(top: Path) -> set[str]:
    return {
        p.relative_to(top).as_posix()
        for p in top.rglob("*")
        if p.is_file() and not JUNK.search(p.relative_to(top).as_posix())
    }


def test_the_wheel_carries_the_collection_and_the_content(built: Built) -> None:
    names = set(zipfile.ZipFile(built.wheel).namelist())
    assert not [n for n in names if JUNK.search(n)]
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    # the collection, importable as ansible_collections.nfv.vnfm, without its tests
    for member in ("LICENSE", "galaxy.yml", "meta/runtime.yml", "plugins/modules/vnf_resources.py"):
        assert f"ansible_collections/nfv/vnfm/{member}" in names
    assert not [n for n in names if n.startswith("ansible_collections/nfv/vnfm/tests/")]
    # every file of playbooks/ (recursively), inventories/ and the example packages
    for top in ("playbooks", "inventories", "examples/packages"):
        missing = {
            f for f in _content_files(ROOT / top) if f"vnfm_runner/_content/{top}/{f}" not in names
        }
        assert missing == set(), f"{top}: not in the wheel"
    meta = zipfile.ZipFile(built.wheel).read(
        next(n for n in names if n.endswith(".dist-info/METADATA"))
    )
    assert b"License-Expression: Apache-2.0" in meta
    assert b"Requires-Dist: cryptography" in meta


def test_the_collection_tarball_carries_licence_and_metadata(built: Built) -> None:
    with tarfile.open(built.tarball) as tar:
        names = set(tar.getnames())
        manifest = json.load(tar.extractfile("MANIFEST.json"))  # type: ignore[arg-type]
    assert "LICENSE" in names
    info = manifest["collection_info"]
    assert info["license"] == ["Apache-2.0"]
    for key in ("repository", "documentation", "issues", "homepage"):
        assert info[key].startswith("https://github.com/vnfm-toolkit/vnfm-toolkit"), key


@pytest.fixture(scope="module")
def installed(built: Built, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A virtualenv outside the checkout with the wheel installed; yields its bin/."""
    home = tmp_path_factory.mktemp("wheel-venv")
    venv.create(home / "venv", with_pip=True)
    bin_dir = home / "venv" / "bin"
    started = time.monotonic()
    # --no-compile: byte-compiling ansible-core and the rest would double the install's CPU
    _run(bin_dir / "pip", "install", "-q", "--no-compile", built.wheel, cwd=home)
    print(f"wheel install: {time.monotonic() - started:.1f}s")
    yield bin_dir


def _outside_env(tmp: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "ANSIBLE_COLLECTIONS_PATH", "ANSIBLE_CONFIG", "VIRTUAL_ENV")
    }
    env["VNFM_HOME"] = str(tmp / "home")
    return env


def test_the_installed_wheel_finds_its_own_content(installed: Path, tmp_path: Path) -> None:
    probe = (
        "import json, ansible_collections.nfv.vnfm as c, vnfm_runner, vnfm_runner.paths as p;"
        "print(json.dumps([vnfm_runner.__version__, p.INSTALLED, str(p.COLLECTIONS_DIR),"
        " str(p.RUNNER_PLAYBOOKS_DIR), list(c.__path__)]))"
    )
    out = _run(installed / "python", "-c", probe, cwd=tmp_path, env=_outside_env(tmp_path))
    version, is_installed, collections, playbooks, collection_path = json.loads(out)
    venv_dir = installed.parent
    assert is_installed is True
    galaxy = (COLLECTION / "galaxy.yml").read_text(encoding="utf-8")
    assert f"\nversion: {version}\n" in galaxy
    for where in (collections, playbooks, *collection_path):
        assert Path(where).is_relative_to(venv_dir), where
        assert not Path(where).is_relative_to(ROOT), where


@pytest.mark.root
@pytest.mark.skipif(not (privileged() and have_ip()), reason="the local VIM needs root and ip")
def test_the_installed_vnfm_runs_the_demo(installed: Path, tmp_path: Path) -> None:
    env = _outside_env(tmp_path)
    vnfm = installed / "vnfm"
    # (cwd matters: python -c puts it first on sys.path, the checkout's vnfm_runner would win)
    probe = "import vnfm_runner.paths as p; print(p.EXAMPLES_DIR)"
    examples = _run(installed / "python", "-c", probe, cwd=tmp_path, env=env)
    webfarm = Path(examples.strip()) / "webfarm"
    assert webfarm.is_relative_to(installed.parent)
    _run(vnfm, "package", "validate", webfarm, cwd=tmp_path, env=env)
    _run(vnfm, "package", "onboard", webfarm, cwd=tmp_path, env=env)
    started = time.monotonic()
    proc = subprocess.run(
        [str(vnfm), "demo", "-q"],
        capture_output=True,
        text=True,
        timeout=420,
        cwd=tmp_path,
        env=env,
    )
    took = time.monotonic() - started
    instance = re.search(r"instance ([0-9a-f-]{36})", proc.stdout)
    if proc.returncode != 0 and instance:
        cleanup_instance(instance[1])
    assert proc.returncode == 0, f"{proc.stdout}\n{proc.stderr}"
    assert "nothing of" in proc.stdout and "remains" in proc.stdout
    print(f"demo from the wheel: {took:.1f}s")
