# Copyright: vnfm-toolkit developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""nfv.vnfm.vnf_plan in the controller's process.

The plan is a pure function of the package (on the controller: the roles plan on
localhost) and the request. As a module, each run paid a Python start (or, under the
runner's warm strategy, the localhost interpreter's start) and the planner's imports
in it: 0.6-1.2 s for 0.05 s of work (issue 17). Here it costs the imports in the task's
worker. Same arguments, checks, result and failures as the module.
"""

from __future__ import annotations

import json
import traceback
from typing import Any

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.plugins.action import ActionBase
from ansible_collections.nfv.vnfm.plugins.module_utils.plan.entry import (
    ARGUMENT_SPEC,
    PlanFailure,
    run_plan,
)


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True

    def run(self, tmp: Any = None, task_vars: Any = None) -> dict[str, Any]:
        result: dict[str, Any] = super().run(tmp, task_vars)
        return self._plan(result)

    def _plan(self, result: dict[str, Any]) -> dict[str, Any]:
        # The arguments as a module receives them (plain JSON types), so the planner
        # sees the same input either way.
        args = json.loads(json.dumps(self._task.args))
        checked = ArgumentSpecValidator(ARGUMENT_SPEC).validate(args)
        if checked.error_messages:
            result.update(failed=True, msg="; ".join(checked.error_messages))
            return result
        try:
            planned = run_plan(checked.validated_parameters)
        except PlanFailure as exc:
            result.update(failed=True, msg=str(exc))
            return result
        except Exception as exc:  # what a module would die of: its cause and traceback
            result.update(
                failed=True, msg=f"{type(exc).__name__}: {exc}", exception=traceback.format_exc()
            )
            return result
        # ... and the result as the module's JSON would carry it back.
        result.update(json.loads(json.dumps(planned)), changed=False)
        return result
