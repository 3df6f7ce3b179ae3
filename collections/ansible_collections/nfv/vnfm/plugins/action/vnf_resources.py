# Copyright: vnfm-toolkit developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""nfv.vnfm.vnf_resources in the controller's process, when its task runs there.

Every VIM driver works from the controller (``module_utils/vim/entry.py`` says why), and
this task is the only one of a lifecycle operation that needed a Python on localhost:
stock Ansible started one for it (0.6-0.9 s on a small machine), the runner's warm
strategy started the controller's interpreter for it (0.3-0.5 s). Here it costs the
driver's imports in the task's worker (issue 17). Same arguments, checks, result and
failures as the module; an unexpected exception fails the task with its traceback in
``exception``, as a module's would.

A task that runs on another host (a delegation elsewhere, another connection) or with
``become`` runs the module there, as usual.
"""

from __future__ import annotations

import json
import traceback
from typing import Any

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.parameters import remove_values
from ansible.plugins.action import ActionBase
from ansible_collections.nfv.vnfm.plugins.module_utils.vim import VimError
from ansible_collections.nfv.vnfm.plugins.module_utils.vim.entry import (
    ARGUMENT_SPEC,
    REQUIRED_IF,
    ResourcesFailure,
    run_resources,
)

# Connections whose target is this host's own user: stock Ansible's and Mitogen's.
_CONTROLLER = ("local", "ansible.builtin.local", "mitogen_local")


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _supports_check_mode = True

    def _on_controller(self) -> bool:
        transport = str(getattr(self._connection, "transport", ""))
        return transport in _CONTROLLER and not self._play_context.become

    def run(self, tmp: Any = None, task_vars: Any = None) -> dict[str, Any]:
        if not self._on_controller():
            return dict(self._execute_module(task_vars=task_vars, wrap_async=self._task.async_val))
        result: dict[str, Any] = super().run(tmp, task_vars)
        # The arguments as a module receives them (plain JSON types).
        args = json.loads(json.dumps(self._task.args))
        checked = ArgumentSpecValidator(ARGUMENT_SPEC, required_if=REQUIRED_IF).validate(args)
        if checked.error_messages:
            result.update(failed=True, msg="; ".join(checked.error_messages))
            return result
        secrets = checked._no_log_values
        try:
            done = run_resources(
                checked.validated_parameters,
                check_mode=bool(self._task.check_mode),
                diff=bool(self._task.diff),
            )
        except (ResourcesFailure, VimError) as exc:
            result.update(failed=True, changed=False, msg=str(exc))
        except Exception as exc:  # what a module would die of: its cause and traceback
            result.update(
                failed=True,
                changed=False,
                msg=f"{type(exc).__name__}: {exc}",
                exception=traceback.format_exc(),
            )
        else:
            # ... and the result as the module's JSON would carry it back.
            result.update(json.loads(json.dumps(done)))
        cleaned: dict[str, Any] = remove_values(result, secrets)
        return cleaned
