"""ansible-runner's child process, closed without a fixed pause once it has exited.

ansible-runner reads ansible-playbook through pexpect and, when the run is over, closes
the child. ptyprocess then sleeps ``delayafterclose`` (0.1 s) "to give the kernel time"
before it checks a process that ansible-runner has already seen exit and reaped: 0.1 s
of every operation's wall time (issue 17). The spawn below skips that pause for a child
that is no longer alive and keeps ptyprocess's behaviour (pause, then terminate) for one
that is. Only ansible-runner's reference to pexpect is redirected, not pexpect itself.
"""

from __future__ import annotations

import types

import ansible_runner.runner
import pexpect


class PromptClosingSpawn(pexpect.spawn):  # type: ignore[misc]  # pexpect has no types
    def close(self, force: bool = True) -> None:
        if not self.isalive():  # exited and reaped: nothing to wait for
            self.ptyproc.delayafterclose = 0
        super().close(force)


def install() -> None:
    """Make ansible-runner spawn :class:`PromptClosingSpawn` (idempotent)."""
    module = ansible_runner.runner
    if module.pexpect.spawn is not PromptClosingSpawn:
        module.pexpect = types.SimpleNamespace(**{**vars(pexpect), "spawn": PromptClosingSpawn})
