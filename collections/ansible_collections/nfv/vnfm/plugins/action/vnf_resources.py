# Copyright: vnfm-toolkit developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""nfv.vnfm.vnf_resources in the controller's process, when its task runs there.

Every VIM driver works from the controller (``module_utils/vim/entry.py`` says why), and
this task is the only one of a lifecycle operation that needed a Python on localhost:
stock Ansible started one for it (0.6-0.9 s on a small machine), the runner's warm
strategy started the controller's interpreter for it (0.3-0.5 s). Here it costs the
driver's imports in the task's worker (issue 17). Same arguments, checks, result and
failures as the module (``plugin_utils/in_process.py``).

A task that runs on another host (a delegation elsewhere, another connection) or with
``become`` runs the module there, as usual.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from ansible.plugins.action import ActionBase
from ansible_collections.nfv.vnfm.plugins.module_utils.vim import VimError
from ansible_collections.nfv.vnfm.plugins.module_utils.vim.entry import (
    ARGUMENT_SPEC,
    REQUIRED_IF,
    ResourcesFailure,
    run_resources,
)
from ansible_collections.nfv.vnfm.plugins.plugin_utils.in_process import run_as_module

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
        entry = partial(
            run_resources, check_mode=bool(self._task.check_mode), diff=bool(self._task.diff)
        )
        result.update(
            run_as_module(
                self._task.args,
                ARGUMENT_SPEC,
                entry,
                (ResourcesFailure, VimError),
                required_if=REQUIRED_IF,
            )
        )
        return result
