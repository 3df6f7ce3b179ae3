"""``vnfm alarm list|show|ack``: the alarms of SOL003 VNF fault management.

The same records and rules as ``/vnffm/v1/alarms`` (the AlarmService): an
acknowledgement made here notifies nothing (SOL003 announces none) and is seen
by the API at once; the store is the one of ``VNFM_HOME`` / ``VNFM_DATABASE_URL``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from vnfm_runner.cli.output import (
    FORMATS,
    RESULT_FORMATS,
    ExitCode,
    console,
    emit,
    fail,
    fail_on,
    table,
)
from vnfm_runner.errors import LcmError

if TYPE_CHECKING:
    from vnfm_runner.assurance.alarms import Alarm, AlarmService

SEVERITIES = ("CRITICAL", "MAJOR", "MINOR", "WARNING", "INDETERMINATE", "CLEARED")


def alarms() -> AlarmService:
    from vnfm_runner.assurance.alarms import AlarmService
    from vnfm_runner.settings import Settings

    return AlarmService.open(Settings())


@click.group("alarm")
def alarm_group() -> None:
    """Alarms (SOL003 VNF fault management): list, show, acknowledge."""


@alarm_group.command("list")
@click.option("--instance", "instance_id", default=None, help="Only this VNF instance's.")
@click.option("--all", "show_all", is_flag=True, help="Cleared alarms too.")
@click.option(
    "--severity",
    type=click.Choice(SEVERITIES, case_sensitive=False),
    multiple=True,
    help="Only these perceived severities (repeatable).",
)
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
def alarm_list(
    instance_id: str | None, show_all: bool, severity: tuple[str, ...], fmt: str
) -> None:
    """List alarms: the open ones, oldest first (--all: cleared ones too)."""
    svc = alarms()
    found = svc.alarms(instance_id) if show_all else svc.open_alarms(instance_id)
    wanted = {s.upper() for s in severity}
    found = [a for a in found if not wanted or a.perceivedSeverity.value in wanted]
    if fmt != "table":
        emit([a.document() for a in found], fmt)
        return
    console().print(
        table(
            "Alarms",
            ["id", "instance", "VNFCs", "severity", "ack", "raised", "probable cause"],
            [_row(a) for a in found],
        )
    )


def _row(a: Alarm) -> list[str]:
    return [
        a.id,
        a.managedObjectId,
        " ".join(a.vnfcInstanceIds),
        a.perceivedSeverity.value,
        a.ackState.value,
        a.alarmRaisedTime,
        a.probableCause,
    ]


@alarm_group.command("show")
@click.argument("alarm_id")
@click.option("--format", "fmt", type=click.Choice(["json", "yaml"]), default="json")
def alarm_show(alarm_id: str, fmt: str) -> None:
    """Show an alarm (SOL003 Alarm)."""
    alarm = alarms().get(alarm_id)
    if alarm is None:
        fail(f"error: no alarm {alarm_id}", ExitCode.NOT_FOUND)
    emit(alarm.document(), fmt)


@alarm_group.command("ack")
@click.argument("alarm_id")
@click.option("--undo", is_flag=True, help="Set ackState back to UNACKNOWLEDGED.")
@click.option("--format", "fmt", type=RESULT_FORMATS, default="text", show_default=True)
def alarm_ack(alarm_id: str, undo: bool, fmt: str) -> None:
    """Acknowledge an alarm (ackState ACKNOWLEDGED), or take it back with --undo."""
    from vnfm_runner.domain import AckState

    state = AckState.UNACKNOWLEDGED if undo else AckState.ACKNOWLEDGED
    try:
        alarm = alarms().set_ack_state(alarm_id, state)
    except LcmError as exc:
        fail_on(exc)
    if fmt in ("json", "yaml"):
        emit(alarm.document(), fmt)
    else:
        click.echo(f"alarm {alarm.id}: {alarm.ackState.value}")
