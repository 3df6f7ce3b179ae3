"""Entry point of the ``vnfm`` command."""

from __future__ import annotations

import click

from vnfm_runner.cli import (
    alarm_cmds,
    exporter_cmd,
    indicator_cmds,
    lcm_cmds,
    ops_cmds,
    pm_cmds,
    serve_cmd,
    sync_cmds,
)
from vnfm_runner.cli.keys_cmds import keys_group
from vnfm_runner.cli.output import ExitCode, fail
from vnfm_runner.cli.package_cmds import package_group, plan_cmd
from vnfm_runner.cli.vim_cmds import vim_group


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="vnfm-toolkit")
def cli() -> None:
    """vnfm: a declarative, Ansible-based ETSI NFV VNF Manager."""


cli.add_command(package_group)
cli.add_command(alarm_cmds.alarm_group)
cli.add_command(pm_cmds.pm_group)
cli.add_command(indicator_cmds.indicator_group)
cli.add_command(plan_cmd)
cli.add_command(vim_group)
cli.add_command(keys_group)
cli.add_command(serve_cmd.serve)
cli.add_command(sync_cmds.sync)
cli.add_command(exporter_cmd.exporter)
for op_command in ops_cmds.COMMANDS:
    cli.add_command(op_command)
for command in (
    lcm_cmds.create,
    lcm_cmds.instantiate,
    lcm_cmds.terminate,
    lcm_cmds.delete,
    lcm_cmds.show,
    lcm_cmds.list_instances,
    lcm_cmds.op_group,
    lcm_cmds.demo,
    lcm_cmds.execute_operation,
):
    cli.add_command(command)


def main() -> None:
    try:
        cli()
    except Exception as exc:
        message = storage_problem(exc)
        if message is None:
            raise
        fail(message, ExitCode.UNAVAILABLE)


def storage_problem(exc: BaseException) -> str | None:
    """One line for a store that cannot be used (corrupt, unreadable, full); None otherwise.

    These are the machine's condition, not bugs: the user gets the file and the
    cause, not a traceback.
    """
    from vnfm_runner.nospace import is_no_space

    if is_no_space(exc):
        return "error: no space left to store the VNFM's records or packages; free some and retry"
    try:
        from sqlalchemy.exc import DatabaseError
    except ImportError:  # pragma: no cover - sqlalchemy is a dependency
        return None
    if not isinstance(exc, DatabaseError):
        return None
    from vnfm_runner.settings import Settings

    settings = Settings()
    where = (
        f"the database {settings.home / 'vnfm.db'}"
        if settings.database_url is None
        else "the database of VNFM_DATABASE_URL"
    )
    cause = str(exc.orig) if exc.orig is not None else type(exc).__name__
    return f"error: {where} cannot be used: {cause}"
