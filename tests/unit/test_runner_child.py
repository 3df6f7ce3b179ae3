"""ansible-runner's child is closed at once when it has exited, and as before (pause,
then terminate) when it has not."""

from __future__ import annotations

import ansible_runner.runner
import pexpect

from vnfm_runner import executor, runner_child


def test_the_runner_spawns_the_prompt_closing_child() -> None:
    assert executor.runner_child is runner_child  # installed when the executor loads
    assert ansible_runner.runner.pexpect.spawn is runner_child.PromptClosingSpawn
    assert ansible_runner.runner.pexpect.EOF is pexpect.EOF
    assert pexpect.spawn is not runner_child.PromptClosingSpawn  # pexpect itself untouched
    runner_child.install()
    assert ansible_runner.runner.pexpect.spawn is runner_child.PromptClosingSpawn


def test_an_exited_child_is_closed_without_the_pause() -> None:
    child = runner_child.PromptClosingSpawn("/bin/sh", ["-c", "echo done"], encoding="utf-8")
    child.expect(pexpect.EOF)
    while child.isalive():
        pass
    child.close()
    assert child.ptyproc.delayafterclose == 0
    assert child.exitstatus == 0


def test_a_live_child_keeps_the_pause_and_is_terminated() -> None:
    child = runner_child.PromptClosingSpawn("/bin/sleep", ["30"])
    assert child.isalive()
    child.close(force=True)
    assert child.ptyproc.delayafterclose == 0.1
    assert not child.isalive()
    assert child.signalstatus is not None
