"""Entry point of the ``vnfm`` command."""

from __future__ import annotations

import click

from vnfm_runner.cli import lcm_cmds, ops_cmds, serve_cmd
from vnfm_runner.cli.package_cmds import package_group, plan_cmd
from vnfm_runner.cli.vim_cmds import vim_group


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="vnfm-toolkit")
def cli() -> None:
    """vnfm: a declarative, Ansible-based ETSI NFV VNF Manager."""


package_group.add_command(lcm_cmds.onboard)
cli.add_command(package_group)
cli.add_command(plan_cmd)
cli.add_command(vim_group)
cli.add_command(serve_cmd.serve)
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
    cli()
