# Copyright: vnfm-toolkit developers
# Apache License 2.0 (see LICENSE)
"""Decide: a lifecycle request + the instance's current inputs → its next inputs.

The *inputs* of a plan (flavour, level, scale levels, external links, power
states) are what an operation changes; :func:`next_inputs` computes them for
every SOL003 operation, refusing impossible requests (beyond an aspect's max,
an unknown VNFC…) before anything runs. The planner then turns inputs into
the desired state. Pure functions, shared by the runner and the modules.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.nfv.vnfm.plugins.module_utils.errors import PlanError
from ansible_collections.nfv.vnfm.plugins.module_utils.operations import (
    OPERATIONS,
    Operation,
)
from ansible_collections.nfv.vnfm.plugins.module_utils.plan.package_change import (
    check_flavour,
    package_change,
)
from ansible_collections.nfv.vnfm.plugins.module_utils.plan.planner import PlanRequest, plan
from ansible_collections.nfv.vnfm.plugins.module_utils.vnfd.model import VnfModel

# SOL003 LcmOperationType values, with the Vnflcm hook name prefix of each (the
# operation table's; kept as names the runner imports).
HOOK_PREFIX = {str(op): s.hook_prefix for op, s in OPERATIONS.items() if s.hook_prefix}
# A package's own operation (a vendor interface of the VNFD): no VIM change.
CUSTOM = str(Operation.CUSTOM)


@dataclass
class Decision:
    """What an operation wants: the next inputs, and VNFCs to recreate."""

    inputs: dict[str, Any]
    heal: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # CHANGE_VNFPKG: the VNFCs to replace, their batches and the package's steps.
    rolling: dict[str, Any] = field(default_factory=dict)


# additionalParams of an instantiation that container VIMs read for the VNF's whole life
# (docs/cnf.md): kept in the inputs, so every later plan carries them.
CONTAINER_PARAMS = (
    "lcm-kubernetes-def-files",
    "namespace",
    "helm_chart_path",
    "helm_value_names",
    "helm_parameters",
)


def inputs_of(request: dict[str, Any]) -> dict[str, Any]:
    """The inputs an InstantiateVnfRequest sets."""
    inputs = {
        "flavourId": request.get("flavourId"),
        "instantiationLevelId": request.get("instantiationLevelId"),
        "scaleLevels": request.get("scaleLevels"),
        "extVirtualLinks": list(request.get("extVirtualLinks") or []),
        "vnfState": "STARTED",
        "stoppedVnfcs": [],
    }
    params = request.get("additionalParams")
    container = {k: params[k] for k in CONTAINER_PARAMS if isinstance(params, dict) and k in params}
    if container:
        inputs["containerParams"] = container
    return inputs


def plan_request(
    instance_id: str, inputs: dict[str, Any], vim_mapping: dict[str, Any] | None = None
) -> PlanRequest:
    if not isinstance(inputs.get("flavourId"), str):
        raise PlanError("flavourId is missing")
    return PlanRequest(
        vnf_instance_id=instance_id,
        flavour_id=inputs["flavourId"],
        instantiation_level_id=inputs.get("instantiationLevelId"),
        scale_levels=inputs.get("scaleLevels"),
        ext_virtual_links=list(inputs.get("extVirtualLinks") or []),
        power_off=_stopped(inputs),
        vim_mapping=dict(vim_mapping or {}),
    )


def _stopped(inputs: dict[str, Any]) -> list[str] | bool:
    if inputs.get("vnfState") == "STOPPED":
        return True
    return list(inputs.get("stoppedVnfcs") or [])


def _int(value: Any, name: str, default: int | None = None) -> int:
    if value is None and default is not None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise PlanError(f"{name} must be an integer, got {value!r}")
    return value


def _vnfc_ids(current_plan: dict[str, Any]) -> list[str]:
    return [v["id"] for v in current_plan.get("vnfcs", [])]


def check_ext_virtual_links(links: Any) -> None:
    """SOL003 ExtVirtualLinkData as a VIM can use it: id, resourceId, extCps[].cpdId.

    Checked when the request comes (the same function runs in the engine), so that
    a link no VIM can attach is refused instead of failing half-way in the VIM.
    """
    if not isinstance(links, list):
        raise PlanError("extVirtualLinks must be a list")
    for n, link in enumerate(links):
        where = f"extVirtualLinks[{n}]"
        if not isinstance(link, dict):
            raise PlanError(f"{where} must be an object")
        for key in ("id", "resourceId"):
            if not isinstance(link.get(key), str) or not link[key]:
                raise PlanError(f"{where}.{key} is missing (a non-empty string)")
        cps = link.get("extCps")
        if not isinstance(cps, list) or not cps:
            raise PlanError(f"{where}.extCps is missing (at least one external CP)")
        for k, cp in enumerate(cps):
            if not isinstance(cp, dict) or not isinstance(cp.get("cpdId"), str):
                raise PlanError(f"{where}.extCps[{k}].cpdId is missing")


def next_inputs(
    model: VnfModel,
    operation: str,
    request: dict[str, Any],
    current_plan: dict[str, Any] | None,
) -> Decision:
    """The inputs after ``operation``; PlanError for a request that cannot be done."""
    try:
        op = Operation(operation)
    except ValueError:
        raise PlanError(f"unsupported operation {operation!r}") from None
    if op == Operation.INSTANTIATE:
        return Decision(inputs_of(request))
    if not current_plan:
        raise PlanError(f"{operation} needs an instantiated VNF")
    current = copy.deepcopy(current_plan.get("inputs") or {})
    current.setdefault("scaleLevels", None)
    levels = dict(current_plan.get("scaleLevels") or {})
    flavour = model.flavour(str(current.get("flavourId")))
    if op == Operation.SCALE:
        if flavour is None:
            raise PlanError(f"the VNF's flavour {current.get('flavourId')!r} is not in its package")
        kind = request.get("type")
        if kind not in ("SCALE_OUT", "SCALE_IN"):
            raise PlanError(f"type must be SCALE_OUT or SCALE_IN, got {kind!r}")
        aspect_id = request.get("aspectId")
        aspect = flavour.aspect(str(aspect_id))
        if aspect is None:
            defect = flavour.defects.get(f"aspect:{aspect_id}")
            if defect:
                raise PlanError(f"aspectId {aspect_id!r} uses a defect of the VNFD: {defect}")
            names = ", ".join(a.id for a in flavour.scaling_aspects) or "none"
            raise PlanError(
                f"aspectId {aspect_id!r} is not an aspect of flavour {flavour.id!r} (known: {names})"
            )
        steps = _int(request.get("numberOfSteps"), "numberOfSteps", 1)
        if steps < 1:
            raise PlanError("numberOfSteps must be at least 1")
        now = levels.get(aspect.id, 0)
        new = now + steps if kind == "SCALE_OUT" else now - steps
        if new > aspect.max_scale_level:
            raise PlanError(
                f"cannot scale out aspect {aspect.id!r} by {steps}: level {now} + {steps} "
                f"exceeds its max_scale_level {aspect.max_scale_level}"
            )
        if new < 0:
            raise PlanError(
                f"cannot scale in aspect {aspect.id!r} by {steps}: it is at level {now}"
            )
        levels[aspect.id] = new
        current["scaleLevels"] = levels
        current["instantiationLevelId"] = None
        return Decision(current)
    if op == Operation.SCALE_TO_LEVEL:
        if request.get("instantiationLevelId") and request.get("scaleInfo"):
            raise PlanError("give instantiationLevelId or scaleInfo, not both")
        if request.get("instantiationLevelId"):
            current["instantiationLevelId"] = request["instantiationLevelId"]
            current["scaleLevels"] = None
        else:
            infos = request.get("scaleInfo")
            if not isinstance(infos, list) or not infos:
                raise PlanError("scale to level needs instantiationLevelId or scaleInfo")
            for n, info in enumerate(infos):
                if not isinstance(info, dict) or "aspectId" not in info:
                    raise PlanError(f"scaleInfo[{n}] needs aspectId and scaleLevel")
                levels[str(info["aspectId"])] = _int(
                    info.get("scaleLevel"), f"scaleInfo[{n}].scaleLevel"
                )
            current["scaleLevels"] = levels
            current["instantiationLevelId"] = None
        return Decision(current)
    if op == Operation.CHANGE_FLAVOUR:
        new_flavour = request.get("newFlavourId")
        if not isinstance(new_flavour, str):
            raise PlanError("newFlavourId is missing")
        current["flavourId"] = new_flavour
        current["instantiationLevelId"] = request.get("instantiationLevelId")
        current["scaleLevels"] = None
        if request.get("extVirtualLinks") is not None:
            check_ext_virtual_links(request["extVirtualLinks"])
            current["extVirtualLinks"] = list(request["extVirtualLinks"])
        return Decision(current)
    if op == Operation.HEAL:
        known = _vnfc_ids(current_plan)
        wanted = request.get("vnfcInstanceId")
        params = request.get("additionalParams") or {}
        if not wanted or params.get("all"):
            wanted = known
        if not isinstance(wanted, list):
            raise PlanError("vnfcInstanceId must be a list of VNFC ids")
        unknown = [v for v in wanted if v not in known]
        if unknown:
            raise PlanError(f"unknown VNFC ids {unknown} (the VNF has: {', '.join(known)})")
        return Decision(current, heal=sorted(str(v) for v in wanted))
    if op == Operation.OPERATE:
        state = request.get("changeStateTo")
        if state not in ("STARTED", "STOPPED"):
            raise PlanError(f"changeStateTo must be STARTED or STOPPED, got {state!r}")
        vnfcs = request.get("vnfcInstanceId") or (request.get("additionalParams") or {}).get(
            "vnfcInstanceId"
        )
        if vnfcs:
            known = _vnfc_ids(current_plan)
            unknown = [v for v in vnfcs if v not in known]
            if unknown:
                raise PlanError(f"unknown VNFC ids {unknown} (the VNF has: {', '.join(known)})")
            stopped = set(current.get("stoppedVnfcs") or [])
            stopped = stopped | set(vnfcs) if state == "STOPPED" else stopped - set(vnfcs)
            current["stoppedVnfcs"] = sorted(stopped)
            if state == "STARTED":
                current["vnfState"] = "STARTED"
        else:
            current["vnfState"] = state
            current["stoppedVnfcs"] = []
        # How the VIM stops servers (OpenStack waits gracefulStopTimeout for SHUTOFF);
        # kept so that servers created later for a stopped VNFC are stopped the same way.
        stop_type = request.get("stopType")
        if stop_type not in (None, "GRACEFUL", "FORCEFUL"):
            raise PlanError(f"stopType must be GRACEFUL or FORCEFUL, got {stop_type!r}")
        timeout = request.get("gracefulStopTimeout")
        if timeout is not None and _int(timeout, "gracefulStopTimeout") < 0:
            raise PlanError("gracefulStopTimeout must be at least 0")
        if state == "STOPPED":
            current["stopType"] = stop_type or "GRACEFUL"
            current["gracefulStopTimeout"] = timeout
        return Decision(current)
    if op == Operation.CHANGE_EXT_CONN:
        links = request.get("extVirtualLinks")
        if not isinstance(links, list) or not links:
            raise PlanError("extVirtualLinks is missing")
        check_ext_virtual_links(links)
        by_id = {str(link.get("id")): link for link in current.get("extVirtualLinks") or []}
        for link in links:
            by_id[str(link["id"])] = link
        current["extVirtualLinks"] = [by_id[k] for k in sorted(by_id)]
        return Decision(current)
    if op == Operation.CHANGE_VNFPKG:
        # Same inputs, new package: its flavour of the same id must exist.
        check_flavour(model, str(current.get("flavourId")))
        return Decision(current)
    if not OPERATIONS[op].changes_vim:  # MODIFY_INFO, a package's own operation
        return Decision(current)
    raise PlanError(f"unsupported operation {operation!r}")


def decide_plan(
    model: VnfModel,
    instance_id: str,
    operation: str,
    request: dict[str, Any],
    current_plan: dict[str, Any] | None,
    vim_mapping: dict[str, Any] | None = None,
    *,
    current_model: VnfModel | None = None,
    package_dir: str | None = None,
    resources: dict[str, Any] | None = None,
) -> tuple[dict[str, Any], Decision, dict[str, list[str]]]:
    """(new plan, decision, {added, removed, kept} VNFC ids) for an operation.

    CHANGE_VNFPKG needs ``current_model`` (the package the VNF runs now) and
    ``package_dir`` (the new package's directory, for its step files);
    ``resources`` (what the VIM holds now) tells which VNFCs already run the new
    package's software.
    """
    decision = next_inputs(model, operation, request, current_plan)
    new_plan = plan(model, plan_request(instance_id, decision.inputs, vim_mapping))
    new_plan["inputs"] = decision.inputs
    if operation == Operation.CHANGE_VNFPKG:
        if current_model is None or package_dir is None:
            raise PlanError("CHANGE_VNFPKG needs the current package and the new package directory")
        decision.rolling = package_change(
            current_model, model, current_plan or {}, new_plan, request, package_dir, resources
        )
    before = set(_vnfc_ids(current_plan or {}))
    after = {v["id"] for v in new_plan["vnfcs"]}
    delta = {
        "added": sorted(after - before),
        "removed": sorted(before - after),
        "kept": sorted(before & after),
    }
    return new_plan, decision, delta
