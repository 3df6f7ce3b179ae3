"""What pyproject.toml cannot say: the version from galaxy.yml, the Ansible content as package data.

The wheel carries, besides ``vnfm_runner``:

- the collection as the top-level package ``ansible_collections/nfv/vnfm`` (as the
  ``ansible`` package ships its collections): the runner imports its ``module_utils``
  from there, and ansible-playbook finds it through ``ANSIBLE_COLLECTIONS_PATH``;
- ``vnfm_runner/_content/``: ``playbooks/`` (all of it), ``inventories/`` and
  ``examples/packages/`` (the demo's package); ``vnfm_runner.paths`` looks there.

An editable install copies nothing: ``vnfm_runner.paths`` then uses the checkout.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
COLLECTION = Path("collections", "ansible_collections", "nfv", "vnfm")
# ansible.cfg is not needed: the runner passes the collection path and inventory itself
CONTENT = ("playbooks", "inventories", "examples/packages")
# generated files, and the collection's own tests (ansible-test's business, not the wheel's)
JUNK = shutil.ignore_patterns(
    "__pycache__", "*.py[co]", ".*_cache", ".ansible", "*.tar.gz", ".plugin-cache.yaml"
)


def galaxy_version() -> str:
    """The one version of vnfm-toolkit, ``version:`` in the collection's galaxy.yml."""
    text = (ROOT / COLLECTION / "galaxy.yml").read_text(encoding="utf-8")
    found = re.search(r"^version:\s*['\"]?([0-9][^\s'\"#]*)", text, re.MULTILINE)
    if found is None:
        raise SystemExit(f"{COLLECTION}/galaxy.yml: no version")
    return found.group(1)


def _copy(source: Path, target: Path) -> None:
    if target.exists():  # a previous build's copy: files removed since must not linger
        shutil.rmtree(target) if target.is_dir() else target.unlink()
    target.parent.mkdir(parents=True, exist_ok=True)
    if source.is_dir():
        shutil.copytree(source, target, ignore=JUNK)
    else:
        shutil.copy2(source, target)


class BuildWithContent(build_py):
    """build_py plus the collection and the Ansible content, copied into the build tree."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        lib = Path(self.build_lib)
        collection = lib / "ansible_collections" / "nfv" / "vnfm"
        _copy(ROOT / COLLECTION, collection)
        for junk in ("tests", "changelogs/fragments"):
            shutil.rmtree(collection / junk, ignore_errors=True)
        for name in CONTENT:
            _copy(ROOT / name, lib / "vnfm_runner" / "_content" / name)


setup(version=galaxy_version(), cmdclass={"build_py": BuildWithContent})
