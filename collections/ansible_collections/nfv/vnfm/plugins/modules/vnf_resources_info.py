#!/usr/bin/python
# Copyright: vnfm-toolkit developers
# Apache License 2.0 (see LICENSE)
"""Ansible module nfv.vnfm.vnf_resources_info: what the VIM holds for a VNF instance."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: vnf_resources_info
short_description: Read the VIM resources of a VNF instance
description:
  - Discovers what the VIM holds for a VNF instance (found by its instance id, as
    M(nfv.vnfm.vnf_resources) does) and returns it in ETSI SOL003 shapes, changing nothing.
  - Each VNFC's C(metadata) gives its C(powerState) and, when it records one, its
    C(softwareGeneration) (the plan's C(softwareGeneration) it was created for). A
    package change reads them to replace only the VNFCs not on the new software yet.
  - Nothing found is not an error - the lists are empty.
version_added: "0.1.0"
author:
  - vnfm-toolkit developers (!UNKNOWN)
extends_documentation_fragment:
  - nfv.vnfm.vim
options:
  package_dir:
    description:
      - The directory of the unpacked VNF package, as for M(nfv.vnfm.vnf_resources)
        (C(openstack) - the plan's images uploaded from it are recognised by name).
    type: path
  plan:
    description:
      - The instance's plan, for the names of its connection points (C(local)) and the
        resources to list (C(openstack) lists the VNFCs, links and volumes of the plan).
      - Its C(vnfInstanceId) is used when I(vnf_instance_id) is not given.
    type: dict
  timeout:
    description: Limit of each VIM call, in seconds.
    type: int
    default: 300
  vnf_instance_id:
    description:
      - The VNF instance id. Required when no I(plan) is given; when both are given they must agree.
    type: str
attributes:
  check_mode:
    support: full
    description: The module only reads; it runs the same in check mode.
  diff_mode:
    support: none
    description: The module changes nothing, so it has no diff.
seealso:
  - module: nfv.vnfm.vnf_resources
"""

EXAMPLES = r"""
- name: Read what the local VIM holds for the instance
  nfv.vnfm.vnf_resources_info:
    plan: "{{ vnf_plan }}"
    vim: {vimType: local}
  become: true
  register: vnf_now
"""

RETURN = r"""
resources:
  description:
    - The instance's resources, in the shapes M(nfv.vnfm.vnf_resources) returns
      (C(vnfcResourceInfo), C(virtualLinkResourceInfo), C(virtualStorageResourceInfo),
      C(extCpInfo)); empty lists when the VIM holds nothing of the instance.
  returned: always
  type: dict
  sample:
    vnfcResourceInfo:
      - id: web-0
        vduId: web
        metadata: {powerState: "on", softwareGeneration: 3f9a0c1b2d4e}
    virtualLinkResourceInfo: []
    virtualStorageResourceInfo: []
    extCpInfo: []
"""

from typing import Any

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.nfv.vnfm.plugins.module_utils.vim import (
    VimError,
    get_driver,
)


def run_module(module: AnsibleModule) -> dict[str, Any]:
    params = module.params
    plan = params["plan"]
    given = params["vnf_instance_id"]
    planned = (plan or {}).get("vnfInstanceId")
    if given and planned and given != planned:
        module.fail_json(msg="vnf_instance_id and plan.vnfInstanceId differ")
    instance_id = given or planned
    if not instance_id:
        module.fail_json(msg="vnf_instance_id (or a plan) is required")
    driver = get_driver(
        params["vim"],
        params["vim_credentials"],
        timeout=params["timeout"],
        package_dir=params["package_dir"] or None,
    )
    return {"changed": False, "resources": driver.resources(str(instance_id), plan)}


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "package_dir": {"type": "path"},
            "plan": {"type": "dict"},
            "timeout": {"type": "int", "default": 300},
            "vim": {"type": "dict", "required": True},
            "vim_credentials": {"type": "dict", "no_log": True},
            "vnf_instance_id": {"type": "str"},
        },
        supports_check_mode=True,
    )
    try:
        module.exit_json(**run_module(module))
    except VimError as exc:
        module.fail_json(msg=str(exc), changed=False)


if __name__ == "__main__":
    main()
