"""A package's own operations: a vendor interface's playbook, recorded like any LCM op."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from vnfm_runner import records
from vnfm_runner.core import CUSTOM, STEP_OPERATIONS, VnfModel
from vnfm_runner.errors import LcmError
from vnfm_runner.executor import EventSink
from vnfm_runner.lcm.failures import fail
from vnfm_runner.lcm.hooks import plan_flavour
from vnfm_runner.secrets import redact
from vnfm_runner.store.tables import InstanceRow, OperationRow

if TYPE_CHECKING:
    from vnfm_runner.lcm.service import Vnfm


def start(svc: Vnfm, *, instance_id: str, name: str, params: dict[str, Any]) -> OperationRow:
    """The STARTING LcmOpOcc of an operation the package defines; LcmError otherwise."""
    instance = svc._instantiated(instance_id)
    _pkg, model = svc._package_for(instance)
    op_def = _definition(model, instance, name)
    request = {"name": name, "interface": op_def.interface, "params": params}
    return svc._start(instance, CUSTOM, redact(request), {"playbook": op_def.artifact_file})


def _definition(model: VnfModel, instance: InstanceRow, name: str) -> Any:
    flavour = model.flavour(plan_flavour(instance.desired_state or {}))
    custom = [op for op in (flavour.lcm_operations if flavour else []) if op.interface != "Vnflcm"]
    custom = [op for op in custom if op.name not in STEP_OPERATIONS]  # package change steps
    found = next((op for op in custom if op.name == name), None)
    if found is None or not found.artifact_file:
        names = ", ".join(sorted(op.name for op in custom if op.artifact_file)) or "none"
        raise LcmError(f"the VNF's package has no operation {name!r} (it has: {names})", 422)
    return found


def execute(svc: Vnfm, op: OperationRow, on_event: EventSink | None) -> None:
    instance = svc.instance(op.vnf_instance_id)
    pkg, _model = svc._package_for(instance)
    playbook = (op.doc.get("vnfmExecution") or {}).get("playbook")
    before = records.current_resources(instance.doc)
    svc._set_state(op, "PROCESSING")
    result = svc._run(
        op,
        "custom_operation.yml",
        trusted={
            "vnfm_vnf_instance_id": instance.id,
            "vnfm_package_dir": pkg.path,
            "vnfm_custom_playbook": str(Path(pkg.path) / str(playbook)),
            "vnfm_operation": CUSTOM,
        },
        untrusted={
            "vnfm_request": op.doc["operationParams"],
            "vnfm_current_plan": instance.desired_state or {},
            "vnfm_resources": before,
            "vnfm_additional_params": op.doc["operationParams"].get("params") or {},
        },
        on_event=on_event,
    )
    if result.ok:
        svc._set_state(op, "COMPLETED", playbookRuns=result.playbook_runs)
    else:
        fail(svc, op, result, "custom operation")
