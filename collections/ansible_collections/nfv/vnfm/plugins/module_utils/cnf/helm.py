# Copyright: vnfm-toolkit developers
# Apache License 2.0 (see LICENSE)
"""Helm flavour of a CNF package (Tacker's ``helm_chart_path`` / ``helm_value_names``).

The instantiate request's ``additionalParams`` name the chart archive in the package
(``helm_chart_path``: ``Files/kubernetes/<chart>.tgz``), the chart value that holds each
VDU's replica count (``helm_value_names: {VDU1: {replica: replicaCountVdu1}}``) and other
values (``helm_parameters``, dotted keys). The plan's VNFC count per VDU becomes those
replica values. Only the Kubernetes VIM runs Helm releases, through the ``helm`` binary;
without it the release is refused (``helm_binary``).
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from ansible_collections.nfv.vnfm.plugins.module_utils.errors import PackageError, Problem
from ansible_collections.nfv.vnfm.plugins.module_utils.vnfd.package import Limits, Package

CHART_PARAM = "helm_chart_path"
VALUE_NAMES_PARAM = "helm_value_names"
PARAMETERS_PARAM = "helm_parameters"
MAX_CHART_BYTES = 10 * 1024 * 1024
_VALUE_KEY = re.compile(r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$")


@dataclass
class HelmRelease:
    """What a Helm CNF asks: the chart (absolute path) and the values to give it."""

    chart: str
    chart_path: str  # as the request gives it (package-relative)
    replica_values: dict[str, str] = field(default_factory=dict)  # VDU id -> value key
    parameters: dict[str, Any] = field(default_factory=dict)  # dotted key -> scalar


def is_helm(additional_params: dict[str, Any] | None) -> bool:
    """True when the request selects a Helm chart."""
    return bool((additional_params or {}).get(CHART_PARAM))


def helm_release(package_dir: str, additional_params: dict[str, Any] | None) -> HelmRelease | None:
    """The request's Helm release (None without ``helm_chart_path``); PackageError if malformed."""
    params = additional_params or {}
    chart_path = params.get(CHART_PARAM)
    if not chart_path:
        return None
    problems: list[Problem] = []
    if not isinstance(chart_path, str) or not chart_path.endswith(".tgz"):
        raise PackageError(
            [Problem(f"additionalParams.{CHART_PARAM} must name a chart archive (*.tgz)")]
        )
    package = Package(Path(package_dir).resolve(), package_dir, Limits(), None)
    try:
        chart = package.resolve(str(PurePosixPath(chart_path)))
    except PackageError as exc:
        raise PackageError(
            [Problem(f"additionalParams.{CHART_PARAM}: {p.message}") for p in exc.problems]
        ) from None
    if not chart.is_file():
        problems.append(
            Problem(f"additionalParams.{CHART_PARAM}: {chart_path} is not in the package")
        )
    elif chart.stat().st_size > MAX_CHART_BYTES:
        problems.append(
            Problem(f"additionalParams.{CHART_PARAM}: larger than {MAX_CHART_BYTES} bytes")
        )
    replica_values: dict[str, str] = {}
    names = params.get(VALUE_NAMES_PARAM) or {}
    if not isinstance(names, dict):
        problems.append(Problem(f"additionalParams.{VALUE_NAMES_PARAM} must be a mapping"))
        names = {}
    for vdu_id, entry in names.items():
        value = entry.get("replica") if isinstance(entry, dict) else None
        if not isinstance(value, str) or not _VALUE_KEY.match(value):
            problems.append(
                Problem(
                    f"additionalParams.{VALUE_NAMES_PARAM}.{vdu_id}.replica must be a chart "
                    "value name (letters, digits, '_', '-', dotted)"
                )
            )
            continue
        replica_values[str(vdu_id)] = value
    parameters = params.get(PARAMETERS_PARAM) or {}
    if not isinstance(parameters, dict):
        problems.append(Problem(f"additionalParams.{PARAMETERS_PARAM} must be a mapping"))
        parameters = {}
    for key, value in parameters.items():
        if not isinstance(key, str) or not _VALUE_KEY.match(key):
            problems.append(Problem(f"additionalParams.{PARAMETERS_PARAM}: bad key {key!r}"))
        elif value is not None and not isinstance(value, (str, int, float, bool)):
            problems.append(Problem(f"additionalParams.{PARAMETERS_PARAM}.{key} must be a scalar"))
    if problems:
        raise PackageError(problems)
    return HelmRelease(str(chart), chart_path, replica_values, dict(parameters))


def helm_values(plan: dict[str, Any], release: HelmRelease) -> dict[str, Any]:
    """The nested values document of the release: parameters, then each VDU's replicas."""
    counts: dict[str, int] = {}
    for vnfc in plan.get("vnfcs") or []:
        counts[str(vnfc["vduId"])] = counts.get(str(vnfc["vduId"]), 0) + 1
    flat: dict[str, Any] = dict(release.parameters)
    for vdu_id, key in release.replica_values.items():
        flat[key] = counts.get(vdu_id, 0)
    values: dict[str, Any] = {}
    for key, value in sorted(flat.items()):
        node = values
        *parents, leaf = key.split(".")
        for part in parents:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        node[leaf] = value
    return values


def helm_binary() -> str:
    """Path of ``helm``; PackageError saying so when it is not installed."""
    found = shutil.which("helm")
    if not found:
        raise PackageError(
            [
                Problem(
                    "this package is a Helm chart (additionalParams.helm_chart_path) and the "
                    "'helm' binary is not installed on the VNFM host: install Helm 3 to run it "
                    "on a Kubernetes VIM (podman cannot run Helm charts)"
                )
            ]
        )
    return found
