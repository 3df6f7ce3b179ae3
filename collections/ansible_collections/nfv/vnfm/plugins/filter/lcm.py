# Copyright: vnfm-toolkit developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Filters that turn VIM resource info into the LCM context and inventory."""

from __future__ import annotations

DOCUMENTATION = r"""
---
name: vnfc_context
short_description: The VNFCs of an instance as the LCM context describes them
version_added: "0.1.0"
description:
  - Turns the SOL003 resource info returned by M(nfv.vnfm.vnf_resources) and the
    plan into the list of VNFCs that hook playbooks see as C(vnfm_vnfcs).
  - The same plugin file also provides C(vnfcs_by_vdu) (group the list by VDU id)
    and C(vnfc_hosts) (the add_host arguments of each VNFC).
author:
  - vnfm-toolkit developers
options:
  _input:
    description: The resource info (C(vnfcResourceInfo) and friends).
    type: dict
    required: true
  plan:
    description: The instance's plan (for names and virtual links).
    type: dict
"""

from ansible_collections.nfv.vnfm.plugins.module_utils.lcm_context import (
    by_vdu,
    inventory_hosts,
    vnfc_context,
)


class FilterModule:
    """VNFC context filters."""

    def filters(self):
        return {
            "vnfc_context": vnfc_context,
            "vnfcs_by_vdu": by_vdu,
            "vnfc_hosts": inventory_hosts,
        }
