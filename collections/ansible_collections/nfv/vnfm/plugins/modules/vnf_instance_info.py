#!/usr/bin/python
# Copyright: vnfm-toolkit developers
# Apache License 2.0 (see LICENSE)
"""Ansible module nfv.vnfm.vnf_instance_info: VNF instances as the VNFM's API reports them."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: vnf_instance_info
short_description: Read VNF instances from the VNFM's API
description:
  - Reads C(VnfInstance) documents from a running VNFM (C(GET /vnflcm/v2/vnf_instances)),
    one by its id or all of them (optionally with a SOL013 attribute filter), every
    page followed.
  - An instance id the VNFM does not know is not an error - the list is empty.
version_added: "0.2.0"
author:
  - vnfm-toolkit developers (!UNKNOWN)
extends_documentation_fragment:
  - nfv.vnfm.vnfm_api
options:
  filter:
    description:
      - A SOL013 attribute filter, for example C((eq,vnfProductName,webfarm)).
      - Ignored when I(vnf_instance_id) is given.
    type: str
  vnf_instance_id:
    description: The one VNF instance to read.
    type: str
attributes:
  check_mode:
    support: full
    description: The module only reads; it runs the same in check mode.
  diff_mode:
    support: none
    description: The module changes nothing, so it has no diff.
seealso:
  - module: nfv.vnfm.vnf_lcm_op_occ
"""

EXAMPLES = r"""
- name: Read one instance (URL and credentials from the environment)
  nfv.vnfm.vnf_instance_info:
    vnf_instance_id: "{{ vnf_instance_id }}"
  register: vnf

- name: The web VNFCs of the instance
  ansible.builtin.debug:
    msg: "{{ vnf.vnf_instances[0].instantiatedVnfInfo.vnfcInfo | selectattr('vduId', '==', 'web') | map(attribute='id') }}"

- name: Every instantiated webfarm
  nfv.vnfm.vnf_instance_info:
    url: https://vnfm.example.com:8443
    username: nfvo
    password: "{{ vnfm_password }}"
    filter: (eq,vnfProductName,webfarm);(eq,instantiationState,INSTANTIATED)
"""

RETURN = r"""
vnf_instances:
  description: The C(VnfInstance) documents (SOL003); empty when none matches.
  returned: always
  type: list
  elements: dict
  sample:
    - id: 3f0c2a5e-7b1d-4c8e-9a2f-6d4b0e1c7a93
      vnfdId: 8c6a1e5f-2b7d-4f1a-9c3e-5d0b7a4e2f61
      vnfProductName: webfarm
      instantiationState: INSTANTIATED
      instantiatedVnfInfo:
        flavourId: default
        vnfcInfo: [{id: web-0, vduId: web, vnfcState: STARTED}]
"""

from typing import Any

from ansible.module_utils.basic import AnsibleModule, env_fallback
from ansible_collections.nfv.vnfm.plugins.module_utils.vnfm_api import (
    ENV_PASSWORD,
    ENV_URL,
    ENV_USER,
    VnfmApiError,
    VnfmClient,
    settings,
)


def run_module(module: AnsibleModule) -> dict[str, Any]:
    p = module.params
    url, user, password = settings(p["url"], p["username"], p["password"])
    client = VnfmClient(url, user, password, validate_certs=p["validate_certs"])
    if p["vnf_instance_id"]:
        try:
            found = [client.instance(p["vnf_instance_id"])]
        except VnfmApiError as exc:
            if exc.status != 404:
                raise
            found = []
    else:
        found = client.instances(p["filter"])
    return {"changed": False, "vnf_instances": found}


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "filter": {"type": "str"},
            "password": {"type": "str", "no_log": True, "fallback": (env_fallback, [ENV_PASSWORD])},
            "url": {"type": "str", "fallback": (env_fallback, [ENV_URL])},
            "username": {"type": "str", "fallback": (env_fallback, [ENV_USER])},
            "validate_certs": {"type": "bool", "default": True},
            "vnf_instance_id": {"type": "str"},
        },
        supports_check_mode=True,
    )
    try:
        module.exit_json(**run_module(module))
    except VnfmApiError as exc:
        module.fail_json(msg=str(exc), changed=False, status=exc.status)


if __name__ == "__main__":
    main()
