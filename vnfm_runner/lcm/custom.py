"""A package's own operations: a vendor interface's playbook, recorded like any LCM op."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vnfm_runner import records
from vnfm_runner.core import STEP_OPERATIONS, VnfModel
from vnfm_runner.domain import Operation, OperationState, spec
from vnfm_runner.domain.records import VnfInstanceRecord, VnfLcmOpOccRecord
from vnfm_runner.errors import LcmError
from vnfm_runner.lcm import lookup
from vnfm_runner.lcm.failures import fail
from vnfm_runner.lcm.hooks import plan_flavour
from vnfm_runner.lcm.ports import Attempt, Ports
from vnfm_runner.lcm.recording import run, start, transition
from vnfm_runner.secrets import redact

SPEC = spec(Operation.CUSTOM)


def begin(
    ports: Ports, *, instance_id: str, name: str, params: dict[str, Any]
) -> VnfLcmOpOccRecord:
    """The STARTING LcmOpOcc of an operation the package defines; LcmError otherwise."""
    instance = lookup.instantiated(ports, instance_id)
    _pkg, model = lookup.package_for(ports, instance)
    op_def = _definition(model, instance, name)
    request = {"name": name, "interface": op_def.interface, "params": params}
    execution = {"playbook": op_def.artifact_file}
    return start(ports, instance, Operation.CUSTOM, redact(request), execution)


def _definition(model: VnfModel, instance: VnfInstanceRecord, name: str) -> Any:
    flavour = model.flavour(plan_flavour(instance.desired_state or {}))
    custom = [op for op in (flavour.lcm_operations if flavour else []) if op.interface != "Vnflcm"]
    custom = [op for op in custom if op.name not in STEP_OPERATIONS]  # package change steps
    found = next((op for op in custom if op.name == name), None)
    if found is None or not found.artifact_file:
        names = ", ".join(sorted(op.name for op in custom if op.artifact_file)) or "none"
        raise LcmError(f"the VNF's package has no operation {name!r} (it has: {names})", 422)
    return found


def execute(ports: Ports, op: VnfLcmOpOccRecord, attempt: Attempt) -> None:
    instance = lookup.instance(ports, op.vnf_instance_id)
    pkg, _model = lookup.package_for(ports, instance)
    playbook = (op.doc.get("vnfmExecution") or {}).get("playbook")
    before = records.current_resources(instance.doc)
    transition(ports, op, OperationState.PROCESSING)
    result = run(
        ports,
        op,
        attempt,
        SPEC.playbook,
        variables={
            "vnfm_vnf_instance_id": instance.id,
            "vnfm_package_dir": pkg.path,
            "vnfm_custom_playbook": str(Path(pkg.path) / str(playbook)),
            "vnfm_operation": str(Operation.CUSTOM),
            "vnfm_request": op.doc["operationParams"],
            "vnfm_vnf_configurable_properties": records.configurable_properties(instance.doc, {}),
            "vnfm_current_plan": instance.desired_state or {},
            "vnfm_resources": before,
            "vnfm_additional_params": op.doc["operationParams"].get("params") or {},
        },
    )
    if result.ok:
        transition(ports, op, OperationState.COMPLETED, playbookRuns=result.playbook_runs)
    else:
        fail(ports, op, result, "custom operation")
