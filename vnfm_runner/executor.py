"""Run one operation playbook through ansible-runner and read its result back.

One private data directory per operation (runner only writes env/extravars
when the file is absent, so a shared directory would reuse stale inputs);
progress comes from runner events; the result is the ``set_stats`` data of
the ``playbook_on_stats`` event.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ansible_runner

from vnfm_runner import paths
from vnfm_runner.unsafe import dump_extravars

EventSink = Callable[[dict[str, Any]], None]


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
    trusted_vars: dict[str, Any],
    untrusted_vars: dict[str, Any],
    secret_vars: dict[str, Any] | None = None,
    on_event: EventSink | None = None,
    timeout: int | None = None,
    cancel: Callable[[], bool] | None = None,
    extra_env: dict[str, str] | None = None,
) -> RunResult:
    """Run ``playbooks/<playbook>`` once; never raises for a failed play.

    ``secret_vars`` (credentials) are untrusted too, and the extra vars file
    that held them is removed once the run is over.
    """
    env_dir = private_data_dir / "env"
    env_dir.mkdir(parents=True, exist_ok=True)
    extravars = env_dir / "extravars"
    fd = os.open(extravars, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(dump_extravars(trusted_vars, {**untrusted_vars, **(secret_vars or {})}))
    result = RunResult(status="starting", rc=-1, ident=ident, private_data_dir=private_data_dir)

    def handle(event: dict[str, Any]) -> bool:
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
        **(extra_env or {}),
    }
    started = time.monotonic()
    runner = ansible_runner.run(
        private_data_dir=str(private_data_dir),
        project_dir=str(paths.PLAYBOOKS_DIR),
        playbook=playbook,
        inventory=str(paths.REPO_ROOT / "inventories" / "local" / "hosts.yml"),
        ident=ident,
        envvars=envvars,
        event_handler=handle,
        quiet=True,
        timeout=timeout,
        rotate_artifacts=0,
        cancel_callback=cancel,
    )
    result.duration = time.monotonic() - started
    if secret_vars:
        extravars.unlink(missing_ok=True)
    result.status = str(runner.status)
    result.rc = int(runner.rc) if runner.rc is not None else -1
    return result


def _failure_message(res: dict[str, Any]) -> str:
    msg = res.get("msg") or ""
    stderr = res.get("stderr") or ""
    if stderr and stderr not in msg:
        msg = f"{msg} {stderr}".strip()
    return str(msg)[:2000] or "failed"
