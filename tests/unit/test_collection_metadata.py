"""The collection's metadata agrees with its content.

``meta/runtime.yml`` declares the action group ``nfv.vnfm.vnfm`` (for
``module_defaults``); it must list exactly the modules that exist, and
``galaxy.yml`` must name the collection that the directory layout says it is.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

COLLECTION = (
    Path(__file__).resolve().parents[2] / "collections" / "ansible_collections" / "nfv" / "vnfm"
)


def _load(name: str) -> dict[str, Any]:
    data = yaml.safe_load((COLLECTION / name).read_text(encoding="utf-8"))
    assert isinstance(data, dict), f"{name} is not a mapping"
    return data


def test_action_group_lists_exactly_the_modules() -> None:
    modules = {
        p.stem for p in (COLLECTION / "plugins" / "modules").glob("*.py") if p.stem != "__init__"
    }
    group = _load("meta/runtime.yml")["action_groups"]["vnfm"]
    assert len(group) == len(set(group)), f"duplicates in action_groups.vnfm: {group}"
    assert set(group) == modules


def test_galaxy_yml_names_the_collection() -> None:
    galaxy = _load("galaxy.yml")
    assert (galaxy["namespace"], galaxy["name"]) == ("nfv", "vnfm")
    assert isinstance(galaxy["version"], str) and galaxy["version"]
    assert (COLLECTION / galaxy["readme"]).is_file()


def test_requires_ansible_is_the_tested_version() -> None:
    # requires_ansible names the ansible-core we test with: the sanity ignore file of
    # that version exists and the installed ansible-core is at least that version.
    from ansible.release import __version__ as ansible_version

    spec = _load("meta/runtime.yml")["requires_ansible"]
    assert spec.startswith(">="), spec
    major, minor = (int(x) for x in spec[2:].split(".")[:2])
    assert (COLLECTION / "tests" / "sanity" / f"ignore-{major}.{minor}.txt").is_file()
    installed = tuple(int(x) for x in ansible_version.split(".")[:2])
    assert installed >= (major, minor), f"ansible-core {ansible_version} < {spec}"
