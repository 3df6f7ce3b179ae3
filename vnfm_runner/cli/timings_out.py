"""``vnfm op show OP --timings``: an operation's per-phase profile (``vnfmTimings``)."""

from __future__ import annotations

from typing import Any

import click

from vnfm_runner import timings
from vnfm_runner.cli.output import console, emit, table


def show_timings(op: dict[str, Any], fmt: str) -> None:
    prof = op.get("vnfmTimings")
    if not isinstance(prof, dict):
        # not an error: an operation without a playbook run (or recorded before 0.x)
        click.echo(f"operation {op.get('id')}: no timings recorded (no playbook run)")
        return
    if fmt != "table":
        emit(prof, fmt)
        return
    runs = int(prof.get("runs") or 1)
    console().print(
        table(
            f"operation {op.get('id')} {op.get('operation')} {op.get('operationState')}: "
            f"{runs} playbook run{'s' if runs != 1 else ''}",
            ["phase", "seconds", "share"],
            timings.rows(prof),
        )
    )
