"""The real playbook runner port: ansible-runner, one private data dir per run."""

from __future__ import annotations

from typing import Any

from vnfm_runner.engine import OP_ENV
from vnfm_runner.executor import RunResult, run_playbook
from vnfm_runner.lcm.ports import PlaybookRun
from vnfm_runner.settings import Settings


class AnsiblePlaybooks:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def ident(self, op_id: str, name: str) -> tuple[str, str]:
        # One private data dir per run: a retry or a rollback gets its own.
        op_dir = self.settings.runs_dir / op_id
        attempt = len(list(op_dir.iterdir())) + 1 if op_dir.is_dir() else 1
        ident = f"{attempt}-{name}"
        return ident, str(op_dir / ident / "artifacts" / ident)

    def run(self, run: PlaybookRun) -> RunResult:
        task_timeout = _positive(run.params.get("vnfm_task_timeout"), self.settings.task_timeout)
        op_timeout = _positive(
            run.params.get("vnfm_operation_timeout"), self.settings.operation_timeout
        )
        return run_playbook(
            playbook=run.playbook,
            private_data_dir=self.settings.runs_dir / run.op_id / run.ident,
            ident=run.ident,
            variables=run.variables,
            secret_vars={"vnfm_vim_credentials": run.credentials},
            on_event=run.on_event,
            timeout=max(run.timeout or 0, op_timeout),
            cancel=run.cancel,
            # A hung hook task fails the operation instead of holding it forever.
            extra_env={OP_ENV: run.op_id, "ANSIBLE_TASK_TIMEOUT": str(task_timeout)},
            warm=self.settings.warm_interpreters,
            compile_cache=self.settings.compile_cache_dir,
        )


def _positive(value: Any, default: int) -> int:
    return (
        value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else default
    )
