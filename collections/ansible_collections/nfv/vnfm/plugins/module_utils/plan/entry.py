# Copyright: vnfm-toolkit developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""What ``nfv.vnfm.vnf_plan`` takes and does, shared by the module and its action plugin.

The plan is a pure function of the package and the request, so the action plugin
(``plugins/action/vnf_plan.py``) runs it in the controller's own process: no module
to ship, no interpreter to start for it (issue 17). The module stays for its
documentation and for callers that run it as a module.
"""

from __future__ import annotations

from typing import Any

from ansible_collections.nfv.vnfm.plugins.module_utils.errors import PackageError, PlanError
from ansible_collections.nfv.vnfm.plugins.module_utils.operations import Operation
from ansible_collections.nfv.vnfm.plugins.module_utils.plan.decide import decide_plan

# (without PyYAML or netaddr, the reader and the planner fail with a message of their own)
from ansible_collections.nfv.vnfm.plugins.module_utils.vnfd.loader import load_vnf

# The operations whose next desired state this module decides: the operation table's, but
# TERMINATE (its desired state is empty). The module's DOCUMENTATION lists them too, checked
# against the table by tests/unit/test_operation_table.py (and against this spec by
# validate-modules).
PLANNED = tuple(str(op) for op in Operation if op is not Operation.TERMINATE)

ARGUMENT_SPEC: dict[str, dict[str, Any]] = dict(
    package=dict(type="path", required=True),
    vnf_instance_id=dict(type="str", required=True),
    operation=dict(type="str", default="INSTANTIATE", choices=list(PLANNED)),
    request=dict(type="dict"),
    current_plan=dict(type="dict"),
    current_package=dict(type="path"),
    flavour_id=dict(type="str"),
    instantiation_level_id=dict(type="str"),
    aspect_levels=dict(type="dict"),
    ext_virtual_links=dict(type="list", elements="dict", default=[]),
    vim_mapping=dict(type="dict", default={}),
    resources=dict(type="dict"),
)


class PlanFailure(Exception):
    """The one-line message the task fails with."""


def run_plan(params: dict[str, Any]) -> dict[str, Any]:
    """The module's result (without ``changed``) for validated ``params``."""
    request = params["request"]
    if request is None:
        if not params["flavour_id"]:
            raise PlanFailure("flavour_id (or request) is required")
        levels = params["aspect_levels"]
        request = {
            "flavourId": params["flavour_id"],
            "instantiationLevelId": params["instantiation_level_id"],
            "scaleLevels": {str(k): v for k, v in levels.items()} if levels else None,
            "extVirtualLinks": params["ext_virtual_links"],
        }
    try:
        model, _warnings = load_vnf(params["package"])
        current_model = None
        if params["operation"] == "CHANGE_VNFPKG":
            if not params["current_package"]:
                raise PlanFailure("operation CHANGE_VNFPKG needs current_package")
            current_model, _warnings = load_vnf(params["current_package"])
        result, decision, delta = decide_plan(
            model,
            params["vnf_instance_id"],
            params["operation"],
            request,
            params["current_plan"],
            vim_mapping=params["vim_mapping"],
            current_model=current_model,
            package_dir=params["package"],
            resources=params["resources"],
        )
    except PackageError as exc:
        raise PlanFailure("invalid VNF package:\n" + str(exc)) from exc
    except (PlanError, ValueError, TypeError) as exc:
        raise PlanFailure("cannot plan: " + str(exc)) from exc
    return {
        "plan": result,
        "heal": decision.heal,
        "vnfc_changes": delta,
        "rolling": decision.rolling,
    }
