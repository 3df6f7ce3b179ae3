"""Run one operation playbook through ansible-runner and read its result back.

One private data directory per operation (runner only writes env/extravars
when the file is absent, so a shared directory would reuse stale inputs);
progress comes from runner events; the result is the ``set_stats`` data of
the ``playbook_on_stats`` event.

Nothing secret is written in clear: ansible-runner records the child's whole
environment in ``artifacts/<ident>/command``, so the child gets the runner's
environment without the ``VNFM_*`` settings (API password, OAuth clients,
database URL, NFVO secret) and without any secret-named variable; the VIM
credentials reach the modules sealed with the home's keyring
(``module_utils/vim/sealed.py``), so even a run killed with SIGKILL leaves
only sealed text in ``env/extravars``.
"""

from __future__ import annotations

import importlib.util
import os
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ansible_runner.interface import init_runner

from vnfm_runner import paths, runner_child
from vnfm_runner.compile_cache import COMPILE_CACHE_VAR
from vnfm_runner.secrets import SecretBox, is_secret
from vnfm_runner.timings import RunProfile
from vnfm_runner.unsafe import dump_extravars

EventSink = Callable[[dict[str, Any]], None]
STRATEGY_PLUGINS = Path(__file__).with_name("strategy_plugins")

runner_child.install()


@dataclass
class RunResult:
    status: str  # successful | failed | timeout | canceled
    rc: int
    ident: str
    private_data_dir: Path
    stats: dict[str, Any] = field(default_factory=dict)
    failures: list[dict[str, Any]] = field(default_factory=list)
    playbook_runs: int = 0
    duration: float = 0.0
    timings: dict[str, Any] = field(default_factory=dict)  # timings.RunProfile.summary

    @property
    def ok(self) -> bool:
        return self.status == "successful"

    @property
    def artifacts_dir(self) -> Path:
        return self.private_data_dir / "artifacts" / self.ident

    def stdout_tail(self, lines: int = 40) -> list[str]:
        """The last lines of the run's output (for errors outside any task)."""
        path = self.artifacts_dir / "stdout"
        if not path.is_file():
            return []
        return path.read_text(errors="replace").splitlines()[-lines:]


def run_playbook(
    *,
    playbook: str,
    private_data_dir: Path,
    ident: str,
    variables: dict[str, Any],
    secret_vars: dict[str, Any] | None = None,
    on_event: EventSink | None = None,
    timeout: int | None = None,
    cancel: Callable[[], bool] | None = None,
    extra_env: dict[str, str] | None = None,
    secret_box: SecretBox | None = None,
    warm: bool = True,
    compile_cache: Path | None = None,
) -> RunResult:
    """Run ``playbooks/runner/<playbook>`` once; never raises for a failed play.

    Every variable reaches Ansible as unsafe text (``unsafe.py``). Each non-empty
    ``secret_vars`` value (a credentials dict) is sealed with ``secret_box``
    (default: the keyring of the home whose ``runs/<op>/<ident>`` is
    ``private_data_dir``); the extra vars file is removed once the run is over.
    ``warm``: under the ``vnfm_warm`` strategy when Mitogen is installed (:func:`strategy_env`),
    which keeps compiled templates and modules in ``compile_cache`` when given (compile_cache.py).
    """
    env_dir = private_data_dir / "env"
    env_dir.mkdir(parents=True, exist_ok=True)
    extravars = env_dir / "extravars"
    sealed = _sealed_vars(secret_vars or {}, secret_box, private_data_dir)
    fd = os.open(extravars, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(dump_extravars({**variables, **sealed}))
    result = RunResult(status="starting", rc=-1, ident=ident, private_data_dir=private_data_dir)
    profile = RunProfile()

    def handle(event: dict[str, Any]) -> bool:
        profile.feed(event)
        kind = event.get("event")
        data = event.get("event_data") or {}
        if kind == "playbook_on_start":
            result.playbook_runs += 1
        elif kind == "runner_on_failed" and not data.get("ignore_errors"):
            res = data.get("res") or {}
            result.failures.append(
                {
                    "task": data.get("task"),
                    "host": data.get("host"),
                    "play": data.get("play"),
                    "msg": _failure_message(res),
                }
            )
        elif kind == "runner_on_unreachable":
            res = data.get("res") or {}
            result.failures.append(
                {
                    "task": data.get("task"),
                    "host": data.get("host"),
                    "msg": res.get("msg", "unreachable"),
                }
            )
        elif kind == "playbook_on_stats":
            result.stats = data.get("artifact_data") or {}
        if on_event is not None:
            on_event(event)
        return True

    venv_bin = str(Path(sys.executable).parent)
    envvars = {
        "ANSIBLE_COLLECTIONS_PATH": str(paths.COLLECTIONS_DIR),
        "PATH": f"{venv_bin}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
        "ANSIBLE_LOCALHOST_WARNING": "false",
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false",
        "ANSIBLE_NOCOLOR": "true",
        "ANSIBLE_FORCE_COLOR": "false",
        "ANSIBLE_RETRY_FILES_ENABLED": "false",
        "ANSIBLE_PIPELINING": "true",
        "ANSIBLE_FORKS": "32",
        # a module's or plugin's exception carries its traceback into the event and the
        # run's stdout (vnfm op logs); by default ansible-core says "(traceback unavailable)"
        "ANSIBLE_DISPLAY_TRACEBACK": "error",
        **(strategy_env(compile_cache) if warm else {}),
        **(extra_env or {}),
    }
    started = time.monotonic()
    runner = init_runner(
        private_data_dir=str(private_data_dir),
        project_dir=str(paths.RUNNER_PLAYBOOKS_DIR),
        playbook=playbook,
        inventory=str(paths.REPO_ROOT / "inventories" / "local" / "hosts.yml"),
        ident=ident,
        envvars=envvars,
        event_handler=handle,
        quiet=True,
        timeout=timeout,
        rotate_artifacts=0,
        cancel_callback=cancel,
        suppress_env_files=True,  # envvars are passed, not written under env/
    )
    # the runner seeds the child's environment with ours and writes it to artifacts
    runner.config.env = child_env(runner.config.env, keep=envvars)
    try:
        runner.run()
    finally:
        extravars.unlink(missing_ok=True)
    result.duration = time.monotonic() - started
    profile.finish()
    result.timings = profile.summary()
    result.status = str(runner.status)
    result.rc = int(runner.rc) if runner.rc is not None else -1
    return result


def strategy_env(compile_cache: Path | None = None) -> dict[str, str]:
    """The variables that select the ``vnfm_warm`` strategy (one persistent Python per
    target, strategy_plugins/vnfm_warm.py); none when Mitogen is not installed.
    ``compile_cache``: where that strategy keeps compiled templates and modules (compile_cache.py)."""
    if importlib.util.find_spec("ansible_mitogen") is None:
        return {}
    env = {"ANSIBLE_STRATEGY_PLUGINS": str(STRATEGY_PLUGINS), "ANSIBLE_STRATEGY": "vnfm_warm"}
    if compile_cache is not None:
        env[COMPILE_CACHE_VAR] = str(compile_cache)
    return env


def child_env(env: dict[str, str], keep: dict[str, str]) -> dict[str, str]:
    """The environment of a run without the runner's settings and secret-named variables.

    ``keep`` are the variables the runner sets for the run itself.
    """
    return {
        k: v
        for k, v in env.items()
        if k in keep
        or k.startswith(("ANSIBLE_", "AWX_"))
        or not (k.startswith("VNFM_") or is_secret(k))
    }


def _sealed_vars(
    secret_vars: dict[str, Any], box: SecretBox | None, private_data_dir: Path
) -> dict[str, Any]:
    """Each credentials dict as ``{vnfmSealed, vnfmKeyFile}`` (opened by the modules)."""
    if not any(secret_vars.values()):
        return dict(secret_vars)
    if box is None:
        runs = private_data_dir.parent.parent
        if runs.name != "runs":
            raise ValueError(f"{private_data_dir}: not a run directory; pass secret_box")
        box = SecretBox(runs.parent)
    return {
        name: {"vnfmSealed": box.seal(value), "vnfmKeyFile": str(box.path)} if value else value
        for name, value in secret_vars.items()
    }


_TRACEBACK = "Traceback (most recent call last):"


def _failure_message(res: dict[str, Any]) -> str:
    died = _died_of(res.get("module_stderr"))
    if died:
        return died
    msg = res.get("msg") or ""
    stderr = res.get("stderr") or ""
    if stderr and stderr not in msg:
        msg = f"{msg} {stderr}".strip()
    origin = _exception_origin(res.get("exception"))
    if origin:
        msg = f"{msg} ({origin})"
    return str(msg)[:2000] or "failed"


def _died_of(stderr: Any) -> str | None:
    """'RuntimeError: boom (RuntimeError at x.py:12 in f)' for a module that died of an
    exception it did not report: under the warm strategy Mitogen prints the traceback on
    the module's stderr where Ansible's wrapper would have answered JSON, and Ansible
    then only says it could not read the result."""
    if not isinstance(stderr, str) or _TRACEBACK not in stderr:
        return None
    tail = stderr[stderr.rindex(_TRACEBACK) :]
    last = [line for line in tail.splitlines() if line and not line[0].isspace()][-1]
    origin = _exception_origin(tail)
    return (f"{last} ({origin})" if origin else last)[:2000]


_FRAME = re.compile(r'^\s*File "(?P<file>[^"]+)", line (?P<line>\d+), in (?P<func>\S+)')


def _exception_origin(tb: Any) -> str | None:
    """'TypeError at plugins/module_utils/x.py:12 in f': the innermost frame of the first
    traceback in a failed task's ``exception`` (the cause, before Ansible's own wrapping)."""
    if not isinstance(tb, str):
        return None
    frame: re.Match[str] | None = None
    for line in tb.splitlines():
        found = _FRAME.match(line)
        if found:
            frame = found
        elif frame is not None and line and not line[0].isspace():
            kind = line.split(":", 1)[0].rsplit(".", 1)[-1]
            where = frame["file"]
            for marker in ("ansible_collections/", "ansible/"):
                if marker in where:
                    where = where[where.index(marker) :]
                    break
            return f"{kind} at {where}:{frame['line']} in {frame['func']}"
    return None
