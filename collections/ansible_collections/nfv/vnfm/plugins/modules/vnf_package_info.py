#!/usr/bin/python
# Copyright: vnfm-toolkit developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: vnf_package_info
short_description: Read a VNF package (SOL004) and its VNFD (SOL001) into the VNF model
version_added: "0.1.0"
description:
  - Opens a VNF package, a CSAR zip or a directory, as untrusted input (no path may
    leave the package root, YAML is loaded safely, sizes are bounded).
  - Finds the entry definitions through C(TOSCA-Metadata/TOSCA.meta), or the single
    YAML file at the package root, verifies the manifest digests and resolves
    imports of the ETSI SOL001 normative types offline.
  - "Returns the validated VNF model, or fails with one line per problem in the form
    C(FILE:LINE: message)."
author:
  - vnfm-toolkit developers (!UNKNOWN)
options:
  full:
    description:
      - Also return the complete model (every field), not only the summary.
    type: bool
    default: false
  path:
    description:
      - Path of the package, a CSAR zip file or a directory, on the controller.
    type: path
    required: true
attributes:
  check_mode:
    support: full
    description: The module only reads; it runs the same in check mode.
  diff_mode:
    support: none
    description: The module changes nothing, so it has no diff.
notes:
  - The module changes nothing and always reports C(changed=false).
requirements:
  - PyYAML
"""

EXAMPLES = r"""
- name: Read the webfarm package
  nfv.vnfm.vnf_package_info:
    path: examples/packages/webfarm
  register: webfarm

- name: Show the flavours
  ansible.builtin.debug:
    msg: "{{ webfarm.vnf.flavours | map(attribute='flavourId') | list }}"
"""

RETURN = r"""
vnf:
  description: Summary of the VNF described by the package.
  returned: success
  type: dict
  contains:
    vnfdId:
      description: The VNFD identifier (descriptor_id).
      type: str
      sample: 8d5a0c7e-1b3f-4c2a-9e61-5f0a2b7c9d10
    provider:
      description: The VNF provider.
      type: str
      sample: vnfm-toolkit
    productName:
      description: The VNF product name.
      type: str
      sample: webfarm
    softwareVersion:
      description: The VNF software version.
      type: str
      sample: "1.0"
    vnfdVersion:
      description: The VNFD version.
      type: str
      sample: "1.0"
    flavours:
      description: The deployment flavours with their VDUs, links, external CPs,
        scaling aspects, instantiation levels and lifecycle operations.
      type: list
      elements: dict
model:
  description: The complete VNF model (only with I(full=true)).
  returned: when full is true
  type: dict
warnings_list:
  description: "Problems that do not make the package invalid, one C(FILE:LINE: message) line each."
  returned: always
  type: list
  elements: str
  sample: []
"""

import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible_collections.nfv.vnfm.plugins.module_utils.errors import PackageError

try:
    # The package reader needs PyYAML, which a target Python may lack.
    from ansible_collections.nfv.vnfm.plugins.module_utils.vnfd.loader import load_vnf
    from ansible_collections.nfv.vnfm.plugins.module_utils.vnfd.model import to_json
    from ansible_collections.nfv.vnfm.plugins.module_utils.vnfd.summary import package_summary
except ImportError:
    IMPORT_ERROR: str | None = traceback.format_exc()
else:
    IMPORT_ERROR = None


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            full=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    if IMPORT_ERROR is not None:
        module.fail_json(msg=missing_required_lib("PyYAML"), exception=IMPORT_ERROR)
    try:
        model, warnings = load_vnf(module.params["path"])
    except PackageError as exc:
        module.fail_json(
            msg="invalid VNF package:\n" + str(exc), problems=[str(p) for p in exc.problems]
        )
    result = dict(
        changed=False, vnf=package_summary(model), warnings_list=[str(w) for w in warnings]
    )
    if module.params["full"]:
        result["model"] = to_json(model)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
