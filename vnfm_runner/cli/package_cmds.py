"""``vnfm package validate|show`` and ``vnfm plan``: read packages, plan instances."""

from __future__ import annotations

import json
from typing import Any

import click

from vnfm_runner.cli.output import FORMATS, console, emit, fail_on, invalid, table
from vnfm_runner.core import (
    PackageError,
    PlanError,
    PlanRequest,
    load_vnf,
    package_summary,
    plan,
    to_json,
)


@click.group("package")
def package_group() -> None:
    """Read, check and onboard VNF packages (SOL004 CSAR zip or directory)."""


@package_group.command("validate")
@click.argument("path", type=click.Path())
@click.option(
    "--strict",
    is_flag=True,
    help="Dangling references in parts a deployment may not use are errors, not warnings.",
)
def validate(path: str, strict: bool) -> None:
    """Check a package; print one FILE:LINE: message line per problem."""
    try:
        model, warnings = load_vnf(path, strict=strict)
    except PackageError as exc:
        invalid([str(p) for p in exc.problems])
    for w in warnings:
        click.echo(str(w), err=True)
    click.echo(
        f"{path}: valid VNF package, vnfdId {model.vnfd_id}, flavours "
        + ", ".join(f.id for f in model.flavours)
    )


@package_group.command("onboard")
@click.argument("path", type=click.Path())
def onboard(path: str) -> None:
    """Validate a package and store it; print its vnfdId (warnings go to stderr)."""
    from vnfm_runner.cli.services import packages
    from vnfm_runner.errors import LcmError

    try:
        row = packages().onboard_path(path)
    except PackageError as exc:
        invalid([str(p) for p in exc.problems])
    except LcmError as exc:  # its vnfdId is onboarded with other content
        fail_on(exc)
    # dangling references in parts a deployment may not use are accepted: whoever
    # onboards sees them, as `validate` shows them
    for warning in row.summary.get("warnings") or []:
        click.echo(str(warning), err=True)
    click.echo(row.vnfd_id)


@package_group.command("show")
@click.argument("path", type=click.Path())
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@click.option("--full", is_flag=True, help="Print the whole model, not the summary.")
def show(path: str, fmt: str, full: bool) -> None:
    """Describe a package: VNF identity, flavours, VDUs, aspects, levels."""
    try:
        model, _warnings = load_vnf(path)
    except PackageError as exc:
        invalid([str(p) for p in exc.problems])
    summary = package_summary(model)
    if full:
        summary["model"] = to_json(model)
    if fmt != "table":
        emit(summary, fmt)
        return
    out = console()
    out.print(
        f"[bold]{summary['productName']}[/] {summary['softwareVersion']} "
        f"by {summary['provider']}  vnfdId {summary['vnfdId']} (v{summary['vnfdVersion']})"
    )
    if summary.get("deploymentKind") == "container":  # needs a container VIM to run
        out.print("container package: runs on a kubernetes or podman VIM only")
    for fl in summary["flavours"]:
        out.print(
            table(
                f"flavour {fl['flavourId']}: VDUs",
                ["VDU", "min", "max", "vCPU", "memory MB", "image", "CPs"],
                [
                    [
                        v["id"],
                        v["minInstances"],
                        v["maxInstances"],
                        v["numVirtualCpu"],
                        v["virtualMemSizeMb"],
                        v["swImage"],
                        ", ".join(v["cps"]),
                    ]
                    for v in fl["vdus"]
                ],
            )
        )
        if fl["scalingAspects"]:
            out.print(
                table(
                    "scaling aspects",
                    ["aspect", "max level", "VDU deltas"],
                    [
                        [a["id"], a["maxScaleLevel"], json.dumps(a["vduDeltas"])]
                        for a in fl["scalingAspects"]
                    ],
                )
            )
        if fl["instantiationLevels"]:
            out.print(
                table(
                    "instantiation levels",
                    ["level", "VNFCs per VDU", "default"],
                    [
                        [
                            lv["id"],
                            json.dumps(lv["vduInstances"]),
                            "yes" if lv["id"] == fl["defaultLevel"] else "",
                        ]
                        for lv in fl["instantiationLevels"]
                    ],
                )
            )
        if fl.get("vnfIndicators"):
            out.print(
                table(
                    "VNF indicators (vnfind/v1)",
                    ["indicator", "name", "source", "valued by", "period s"],
                    [
                        [
                            i["id"],
                            i["name"] or "",
                            i["source"],
                            i["prometheus"] or " ".join(i["command"]) or "-",
                            i["periodS"],
                        ]
                        for i in fl["vnfIndicators"]
                    ],
                )
            )
        ops = [o["name"] for o in fl["lcmOperations"] if o["implementation"]]
        out.print(
            f"virtual links: {', '.join(vl['id'] for vl in fl['virtualLinks']) or '-'}; "
            f"external CPs: {', '.join(c['id'] for c in fl['extCps']) or '-'}; "
            f"operations with playbooks: {', '.join(ops) or '-'}"
        )


def _parse_aspects(values: tuple[str, ...]) -> dict[str, int] | None:
    if not values:
        return None
    levels: dict[str, int] = {}
    for item in values:
        name, sep, level = item.partition("=")
        if not sep or not name or not level.strip().isdigit():
            invalid(f"--aspect {item!r}: expected ASPECT=LEVEL, e.g. web=2")
        levels[name] = int(level)
    return levels


@click.command("plan")
@click.argument("path", type=click.Path())
@click.option("--flavour", "flavour_id", required=True, help="Deployment flavour id.")
@click.option("--level", "level_id", help="Instantiation level id.")
@click.option(
    "--aspect", "aspects", multiple=True, metavar="ASPECT=LEVEL", help="Scale level per aspect."
)
@click.option(
    "--instance-id",
    default="00000000-0000-0000-0000-000000000000",
    show_default=True,
    help="VNF instance id the names and addresses derive from.",
)
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
def plan_cmd(
    path: str,
    flavour_id: str,
    level_id: str | None,
    aspects: tuple[str, ...],
    instance_id: str,
    fmt: str,
) -> None:
    """Show the desired state (the plan) of an instance of a package."""
    if level_id and aspects:
        invalid("give either --level or --aspect, not both")
    try:
        model, _warnings = load_vnf(path)
        result = plan(
            model, PlanRequest(instance_id, flavour_id, level_id, _parse_aspects(aspects))
        )
    except PackageError as exc:
        invalid([str(p) for p in exc.problems])
    except PlanError as exc:
        invalid(f"error: {exc}")
    if fmt != "table":
        emit(result, fmt)
        return
    render_plan(result)


def render_plan(result: dict[str, Any]) -> None:
    out = console()
    out.print(
        f"plan of [bold]{result['vnfdId']}[/] flavour {result['flavourId']} level "
        f"{result['instantiationLevelId'] or '-'} aspects {json.dumps(result['scaleLevels'])}"
    )
    out.print(
        table(
            "VNFCs",
            ["VNFC", "VDU", "name", "addresses", "server group"],
            [
                [
                    v["id"],
                    v["vduId"],
                    v["name"],
                    " ".join(
                        f"{cp['cpdId']}={','.join(cp['ipAddresses']) or 'dynamic'}"
                        for cp in v["cps"]
                    ),
                    v["serverGroup"],
                ]
                for v in result["vnfcs"]
            ],
        )
    )
    out.print(
        table(
            "virtual links",
            ["link", "name", "cidr", "mtu"],
            [[vl["id"], vl["name"], vl["cidr"], vl["mtu"]] for vl in result["virtualLinks"]],
        )
    )
