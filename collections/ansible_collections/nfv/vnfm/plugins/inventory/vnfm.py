# Copyright: vnfm-toolkit developers
# Apache License 2.0 (see LICENSE)
"""Inventory plugin nfv.vnfm.vnfm: the VNFCs of the VNFM's VNF instances as hosts."""

from __future__ import annotations

DOCUMENTATION = r"""
---
name: vnfm
short_description: VNFCs of the VNF instances a VNFM manages
description:
  - Reads the VNF instances from a running VNFM (C(GET /vnflcm/v2/vnf_instances), every
    page) and adds each VNFC of an instantiated VNF as a host, named as the VNFM's own
    lifecycle runs name it (C(vnf-<8 hex of the instance id>-<VNFC id>)).
  - Groups - C(vnfcs) (every VNFC); one per VDU (C(web), C(lb), ... as the package's hook
    playbooks name them); C(vnf_<instance id>) per instance; C(product_<vnfProductName>)
    per VNF product. Characters not valid in a group name become C(_).
  - Each host reaches its VNFC the way its VIM driver declares it - C(nfv.vnfm.netns)
    (the VNFC's network namespace, on this host) for the local VIM, C(ssh) to the
    management address for OpenStack servers.
  - The inventory file's name must end with C(vnfm.yml) or C(vnfm.yaml).
version_added: "0.2.0"
author:
  - vnfm-toolkit developers (!UNKNOWN)
extends_documentation_fragment:
  - constructed
options:
  filter:
    description:
      - A SOL013 attribute filter of the instances, for example C((eq,vnfProductName,webfarm)).
    type: str
  password:
    description: The password of the VNFM's API (HTTP Basic).
    type: str
    env:
      - name: VNFM_API_PASSWORD
  plugin:
    description: The name of this plugin; it must be C(nfv.vnfm.vnfm).
    type: str
    required: true
    choices: [nfv.vnfm.vnfm]
  url:
    description: The VNFM's API, for example C(https://vnfm.example.com:8443).
    type: str
    env:
      - name: VNFM_URL
  username:
    description: The user of the VNFM's API (HTTP Basic).
    type: str
    env:
      - name: VNFM_API_USER
  validate_certs:
    description: Whether to check the VNFM's TLS certificate.
    type: bool
    default: true
"""

EXAMPLES = r"""
# vnfm.yml - URL and credentials from VNFM_URL, VNFM_API_USER, VNFM_API_PASSWORD
plugin: nfv.vnfm.vnfm

# webfarm.vnfm.yml - one product only, with its own groups
# plugin: nfv.vnfm.vnfm
# url: https://vnfm.example.com:8443
# username: nfvo
# filter: (eq,vnfProductName,webfarm)
# keyed_groups:
#   - key: vnfc_power_state
#     prefix: power
"""

import re
import sys
from typing import Any

from ansible.errors import AnsibleParserError
from ansible.plugins.inventory import BaseInventoryPlugin, Constructable
from ansible_collections.nfv.vnfm.plugins.module_utils.lcm_context import (
    connection_vars,
    vnfc_context,
)
from ansible_collections.nfv.vnfm.plugins.module_utils.plan.planner import short_id
from ansible_collections.nfv.vnfm.plugins.module_utils.vnfm_api import (
    VnfmApiError,
    VnfmClient,
    settings,
)

_NOT_IN_GROUP = re.compile(r"[^A-Za-z0-9_]")


def group_name(*parts: str) -> str:
    """A valid Ansible group name (letters, digits, ``_``; not starting with a digit)."""
    name = _NOT_IN_GROUP.sub("_", "_".join(parts))
    return f"_{name}" if name[:1].isdigit() else name


def instance_hosts(instance: dict[str, Any]) -> list[tuple[str, list[str], dict[str, Any]]]:
    """(host name, groups, host variables) of each VNFC of one VnfInstance document."""
    info = instance.get("instantiatedVnfInfo")
    if instance.get("instantiationState") != "INSTANTIATED" or not isinstance(info, dict):
        return []
    iid = str(instance["id"])
    product = instance.get("vnfProductName")
    states = {
        v.get("vnfcResourceInfoId") or v.get("id"): v.get("vnfcState")
        for v in info.get("vnfcInfo") or []
        if isinstance(v, dict)
    }
    out = []
    for vnfc in vnfc_context(info, None):
        vdu = str(vnfc["vduId"])
        groups = ["vnfcs", group_name(vdu), group_name("vnf", iid)]
        if isinstance(product, str) and product:
            groups.append(group_name("product", product))
        variables: dict[str, Any] = {
            "vnf_instance_id": iid,
            "vnf_instance_name": instance.get("vnfInstanceName") or "",
            "vnf_product_name": product or "",
            "vnfd_id": instance.get("vnfdId") or "",
            "vnfc_id": vnfc["id"],
            "vnfc_vdu_id": vdu,
            "vnfc_resource_id": vnfc["resourceId"],
            "vnfc_addresses": [a for cp in vnfc["cps"] for a in cp["ipAddresses"]],
            "vnfc_cps": vnfc["cps"],
            "vnfc_power_state": vnfc["powerState"],
            "vnfc_state": states.get(vnfc["id"]) or "",
            **connection_vars(vnfc),
        }
        if variables.get("ansible_connection") == "nfv.vnfm.netns":
            # a namespace shares this host's file system, so its Python too
            variables["ansible_python_interpreter"] = sys.executable
        out.append((f"vnf-{short_id(iid)}-{vnfc['id']}", groups, variables))
    return out


class InventoryModule(BaseInventoryPlugin, Constructable):
    NAME = "nfv.vnfm.vnfm"

    def verify_file(self, path: str) -> bool:
        return super().verify_file(path) and path.endswith(("vnfm.yml", "vnfm.yaml"))

    def parse(self, inventory: Any, loader: Any, path: str, cache: bool = True) -> None:
        super().parse(inventory, loader, path, cache)
        self._read_config_data(path)
        try:
            url, user, password = settings(
                self.get_option("url"), self.get_option("username"), self.get_option("password")
            )
            client = VnfmClient(
                url, user, password, validate_certs=self.get_option("validate_certs")
            )
            instances = client.instances(self.get_option("filter"))
        except VnfmApiError as exc:
            raise AnsibleParserError(f"{path}: {exc}") from None
        strict = self.get_option("strict")
        self.inventory.add_group("vnfcs")
        for instance in instances:
            for host, groups, variables in instance_hosts(instance):
                self.inventory.add_host(host)
                for group in groups:
                    self.inventory.add_group(group)
                    self.inventory.add_child(group, host)
                for key, value in variables.items():
                    self.inventory.set_variable(host, key, value)
                self._set_composite_vars(self.get_option("compose"), variables, host, strict)
                self._add_host_to_composed_groups(
                    self.get_option("groups"), variables, host, strict
                )
                self._add_host_to_keyed_groups(
                    self.get_option("keyed_groups"), variables, host, strict
                )
