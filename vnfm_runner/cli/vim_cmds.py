"""``vnfm vim add|list|show|remove``: named VIM connections."""

from __future__ import annotations

import sys
from typing import Any

import click
import yaml

from vnfm_runner.cli.lcm_cmds import service
from vnfm_runner.cli.output import FORMATS, console, emit, fail_on, invalid, table
from vnfm_runner.errors import VIM_TYPES, VimConfigError


@click.group("vim")
def vim_group() -> None:
    """Register the VIMs that VNFs are instantiated on (local is built in)."""


@vim_group.command("add")
@click.argument("name")
@click.option("--type", "vim_type", type=click.Choice(VIM_TYPES), required=True)
@click.option("--cloud", help="clouds.yaml entry (found the usual openstacksdk way).")
@click.option("--clouds-file", type=click.Path(), help="A clouds.yaml outside the usual places.")
@click.option("--region", help="Region name.")
@click.option(
    "--image-map",
    "image_map",
    multiple=True,
    metavar="IMAGE=VIM_IMAGE",
    help="VIM image for a VNFD sw image name or VDU id (repeatable).",
)
@click.option(
    "--flavour-map",
    "flavour_map",
    multiple=True,
    metavar="VDU=VIM_FLAVOUR",
    help="VIM flavour for a VDU id or flavour hint (repeatable).",
)
@click.option(
    "--option",
    "options",
    multiple=True,
    metavar="KEY=VALUE",
    help="Driver option, e.g. softPlacementPolicies=true (repeatable).",
)
@click.option(
    "--secret-stdin",
    "secret_keys",
    multiple=True,
    metavar="KEY",
    help="Driver option read from standard input, one line per KEY in the order given, "
    "e.g. --secret-stdin password: never on the command line, where ps shows it.",
)
def add(
    name: str,
    vim_type: str,
    cloud: str | None,
    clouds_file: str | None,
    region: str | None,
    image_map: tuple[str, ...],
    flavour_map: tuple[str, ...],
    options: tuple[str, ...],
    secret_keys: tuple[str, ...],
) -> None:
    """Register a VIM under NAME."""
    extra: dict[str, Any] = {}
    if image_map:
        extra["imageMap"] = _pairs(image_map, "--image-map")
    if flavour_map:
        extra["flavourMap"] = _pairs(flavour_map, "--flavour-map")
    for key, value in _pairs(options, "--option").items():
        extra[key] = yaml.safe_load(value) if value else value
    extra.update(_stdin_secrets(secret_keys))
    try:
        service().vims.add(
            name=name,
            vim_type=vim_type,
            cloud=cloud,
            clouds_file=clouds_file,
            region=region,
            options=extra,
        )
    except VimConfigError as exc:
        fail_on(exc)
    click.echo(name)


def _stdin_secrets(keys: tuple[str, ...]) -> dict[str, str]:
    """One line of standard input per key, taken as given (no YAML: a secret is a string),
    without its line end."""
    out: dict[str, str] = {}
    for key in keys:
        if not key or "=" in key:
            invalid(f"error: --secret-stdin {key!r}: expected a KEY (its value comes from stdin)")
        if key in out:
            invalid(f"error: --secret-stdin {key!r} is given twice")
        line = sys.stdin.readline()
        if not line:
            invalid(f"error: --secret-stdin {key}: standard input ended before its line")
        out[key] = line.rstrip("\r\n")
    return out


def _pairs(items: tuple[str, ...], flag: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            invalid(f"error: {flag} {item!r}: expected KEY=VALUE")
        out[key] = value
    return out


@vim_group.command("list")
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
def list_vims(fmt: str) -> None:
    """List registered VIMs."""
    vims = service().vims.list()
    if fmt != "table":
        emit(vims, fmt)
        return
    console().print(
        table(
            "VIMs",
            ["name", "type", "cloud"],
            [[v["name"], v["vimType"], v["connection"].get("cloud")] for v in vims],
        )
    )


@vim_group.command("show")
@click.argument("name")
@click.option("--format", "fmt", type=click.Choice(["json", "yaml"]), default="json")
def show(name: str, fmt: str) -> None:
    """Show a VIM (secrets are never shown)."""
    try:
        emit(service().vims.show(name), fmt)
    except VimConfigError as exc:
        fail_on(exc)


@vim_group.command("remove")
@click.argument("name")
def remove(name: str) -> None:
    """Forget a VIM (refused while instances live on it)."""
    try:
        service().vims.remove(name)
    except VimConfigError as exc:
        fail_on(exc)
    click.echo(f"removed {name}")
