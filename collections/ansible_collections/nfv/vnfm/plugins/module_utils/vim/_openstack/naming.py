# Copyright: vnfm-toolkit developers
# Apache License 2.0 (see LICENSE)
"""Names and ownership marks of the ``openstack`` VIM.

Every name derives from the plan's ``namePrefix`` (``vnf-<shortId>``, with
``shortId = sha256(vnfInstanceId)[:8]``); nothing is random:

* network ``<prefix>-<vlId>`` (the plan's VL name), its subnet ``<prefix>-<vlId>-subnet``;
* port ``<prefix>-<vnfcId>-<cpdId>`` (the plan's CP name);
* server ``<prefix>-<vnfcId>``; volume ``<prefix>-<vnfcId>-<storageId>``;
* security group ``<prefix>-sg-<cpdId>`` (the rules of the plan that name the cpd);
* server group ``<prefix>-<placementRuleId>`` (the plan's name);
* image uploaded from the package ``<prefix>-img-<vduId>``.

Ownership (discovery reads only these):

* Neutron resources (networks, subnets, ports, security groups, floating IPs)
  and Glance images: tag ``vnfm-instance=<vnfInstanceId>``;
* Nova servers: metadata ``vnfm-instance: <id>`` (and the same tag); besides,
  ``vnfm-software-generation`` (the plan's ``softwareGeneration`` of the VNFC, once
  known) and ``vnfm-heal-token`` (digest of the heal token of the reconcile that
  created the server, see :func:`token_digest`); a server without them has an
  unknown generation;
* Cinder volumes: metadata ``vnfm-instance: <id>`` and ``vnfm-vnfc: <vnfcId>``;
* Nova server groups carry neither: they are found by the ``vnf-<shortId>-`` prefix.
"""

from __future__ import annotations

import hashlib
import re

from ansible_collections.nfv.vnfm.plugins.module_utils.vim import VimError

TAG_KEY = "vnfm-instance"
VNFC_KEY = "vnfm-vnfc"
GENERATION_KEY = "vnfm-software-generation"
TOKEN_KEY = "vnfm-heal-token"
VIM_LEVEL = {
    "server": "OS::Nova::Server",
    "network": "OS::Neutron::Net",
    "subnet": "OS::Neutron::Subnet",
    "port": "OS::Neutron::Port",
    "volume": "OS::Cinder::Volume",
}
# Nova tags: at most 60 characters, no '/' nor ','
_ID_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,44}$")


def check_instance_id(value: object) -> str:
    if not isinstance(value, str) or not _ID_RE.match(value):
        raise VimError(
            f"vnfInstanceId {value!r} must be 1-45 characters of letters, digits, '_', '.', ':', '-'"
        )
    return value


def short_id(vnf_instance_id: str) -> str:
    """The planner's short id: first 8 hex characters of sha256(instance id)."""
    return hashlib.sha256(vnf_instance_id.encode()).hexdigest()[:8]


def prefix(vnf_instance_id: str) -> str:
    return f"vnf-{short_id(vnf_instance_id)}"


def tag(vnf_instance_id: str) -> str:
    return f"{TAG_KEY}={vnf_instance_id}"


def subnet_name(network_name: str) -> str:
    return f"{network_name}-subnet"


def security_group_name(name_prefix: str, cpd_id: str) -> str:
    return f"{name_prefix}-sg-{cpd_id}"


def image_name(name_prefix: str, vdu_id: str) -> str:
    return f"{name_prefix}-img-{vdu_id}"


def owns_server_group(vnf_instance_id: str, name: str) -> bool:
    return name.startswith(prefix(vnf_instance_id) + "-")
