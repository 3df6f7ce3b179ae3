"""Entry point of the ``vnfm`` command."""

from __future__ import annotations

import click

from vnfm_runner.cli.package_cmds import package_group, plan_cmd


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="vnfm-toolkit")
def cli() -> None:
    """vnfm: a declarative, Ansible-based ETSI NFV VNF Manager."""


cli.add_command(package_group)
cli.add_command(plan_cmd)


def main() -> None:
    cli()
