"""Command-valued indicators run inside a real network namespace (root): the command sees
the VNFC's network and the two variables it is given; a flood of output, a command that
hangs and one that fails give no value, quickly, and leave no process behind."""

from __future__ import annotations

import subprocess
import time

import pytest

from tests.assurance.helpers import Netns
from vnfm_runner.assurance.indicators import MAX_OUTPUT, ValueRefused, from_output, run_in_vnfc

pytestmark = pytest.mark.root
ENV = {"VNFM_VNF_INSTANCE_ID": "inst-1", "VNFM_VNFC_ID": "lb-0"}


def test_the_command_runs_inside_the_vnfc(vnfc_ns: Netns) -> None:
    out = run_in_vnfc(vnfc_ns.name, ["ip", "-o", "-4", "addr", "show", "eth0"], timeout=5, env=ENV)
    assert vnfc_ns.address in out.decode()  # the address that exists only in there
    out = run_in_vnfc(
        vnfc_ns.name, ["sh", "-c", 'echo "$VNFM_VNF_INSTANCE_ID/$VNFM_VNFC_ID"'], timeout=5, env=ENV
    )
    assert from_output(out) == "inst-1/lb-0"


def _no_process_left(ns: Netns) -> bool:
    pids = subprocess.run(
        ["ip", "netns", "pids", ns.name], capture_output=True, text=True, check=False
    ).stdout.split()
    return not pids


@pytest.mark.parametrize(
    ("argv", "reason"),
    [
        (["yes", "0123456789"], f"exceeds {MAX_OUTPUT} bytes"),
        (["sleep", "30"], "ran longer than 0.5 s"),
        (["sh", "-c", "sleep 30 & echo 1"], "ran longer than 0.5 s"),  # its output never ends
        (["sh", "-c", "echo 7; exit 3"], "exited with status 3"),
        (["/nonexistent/indicator"], "exited with status"),
    ],
)
def test_hostile_commands_give_no_value(vnfc_ns: Netns, argv: list[str], reason: str) -> None:
    t0 = time.monotonic()
    with pytest.raises(ValueRefused, match=reason):
        run_in_vnfc(vnfc_ns.name, argv, timeout=0.5, env=ENV)
    assert time.monotonic() - t0 < 3
    deadline = time.monotonic() + 3
    while not _no_process_left(vnfc_ns) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _no_process_left(vnfc_ns)


def test_a_missing_namespace_gives_no_value() -> None:
    with pytest.raises(ValueRefused):
        run_in_vnfc("vnfm-no-such-namespace", ["true"], timeout=2, env=ENV)
