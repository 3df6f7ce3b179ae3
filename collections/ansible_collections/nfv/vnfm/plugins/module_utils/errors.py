# Copyright: vnfm-toolkit developers
# Apache License 2.0 (see LICENSE)
"""Errors that name the file and line of bad input.

Every user-facing problem in a package, a descriptor or a request is a
:class:`Problem`; a failed load raises :class:`PackageError` carrying all of
them so that ``vnfm package validate`` can print one line per problem.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One problem found in user input, located where possible."""

    message: str
    file: str | None = None
    line: int | None = None
    severity: str = "error"  # "error" | "warning"

    def __str__(self) -> str:
        where = ""
        if self.file:
            where = f"{self.file}:{self.line}: " if self.line else f"{self.file}: "
        prefix = "warning: " if self.severity == "warning" else ""
        return f"{where}{prefix}{self.message}"


class VnfmError(Exception):
    """Base class of the errors that report bad input (never a bug)."""


class PackageError(VnfmError):
    """A VNF package or descriptor is invalid; ``problems`` lists every finding."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class PlanError(VnfmError):
    """A request cannot be planned against the VNF model (bad flavour, level, limits…)."""
