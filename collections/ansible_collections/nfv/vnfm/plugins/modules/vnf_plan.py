#!/usr/bin/python
# Copyright: vnfm-toolkit developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: vnf_plan
short_description: Compute the desired state of a VNF instance from its package and a request
version_added: "0.1.0"
description:
  - Reads the VNF package and plans the instance's desired state for a deployment
    flavour and an instantiation level or a scale level per aspect.
  - The plan lists the VNFCs of every VDU with their connection points, fixed
    addresses and MAC addresses, the internal virtual links, volumes, server groups
    and security group rules, all named after the instance id.
  - A pure computation, the same input gives the same plan; VIM drivers
    (M(nfv.vnfm.vnf_resources)) reconcile it.
author:
  - vnfm-toolkit developers (!UNKNOWN)
options:
  aspect_levels:
    description:
      - Scale level per scaling aspect; overrides the levels that come with
        I(instantiation_level_id).
    type: dict
  current_plan:
    description:
      - The instance's current plan (its desired state before the operation), as a
        previous run of this module returned it. Needed by every I(operation) other
        than C(INSTANTIATE).
    type: dict
  current_package:
    description:
      - Path of the VNF package the instance runs now (CSAR zip or directory).
      - Required when I(operation=CHANGE_VNFPKG); I(package) is then the new package,
        as a directory, and the module compares the two VDU by VDU (see C(rolling)).
    type: path
  ext_virtual_links:
    description:
      - External virtual links of the request, in the ETSI NFV-SOL 003
        C(ExtVirtualLinkData) shape (C(id), C(resourceId), C(extCps)).
    type: list
    elements: dict
    default: []
  flavour_id:
    description:
      - Deployment flavour of the instance.
      - Required when I(operation=INSTANTIATE) and no I(request) is given.
    type: str
  instantiation_level_id:
    description:
      - Instantiation level; the flavour's default level when omitted.
    type: str
  operation:
    description:
      - The SOL003 lifecycle operation whose result to plan. With an I(operation) other
        than C(INSTANTIATE), the module decides the next inputs from I(request) and
        I(current_plan) (for example the new scale level of a C(SCALE)) and refuses a
        request that cannot be done.
    type: str
    default: INSTANTIATE
    choices: [INSTANTIATE, SCALE, SCALE_TO_LEVEL, CHANGE_FLAVOUR, HEAL, OPERATE, CHANGE_EXT_CONN, MODIFY_INFO, CHANGE_VNFPKG, CUSTOM]
  package:
    description:
      - Path of the VNF package (CSAR zip or directory).
    type: path
    required: true
  request:
    description:
      - The SOL003 request body of the operation (for example a C(ScaleVnfRequest)).
      - For C(INSTANTIATE) it replaces I(flavour_id), I(instantiation_level_id),
        I(aspect_levels) and I(ext_virtual_links).
    type: dict
  resources:
    description:
      - The instance's resources as the VIM reports them now (C(resources) of
        M(nfv.vnfm.vnf_resources_info)). With I(operation=CHANGE_VNFPKG), a VNFC whose
        recorded C(metadata.softwareGeneration) is already the new plan's is not
        replaced (retry), nor one still on the old software when going back (rollback).
    type: dict
  vim_mapping:
    description:
      - VIM names for package items, C(images) (by VDU id or image name) and
        C(flavours) (by VDU id).
    type: dict
    default: {}
  vnf_instance_id:
    description:
      - Identifier of the VNF instance; every name in the plan derives from it.
    type: str
    required: true
attributes:
  check_mode:
    support: full
    description: The module only computes; it runs the same in check mode.
  diff_mode:
    support: none
    description: The module changes nothing, so it has no diff.
requirements:
  - PyYAML
  - netaddr
"""

EXAMPLES = r"""
- name: Plan a small webfarm
  nfv.vnfm.vnf_plan:
    package: examples/packages/webfarm
    vnf_instance_id: 6f1c2a9b-0000-4000-8000-000000000001
    flavour_id: default
    instantiation_level_id: small
  register: webfarm_plan

- name: Plan four web servers
  nfv.vnfm.vnf_plan:
    package: examples/packages/webfarm
    vnf_instance_id: 6f1c2a9b-0000-4000-8000-000000000001
    flavour_id: default
    aspect_levels:
      web: 3
"""

RETURN = r"""
rolling:
  description:
    - For C(CHANGE_VNFPKG), the rolling update; empty for the other operations.
    - C(changedVdus) (VDU id -> reasons), C(replace) (VNFC ids of those VDUs), C(batches)
      (C(replace) split by C(batchSize)), C(upgradeType), and C(steps) (C(coordinateOld),
      C(configure), C(coordinateNew) -> absolute path of the new package's task file, or null).
  returned: success
  type: dict
  sample: {"upgradeType": "RollingUpdate", "batchSize": 1, "changedVdus": {"web": ["artifact software changed"]},
           "replace": ["web-0", "web-1"], "batches": [["web-0"], ["web-1"]],
           "steps": {"coordinateOld": "/pkg/Scripts/coordinate_old.yml", "configure": null, "coordinateNew": null}}
heal:
  description: VNFC ids that the operation recreates.
  returned: success
  type: list
  elements: str
  sample: ["web-0"]
vnfc_changes:
  description: VNFC ids the new plan adds, removes and keeps, compared with I(current_plan).
  returned: success
  type: dict
  sample: {"added": ["web-2"], "removed": [], "kept": ["lb-0", "web-0", "web-1"]}
plan:
  description: The desired state of the instance (see docs/plan-format.md).
  returned: success
  type: dict
  contains:
    vnfcs:
      description: One entry per VNFC with its connection points and addresses.
      type: list
      elements: dict
    virtualLinks:
      description: The internal virtual links with their CIDR and MTU.
      type: list
      elements: dict
    scaleLevels:
      description: Scale level per aspect.
      type: dict
      sample: {"web": 1}
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.nfv.vnfm.plugins.module_utils.plan.entry import (
    ARGUMENT_SPEC,
    PlanFailure,
    run_plan,
)


def main():
    # The collection's action plugin of the same name runs the plan in the controller's
    # process (no module round trip); this is the module it documents and runs as the
    # fallback when it is called without the collection's action plugins.
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    try:
        result = run_plan(module.params)
    except PlanFailure as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
