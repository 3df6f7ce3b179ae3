# Copyright: vnfm-toolkit developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""The plan of one step of a rolling package change."""

from __future__ import annotations

DOCUMENTATION = r"""
---
name: rolling_plan
short_description: The new plan with the VNFCs not replaced yet kept as they are
version_added: "0.1.0"
description:
  - During a rolling change of the current VNF package, each batch reconciles the
    VIM to the new plan except for the VNFCs whose batch has not come yet; they
    keep their entry of the current plan, so that a VIM which replaces a server
    whose image differs leaves them alone.
  - The VNFCs waiting and those of the batch being replaced (I(installing)) have no
    C(softwareGeneration) in it; the plan that records the new software generation on a
    batch is the one given after the batch completed, without it in I(pending) nor
    I(installing).
author:
  - vnfm-toolkit developers
options:
  _input:
    description: The new plan.
    type: dict
    required: true
  current_plan:
    description: The plan before the change.
    type: dict
    required: true
  pending:
    description: VNFC ids not replaced yet.
    type: list
    elements: str
    required: true
  installing:
    description: VNFC ids of the batch being replaced now (its software is not installed yet).
    type: list
    elements: str
    default: []
"""

EXAMPLES = r"""
- name: Recreate web-1, keeping web-2 and web-3 as they are
  nfv.vnfm.vnf_resources:
    plan: "{{ new_plan | nfv.vnfm.rolling_plan(current_plan, ['web-2', 'web-3'], ['web-1']) }}"
    vim: {vimType: local}
    heal: [web-1]
    heal_token: "{{ vnfm_operation_id }}"
"""

RETURN = r"""
_value:
  description: A plan (see docs/plan-format.md).
  type: dict
"""

from ansible_collections.nfv.vnfm.plugins.module_utils.plan.package_change import rolling_plan


class FilterModule:
    """Rolling package change filters."""

    def filters(self):
        return {"rolling_plan": rolling_plan}
