"""Printing results: JSON, YAML or rich tables, and user errors without tracebacks."""

from __future__ import annotations

import json
import sys
from typing import Any, NoReturn

import click
import yaml
from rich.console import Console
from rich.table import Table

FORMATS = click.Choice(["json", "yaml", "table"])


def emit(data: Any, fmt: str) -> None:
    if fmt == "json":
        click.echo(json.dumps(data, indent=2, sort_keys=False))
    elif fmt == "yaml":
        click.echo(yaml.safe_dump(data, sort_keys=False, default_flow_style=False), nl=False)
    else:
        raise ValueError(fmt)


def console() -> Console:
    return Console(highlight=False, soft_wrap=True)


def table(title: str, columns: list[str], rows: list[list[Any]]) -> Table:
    t = Table(title=title, title_justify="left")
    for col in columns:
        t.add_column(col)
    for row in rows:
        t.add_row(*("" if v is None else str(v) for v in row))
    return t


def fail(lines: list[str] | str, code: int = 1) -> NoReturn:
    """Report a user-facing error on stderr (one line per problem) and exit."""
    for line in [lines] if isinstance(lines, str) else lines:
        click.echo(line, err=True)
    sys.exit(code)
