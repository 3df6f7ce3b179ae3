# Copyright: vnfm-toolkit developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Filters that turn VIM resource info into the LCM context and inventory.

One documentation file per filter: lcm_context.yml, vnfc_context.yml, vnfcs_by_vdu.yml,
vnfc_hosts.yml.
"""

from __future__ import annotations

from ansible_collections.nfv.vnfm.plugins.module_utils.lcm_context import (
    by_vdu,
    inventory_hosts,
    lcm_context,
    vnfc_context,
)


class FilterModule:
    """VNFC context filters."""

    def filters(self):
        return {
            "lcm_context": lcm_context,
            "vnfc_context": vnfc_context,
            "vnfcs_by_vdu": by_vdu,
            "vnfc_hosts": inventory_hosts,
        }
