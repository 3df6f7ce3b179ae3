# Copyright: vnfm-toolkit developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""What ``nfv.vnfm.vnf_resources`` takes and does, shared by the module and its action
plugin.

The VIMs this collection drives are reached from the controller (the local VIM is the
controller's own network namespaces; OpenStack, podman and Kubernetes are APIs), so the
action plugin (``plugins/action/vnf_resources.py``) runs the driver in the task's
worker on the controller: no module to ship and no interpreter to start for it, the
first and often the only localhost module of an operation (issue 17). The module stays
for its documentation and for a task run elsewhere.
"""

from __future__ import annotations

from typing import Any

from ansible_collections.nfv.vnfm.plugins.module_utils.vim import get_driver

ARGUMENT_SPEC: dict[str, dict[str, Any]] = {
    "heal": {"type": "list", "elements": "str", "default": []},
    "heal_token": {"type": "str", "no_log": False},
    "package_dir": {"type": "path"},
    "plan": {"type": "dict"},
    "state": {"type": "str", "choices": ["absent", "present"], "default": "present"},
    "timeout": {"type": "int", "default": 300},
    "vim": {"type": "dict", "required": True},
    "vim_credentials": {"type": "dict", "no_log": True},
    "vnf_instance_id": {"type": "str"},
    "wait": {"type": "bool", "default": True},
}
REQUIRED_IF: list[Any] = [("state", "present", ("plan",))]


class ResourcesFailure(Exception):
    """The one-line message the task fails with (a request the module refuses)."""


def run_resources(params: dict[str, Any], check_mode: bool, diff: bool) -> dict[str, Any]:
    """The module's result for validated ``params`` (VimError passes through)."""
    plan = params["plan"]
    instance_id = params["vnf_instance_id"]
    if plan is not None and instance_id and plan.get("vnfInstanceId") != instance_id:
        raise ResourcesFailure("vnf_instance_id and plan.vnfInstanceId differ")
    driver = get_driver(
        params["vim"],
        params["vim_credentials"],
        wait=params["wait"],
        timeout=params["timeout"],
        package_dir=params["package_dir"] or None,
    )
    if params["state"] == "absent":
        instance_id = instance_id or (plan or {}).get("vnfInstanceId")
        if not instance_id:
            raise ResourcesFailure("state=absent needs vnf_instance_id (or a plan)")
        result = driver.remove(str(instance_id), check_mode=check_mode)
    else:
        result = driver.reconcile(
            plan,
            heal=list(params["heal"]),
            check_mode=check_mode,
            heal_token=params["heal_token"] or None,
        )
    out: dict[str, Any] = {
        "changed": result.changed,
        "actions": result.actions,
        "resources": result.resources,
        "created_vnfcs": result.created,
    }
    if diff:
        out["diff"] = result.diff
    return out
