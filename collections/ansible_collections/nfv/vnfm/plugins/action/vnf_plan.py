# Copyright: vnfm-toolkit developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""nfv.vnfm.vnf_plan in the controller's process.

The plan is a pure function of the package (on the controller: the roles plan on
localhost) and the request. As a module, each run paid a Python start (or, under the
runner's warm strategy, the localhost interpreter's start) and the planner's imports
in it: 0.6-1.2 s for 0.05 s of work (issue 17). Here it costs the imports in the task's
worker. Same arguments, checks, result and failures as the module
(``plugin_utils/in_process.py``).
"""

from __future__ import annotations

from typing import Any

from ansible.plugins.action import ActionBase
from ansible_collections.nfv.vnfm.plugins.module_utils.plan.entry import (
    ARGUMENT_SPEC,
    PlanFailure,
    run_plan,
)
from ansible_collections.nfv.vnfm.plugins.plugin_utils.in_process import run_as_module


def _plan(params: dict[str, Any]) -> dict[str, Any]:
    return {**run_plan(params), "changed": False}


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True

    def run(self, tmp: Any = None, task_vars: Any = None) -> dict[str, Any]:
        result: dict[str, Any] = super().run(tmp, task_vars)
        result.update(run_as_module(self._task.args, ARGUMENT_SPEC, _plan, (PlanFailure,)))
        return result
