"""Which playbooks of the VNF package run as lifecycle hooks, and whether any do."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vnfm_runner.core import VnfModel
from vnfm_runner.paths import RUNNER_PLAYBOOKS_DIR


def hook_playbooks(
    model: VnfModel, flavour_id: str, names: list[str], enabled: bool, package_dir: str
) -> dict[str, str]:
    """Hook name -> playbook: the package's own where the flavour has one, else a no-op."""
    hooks = {name: str(RUNNER_PLAYBOOKS_DIR / "hooks" / "noop.yml") for name in names}
    flavour = model.flavour(flavour_id)
    if not enabled or flavour is None:
        return hooks
    for name in names:
        op = flavour.operation(name)
        if op is not None and op.artifact_file and op.artifact_file.endswith((".yml", ".yaml")):
            hooks[name] = str(Path(package_dir) / op.artifact_file)
    return hooks


def package_hooks(hooks: dict[str, str]) -> dict[str, str]:
    """The hooks the package itself gives, for a playbook's ``vnfm_hooks``: the runner's
    playbooks import their own no-op for a missing one, and build the inventory a start
    hook reads only when one runs (issue 17)."""
    noop = str(RUNNER_PLAYBOOKS_DIR / "hooks" / "noop.yml")
    return {name: path for name, path in hooks.items() if path != noop}


def hooks_enabled(request: dict[str, Any], instance_doc: dict[str, Any] | None = None) -> bool:
    """A request's additionalParams.vnfm_hooks, else what the instantiation chose.

    A VNF instantiated with vnfm_hooks false (a VIM without a data plane, such as
    the test bed) keeps running no hooks until a request asks for them.
    """
    params = request.get("additionalParams") or {}
    if "vnfm_hooks" in params:
        return params["vnfm_hooks"] is not False
    return ((instance_doc or {}).get("extensions") or {}).get("vnfmHooks", True) is not False


def plan_flavour(plan: dict[str, Any]) -> str:
    """The flavour of a saved desired state (a package change keeps it under inputs)."""
    return str((plan.get("inputs") or {}).get("flavourId") or plan.get("flavourId"))
