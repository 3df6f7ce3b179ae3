"""Internal errors are never mute (issue 15, item 3).

A failure is injected *inside the local VIM driver* during an instantiate (the driver runs
in ansible-playbook's worker on the controller, or in a module's process elsewhere): a
``sitecustomize.py`` on the CLI's ``PYTHONPATH`` (ansible-runner hands the environment
down to ansible-playbook and the interpreters it starts) installs an import hook that
replaces ``_local.apply.create_vnfcs`` with a function raising
``RuntimeError("injected driver failure")`` as soon as that module is imported, from the
checkout or from the AnsiballZ payload. The operation must carry a one-line cause naming
the exception and its origin, ``vnfm op logs`` the traceback, and the VNF must roll back
clean.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

from tests.integration.conftest import (
    CLI_TIMEOUT,
    REPO_ROOT,
    WEBFARM,
    Lifecycle,
    leftovers,
    requires_root,
)

pytestmark = requires_root

MESSAGE = "injected driver failure"
TARGET = "ansible_collections.nfv.vnfm.plugins.module_utils.vim._local.apply"

# Runs at the start of every Python process of the CLI's tree; only a process that imports
# the driver's apply module gets the failing function, and a marker file proves it did.
SITECUSTOMIZE = textwrap.dedent(
    f'''
    """Test hook: make the local VIM driver fail inside the module's process."""
    import importlib.abc
    import os
    import sys

    TARGET = {TARGET!r}


    def _failing(*args, **kwargs):
        raise RuntimeError({MESSAGE!r})


    class _Loader(importlib.abc.Loader):
        def __init__(self, inner):
            self.inner = inner

        def create_module(self, spec):
            return self.inner.create_module(spec)

        def exec_module(self, module):
            self.inner.exec_module(module)
            module.create_vnfcs = _failing
            with open(os.environ["INJECTED_DRIVER_MARKER"], "a") as out:
                out.write(f"{{os.getpid()}} {{module.__file__}}\\n")


    class _Finder(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path, target=None):
            if name != TARGET:
                return None
            for finder in sys.meta_path:
                if finder is self or not hasattr(finder, "find_spec"):
                    continue
                spec = finder.find_spec(name, path, target)
                if spec is not None and spec.loader is not None:
                    spec.loader = _Loader(spec.loader)
                    return spec
            return None


    class _FinderStaysFirst(list):
        """ansible-core puts its collection finder first in every process it starts,
        and the driver runs in its worker (the action plugin): stay in front of it."""

        def insert(self, index, finder):
            if index == 0 and self and isinstance(self[0], _Finder):
                index = 1
            super().insert(index, finder)


    sys.meta_path = _FinderStaysFirst([_Finder(), *sys.meta_path])
    '''
)


def test_driver_exception_reaches_op_error_and_logs(lifecycle: Lifecycle) -> None:
    lc = lifecycle
    hook_dir = lc.tmp / "inject"
    hook_dir.mkdir()
    (hook_dir / "sitecustomize.py").write_text(SITECUSTOMIZE)
    marker = lc.tmp / "injected.txt"
    svc = lc.service()  # setup and bookkeeping in process: only what is checked uses the CLI
    package = svc.onboard(WEBFARM)
    inst = lc.track(svc.create(vnfd_id=package.vnfd_id)["id"])

    pythonpath = os.pathsep.join(filter(None, [str(hook_dir), os.environ.get("PYTHONPATH")]))
    args = ["instantiate", inst, "--flavour", "default", "--level", "small", "--no-hooks", "-q"]
    proc = subprocess.run(
        [sys.executable, "-m", "vnfm_runner", *args],
        cwd=REPO_ROOT,
        env=lc.env(PYTHONPATH=pythonpath, INJECTED_DRIVER_MARKER=str(marker)),
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT,
        check=False,
    )
    assert proc.returncode == 1, proc.stdout  # ExitCode.FAILED: it ran and ended ROLLED_BACK
    # the hook ran inside the module's process (not only in the CLI's)
    assert marker.is_file(), f"the injected function was never installed\n{proc.stderr}"
    assert "Traceback" not in proc.stderr, proc.stderr  # a user sees one line, no trace
    assert MESSAGE in proc.stderr, proc.stderr

    ops = svc.store.operations(inst)
    assert [(o.operation, o.state) for o in ops] == [("INSTANTIATE", "ROLLED_BACK")]
    op = json.loads(lc.cli_ok("op", "show", ops[0].id, "--format", "json"))
    detail = op["error"]["detail"]
    assert "\n" not in detail, detail
    assert f"RuntimeError: {MESSAGE}" in detail or (
        MESSAGE in detail and "RuntimeError" in detail
    ), detail
    # the origin: the innermost frame, in the driver (the injected function's file)
    assert "RuntimeError at " in detail and "in _failing" in detail, detail

    logs = lc.cli_ok("op", "logs", ops[0].id)
    assert "(traceback unavailable)" not in logs
    assert "Traceback (most recent call last)" in logs, logs[-3000:]
    assert f"RuntimeError: {MESSAGE}" in logs, logs[-3000:]
    assert "_local/apply.py" in logs, logs[-3000:]  # the driver's frame is in the trace

    assert svc.instance(inst).instantiation_state == "NOT_INSTANTIATED"
    assert leftovers(inst) == {}
