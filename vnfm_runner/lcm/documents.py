"""The VnfInstance parts an operation writes from the VNF model and what the VIM reported."""

from __future__ import annotations

from typing import Any

from vnfm_runner import records
from vnfm_runner.core import VnfModel
from vnfm_runner.lcm.hooks import plan_flavour


def vnf_info(model: VnfModel, plan: dict[str, Any], resources: dict[str, Any]) -> dict[str, Any]:
    """instantiatedVnfInfo of a plan and the resources the VIM reported for it."""
    flavour = model.flavour(plan_flavour(plan))
    max_levels = {a.id: a.max_scale_level for a in (flavour.scaling_aspects if flavour else [])}
    return records.instantiated_info(plan, resources, max_levels)
