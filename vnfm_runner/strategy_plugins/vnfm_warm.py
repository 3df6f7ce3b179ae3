"""``vnfm_warm``: Ansible's linear strategy with Mitogen's persistent interpreters.

Stock Ansible starts a new Python for every task and unpacks the module into it: about
0.2-0.3 s a task on a small machine, most of an operation's time (issue 17). Under
Mitogen one interpreter per target (the controller, each VNFC) lives for the whole run
and runs every module in-process, with its imports warm. The runner selects this
strategy for the playbooks it runs when Mitogen is installed and
``VNFM_WARM_INTERPRETERS`` is not 0; ansible-playbook and AWX runs keep Ansible's own.

What this strategy changes in Mitogen:

- a VNFC of the local VIM is a network namespace of this host: its Python must start
  inside it (clean environment, cgroup joined, ``ip netns exec``). The VNFC's host
  variable ``vnfm_warm_python`` (set by the ``vnfc_hosts`` filter) holds that argv;
  ``ansible_python_interpreter`` stays a plain Python, as hooks may run scripts with it;
- every interpreter Mitogen starts here gets ``PYTHONPATH`` naming the controller's
  imports, so it loads Ansible and the collection from disk with their bytecode caches;
- Mitogen's CPU placement is off: on a machine of 2-3 CPUs it pins every worker and
  every process they start to one CPU, daemons started by hooks included;
- only ``local`` connections (the controller, local-VIM VNFCs) go through Mitogen:
  ssh to OpenStack servers and the container VIMs' connections keep Ansible's own
  plugins (ssh has ControlPersist and pipelining; nothing else here was tested warm);
- a ``raw`` task on a VNFC of the local VIM runs through ``nfv.vnfm.netns``, as in a
  cold run: it needs no Python there, and its command costs a few milliseconds, while
  a VNFC's first warm task waits for an interpreter to start in it (0.3-0.5 s). A hook
  made only of ``raw`` tasks never starts one;
- Mitogen's multiplexers start with the first task that may reach a target through
  Mitogen, not with the run: starting them forks one process per CPU and waits for
  each (about 0.2 s, and as much again to stop them at exit). A run whose tasks all
  run in the controller's worker (``set_fact``, ``add_host``, this collection's
  ``vnf_plan`` and ``vnf_resources``...) or as ``raw`` commands in VNFCs, as webfarm's
  operations do, never pays for them.

And outside Mitogen: the templates and collection modules a run compiles are kept on disk
for the workers and runs that follow (compile_cache.py), when the runner names a directory.
"""

from __future__ import annotations

import os
from typing import Any

from ansible.utils.display import Display
from ansible_collections.nfv.vnfm.plugins.module_utils.lcm_context import (
    WARM_MARK,
    WARM_PYTHON_VAR,
)
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._local import vnfc_exec

from vnfm_runner import compile_cache
from vnfm_runner.warm_choices import MITOGEN_CONNECTIONS, cold_vars, defer_import, needs_mitogen

# ansible_mitogen.planner imports ansible.collections.list when it loads, and with it the
# whole ansible-galaxy CLI (0.1 s of every warm run); it calls it only to run a module
# of a collection, which most runs of the runner never do.
defer_import("ansible.collections.list")

# Mitogen after it (E402)
import ansible_mitogen.affinity  # noqa: E402
import ansible_mitogen.loaders  # noqa: E402
import ansible_mitogen.process  # noqa: E402
import ansible_mitogen.services  # noqa: E402
import ansible_mitogen.strategy  # noqa: E402
import ansible_mitogen.transport_config as transport_config  # noqa: E402

ansible_mitogen.affinity.policy = ansible_mitogen.affinity.Policy()
ansible_mitogen.strategy.REDIRECTED_CONNECTION_PLUGINS = MITOGEN_CONNECTIONS

compile_cache.install_from_environment()

_python_path = transport_config.PlayContextSpec.python_path
# The controller's Python imports Ansible and the collection from its own disk in the
# interpreters Mitogen starts (vnfc_exec.import_path says why); the controller's own
# PYTHONPATH follows, as a cold run's module process inherits it.
_IMPORT_PATH = os.pathsep.join(
    p for p in (vnfc_exec.import_path(), os.environ.get("PYTHONPATH", "")) if p
)


def _vnfc_python_path(self: Any, rediscover_python: bool = False) -> Any:
    """The VNFC's own argv when its host has one (the delegated host's, as Mitogen reads
    the interpreter); otherwise Mitogen's answer."""
    variables = self._task_vars
    delegated = variables.get("ansible_delegated_vars")
    if delegated and self._connection.delegate_to_hostname in delegated:
        variables = delegated[self._connection.delegate_to_hostname]
    argv = variables.get(WARM_PYTHON_VAR)
    if isinstance(argv, list) and argv and all(isinstance(a, str) for a in argv):
        return [str(a) for a in argv]
    return ["/usr/bin/env", f"PYTHONPATH={_IMPORT_PATH}", *_python_path(self, rediscover_python)]


transport_config.PlayContextSpec.python_path = _vnfc_python_path


def _no_forwards(self: Any, context: Any) -> None:
    """Mitogen pushes Ansible's module_utils to every new interpreter, as source to be
    compiled there; ours import them from this host's disk (PYTHONPATH), with bytecode."""


_setup_responder = ansible_mitogen.process._setup_responder


def _local_imports(responder: Any) -> None:
    """Mitogen makes every interpreter fetch Ansible, the collections and itself from the
    controller (to match its versions on a remote host); ours run on the controller's
    host, from its files: they import them there."""
    _setup_responder(responder)
    responder.policy.overrides.difference_update(
        {"ansible", "ansible_collections", "ansible_mitogen"}
    )


ansible_mitogen.services.ContextService._send_module_forwards = _no_forwards
ansible_mitogen.process._setup_responder = _local_imports
setattr(transport_config, WARM_MARK, WARM_PYTHON_VAR)

display = Display()
_Linear = ansible_mitogen.loaders.strategy_loader.get("linear", class_only=True)


class _LazyWorkerModel(ansible_mitogen.process.WorkerModel):  # type: ignore[misc]
    """Mitogen's classic worker model (its multiplexer processes), started in the
    top-level process by the first task that may need it (:func:`needs_mitogen`), before
    that task's worker forks: workers inherit it, as they do when Mitogen starts it with
    the play."""

    def __init__(self) -> None:
        self._model: Any = None

    @property
    def started(self) -> bool:
        return self._model is not None

    def start(self, why: str) -> Any:
        if self._model is None:
            display.vvv(f"vnfm_warm: starting Mitogen's multiplexers for {why}")
            self._model = ansible_mitogen.process.get_classic_worker_model()
        return self._model

    def on_strategy_start(self) -> None:
        if self._model is not None:
            self._model.on_strategy_start()

    def on_strategy_complete(self) -> None:
        if self._model is not None:
            self._model.on_strategy_complete()

    def get_binding(self, inventory_name: str) -> Any:
        # in a worker only if needs_mitogen() said no to a task that connects: start
        # it there rather than fail (its processes then live as long as that worker)
        return self.start(f"host {inventory_name}").get_binding(inventory_name)


_WORKER_MODEL = _LazyWorkerModel()


class StrategyModule(ansible_mitogen.strategy.StrategyMixin, _Linear):  # type: ignore[misc,valid-type]
    """Linear, with Mitogen's connections and in-process module execution."""

    def _get_worker_model(self) -> Any:
        return _WORKER_MODEL

    def _queue_task(self, host: Any, task: Any, task_vars: Any, play_context: Any) -> Any:
        action = str(getattr(task, "resolved_action", None) or task.action)
        task_vars = cold_vars(action, task_vars, task.delegate_to is not None)
        if not _WORKER_MODEL.started and needs_mitogen(action, task_vars, task, self._loader):
            _WORKER_MODEL.start(f"task {task.get_name()!r} on {host.name}")
        return super()._queue_task(host, task, task_vars, play_context)
