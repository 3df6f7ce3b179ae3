"""SOL003 operations on an instantiated VNF: scale, heal, operate, change-*, modify.

Each command builds the SOL003 request body (from ``--params FILE`` and its
flags, the flags winning), then waits with live progress like instantiate.
"""

from __future__ import annotations

from typing import Any

import click

from vnfm_runner.cli.lcm_cmds import finish, load_request, service
from vnfm_runner.cli.output import RESULT_FORMATS, fail_on, invalid, progress_console
from vnfm_runner.cli.progress import Progress
from vnfm_runner.core import PackageError
from vnfm_runner.errors import LcmError


def _common(func: Any) -> Any:
    for option in reversed(
        [
            click.option(
                "--params",
                "params_file",
                type=click.Path(),
                help="SOL003 request body (JSON or YAML); flags override its fields.",
            ),
            click.option(
                "--no-hooks", is_flag=True, help="Change only VIM resources; run no hooks."
            ),
            click.option(
                "--no-wait", is_flag=True, help="Print the operation id and return at once."
            ),
            click.option("--quiet", "-q", is_flag=True, help="No live progress."),
            click.option("--format", "fmt", type=RESULT_FORMATS, default="text", show_default=True),
        ]
    ):
        func = option(func)
    return func


def _run(instance_id: str, operation: str, request: dict[str, Any], opts: dict[str, Any]) -> None:
    if opts["no_hooks"]:
        request.setdefault("additionalParams", {})["vnfm_hooks"] = False
    try:
        op = service().run_operation(
            instance_id=instance_id,
            operation=operation,
            request=request,
            on_event=Progress(progress_console(), opts["quiet"] or opts["fmt"] in ("json", "yaml")),
            wait=not opts["no_wait"],
        )
    except (LcmError, PackageError) as exc:
        fail_on(exc)
    finish(op, opts["fmt"])


@click.command("scale")
@click.argument("instance_id")
@click.option("--type", "kind", type=click.Choice(["SCALE_OUT", "SCALE_IN"]))
@click.option("--aspect", "aspect_id", help="Scaling aspect id.")
@click.option("--steps", type=int, help="Number of scaling steps (default 1).")
@_common
def scale(
    instance_id: str,
    kind: str | None,
    aspect_id: str | None,
    steps: int | None,
    params_file: str | None,
    **opts: Any,
) -> None:
    """Scale a VNF out or in by steps of one aspect."""
    request = load_request(params_file)
    for key, value in (("type", kind), ("aspectId", aspect_id), ("numberOfSteps", steps)):
        if value is not None:
            request[key] = value
    if "type" not in request or "aspectId" not in request:
        invalid("error: give --type and --aspect (or type and aspectId in --params)")
    _run(instance_id, "SCALE", request, opts)


@click.command("scale-to-level")
@click.argument("instance_id")
@click.option("--level", "level_id", help="Target instantiation level.")
@click.option(
    "--aspect", "aspects", multiple=True, metavar="ASPECT=LEVEL", help="Target level per aspect."
)
@_common
def scale_to_level(
    instance_id: str,
    level_id: str | None,
    aspects: tuple[str, ...],
    params_file: str | None,
    **opts: Any,
) -> None:
    """Scale a VNF to an instantiation level or to a level per aspect."""
    if level_id and aspects:
        invalid("error: give --level or --aspect, not both")
    request = load_request(params_file)
    if level_id:
        request["instantiationLevelId"] = level_id
    if aspects:
        infos = []
        for item in aspects:
            name, sep, value = item.partition("=")
            if not sep or not value.strip().isdigit():
                invalid(f"error: --aspect {item!r}: expected ASPECT=LEVEL, e.g. web=2")
            infos.append({"aspectId": name, "scaleLevel": int(value)})
        request["scaleInfo"] = infos
    _run(instance_id, "SCALE_TO_LEVEL", request, opts)


@click.command("change-flavour")
@click.argument("instance_id")
@click.option("--flavour", "flavour_id", help="New deployment flavour.")
@click.option("--level", "level_id", help="Instantiation level in the new flavour.")
@_common
def change_flavour(
    instance_id: str,
    flavour_id: str | None,
    level_id: str | None,
    params_file: str | None,
    **opts: Any,
) -> None:
    """Change the deployment flavour of a VNF."""
    request = load_request(params_file)
    if flavour_id:
        request["newFlavourId"] = flavour_id
    if level_id:
        request["instantiationLevelId"] = level_id
    if "newFlavourId" not in request:
        invalid("error: give --flavour (or newFlavourId in --params)")
    _run(instance_id, "CHANGE_FLAVOUR", request, opts)


@click.command("operate")
@click.argument("instance_id")
@click.option("--state", type=click.Choice(["STARTED", "STOPPED"]), help="Target state.")
@click.option("--stop-type", type=click.Choice(["GRACEFUL", "FORCEFUL"]))
@click.option("--graceful-timeout", type=int, help="Seconds a graceful stop may take.")
@click.option("--vnfc", "vnfcs", multiple=True, help="Only these VNFCs (repeatable).")
@_common
def operate(
    instance_id: str,
    state: str | None,
    stop_type: str | None,
    graceful_timeout: int | None,
    vnfcs: tuple[str, ...],
    params_file: str | None,
    **opts: Any,
) -> None:
    """Start or stop a VNF (or some of its VNFCs)."""
    request = load_request(params_file)
    for key, value in (
        ("changeStateTo", state),
        ("stopType", stop_type),
        ("gracefulStopTimeout", graceful_timeout),
    ):
        if value is not None:
            request[key] = value
    if vnfcs:
        request["vnfcInstanceId"] = list(vnfcs)
    if "changeStateTo" not in request:
        invalid("error: give --state (or changeStateTo in --params)")
    _run(instance_id, "OPERATE", request, opts)


@click.command("heal")
@click.argument("instance_id")
@click.option("--vnfc", "vnfcs", multiple=True, help="VNFC to heal (repeatable; all when omitted).")
@click.option("--cause", help="Why (recorded).")
@_common
def heal(
    instance_id: str,
    vnfcs: tuple[str, ...],
    cause: str | None,
    params_file: str | None,
    **opts: Any,
) -> None:
    """Heal a VNF: recreate its VNFCs (or the given ones) at the same addresses."""
    request = load_request(params_file)
    if vnfcs:
        request["vnfcInstanceId"] = list(vnfcs)
    if cause:
        request["cause"] = cause
    _run(instance_id, "HEAL", request, opts)


@click.command("change-ext-conn")
@click.argument("instance_id")
@_common
def change_ext_conn(instance_id: str, params_file: str | None, **opts: Any) -> None:
    """Change the external connectivity of a VNF (--params: ChangeExtVnfConnectivityRequest)."""
    request = load_request(params_file)
    if not request.get("extVirtualLinks"):
        invalid("error: --params must give extVirtualLinks")
    _run(instance_id, "CHANGE_EXT_CONN", request, opts)


@click.command("change-package")
@click.argument("instance_id")
@click.option("--vnfd-id", help="vnfdId of the onboarded package to move to.")
@_common
def change_package(
    instance_id: str, vnfd_id: str | None, params_file: str | None, **opts: Any
) -> None:
    """Change the current VNF package of a VNF (upgrade)."""
    request = load_request(params_file)
    if vnfd_id:
        request["vnfdId"] = vnfd_id
    if "vnfdId" not in request:
        invalid("error: give --vnfd-id (or vnfdId in --params)")
    _run(instance_id, "CHANGE_VNFPKG", request, opts)


@click.command("modify")
@click.argument("instance_id")
@click.option("--name", help="New vnfInstanceName.")
@click.option("--description", help="New vnfInstanceDescription.")
@click.option(
    "--set",
    "assignments",
    multiple=True,
    metavar="KEY=VALUE",
    help="Set a metadata entry (repeatable).",
)
@_common
def modify(
    instance_id: str,
    name: str | None,
    description: str | None,
    assignments: tuple[str, ...],
    params_file: str | None,
    **opts: Any,
) -> None:
    """Modify a VNF instance's information (no VIM change)."""
    request = load_request(params_file)
    if name is not None:
        request["vnfInstanceName"] = name
    if description is not None:
        request["vnfInstanceDescription"] = description
    for item in assignments:
        key, sep, value = item.partition("=")
        if not sep or not key:
            invalid(f"error: --set {item!r}: expected KEY=VALUE")
        request.setdefault("metadata", {})[key] = value
    if not request:
        invalid("error: nothing to modify (give --name, --description, --set or --params)")
    _run(instance_id, "MODIFY_INFO", request, opts)


@click.command("run-operation")
@click.argument("instance_id")
@click.argument("name")
@click.option("--params", "params_file", type=click.Path(), help="Parameters (JSON or YAML).")
@click.option("--no-wait", is_flag=True, help="Print the operation id and return at once.")
@click.option("--quiet", "-q", is_flag=True, help="No live progress.")
@click.option("--format", "fmt", type=RESULT_FORMATS, default="text", show_default=True)
def run_operation(
    instance_id: str, name: str, params_file: str | None, no_wait: bool, quiet: bool, fmt: str
) -> None:
    """Run an operation that the VNF's package defines (a vendor day-2 action)."""
    try:
        op = service().run_custom(
            instance_id=instance_id,
            name=name,
            params=load_request(params_file),
            on_event=Progress(progress_console(), quiet or fmt in ("json", "yaml")),
            wait=not no_wait,
        )
    except (LcmError, PackageError) as exc:
        fail_on(exc)
    finish(op, fmt)


COMMANDS = [
    run_operation,
    scale,
    scale_to_level,
    change_flavour,
    operate,
    heal,
    change_ext_conn,
    change_package,
    modify,
]
