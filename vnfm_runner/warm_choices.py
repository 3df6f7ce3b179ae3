"""What the runner's ``vnfm_warm`` strategy decides per task, before the task's worker
forks (``strategy_plugins/vnfm_warm.py``): whether the task may need Mitogen (its
multiplexers start with the first such task), and whether a ``raw`` task goes back to
its VNFC's namespace connection; and the deferred import it puts in front of Mitogen's
(:func:`defer_import`). Without Mitogen's import or patches, so that tests can import it."""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any

from ansible.template import Templar
from ansible_collections.nfv.vnfm.plugins.module_utils.lcm_context import (
    NETNS_CONNECTION,
    WARM_PYTHON_VAR,
)

# The connections Mitogen takes over under vnfm_warm (the strategy sets it as Mitogen's).
MITOGEN_CONNECTIONS = ("local",)

# Actions that run a command on the target without a Python there.
_NO_PYTHON_ACTIONS = frozenset({"raw", "ansible.builtin.raw", "ansible.legacy.raw"})


def cold_vars(action: str, task_vars: dict[str, Any], delegated: bool) -> dict[str, Any]:
    """The variables a task runs with: a ``raw`` task on a warm local-VIM VNFC gets its
    namespace connection back (the host's own ``vnfm_netns``); anything else is as is."""
    if delegated or action not in _NO_PYTHON_ACTIONS or WARM_PYTHON_VAR not in task_vars:
        return task_vars
    if not task_vars.get("vnfm_netns"):
        return task_vars
    return {**task_vars, "ansible_connection": NETNS_CONNECTION}


# Actions that run in the task's worker on the controller and open no connection.
_CONTROLLER_ACTIONS = frozenset(
    f"{prefix}{name}"
    for prefix in ("", "ansible.builtin.", "ansible.legacy.")
    for name in [
        "set_fact",
        "add_host",
        "group_by",
        "set_stats",
        "debug",
        "assert",
        "fail",
        "pause",
        "include_vars",
        "include_tasks",
        "include_role",
        "validate_argument_spec",
    ]
) | {"nfv.vnfm.vnf_plan"}
# In the worker too when the task's connection is local and without become (else they
# run their module on the target: plugins/action/vnf_resources.py).
_LOCAL_ACTIONS = frozenset({"nfv.vnfm.vnf_resources"})


def needs_mitogen(action: str, task_vars: dict[str, Any], task: Any, loader: Any) -> bool:
    """Whether a task may open a Mitogen connection: anything but an action that runs in
    the controller's worker, or a task on a connection Mitogen does not take over.
    Unsure (a templated connection, a delegation) counts as yes."""
    if action in _CONTROLLER_ACTIONS:
        return False
    if task.delegate_to is not None:
        return True
    connection = task_vars.get("ansible_connection", task.connection)
    if not isinstance(connection, str) or "{{" in connection:
        return True
    if connection not in MITOGEN_CONNECTIONS:
        return False
    become = task_vars.get("ansible_become", task.become)
    if action in _LOCAL_ACTIONS and become is False:
        return False
    return not _skipped(task, task_vars, loader)


def _skipped(task: Any, task_vars: dict[str, Any], loader: Any) -> bool:
    """Whether the task's ``when`` is false now (the worker decides again): a skipped
    module task needs no interpreter. A loop decides per item, an error decides nothing."""
    if not task.when or task.loop is not None or task.loop_with:
        return False
    try:
        templar = Templar(loader=loader, variables=task_vars)
        return not all(templar.evaluate_conditional(c) for c in task.when)
    except Exception:  # the worker reports it; here it only means "unsure"
        return False


class Deferred(types.ModuleType):
    """Stands in ``sys.modules`` for a module until one of its names is read; then the
    module itself is imported (once) and answers."""

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__"):  # probes of every module (inspect, Mitogen) load nothing
            raise AttributeError(attr)
        name = self.__name__
        if sys.modules.get(name) is self:
            del sys.modules[name]
        module = importlib.import_module(name)
        parent, _, child = name.rpartition(".")
        if parent:
            setattr(sys.modules[parent], child, module)
        return getattr(module, attr)


def defer_import(name: str) -> None:
    if name not in sys.modules:
        parent, _, child = name.rpartition(".")
        importlib.import_module(parent)
        sys.modules[name] = Deferred(name)
        setattr(sys.modules[parent], child, sys.modules[name])
