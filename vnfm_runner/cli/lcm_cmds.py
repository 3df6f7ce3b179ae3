"""Lifecycle commands: onboard, create, instantiate, terminate, delete, show, list, op."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import yaml

from vnfm_runner.cli.output import (
    FORMATS,
    RESULT_FORMATS,
    ExitCode,
    code_of,
    console,
    emit,
    fail,
    fail_on,
    invalid,
    progress_console,
    table,
)
from vnfm_runner.cli.progress import Progress
from vnfm_runner.cli.timings_out import show_timings
from vnfm_runner.core import PackageError
from vnfm_runner.domain import OperationState
from vnfm_runner.errors import LcmError

if TYPE_CHECKING:
    from vnfm_runner.lcm import Vnfm


def service() -> Vnfm:
    # Imported here: commands that need no records start without the engine.
    from vnfm_runner.cli.services import lcm

    return lcm()


def load_request(path: str | None) -> dict[str, Any]:
    """A SOL003 request body from a JSON or YAML file (or {} without one)."""
    if not path:
        return {}
    try:
        text = Path(path).read_text()
    except OSError as exc:
        invalid(f"{path}: {exc.strerror}")
    try:
        data = json.loads(text) if path.endswith(".json") else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        invalid(f"{path}: not valid {'JSON' if path.endswith('.json') else 'YAML'}: {exc}")
    if not isinstance(data, dict):
        invalid(f"{path}: the request must be a mapping (a SOL003 request body)")
    return data


def summary(op: dict[str, Any], fmt: str | None) -> None:
    """An operation occurrence as the document (json/yaml) or its one-line summary."""
    if fmt in ("json", "yaml"):
        emit(op, fmt)
    else:
        click.echo(f"operation {op['id']} {op['operation']}: {op['operationState']}")


def finish(op: dict[str, Any], fmt: str | None = None) -> None:
    """Print the operation's outcome; exit 1 (FAILED) unless it completed."""
    state = op["operationState"]
    if state == OperationState.STARTING:  # --no-wait: the operation runs in a worker
        click.echo(op["id"])
        return
    summary(op, fmt)
    if state != OperationState.COMPLETED:
        err = op.get("error") or {}
        fail(f"error: {err.get('detail', 'operation did not complete')}", ExitCode.FAILED)


@click.command("create")
@click.option("--vnfd-id", required=True)
@click.option("--name", default=None)
@click.option("--description", default=None)
def create(vnfd_id: str, name: str | None, description: str | None) -> None:
    """Create a VNF instance identifier; print it."""
    try:
        doc = service().create(vnfd_id=vnfd_id, name=name, description=description)
    except LcmError as exc:
        fail_on(exc)
    click.echo(doc["id"])


@click.command("instantiate")
@click.argument("instance_id")
@click.option(
    "--flavour", "flavour_id", help="Deployment flavour (overrides the request's flavourId)."
)
@click.option("--level", "level_id", help="Instantiation level (overrides instantiationLevelId).")
@click.option("--vim", "vim_name", default=None, help="Registered VIM name (default: local).")
@click.option(
    "--params", "params_file", type=click.Path(), help="SOL003 InstantiateVnfRequest (JSON/YAML)."
)
@click.option("--no-hooks", is_flag=True, help="Change only VIM resources; run no package hooks.")
@click.option("--no-rollback", is_flag=True, help="Leave a failed instantiation in FAILED_TEMP.")
@click.option("--quiet", "-q", is_flag=True, help="No live progress.")
@click.option("--no-wait", is_flag=True, help="Print the operation id and return at once.")
@click.option("--format", "fmt", type=RESULT_FORMATS, default="text", show_default=True)
def instantiate(
    instance_id: str,
    flavour_id: str | None,
    level_id: str | None,
    vim_name: str | None,
    params_file: str | None,
    no_hooks: bool,
    no_rollback: bool,
    quiet: bool,
    no_wait: bool,
    fmt: str,
) -> None:
    """Instantiate a VNF instance and wait for the result."""
    request = load_request(params_file)
    if flavour_id:
        request["flavourId"] = flavour_id
    if level_id:
        request["instantiationLevelId"] = level_id
    if no_hooks:
        request.setdefault("additionalParams", {})["vnfm_hooks"] = False
    if "flavourId" not in request:
        invalid("error: give --flavour or a flavourId in --params")
    try:
        op = service().instantiate(
            instance_id=instance_id,
            request=request,
            vim_name=vim_name,
            on_event=Progress(progress_console(), quiet or fmt in ("json", "yaml")),
            auto_rollback=not no_rollback,
            wait=not no_wait,
        )
    except (LcmError, PackageError) as exc:
        fail_on(exc)
    finish(op, fmt)


@click.command("terminate")
@click.argument("instance_id")
@click.option(
    "--graceful-timeout", type=int, default=None, help="Seconds the VNF may take to drain."
)
@click.option("--forceful", is_flag=True, help="Skip the graceful hooks; remove everything now.")
@click.option("--no-hooks", is_flag=True, help="Run no package hooks (graceful or not).")
@click.option("--quiet", "-q", is_flag=True)
@click.option("--no-wait", is_flag=True, help="Print the operation id and return at once.")
@click.option("--format", "fmt", type=RESULT_FORMATS, default="text", show_default=True)
def terminate(
    instance_id: str,
    graceful_timeout: int | None,
    forceful: bool,
    no_hooks: bool,
    quiet: bool,
    no_wait: bool,
    fmt: str,
) -> None:
    """Terminate a VNF instance (graceful by default) and wait for the result."""
    if forceful and graceful_timeout is not None:
        invalid("error: --forceful and --graceful-timeout exclude each other")
    request: dict[str, Any] = {"terminationType": "FORCEFUL" if forceful else "GRACEFUL"}
    if graceful_timeout is not None:
        request["gracefulTerminationTimeout"] = graceful_timeout
    if no_hooks:
        request["additionalParams"] = {"vnfm_hooks": False}
    try:
        op = service().terminate(
            instance_id=instance_id,
            request=request,
            on_event=Progress(progress_console(), quiet or fmt in ("json", "yaml")),
            wait=not no_wait,
        )
    except (LcmError, PackageError) as exc:
        fail_on(exc)
    finish(op, fmt)


@click.command("execute-operation", hidden=True)
@click.argument("op_id")
@click.option("--mode", type=click.Choice(["run", "retry", "rollback"]), default="run")
def execute_operation(op_id: str, mode: str) -> None:
    """Worker: carry an operation forward (what --no-wait starts)."""
    try:
        service().execute(op_id, mode=mode)
    except LcmError as exc:
        fail_on(exc)


@click.command("delete")
@click.argument("instance_id")
@click.option("--force", is_flag=True, help="Even while its VIM holds resources of it.")
def delete(instance_id: str, force: bool) -> None:
    """Delete a VNF instance identifier (it must be NOT_INSTANTIATED; refused while its
    VIM still holds resources of it, unless --force: they become orphans)."""
    try:
        service().delete(instance_id=instance_id, force=force)
    except LcmError as exc:
        fail_on(exc)
    click.echo(f"deleted {instance_id}")


@click.command("show")
@click.argument("instance_id")
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
def show(instance_id: str, fmt: str) -> None:
    """Show a VNF instance (SOL003 VnfInstance)."""
    try:
        doc = service().instance(instance_id).doc
    except LcmError as exc:
        fail_on(exc)
    if fmt != "table":
        emit(doc, fmt)
        return
    out = console()
    out.print(
        f"[bold]{doc['id']}[/] {doc.get('vnfInstanceName') or ''} {doc['vnfProductName']} "
        f"{doc['vnfSoftwareVersion']}: {doc['instantiationState']}"
    )
    info = doc.get("instantiatedVnfInfo")
    if info:
        rows = []
        for vnfc in info["vnfcResourceInfo"]:
            addrs: list[str] = []
            for cp in vnfc.get("vnfcCpInfo", []):
                for proto in cp.get("cpProtocolInfo", []):
                    for ip in (proto.get("ipOverEthernet") or {}).get("ipAddresses", []):
                        addrs.extend(f"{cp['cpdId']}={a}" for a in ip.get("addresses", []))
            rows.append(
                [vnfc["id"], vnfc["vduId"], vnfc["computeResource"]["resourceId"], " ".join(addrs)]
            )
        out.print(
            table(
                f"flavour {info['flavourId']}, scale "
                + ", ".join(f"{s['aspectId']}={s['scaleLevel']}" for s in info["scaleStatus"]),
                ["VNFC", "VDU", "resource", "addresses"],
                rows,
            )
        )


@click.command("list")
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
def list_instances(fmt: str) -> None:
    """List VNF instances."""
    rows = service().store.instances()
    if fmt != "table":
        emit([r.doc for r in rows], fmt)
        return
    console().print(
        table(
            "VNF instances",
            ["id", "name", "vnfdId", "state"],
            [[r.id, r.doc.get("vnfInstanceName"), r.vnfd_id, r.instantiation_state] for r in rows],
        )
    )


@click.group("op")
def op_group() -> None:
    """LCM operation occurrences."""


@op_group.command("show")
@click.argument("op_id")
@click.option(
    "--format", "fmt", type=FORMATS, default=None, help="Default: json (table with --timings)."
)
@click.option("--timings", is_flag=True, help="Where the time went (vnfmTimings), per phase.")
def op_show(op_id: str, fmt: str | None, timings: bool) -> None:
    """Show an LCM operation occurrence (SOL003 VnfLcmOpOcc)."""
    try:
        op = service().operation(op_id)
    except LcmError as exc:
        fail_on(exc)
    if timings:
        show_timings(op, fmt or "table")
        return
    fmt = fmt or "json"
    if fmt != "table":
        emit(op, fmt)
        return
    err = (op.get("error") or {}).get("detail")
    rows = [
        ["operation", op.get("operation")],
        ["state", op.get("operationState")],
        ["instance", op.get("vnfInstanceId")],
        ["started", op.get("startTime")],
        ["state entered", op.get("stateEnteredTime")],
        ["automatic", op.get("isAutomaticInvocation")],
    ] + ([["error", err]] if err else [])
    console().print(table(f"operation {op.get('id')}", ["field", "value"], rows))


@op_group.command("list")
@click.option("--instance", "instance_id", default=None)
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
def op_list(instance_id: str | None, fmt: str) -> None:
    """List LCM operation occurrences (oldest first)."""
    svc = service()
    rows = svc.store.operations(instance_id)
    if fmt != "table":
        emit([svc.operation(r.id) for r in rows], fmt)
        return
    console().print(
        table(
            "LCM operations",
            ["id", "instance", "operation", "state"],
            [[r.id, r.vnf_instance_id, r.operation, r.state] for r in rows],
        )
    )


def _op_task(op_id: str, action: str, quiet: bool, no_wait: bool, fmt: str) -> None:
    svc = service()
    progress = Progress(progress_console(), quiet or fmt in ("json", "yaml"))
    try:
        if action == "retry":
            op = svc.retry(op_id, on_event=progress, wait=not no_wait)
        elif action == "rollback":
            op = svc.rollback(op_id, on_event=progress, wait=not no_wait)
        else:
            op = svc.fail(op_id)
    except LcmError as exc:
        fail_on(exc)
    expected = {
        "retry": OperationState.COMPLETED,
        "rollback": OperationState.ROLLED_BACK,
        "fail": OperationState.FAILED,
    }[action]
    state = op["operationState"]
    if state == OperationState.STARTING or (no_wait and state == OperationState.FAILED_TEMP):
        click.echo(op["id"])
        return
    summary(op, fmt)
    if op["operationState"] != expected:
        fail(
            f"error: {(op.get('error') or {}).get('detail', 'the operation did not end ' + expected)}",
            ExitCode.FAILED,
        )


def _task_command(action: str, doc: str) -> click.Command:
    @click.argument("op_id")
    @click.option("--quiet", "-q", is_flag=True, help="No live progress.")
    @click.option("--no-wait", is_flag=True, help="Return at once.")
    @click.option("--format", "fmt", type=RESULT_FORMATS, default="text", show_default=True)
    def command(op_id: str, quiet: bool, no_wait: bool, fmt: str) -> None:
        _op_task(op_id, action, quiet, no_wait, fmt)

    command.__doc__ = doc
    return op_group.command(action)(command)


_task_command("retry", "Run a FAILED_TEMP operation again.")
_task_command("rollback", "Return a FAILED_TEMP operation's VNF to its state before it.")
_task_command("fail", "Mark a FAILED_TEMP operation FAILED (final).")


@op_group.command("cancel")
@click.argument("op_id")
@click.option(
    "--mode", type=click.Choice(["GRACEFUL", "FORCEFUL"]), default="GRACEFUL", show_default=True
)
def op_cancel(op_id: str, mode: str) -> None:
    """Cancel a running operation (it ends FAILED_TEMP, or ROLLED_BACK if not begun)."""
    try:
        op = service().cancel(op_id, mode)
    except LcmError as exc:
        fail_on(exc)
    click.echo(
        f"operation {op['id']} {op['operation']}: {op['operationState']}"
        + (" (cancel pending)" if op.get("isCancelPending") else "")
    )


@op_group.command("logs")
@click.argument("op_id")
def op_logs(op_id: str) -> None:
    """Print the ansible-playbook output of every run of an operation, oldest first."""
    try:
        doc = service().operation(op_id)
    except LcmError as exc:
        fail_on(exc)
    artifacts = doc.get("artifactsDir")
    runs_dir = Path(artifacts).parents[2] if artifacts else None
    outputs = (
        sorted(runs_dir.glob("*/artifacts/*/stdout")) if runs_dir and runs_dir.is_dir() else []
    )
    if not outputs:
        fail(f"error: no output recorded for {op_id}", ExitCode.NOT_FOUND)
    for stdout in sorted(outputs, key=lambda p: int(p.parent.name.split("-", 1)[0])):
        click.echo(f"===== run {stdout.parent.name}")
        click.echo(stdout.read_text(errors="replace"), nl=False)


@click.command("demo")
@click.option("--level", default="small", show_default=True, help="Instantiation level of webfarm.")
@click.option(
    "--requests", default=12, show_default=True, help="HTTP requests to send through the LB."
)
@click.option("--quiet", "-q", is_flag=True, help="No task-by-task progress.")
@click.option("--cnf", is_flag=True, help="The sample CNF webfarm-cnf on the podman VIM instead.")
def demo(level: str, requests: int, quiet: bool, cnf: bool) -> None:
    """Run webfarm's whole lifecycle on the local VIM (--cnf: webfarm-cnf on podman), checked."""
    from vnfm_runner.demo import DemoFailed, run_demo
    from vnfm_runner.demo_cnf import run_cnf_demo

    out = console()
    try:
        run = run_cnf_demo if cnf else run_demo
        run(service(), out, lambda: Progress(out, quiet), level=level, requests=requests)
    except (DemoFailed, LcmError, PackageError) as exc:
        fail(f"demo failed: {exc}", code_of(exc) if isinstance(exc, LcmError) else ExitCode.FAILED)
