"""Printing results: JSON, YAML or rich tables, and user errors without tracebacks.

Results go to stdout, progress and diagnostics to stderr, and the exit code says what
kind of failure it was (:class:`ExitCode`, documented in docs/cli.md), so scripts can
tell a failed operation from a typo or a busy instance without parsing text.
"""

from __future__ import annotations

import json
import sys
from enum import IntEnum
from typing import Any, NoReturn

import click
import yaml
from rich.console import Console
from rich.table import Table

FORMATS = click.Choice(["json", "yaml", "table"])
# Commands that print an operation's outcome call their one-line summary "text"; it is
# the table form of those commands, and both names are accepted.
RESULT_FORMATS = click.Choice(["json", "yaml", "table", "text"])


class ExitCode(IntEnum):
    """What ``vnfm`` exits with (docs/cli.md)."""

    OK = 0
    FAILED = 1  # the operation ran and did not reach its goal, or an unexpected error
    INVALID = 2  # invalid input: flags, files, packages, request bodies (click's usage too)
    NOT_FOUND = 3  # no such instance, operation, package, VIM, alarm, ...
    CONFLICT = 4  # busy or wrong state: another operation holds the instance, not FAILED_TEMP
    NOT_AUTHORISED = 5  # refused credentials or permissions
    UNAVAILABLE = 6  # the store, a VIM or the NFVO cannot be used right now


_BY_STATUS = {
    400: ExitCode.INVALID,
    401: ExitCode.NOT_AUTHORISED,
    403: ExitCode.NOT_AUTHORISED,
    404: ExitCode.NOT_FOUND,
    409: ExitCode.CONFLICT,
    412: ExitCode.CONFLICT,
    413: ExitCode.INVALID,
    415: ExitCode.INVALID,
    422: ExitCode.INVALID,
    502: ExitCode.UNAVAILABLE,
    503: ExitCode.UNAVAILABLE,
    504: ExitCode.UNAVAILABLE,
    507: ExitCode.UNAVAILABLE,
}


def code_of(exc: BaseException) -> ExitCode:
    """The exit code of a service error: from its HTTP-like ``status`` when it has one."""
    status = getattr(exc, "status", None)
    if isinstance(status, int) and not isinstance(status, bool):
        return _BY_STATUS.get(status, ExitCode.FAILED)
    if isinstance(getattr(exc, "problems", None), list):  # a package's located problems
        return ExitCode.INVALID
    if isinstance(exc, PermissionError):
        return ExitCode.NOT_AUTHORISED
    if isinstance(exc, FileNotFoundError):
        return ExitCode.NOT_FOUND
    return ExitCode.FAILED


def emit(data: Any, fmt: str) -> None:
    if fmt == "json":
        click.echo(json.dumps(data, indent=2, sort_keys=False))
    elif fmt == "yaml":
        click.echo(yaml.safe_dump(data, sort_keys=False, default_flow_style=False), nl=False)
    else:
        raise ValueError(fmt)


def console() -> Console:
    # Piped into a file or another program, rich would assume 80 columns and cut ids
    # short; a table wide enough for its content is what a script or a log wants.
    wide = None if sys.stdout.isatty() else 240
    return Console(highlight=False, soft_wrap=True, width=wide)


def table(title: str, columns: list[str], rows: list[list[Any]]) -> Table:
    t = Table(title=title, title_justify="left")
    for col in columns:
        t.add_column(col)
    for row in rows:
        t.add_row(*("" if v is None else printable(v) for v in row))
    return t


def printable(value: Any) -> str:
    """``str(value)`` that any terminal can take: a lone surrogate (a record written
    before the store refused them, a file name in a foreign encoding) is shown as
    ``\\udc80`` instead of stopping the listing with UnicodeEncodeError."""
    return str(value).encode("utf-8", "backslashreplace").decode("utf-8")


def fail(lines: list[str] | str, code: int = ExitCode.FAILED) -> NoReturn:
    """Report a user-facing error on stderr (one line per problem) and exit with ``code``."""
    for line in [lines] if isinstance(lines, str) else lines:
        click.echo(line, err=True)
    sys.exit(int(code))


def invalid(lines: list[str] | str) -> NoReturn:
    """Invalid input (a flag, a file, a package, a request): exit 2."""
    fail(lines, ExitCode.INVALID)


def fail_on(exc: BaseException, prefix: str = "error: ") -> NoReturn:
    """Report a service error with the exit code its kind implies."""
    fail(f"{prefix}{exc}", code_of(exc))


def progress_console() -> Console:
    """Where live progress goes: stderr, so stdout carries only results."""
    return Console(highlight=False, soft_wrap=True, stderr=True)
